import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** SHA-256 of a file, lowercase hex, streamed (the event loop stays free for ffmpeg's reports). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
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
