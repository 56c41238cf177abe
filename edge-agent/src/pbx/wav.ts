/**
 * RIFF/WAVE inspection. Asterisk writes the RIFF and data sizes only when it closes the file, so "sizes consistent
 * with the file size" is how we know a recording is finished. We never modify the file.
 */
import { open } from 'node:fs/promises';

export type WavInfo = {
  /** RIFF size + 8 equals the file size, the chunk list ends exactly at the end of the file and has a data chunk. */
  final: boolean;
  audioFormat: number; // 1 PCM, 6 A-law, 7 µ-law, 49 GSM 6.10
  channels: number;
  sampleRate: number;
  byteRate: number;
  bitsPerSample: number;
  dataOffset: number;
  /** Data bytes: the declared size when final, else what is in the file after the header. */
  dataBytes: number;
  durationS: number | null;
};

/** Null when the file is not (yet) a RIFF/WAVE file with a fmt and a data chunk header. */
export async function inspectWav(path: string): Promise<WavInfo | null> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size < 12) return null;
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return null;
    const riffSize = head.readUInt32LE(4);
    let pos = 12;
    let fmt: Buffer | null = null;
    let dataOffset = -1;
    let dataSize = 0;
    let walkedToEnd = false;
    const hdr = Buffer.alloc(8);
    for (let guard = 0; guard < 64; guard++) {
      if (pos === size) {
        walkedToEnd = true;
        break;
      }
      if (pos + 8 > size) break;
      await fh.read(hdr, 0, 8, pos);
      const id = hdr.toString('latin1', 0, 4);
      const len = hdr.readUInt32LE(4);
      if (id === 'fmt ' && len >= 16 && pos + 8 + len <= size) {
        fmt = Buffer.alloc(Math.min(len, 64));
        await fh.read(fmt, 0, fmt.length, pos + 8);
      }
      if (id === 'data') {
        dataOffset = pos + 8;
        dataSize = len;
      }
      const next = pos + 8 + len + (len % 2);
      if (next > size) {
        // A data chunk that claims more than the file holds (or a live header) ends the walk.
        if (id === 'data' && next - 1 === size && len % 2 === 1) walkedToEnd = true;
        break;
      }
      pos = next;
    }
    if (!fmt || dataOffset < 0) return null;
    const audioFormat = fmt.readUInt16LE(0);
    const channels = fmt.readUInt16LE(2);
    const sampleRate = fmt.readUInt32LE(4);
    const byteRate = fmt.readUInt32LE(8);
    const bitsPerSample = fmt.readUInt16LE(14);
    const final = riffSize + 8 === size && walkedToEnd && dataOffset + dataSize <= size;
    const dataBytes = final ? dataSize : Math.max(0, size - dataOffset);
    const durationS = byteRate > 0 ? Math.round((dataBytes / byteRate) * 1000) / 1000 : null;
    return { final, audioFormat, channels, sampleRate, byteRate, bitsPerSample, dataOffset, dataBytes, durationS };
  } finally {
    await fh.close();
  }
}
