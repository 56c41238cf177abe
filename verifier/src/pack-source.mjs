/**
 * Where a pack's files come from: an unzipped folder, or the pack's ZIP itself, read in place.
 *
 * The ZIP is never held in memory: the end-of-central-directory record (and its ZIP64 locator and record) are found
 * in the last 64 KiB + 98 bytes, the central directory is read as a stream and parsed entry by entry (about 100 bytes
 * kept per entry: name, offsets, sizes, method), and each file's bytes are streamed from its offset in the archive
 * when hashed. Stored entries (what Mamoru writes) are also given to ffmpeg in place, through its `subfile` protocol;
 * deflated entries (a pack someone re-zipped) are inflated as they stream, and copied to a scratch file when ffmpeg
 * needs them.
 *
 * A source has:
 *   label                 what to print
 *   names()               every file in it (forward slashes, no folders)
 *   size(name)            its size in bytes, or null when absent
 *   readSmall(name)       its bytes (only for the small fixed files: manifest, signatures, key), or null
 *   sha256(name)          hex SHA-256 of its bytes, streamed
 *   mediaInput(name)      { input, protocols }: what ffmpeg/ffprobe open for it (a path, or a subfile: URL)
 *   close()               removes scratch files
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';

const SMALL_LIMIT = 64 * 1024 * 1024;

export class ZipFormatError extends Error {
  name = 'ZipFormatError';
}

async function hashStream(stream) {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c);
  return h.digest('hex');
}

async function listFiles(dir, base = dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out;
}

/** A file or a folder: the ZIP reader for a file, the folder reader otherwise. */
export async function openPackSource(p) {
  const st = await stat(p);
  return st.isDirectory() ? folderSource(p) : zipSource(p, st.size);
}

export async function folderSource(dir) {
  const names = await listFiles(dir);
  const full = (name) => path.join(dir, ...name.split('/'));
  return {
    kind: 'folder',
    label: dir,
    names: () => names,
    size: async (name) => (await stat(full(name)).catch(() => null))?.size ?? null,
    readSmall: async (name) => readFile(full(name)).catch(() => null),
    sha256: async (name) => hashStream(createReadStream(full(name))),
    mediaInput: async (name) => ({ input: full(name), protocols: null }),
    close: async () => undefined,
  };
}

const U32 = 0xffffffff;
const U16 = 0xffff;

/** Reads `length` bytes at `position` of an open file handle. */
async function readAt(fh, position, length) {
  const b = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const { bytesRead } = await fh.read(b, n, length - n, position + n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return b.subarray(0, n);
}

/** Finds the central directory: { cdOffset, cdSize, count }. */
async function findCentralDirectory(fh, fileSize) {
  const tailLen = Math.min(fileSize, 0xffff + 22 + 20 + 56);
  const tailAt = fileSize - tailLen;
  const tail = await readAt(fh, tailAt, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50 && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('not a ZIP file (no end-of-central-directory record)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === U16 || cdSize === U32 || cdOffset === U32 || (eocd >= 20 && tail.readUInt32LE(eocd - 20) === 0x07064b50)) {
    if (eocd < 20 || tail.readUInt32LE(eocd - 20) !== 0x07064b50) throw new ZipFormatError('ZIP64 values without a ZIP64 locator');
    const z64At = Number(tail.readBigUInt64LE(eocd - 20 + 8));
    const r = await readAt(fh, z64At, 56);
    if (r.length < 56 || r.readUInt32LE(0) !== 0x06064b50) throw new ZipFormatError('bad ZIP64 end-of-central-directory record');
    count = Number(r.readBigUInt64LE(32));
    cdSize = Number(r.readBigUInt64LE(40));
    cdOffset = Number(r.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > fileSize) throw new ZipFormatError('the central directory lies beyond the end of the file');
  return { cdOffset, cdSize, count };
}

/** Parses the central directory as it streams from disk; yields one entry at a time. */
async function* centralEntries(zipPath, cdOffset, cdSize) {
  if (cdSize === 0) return;
  let buf = Buffer.alloc(0);
  for await (const chunk of createReadStream(zipPath, { start: cdOffset, end: cdOffset + cdSize - 1, highWaterMark: 64 * 1024 })) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 46) {
      if (buf.readUInt32LE(at) !== 0x02014b50) throw new ZipFormatError(`bad central directory entry at byte ${cdOffset + at}`);
      const nameLen = buf.readUInt16LE(at + 28);
      const extraLen = buf.readUInt16LE(at + 30);
      const commentLen = buf.readUInt16LE(at + 32);
      const len = 46 + nameLen + extraLen + commentLen;
      if (buf.length - at < len) break;
      const flags = buf.readUInt16LE(at + 8);
      const method = buf.readUInt16LE(at + 10);
      let compSize = buf.readUInt32LE(at + 20);
      let size = buf.readUInt32LE(at + 24);
      let offset = buf.readUInt32LE(at + 42);
      const nameBuf = buf.subarray(at + 46, at + 46 + nameLen);
      const name = nameBuf.toString(flags & 0x800 ? 'utf8' : 'latin1');
      // ZIP64 extra field: the 0xFFFFFFFF values, in order (size, compressed size, offset).
      const extra = buf.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen);
      for (let e = 0; e + 4 <= extra.length; ) {
        const id = extra.readUInt16LE(e);
        const n = extra.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          if (size === U32) (size = Number(extra.readBigUInt64LE(p))), (p += 8);
          if (compSize === U32) (compSize = Number(extra.readBigUInt64LE(p))), (p += 8);
          if (offset === U32) offset = Number(extra.readBigUInt64LE(p));
        }
        e += 4 + n;
      }
      yield { name, nameBuf: Buffer.from(nameBuf), method, compSize, size, offset, encrypted: (flags & 1) === 1 };
      at += len;
    }
    buf = buf.subarray(at);
  }
  if (buf.length) throw new ZipFormatError('the central directory ends in the middle of an entry');
}

export async function zipSource(zipPath, fileSize) {
  const fh = await open(zipPath, 'r');
  const entries = new Map();
  let scratch = null;
  try {
    const { cdOffset, cdSize, count } = await findCentralDirectory(fh, fileSize);
    for await (const e of centralEntries(zipPath, cdOffset, cdSize)) {
      if (e.name.endsWith('/')) continue;
      if (entries.has(e.name)) throw new ZipFormatError(`${e.name} is twice in the archive`);
      entries.set(e.name, e);
    }
    if (entries.size > count) throw new ZipFormatError(`the central directory holds more entries than the ${count} its end record says`);
  } catch (err) {
    await fh.close();
    throw err;
  }

  /** Where the entry's data starts; checks that its local header agrees with the central directory. */
  async function dataOffset(e) {
    if (e.dataOffset !== undefined) return e.dataOffset;
    const h = await readAt(fh, e.offset, 30);
    if (h.length < 30 || h.readUInt32LE(0) !== 0x04034b50) throw new ZipFormatError(`${e.name}: no local header where the central directory points`);
    const nameLen = h.readUInt16LE(26);
    const localName = await readAt(fh, e.offset + 30, nameLen);
    if (!localName.equals(e.nameBuf)) throw new ZipFormatError(`${e.name}: its local header names ${JSON.stringify(localName.toString('utf8'))}`);
    if (h.readUInt16LE(8) !== e.method) throw new ZipFormatError(`${e.name}: its local header gives another compression method`);
    e.dataOffset = e.offset + 30 + nameLen + h.readUInt16LE(28);
    if (e.dataOffset + e.compSize > fileSize) throw new ZipFormatError(`${e.name}: its data runs past the end of the archive`);
    return e.dataOffset;
  }

  async function streamOf(e) {
    if (e.encrypted) throw new ZipFormatError(`${e.name} is encrypted`);
    if (e.method !== 0 && e.method !== 8) throw new ZipFormatError(`${e.name}: compression method ${e.method} is not supported (stored and deflate are)`);
    const at = await dataOffset(e);
    const raw = e.compSize === 0 ? (async function* () {})() : createReadStream(zipPath, { start: at, end: at + e.compSize - 1 });
    if (e.method === 0) return raw;
    const inflate = createInflateRaw();
    pipeline(raw, inflate).catch((err) => inflate.destroy(err));
    return inflate;
  }

  const need = (name) => {
    const e = entries.get(name);
    if (!e) throw new Error(`${name} is not in the archive`);
    return e;
  };

  return {
    kind: 'zip',
    label: zipPath,
    names: () => [...entries.keys()],
    size: async (name) => entries.get(name)?.size ?? null,
    async readSmall(name) {
      const e = entries.get(name);
      if (!e || e.size > SMALL_LIMIT) return null;
      const parts = [];
      for await (const c of await streamOf(e)) parts.push(c);
      return Buffer.concat(parts);
    },
    async sha256(name) {
      const e = need(name);
      const h = createHash('sha256');
      let n = 0;
      for await (const c of await streamOf(e)) {
        n += c.length;
        h.update(c);
      }
      if (n !== e.size) throw new ZipFormatError(`${name}: ${n} bytes in the archive, its directory says ${e.size}`);
      return h.digest('hex');
    },
    async mediaInput(name) {
      const e = need(name);
      if (e.method === 0) {
        const at = await dataOffset(e);
        return { input: `subfile,,start,${at},end,${at + e.size},,:${path.resolve(zipPath)}`, protocols: 'file,subfile' };
      }
      scratch ??= await mkdtemp(path.join(tmpdir(), 'verify-pack-'));
      const file = path.join(scratch, `${entries.size}-${Math.random().toString(36).slice(2)}${path.extname(name)}`);
      await pipeline(await streamOf(e), createWriteStream(file));
      return { input: file, protocols: null };
    },
    async close() {
      await fh.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}
