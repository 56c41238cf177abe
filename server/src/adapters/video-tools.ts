/**
 * ffmpeg and ffprobe for camera footage in evidence packs: probing a segment and cutting one MP4 of a camera window
 * from its segments by stream copy (the concat demuxer with in and out points at keyframes: no video re-encode).
 * Our own adapter over child processes; every run uses TZ=UTC and a time limit.
 */
import { open, stat, writeFile } from 'node:fs/promises';
import { findTopLevelBox, type Mp4Index, parseMoov } from '../domain/mp4-index.ts';
import { runTool } from './run-tool.ts';

export type SegmentProbe = {
  /** The file's first timestamp, seconds (MPEG-TS segments keep the recorder's running clock). */
  startTime: number;
  durationS: number;
  video: { codec: string; width: number | null; height: number | null } | null;
  audio: { codec: string } | null;
};

/** One input of a cut: a segment file on disk, with where to start or stop in its own timestamps. */
export type CutInput = { file: string; inpoint?: number | undefined; outpoint?: number | undefined; durationS?: number | undefined };

export type CutSpec = {
  inputs: CutInput[];
  output: string;
  /** SubRip text of the soft subtitles (the site-local time), muxed as mov_text. */
  subtitlesSrt: string;
  /** Copy the audio when its codec can go into MP4, else AAC; null: no audio stream. */
  audio: 'copy' | 'aac' | null;
  metadata: Record<string, string>;
  /** Where the concat list and subtitles go (a scratch folder of the caller's). */
  scratchPrefix: string;
};

export type CutResult = { durationS: number; videoPackets: number; size: number };

export interface VideoTools {
  probe(file: string): Promise<SegmentProbe>;
  /** Presentation times (seconds, the file's own clock) of the first video stream's keyframes. */
  keyframes(file: string): Promise<number[]>;
  cut(spec: CutSpec): Promise<CutResult>;
}

export class VideoToolError extends Error {
  override name = 'VideoToolError';
}

/** Audio codecs an MP4 takes as they are. */
export const MP4_AUDIO_COPY = new Set(['aac', 'mp3', 'alac', 'opus', 'flac']);

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};

export function ffmpegVideoTools(o: { ffmpegPath?: string | undefined; ffprobePath?: string | undefined; timeoutMs?: number } = {}): VideoTools {
  const ffmpeg = o.ffmpegPath ?? 'ffmpeg';
  const ffprobe = o.ffprobePath ?? 'ffprobe';
  const timeoutMs = o.timeoutMs ?? 30 * 60_000;

  const run = (cmd: string, args: string[]): Promise<string> => runTool(cmd, args, { timeoutMs, fail: (message) => new VideoToolError(message) }).then((b) => b.toString());

  async function probe(file: string): Promise<SegmentProbe> {
    const j = JSON.parse(await run(ffprobe, ['-v', 'error', '-show_entries', 'format=start_time,duration:stream=codec_type,codec_name,width,height', '-of', 'json', file])) as {
      format?: { start_time?: string; duration?: string };
      streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number }[];
    };
    const v = j.streams?.find((s) => s.codec_type === 'video');
    const a = j.streams?.find((s) => s.codec_type === 'audio');
    return {
      startTime: num(j.format?.start_time) ?? 0,
      durationS: num(j.format?.duration) ?? 0,
      video: v ? { codec: v.codec_name ?? 'unknown', width: v.width ?? null, height: v.height ?? null } : null,
      audio: a ? { codec: a.codec_name ?? 'unknown' } : null,
    };
  }

  return {
    probe,
    async keyframes(file) {
      const out = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file]);
      return out
        .split('\n')
        .map((l) => l.trim().split(','))
        .filter((f) => f.length >= 2 && f[1]!.startsWith('K'))
        .map((f) => Number(f[0]))
        .filter((n) => Number.isFinite(n));
    },
    async cut(spec) {
      const list = `${spec.scratchPrefix}.ffconcat`;
      const srt = `${spec.scratchPrefix}.srt`;
      const quote = (p: string) => `'${p.replaceAll("'", "'\\''")}'`;
      const lines = ['ffconcat version 1.0'];
      for (const i of spec.inputs) {
        lines.push(`file ${quote(i.file)}`);
        if (i.inpoint !== undefined) lines.push(`inpoint ${i.inpoint.toFixed(6)}`);
        if (i.outpoint !== undefined) lines.push(`outpoint ${i.outpoint.toFixed(6)}`);
        if (i.durationS !== undefined) lines.push(`duration ${i.durationS.toFixed(6)}`);
      }
      await writeFile(list, `${lines.join('\n')}\n`);
      await writeFile(srt, spec.subtitlesSrt);
      const meta = Object.entries(spec.metadata).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
      const audioArgs = spec.audio === null ? ['-an'] : ['-map', '0:a:0?', ...(spec.audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k'])];
      await run(ffmpeg, [
        '-v', 'error', '-nostdin', '-y', '-threads', '1',
        '-f', 'concat', '-safe', '0', '-i', list,
        '-i', srt,
        '-map', '0:v:0', ...audioArgs, '-map', '1:0',
        '-c:v', 'copy', '-c:s', 'mov_text', '-metadata:s:s:0', 'language=jpn',
        ...meta,
        '-movflags', '+faststart+use_metadata_tags',
        '-f', 'mp4', spec.output,
      ]);
      // The MP4's index (moov, at the front: +faststart) read here: its duration and the video track's sample count,
      // which for a stream copy is its packet count. Nothing of the media is read again, and no second tool runs.
      const index = await readMp4Index(spec.output);
      const video = index.tracks.find((t) => t.handler === 'vide');
      const { size } = await stat(spec.output);
      return { durationS: index.durationS, videoPackets: video?.sampleCount ?? 0, size };
    },
  };
}

/** The `moov` box of an MP4 whose index is at the front (within its first MiB), parsed. */
export async function readMp4Index(file: string): Promise<Mp4Index> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const at = findTopLevelBox(head.subarray(0, bytesRead), 'moov');
    if (!at || !Number.isFinite(at.size) || at.offset > 1024 * 1024 || at.size > 256 * 1024 * 1024) throw new VideoToolError(`${file}: no moov box at the front of the MP4`);
    const moov = Buffer.alloc(at.size);
    const r = await fh.read(moov, 0, at.size, at.offset);
    if (r.bytesRead !== at.size) throw new VideoToolError(`${file}: the moov box is cut short`);
    return parseMoov(moov);
  } finally {
    await fh.close();
  }
}
