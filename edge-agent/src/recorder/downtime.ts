/**
 * The agent's own downtime (crash, kill, power loss, upgrade) is a gap of every camera it records.
 *
 * While it runs, the agent keeps a **life mark**, `<spoolDir>/alive.json`: the time it was last seen running and each
 * camera's health then, rewritten every few seconds and once more, marked clean, at the end of a clean shutdown.
 * At the next start, before the recorders start, `planDowntime` decides per camera from the mark and from where the
 * camera's record ends (`Outbox.coveredUntil`: its pending segments and gaps, the start-up recovery's segments, and
 * what the centre already acknowledged):
 * - the camera was recording (or starting) when the agent was last seen: `agent_down` from the end of its record
 *   to the first new segment (the recorder reports it, so both boundaries are exact);
 * - the camera was offline then: its outage is reported up to the mark (`camera_offline`), and `agent_down` from
 *   the mark to the first new segment.
 * A camera this agent never recorded (no record) gets no downtime gap.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { GapReport } from '../contracts.ts';
import type { Logger } from '../lib/logger.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import { replaceFileSync, writeFileAtomic } from '../state/atomic-file.ts';

const MarkSchema = z.object({
  v: z.literal(1),
  /** Agent wall clock when it was last seen running. */
  atMs: z.number(),
  /** Written at the end of a clean shutdown (SIGTERM), after the recorders reported up to the stop. */
  clean: z.boolean(),
  /** Each camera's health at `atMs`. */
  cameras: z.record(z.string(), z.string()),
});
export type LifeMark = z.infer<typeof MarkSchema>;

export const lifeMarkPath = (spoolDir: string) => join(spoolDir, 'alive.json');

/** The previous run's mark, or null (first start, or unreadable). */
export async function readLifeMark(spoolDir: string): Promise<LifeMark | null> {
  try {
    return MarkSchema.parse(JSON.parse(await readFile(lifeMarkPath(spoolDir), 'utf8')));
  } catch {
    return null;
  }
}

export type DowntimePlan = {
  /** An outage the camera was already in when the agent was last seen, reported now (before the recorder starts). */
  before: GapReport | null;
  /** What the recorder reports with its first new segment: `agent_down` from `sinceMs`. */
  resume: { sinceMs: number; detail: string } | null;
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Pure: the downtime gaps of one camera at start-up. */
export function planDowntime(o: { cameraKey: string; coveredUntil: number | null; mark: LifeMark | null; restartedAt: number }): DowntimePlan {
  const { cameraKey, coveredUntil, mark, restartedAt } = o;
  if (coveredUntil === null || coveredUntil >= restartedAt) return { before: null, resume: null };
  const how = mark === null ? 'no life mark' : mark.clean ? 'clean shutdown' : 'no clean shutdown: crash, kill or power loss';
  const seen = mark ? `last seen running ${iso(mark.atMs)} (${how})` : `(${how})`;
  const detail = `agent not running: ${seen}; restarted ${iso(restartedAt)}`;
  const health = mark?.cameras[cameraKey];
  if (mark && health === 'offline' && mark.atMs > coveredUntil && mark.atMs < restartedAt) {
    return {
      before: { cameraKey, start: new Date(coveredUntil), end: new Date(mark.atMs), reason: 'camera_offline', detail: 'camera offline when the agent was last seen running' },
      resume: { sinceMs: mark.atMs, detail },
    };
  }
  return { before: null, resume: { sinceMs: coveredUntil, detail } };
}

/** Rewrites the life mark every `intervalMs` while the agent runs; `stop()` writes the clean one. */
export class LifeMarkWriter {
  private readonly loop: PollLoop;

  constructor(
    private readonly d: { spoolDir: string; intervalMs: number; cameraHealth: () => Record<string, string>; log: Logger; now?: () => number },
  ) {
    this.loop = new PollLoop(
      () => this.write(false),
      () => d.intervalMs,
      (e) => d.log.warn('could not write the life mark', { error: e as Error }),
      { aligned: true },
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Call after the recorders stopped (they reported up to the stop): the next start counts its downtime from here. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.write(true).catch((e: unknown) => this.d.log.warn('could not write the life mark', { error: e as Error }));
  }

  private async write(clean: boolean) {
    const mark: LifeMark = { v: 1, atMs: (this.d.now ?? Date.now)(), clean, cameras: this.d.cameraHealth() };
    // Not fsynced while running (every 5 s, on the disk ffmpeg writes to): a crash of the process keeps the page
    // cache; after a power loss the mark may be an older one (or none), which moves only the split between a camera's
    // camera_offline and agent_down spans earlier (the gaps still cover the whole downtime, from the camera's record).
    // The clean mark at the end of a shutdown is made durable. The running one is written synchronously (no thread-pool
    // round trips, each of which would wake the agent once more every 5 s).
    const text = `${JSON.stringify(mark)}\n`;
    if (clean) await writeFileAtomic(lifeMarkPath(this.d.spoolDir), text);
    else replaceFileSync(lifeMarkPath(this.d.spoolDir), text);
  }
}
