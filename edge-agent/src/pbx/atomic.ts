/** Durable file primitives for the PBX adapters: JSON state files and an fsync'd append-only journal. */
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file.ts';

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
