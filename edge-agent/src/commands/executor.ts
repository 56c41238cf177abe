/**
 * Executes the centre's commands (`AgentCommand` of @mamoru/contract, delivered at least once in heartbeat answers) and
 * acknowledges them with `POST /api/v1/agent/commands/{id}/ack` `{ status, detail }`, retried until accepted.
 *
 * `preserve_window`: every local segment of the camera overlapping [from, to) is held (never evicted, kept past the
 * rolling buffer) and moves to case priority, ahead of everything else (outbox.preserveWindow). A window that is
 * still open (its end not yet recorded) stays open: segments closing inside it are held on arrival. Once the window
 * is closed the result is judged: 'done' when footage held at the store and footage that already arrived at the
 * centre together cover the whole window, 'failed' with a detail naming the stretches that are nowhere (and why,
 * where the agent knows: an eviction or offline gap).
 *
 * Durable: each command is recorded in `<spool>/commands/<id>.json` (atomic write) before it acts, with its result
 * and whether the centre accepted the ack. A command delivered again finds its record: nothing is done twice and the
 * same answer is sent. Held segments leave the agent only once the centre acknowledged their media (invariant 8).
 */
import { agentPaths, COMMAND_RESULTS, type CommandAckBody, type CommandResult as CommandResultStatus } from '@mamoru/contract';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentCommand } from '../contracts.ts';
import { retryDelay, type BackoffPolicy } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import { Mutex } from '../lib/mutex.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import type { Outbox, WindowFindings } from '../outbox/outbox.ts';
import { ensureDir, TEMP_PREFIX, unlinkIfExists, writeFileAtomic } from '../state/atomic-file.ts';
import type { CentreClient } from '../uploader/centre-client.ts';
import { COMMAND_ID, parseCommands, PreserveWindowSchema } from './parse.ts';

export type CommandResult = { status: CommandResultStatus; detail: string | null; at: string };

const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'ISO date');
const RecordSchema = z.object({
  v: z.literal(1),
  id: z.string().regex(COMMAND_ID),
  /** The command as received (null for a command that failed validation: only its id and kind are known). */
  command: PreserveWindowSchema.nullable(),
  kind: z.string(),
  receivedAt: Iso,
  /** While set and not passed, the window is open: segments closing inside it are held on arrival. */
  standingUntil: Iso.nullable(),
  result: z.object({ status: z.enum(COMMAND_RESULTS), detail: z.string().nullable(), at: Iso }).nullable(),
  ack: z.object({ state: z.enum(['pending', 'accepted', 'rejected']), at: Iso.nullable(), lastError: z.string().nullable() }),
});
export type CommandRecord = z.infer<typeof RecordSchema>;

/** What the centre said to an ack. */
export type AckAnswer = { kind: 'accepted'; status: number } | { kind: 'rejected'; reason: string } | { kind: 'retry'; reason: string; retryAfterMs: number | null };
export type AckSender = (id: string, body: CommandAckBody) => Promise<AckAnswer>;

/**
 * The ack over HTTP. 2xx: accepted. 409: the centre already has a final state for the command: accepted (nothing
 * more to say). 400/410/422 and 404 `command_not_found`: refused for good (logged, the record keeps it). Anything
 * else, or no answer (404 `route_not_found` from an older centre included): retried.
 */
export function httpAckSender(client: CentreClient, signal?: AbortSignal): AckSender {
  return async (id, body) => {
    try {
      const res = await client.request({ method: 'POST', path: agentPaths.commandAck(id), json: body, ...(signal && { signal }) });
      if ((res.status >= 200 && res.status < 300) || res.status === 409) return { kind: 'accepted', status: res.status };
      // 404 command_not_found: the centre has no such command for this site (not an older centre without the route).
      if (res.status === 400 || res.status === 410 || res.status === 422 || (res.status === 404 && res.errorCode === 'command_not_found')) {
        return { kind: 'rejected', reason: `centre answered ${res.status} ${res.errorCode ?? ''}`.trim() };
      }
      return { kind: 'retry', reason: `centre answered ${res.status}${res.errorCode ? ` ${res.errorCode}` : ''}`, retryAfterMs: res.retryAfterMs };
    } catch (e) {
      return { kind: 'retry', reason: (e as Error).message, retryAfterMs: null };
    }
  };
}

type Span = { start: number; end: number };

/** The parts of [from, to) no span covers; holes up to `toleranceMs` (keyframe-aligned segment edges) count as covered. Pure. */
export function uncovered(from: number, to: number, spans: readonly Span[], toleranceMs = 500): Span[] {
  const sorted = [...spans].filter((s) => s.end > from && s.start < to).sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  let cursor = from;
  for (const s of sorted) {
    if (s.start - cursor > toleranceMs) out.push({ start: cursor, end: s.start });
    cursor = Math.max(cursor, s.end);
    if (cursor >= to) break;
  }
  if (to - cursor > toleranceMs) out.push({ start: cursor, end: to });
  return out;
}

/** "1 h 2 min 3 s" style, for details a person reads. */
function spanText(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [h ? `${h} h` : '', m ? `${m} min` : '', `${s % 60} s`].filter(Boolean).join(' ');
}

/** How much of [from, to) the spans cover (overlaps counted once). Pure. */
function coveredMs(from: number, to: number, spans: readonly Span[]): number {
  return to - from - uncovered(from, to, spans, 0).reduce((n, m) => n + (m.end - m.start), 0);
}

/**
 * The answer for a closed window from what the outbox found. Pure. Footage counts wherever it is: already
 * acknowledged by the centre ("arrived"), or held at the store and queued ahead of everything else. `done` when the
 * two together cover the window; `failed` names each uncovered stretch and why, where the agent knows.
 */
export function judgeWindow(cmd: AgentCommand, found: WindowFindings, cameraKnown: boolean, at: Date): CommandResult {
  const from = Date.parse(cmd.from);
  const to = Date.parse(cmd.to);
  const n = found.segments.length;
  const bytes = found.segments.reduce((x, s) => x + s.size, 0);
  const arrived = found.arrived ?? [];
  const iso = (ms: number) => new Date(ms).toISOString();
  if (!cameraKnown && n === 0 && arrived.length === 0 && found.gaps.length === 0) return { status: 'failed', detail: `camera '${cmd.cameraKey}' is not recorded by this agent`, at: at.toISOString() };
  const local = found.segments.map((s) => ({ start: s.start.getTime(), end: s.end.getTime() }));
  const missing = uncovered(from, to, [...local, ...arrived]);
  const arrivedMs = coveredMs(from, to, arrived);
  const parts: string[] = [];
  if (arrivedMs > 0) parts.push(`${spanText(arrivedMs)} of the window already arrived at the centre`);
  if (n > 0) parts.push(`${n} segment(s), ${bytes} bytes held at the store and queued ahead of everything else`);
  const what = parts.join('; ');
  if (missing.length === 0) return { status: 'done', detail: `window covered: ${what}`, at: at.toISOString() };
  const holes = missing.map((m) => {
    const why = [...new Set(found.gaps.filter((g) => g.start.getTime() < m.end && g.end.getTime() > m.start).map((g) => g.reason))];
    return `${iso(m.start)}/${iso(m.end)} (${why.length ? why.join(', ') : 'no footage at the store or at the centre'})`;
  });
  const missingMs = missing.reduce((x, m) => x + (m.end - m.start), 0);
  const detail = `${spanText(missingMs)} of the window missing: ${holes.join('; ')}${what ? `. ${what}` : ''}. "no footage": never recorded, or gone from the rolling buffer`;
  return { status: 'failed', detail: detail.length > 2000 ? `${detail.slice(0, 1997)}...` : detail, at: at.toISOString() };
}

export type ExecutorDeps = {
  /** `<spoolDir>/commands`. */
  dir: string;
  outbox: Outbox;
  /** Whether this agent records the camera (configured). */
  isKnownCamera: (key: string) => boolean;
  ack: AckSender;
  log: Logger;
  /** How long after a window's end its last segment may still close (segment length plus processing). */
  closingSlackMs: number;
  tickMs: number;
  backoff: BackoffPolicy;
  maxRetryAfterMs: number;
  /** Records whose ack was settled longer ago than this are deleted. */
  keepSettledMs?: number;
  /** The centre answered an ack (accepted or refused): a sign it is reachable (the uploader wakes). */
  onReachable?: () => void;
  now?: () => number;
  random?: () => number;
};

export class CommandExecutor {
  private readonly records = new Map<string, CommandRecord>();
  private readonly lock = new Mutex();
  private readonly ackState = new Map<string, { failures: number; nextAt: number }>();
  private readonly loop: PollLoop;
  private stopped = false;

  private constructor(private readonly d: ExecutorDeps) {
    this.loop = new PollLoop(
      () => this.tick(),
      () => this.d.tickMs,
      (e) => this.d.log.error('command tick failed', { error: e as Error }),
    );
  }

  private get now() {
    return (this.d.now ?? Date.now)();
  }

  /** Loads the command records and reopens the windows that are still open (call before recorders start). */
  static async open(d: ExecutorDeps): Promise<CommandExecutor> {
    const ex = new CommandExecutor(d);
    await ensureDir(d.dir);
    for (const name of await readdir(d.dir)) {
      const p = join(d.dir, name);
      if (name.startsWith(TEMP_PREFIX)) {
        await unlinkIfExists(p);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const text = await readFile(p, 'utf8').catch(() => 'null');
      let raw: unknown = null;
      try {
        raw = JSON.parse(text);
      } catch {
        /* reported below */
      }
      const parsed = RecordSchema.safeParse(raw);
      if (!parsed.success) {
        d.log.error('command record unreadable; ignored', { file: p });
        continue;
      }
      const r = parsed.data;
      ex.records.set(r.id, r);
      if (r.command && !r.result && r.standingUntil) d.outbox.addStandingWindow(r.id, { cameraKey: r.command.cameraKey, from: new Date(r.command.from), to: new Date(r.command.to) });
    }
    return ex;
  }

  /** Starts the loop that closes windows and (re)sends acks. */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    // Commands still being executed (a heartbeat answer that came just before the stop) finish first.
    await this.lock.idle();
  }

  list(): CommandRecord[] {
    return [...this.records.values()].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  get(id: string): CommandRecord | undefined {
    return this.records.get(id);
  }

  /** Commands as they came in a heartbeat answer: validated, unknown kinds logged and ignored, the rest executed. */
  async accept(raw: readonly unknown[]): Promise<CommandRecord[]> {
    const p = parseCommands(raw);
    for (const u of p.unknown) this.d.log.warn('ignoring a command of a kind this agent does not know', { id: u.id, kind: u.kind });
    for (const bad of p.invalid) {
      this.d.log.error('invalid command from the centre', { id: bad.id, kind: bad.kind, problem: bad.problem });
      if (bad.id) await this.refuse(bad.id, bad.kind, `invalid command: ${bad.problem}`);
    }
    const out: CommandRecord[] = [];
    for (const c of p.commands) out.push(await this.executeCommand(c));
    return out;
  }

  /** Executes one command (idempotent: a command seen before is not executed again). */
  async executeCommand(cmd: AgentCommand): Promise<CommandRecord> {
    return this.lock.run(async () => {
      const existing = this.records.get(cmd.id);
      if (existing) {
        if (existing.command && JSON.stringify(existing.command) !== JSON.stringify(cmd)) this.d.log.warn('command id seen before with other content; the first is kept', { id: cmd.id });
        // Repeating the marking is harmless and covers a crash between the record and the marking.
        if (existing.command && !existing.result) await this.d.outbox.preserveWindow(existing.command.cameraKey, new Date(existing.command.from), new Date(existing.command.to));
        return existing;
      }
      const now = this.now;
      const from = new Date(cmd.from);
      const to = new Date(cmd.to);
      const known = this.d.isKnownCamera(cmd.cameraKey);
      const until = to.getTime() + this.d.closingSlackMs;
      const rec: CommandRecord = {
        v: 1,
        id: cmd.id,
        command: { ...cmd, incidentId: cmd.incidentId ?? null },
        kind: cmd.kind,
        receivedAt: new Date(now).toISOString(),
        standingUntil: known && until > now ? new Date(until).toISOString() : null,
        result: null,
        ack: { state: 'pending', at: null, lastError: null },
      };
      await this.save(rec); // durable before it acts
      if (rec.standingUntil) this.d.outbox.addStandingWindow(cmd.id, { cameraKey: cmd.cameraKey, from, to });
      const found = await this.d.outbox.preserveWindow(cmd.cameraKey, from, to);
      this.d.log.info('case window preserved: local segments held and queued first', {
        id: cmd.id,
        camera: cmd.cameraKey,
        from: cmd.from,
        to: cmd.to,
        incidentId: cmd.incidentId,
        segments: found.segments.length,
        openUntil: rec.standingUntil,
      });
      if (!rec.standingUntil) {
        rec.result = judgeWindow(cmd, found, known, new Date(now));
        await this.save(rec);
      }
      return rec;
    });
  }

  /** Closes windows whose end has been recorded, sends due acks, forgets long-settled records. */
  async tick(): Promise<void> {
    const now = this.now;
    await this.lock.run(async () => {
      for (const rec of this.records.values()) {
        if (rec.result || !rec.command || !rec.standingUntil || Date.parse(rec.standingUntil) > now) continue;
        const c = rec.command;
        const found = await this.d.outbox.preserveWindow(c.cameraKey, new Date(c.from), new Date(c.to));
        this.d.outbox.removeStandingWindow(rec.id);
        rec.result = judgeWindow(c, found, this.d.isKnownCamera(c.cameraKey), new Date(now));
        await this.save(rec);
        this.d.log.info('case window closed', { id: rec.id, camera: c.cameraKey, status: rec.result.status, detail: rec.result.detail });
      }
    });
    for (const rec of [...this.records.values()]) {
      if (this.stopped) break;
      if (!rec.result || rec.ack.state !== 'pending') continue;
      // Retry timing runs on the real clock (the injectable `now` places windows in time).
      const st = this.ackState.get(rec.id) ?? { failures: 0, nextAt: 0 };
      if (st.nextAt > Date.now()) continue;
      const answer = await this.d.ack(rec.id, { status: rec.result.status, ...(rec.result.detail !== null && { detail: rec.result.detail }) });
      if (answer.kind === 'retry') {
        st.failures++;
        st.nextAt = Date.now() + retryDelay(this.d.backoff, st.failures - 1, answer.retryAfterMs, this.d.maxRetryAfterMs, this.d.random);
        this.ackState.set(rec.id, st);
        rec.ack.lastError = answer.reason;
        if (st.failures === 1 || st.failures % 10 === 0) this.d.log.warn('command ack will be retried', { id: rec.id, reason: answer.reason, failures: st.failures });
        continue;
      }
      this.d.onReachable?.();
      await this.lock.run(async () => {
        rec.ack = { state: answer.kind, at: new Date(this.now).toISOString(), lastError: answer.kind === 'rejected' ? answer.reason : null };
        await this.save(rec);
      });
      this.ackState.delete(rec.id);
      if (answer.kind === 'accepted') this.d.log.info('command acknowledged', { id: rec.id, status: rec.result.status });
      else this.d.log.error('the centre refused the command ack', { id: rec.id, reason: answer.reason });
    }
    const keep = this.d.keepSettledMs ?? 30 * 86_400_000;
    for (const rec of [...this.records.values()]) {
      if (rec.ack.state !== 'pending' && rec.ack.at && Date.parse(rec.ack.at) < now - keep) {
        await unlinkIfExists(join(this.d.dir, `${rec.id}.json`));
        this.records.delete(rec.id);
      }
    }
  }

  /** A sign the centre is back: acks waiting out a retry delay go with the next tick. */
  wake(): void {
    for (const st of this.ackState.values()) st.nextAt = 0;
  }

  /** Unacknowledged results (for status and tests). */
  pendingAcks(): CommandRecord[] {
    return this.list().filter((r) => r.result && r.ack.state === 'pending');
  }

  private async refuse(id: string, kind: string, detail: string) {
    await this.lock.run(async () => {
      if (this.records.has(id)) return;
      const at = new Date(this.now).toISOString();
      await this.save({ v: 1, id, command: null, kind, receivedAt: at, standingUntil: null, result: { status: 'failed', detail: detail.slice(0, 2000), at }, ack: { state: 'pending', at: null, lastError: null } });
    });
  }

  private async save(rec: CommandRecord) {
    await writeFileAtomic(join(this.d.dir, `${rec.id}.json`), `${JSON.stringify(rec)}\n`);
    this.records.set(rec.id, rec);
  }
}
