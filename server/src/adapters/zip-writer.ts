/**
 * A streaming ZIP writer (store only: footage and audio do not compress, and stored entries are read back byte for
 * byte by any unzip). Entries are written one after another to one output stream; nothing is held in memory beyond
 * the chunk in flight and the central directory (about 100 bytes per entry). CRC-32 is node's native zlib.crc32.
 *
 * Each entry's local header carries general-purpose bit 3 (sizes and CRC in a data descriptor after the data), so
 * the data can be streamed without knowing its CRC first. The size IS known up front (every caller knows it: S3
 * objects and files on disk), which lets the header choose ZIP64 per entry and lets the writer refuse a source that
 * delivers a different number of bytes. ZIP64 records (per entry, and the end-of-central-directory record and its
 * locator) are written whenever a size, an offset or the entry count passes the classic limits.
 */
import { crc32 } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

type CentralEntry = { name: Buffer; crc: number; size: number; offset: number; dosTime: number; dosDate: number };

export class ZipSizeMismatchError extends Error {
  override name = 'ZipSizeMismatchError';
}

function dosDateTime(d: Date): { dosTime: number; dosDate: number } {
  const y = Math.max(1980, d.getUTCFullYear());
  return {
    dosTime: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    dosDate: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

const u64 = (b: Buffer, v: number, at: number) => b.writeBigUInt64LE(BigInt(v), at);

export type ZipWriter = {
  /**
   * Streams one entry of exactly `size` bytes from `source`; rejects (and leaves the archive unusable) on a size
   * mismatch. Answers where the entry's bytes start in the archive (they are stored as they are: a range read of the
   * archive at that offset gives the file).
   */
  addStream(name: string, source: Readable | AsyncIterable<Buffer> | Iterable<Buffer>, size: number, onChunk?: (chunk: Buffer) => void): Promise<{ dataOffset: number }>;
  addBuffer(name: string, data: Buffer): Promise<{ dataOffset: number }>;
  /**
   * One entry of `size` bytes whose CRC-32 the caller computed, written to the output as ONE chunk that stands for
   * those bytes (an object-mode output that knows how to turn it into bytes, e.g. the S3 upload stream's
   * UploadCopyChunk).
   */
  addChunk(name: string, size: number, crc: number, chunk: object): Promise<{ dataOffset: number }>;
  /**
   * One entry of `size` bytes that the output reads itself, written as ONE chunk made by `chunk(seen)` (an
   * object-mode output that turns it into bytes and hands each range to `seen` as it goes, e.g. the S3 upload stream's
   * UploadFileChunk): the writer computes the CRC-32 from what `seen` gets, passes each range to `onChunk`, and
   * refuses a count other than `size` once the output has taken the chunk.
   */
  addSelfRead(name: string, size: number, chunk: (seen: (bytes: Buffer) => void) => object, onChunk?: (bytes: Buffer) => void): Promise<{ dataOffset: number; crc: number }>;
  /** Writes the central directory and ends the output stream. Answers the archive's total size. */
  finish(): Promise<number>;
  /** Bytes written so far. */
  readonly written: number;
};

/**
 * A writer over `out` (e.g. a PassThrough piped to S3). Respects back-pressure: each write waits for 'drain' when
 * the destination's buffer is full.
 */
export function createZipWriter(out: Writable, o: { modified: Date; /** Tests: ZIP64 records for every entry and the end record, as a 4 GiB pack would have. */ forceZip64?: boolean }): ZipWriter {
  const force = o.forceZip64 === true;
  const entries: CentralEntry[] = [];
  const { dosTime, dosDate } = dosDateTime(o.modified);
  let offset = 0;
  const seen = new Set<string>();

  async function write(b: Buffer): Promise<void> {
    offset += b.length;
    if (!out.write(b)) await drained();
  }

  function drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        out.off('drain', done);
        out.off('error', fail);
        out.off('close', done);
        resolve();
      };
      const fail = (e: Error) => {
        out.off('drain', done);
        out.off('close', done);
        reject(e);
      };
      out.once('drain', done);
      out.once('error', fail);
      out.once('close', done);
    });
  }

  function checkName(name: string): Buffer {
    if (!name || name.startsWith('/') || name.includes('\\') || name.split('/').some((p) => p === '..' || p === '' || p === '.')) throw new Error(`bad zip entry name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new Error(`duplicate zip entry ${name}`);
    seen.add(name);
    return Buffer.from(name, 'utf8');
  }

  /** The local header of an entry of `size` bytes (CRC and sizes follow in a data descriptor). */
  async function header(name: string, size: number): Promise<{ nameBuf: Buffer; zip64: boolean; headerOffset: number }> {
    const nameBuf = checkName(name);
    const zip64 = force || size >= U32_MAX;
    const headerOffset = offset;
    const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      // Sizes are in the data descriptor (bit 3); the ZIP64 extra says the descriptor uses 8-byte sizes.
    }
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(zip64 ? 45 : 20, 4); // version needed
    h.writeUInt16LE(0x0808, 6); // bit 3: data descriptor; bit 11: UTF-8 names
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt16LE(dosTime, 10);
    h.writeUInt16LE(dosDate, 12);
    h.writeUInt32LE(0, 14);
    h.writeUInt32LE(zip64 ? U32_MAX : 0, 18);
    h.writeUInt32LE(zip64 ? U32_MAX : 0, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    h.writeUInt16LE(extra.length, 28);
    await write(Buffer.concat([h, nameBuf, extra]));
    return { nameBuf, zip64, headerOffset };
  }

  /** The data descriptor after an entry's data, and its central directory record. */
  async function trailer(e: { nameBuf: Buffer; zip64: boolean; headerOffset: number }, crc: number, size: number) {
    const dd = Buffer.alloc(e.zip64 ? 24 : 16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(crc >>> 0, 4);
    if (e.zip64) {
      u64(dd, size, 8);
      u64(dd, size, 16);
    } else {
      dd.writeUInt32LE(size, 8);
      dd.writeUInt32LE(size, 12);
    }
    await write(dd);
    entries.push({ name: e.nameBuf, crc: crc >>> 0, size, offset: e.headerOffset, dosTime, dosDate });
  }

  async function addStream(name: string, source: Readable | AsyncIterable<Buffer> | Iterable<Buffer>, size: number, onChunk?: (chunk: Buffer) => void) {
    const e = await header(name, size);
    const dataOffset = offset;
    let crc = 0;
    let n = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      n += c.length;
      if (n > size) throw new ZipSizeMismatchError(`${name}: source has more than the ${size} bytes expected`);
      crc = crc32(c, crc);
      onChunk?.(c);
      await write(c);
    }
    if (n !== size) throw new ZipSizeMismatchError(`${name}: source ended after ${n} of ${size} bytes`);
    await trailer(e, crc, size);
    return { dataOffset };
  }

  return {
    get written() {
      return offset;
    },
    addStream,
    addBuffer: (name, data) => addStream(name, [data], data.length),
    async addChunk(name, size, crc, chunk) {
      const e = await header(name, size);
      const dataOffset = offset;
      offset += size;
      if (!out.write(chunk)) await drained();
      await trailer(e, crc, size);
      return { dataOffset };
    },
    async addSelfRead(name, size, chunk, onChunk) {
      const e = await header(name, size);
      const dataOffset = offset;
      let crc = 0;
      let n = 0;
      const c = chunk((b) => {
        n += b.length;
        crc = crc32(b, crc);
        onChunk?.(b);
      });
      offset += size;
      // Resolved by the output's write callback, i.e. once it has read every byte of the chunk.
      await new Promise<void>((resolve, reject) => out.write(c, (err) => (err ? reject(err) : resolve())));
      if (n !== size) throw new ZipSizeMismatchError(`${name}: source gave ${n} of the ${size} bytes expected`);
      await trailer(e, crc, size);
      return { dataOffset, crc: crc >>> 0 };
    },
    async finish() {
      const cdStart = offset;
      for (const e of entries) {
        const needSize = force || e.size >= U32_MAX;
        const needOffset = force || e.offset >= U32_MAX;
        const extraFields: Buffer[] = [];
        if (needSize) extraFields.push(Buffer.alloc(16));
        if (needOffset) extraFields.push(Buffer.alloc(8));
        let extra = Buffer.alloc(0);
        if (extraFields.length) {
          const body = Buffer.alloc(extraFields.reduce((s, f) => s + f.length, 0));
          let at = 0;
          if (needSize) {
            u64(body, e.size, at);
            u64(body, e.size, at + 8);
            at += 16;
          }
          if (needOffset) u64(body, e.offset, at);
          const head = Buffer.alloc(4);
          head.writeUInt16LE(0x0001, 0);
          head.writeUInt16LE(body.length, 2);
          extra = Buffer.concat([head, body]);
        }
        const c = Buffer.alloc(46);
        c.writeUInt32LE(0x02014b50, 0);
        c.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, 4.5
        c.writeUInt16LE(extra.length ? 45 : 20, 6);
        c.writeUInt16LE(0x0808, 8);
        c.writeUInt16LE(0, 10);
        c.writeUInt16LE(e.dosTime, 12);
        c.writeUInt16LE(e.dosDate, 14);
        c.writeUInt32LE(e.crc, 16);
        c.writeUInt32LE(needSize ? U32_MAX : e.size, 20);
        c.writeUInt32LE(needSize ? U32_MAX : e.size, 24);
        c.writeUInt16LE(e.name.length, 28);
        c.writeUInt16LE(extra.length, 30);
        c.writeUInt16LE(0, 32); // comment
        c.writeUInt16LE(0, 34); // disk
        c.writeUInt16LE(0, 36); // internal attributes
        c.writeUInt32LE(((0o100644 << 16) >>> 0), 38); // -rw-r--r--
        c.writeUInt32LE(needOffset ? U32_MAX : e.offset, 42);
        await write(Buffer.concat([c, e.name, extra]));
      }
      const cdSize = offset - cdStart;
      const needZip64 = force || entries.length >= U16_MAX || cdStart >= U32_MAX || cdSize >= U32_MAX;
      if (needZip64) {
        const z64Offset = offset;
        const r = Buffer.alloc(56);
        r.writeUInt32LE(0x06064b50, 0);
        u64(r, 44, 4);
        r.writeUInt16LE((3 << 8) | 45, 12);
        r.writeUInt16LE(45, 14);
        r.writeUInt32LE(0, 16);
        r.writeUInt32LE(0, 20);
        u64(r, entries.length, 24);
        u64(r, entries.length, 32);
        u64(r, cdSize, 40);
        u64(r, cdStart, 48);
        const loc = Buffer.alloc(20);
        loc.writeUInt32LE(0x07064b50, 0);
        loc.writeUInt32LE(0, 4);
        u64(loc, z64Offset, 8);
        loc.writeUInt32LE(1, 16);
        await write(Buffer.concat([r, loc]));
      }
      const end = Buffer.alloc(22);
      end.writeUInt32LE(0x06054b50, 0);
      end.writeUInt16LE(0, 4);
      end.writeUInt16LE(0, 6);
      end.writeUInt16LE(Math.min(entries.length, U16_MAX), 8);
      end.writeUInt16LE(Math.min(entries.length, U16_MAX), 10);
      end.writeUInt32LE(Math.min(cdSize, U32_MAX), 12);
      end.writeUInt32LE(Math.min(cdStart, U32_MAX), 16);
      end.writeUInt16LE(0, 20);
      await write(end);
      out.end();
      return offset;
    },
  };
}
