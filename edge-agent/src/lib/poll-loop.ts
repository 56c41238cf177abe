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

export class PollLoop {
  private loop: Promise<void> | null = null;
  private running = false;
  private wake: (() => void) | null = null;

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
          const t = setTimeout(r, this.opts.aligned && ms > 0 ? untilNextMultiple(ms, Date.now()) : ms);
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
