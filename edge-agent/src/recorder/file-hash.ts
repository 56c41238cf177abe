import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** SHA-256 (lowercase hex) and byte count of a file, from the same streamed read (the event loop stays free). */
export function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (d) => {
        h.update(d);
        size += d.length;
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: h.digest('hex'), size }));
  });
}

/** Makes a file ffmpeg wrote (and its directory entry) durable before anyone is told it exists. */
export async function fsyncFileAndDir(path: string): Promise<void> {
  for (const p of [path, dirname(path)]) {
    const fh = await open(p, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
