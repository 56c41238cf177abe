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
import { EventEmitter } from 'node:events';
import { open, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, isAbsolute } from 'node:path';
import type { ClosedSegment, EvidenceSink, GapReport } from '../contracts.ts';
import { silentLogger, type Logger } from '../cli/logger.ts';
import { ensureDir, fsyncDir, moveFileDurable, TEMP_PREFIX, unlinkIfExists, writeFileAtomic } from '../state/atomic-file.ts';
import {
  callItemId,
  gapItemId,
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

/** Serialises the outbox's mutations (each is a few file operations; none waits on the network). */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

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

export type OutboxStats = { count: number; bytes: number; byKind: Record<string, number>; quarantined: number; oldestAt: string | null };

type Entry = { item: OutboxItem; atMs: number };

export class Outbox implements EvidenceSink, CallSink {
  readonly root: string;
  private readonly itemsDir: string;
  private readonly ackedDir: string;
  private readonly quarantineDir: string;
  private readonly index = new Map<string, Entry>();
  private readonly leases = new Set<string>();
  private readonly lock = new Mutex();
  private readonly events = new EventEmitter();
  private seq = 0;
  private quarantined = 0;
  private closed = false;

  private constructor(
    readonly spoolDir: string,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.root = join(spoolDir, 'outbox');
    this.itemsDir = join(this.root, 'items');
    this.ackedDir = join(this.root, 'acked');
    this.quarantineDir = join(this.root, 'quarantine');
    this.events.setMaxListeners(0);
  }

  /** Opens the outbox, finishing whatever a crash interrupted. */
  static async open(opts: { spoolDir: string; log?: Logger; now?: () => number }): Promise<Outbox> {
    const ob = new Outbox(opts.spoolDir, opts.log ?? silentLogger, opts.now ?? Date.now);
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
      const item: SegmentItem = {
        v: 1,
        id,
        kind: 'segment',
        priority: PRIORITY.footage,
        at: seg.start.toISOString(),
        seq: this.seq++,
        enqueuedAt: new Date(this.now()).toISOString(),
        held: false,
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
   * A sealed call version (CALL-CONTRACT.md §3). Its recordings are the PBX's originals: the outbox records where
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
      if (this.leases.has(e.item.id)) continue;
      if (!best || compare(e, best) < 0) best = e;
    }
    return best?.item;
  }

  /** All pending items in send order. */
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
    });
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
   * A case asked for a camera window: its pending segments jump the queue and are held (never evicted).
   * Returns how many items changed.
   */
  async requestWindow(cameraKey: string, from: Date, to: Date): Promise<number> {
    const ids = [...this.index.values()]
      .filter(({ item }) => item.kind === 'segment' && item.segment.cameraKey === cameraKey)
      .filter(({ item }) => {
        const s = item as SegmentItem;
        const start = Date.parse(s.segment.start);
        return start < to.getTime() && start + s.segment.durationMs > from.getTime();
      })
      .map(({ item }) => item.id);
    let n = 0;
    for (const id of ids) {
      const r = await this.update(id, (it) => {
        if (it.kind !== 'segment') return;
        it.priority = PRIORITY.caseWindow;
        it.held = true;
      });
      if (r) n++;
    }
    return n;
  }

  /** Routine segments the disk guard may evict, oldest first. */
  evictionCandidates(): SegmentItem[] {
    return [...this.index.values()]
      .filter(({ item }) => item.kind === 'segment' && !item.held && item.priority >= PRIORITY.footage && !this.leases.has(item.id))
      .sort((a, b) => a.atMs - b.atMs || a.item.seq - b.item.seq)
      .map(({ item }) => item as SegmentItem);
  }

  stats(): OutboxStats {
    let bytes = 0;
    let oldest: number | null = null;
    const byKind: Record<string, number> = {};
    for (const { item, atMs } of this.index.values()) {
      bytes += pendingBytes(item);
      byKind[item.kind] = (byKind[item.kind] ?? 0) + 1;
      if (oldest === null || atMs < oldest) oldest = atMs;
    }
    return { count: this.index.size, bytes, byKind, quarantined: this.quarantined, oldestAt: oldest === null ? null : new Date(oldest).toISOString() };
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
      if (parsed.success) await this.removeOwnedFiles(parsed.data);
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
      if (item.cleanup.length > 0) await this.runCleanup(item.cleanup);
      this.index.set(item.id, { item, atMs: Date.parse(item.at) });
      if (item.seq >= this.seq) this.seq = item.seq + 1;
    }
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
