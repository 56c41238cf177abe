/**
 * The on-demand rolling buffer's age bound: segments of on-demand cameras whose metadata the centre acknowledged and
 * that no case asked for are deleted once they are older than `days` (the disk guard bounds the buffer by space as
 * well). Held segments are kept whatever their age until the centre has their media. Each run of expired segments
 * is reported to the centre as an "evicted" gap.
 */
import type { Logger } from '../lib/logger.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import type { Outbox } from '../outbox/outbox.ts';

export class RollingBuffer {
  private readonly loop: PollLoop;

  constructor(private readonly d: { outbox: Outbox; days: number; intervalMs: number; log: Logger; now?: () => number }) {
    this.loop = new PollLoop(
      () => this.check(),
      () => this.d.intervalMs,
      (e) => this.d.log.error('rolling buffer check failed', { error: e as Error }),
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass: expire buffered segments that ended more than `days` ago. */
  async check(): Promise<{ expired: string[]; bytes: number; gaps: number }> {
    const now = (this.d.now ?? Date.now)();
    const cutoff = new Date(now - this.d.days * 86_400_000);
    const r = await this.d.outbox.expireBuffered(cutoff, `on-demand rolling buffer (${this.d.days} days): media deleted at the store, its metadata and SHA-256 are at the centre`);
    if (r.expired.length > 0) this.d.log.info('on-demand segments left the rolling buffer', { segments: r.expired.length, bytes: r.bytes, gaps: r.gaps, olderThan: cutoff.toISOString() });
    return r;
  }
}
