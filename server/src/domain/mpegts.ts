/**
 * The codecs of an MPEG-TS file from its first packets: the program map (PAT → PMT) names each elementary stream's
 * type. Pure. Only stream types that name one codec without looking at the media are answered (the names are
 * ffprobe's); anything else (MPEG audio, whose type does not say layer 2 or 3, private data, descriptors that carry
 * the codec, a PMT spread over packets) answers null, and the caller asks a media tool instead.
 */

const VIDEO: Record<number, string> = { 0x01: 'mpeg1video', 0x02: 'mpeg2video', 0x10: 'mpeg4', 0x1b: 'h264', 0x24: 'hevc' };
const AUDIO: Record<number, string> = { 0x0f: 'aac', 0x11: 'aac_latm' };
const PACKET = 188;

export type TsCodecs = { video: string | null; audio: string | null };

/** One table section that starts in this packet's payload (PSI with payload_unit_start), or null. */
function sectionIn(head: Buffer, at: number): Buffer | null {
  const b1 = head[at + 1]!;
  if (!(b1 & 0x40)) return null;
  const afc = (head[at + 3]! >> 4) & 3;
  if (!(afc & 1)) return null;
  let p = at + 4 + (afc & 2 ? 1 + head[at + 4]! : 0);
  p += 1 + head[p]!; // pointer_field
  const end = at + PACKET;
  if (p + 3 > end) return null;
  const len = ((head[p + 1]! & 0x0f) << 8) | head[p + 2]!;
  if (p + 3 + len > end) return null; // spread over packets: not read here
  return head.subarray(p, p + 3 + len);
}

/** The codecs named by the first program's map in `head` (the file's first bytes), or null when it cannot tell. */
export function tsCodecs(head: Buffer): TsCodecs | null {
  let pmtPid: number | null = null;
  for (let at = 0; at + PACKET <= head.length; at += PACKET) {
    if (head[at] !== 0x47) return null; // not packet-aligned MPEG-TS
    const pid = ((head[at + 1]! & 0x1f) << 8) | head[at + 2]!;
    if (pid === 0 && pmtPid === null) {
      const s = sectionIn(head, at);
      if (!s || s[0] !== 0x00) continue;
      const end = s.length - 4; // before the CRC
      for (let e = 8; e + 4 <= end; e += 4) {
        const program = s.readUInt16BE(e);
        if (program !== 0) {
          pmtPid = s.readUInt16BE(e + 2) & 0x1fff;
          break;
        }
      }
    } else if (pmtPid !== null && pid === pmtPid) {
      const s = sectionIn(head, at);
      if (!s || s[0] !== 0x02) continue;
      const end = s.length - 4;
      const infoLen = s.readUInt16BE(10) & 0x0fff;
      let video: string | null = null;
      let audio: string | null = null;
      for (let e = 12 + infoLen; e + 5 <= end; ) {
        const type = s[e]!;
        const esLen = s.readUInt16BE(e + 3) & 0x0fff;
        if (VIDEO[type]) video ??= VIDEO[type]!;
        else if (AUDIO[type]) audio ??= AUDIO[type]!;
        else return null;
        e += 5 + esLen;
      }
      return { video, audio };
    }
  }
  return null;
}
