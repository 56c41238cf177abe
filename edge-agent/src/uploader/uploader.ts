/**
 * Drains the outbox to the centre, one item at a time in outbox order (priority, then oldest capture first).
 *
 * - Anything that might succeed later (no answer, 5xx, 429, 401/403, 408) is retried forever with capped exponential
 *   backoff and full jitter, or after the server's Retry-After. The queue head stays the head, so order holds.
 * - 404 camera_not_found: the camera is registered again, then the item is retried.
 * - A permanent refusal (409 conflict/overlap, other 4xx, or a hash/size mismatch when the local file really
 *   changed) never deletes evidence: the item and its files move to quarantine, and for footage a gap is reported so
 *   the hole is visible at the centre.
 * - The local file is deleted only after the centre answered 200/201 (outbox.ack).
 */
import { AGENT_ERROR_CODES, agentPaths, SegmentStateResponseSchema, segmentHeaders, type GapBody, type RecordingHeaders, type SegmentMeta, type SegmentMetaInput } from '@mamoru/contract';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { sha256File } from '../state/file-hash.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { CallItem, GapItem, LocalFile, OutboxItem, SegmentItem } from '../outbox/items.ts';
import { retryDelay, sleep, type BackoffPolicy } from '../lib/backoff.ts';
import type { CameraRegistrar } from './cameras.ts';
import { AbortedError, type CentreClient, type CentreResponse } from './centre-client.ts';
import type { TokenBucket } from './token-bucket.ts';

/** What to do with an item after one attempt. */
export type Outcome =
  | { kind: 'done' }
  /** Success that keeps the item: an on-demand segment's metadata was acknowledged, its media stays in the buffer. */
  | { kind: 'kept' }
  | { kind: 'retry'; reason: string; status: number | null; retryAfterMs: number | null }
  | { kind: 'reregister'; cameraKey: string }
  | { kind: 'verify'; file: LocalFile; reason: string }
  | { kind: 'quarantine'; reason: string; detail: string | null };

export type UploadEvent =
  | { type: 'acked'; id: string; kind: OutboxItem['kind']; status: number; bytes: number; ms: number }
  | { type: 'meta'; id: string; ms: number }
  | { type: 'retry'; id: string; reason: string; status: number | null; delayMs: number; failures: number }
  | { type: 'quarantined'; id: string; reason: string; detail: string | null }
  | { type: 'reregistered'; cameraKey: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Maps an answer of the centre to an outcome (pure; the table the module comment describes). */
export function classifyResponse(res: Pick<CentreResponse, 'status' | 'errorCode' | 'retryAfterMs'> & { errorMessage?: string | null }, ctx: { cameraKey?: string; file?: LocalFile }): Outcome {
  const { status, errorCode: code } = res;
  if (status === 200 || status === 201) return { kind: 'done' };
  const retry = (reason: string): Outcome => ({ kind: 'retry', reason, status, retryAfterMs: res.retryAfterMs });
  if (status === 404 && code === 'camera_not_found' && ctx.cameraKey) return { kind: 'reregister', cameraKey: ctx.cameraKey };
  if (status === 404 && code === 'recording_not_declared') return { kind: 'quarantine', reason: code, detail: null };
  if (status === 401 || status === 403) return retry(`not authorised (${code ?? status})`);
  if (status === 404) return retry(`centre has no such route or object (${code ?? 'route_not_found'})`); // an older centre; it may be upgraded
  if (status === 408 || status === 425 || status === 429 || status >= 500 || status < 200) return retry(`centre answered ${status}${code ? ` ${code}` : ''}`);
  if (ctx.file && (code === 'hash_mismatch' || code === 'size_mismatch' || code === 'upload_incomplete' || code === 'body_too_large')) {
    return { kind: 'verify', file: ctx.file, reason: code };
  }
  // Final for this item (409, 422 time_out_of_bounds, other 4xx): the centre's message says why.
  return { kind: 'quarantine', reason: code ?? `http_${status}`, detail: res.errorMessage ?? null };
}

const READ_CHUNK = 1024 * 1024;

/**
 * The first `length` bytes of a file, read through one reused 1 MiB buffer (each chunk is written out before the
 * next read), in pieces the bandwidth cap allows.
 */
export async function* fileChunks(path: string, length: number, bucket: TokenBucket, signal: AbortSignal): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, length)));
    for (let pos = 0; pos < length; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
      if (bytesRead === 0) throw Object.assign(new Error(`file ended at ${pos} of ${length} bytes`), { code: 'ESHORT' });
      pos += bytesRead;
      for (let off = 0; off < bytesRead; ) {
        const n = bucket.bytesPerSecond > 0 ? Math.min(bucket.maxChunk, bytesRead - off) : bytesRead - off;
        if (bucket.bytesPerSecond > 0) await bucket.take(n, signal);
        yield buf.subarray(off, off + n);
        off += n;
      }
    }
  } finally {
    await fh.close();
  }
}

/** JSON for an HTTP header: non-ASCII escaped so the header stays valid. */
const CALL_CONTENT_TYPES: Record<string, string> = { '.wav': 'audio/wav', '.mp3': 'audio/mpeg' };

export type UploaderDeps = {
  outbox: Outbox;
  client: CentreClient;
  cameras: CameraRegistrar;
  bucket: TokenBucket;
  backoff: BackoffPolicy;
  maxRetryAfterMs: number;
  log: Logger;
  onEvent?: (e: UploadEvent) => void;
  random?: () => number;
  /**
   * A second lane (the live lane): which item to send next instead of the outbox head, e.g. the newest footage
   * (`outbox.peekLive`). A lane with `pick` leaves camera registration to the main lane.
   */
  pick?: () => OutboxItem | undefined;
  /** Name of the lane in logs (default 'main'). */
  lane?: string;
};

export class Uploader {
  private running: Promise<void> | undefined;
  private readonly stopCtl = new AbortController();
  private requestCtl = new AbortController();
  private failures = 0;
  /** Aborts the backoff sleep under way (wake()). */
  private napCtl: AbortController | null = null;
  private waitingRetryAfter = false;
  private current: string | null = null;
  lastError: { at: string; reason: string } | null = null;
  lastAckAt: string | null = null;

  constructor(private readonly d: UploaderDeps) {}

  get inFlight(): string | null {
    return this.current;
  }

  /** The last attempt failed and the uploader is in a retry streak. */
  get failing(): boolean {
    return this.failures > 0;
  }

  start(): void {
    if (this.running) return;
    this.running = this.loop().catch((e: unknown) => this.d.log.error('uploader stopped by an unexpected error', { error: e as Error }));
  }

  /**
   * Stops after the in-flight upload finishes, or abandons it after `graceMs` (the item stays pending and is sent
   * again next time; the centre keeps nothing from an incomplete upload and answers 200 for a complete one).
   */
  async stop(graceMs: number): Promise<{ abandoned: string | null }> {
    this.stopCtl.abort();
    if (!this.running) return { abandoned: null };
    let abandoned: string | null = null;
    const t = setTimeout(() => {
      abandoned = this.current;
      this.requestCtl.abort();
    }, graceMs);
    await this.running;
    clearTimeout(t);
    return { abandoned };
  }

  /**
   * A sign that the centre is back (an answered heartbeat, an accepted command ack): a retry delay under way ends now
   * and the failure count starts over, so uploads resume at once instead of after up to `backoff.capMs`.
   */
  wake(reason: string): void {
    // A Retry-After is the centre's own word on when to come back: it stands.
    if (this.failures === 0 || this.waitingRetryAfter) return;
    this.d.log.info('centre answered again: uploads resume now', { lane: this.d.lane ?? 'main', reason, after: this.failures });
    this.failures = 0;
    this.napCtl?.abort();
  }

  private get stopping() {
    return this.stopCtl.signal.aborted;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.d.pick && !this.d.cameras.allRegistered) {
        // A picking lane (the live lane) leaves registration to the main lane and waits for it without polling: while
        // the centre is unreachable, a poll every second was one of the agent's few wake-ups a second.
        await this.d.cameras.whenAllRegistered(this.stopCtl.signal);
        continue;
      }
      if (!this.d.cameras.allRegistered) {
        const r = await this.d.cameras.ensureAll(this.stopCtl.signal).catch((e: Error) => ({ ok: false as const, retryable: true, status: null, code: e.message, retryAfterMs: null }));
        if (!r.ok && r.retryable) {
          await this.backoff({ kind: 'retry', reason: `camera registration: ${r.code ?? r.status}`, status: r.status, retryAfterMs: r.retryAfterMs }, 'cameras');
          continue;
        }
      }
      const item = this.d.pick ? this.d.pick() : this.d.outbox.peek();
      if (!item) {
        await this.d.outbox.waitForWork(5_000, this.stopCtl.signal);
        continue;
      }
      if (!this.d.outbox.lease(item.id)) continue;
      this.current = item.id;
      this.requestCtl = new AbortController();
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        outcome = await this.attempt(item);
        if (outcome.kind === 'verify') outcome = await this.verify(item, outcome);
        if (outcome.kind === 'reregister') {
          this.d.cameras.forget(outcome.cameraKey);
          const r = await this.d.cameras.register(outcome.cameraKey, this.requestCtl.signal);
          this.d.onEvent?.({ type: 'reregistered', cameraKey: outcome.cameraKey });
          outcome = r.ok ? await this.attempt(item) : { kind: 'retry', reason: `camera re-registration failed (${r.code ?? r.status})`, status: r.status, retryAfterMs: r.retryAfterMs };
          if (outcome.kind === 'verify') outcome = await this.verify(item, outcome);
          if (outcome.kind === 'reregister') outcome = { kind: 'retry', reason: 'camera still unknown after registration', status: 404, retryAfterMs: null };
        }
      } catch (e) {
        const err = e as Error & { code?: string; local?: boolean };
        if (err instanceof AbortedError) outcome = { kind: 'retry', reason: 'aborted at shutdown', status: null, retryAfterMs: null };
        else if (err.local && err.code === 'ENOENT') outcome = { kind: 'quarantine', reason: 'file_missing', detail: err.message };
        else outcome = { kind: 'retry', reason: err.message, status: null, retryAfterMs: null };
      }
      try {
        await this.settle(item, outcome, t0);
      } catch (e) {
        // A local disk error while acknowledging: the item stays pending and is sent again (the centre answers 200).
        this.d.log.error('could not record the outcome locally', { id: item.id, error: e as Error });
        outcome = { kind: 'retry', reason: (e as Error).message, status: null, retryAfterMs: null };
      } finally {
        this.d.outbox.release(item.id);
        this.current = null;
      }
      if (outcome.kind === 'retry' && !this.stopping) await this.backoff(outcome, item.id);
    }
  }

  private async backoff(o: Extract<Outcome, { kind: 'retry' }>, id: string) {
    this.failures++;
    const delayMs = retryDelay(this.d.backoff, this.failures - 1, o.retryAfterMs, this.d.maxRetryAfterMs, this.d.random);
    this.lastError = { at: new Date().toISOString(), reason: o.reason };
    this.d.onEvent?.({ type: 'retry', id, reason: o.reason, status: o.status, delayMs, failures: this.failures });
    // Log the first failure of a streak, then every tenth, so an outage does not flood the log.
    if (this.failures === 1 || this.failures % 10 === 0) this.d.log.warn('upload will be retried', { id, reason: o.reason, status: o.status, delayMs, failures: this.failures });
    this.waitingRetryAfter = o.retryAfterMs !== null;
    const nap = new AbortController();
    this.napCtl = nap;
    const onStop = () => nap.abort();
    this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    await sleep(delayMs, nap.signal);
    this.stopCtl.signal.removeEventListener('abort', onStop);
    this.napCtl = null;
  }

  private async settle(item: OutboxItem, o: Outcome, t0: number) {
    if (o.kind === 'done') {
      await this.d.outbox.ack(item.id);
      if (this.failures > 0) this.d.log.info('centre reachable again', { after: this.failures });
      this.failures = 0;
      this.lastAckAt = new Date().toISOString();
      const bytes = item.files.reduce((n, f) => n + f.size, 0);
      this.d.onEvent?.({ type: 'acked', id: item.id, kind: item.kind, status: 200, bytes, ms: Math.round(performance.now() - t0) });
      this.d.log.debug('acknowledged', { id: item.id, bytes });
    } else if (o.kind === 'kept') {
      await this.d.outbox.update(item.id, (it) => {
        if (it.kind === 'segment') it.metaSent = true;
      });
      this.failures = 0;
      this.lastAckAt = new Date().toISOString();
      this.d.onEvent?.({ type: 'meta', id: item.id, ms: Math.round(performance.now() - t0) });
      this.d.log.debug('metadata acknowledged; media kept in the rolling buffer', { id: item.id });
    } else if (o.kind === 'quarantine') {
      await this.quarantine(item, o.reason, o.detail);
      this.failures = 0;
    }
  }

  private async quarantine(item: OutboxItem, reason: string, detail: string | null) {
    const rec = await this.d.outbox.quarantine(item.id, reason, detail);
    this.d.log.error('item quarantined: the centre refused it for good; its files are kept', { id: item.id, kind: item.kind, reason, detail, record: rec });
    this.d.onEvent?.({ type: 'quarantined', id: item.id, reason, detail });
    // The footage is not at the centre: say so with a gap, unless the centre already holds footage for that time.
    // A time the centre refuses (time_out_of_bounds) is refused for a gap too: the quarantine record and the centre's
    // refusal record are the report.
    if (item.kind === 'segment' && reason !== AGENT_ERROR_CODES.segmentConflict && reason !== AGENT_ERROR_CODES.segmentOverlap && reason !== AGENT_ERROR_CODES.timeOutOfBounds) {
      const start = new Date(item.segment.start);
      const end = new Date(start.getTime() + Math.max(1, item.segment.durationMs));
      await this.d.outbox.gap({ cameraKey: item.segment.cameraKey, start, end, reason: 'other', detail: `segment kept in agent quarantine (${reason})` });
    }
  }

  /** The centre saw other bytes than the edge hash promised: quarantine only if the local file really changed. */
  private async verify(item: OutboxItem, o: Extract<Outcome, { kind: 'verify' }>): Promise<Outcome> {
    try {
      const now = await sha256File(o.file.path);
      if (now.sha256 !== o.file.sha256 || now.size !== o.file.size) {
        return { kind: 'quarantine', reason: 'local_file_changed', detail: `centre said ${o.reason}; file now ${now.size} bytes sha256 ${now.sha256}, edge hash was ${o.file.sha256}` };
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'quarantine', reason: 'file_missing', detail: o.file.path };
      throw e;
    }
    return { kind: 'retry', reason: `${o.reason} in transit (local file intact)`, status: 400, retryAfterMs: null };
  }

  private attempt(item: OutboxItem): Promise<Outcome> {
    switch (item.kind) {
      case 'segment':
        return this.sendSegment(item);
      case 'gap':
        return this.sendGap(item);
      case 'call':
        return this.sendCall(item);
    }
  }

  /** Checks the local file still matches its record before any byte is sent. */
  private async precheck(f: LocalFile): Promise<Outcome | null> {
    try {
      const s = await stat(f.path);
      if (s.size !== f.size) return { kind: 'quarantine', reason: 'local_file_changed', detail: `file is ${s.size} bytes, edge record says ${f.size}` };
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'quarantine', reason: 'file_missing', detail: f.path };
      throw e;
    }
  }

  private body(f: LocalFile, contentType: string) {
    const bucket = this.d.bucket;
    const signal = this.requestCtl.signal;
    return { length: f.size, contentType, chunks: () => fileChunks(f.path, f.size, bucket, signal) };
  }

  private async sendSegment(item: SegmentItem): Promise<Outcome> {
    const f = item.files[0];
    if (!f) return { kind: 'quarantine', reason: 'no_file', detail: 'segment item has no file' };
    const pre = await this.precheck(f);
    if (pre) return pre;
    const s = item.segment;
    const meta = {
      sha256: s.sha256,
      size: s.size,
      durationMs: s.durationMs,
      mediaType: s.mediaType,
      codec: s.codec,
      runId: UUID.test(s.runId) ? s.runId : null,
      clockOffsetMs: s.clockOffsetMs === null ? null : Math.round(s.clockOffsetMs),
    } satisfies SegmentMeta;
    // On-demand and not asked for by a case: only the facts and the edge hash go now; the media stays here.
    if (this.d.outbox.sendsMetaOnly(item)) {
      const res = await this.d.client.request({
        method: 'PUT',
        path: agentPaths.segmentMeta(s.cameraKey, s.start),
        json: meta satisfies SegmentMetaInput,
        signal: this.requestCtl.signal,
      });
      const o = await this.recheckConflict(item, res, classifyResponse(res, { cameraKey: s.cameraKey }), true);
      return o.kind === 'done' ? { kind: 'kept' } : o;
    }
    const res = await this.d.client.request({
      method: 'PUT',
      path: agentPaths.segment(s.cameraKey, s.start),
      headers: segmentHeaders(meta),
      body: this.body(f, s.mediaType),
      signal: this.requestCtl.signal,
    });
    return this.recheckConflict(item, res, classifyResponse(res, { cameraKey: s.cameraKey, file: f }), false);
  }

  /**
   * Before a segment refused with 409 is quarantined, asks the centre what it holds with this identity (camera +
   * start): the very same segment (hash, size, duration), with its media (or, for metadata, at all), means it was
   * delivered (a concurrent upload, an answer lost on the way). A different one keeps the quarantine; no answer
   * means "try again later", never "quarantine".
   */
  private async recheckConflict(item: SegmentItem, res: CentreResponse, o: Outcome, metaOnly: boolean): Promise<Outcome> {
    const code = res.errorCode;
    if (o.kind !== 'quarantine' || res.status !== 409 || (code !== AGENT_ERROR_CODES.segmentConflict && code !== AGENT_ERROR_CODES.segmentOverlap)) return o;
    const s = item.segment;
    const check = await this.d.client.request({ method: 'GET', path: agentPaths.segment(s.cameraKey, s.start), signal: this.requestCtl.signal });
    if (check.status === 200) {
      const held = SegmentStateResponseSchema.safeParse(check.body);
      if (held.success && held.data.sha256 === s.sha256 && held.data.size === s.size && held.data.durationMs === s.durationMs) {
        if (metaOnly || held.data.media === 'stored') {
          this.d.log.info('the centre already holds this segment: delivered', { id: item.id, refused: code, segmentId: held.data.segmentId });
          return { kind: 'done' };
        }
      }
      return { ...o, detail: `centre holds ${held.success ? `sha256 ${held.data.sha256}, ${held.data.size} bytes, media ${held.data.media}` : 'an unreadable answer'} at this start` };
    }
    if (check.status === 404 && check.errorCode === 'segment_not_found') return { ...o, detail: 'centre holds no segment with this start (an overlapping one)' };
    const retry = classifyResponse(check, {});
    if (retry.kind === 'retry') return { ...retry, reason: `re-check after 409 ${code}: ${retry.reason}` };
    // An older centre without the re-check route: the 409 stands.
    return o;
  }

  private async sendGap(item: GapItem): Promise<Outcome> {
    const g = item.gap;
    const res = await this.d.client.request({
      method: 'POST',
      path: agentPaths.gaps(),
      json: { cameraKey: g.cameraKey, start: g.start, end: g.end, reason: g.reason, detail: g.detail } satisfies GapBody,
      signal: this.requestCtl.signal,
    });
    return classifyResponse(res, { cameraKey: g.cameraKey });
  }

  /** The metadata version first (`CallPayloadSchema`), then each recording the centre still misses. */
  private async sendCall(item: CallItem): Promise<Outcome> {
    const key = item.call.callKey;
    let current: OutboxItem = item;
    if (!item.call.metaSent) {
      const res = await this.d.client.request({ method: 'PUT', path: agentPaths.callVersion(key, item.call.version), json: item.call.payload, signal: this.requestCtl.signal });
      const o = classifyResponse(res, {});
      if (o.kind !== 'done') return o;
      const missing = (res.body as { missingRecordings?: unknown } | null)?.missingRecordings;
      const missingSet = Array.isArray(missing) ? new Set(missing.filter((m): m is string => typeof m === 'string')) : null;
      current =
        (await this.d.outbox.update(item.id, (it) => {
          if (it.kind !== 'call') return;
          it.call.metaSent = true;
          if (missingSet) for (const f of it.files) if (!missingSet.has(f.name)) f.sent = true;
        })) ?? item;
    }
    for (const f of current.files) {
      if (f.sent) continue;
      const pre = await this.precheck(f);
      if (pre) return pre;
      const res = await this.d.client.request({
        method: 'PUT',
        path: agentPaths.callRecording(key, f.name),
        headers: { 'x-recording-sha256': f.sha256, 'x-recording-size': String(f.size) } satisfies Partial<RecordingHeaders>,
        body: this.body(f, CALL_CONTENT_TYPES[extname(f.name).toLowerCase()] ?? 'application/octet-stream'),
        signal: this.requestCtl.signal,
      });
      const o = classifyResponse(res, { file: f });
      if (res.status === 404 && res.errorCode === 'call_not_found') {
        // The centre does not know the call (metadata lost?): send the metadata again on the next try.
        await this.d.outbox.update(item.id, (it) => {
          if (it.kind === 'call') it.call.metaSent = false;
        });
        return o;
      }
      if (o.kind !== 'done') return o;
      await this.d.outbox.update(item.id, (it) => {
        const x = it.files.find((y) => y.name === f.name);
        if (x) x.sent = true;
      });
    }
    return { kind: 'done' };
  }
}
