/**
 * The sealed-call ledger: a write-ahead journal of every version handed to the sink.
 *
 *   intent(key, version, hash, payload) → fsync → sink.callSealed(...) → done(key, version) → fsync
 *
 * After a crash an intent without its `done` is delivered again with the SAME version and content (the outbox and
 * the centre are idempotent on that), so a version number is never reused for different content. A new seal whose
 * content hash equals the last sealed version's is a no-op; anything else becomes version + 1.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Journal } from './atomic.ts';
import type { Logger } from '../lib/logger.ts';
import type { CallPayload, CallSink, Clock, SealedCall } from './payload.ts';

export type SealedEntry<X> = {
  key: string;
  version: number;
  hash: string;
  sealedAt: number;
  /** Kept while the entry is inside the late-change window; dropped after it (only key/version/hash remain). */
  payload: CallPayload | null;
  files: Record<string, string> | null;
  extra: X | null;
};

type IntentRec<X> = { t: 'intent'; key: string; version: number; hash: string; at: number; payload: CallPayload; files: Record<string, string>; extra: X };
type DoneRec = { t: 'done'; key: string; version: number };
type SealedRec<X> = { t: 'sealed'; key: string; version: number; hash: string; at: number; payload: CallPayload | null; files: Record<string, string> | null; extra: X | null };
type Rec<X> = IntentRec<X> | DoneRec | SealedRec<X>;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const contentHash = (p: CallPayload) => createHash('sha256').update(canonical(p)).digest('hex');

export type LedgerOptions = { retentionMs: number };

export class SealLedger<X> {
  private readonly sealed = new Map<string, SealedEntry<X>>();
  private readonly pending = new Map<string, IntentRec<X>>();

  private constructor(
    private journal: Journal,
    private readonly sink: CallSink,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly opts: LedgerOptions,
  ) {}

  static async open<X>(dir: string, sink: CallSink, log: Logger, clock: Clock, opts: LedgerOptions): Promise<SealLedger<X>> {
    const { journal, records } = await Journal.open(join(dir, 'sealed.jsonl'));
    const l = new SealLedger<X>(journal, sink, log, clock, opts);
    for (const r of records as Rec<X>[]) {
      if (r.t === 'intent') l.pending.set(r.key, r);
      else if (r.t === 'done') {
        const p = l.pending.get(r.key);
        if (p && p.version === r.version) {
          l.pending.delete(r.key);
          l.sealed.set(r.key, { key: r.key, version: p.version, hash: p.hash, sealedAt: p.at, payload: p.payload, files: p.files, extra: p.extra });
        }
      } else if (r.t === 'sealed') {
        l.sealed.set(r.key, { key: r.key, version: r.version, hash: r.hash, sealedAt: r.at, payload: r.payload, files: r.files, extra: r.extra });
      }
    }
    if (records.length > 2 * (l.sealed.size + l.pending.size) + 1000) await l.compact();
    return l;
  }

  get(key: string): SealedEntry<X> | undefined {
    return this.sealed.get(key);
  }

  /** Entries still inside the late-change window (they carry payload and extra). */
  *recent(): Iterable<SealedEntry<X>> {
    for (const e of this.sealed.values()) if (e.extra !== null) yield e;
  }

  /** Delivers intents left over from a crash. Throws (and keeps them) when the sink fails. */
  async redeliverPending(): Promise<void> {
    for (const rec of [...this.pending.values()]) await this.finish(rec);
  }

  /**
   * Seals `payload` for `key`: returns the version it was delivered as, or the existing version when the content
   * is identical to the last sealed version (nothing is delivered then).
   */
  async deliver(key: string, payload: CallPayload, files: Record<string, string>, extra: X): Promise<{ version: number; delivered: boolean }> {
    const left = this.pending.get(key);
    if (left) await this.finish(left);
    const hash = contentHash(payload);
    const prev = this.sealed.get(key);
    if (prev && prev.hash === hash) {
      if (prev.extra !== null) prev.extra = extra; // same content, fresher context (e.g. recording mtimes)
      return { version: prev.version, delivered: false };
    }
    const rec: IntentRec<X> = { t: 'intent', key, version: (prev?.version ?? 0) + 1, hash, at: this.clock.now(), payload, files, extra };
    await this.journal.append(rec);
    this.pending.set(key, rec);
    await this.finish(rec);
    return { version: rec.version, delivered: true };
  }

  private async finish(rec: IntentRec<X>): Promise<void> {
    const call: SealedCall = { ...rec.payload, callKey: rec.key, version: rec.version, files: rec.files };
    await this.sink.callSealed(call);
    await this.journal.append({ t: 'done', key: rec.key, version: rec.version } satisfies DoneRec);
    this.pending.delete(rec.key);
    this.sealed.set(rec.key, { key: rec.key, version: rec.version, hash: rec.hash, sealedAt: rec.at, payload: rec.payload, files: rec.files, extra: rec.extra });
    this.log.info('call sealed', { callKey: rec.key, version: rec.version, flags: rec.payload.flags });
  }

  /**
   * Forgets the context (payload, extra) of entries sealed before `extraBefore` and whole entries older than the
   * retention period. Returns the extras it dropped, so the adapter can stop watching their files.
   */
  prune(extraBefore: number): X[] {
    const now = this.clock.now();
    const dropped: X[] = [];
    for (const [k, e] of this.sealed) {
      if (now - e.sealedAt > this.opts.retentionMs) {
        this.sealed.delete(k);
        if (e.extra !== null) dropped.push(e.extra);
      } else if (e.sealedAt < extraBefore && e.extra !== null) {
        dropped.push(e.extra);
        e.extra = null;
        e.payload = null;
        e.files = null;
      }
    }
    return dropped;
  }

  async compact(): Promise<void> {
    const recs: Rec<X>[] = [];
    for (const e of this.sealed.values()) recs.push({ t: 'sealed', key: e.key, version: e.version, hash: e.hash, at: e.sealedAt, payload: e.payload, files: e.files, extra: e.extra });
    for (const p of this.pending.values()) recs.push(p);
    await this.journal.rewrite(recs);
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}
