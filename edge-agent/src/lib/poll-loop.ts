/**
 * The agent's periodic loop: run a pass, wait `intervalMs`, repeat until stopped. The first pass starts at once; a
 * failing pass is reported and retried on the next turn; stop() wakes the wait and resolves once the pass under way
 * has finished. Used by the heartbeat, the disk guard, the rolling buffer, the command executor and the PBX adapters.
 */
/**
 * Milliseconds from `nowMs` to the next wall-clock multiple of `periodMs` (a whole period when `nowMs` is on one).
 * Local timers that wait this long fire together, in one wake-up of the process.
 */
export function untilNextMultiple(periodMs: number, nowMs: number): number {
  return periodMs - (((nowMs % periodMs) + periodMs) % periodMs);
}

/**
 * Milliseconds from `nowMs` to the next wall-clock multiple of `periodMs` that is also after `afterMs` (the multiple
 * the timer that is firing now was set for). Node's timers run on the monotonic clock and can fire a millisecond or
 * so before their multiple by the wall clock (seen: a pass at …299 for …300); waiting from `nowMs` alone would then
 * end at that same multiple, a second pass and wake-up moments after the first.
 */
export function untilNextMultipleAfter(periodMs: number, nowMs: number, afterMs: number): number {
  // Only a multiple less than a period ahead is the one just fired early; one further ahead means the wall clock was
  // set back, and then the wait counts from now (never longer than a period).
  const from = afterMs > nowMs && afterMs - nowMs < periodMs ? afterMs : nowMs;
  return from - nowMs + untilNextMultiple(periodMs, from);
}

export class PollLoop {
  private loop: Promise<void> | null = null;
  private running = false;
  private wake: (() => void) | null = null;
  /** The wall-clock multiple an aligned loop's wait was set for last. */
  private target = -Infinity;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly intervalMs: () => number,
    private readonly onError: (err: unknown) => void,
    /**
     * Wait until the next wall-clock multiple of the interval instead of a whole interval: local loops with the same
     * interval (the life mark, the recorders' watchdogs) then run in one wake-up of the process. Not for anything
     * that talks to the centre (every store would come at the same second).
     */
    private readonly opts: { aligned?: boolean } = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pass();
        } catch (err) {
          this.onError(err);
        }
        if (!this.running) break;
        await new Promise<void>((r) => {
          const ms = this.intervalMs();
          let wait = ms;
          if (this.opts.aligned && ms > 0) {
            const now = Date.now();
            wait = untilNextMultipleAfter(ms, now, this.target);
            this.target = now + wait;
          }
          const t = setTimeout(r, wait);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}
