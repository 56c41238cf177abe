/** Durable file primitives for the PBX adapters: atomic replace and an fsync'd append-only journal. */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';

async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename itself durable. Some file systems refuse it; that is not worth failing for.
  const fh = await open(dir, fsConstants.O_RDONLY).catch(() => null);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    /* not supported here */
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `path` so that a crash leaves either the old or the new content: temp file + fsync + rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Reads a JSON file, or returns null when it does not exist. */
export async function readJsonFile<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return JSON.parse(text) as T;
}

/**
 * An append-only JSON-lines journal. Each append is written and fdatasync'd before it returns. A torn last line
 * (crash during a write) is cut off when the journal is opened: nothing after the last newline was ever
 * acknowledged to anybody.
 */
export class Journal {
  private constructor(
    readonly path: string,
    private fh: Awaited<ReturnType<typeof open>>,
  ) {}

  static async open(path: string): Promise<{ journal: Journal; records: unknown[] }> {
    await mkdir(dirname(path), { recursive: true });
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      buf = Buffer.alloc(0);
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    if (end < buf.length) await truncate(path, end);
    const records: unknown[] = [];
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // A line that is not JSON cannot have been written by us completely; skip it.
      }
    }
    const fh = await open(path, 'a', 0o600);
    return { journal: new Journal(path, fh), records };
  }

  async append(record: unknown): Promise<void> {
    await this.fh.write(`${JSON.stringify(record)}\n`);
    await this.fh.datasync();
  }

  /** Replaces the journal's content with `records` atomically (compaction). */
  async rewrite(records: unknown[]): Promise<void> {
    await this.fh.close();
    await writeFileAtomic(this.path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    this.fh = await open(this.path, 'a', 0o600);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
