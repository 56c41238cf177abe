/**
 * What an MP4's index (its `moov` box) says about the file, read without a media tool: the movie's duration (the
 * `mvhd` duration over its timescale, which is what ffprobe reports as the format's duration) and, per track, its
 * handler (`vide`, `soun`, `sbtl`/`text`, …) and sample count (`stsz`/`stz2`: for a stream copy, the packet count).
 * Pure: the caller hands in the bytes of the `moov` box (see `findTopLevelBox`).
 */

export type Mp4Track = { handler: string; sampleCount: number; timescale: number; duration: number };
export type Mp4Index = { timescale: number; duration: number; durationS: number; tracks: Mp4Track[] };

type Box = { type: string; start: number; headerSize: number; size: number };

/** The boxes directly inside `buf[from, to)`; a box claiming more bytes than there are is an error. */
function children(buf: Buffer, from: number, to: number): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let headerSize = 8;
    if (size === 1) {
      if (at + 16 > to) throw new Error(`mp4: truncated ${type} box header`);
      size = Number(buf.readBigUInt64BE(at + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < headerSize || at + size > to) throw new Error(`mp4: ${type} box at ${at} claims ${size} bytes, ${to - at} remain`);
    out.push({ type, start: at, headerSize, size });
    at += size;
  }
  return out;
}

const body = (b: Box) => ({ from: b.start + b.headerSize, to: b.start + b.size });
const child = (buf: Buffer, parent: Box, type: string) => children(buf, body(parent).from, body(parent).to).find((c) => c.type === type);

/** `mvhd` or `mdhd`: timescale and duration (version 0: 32-bit times, version 1: 64-bit). */
function header(buf: Buffer, b: Box): { timescale: number; duration: number } {
  const p = body(b).from;
  const version = buf.readUInt8(p);
  return version === 1
    ? { timescale: buf.readUInt32BE(p + 20), duration: Number(buf.readBigUInt64BE(p + 24)) }
    : { timescale: buf.readUInt32BE(p + 12), duration: buf.readUInt32BE(p + 16) };
}

/** Reads a `moov` box (the whole box, header included). */
export function parseMoov(moov: Buffer): Mp4Index {
  const [root] = children(moov, 0, moov.length);
  if (!root || root.type !== 'moov') throw new Error('mp4: not a moov box');
  const mvhd = child(moov, root, 'mvhd');
  if (!mvhd) throw new Error('mp4: moov has no mvhd');
  const movie = header(moov, mvhd);
  const tracks: Mp4Track[] = [];
  for (const trak of children(moov, body(root).from, body(root).to).filter((c) => c.type === 'trak')) {
    const mdia = child(moov, trak, 'mdia');
    const hdlr = mdia && child(moov, mdia, 'hdlr');
    const mdhd = mdia && child(moov, mdia, 'mdhd');
    const stbl = mdia && child(moov, mdia, 'minf') && child(moov, child(moov, mdia, 'minf')!, 'stbl');
    if (!mdia || !hdlr || !mdhd || !stbl) throw new Error('mp4: a track without mdia/hdlr/mdhd/minf/stbl');
    const stsz = child(moov, stbl, 'stsz') ?? child(moov, stbl, 'stz2');
    // stsz: version+flags, sample_size, sample_count; stz2: version+flags, reserved(3) + field_size(1), sample_count.
    const sampleCount = stsz ? moov.readUInt32BE(body(stsz).from + 8) : 0;
    tracks.push({ handler: moov.toString('latin1', body(hdlr).from + 8, body(hdlr).from + 12), sampleCount, ...header(moov, mdhd) });
  }
  return { ...movie, durationS: movie.timescale > 0 ? movie.duration / movie.timescale : 0, tracks };
}

/**
 * Where a top-level box of `type` is, from the first bytes of a file (`head`, at least up to that box's header):
 * its offset and size, or null when the boxes before it run past `head` or the file has none.
 */
export function findTopLevelBox(head: Buffer, type: string): { offset: number; size: number } | null {
  let at = 0;
  while (at + 8 <= head.length) {
    let size = head.readUInt32BE(at);
    const t = head.toString('latin1', at + 4, at + 8);
    if (size === 1) {
      if (at + 16 > head.length) return null;
      size = Number(head.readBigUInt64BE(at + 8));
    } else if (size === 0) {
      return t === type ? { offset: at, size: Infinity } : null;
    }
    if (size < 8) throw new Error(`mp4: ${t} box at ${at} has a size of ${size}`);
    if (t === type) return { offset: at, size };
    at += size;
  }
  return null;
}
