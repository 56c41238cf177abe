/**
 * Masking for disclosure responses (個人情報保護法 開示請求): third parties are silenced or blurred in a *copy*; the
 * original is never touched. Our own small adapter over ffmpeg: nobody else builds these command lines. Every run uses
 * TZ=UTC, one thread and a time limit.
 *
 * - Audio: channels muted for the whole recording (a stereo recording's operator channel) and/or time ranges muted on
 *   every channel (a mixed recording). The copy is 16-bit PCM WAV at the source's rate and channel count; every sample
 *   that is not masked is the decoded source sample, bit for bit (the mask is applied per sample with `aeval`, not
 *   per frame).
 * - Video: rectangles blurred (box blur, or filled black) over time ranges, by re-encoding a copy with H.264. Pixels
 *   outside the rectangles change only by the codec's loss.
 */
import { runTool } from './run-tool.ts';

export type TimeRange = { fromS: number; toS: number };

/** A rectangle as fractions of the frame (0..1, origin top left), blurred from `fromS` to `toS` (seconds from the start). */
export type BlurRegion = { x: number; y: number; w: number; h: number; fromS: number; toS: number };

export type AudioMask = {
  /** Zero-based channels silenced for the whole recording (for a stereo call recording: 1 = operator). */
  muteChannels: number[];
  /** Ranges silenced on every channel. */
  muteRanges: TimeRange[];
};

export type VideoMask = {
  regions: BlurRegion[];
  /** `blur`: a strong box blur; `fill`: a solid black box. */
  style: 'blur' | 'fill';
  /** Camera audio carries voices too: dropped unless kept on purpose. */
  keepAudio: boolean;
};

export type AudioMaskResult = { sampleRate: number; channels: number; durationS: number | null; codec: 'pcm_s16le'; format: 'wav' };
export type VideoMaskResult = {
  width: number;
  height: number;
  durationS: number | null;
  codec: 'h264';
  format: 'mp4';
  /** The regions in pixels as applied (even-aligned for 4:2:0). */
  applied: { x: number; y: number; w: number; h: number; fromS: number; toS: number }[];
};

export interface MediaMasker {
  maskAudio(input: string, output: string, mask: AudioMask): Promise<AudioMaskResult>;
  blurVideo(input: string, output: string, mask: VideoMask): Promise<VideoMaskResult>;
}

export class MediaMaskError extends Error {
  override name = 'MediaMaskError';
}

const secs = (n: number) => {
  if (!Number.isFinite(n) || n < 0) throw new MediaMaskError(`bad time ${n}`);
  return n.toFixed(6);
};

/** The `aeval` expression of one channel: the source sample, times 0 inside any muted range. */
export function audioChannelExpression(channel: number, mask: AudioMask): string {
  if (mask.muteChannels.includes(channel)) return '0';
  if (mask.muteRanges.length === 0) return `val(${channel})`;
  const inside = mask.muteRanges.map((r) => `between(t\\,${secs(r.fromS)}\\,${secs(r.toS)})`).join('+');
  return `val(${channel})*eq(${inside}\\,0)`;
}

/** Fractions to pixels, even-aligned and clamped inside the frame; null when nothing of the rectangle remains. */
export function regionToPixels(r: BlurRegion, width: number, height: number): { x: number; y: number; w: number; h: number } | null {
  const even = (v: number) => Math.max(0, 2 * Math.floor(v / 2));
  const x0 = even(Math.max(0, Math.min(1, r.x)) * width);
  const y0 = even(Math.max(0, Math.min(1, r.y)) * height);
  const x1 = Math.min(width, 2 * Math.ceil((Math.max(0, Math.min(1, r.x + r.w)) * width) / 2));
  const y1 = Math.min(height, 2 * Math.ceil((Math.max(0, Math.min(1, r.y + r.h)) * height) / 2));
  if (x1 - x0 < 2 || y1 - y0 < 2) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** The filter graph that blurs (or fills) each region over its times (seconds from the first frame), one after another. */
export function videoFilterGraph(regions: { x: number; y: number; w: number; h: number; fromS: number; toS: number }[], style: 'blur' | 'fill'): string {
  // Times count from the first frame, whatever timestamp the file starts at.
  const parts: string[] = ['[0:v:0]setpts=PTS-STARTPTS[s]'];
  let cur = 's';
  regions.forEach((r, i) => {
    const enable = `between(t\\,${secs(r.fromS)}\\,${secs(r.toS)})`;
    const out = `v${i}`;
    if (style === 'fill') {
      parts.push(`[${cur}]drawbox=x=${r.x}:y=${r.y}:w=${r.w}:h=${r.h}:color=black:t=fill:enable='${enable}'[${out}]`);
    } else {
      // Radius as large as the box allows (chroma planes are half size), three passes: nothing recognisable remains.
      const lr = Math.max(1, Math.min(48, Math.floor(Math.min(r.w, r.h) / 2) - 1));
      const cr = Math.max(1, Math.min(24, Math.floor(Math.min(r.w, r.h) / 4) - 1));
      parts.push(`[${cur}]split=2[b${i}][c${i}]`);
      parts.push(`[c${i}]crop=${r.w}:${r.h}:${r.x}:${r.y},boxblur=luma_radius=${lr}:luma_power=3:chroma_radius=${cr}:chroma_power=3[m${i}]`);
      parts.push(`[b${i}][m${i}]overlay=x=${r.x}:y=${r.y}:enable='${enable}'[${out}]`);
    }
    cur = out;
  });
  if (regions.length === 0) parts.push('[s]null[v0]');
  return parts.join(';');
}

export function ffmpegMediaMasker(o: { ffmpegPath?: string; ffprobePath?: string; timeoutMs?: number } = {}): MediaMasker {
  const ffmpeg = o.ffmpegPath ?? 'ffmpeg';
  const ffprobe = o.ffprobePath ?? 'ffprobe';
  const timeoutMs = o.timeoutMs ?? 30 * 60_000;

  const run = (cmd: string, args: string[]): Promise<Buffer> => runTool(cmd, args, { timeoutMs, fail: (message) => new MediaMaskError(message) });

  type Stream = { codec_type?: string; sample_rate?: string; channels?: number; width?: number; height?: number };
  async function probe(file: string) {
    const out = await run(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,sample_rate,channels,width,height', '-of', 'json', file]);
    const j = JSON.parse(out.toString()) as { format?: { duration?: string }; streams?: Stream[] };
    const d = Number(j.format?.duration);
    return { durationS: Number.isFinite(d) ? d : null, audio: (j.streams ?? []).find((s) => s.codec_type === 'audio'), video: (j.streams ?? []).find((s) => s.codec_type === 'video') };
  }

  return {
    async maskAudio(input, output, mask) {
      const p = await probe(input);
      const rate = Number(p.audio?.sample_rate);
      const channels = p.audio?.channels ?? 0;
      if (!p.audio || !Number.isFinite(rate) || channels < 1) throw new MediaMaskError('no audio stream');
      for (const c of mask.muteChannels) if (!Number.isInteger(c) || c < 0 || c >= channels) throw new MediaMaskError(`channel ${c} not in a ${channels}-channel recording`);
      for (const r of mask.muteRanges) if (!(r.toS > r.fromS)) throw new MediaMaskError(`empty range ${r.fromS}-${r.toS}`);
      const exprs = Array.from({ length: channels }, (_, c) => audioChannelExpression(c, mask)).join('|');
      await run(ffmpeg, [
        '-nostdin', '-hide_banner', '-v', 'error', '-y', '-threads', '1',
        '-i', input,
        '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1', '-fflags', '+bitexact',
        '-af', `aeval=exprs=${exprs}:channel_layout=same`,
        '-c:a', 'pcm_s16le', '-ar', String(rate), '-ac', String(channels), '-flags', '+bitexact', '-f', 'wav', output,
      ]);
      const q = await probe(output);
      return { sampleRate: rate, channels, durationS: q.durationS, codec: 'pcm_s16le', format: 'wav' };
    },

    async blurVideo(input, output, mask) {
      const p = await probe(input);
      const width = p.video?.width ?? 0;
      const height = p.video?.height ?? 0;
      if (!p.video || width < 2 || height < 2) throw new MediaMaskError('no video stream');
      for (const r of mask.regions) if (!(r.toS > r.fromS)) throw new MediaMaskError(`empty range ${r.fromS}-${r.toS}`);
      const applied = mask.regions.flatMap((r) => {
        const px = regionToPixels(r, width, height);
        return px ? [{ ...px, fromS: r.fromS, toS: r.toS }] : [];
      });
      const graph = videoFilterGraph(applied, mask.style);
      const last = `v${Math.max(0, applied.length - 1)}`;
      const audio = mask.keepAudio && p.audio ? ['-map', '0:a:0?', '-c:a', 'aac', '-b:a', '96k'] : ['-an'];
      await run(ffmpeg, [
        '-nostdin', '-hide_banner', '-v', 'error', '-y', '-threads', '1',
        '-i', input,
        '-filter_complex', graph, '-map', `[${last}]`, ...audio, '-sn', '-dn',
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p',
        '-movflags', '+faststart', '-f', 'mp4', output,
      ]);
      const q = await probe(output);
      return { width, height, durationS: q.durationS, codec: 'h264', format: 'mp4', applied };
    },
  };
}
