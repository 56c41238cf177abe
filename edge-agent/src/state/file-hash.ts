import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';

const CHUNK = 1024 * 1024;
/**
 * One buffer for every spool hash in the process: each chunk is read and hashed in one synchronous step (nothing else
 * runs between the read and the update), so hashes that run at the same time can share it.
 */
const shared = Buffer.allocUnsafe(CHUNK);

export type FileDigest = { sha256: string; size: number };

/**
 * SHA-256 (lowercase hex) and byte count of a file in the agent's own spool that was just written (a closed segment):
 * 1 MiB chunks read synchronously through one shared buffer, the event loop getting a turn after each chunk.
 *
 * Such a file is in the page cache, so a read is a copy of a fraction of a millisecond, and the SHA-256 of the chunk,
 * which takes longer, runs on this thread in any case. Reading through libuv's thread pool instead cost more than the
 * copy: a round trip to a pool thread per chunk and a fresh buffer per file; at 16 cameras node's CPU at a minute's
 * cut went from about 540 to about 400 ms with this (two probe runs each) (docs/benchmarks.md, "Agent CPU"). Not for files on a disk or
 * share the agent does not own (a PBX's folder, maybe a network mount): a stalled read there would stall the agent.
 */
export async function sha256SpoolFile(path: string): Promise<FileDigest> {
  const h = createHash('sha256');
  let size = 0;
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, shared, 0, CHUNK, size);
      if (n === 0) break;
      h.update(shared.subarray(0, n));
      size += n;
      await nextTurn();
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), size };
}

/**
 * SHA-256 and byte count of any file, read through libuv's thread pool into a 1 MiB buffer of its own, so that a slow
 * disk or a stalled network share blocks only a pool thread, never the event loop (a PBX's recordings).
 */
export async function sha256File(path: string): Promise<FileDigest> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  let size = 0;
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, size);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: h.digest('hex'), size };
}
