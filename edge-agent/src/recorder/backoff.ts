/** Capped exponential backoff with full jitter: the n-th delay is uniform in [0, min(cap, base * 2^n)]. */
export type BackoffOptions = { baseMs: number; capMs: number; random?: () => number };

export class Backoff {
  private attempt = 0;
  constructor(private readonly o: BackoffOptions) {
    if (!(o.baseMs > 0) || !(o.capMs >= o.baseMs)) throw new Error('backoff needs 0 < baseMs <= capMs');
  }

  /** The next delay; each call widens the window until the cap. */
  next(): number {
    const ceiling = Math.min(this.o.capMs, this.o.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor((this.o.random ?? Math.random)() * ceiling);
  }

  /** After a healthy run: start again from the base window. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
