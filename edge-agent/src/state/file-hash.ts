import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

const CHUNK = 1024 * 1024;
/**
 * One buffer for every hash in the process: each chunk is read and hashed in one synchronous step (nothing else runs
 * between the read and the update), so hashes that run at the same time can share it.
 */
const shared = Buffer.allocUnsafe(CHUNK);

/**
 * SHA-256 (lowercase hex) and byte count of a file, read in 1 MiB chunks through one shared buffer.
 *
 * Each chunk is read synchronously and the event loop gets a turn after each one. The files hashed are the ones just
 * written (a closed segment, a call's recording), so a read is a copy out of the page cache (a fraction of a
 * millisecond for 1 MiB), and the SHA-256 of the chunk, which takes longer, runs on this thread in any case. Reading
 * through libuv's thread pool instead cost more than the copy: a round trip to a pool thread per chunk, a fresh
 * buffer per file (page faults, garbage), and at 16 cameras that was about a third of the agent's CPU at each
 * minute's cut beyond the hash itself (docs/benchmarks.md, "Agent CPU").
 */
export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
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
