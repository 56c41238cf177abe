/**
 * Live calls from AMI events: one view per linkedid (caller, dialled number, who was rung, who picked up, when it
 * ended), sent to the centre as `PUT /calls/{callKey}/live` while the call happens. The sealed call from the CDR/CEL
 * files later replaces it at the centre under the same call key (no duplicate); a live update that arrives after the
 * sealed version is ignored there. Only the newest state of each call is sent; a failed send is retried with
 * backoff, and a newer state replaces the one waiting.
 */
import { agentPaths, type LiveCallInput } from '@mamoru/contract';
import { Backoff, sleep } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import type { CentreClient } from '../uploader/centre-client.ts';
import type { AmiMessage } from './ami.ts';
import { endpointOf } from './correlate.ts';
import type { AsteriskFilesConfig } from './config.ts';
import { JAPAN_PLAN, toE164 } from './numbers.ts';
import { isoUtc } from './time.ts';

type Op = { extension: string; rung: number; answered: number | null };
type Live = {
  linkedId: string;
  seq: number;
  start: number;
  lastAt: number;
  channels: Set<string>;
  callerNumber: string | null;
  callerName: string | null;
  called: string | null;
  direction: 'inbound' | 'outbound' | 'internal' | 'unknown';
  answer: number | null;
  pickup: number | null;
  ops: Map<string, Op>;
  end: number | null;
};

const known = (v: string | undefined) => (v && v !== '<unknown>' && v !== '' ? v : null);

export class LiveCallTracker {
  private readonly calls = new Map<string, Live>();
  private readonly isExt: (ep: string | null) => boolean;

  constructor(
    private readonly cfg: AsteriskFilesConfig,
    private readonly publish: (body: LiveCallInput) => void,
  ) {
    const re = new RegExp(cfg.extensionPattern);
    this.isExt = (ep) => !!ep && (cfg.operators[ep] !== undefined || (!cfg.trunkEndpoints.includes(ep) && re.test(ep)));
  }

  /** Calls being followed (tests, status). */
  get size() {
    return this.calls.size;
  }

  onEvent(m: AmiMessage, at: number): void {
    const linked = m.get('Linkedid');
    if (!linked) return;
    let c = this.calls.get(linked);
    const ev = m.event!;
    if (!c) {
      if (ev === 'Hangup' || ev === 'Cdr') return; // the tail of a call we never saw start
      c = { linkedId: linked, seq: 0, start: at, lastAt: at, channels: new Set(), callerNumber: null, callerName: null, called: null, direction: 'unknown', answer: null, pickup: null, ops: new Map(), end: null };
      this.calls.set(linked, c);
    }
    if (c.end !== null && ev !== 'Newchannel') return;
    const before = JSON.stringify(this.view(c, at));
    c.lastAt = at;
    const uid = m.get('Uniqueid');
    const channel = m.get('Channel') ?? '';
    const origin = uid === linked;
    if (ev === 'Newchannel' && uid) c.channels.add(uid);
    if (origin) {
      c.callerNumber = known(m.get('CallerIDNum')) ?? c.callerNumber;
      c.callerName = known(m.get('CallerIDName')) ?? c.callerName;
      const ctx = m.get('Context') ?? '';
      const exten = m.get('Exten') ?? '';
      if (this.cfg.inboundContexts.includes(ctx)) {
        c.direction = 'inbound';
        if (/^[+0-9*#]+$/.test(exten) && !this.isExt(exten)) c.called = exten;
      } else if (c.direction === 'unknown' && !/^Local\//i.test(channel)) {
        const ep = endpointOf(channel);
        if (ep && !this.isExt(ep)) c.direction = 'inbound';
      }
      if (ev === 'Newstate' && m.get('ChannelStateDesc') === 'Up' && c.answer === null) c.answer = at;
    }
    if (ev === 'DialBegin') {
      const ep = endpointOf(m.get('DestChannel') ?? '');
      if (ep && this.isExt(ep) && !c.ops.has(ep)) c.ops.set(ep, { extension: ep, rung: at, answered: null });
      if (origin && c.direction === 'unknown' && this.isExt(endpointOf(channel)) && ep && !this.isExt(ep)) {
        c.direction = 'outbound';
        c.called = known(m.get('DestExten')) ?? c.called;
      }
    }
    if (ev === 'DialEnd' && (m.get('DialStatus') ?? '').toUpperCase() === 'ANSWER') {
      const ep = endpointOf(m.get('DestChannel') ?? '');
      const op = ep ? c.ops.get(ep) : undefined;
      if (op && op.answered === null) op.answered = at;
      if (op && c.pickup === null) c.pickup = at;
    }
    if (ev === 'Hangup' && uid) {
      c.channels.delete(uid);
      if (c.channels.size === 0) c.end = at;
    }
    if (JSON.stringify(this.view(c, at)) !== before || c.seq === 0) this.emit(c, at);
  }

  /** After a (re)connect: calls whose channels are all gone ended while we were not listening. */
  onChannels(stillThere: Set<string>, at: number): void {
    for (const c of this.calls.values()) {
      if (c.end !== null || stillThere.has(c.linkedId)) continue;
      c.end = at;
      c.channels.clear();
      this.emit(c, at);
    }
  }

  /** Forgets ended calls older than `ms` (the files take over). */
  prune(now: number, ms: number): void {
    for (const [k, c] of this.calls) if (c.end !== null && now - c.end > ms) this.calls.delete(k);
  }

  private view(c: Live, _at: number) {
    return [c.callerNumber, c.callerName, c.called, c.direction, c.answer, c.pickup, [...c.ops.values()], c.end];
  }

  private emit(c: Live, at: number): void {
    c.seq++;
    const plan = this.cfg.countryCode === JAPAN_PLAN.countryCode ? JAPAN_PLAN : { countryCode: this.cfg.countryCode, trunkPrefix: '0', internationalPrefixes: ['00'], stripPrefixes: [] };
    const ops = [...c.ops.values()].sort((a, b) => a.rung - b.rung);
    const first = ops.filter((o) => o.answered !== null).sort((a, b) => a.answered! - b.answered!)[0];
    this.publish({
      pbxId: this.cfg.id,
      linkedId: c.linkedId,
      adapter: 'asterisk-files',
      seq: c.seq,
      state: c.end === null ? 'in_progress' : 'ended',
      direction: c.direction,
      directionSource: c.direction === 'unknown' ? 'none' : 'ami',
      caller: { number: c.callerNumber, name: c.callerName, e164: toE164(c.callerNumber, plan) },
      called: { number: c.called, e164: toE164(c.called, plan) },
      operator: first ? { extension: first.extension, name: this.cfg.operators[first.extension] ?? null, source: 'ami' } : null,
      operators: ops.map((o) => ({ extension: o.extension, name: this.cfg.operators[o.extension] ?? null, rungUtc: isoUtc(o.rung), answeredUtc: o.answered === null ? null : isoUtc(o.answered), source: 'ami' as const })),
      startUtc: isoUtc(c.start),
      answerUtc: c.answer === null ? null : isoUtc(c.answer),
      pickupUtc: c.pickup === null ? null : isoUtc(c.pickup),
      endUtc: c.end === null ? null : isoUtc(Math.max(c.end, c.start)),
      observedUtc: isoUtc(at),
    });
  }
}

/** Sends the newest live state of each call; one request at a time, retried with backoff. */
export class LivePublisher {
  private readonly waiting = new Map<string, LiveCallInput>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly ctl = new AbortController();
  private readonly backoff = new Backoff({ baseMs: 200, capMs: 10_000 });
  /** Answers seen per call key (tests, logs). */
  readonly answers: { callKey: string; seq: number; state: string; status: number; result: string | null }[] = [];

  constructor(private readonly o: { client: CentreClient; log: Logger }) {}

  publish(body: LiveCallInput): void {
    if (this.stopped) return;
    this.waiting.set(`${body.pbxId}:${body.linkedId}`, body);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.waiting.size > 0) {
      const [key, body] = this.waiting.entries().next().value as [string, LiveCallInput];
      this.waiting.delete(key);
      try {
        const r = await this.o.client.request({ method: 'PUT', path: agentPaths.callLive(key), json: body, signal: this.ctl.signal });
        const result = (r.body as { status?: string } | null)?.status ?? r.errorCode;
        this.answers.push({ callKey: key, seq: body.seq, state: body.state, status: r.status, result });
        if (r.status >= 500 || r.status === 429) throw new Error(`centre answered ${r.status}`);
        if (r.status >= 400) this.o.log.warn('centre refused a live call update', { callKey: key, status: r.status, error: r.errorCode, message: r.errorMessage });
        this.backoff.reset();
      } catch (e) {
        if (this.stopped) return;
        if (!this.waiting.has(key)) this.waiting.set(key, body);
        this.o.log.warn('live call update not sent; retrying', { callKey: key, error: (e as Error).message });
        await sleep(this.backoff.next(), this.ctl.signal);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ctl.abort();
    await this.running?.catch(() => undefined);
  }
}
