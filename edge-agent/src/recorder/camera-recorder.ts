/**
 * One camera's recorder: supervises ffmpeg (segment muxer, stream copy, MPEG-TS), turns every completed segment
 * into a ClosedSegment (real start and duration, SHA-256, size, codec facts) and every outage into a GapReport,
 * and hands both to the EvidenceSink in capture order. See docs/recorder.md.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ClockOffsetSource, ClosedSegment, EvidenceSink, GapReason, GapReport } from '../contracts.ts';
import { Backoff, sleep } from '../lib/backoff.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { Mutex } from '../lib/mutex.ts';
import { createFfmpegMediaTool } from '../media/ffmpeg-media-tool.ts';
import { parseSegmentList, type AudioMode, type InputStreamInfo, type MediaTool, type ProbeResult, type ProbeStream, type SegmentListEntry, type SegmenterEvents, type SegmenterProcess } from '../media/media-tool.ts';
import { ClockAnchor } from './clock-anchor.ts';
import { classifyRunEnd, redactCredentials, type RunEnd } from './exit-reason.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { sha256SpoolFile } from '../state/file-hash.ts';
import { untilNextMultipleAfter } from '../lib/poll-loop.ts';

/** ffmpeg's MPEG-TS muxer shifts timestamps by its mux delay (0.7 s, applied twice): file start_time = list time + 1.4. */
export const MPEGTS_MUX_OFFSET_S = 1.4;

/** What a run keeps next to its list (`.runs/<runId>.state.json`) for the start-up recovery after a crash. */
export type RunState = { anchorMs: number; lastEndMs: number };
/** The run-state file of a run list `.runs/<runId>.csv`. */
export const runStatePath = (listPath: string) => listPath.replace(/\.csv$/, '.state.json');

/** Audio codecs MPEG-TS carries as audio (others, like G.711, only as unplayable private data). */
const MPEGTS_AUDIO: ReadonlySet<string> = new Set(['aac', 'mp2', 'mp3', 'ac3', 'eac3', 'opus']);

/**
 * A segment's codec facts from its streams (ffmpeg's output section, or ffprobe), as the recorder and the start-up
 * recovery report them. G.711 stream-copied into MPEG-TS (a run before the switch to AAC) is stored as private data
 * no player decodes: the segment has no audio, as ffprobe also says of such a file.
 */
export function segmentCodecFacts(streams: readonly ProbeStream[], audioExtra: Record<string, unknown> = {}) {
  const video = streams.find((s) => s.kind === 'video') ?? null;
  const audio = streams.find((s) => s.kind === 'audio' && s.codec !== null && MPEGTS_AUDIO.has(s.codec)) ?? null;
  return {
    container: 'mpegts',
    video: video && { codec: video.codec, profile: video.profile, width: video.width, height: video.height, fps: video.fps },
    audio: audio && { codec: audio.codec, sampleRate: audio.sampleRate, channels: audio.channels, ...audioExtra },
  };
}

/** How long a stalled ffmpeg gets to exit after SIGINT before it is killed. */
const STALL_STOP_GRACE_MS = 3000;

/** A larger correction than this is logged: the timing estimate was off by more than its usual precision. */
const OVERLAP_WARN_MS = 250;

export type RecorderState = 'starting' | 'recording' | 'offline' | 'stopped';

export type RecorderHealth = {
  cameraKey: string;
  state: RecorderState;
  /** When the recorder entered this state (agent clock). */
  since: Date;
  /** Current ffmpeg run and its process id, if one is alive. */
  runId: string | null;
  pid: number | null;
  /** ffmpeg processes started so far. */
  runs: number;
  /** End of the last segment handed to the sink. */
  lastSegmentEnd: Date | null;
  /** Why the last run ended, when it was not asked to (credentials redacted). */
  lastError: string | null;
  /** Audio handling in effect: `input` is the camera's codec once seen. */
  audio: { mode: AudioMode; input: string | null };
  /** Closed segments the sink has not accepted yet (still queued or failing). */
  pendingDeliveries: number;
};

export interface CameraRecorder {
  /** Starts supervising ffmpeg; returns at once. */
  start(): void;
  /** Stops ffmpeg gracefully (SIGINT), closes and delivers the last segment, reports an open outage; resolves when done. */
  stop(): Promise<void>;
  health(): RecorderHealth;
}

export type CameraRecorderOptions = {
  cameraKey: string;
  /**
   * RTSP URL with credentials, or a function that finds it (e.g. ONVIF GetStreamUri), called before every ffmpeg
   * start. Never logged, never sent: ffmpeg messages quoted in gaps are redacted. A function that throws counts as
   * the camera being unreachable.
   */
  rtspUrl: string | (() => Promise<string>);
  /** RTSP lower transport (default tcp: interleaved, survives NAT and loss better; the test relay is UDP only). */
  transport?: 'udp' | 'tcp';
  /** 'auto' (default): copy AAC; any other audio codec is transcoded to AAC after the first run reveals it. */
  audio?: 'auto' | AudioMode;
  /** The camera's spool directory (created if missing). Segment files go here; run lists go to `.runs/`. */
  spoolDir: string;
  /** Nominal segment length, seconds (default 60). Cuts fall on keyframes after each wall-clock multiple. */
  segmentSeconds?: number;
  /** RTSP socket timeout, µs (default 5 s). */
  rtspTimeoutUs?: number;
  sink: EvidenceSink;
  clockOffset: ClockOffsetSource;
  media?: MediaTool;
  log?: Logger;
  /** Agent wall clock (default Date.now). */
  now?: () => number;
  /** Restart backoff (full jitter): defaults base 1 s, cap 30 s. Reset after a run that closed a segment. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Kill ffmpeg when neither its muxed stream time nor a new file has advanced for this long (default max(30 s, 4x timeout)). */
  stallMs?: number;
  /** Window of the wall-clock anchor's minimum filter (default 120 s). */
  anchorWindowMs?: number;
  /** Within a run, keep segments exactly contiguous unless the anchor estimate moves more than this (default 100 ms). */
  reanchorMs?: number;
  /** At stop(): how long to keep retrying a failing sink before leaving the files in the spool (default 15 s). */
  stopFlushMs?: number;
  /**
   * The agent was down before this recorder started (recorder/downtime.ts): the camera's record ended at `sinceMs`.
   * An `agent_down` gap runs from there to the first new segment (up to this recorder's start, then the outage's
   * own reason, if the camera also failed after the restart); new segments never start before `sinceMs`.
   */
  resume?: { sinceMs: number; detail: string };
  random?: () => number;
};

type Run = {
  id: string;
  listPath: string;
  proc: SegmenterProcess;
  audioMode: AudioMode;
  anchor: ClockAnchor;
  opened: Array<{ path: string; wallMs: number }>;
  /** Opened segments already queued for closing. */
  queued: number;
  /** The streams of every segment of this run, from ffmpeg's output section (null until printed). */
  outputStreams: ProbeStream[] | null;
  /** The wall-clock offset applied to this run's segments (sticky: moves only when the estimate moves > reanchorMs). */
  appliedAnchorMs: number | null;
  inputAudio: string | null;
  lastOutUs: number;
  lastAdvanceWall: number;
  sawPackets: boolean;
  stalled: boolean;
  deliberate: string | null;
  closedSegments: number;
};

type Outage = { reason: GapReason; detail: string; attempts: number; lastDetail: string };

export function createCameraRecorder(o: CameraRecorderOptions): CameraRecorder {
  const media = o.media ?? createFfmpegMediaTool({ now: o.now });
  const now = o.now ?? Date.now;
  const log = o.log ?? silentLogger;
  const segmentSeconds = o.segmentSeconds ?? 60;
  const timeoutUs = o.rtspTimeoutUs ?? 5_000_000;
  // At least twice ffmpeg's progress period (PROGRESS_PERIOD_S), so that a report that comes a little late is not a stall.
  const stallMs = o.stallMs ?? Math.max(30_000, (4 * timeoutUs) / 1000);
  // Checked a few times per stall period (every 5 s by default), at wall-clock multiples of it: a timer per camera
  // would otherwise wake the agent once per camera.
  const watchdogMs = Math.max(100, Math.min(5000, Math.round(stallMs / 4)));
  const stopFlushMs = o.stopFlushMs ?? 15_000;
  const reanchorMs = o.reanchorMs ?? 100;
  const transport = o.transport ?? 'tcp';
  const runsDir = join(o.spoolDir, '.runs');
  const restartBackoff = new Backoff({ baseMs: o.backoff?.baseMs ?? 1000, capMs: o.backoff?.capMs ?? 30_000, random: o.random });
  if (!(segmentSeconds > 0)) throw new Error('segmentSeconds must be positive');

  let audioMode: AudioMode = o.audio === undefined || o.audio === 'auto' ? 'copy' : o.audio;
  let inputAudio: string | null = null;
  let state: RecorderState = 'starting';
  let since = now();
  let lastError: string | null = null;
  let runCount = 0;
  let current: Run | null = null;
  let started = false;
  let stopping = false;
  let stopWall = 0;
  let supervisor: Promise<void> = Promise.resolve();
  /** Aborted by stop(): ends the wait between ffmpeg runs. */
  const stopCtl = new AbortController();
  const startedWall = now();

  // Everything that reaches the sink goes through one serial queue, in capture order.
  const queue = new Mutex();
  let pendingDeliveries = 0;
  let lastEndMs: number | null = o.resume?.sinceMs ?? null;
  let outage: Outage | null = null;
  /** The agent's own downtime before this recorder started, reported with the first outage report. */
  let agentDown: { detail: string } | null = o.resume ? { detail: o.resume.detail } : null;
  const enqueue = (what: string, task: () => Promise<void>) => {
    queue.run(task).catch((err: unknown) => log.error(`recorder: ${what} failed`, { cameraKey: o.cameraKey, err: errText(err) }));
  };

  const setState = (s: RecorderState) => {
    if (s === state) return;
    state = s;
    since = now();
    log.info('recorder state', { cameraKey: o.cameraKey, state: s, runId: current?.id ?? null });
  };

  /** Retries a sink call (capped backoff, full jitter) until it succeeds; at stop, until the flush deadline. */
  const deliver = async (what: string, fn: () => Promise<void>) => {
    const b = new Backoff({ baseMs: 250, capMs: 30_000, random: o.random });
    for (;;) {
      try {
        await fn();
        return;
      } catch (err) {
        log.warn(`recorder: sink rejected ${what}, will retry`, { cameraKey: o.cameraKey, err: errText(err) });
        if (stopping && now() - stopWall > stopFlushMs) throw new Error(`sink still failing at stop: ${errText(err)}`);
        await sleep(stopping ? Math.min(b.next(), 1000) : b.next());
      }
    }
  };

  const readList = async (path: string): Promise<SegmentListEntry[]> => {
    try {
      return parseSegmentList(await readFile(path, 'utf8'));
    } catch {
      return [];
    }
  };

  const closeSegment = async (run: Run, i: number, final: boolean) => {
    const { path, wallMs: openedWall } = run.opened[i]!;
    const name = basename(path);
    // The list line is written before the next segment opens (or at a clean exit); a killed ffmpeg leaves none.
    let entry: SegmentListEntry | undefined;
    for (let attempt = 0; attempt < (final ? 1 : 10); attempt++) {
      entry = (await readList(run.listPath)).find((e) => e.file === name);
      if (entry) break;
      await sleep(50);
    }
    const st = await stat(path).catch(() => null);
    if (!st) {
      log.warn('recorder: segment file missing', { cameraKey: o.cameraKey, runId: run.id, file: name });
      return;
    }
    if (st.size === 0) {
      await unlink(path).catch(() => undefined);
      return;
    }
    // A listed segment is complete: its times come from the list and its codec facts from ffmpeg's output section,
    // so no process is started per segment. Only a segment cut short (no list line) is probed, to see whether it
    // plays and where it starts.
    const listed = entry !== undefined && entry.endS > entry.startS;
    let probe: ProbeResult | null = null;
    let probeError: string | null = null;
    if (!listed) {
      try {
        probe = await media.probe(path);
      } catch (err) {
        probeError = errText(err);
      }
    }
    const playable = listed || (probe !== null && probe.startTimeS !== null && (probe.durationS ?? 0) > 0 && probe.streams.some((s) => s.kind === 'video'));
    if (!entry && !playable) {
      // A partial segment ffmpeg died in before writing anything decodable: keep the bytes aside, out of the outbox.
      await rename(path, `${path}.unplayable`).catch(() => undefined);
      log.warn('recorder: partial segment not playable, set aside', { cameraKey: o.cameraKey, runId: run.id, file: `${name}.unplayable`, size: st.size, probeError });
      return;
    }
    // The next file was opened when the packet at this one's end time was muxed: one more anchor sample (the only
    // one when this segment closed before ffmpeg's first progress report).
    const next = run.opened[i + 1];
    if (entry && next) run.anchor.add(next.wallMs, entry.endS * 1000);
    const streamStartS = entry ? entry.startS : probe!.startTimeS! - MPEGTS_MUX_OFFSET_S;
    const durationS = listed ? entry!.endS - entry!.startS : probe !== null && (probe.durationS ?? 0) > 0 ? probe.durationS! : entry!.endS - entry!.startS;
    // Before the first progress report (a run killed within 0.5 s) the open time is the only anchor we have.
    const estimateMs = run.anchor.offsetMs() ?? openedWall - streamStartS * 1000;
    if (run.appliedAnchorMs === null || Math.abs(estimateMs - run.appliedAnchorMs) > reanchorMs) {
      if (run.appliedAnchorMs !== null) log.debug('recorder: wall-clock anchor moved', { cameraKey: o.cameraKey, runId: run.id, deltaMs: Math.round(estimateMs - run.appliedAnchorMs) });
      run.appliedAnchorMs = estimateMs;
    }
    const anchorMs = run.appliedAnchorMs;
    const estimatedStartMs = Math.round(anchorMs + streamStartS * 1000);
    // The duration of a TS segment includes its last frame, so it can reach a few tens of ms past the next
    // segment's start, and a moved anchor can do the same. Segments of one camera never overlap (the centre refuses
    // that): a segment never starts before the previous one ended. The shift is within the timing precision.
    const startMs = lastEndMs !== null && estimatedStartMs < lastEndMs ? lastEndMs : estimatedStartMs;
    if (startMs - estimatedStartMs > OVERLAP_WARN_MS) {
      log.warn('recorder: segment start moved past the previous segment end', { cameraKey: o.cameraKey, runId: run.id, shiftMs: startMs - estimatedStartMs });
    }
    const durationMs = Math.round(durationS * 1000);
    // Durable before anyone is told of it: the outbox fsyncs the file and its folder entry before the record that
    // points at it (segmentClosed), so no fsync here.
    const { sha256, size } = await sha256SpoolFile(path);
    const streams = probe?.streams ?? run.outputStreams ?? [];
    const seg: ClosedSegment = {
      cameraKey: o.cameraKey,
      path,
      start: new Date(startMs),
      durationMs,
      size,
      sha256,
      mediaType: 'video/mp2t',
      codec: {
        ...segmentCodecFacts(streams, { mode: run.audioMode, input: run.inputAudio }),
        ...(entry ? {} : { partial: true }),
        ...(probeError ? { probeError } : {}),
      },
      runId: run.id,
      clockOffsetMs: o.clockOffset.offsetMs(),
    };
    await reportOutages(startMs);
    pendingDeliveries++;
    try {
      await deliver('segment', () => o.sink.segmentClosed(seg));
    } catch (err) {
      log.error('recorder: segment left undelivered in the spool', { cameraKey: o.cameraKey, file: path, sha256, size, err: errText(err) });
      throw err;
    } finally {
      pendingDeliveries--;
    }
    lastEndMs = startMs + durationMs;
    run.closedSegments++;
    // For the start-up recovery after a crash (spool-recovery.ts): this run's wall-clock anchor and where its last
    // delivered segment ended, so that a segment left behind gets the recorder's own timing and never overlaps.
    await writeFileAtomic(runStatePath(run.listPath), JSON.stringify({ anchorMs, lastEndMs } satisfies RunState)).catch((err: unknown) =>
      log.warn('recorder: could not save the run state for crash recovery', { cameraKey: o.cameraKey, runId: run.id, err: errText(err) }),
    );
    log.debug('segment closed', { cameraKey: o.cameraKey, runId: run.id, file: name, start: seg.start.toISOString(), durationMs, size, partial: !entry });
  };

  /**
   * Footage resumes (or the recorder stops) at `endMs`: report what kept it from recording since the last segment.
   * The agent's own downtime comes first, up to this recorder's start; an outage after the start follows it.
   */
  const reportOutages = async (endMs: number) => {
    const from = lastEndMs ?? startedWall;
    if (agentDown) {
      const d = agentDown;
      agentDown = null;
      const split = outage ? Math.min(Math.max(from, startedWall), endMs) : endMs;
      if (split > from) await emitGap(from, split, { reason: 'agent_down', detail: d.detail, attempts: 1, lastDetail: d.detail });
      if (outage) {
        const g = outage;
        outage = null;
        if (endMs > split) await emitGap(split, endMs, g);
      }
      return;
    }
    if (outage) {
      const g = outage;
      outage = null;
      if (endMs > from) await emitGap(from, endMs, g);
    }
  };

  const emitGap = async (startMs: number, endMs: number, g: Outage) => {
    const detail = g.attempts > 1 && g.lastDetail !== g.detail ? `${g.detail} (${g.attempts} attempts; last: ${g.lastDetail})` : g.attempts > 1 ? `${g.detail} (${g.attempts} attempts)` : g.detail;
    const gap: GapReport = { cameraKey: o.cameraKey, start: new Date(startMs), end: new Date(endMs), reason: g.reason, detail: detail.slice(0, 500) };
    await deliver('gap', () => o.sink.gap(gap));
    log.info('gap', { cameraKey: o.cameraKey, start: gap.start.toISOString(), end: gap.end.toISOString(), reason: gap.reason, detail: gap.detail });
  };

  const onInputStreams = (run: Run, streams: InputStreamInfo[]) => {
    const a = streams.find((s) => s.kind === 'audio');
    run.inputAudio = a?.codec ?? null;
    inputAudio = run.inputAudio;
    if ((o.audio ?? 'auto') === 'auto' && run.audioMode === 'copy' && a && a.codec !== 'aac') {
      // MPEG-TS takes G.711 only as an unplayable private stream: restart this run with AAC transcoding.
      audioMode = 'aac';
      run.deliberate = `camera audio ${a.codec} cannot be stream-copied into MPEG-TS; restarted with AAC transcoding`;
      log.info('recorder: switching audio to AAC', { cameraKey: o.cameraKey, runId: run.id, input: a.codec });
      void run.proc.stop();
    }
  };

  const startRun = async (): Promise<Run> => {
    await mkdir(runsDir, { recursive: true });
    let inputUrl: string;
    try {
      inputUrl = typeof o.rtspUrl === 'string' ? o.rtspUrl : await o.rtspUrl();
    } catch (err) {
      throw new StreamUrlError(`cannot get the stream URL: ${errText(err)}`);
    }
    const id = randomUUID();
    const listPath = join(runsDir, `${id}.csv`);
    const pattern = join(o.spoolDir.replace(/%/g, '%%'), `%Y%m%dT%H%M%SZ-${id.slice(0, 8)}.ts`);
    const startedAt = now();
    // The events below only fire from ffmpeg's output, i.e. after `run` is assigned.
    let run: Run;
    const events: SegmenterEvents = {
      onSegmentOpened(path, wallMs) {
        // File names carry the wall-clock second ffmpeg opened them in: a clock stepped back within a run can make
        // ffmpeg reopen (truncate) a name it already wrote. Say so loudly; the earlier segment's hash no longer holds.
        if (run.opened.some((s) => s.path === path)) log.error('recorder: ffmpeg reopened a segment file name it already used (wall clock stepped back?)', { cameraKey: o.cameraKey, runId: run.id, file: basename(path) });
        run.opened.push({ path, wallMs });
        // A new file means packets are flowing: progress for the stall watchdog, as a report would be.
        run.lastAdvanceWall = Math.max(run.lastAdvanceWall, wallMs);
        // A second file means packets flowed through the first (it can close before the first progress report
        // when the cut comes while ffmpeg is still writing out what it buffered during stream analysis).
        if (run.opened.length > 1 && !run.sawPackets) {
          run.sawPackets = true;
          setState('recording');
        }
        while (run.queued < run.opened.length - 1) {
          const i = run.queued++;
          enqueue('closing a segment', () => closeSegment(run, i, false));
        }
      },
      onProgress(outUs, wallMs) {
        run.anchor.add(wallMs, outUs / 1000);
        if (outUs > run.lastOutUs) {
          run.lastOutUs = outUs;
          run.lastAdvanceWall = wallMs;
        }
        if (outUs > 0 && !run.sawPackets) {
          run.sawPackets = true;
          setState('recording');
        }
      },
      onInputStreams: (streams) => onInputStreams(run, streams),
      onOutputStreams(streams) {
        run.outputStreams = streams;
      },
      onStarted(pid) {
        log.info('recorder: ffmpeg started', { cameraKey: o.cameraKey, runId: id, pid, audio: run.audioMode, transport });
      },
    };
    run = {
      id,
      listPath,
      audioMode,
      proc: media.startSegmenter({ inputUrl, transport, timeoutUs, segmentSeconds, outputPattern: pattern, listPath, audio: audioMode }, events),
      anchor: new ClockAnchor(o.anchorWindowMs),
      opened: [],
      queued: 0,
      outputStreams: null,
      appliedAnchorMs: null,
      inputAudio: null,
      lastOutUs: -1,
      lastAdvanceWall: startedAt,
      sawPackets: false,
      stalled: false,
      deliberate: null,
      closedSegments: 0,
    };
    runCount++;
    return run;
  };

  const endRun = (run: Run, end: RunEnd) => {
    // The last opened segment: closed by a clean exit (listed) or cut short by a crash (partial).
    while (run.queued < run.opened.length) {
      const i = run.queued++;
      enqueue('closing the last segment', () => closeSegment(run, i, true));
    }
    enqueue('removing a run list', async () => {
      await unlink(run.listPath).catch(() => undefined);
      await unlink(runStatePath(run.listPath)).catch(() => undefined);
    });
    if (stopping && !end.stalled) return;
    const c = classifyRunEnd(end);
    log.warn('recorder: ffmpeg ended', { cameraKey: o.cameraKey, runId: run.id, code: end.exit.code, signal: end.exit.signal, reason: c.reason, detail: redactCredentials(c.detail), segments: run.opened.length });
    registerOutage(c.reason, c.detail);
  };

  /** Footage stopped (or never started): remember why, for the gap reported when footage resumes. */
  const registerOutage = (reason: GapReason, rawDetail: string) => {
    const detail = redactCredentials(rawDetail);
    lastError = detail;
    // Registered through the queue: after the ended run's own last segment, before the next run's first.
    enqueue('recording an outage', async () => {
      if (!outage) outage = { reason, detail, attempts: 1, lastDetail: detail };
      else {
        outage.attempts++;
        outage.lastDetail = detail;
        // The worst cause wins: a full disk (the store's own fault, it needs someone), then an unreachable camera.
        if (reason === 'disk_full' || (reason === 'camera_offline' && outage.reason !== 'disk_full')) outage.reason = reason;
      }
    });
    setState(reason === 'camera_offline' || state === 'offline' ? 'offline' : 'starting');
  };

  const supervise = async () => {
    const check = () => {
      const run = current;
      if (run && !run.stalled && now() - run.lastAdvanceWall > stallMs) {
        run.stalled = true;
        log.warn('recorder: no progress, stopping ffmpeg', { cameraKey: o.cameraKey, runId: run.id, stallMs });
        // SIGINT first: ffmpeg closes the segment and writes its list line (a listed segment, not a partial one);
        // SIGKILL only if it does not exit within the grace period.
        void run.proc.stop(STALL_STOP_GRACE_MS);
      }
    };
    // At wall-clock multiples of watchdogMs: every camera's check then runs in the same wake-up of the agent.
    let watchdog: NodeJS.Timeout | undefined;
    // The multiple the watchdog was set for: a timer firing a moment early by the wall clock is not set again for it.
    let watchdogAt = -Infinity;
    const arm = () => {
      const now = Date.now();
      const wait = untilNextMultipleAfter(watchdogMs, now, watchdogAt);
      watchdogAt = now + wait;
      watchdog = setTimeout(tick, wait);
      watchdog.unref();
    };
    const tick = () => {
      check();
      arm();
    };
    arm();
    try {
      while (!stopping) {
        let run: Run;
        try {
          run = await startRun();
        } catch (err) {
          if (stopping) break;
          const unreachable = err instanceof StreamUrlError;
          log[unreachable ? 'warn' : 'error']('recorder: cannot start ffmpeg', { cameraKey: o.cameraKey, err: redactCredentials(errText(err)) });
          registerOutage(unreachable ? 'camera_offline' : 'recorder_restart', errText(err));
          await pause(restartBackoff.next());
          continue;
        }
        current = run;
        if (stopping) void run.proc.stop();
        const exit = await run.proc.exited;
        current = null;
        endRun(run, { exit, stalled: run.stalled, deliberate: run.deliberate });
        if (stopping) break;
        // A run that got packets flowing for a while was healthy: restart from the smallest backoff window.
        if (run.sawPackets && run.opened.length > 1) restartBackoff.reset();
        const delay = run.deliberate ? 0 : restartBackoff.next();
        await pause(delay);
      }
    } finally {
      clearTimeout(watchdog);
    }
  };

  const pause = (ms: number) => sleep(ms, stopCtl.signal);

  return {
    start() {
      if (started) return;
      started = true;
      setState('starting');
      supervisor = supervise().catch((err: unknown) => log.error('recorder: supervisor failed', { cameraKey: o.cameraKey, err: errText(err) }));
    },

    async stop() {
      if (stopping) {
        await supervisor;
        await queue.idle();
        return;
      }
      stopping = true;
      stopWall = now();
      stopCtl.abort();
      const run = current;
      if (run) await run.proc.stop();
      await supervisor;
      // Still in an outage when asked to stop: report it up to now.
      enqueue('reporting the open outage', async () => {
        if (started) await reportOutages(stopWall);
      });
      await queue.idle();
      setState('stopped');
    },

    health(): RecorderHealth {
      return {
        cameraKey: o.cameraKey,
        state,
        since: new Date(since),
        runId: current?.id ?? null,
        pid: current?.proc.pid ?? null,
        runs: runCount,
        lastSegmentEnd: lastEndMs === null ? null : new Date(lastEndMs),
        lastError,
        audio: { mode: audioMode, input: inputAudio },
        pendingDeliveries,
      };
    },
  };
}

class StreamUrlError extends Error {}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
