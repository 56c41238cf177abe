/**
 * The durable outbox. The recorder (and later the PBX side) hands it evidence; each hand-over returns only once the
 * item is on disk (temp + fsync + rename + fsync of the folder), and the uploader only ever sees items that are.
 *
 * Layout under `<spoolDir>/outbox/`:
 *   items/<id>.json        pending items (format in items.ts)
 *   acked/<id>.json        acknowledged by the centre; its owned files are being removed (crash-safe cleanup)
 *   quarantine/<id>.json   items the centre permanently refused, with the reason; their files in quarantine/<id>/
 *
 * Every state change is one atomic rename, and recovery at open() finishes any change a crash interrupted, so a
 * kill -9 at any moment loses nothing and duplicates nothing. A local file is deleted only after an ack (or when the
 * disk guard turns a segment into an "evicted" gap, which is written first).
 */
import type { UploadMode } from '@mamoru/contract/enums';
import { EventEmitter } from 'node:events';
import { open, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, isAbsolute } from 'node:path';
import type { ClosedSegment, EvidenceSink, GapReport } from '../contracts.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import { Mutex } from '../lib/mutex.ts';
import { ensureDir, fsyncDir, moveFileDurable, TEMP_PREFIX, unlinkIfExists, writeFileAtomic } from '../state/atomic-file.ts';
import { SentLog, type Span } from './sent-log.ts';
import {
  callItemId,
  gapItemId,
  isBuffered,
  OutboxItemSchema,
  pendingBytes,
  PRIORITY,
  segmentItemId,
  type CallSink,
  type GapItem,
  type OutboxItem,
  type SealedCall,
  type SegmentItem,
} from './items.ts';

export type QuarantineRecord = {
  v: 1;
  id: string;
  quarantinedAt: string;
  reason: string;
  detail: string | null;
  item: OutboxItem;
  /** name → where the file was before it was moved into quarantine/<id>/. */
  originalPaths: Record<string, string>;
};

/**
 * `count`/`bytes`/`byKind`/`oldestAt`: what is still to be sent (the backlog). `buffered`: on-demand segments in the
 * rolling buffer (metadata at the centre, media kept here until a case asks or the buffer expires them).
 */
export type OutboxStats = { count: number; bytes: number; byKind: Record<string, number>; quarantined: number; oldestAt: string | null; buffered: { count: number; bytes: number } };

export type { UploadMode };

/**
 * What `preserveWindow` found for a camera window: local segments (now held), footage the centre already
 * acknowledged (its local files are gone), and gaps (still waiting to be sent, or already accepted by the centre).
 */
export type WindowFindings = {
  segments: { id: string; start: Date; end: Date; sha256: string; size: number; mode: UploadMode; inFlight: boolean }[];
  /** Spans of this camera's footage whose media the centre acknowledged (outbox/sent-log.ts). */
  arrived?: Span[];
  gaps: { start: Date; end: Date; reason: string; detail: string | null }[];
};

type Entry = { item: OutboxItem; atMs: number };

const segEnd = (s: SegmentItem) => Date.parse(s.segment.start) + Math.max(1, s.segment.durationMs);

export class Outbox implements EvidenceSink, CallSink {
  readonly root: string;
  private readonly itemsDir: string;
  private readonly ackedDir: string;
  private readonly quarantineDir: string;
  private readonly index = new Map<string, Entry>();
  private readonly leases = new Set<string>();
  /** Serialises the outbox's mutations (each is a few file operations; none waits on the network). */
  private readonly lock = new Mutex();
  private readonly events = new EventEmitter();
  private seq = 0;
  private quarantined = 0;
  private closed = false;
  /**
   * Whether segments closing inside an open case window are held (never evicted). The disk guard turns this off
   * while held footage alone fills the disk past its limits, so live recording keeps its reserve; they still go first.
   */
  holdNewSegments = true;
  /** Windows a case asked for that are still open: segments closing inside them are held on arrival. */
  private readonly standing = new Map<string, { cameraKey: string; from: number; to: number }>();

  /** What the centre acknowledged after the items were deleted (footage spans, gaps), per camera. */
  sent!: SentLog;

  private constructor(
    readonly spoolDir: string,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly modeOf: (cameraKey: string) => UploadMode | undefined,
  ) {
    this.root = join(spoolDir, 'outbox');
    this.itemsDir = join(this.root, 'items');
    this.ackedDir = join(this.root, 'acked');
    this.quarantineDir = join(this.root, 'quarantine');
    this.events.setMaxListeners(0);
  }

  /**
   * Opens the outbox, finishing whatever a crash interrupted. `cameraModes`: each configured camera's upload mode
   * (default continuous); a camera now configured continuous has its buffered on-demand segments uploaded.
   */
  static async open(opts: { spoolDir: string; log?: Logger; now?: () => number; cameraModes?: Readonly<Record<string, UploadMode>> }): Promise<Outbox> {
    const modes = opts.cameraModes ?? {};
    const ob = new Outbox(opts.spoolDir, opts.log ?? silentLogger, opts.now ?? Date.now, (k) => (Object.hasOwn(modes, k) ? modes[k] : undefined));
    ob.sent = await SentLog.open(join(ob.root, 'sent.json'));
    await ob.recover();
    return ob;
  }

  // ---------------------------------------------------------------- EvidenceSink / CallSink (producers)

  async segmentClosed(seg: ClosedSegment): Promise<void> {
    if (!isAbsolute(seg.path)) throw new Error(`segment path must be absolute: ${seg.path}`);
    await this.lock.run(async () => {
      let id = segmentItemId(seg.cameraKey, seg.start);
      const existing = this.index.get(id)?.item;
      if (existing && existing.kind !== 'segment') return; // already evicted to a gap: its file is gone
      if (existing?.kind === 'segment') {
        if (existing.segment.sha256 === seg.sha256) return; // the same segment again: already durable
        // Another file claims the same start: keep both (the centre will refuse one; it goes to quarantine, not away).
        id = `${id}_${seg.sha256.slice(0, 12)}`;
        if (this.index.has(id)) return;
      }
      // ffmpeg does not fsync: make the media itself durable before the record that points at it.
      await fsyncFile(seg.path);
      // A window a case asked for and that is still open: the segment is held and jumps the queue from the start.
      const startMs = seg.start.getTime();
      const inWindow = this.inStandingWindow(seg.cameraKey, startMs, startMs + Math.max(1, Math.round(seg.durationMs)));
      const held = inWindow && this.holdNewSegments;
      const item: SegmentItem = {
        v: 1,
        id,
        kind: 'segment',
        mode: this.modeOf(seg.cameraKey) ?? 'continuous',
        metaSent: false,
        priority: inWindow ? PRIORITY.caseWindow : PRIORITY.footage,
        at: seg.start.toISOString(),
        seq: this.seq++,
        enqueuedAt: new Date(this.now()).toISOString(),
        held,
        files: [{ name: basename(seg.path), path: seg.path, size: seg.size, sha256: seg.sha256, owned: true, sent: false }],
        cleanup: [],
        segment: {
          cameraKey: seg.cameraKey,
          start: seg.start.toISOString(),
          durationMs: Math.round(seg.durationMs),
          size: seg.size,
          sha256: seg.sha256,
          mediaType: seg.mediaType,
          codec: seg.codec,
          runId: seg.runId,
          clockOffsetMs: seg.clockOffsetMs,
        },
      };
      await this.persist(item);
    });
  }

  async gap(g: GapReport): Promise<void> {
    await this.lock.run(async () => {
      const id = gapItemId(g.cameraKey, g.start, g.end, g.reason);
      if (this.index.has(id)) return;
      const item: GapItem = {
        v: 1,
        id,
        kind: 'gap',
        priority: PRIORITY.footage,
        at: g.start.toISOString(),
        seq: this.seq++,
        enqueuedAt: new Date(this.now()).toISOString(),
        held: false,
        files: [],
        cleanup: [],
        gap: { cameraKey: g.cameraKey, start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason, detail: g.detail },
      };
      await this.persist(item);
    });
  }

  /**
   * A sealed call version (pbx/payload.ts `SealedCall`). Its recordings are the PBX's originals: the outbox records where
   * they are and never moves, modifies or deletes them. The same (callKey, version) again is a no-op.
   */
  async callSealed(call: SealedCall): Promise<void> {
    const { files, callKey, version, ...payload } = call;
    const declared = new Map(call.recordings.map((r) => [r.name, r]));
    for (const name of Object.keys(files)) {
      if (!declared.has(name)) throw new Error(`call ${callKey} v${version}: file '${name}' is not among its recordings`);
      if (!isAbsolute(files[name]!)) throw new Error(`call ${callKey}: recording path must be absolute`);
    }
    await this.lock.run(async () => {
      const id = callItemId(callKey, version);
      if (this.index.has(id)) return;
      const startMs = Date.parse(call.times.startUtc);
      await this.persist({
        v: 1,
        id,
        kind: 'call',
        priority: PRIORITY.call,
        at: new Date(Number.isNaN(startMs) ? this.now() : startMs).toISOString(),
        seq: this.seq++,
        enqueuedAt: new Date(this.now()).toISOString(),
        held: false,
        files: Object.entries(files).map(([name, path]) => {
          const r = declared.get(name)!;
          return { name, path, size: r.size, sha256: r.sha256, owned: false, sent: false };
        }),
        cleanup: [],
        call: { callKey, version, payload: payload as unknown as Record<string, unknown>, metaSent: false },
      });
    });
  }

  // ---------------------------------------------------------------- consumers (uploader, disk guard)

  /** The next item to send: lowest priority number, then oldest capture time, then enqueue order. Skips leased ones. */
  peek(): OutboxItem | undefined {
    let best: Entry | undefined;
    for (const e of this.index.values()) {
      if (this.leases.has(e.item.id) || this.buffered(e.item)) continue;
      if (!best || compare(e, best) < 0) best = e;
    }
    return best?.item;
  }

  /**
   * The live lane's next item (uploader.ts): of each camera's newest footage segment that ended at or after
   * `endedSinceMs` and is not being sent, the oldest. So new footage reaches the centre within seconds while an old
   * backlog drains oldest first (segments the live lane does not get to stay with the main lane). Nothing while any
   * case window or call is pending: those keep the lead the send order gives them.
   */
  peekLive(endedSinceMs: number): OutboxItem | undefined {
    const newest = new Map<string, Entry>();
    for (const e of this.index.values()) {
      const it = e.item;
      if (it.priority < PRIORITY.footage) return undefined;
      if (it.kind !== 'segment' || this.buffered(it)) continue;
      const cur = newest.get(it.segment.cameraKey);
      if (!cur || e.atMs > cur.atMs) newest.set(it.segment.cameraKey, e);
    }
    let best: Entry | undefined;
    for (const e of newest.values()) {
      if (this.leases.has(e.item.id) || segEnd(e.item as SegmentItem) < endedSinceMs) continue;
      if (!best || compare(e, best) < 0) best = e;
    }
    return best?.item;
  }

  /** Whether an item waits in the on-demand rolling buffer (not sent unless a case asks for it). */
  buffered(item: OutboxItem): boolean {
    return item.kind === 'segment' && isBuffered(item, this.modeOf(item.segment.cameraKey) === 'continuous');
  }

  /** Whether the uploader sends only this segment's metadata (on-demand, no case asked, camera still on-demand). */
  sendsMetaOnly(item: SegmentItem): boolean {
    return isBuffered({ ...item, metaSent: true }, this.modeOf(item.segment.cameraKey) === 'continuous');
  }

  /** All pending items (buffered ones included) in send order. */
  list(): OutboxItem[] {
    return [...this.index.values()].sort(compare).map((e) => e.item);
  }

  get(id: string): OutboxItem | undefined {
    return this.index.get(id)?.item;
  }

  /** Marks an item as being worked on (upload or eviction) so nothing else touches it. */
  lease(id: string): boolean {
    if (!this.index.has(id) || this.leases.has(id)) return false;
    this.leases.add(id);
    return true;
  }

  release(id: string): void {
    this.leases.delete(id);
  }

  isLeased(id: string): boolean {
    return this.leases.has(id);
  }

  /** Resolves when an item is added (or after `timeoutMs`, or when the signal aborts). */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off('added', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.events.on('added', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * The centre acknowledged the item: remove it and the files the agent owns. First the record moves to acked/
   * (one rename), then the files go, then the record. Recovery repeats the last two steps.
   */
  async ack(id: string): Promise<void> {
    await this.lock.run(async () => {
      const e = this.index.get(id);
      if (!e) return;
      await ensureDir(this.ackedDir);
      await moveFileDurable(this.itemPath(id), join(this.ackedDir, `${id}.json`));
      this.index.delete(id);
      this.leases.delete(id);
      await this.removeOwnedFiles(e.item);
      await unlinkIfExists(join(this.ackedDir, `${id}.json`));
      await this.rememberSent(e.item);
    });
  }

  /** After the item is gone: a case window reports it as arrived, the downtime check as the camera's last footage. */
  private async rememberSent(it: OutboxItem) {
    try {
      if (it.kind === 'segment') await this.sent.footageSent(it.segment.cameraKey, { start: Date.parse(it.segment.start), end: segEnd(it) });
      else if (it.kind === 'gap') await this.sent.gapSent(it.gap.cameraKey, { start: Date.parse(it.gap.start), end: Date.parse(it.gap.end), reason: it.gap.reason });
    } catch (err) {
      this.log.warn('could not record an acknowledged item in the sent log', { id: it.id, error: err as Error });
    }
  }

  /**
   * Where this camera's record ends: the latest end of its pending segments and gaps and of what the centre already
   * acknowledged. Null when the agent has nothing of the camera (never recorded, or forgotten).
   */
  coveredUntil(cameraKey: string): number | null {
    let end = this.sent.lastEnd(cameraKey);
    for (const { item } of this.index.values()) {
      const e = item.kind === 'segment' && item.segment.cameraKey === cameraKey ? segEnd(item) : item.kind === 'gap' && item.gap.cameraKey === cameraKey ? Date.parse(item.gap.end) : null;
      if (e !== null && (end === null || e > end)) end = e;
    }
    return end;
  }

  /** Records progress inside a multi-part item (call metadata or one recording acknowledged). */
  async update(id: string, change: (item: OutboxItem) => void): Promise<OutboxItem | undefined> {
    return this.lock.run(async () => {
      const e = this.index.get(id);
      if (!e) return undefined;
      const next = structuredClone(e.item);
      change(next);
      const valid = OutboxItemSchema.parse(next);
      await writeFileAtomic(this.itemPath(id), `${JSON.stringify(valid)}\n`);
      e.item = valid;
      return valid;
    });
  }

  /**
   * The centre refused the item for good: it is never deleted, it moves to quarantine with the reason. Returns the
   * quarantine record's path.
   */
  async quarantine(id: string, reason: string, detail: string | null = null): Promise<string | undefined> {
    return this.lock.run(async () => {
      const e = this.index.get(id);
      if (!e) return undefined;
      const rec: QuarantineRecord = { v: 1, id, quarantinedAt: new Date(this.now()).toISOString(), reason, detail, item: e.item, originalPaths: {} };
      const dir = join(this.quarantineDir, id);
      for (const f of e.item.files) {
        if (!f.owned) continue; // not ours to move (e.g. a PBX recording): the record keeps its path
        rec.originalPaths[f.name] = f.path;
      }
      rec.item = { ...e.item, files: e.item.files.map((f) => (f.owned ? { ...f, path: join(dir, f.name) } : f)) } as OutboxItem;
      const recPath = join(this.quarantineDir, `${id}.json`);
      await writeFileAtomic(recPath, `${JSON.stringify(rec, null, 2)}\n`);
      await this.finishQuarantine(rec);
      this.index.delete(id);
      this.leases.delete(id);
      this.quarantined++;
      return recPath;
    });
  }

  /**
   * Disk guard: replaces a pending segment by an "evicted" gap for the same time (written durably first, under the
   * same id), then deletes the media. Refuses held, leased or non-segment items. Returns the bytes freed.
   */
  async evictSegment(id: string, detail: string): Promise<number> {
    return this.lock.run(async () => {
      const e = this.index.get(id);
      if (!e || e.item.kind !== 'segment' || e.item.held || this.leases.has(id)) return 0;
      const seg = e.item;
      const end = new Date(Date.parse(seg.segment.start) + Math.max(1, seg.segment.durationMs));
      const gap: GapItem = {
        v: 1,
        id,
        kind: 'gap',
        priority: seg.priority,
        at: seg.at,
        seq: seg.seq,
        enqueuedAt: seg.enqueuedAt,
        held: false,
        files: [],
        cleanup: seg.files.filter((f) => f.owned).map((f) => f.path),
        gap: {
          cameraKey: seg.segment.cameraKey,
          start: seg.segment.start,
          end: end.toISOString(),
          reason: 'evicted',
          detail: `${detail}; segment sha256 ${seg.segment.sha256}, ${seg.segment.size} bytes`.slice(0, 2000),
        },
      };
      await writeFileAtomic(this.itemPath(id), `${JSON.stringify(gap)}\n`);
      e.item = gap;
      await this.runCleanup(gap.cleanup);
      return pendingBytes(seg);
    });
  }

  /**
   * A case asked for a camera window [from, to): every local segment of the camera overlapping it is held (never
   * evicted, kept past the rolling buffer) and moves to case priority, ahead of everything else; buffered on-demand
   * segments thereby get their media uploaded. Also reports the gaps still waiting to be sent in that window.
   * Idempotent.
   */
  async preserveWindow(cameraKey: string, from: Date, to: Date): Promise<WindowFindings> {
    return this.lock.run(async () => {
      const found: WindowFindings = { segments: [], gaps: [] };
      const [a, b] = [from.getTime(), to.getTime()];
      let changed = false;
      for (const e of [...this.index.values()].sort(compare)) {
        const it = e.item;
        if (it.kind === 'gap' && it.gap.cameraKey === cameraKey && Date.parse(it.gap.start) < b && Date.parse(it.gap.end) > a) {
          found.gaps.push({ start: new Date(it.gap.start), end: new Date(it.gap.end), reason: it.gap.reason, detail: it.gap.detail });
        }
        if (it.kind !== 'segment' || it.segment.cameraKey !== cameraKey) continue;
        const start = Date.parse(it.segment.start);
        const end = segEnd(it);
        if (!(start < b && end > a)) continue;
        if (!it.held || it.priority !== PRIORITY.caseWindow) {
          const next: SegmentItem = { ...it, held: true, priority: PRIORITY.caseWindow };
          await writeFileAtomic(this.itemPath(it.id), `${JSON.stringify(next)}\n`);
          e.item = next;
          changed = true;
        }
        found.segments.push({ id: it.id, start: new Date(start), end: new Date(end), sha256: it.segment.sha256, size: it.segment.size, mode: it.mode, inFlight: this.leases.has(it.id) });
      }
      if (changed) this.events.emit('added');
      found.segments.sort((x, y) => x.start.getTime() - y.start.getTime());
      found.arrived = this.sent.footage(cameraKey, a, b);
      for (const g of this.sent.gaps(cameraKey, a, b)) found.gaps.push({ start: new Date(g.start), end: new Date(g.end), reason: g.reason, detail: null });
      return found;
    });
  }

  /** The older form of `preserveWindow`: answers how many local segments the window holds. */
  async requestWindow(cameraKey: string, from: Date, to: Date): Promise<number> {
    return (await this.preserveWindow(cameraKey, from, to)).segments.length;
  }

  /** Keeps a case's window open: segments of the camera that close later and overlap it are held on arrival. */
  addStandingWindow(key: string, w: { cameraKey: string; from: Date; to: Date }): void {
    this.standing.set(key, { cameraKey: w.cameraKey, from: w.from.getTime(), to: w.to.getTime() });
  }

  removeStandingWindow(key: string): void {
    this.standing.delete(key);
  }

  private inStandingWindow(cameraKey: string, start: number, end: number): boolean {
    for (const w of this.standing.values()) if (w.cameraKey === cameraKey && start < w.to && end > w.from) return true;
    return false;
  }

  /**
   * Rolling buffer: buffered on-demand segments that ended before `cutoff` (metadata acknowledged by the centre, no
   * case asked for them) are deleted here. Each run of contiguous segments of a camera becomes one "evicted" gap,
   * written durably first (its cleanup list names the files), so the centre learns the media is gone from the store.
   * Held, in-flight and unacknowledged segments are never touched. Returns the segments expired and bytes freed.
   */
  async expireBuffered(cutoff: Date, detail: string): Promise<{ expired: string[]; bytes: number; gaps: number }> {
    return this.lock.run(async () => {
      const out = { expired: [] as string[], bytes: 0, gaps: 0 };
      const due = [...this.index.values()]
        .map((e) => e.item)
        .filter((it): it is SegmentItem => it.kind === 'segment' && this.buffered(it) && !this.leases.has(it.id) && segEnd(it) <= cutoff.getTime())
        .sort((x, y) => x.segment.cameraKey.localeCompare(y.segment.cameraKey) || Date.parse(x.segment.start) - Date.parse(y.segment.start));
      // Runs of contiguous segments per camera (a hole of more than half a second starts a new run).
      const runs: SegmentItem[][] = [];
      for (const it of due) {
        const run = runs[runs.length - 1];
        const last = run?.[run.length - 1];
        if (last && last.segment.cameraKey === it.segment.cameraKey && Math.abs(Date.parse(it.segment.start) - segEnd(last)) <= 500) run!.push(it);
        else runs.push([it]);
      }
      for (const run of runs) {
        const first = run[0]!;
        const start = new Date(first.segment.start);
        const end = new Date(segEnd(run[run.length - 1]!));
        const id = gapItemId(first.segment.cameraKey, start, end, 'evicted');
        const files = run.flatMap((it) => it.files.filter((f) => f.owned).map((f) => f.path));
        if (!this.index.has(id)) {
          const gap: GapItem = {
            v: 1,
            id,
            kind: 'gap',
            priority: PRIORITY.footage,
            at: first.at,
            seq: this.seq++,
            enqueuedAt: new Date(this.now()).toISOString(),
            held: false,
            files: [],
            cleanup: files,
            gap: { cameraKey: first.segment.cameraKey, start: start.toISOString(), end: end.toISOString(), reason: 'evicted', detail: `${detail}; ${run.length} segment(s)`.slice(0, 2000) },
          };
          await this.persist(gap);
          out.gaps++;
        }
        for (const it of run) {
          await unlinkIfExists(this.itemPath(it.id));
          this.index.delete(it.id);
          out.expired.push(it.id);
          out.bytes += pendingBytes(it);
        }
        await fsyncDir(this.itemsDir);
        await this.runCleanup(files);
      }
      return out;
    });
  }

  /** Routine segments the disk guard may evict, oldest first. */
  evictionCandidates(): SegmentItem[] {
    return [...this.index.values()]
      .filter(({ item }) => item.kind === 'segment' && !item.held && !this.leases.has(item.id))
      .sort((a, b) => a.atMs - b.atMs || a.item.seq - b.item.seq)
      .map(({ item }) => item as SegmentItem);
  }

  stats(): OutboxStats {
    let bytes = 0;
    let oldest: number | null = null;
    const byKind: Record<string, number> = {};
    let count = 0;
    const buffered = { count: 0, bytes: 0 };
    for (const { item, atMs } of this.index.values()) {
      if (this.buffered(item)) {
        buffered.count++;
        buffered.bytes += pendingBytes(item);
        continue;
      }
      count++;
      bytes += pendingBytes(item);
      byKind[item.kind] = (byKind[item.kind] ?? 0) + 1;
      if (oldest === null || atMs < oldest) oldest = atMs;
    }
    return { count, bytes, byKind, quarantined: this.quarantined, oldestAt: oldest === null ? null : new Date(oldest).toISOString(), buffered };
  }

  /** Quarantine records (for `status` and tests). */
  async listQuarantine(): Promise<QuarantineRecord[]> {
    const out: QuarantineRecord[] = [];
    for (const name of await readdir(this.quarantineDir).catch(() => [] as string[])) {
      if (!name.endsWith('.json') || name.startsWith(TEMP_PREFIX)) continue;
      try {
        out.push(JSON.parse(await readFile(join(this.quarantineDir, name), 'utf8')) as QuarantineRecord);
      } catch {
        /* a damaged-item note (see recover) is not a record */
      }
    }
    return out.sort((a, b) => a.quarantinedAt.localeCompare(b.quarantinedAt));
  }

  /** Waits for in-progress mutations; producers must not be called afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.lock.run(async () => undefined);
  }

  // ---------------------------------------------------------------- internals

  private itemPath(id: string) {
    return join(this.itemsDir, `${id}.json`);
  }

  private async persist(item: OutboxItem) {
    if (this.closed) throw new Error('outbox is closed');
    const valid = OutboxItemSchema.parse(item);
    await writeFileAtomic(this.itemPath(valid.id), `${JSON.stringify(valid)}\n`);
    this.index.set(valid.id, { item: valid, atMs: Date.parse(valid.at) });
    this.events.emit('added');
  }

  private async removeOwnedFiles(item: OutboxItem) {
    await this.runCleanup([...item.files.filter((f) => f.owned).map((f) => f.path), ...item.cleanup]);
  }

  private async runCleanup(paths: string[]) {
    const dirs = new Set<string>();
    for (const p of paths) if (await unlinkIfExists(p)) dirs.add(dirname(p));
    for (const d of dirs) await fsyncDir(d).catch(() => undefined);
  }

  private async finishQuarantine(rec: QuarantineRecord) {
    const dir = join(this.quarantineDir, rec.id);
    await ensureDir(dir);
    for (const [name, from] of Object.entries(rec.originalPaths)) await moveFileDurable(from, join(dir, name));
    await unlinkIfExists(this.itemPath(rec.id));
    await fsyncDir(this.itemsDir);
  }

  private async recover() {
    for (const d of [this.itemsDir, this.ackedDir, this.quarantineDir]) await ensureDir(d);
    // Half-written temp files never became items: their producer had not been told "durable" yet.
    for (const d of [this.itemsDir, this.ackedDir, this.quarantineDir]) {
      for (const name of await readdir(d)) if (name.startsWith(TEMP_PREFIX)) await unlinkIfExists(join(d, name));
    }
    // Acknowledged items whose cleanup was interrupted.
    for (const name of await readdir(this.ackedDir)) {
      if (!name.endsWith('.json')) continue;
      const p = join(this.ackedDir, name);
      const parsed = OutboxItemSchema.safeParse(JSON.parse(await readFile(p, 'utf8').catch(() => 'null')));
      if (parsed.success) {
        await this.removeOwnedFiles(parsed.data);
        await this.rememberSent(parsed.data);
      }
      await unlinkIfExists(p);
    }
    // Quarantines interrupted between the record and the removal of the item.
    for (const name of await readdir(this.quarantineDir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.quarantineDir, name), 'utf8')) as QuarantineRecord;
        if (rec.v !== 1 || !rec.id) continue;
        this.quarantined++;
        // Finish only if the pending item is the very one that was being quarantined (same enqueue identity).
        const pending = await readFile(this.itemPath(rec.id), 'utf8').then((t) => JSON.parse(t) as OutboxItem, () => undefined);
        if (pending && pending.seq === rec.item.seq && pending.enqueuedAt === rec.item.enqueuedAt) await this.finishQuarantine(rec);
      } catch {
        /* damaged note */
      }
    }
    // Pending items.
    for (const name of await readdir(this.itemsDir)) {
      if (!name.endsWith('.json')) continue;
      const p = join(this.itemsDir, name);
      let item: OutboxItem;
      try {
        item = OutboxItemSchema.parse(JSON.parse(await readFile(p, 'utf8')));
      } catch (e) {
        // Only a disk fault can produce this (writes are atomic). Keep the bytes for a person to look at.
        const dest = join(this.quarantineDir, `${name}.damaged`);
        await moveFileDurable(p, dest);
        this.log.error('outbox item unreadable; moved aside', { file: dest, error: (e as Error).message });
        continue;
      }
      this.index.set(item.id, { item, atMs: Date.parse(item.at) });
      if (item.seq >= this.seq) this.seq = item.seq + 1;
    }
    // A rolling-buffer expiry interrupted after its gap was written: finish it (its segments' records go too).
    const cleaning = new Set([...this.index.values()].flatMap((e) => e.item.cleanup));
    for (const e of [...this.index.values()]) {
      if (e.item.kind === 'segment' && !e.item.held && e.item.files.some((f) => f.owned && cleaning.has(f.path))) {
        await unlinkIfExists(this.itemPath(e.item.id));
        this.index.delete(e.item.id);
      }
    }
    for (const e of this.index.values()) if (e.item.cleanup.length > 0) await this.runCleanup(e.item.cleanup);
    await fsyncDir(this.root).catch(() => undefined);
    const s = this.stats();
    this.log.info('outbox opened', { dir: this.root, pending: s.count, bytes: s.bytes, quarantined: s.quarantined });
  }
}

/** fsync of a file someone else wrote, and of its folder entry. */
async function fsyncFile(path: string) {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
}

function compare(a: Entry, b: Entry) {
  return a.item.priority - b.item.priority || a.atMs - b.atMs || a.item.seq - b.item.seq;
}
