/**
 * Tails an append-only log file (Master.csv) across restarts and rotations.
 * Position = (dev, inode, offset) plus a fingerprint of the file's first bytes (inode numbers get reused after a
 * delete). Only whole lines are consumed. Rotation (inode change, or size < offset): the old file is drained to its
 * end first (through the handle still open, or found again by inode next to the path after a restart), then the
 * new file is read from 0.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type TailPosition = { dev: number; ino: number; offset: number; headLen: number; headHash: string };

export type TailLine = {
  bytes: Buffer;
  /** Byte offset of the line's first byte in `file`. */
  offset: number;
  file: string;
  /** Inode of the file the line was read from. */
  ino: number;
  /** False for the last bytes of a rotated-away file that never got their newline. */
  complete: boolean;
};

export type TailNotice = { level: 'warn' | 'info'; message: string; fields: Record<string, unknown> };

type Handle = Awaited<ReturnType<typeof open>>;
const HEAD_LEN = 256;
const MAX_READ = 1 << 20;
/** Per poll: a long history is read over several polls instead of into memory at once. */
const POLL_BUDGET = 8 << 20;

async function headOf(fh: Handle, size: number): Promise<{ headLen: number; headHash: string }> {
  const len = Math.min(HEAD_LEN, size);
  const buf = Buffer.alloc(len);
  if (len > 0) await fh.read(buf, 0, len, 0);
  return { headLen: len, headHash: createHash('sha256').update(buf).digest('hex') };
}

export class FileTail {
  private fh: Handle | null = null;
  private fhPath: string | null = null;
  private pos: TailPosition | null;
  private firstRun: boolean;

  constructor(
    readonly path: string,
    saved: TailPosition | null,
    private readonly startAtEnd = false,
  ) {
    this.pos = saved;
    this.firstRun = saved === null;
  }

  position(): TailPosition | null {
    return this.pos ? { ...this.pos } : null;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  /** Reads every whole line appended since the last call. The caller persists `position()` with what it did with them. */
  async poll(): Promise<{ lines: TailLine[]; notices: TailNotice[] }> {
    const lines: TailLine[] = [];
    const notices: TailNotice[] = [];
    let st;
    try {
      st = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.firstRun = false;
      // Between rename and re-create: finish the old file if we hold it, then wait for the new one.
      if (this.fh && this.pos) {
        await this.drain(this.fh, this.fhPath ?? this.path, this.pos.offset, lines);
        await this.close();
        this.pos = null;
      }
      return { lines, notices };
    }

    if (!this.fh) {
      const saved = this.pos;
      const firstRun = this.firstRun;
      this.firstRun = false;
      if (saved && (saved.dev !== st.dev || saved.ino !== st.ino)) {
        // Rotated while we were not running: find the old file by inode next to the path and finish it.
        const old = await this.findByInode(saved.dev, saved.ino);
        if (old) {
          const ofh = await open(old, 'r');
          try {
            if ((await this.headHashLen(ofh, saved.headLen)) === saved.headHash) {
              await this.drain(ofh, old, saved.offset, lines);
              notices.push({ level: 'info', message: 'drained rotated file', fields: { file: old } });
            }
          } finally {
            await ofh.close();
          }
        } else {
          notices.push({ level: 'warn', message: 'log rotated while the agent was stopped and the old file is gone; rows after the saved offset may be lost', fields: { path: this.path, offset: saved.offset } });
        }
        this.pos = null;
      }
      this.fh = await open(this.path, 'r');
      this.fhPath = this.path;
      const fst = await this.fh.stat();
      if (this.pos) {
        const samePrefix = fst.size >= this.pos.headLen && (await this.headHashLen(this.fh, this.pos.headLen)) === this.pos.headHash;
        if (fst.dev !== this.pos.dev || fst.ino !== this.pos.ino || !samePrefix || fst.size < this.pos.offset) {
          notices.push({ level: 'warn', message: 'log file replaced or truncated; reading it from the start', fields: { path: this.path } });
          this.pos = null;
        }
      }
      if (!this.pos) {
        const offset = firstRun && this.startAtEnd ? await this.lastLineEnd(this.fh, fst.size) : 0;
        this.pos = { dev: fst.dev, ino: fst.ino, offset, ...(await headOf(this.fh, fst.size)) };
      }
    } else if (this.pos && (st.dev !== this.pos.dev || st.ino !== this.pos.ino)) {
      // Rotated under us: the handle still reads the old inode (renamed or even deleted). Finish it, then switch.
      await this.drain(this.fh, this.fhPath ?? this.path, this.pos.offset, lines);
      await this.close();
      this.fh = await open(this.path, 'r');
      this.fhPath = this.path;
      const fst = await this.fh.stat();
      this.pos = { dev: fst.dev, ino: fst.ino, offset: 0, ...(await headOf(this.fh, fst.size)) };
      notices.push({ level: 'info', message: 'log rotated; drained the old file', fields: { path: this.path } });
    }

    const fh = this.fh!;
    const pos = this.pos!;
    let size = (await fh.stat()).size;
    // Truncated in place (copytruncate), possibly already refilled past our offset: the size or the first bytes tell.
    if (size < pos.offset || (pos.headLen > 0 && (size < pos.headLen || (await this.headHashLen(fh, pos.headLen)) !== pos.headHash))) {
      notices.push({ level: 'warn', message: 'log truncated in place (copytruncate); reading from the start', fields: { path: this.path, offset: pos.offset, size } });
      pos.offset = 0;
      Object.assign(pos, await headOf(fh, size));
    }
    if (pos.headLen < HEAD_LEN && size > pos.headLen) Object.assign(pos, await headOf(fh, size));
    let budget = POLL_BUDGET;
    while (pos.offset < size && budget > 0) {
      const want = Math.min(MAX_READ, size - pos.offset);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos.offset);
      const chunk = buf.subarray(0, bytesRead);
      const last = chunk.lastIndexOf(0x0a);
      if (last < 0) {
        if (bytesRead === MAX_READ) {
          // A "line" of a megabyte is not a CDR; hand it over as an incomplete line rather than stall forever.
          lines.push({ bytes: Buffer.from(chunk), offset: pos.offset, file: this.path, ino: pos.ino, complete: false });
          pos.offset += bytesRead;
          budget -= bytesRead;
          continue;
        }
        break;
      }
      this.splitLines(chunk.subarray(0, last + 1), pos.offset, this.path, pos.ino, lines);
      pos.offset += last + 1;
      budget -= last + 1;
      if (bytesRead < want) break;
      size = Math.max(size, (await fh.stat()).size);
    }
    return { lines, notices };
  }

  private async lastLineEnd(fh: Handle, upTo: number): Promise<number> {
    const from = Math.max(0, upTo - 65536);
    const buf = Buffer.alloc(upTo - from);
    await fh.read(buf, 0, buf.length, from);
    const i = buf.lastIndexOf(0x0a);
    return i < 0 ? 0 : from + i + 1;
  }

  private async headHashLen(fh: Handle, len: number): Promise<string> {
    const buf = Buffer.alloc(len);
    if (len > 0) await fh.read(buf, 0, len, 0);
    return createHash('sha256').update(buf).digest('hex');
  }

  private splitLines(chunk: Buffer, base: number, file: string, ino: number, out: TailLine[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (nl > start) out.push({ bytes: Buffer.from(chunk.subarray(start, nl)), offset: base + start, file, ino, complete: true });
      start = nl + 1;
    }
  }

  /** Reads an old file from `offset` to its end, including a last line without newline (marked incomplete). */
  private async drain(fh: Handle, file: string, offset: number, out: TailLine[]): Promise<void> {
    const fst = await fh.stat();
    const size = fst.size;
    const ino = fst.ino;
    let pos = offset;
    while (pos < size) {
      const want = Math.min(MAX_READ, size - pos);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      const last = chunk.lastIndexOf(0x0a);
      if (last < 0 || pos + bytesRead === size) {
        const upto = last < 0 ? 0 : last + 1;
        this.splitLines(chunk.subarray(0, upto), pos, file, ino, out);
        if (upto < bytesRead) out.push({ bytes: Buffer.from(chunk.subarray(upto)), offset: pos + upto, file, ino, complete: false });
        pos += bytesRead;
        continue;
      }
      this.splitLines(chunk.subarray(0, last + 1), pos, file, ino, out);
      pos += last + 1;
    }
  }

  private async findByInode(dev: number, ino: number): Promise<string | null> {
    const dir = dirname(this.path);
    const base = basename(this.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return null;
    }
    // Rotated names keep the base name as a prefix (Master.csv.1, Master.csv-20261123, Master.csv.old). Check those
    // first, then anything else in the directory.
    names.sort((a, b) => Number(!a.startsWith(base)) - Number(!b.startsWith(base)));
    for (const n of names) {
      if (n === base) continue;
      try {
        const s = await stat(join(dir, n));
        if (s.isFile() && s.dev === dev && s.ino === ino) return join(dir, n);
      } catch {
        /* vanished */
      }
    }
    return null;
  }
}
