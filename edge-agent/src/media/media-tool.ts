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
  /**
   * The streams ffmpeg writes into every segment (its `Output #0` section), with the facts ffprobe would give:
   * printed once per run, right after the first segment file opened and before any packet is muxed. The recorder
   * takes a segment's codec facts from here instead of running ffprobe on every closed file.
   */
  onOutputStreams?(streams: ProbeStream[]): void;
  onStderrLine?(line: string): void;
  /** ffmpeg runs (its launcher reported its pid). */
  onStarted?(pid: number): void;
};

export type SegmenterExit = { code: number | null; signal: NodeJS.Signals | null; stderrTail: string[] };

export interface SegmenterProcess {
  /** ffmpeg's pid, once it runs (undefined just after the start). */
  readonly pid: number | undefined;
  /** How ffmpeg ended: its exit code, or the signal that killed it. */
  readonly exited: Promise<SegmenterExit>;
  /** Graceful stop (one signal: ffmpeg closes the current segment and writes its list line), SIGKILL after `graceMs`. */
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

/** Where the segmenter reads its input list: a pipe on file descriptor 3, written and closed by the agent. */
export const SEGMENTER_INPUT = 'pipe:3';
/** Protocols the segmenter's input may use (the list itself comes through `pipe`; no `file`). */
export const SEGMENTER_PROTOCOLS = 'pipe,rtsp,rtsps,rtp,srtp,udp,tcp,tls';

/** A value in an ffconcat line: single-quoted, a `'` as `'\''`. Refuses control characters (they end a line). */
function ffconcatQuote(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error('the camera URL contains a control character');
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The segmenter's input as ffmpeg reads it on file descriptor 3 (SEGMENTER_INPUT): an ffconcat list of one entry,
 * the camera URL with its credentials, and the RTSP demuxer's options (transport, socket timeout in µs).
 */
export function segmenterInputList(o: Pick<SegmenterOptions, 'inputUrl' | 'transport' | 'timeoutUs'>): string {
  return ['ffconcat version 1.0', `file ${ffconcatQuote(o.inputUrl)}`, `option rtsp_transport ${o.transport}`, `option timeout ${Math.round(o.timeoutUs)}`, ''].join('\n');
}

/**
 * Seconds between ffmpeg's progress reports. They feed the wall-clock anchor (a minimum over 120 s, which each next
 * file's opening also feeds) and the stall watchdog (30 s or more; a file's opening counts as progress too). Each
 * report wakes the agent's event loop, and on a virtual machine a wake-up costs 0.5–1 ms: at 16 cameras, reports every
 * 5 s were about 3 of the node process's 4 to 6 wake-ups a second between segment closes (docs/benchmarks.md, "Agent
 * CPU"). ffmpeg prints its first report as soon as the output starts.
 */
export const PROGRESS_PERIOD_S = 15;

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
    '-progress', 'pipe:1', '-stats_period', String(PROGRESS_PERIOD_S),
    // The camera URL (with its password) is not in the argv, which every local user can read (`ps`,
    // /proc/<pid>/cmdline): it comes in a one-entry ffconcat list on file descriptor 3 (segmenterInputList), with
    // the RTSP options as the entry's options. The whitelist keeps that input to the network protocols.
    '-f', 'concat', '-safe', '0', '-protocol_whitelist', SEGMENTER_PROTOCOLS,
    '-i', SEGMENTER_INPUT,
    '-map', '0:v:0', '-c:v', 'copy',
    ...audio[o.audio],
    // No flush_packets=1 (it cost ffmpeg about 1.1x its CPU): ffmpeg writes through its 256 KiB buffer, which a
    // graceful stop writes out. Even a SIGKILLed agent stops it gracefully, since ffmpeg runs under a launcher that
    // forwards exactly one stop signal (ffmpeg-launcher.sh; at a second signal ffmpeg would skip its trailer).
    '-f', 'segment', '-segment_format', 'mpegts',
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

const STREAM_LINE = /^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Data|\w+): ([A-Za-z0-9_]+)(.*)$/;

/** `  Stream #0:1: Audio: pcm_alaw, 8000 Hz, mono, …` (input section) → stream info. */
export function parseStreamLine(line: string): InputStreamInfo | null {
  const m = STREAM_LINE.exec(line);
  if (!m) return null;
  const kind = m[2] === 'Video' ? 'video' : m[2] === 'Audio' ? 'audio' : m[2] === 'Data' ? 'data' : 'other';
  return { index: Number(m[1]), kind, codec: m[3] ?? '' };
}

const CHANNEL_LAYOUTS: Record<string, number> = { mono: 1, stereo: 2, '2.1': 3, '3.0': 3, quad: 4, '4.0': 4, '5.0': 5, '5.0(side)': 5, '5.1': 6, '5.1(side)': 6, '7.1': 8 };

/**
 * A stream line of ffmpeg's `Input #0` or `Output #0` section → the facts ffprobe gives for that stream, e.g.
 * `Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], 25 fps, …`
 * or `Stream #0:1: Audio: aac (LC), 16000 Hz, mono, fltp, 32 kb/s`.
 */
export function parseStreamFacts(line: string): ProbeStream | null {
  const m = STREAM_LINE.exec(line);
  if (!m) return null;
  const info = parseStreamLine(line)!;
  const rest = m[4] ?? '';
  // The profile is the parenthesised group right after the codec name, unless it is a fourcc: `(avc1 / 0x31637661)`.
  const prof = /^ \(([^()]+)\)/.exec(rest);
  const profile = prof && !/ \/ 0x[0-9a-f]+$/i.test(prof[1]!) ? prof[1]! : null;
  const fields = rest.split(',').map((f) => f.trim());
  const video = info.kind === 'video';
  const audio = info.kind === 'audio';
  let width: number | null = null;
  let height: number | null = null;
  let fps: number | null = null;
  let sampleRate: number | null = null;
  let channels: number | null = null;
  for (const f of fields) {
    const size = /^(\d{1,5})x(\d{1,5})(?: \[.*\])?$/.exec(f);
    if (video && size && width === null) {
      width = Number(size[1]);
      height = Number(size[2]);
    }
    const rate = /^(\d+(?:\.\d+)?)(k?) fps$/.exec(f);
    if (video && rate && fps === null) fps = Math.round(Number(rate[1]) * (rate[2] ? 1000 : 1) * 1000) / 1000;
    const hz = /^(\d+) Hz$/.exec(f);
    if (audio && hz && sampleRate === null) sampleRate = Number(hz[1]) || null;
    const n = /^(\d+) channels(?: \(.*\))?$/.exec(f);
    if (audio && channels === null) channels = n ? Number(n[1]) : (CHANNEL_LAYOUTS[f] ?? null);
  }
  return { index: info.index, kind: info.kind, codec: info.codec || null, profile, width, height, fps, sampleRate, channels };
}
