/**
 * Disk guard: keeps the spool's filesystem under the configured use. The agent deletes local media as soon as the
 * centre acknowledges it, so no acknowledged files remain to drop first; when space must be found, the oldest
 * routine (not held, not case-window) segments are evicted: pending continuous footage and on-demand segments in the
 * rolling buffer alike, oldest capture first. Each eviction becomes a gap with reason
 * "evicted" in the outbox — written before the media is deleted — so the centre shows the hole.
 */
import { diskUse, type DiskUse } from '../heartbeat/heartbeat.ts';
import type { Logger } from '../lib/logger.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import type { Outbox } from '../outbox/outbox.ts';
import { pendingBytes } from '../outbox/items.ts';

export type DiskLimits = { maxUsePercent: number; minFreeBytes: number; maxSpoolBytes: number; reserveBytes?: number };

/** Bytes that must go for every limit to hold again (0 = within limits). Pure. */
export function bytesToFree(disk: DiskUse | null, spoolBytes: number, limits: DiskLimits): number {
  let need = 0;
  if (disk) {
    const capacity = disk.usedBytes + disk.freeBytes;
    const allowedUsed = Math.floor((capacity * limits.maxUsePercent) / 100);
    need = Math.max(need, disk.usedBytes - allowedUsed, limits.minFreeBytes - disk.freeBytes);
  }
  if (limits.maxSpoolBytes > 0) need = Math.max(need, spoolBytes - limits.maxSpoolBytes);
  return Math.max(0, need);
}

/**
 * `needBytes`: what the limits asked for. `overflow`: held footage alone is over the limits, so the guard keeps only
 * the reserve free (live recording continues there) and new segments of open case windows are not held.
 */
export type GuardReport = { needBytes: number; evicted: string[]; freedBytes: number; disk: DiskUse | null; shortBytes: number; overflow: boolean };

export class DiskGuard {
  private readonly loop: PollLoop;
  private stopped = false;
  private overflow = false;
  last: GuardReport | null = null;

  constructor(
    private readonly d: {
      outbox: Outbox;
      spoolDir: string;
      limits: DiskLimits;
      intervalMs: number;
      log: Logger;
      /** Replaceable for tests: how full the filesystem is. */
      measure?: (dir: string) => Promise<DiskUse>;
    },
  ) {
    this.loop = new PollLoop(
      () => this.check(),
      () => this.d.intervalMs,
      (e) => this.d.log.error('disk guard check failed', { error: e as Error }),
      { aligned: true },
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  /** One pass: measure, and evict oldest routine segments until the limits hold. */
  async check(): Promise<GuardReport> {
    const measure = this.d.measure ?? diskUse;
    const disk = await measure(this.d.spoolDir).catch(() => null);
    const st = this.d.outbox.stats();
    // The spool quota counts what waits to be sent and what the on-demand rolling buffer keeps.
    const limitNeed = bytesToFree(disk, st.bytes + st.buffered.bytes, this.d.limits);
    const candidates = this.d.outbox.evictionCandidates();
    const routine = candidates.reduce((n, s) => n + pendingBytes(s), 0);
    // Held footage alone is over the limits: evicting every routine segment would still not meet them, and would
    // throw away the live recording as fast as it closes. Keep the reserve free instead: live footage stays in it
    // (oldest evicted first) and recording goes on.
    const reserve = this.d.limits.reserveBytes ?? 0;
    const overflow = limitNeed > routine && disk !== null && reserve > 0;
    const needBytes = overflow ? Math.max(0, reserve - disk!.freeBytes) : limitNeed;
    if (overflow !== this.overflow) {
      this.overflow = overflow;
      if (overflow) this.d.log.error('held footage fills the disk past its limits: live recording continues in the reserve, oldest first; new segments of open case windows are no longer held', { overLimitBytes: limitNeed - routine, reserveBytes: reserve, freeBytes: disk?.freeBytes });
      else this.d.log.info('the disk is back within its limits: new segments of open case windows are held again', { freeBytes: disk?.freeBytes });
    }
    this.d.outbox.holdNewSegments = !overflow;
    const report: GuardReport = { needBytes, evicted: [], freedBytes: 0, disk, shortBytes: 0, overflow };
    if (needBytes > 0) {
      for (const seg of candidates) {
        if (report.freedBytes >= needBytes || this.stopped) break;
        const size = pendingBytes(seg);
        const freed = await this.d.outbox.evictSegment(seg.id, `evicted by the agent's disk guard (needed ${needBytes} bytes)`);
        if (freed > 0 || size === 0) {
          report.evicted.push(seg.id);
          report.freedBytes += freed;
          this.d.log.warn('segment evicted for disk space; reported as a gap', { id: seg.id, camera: seg.segment.cameraKey, start: seg.segment.start, bytes: freed });
        }
      }
      report.shortBytes = Math.max(0, needBytes - report.freedBytes);
      if (report.shortBytes > 0 && !overflow) this.d.log.error('disk still over its limit; nothing more may be evicted (held or in-flight items only)', { shortBytes: report.shortBytes });
    }
    this.last = report;
    return report;
  }
}
