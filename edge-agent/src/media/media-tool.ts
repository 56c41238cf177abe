/**
 * The agent's only view of ffmpeg/ffprobe. Callers never import fluent-ffmpeg or spawn ffmpeg themselves; the
 * implementation is `ffmpeg-media-tool.ts`. The pure parts (argument list, log and list parsing) live here and are
 * tested on their own.
 */
import { basename } from 'node:path';

/** What happens to the camera's audio: stream copy (AAC), transcode to AAC (G.711 and others), or drop. */
export type AudioMode = 'copy' | 'aac' | 'none';

export type SegmenterOptions = {
  /** rtsp:// URL, credentials included (it never leaves the agent). */
  inputUrl: string;
  transport: 'udp' | 'tcp';
  /** RTSP socket timeout in microseconds (`-timeout`); ffmpeg gives up (often with exit code 0) after about 2x this. */
  timeoutUs: number;
  /** Nominal segment length; cuts fall on the first keyframe after each wall-clock multiple of it. */
  segmentSeconds: number;
  /** Absolute output path with strftime fields (evaluated in UTC). */
  outputPattern: string;
  /** Absolute path of the CSV segment list (one line per completed segment). */
  listPath: string;
  audio: AudioMode;
};

export type InputStreamInfo = { index: number; kind: 'video' | 'audio' | 'data' | 'other'; codec: string };

export type SegmenterEvents = {
  /** ffmpeg opened a new segment file; the previous one (if any) is complete. `wallMs`: agent clock when seen. */
  onSegmentOpened?(path: string, wallMs: number): void;
  /** A progress report: `outTimeUs` is the muxed stream time (segment-list time base) at agent time `wallMs`. */
  onProgress?(outTimeUs: number, wallMs: number): void;
  /** The input's streams, once ffmpeg has analysed them. */
  onInputStreams?(streams: InputStreamInfo[]): void;
  onStderrLine?(line: string): void;
};

export type SegmenterExit = { code: number | null; signal: NodeJS.Signals | null; stderrTail: string[] };

export interface SegmenterProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<SegmenterExit>;
  /** Graceful stop (SIGINT: ffmpeg closes the current segment and writes its list line), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<SegmenterExit>;
  /** Immediate SIGKILL (a hung process). */
  kill(): void;
}

export type ProbeStream = {
  index: number;
  kind: 'video' | 'audio' | 'data' | 'other';
  codec: string | null;
  profile: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  sampleRate: number | null;
  channels: number | null;
};

export type ProbeResult = {
  formatName: string;
  /** Earliest presentation time in the file, seconds (MPEG-TS adds a constant mux delay, 1.4 s with ffmpeg defaults). */
  startTimeS: number | null;
  durationS: number | null;
  streams: ProbeStream[];
};

export interface MediaTool {
  startSegmenter(opts: SegmenterOptions, events: SegmenterEvents): SegmenterProcess;
  /** ffprobe a local file; rejects when ffprobe cannot read it. */
  probe(file: string): Promise<ProbeResult>;
}

/**
 * The recorder's ffmpeg command line (after `ffmpeg`). See docs/recorder.md for why each option is there.
 * Stream copy for video; first video and first audio stream only (ONVIF metadata tracks are ignored).
 */
export function buildSegmenterArgs(o: SegmenterOptions): string[] {
  if (!(o.segmentSeconds > 0)) throw new Error('segmentSeconds must be positive');
  const audio: Record<AudioMode, string[]> = {
    copy: ['-map', '0:a:0?', '-c:a', 'copy'],
    aac: ['-map', '0:a:0?', '-c:a', 'aac', '-b:a', '32k', '-ar', '16000', '-ac', '1'],
    none: ['-an'],
  };
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
    '-progress', 'pipe:1', '-stats_period', '0.5',
    '-rtsp_transport', o.transport, '-timeout', String(Math.round(o.timeoutUs)),
    '-i', o.inputUrl,
    '-map', '0:v:0', '-c:v', 'copy',
    ...audio[o.audio],
    // flush_packets: each packet reaches the file at once (otherwise a 256 KB buffer holds most of a segment and a
    // killed ffmpeg leaves an empty file instead of a playable partial one).
    '-f', 'segment', '-segment_format', 'mpegts', '-segment_format_options', 'flush_packets=1',
    '-segment_time', String(o.segmentSeconds), '-segment_atclocktime', '1',
    '-strftime', '1',
    '-segment_list', o.listPath, '-segment_list_type', 'csv', '-segment_list_flags', 'live',
    o.outputPattern,
  ];
}

export type SegmentListEntry = { file: string; startS: number; endS: number };

/** Parses the segment muxer's CSV list (`name,start,end`; names with commas are quoted). Ignores a torn last line. */
export function parseSegmentList(text: string): SegmentListEntry[] {
  const out: SegmentListEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),([-0-9.]+),([-0-9.]+)\s*$/.exec(line);
    if (!m) continue;
    const file = m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? '');
    const startS = Number(m[3]);
    const endS = Number(m[4]);
    if (!file || !Number.isFinite(startS) || !Number.isFinite(endS)) continue;
    out.push({ file: basename(file), startS, endS });
  }
  return out;
}

/** `[segment @ 0x…] Opening '/path/x.ts' for writing` → the path (segment files only, not the list). */
export function parseOpeningLine(line: string): string | null {
  const m = /\[segment @ [^\]]+\] Opening '(.+)' for writing/.exec(line);
  return m ? (m[1] ?? null) : null;
}

/** `  Stream #0:1: Audio: pcm_alaw, 8000 Hz, …` (input section) → stream info. */
export function parseStreamLine(line: string): InputStreamInfo | null {
  const m = /^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Data|\w+): ([A-Za-z0-9_]+)/.exec(line);
  if (!m) return null;
  const kind = m[2] === 'Video' ? 'video' : m[2] === 'Audio' ? 'audio' : m[2] === 'Data' ? 'data' : 'other';
  return { index: Number(m[1]), kind, codec: m[3] ?? '' };
}
