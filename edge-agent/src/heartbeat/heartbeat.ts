/**
 * Heartbeat: every N seconds, POST /api/v1/agent/heartbeat with version, clock offset, disk use, backlog and camera
 * health; the answer's times feed the clock-offset estimate. Failures are logged and tried again next beat; while
 * the centre gives no answer at all, the next beat comes after `probeMs`, and only once a cheap probe (`probe`, a TCP
 * connection) succeeds; every answer calls `onReachable` so the uploader resumes at once instead of sleeping out its
 * backoff.
 */
import { AGENT_ERROR_CODES, agentPaths, type HeartbeatBody, type HeartbeatResponse } from '@mamoru/contract';
import { statfs } from 'node:fs/promises';
import type { Logger } from '../lib/logger.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import type { OutboxStats } from '../outbox/outbox.ts';
import type { CentreClient } from '../uploader/centre-client.ts';
import { ClockOffsetEstimator, sampleOffset } from './clock-offset.ts';

export type DiskUse = { usedBytes: number; totalBytes: number; freeBytes: number; usePercent: number };

/** statfs of the folder's filesystem, in the same terms as `df` (free = available to unprivileged users). */
export async function diskUse(path: string): Promise<DiskUse> {
  const s = await statfs(path);
  const total = s.blocks * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  return { usedBytes: used, totalBytes: total, freeBytes: avail, usePercent: used + avail > 0 ? (100 * used) / (used + avail) : 0 };
}

export type HeartbeatDeps = {
  client: CentreClient;
  intervalMs: number;
  version: string;
  spoolDir: string;
  backlog: () => Pick<OutboxStats, 'count' | 'bytes'>;
  cameraHealth: () => { key: string; health: string }[];
  clock?: ClockOffsetEstimator;
  log: Logger;
  onCommands?: (commands: unknown[]) => void;
  /** Called on every answered heartbeat: a sign the centre is reachable (the uploader wakes out of its backoff). */
  onReachable?: () => void;
  /**
   * While the centre gives no answer (refused, reset, timed out, or a proxy's 502/503/504 without Retry-After), the
   * next heartbeat comes after this many ms (±25 % jitter) instead of intervalMs. Default: intervalMs.
   */
  probeMs?: number;
  /**
   * The cheap check made at those times instead of a heartbeat (`connectProbe`: a TCP connection to the centre): null
   * when the centre's host took a connection (a heartbeat follows at once), else why not. Without it, every probe is
   * a full heartbeat.
   */
  probe?: (signal: AbortSignal) => Promise<string | null>;
  /** Timeout of one heartbeat request (default 10 s): a black-holed link must not hold the probe for a minute. */
  timeoutMs?: number;
  random?: () => number;
  now?: () => number;
};

export class Heartbeat {
  readonly clock: ClockOffsetEstimator;
  private readonly loop: PollLoop;
  private readonly ctl = new AbortController();
  private failures = 0;
  /** The last heartbeat got no answer from the centre itself: probe often until it answers. */
  private unreachable = false;
  lastOkAt: number | null = null;

  constructor(private readonly d: HeartbeatDeps) {
    this.clock = d.clock ?? new ClockOffsetEstimator();
    this.loop = new PollLoop(
      () => this.pass(),
      () => (this.unreachable && this.d.probeMs !== undefined ? Math.round(this.d.probeMs * (0.75 + 0.5 * (this.d.random ?? Math.random)())) : this.d.intervalMs),
      (e) => this.d.log.error('heartbeat failed', { error: e as Error }),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Aborts the heartbeat under way and stops the loop. */
  async stop(): Promise<void> {
    this.ctl.abort();
    await this.loop.stop();
  }

  /** While the centre gives no answer, a heartbeat only once its host takes a connection again. */
  private async pass(): Promise<boolean> {
    if (this.unreachable && this.d.probe) {
      const refused = await this.d.probe(this.ctl.signal).catch((e: unknown) => (e as Error).message);
      if (refused !== null) {
        if (!this.ctl.signal.aborted) this.fail(refused);
        return false;
      }
    }
    return this.beat();
  }

  /** One heartbeat; resolves true when the centre answered 200. */
  async beat(): Promise<boolean> {
    const now = this.d.now ?? Date.now;
    const disk = await diskUse(this.d.spoolDir).catch(() => null);
    const backlog = this.d.backlog();
    const offset = this.clock.offsetMs();
    const t0 = now();
    const body: HeartbeatBody = {
      version: this.d.version,
      sentAtMs: t0,
      clockOffsetMs: offset,
      diskUsedBytes: disk?.usedBytes ?? null,
      diskTotalBytes: disk?.totalBytes ?? null,
      backlogCount: backlog.count,
      backlogBytes: backlog.bytes,
      cameras: this.d.cameraHealth().map((c) => ({ key: c.key, health: c.health.slice(0, 32) })),
    };
    try {
      const res = await this.d.client.request({ method: 'POST', path: agentPaths.heartbeat(), json: body, signal: this.ctl.signal, timeoutMs: this.d.timeoutMs ?? 10_000 });
      const t3 = now();
      if (res.status !== 200) {
        // The centre refuses this box's clock (more than a day off): only fixing the clock helps; said at every tenth beat.
        if (res.errorCode === AGENT_ERROR_CODES.timeOutOfBounds && this.failures % 10 === 0) this.d.log.error('the centre refuses this agent\'s clock; fix the system time (NTP)', { message: res.errorMessage });
        // A proxy in front of a centre that is down answers 502/503/504: as good as no answer, unless it says when.
        this.unreachable = [502, 503, 504].includes(res.status) && res.retryAfterMs === null;
        this.fail(`centre answered ${res.status}${res.errorCode ? ` ${res.errorCode}` : ''}`);
        return false;
      }
      this.unreachable = false;
      const b = res.body as Partial<Record<keyof HeartbeatResponse, unknown>> | null;
      if (typeof b?.receivedAtMs === 'number' && typeof b.sentAtMs === 'number') this.clock.add(sampleOffset(t0, b.receivedAtMs, b.sentAtMs, t3));
      if (this.failures > 0) this.d.log.info('heartbeat answered again', { after: this.failures });
      this.failures = 0;
      this.lastOkAt = t3;
      this.d.onReachable?.();
      if (Array.isArray(b?.commands) && b.commands.length > 0) this.d.onCommands?.(b.commands);
      return true;
    } catch (e) {
      if ((e as Error).name !== 'AbortedError') {
        this.unreachable = true;
        this.fail((e as Error).message);
      }
      return false;
    }
  }

  private fail(reason: string) {
    this.failures++;
    if (this.failures === 1 || this.failures % 10 === 0) this.d.log.warn('heartbeat failed', { reason, failures: this.failures });
  }
}
