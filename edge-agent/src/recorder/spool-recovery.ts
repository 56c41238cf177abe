/**
 * Recovery of a camera spool at agent start-up, before the recorders start (docs/recorder.md, "Recovery at
 * start-up"). A kill -9 of the agent leaves behind segment files nobody hashed or handed to the outbox: the segment
 * ffmpeg was writing (ffmpeg gets SIGTERM through --pdeathsig, finishes it and writes its list line), and any segment
 * that closed while its outbox record was not yet written. Each such orphan is measured, hashed and handed to the
 * outbox like the recorder would have; run lists that no file needs any more are removed.
 *
 * Idempotent: a file is an orphan only while no outbox item names its path, and the outbox record is the last step,
 * so a crash during recovery leaves the rest for the next start and never enqueues a file twice.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ClockOffsetSource, ClosedSegment, EvidenceSink } from '../contracts.ts';
import { sleep } from '../lib/backoff.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { parseSegmentList, type MediaTool, type ProbeResult, type SegmentListEntry } from '../media/media-tool.ts';
import type { OutboxItem } from '../outbox/items.ts';
import { TEMP_PREFIX } from '../state/atomic-file.ts';
import { sha256SpoolFile } from '../state/file-hash.ts';
import { MPEGTS_MUX_OFFSET_S, runStatePath, segmentCodecFacts, type RunState } from './camera-recorder.ts';

export type SpoolRecoveryDeps = {
  /** The outbox: what it already knows (pending items) and where recovered segments go. */
  outbox: EvidenceSink & { list(): OutboxItem[] };
  /** Only `probe` is used (codec facts; duration of a file without a list line). */
  media: Pick<MediaTool, 'probe'>;
  clockOffset: ClockOffsetSource;
  log?: Logger;
  /** Agent wall clock (default Date.now). */
  now?: () => number;
  /**
   * A file written to less than this long ago may still be growing (an ffmpeg of the killed agent finishing its
   * segment after SIGTERM): recovery waits until it has been quiet this long (default 2 s).
   */
  settleMs?: number;
};

export type RecoveredFile = { file: string; outcome: 'enqueued' | 'empty_deleted' | 'unplayable' | 'failed'; start?: Date; durationMs?: number; partial?: boolean; error?: string };
export type SpoolRecoveryReport = { cameraKey: string; files: RecoveredFile[]; listsRemoved: string[] };

const SEGMENT_NAME = /-([0-9a-f]{8})\.ts$/;
const LIST_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.csv$/i;

/** Recovers one camera's spool folder. Never throws for a single bad file: it is logged and left for the next start. */
export async function recoverCameraSpool(deps: SpoolRecoveryDeps, cameraKey: string, spoolDir: string): Promise<SpoolRecoveryReport> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const settleMs = deps.settleMs ?? 2000;
  const dir = resolve(spoolDir);
  const runsDir = join(dir, '.runs');
  const report: SpoolRecoveryReport = { cameraKey, files: [], listsRemoved: [] };

  const names = await readdir(dir).catch(() => [] as string[]);
  const known = new Set<string>();
  // Ends of this camera's segments the outbox holds, with their starts (a recovered segment never overlaps them).
  const segments: Array<{ start: number; end: number }> = [];
  for (const item of deps.outbox.list()) {
    for (const f of item.files) known.add(resolve(f.path));
    for (const p of item.cleanup) known.add(resolve(p));
    if (item.kind === 'segment' && item.segment.cameraKey === cameraKey) {
      const start = Date.parse(item.segment.start);
      segments.push({ start, end: start + Math.max(1, item.segment.durationMs) });
    }
  }
  const orphans = names.filter((n) => n.endsWith('.ts') && !n.startsWith(TEMP_PREFIX) && !n.startsWith('.') && !known.has(join(dir, n))).sort();

  const listFiles = async () => (await readdir(runsDir).catch(() => [] as string[])).filter((n) => LIST_NAME.test(n));
  const readList = async (n: string): Promise<SegmentListEntry[]> => parseSegmentList(await readFile(join(runsDir, n), 'utf8').catch(() => ''));
  const left = new Set<string>(); // orphans not recovered this time (their lists stay)
  const clampedRuns = new Set<string>(); // runs whose saved last end is already among `segments`

  for (const name of orphans) {
    const path = join(dir, name);
    try {
      // An ffmpeg of the previous agent may still be writing it (it got SIGTERM when the agent died): wait until quiet.
      let st = await stat(path);
      for (let i = 0; i < 30 && now() - st.mtimeMs < settleMs; i++) {
        await sleep(Math.min(settleMs, Math.max(50, settleMs - (now() - st.mtimeMs))));
        st = await stat(path);
      }
      if (!st.isFile()) continue;
      if (st.size === 0) {
        await unlink(path);
        log.info('recovery: empty segment file deleted', { cameraKey, file: name });
        report.files.push({ file: name, outcome: 'empty_deleted' });
        continue;
      }
      // The run this file belongs to: its list is `.runs/<runId>.csv`, the file name ends with the runId's first 8.
      const run8 = SEGMENT_NAME.exec(name)?.[1];
      let entry: SegmentListEntry | undefined;
      let runId: string | undefined;
      for (const l of await listFiles()) {
        const id = LIST_NAME.exec(l)![1]!.toLowerCase();
        const e = (await readList(l)).find((x) => x.file === name);
        if (e) {
          entry = e;
          runId = id;
          break;
        }
        if (run8 && id.startsWith(run8)) runId = id;
      }
      runId ??= deterministicUuid(`${cameraKey}/${run8 ?? name}`);
      const listed = entry !== undefined && entry.endS > entry.startS;
      let probe: ProbeResult | null = null;
      let probeError: string | null = null;
      try {
        probe = await deps.media.probe(path);
      } catch (err) {
        probeError = errText(err);
      }
      const hasVideo = probe !== null && probe.streams.some((s) => s.kind === 'video');
      const probedS = probe !== null && (probe.durationS ?? 0) > 0 ? probe.durationS! : null;
      if (!listed && (!hasVideo || probedS === null)) {
        await rename(path, `${path}.unplayable`);
        log.warn('recovery: segment not playable, set aside', { cameraKey, file: `${name}.unplayable`, size: st.size, probeError });
        report.files.push({ file: name, outcome: 'unplayable', ...(probeError ? { error: probeError } : {}) });
        continue;
      }
      const durationMs = Math.round((listed ? entry!.endS - entry!.startS : probedS!) * 1000);
      // Made durable by the outbox (segmentClosed fsyncs the file and its folder entry before its record).
      const { sha256, size } = await sha256SpoolFile(path);
      // Timing: the run's saved wall-clock anchor plus the segment's stream start, as the recorder would have
      // computed it (exactly contiguous with the run's delivered segments). Without a saved state (the run closed
      // no segment before the crash): ffmpeg wrote the last packet just before the file's modification time, so the
      // segment started about one duration earlier.
      const state = runId ? await readRunState(join(runsDir, `${runId}.csv`)) : null;
      const streamStartS = listed ? entry!.startS : probe?.startTimeS != null ? probe.startTimeS - MPEGTS_MUX_OFFSET_S : null;
      const mtimeMs = (await stat(path)).mtimeMs;
      const estimate = state && streamStartS !== null ? Math.round(state.anchorMs + streamStartS * 1000) : Math.round(mtimeMs - durationMs);
      // Never overlap a segment of this camera the outbox holds, one recovered just before, or the last one the dead
      // recorder delivered (it may be acknowledged and gone from the outbox): the start moves to the previous end.
      if (state && !clampedRuns.has(runId)) {
        segments.push({ start: Number.MIN_SAFE_INTEGER, end: state.lastEndMs });
        clampedRuns.add(runId);
      }
      const prevEnd = segments.filter((s) => s.start <= estimate).reduce<number | null>((m, s) => (m === null || s.end > m ? s.end : m), null);
      const start = prevEnd !== null && prevEnd > estimate ? prevEnd : estimate;
      if (start !== estimate) log[start - estimate > 250 ? 'warn' : 'debug']('recovery: segment start moved past the previous segment end', { cameraKey, file: name, shiftMs: start - estimate });
      const next = segments.find((s) => s.start >= estimate && s.start < start + durationMs);
      if (next) log.warn('recovery: recovered segment overlaps a later one (the centre may refuse it; it is then quarantined, not lost)', { cameraKey, file: name });
      const seg: ClosedSegment = {
        cameraKey,
        path,
        start: new Date(start),
        durationMs,
        size,
        sha256,
        mediaType: 'video/mp2t',
        codec: {
          ...segmentCodecFacts(probe?.streams ?? []),
          recovered: true,
          ...(listed ? {} : { partial: true }),
          ...(probeError ? { probeError } : {}),
        },
        runId,
        clockOffsetMs: deps.clockOffset.offsetMs(),
      };
      await deps.outbox.segmentClosed(seg);
      segments.push({ start, end: start + Math.max(1, durationMs) });
      log.info('recovery: segment left by the previous agent handed to the outbox', { cameraKey, file: name, start: seg.start.toISOString(), durationMs, size, sha256, partial: !listed, runId });
      report.files.push({ file: name, outcome: 'enqueued', start: seg.start, durationMs, partial: !listed });
    } catch (err) {
      left.add(name);
      log.error('recovery: segment left in the spool (retried at the next start)', { cameraKey, file: name, err: errText(err) });
      report.files.push({ file: name, outcome: 'failed', error: errText(err) });
    }
  }

  // Run lists serve only the recorder that wrote them (dead now) and this recovery: keep a list only while it names,
  // or by its runId prefix owns, a file that is still waiting for recovery.
  for (const l of await listFiles()) {
    const id = LIST_NAME.exec(l)![1]!.toLowerCase();
    const named = new Set((await readList(l)).map((e) => e.file));
    const needed = [...left].some((n) => named.has(n) || SEGMENT_NAME.exec(n)?.[1] === id.slice(0, 8));
    if (needed) continue;
    await unlink(join(runsDir, l)).catch(() => undefined);
    await unlink(runStatePath(join(runsDir, l))).catch(() => undefined);
    report.listsRemoved.push(l);
  }
  if (report.listsRemoved.length > 0) log.debug('recovery: stale run lists removed', { cameraKey, lists: report.listsRemoved });
  return report;
}

async function readRunState(listPath: string): Promise<RunState | null> {
  try {
    const s = JSON.parse(await readFile(runStatePath(listPath), 'utf8')) as Partial<RunState>;
    return Number.isFinite(s.anchorMs) && Number.isFinite(s.lastEndMs) ? { anchorMs: s.anchorMs!, lastEndMs: s.lastEndMs! } : null;
  } catch {
    return null;
  }
}

/** A stable UUID-shaped id (version 5 layout over SHA-256) for a run whose list is gone: every file of it gets the same. */
export function deterministicUuid(key: string): string {
  const h = createHash('sha256').update(`mamoru-recovered-run:${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
