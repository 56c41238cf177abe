/**
 * The PBX adapters' work loop: run a pass, wait `intervalMs`, repeat until stopped. A failing pass is reported and
 * retried on the next turn; stop() wakes the wait and resolves once the pass under way has finished.
 */
export class PollLoop {
  private loop: Promise<void> | null = null;
  private running = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: () => number,
    private readonly onError: (err: unknown) => void,
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
          const t = setTimeout(r, this.intervalMs());
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
