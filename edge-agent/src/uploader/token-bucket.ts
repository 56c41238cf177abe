/**
 * Upload bandwidth cap: a token bucket (one token per byte) shared by all uploads, applied to the request body
 * (uploader.ts: fileChunks). The rate can change at run time (e.g. a future centre command).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate: number;
  private burst: number;

  /** `bytesPerSecond` 0 = unlimited. The burst (bucket size) defaults to 1/8 s of traffic, at least 16 KiB. */
  constructor(bytesPerSecond: number, opts: { burstBytes?: number; now?: () => number } = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.rate = bytesPerSecond;
    this.burst = opts.burstBytes ?? TokenBucket.defaultBurst(bytesPerSecond);
    this.tokens = 0;
    this.last = this.now();
  }
  private readonly now: () => number;

  static defaultBurst(rate: number) {
    return Math.max(16 * 1024, Math.floor(rate / 8));
  }

  get bytesPerSecond() {
    return this.rate;
  }

  setRate(bytesPerSecond: number) {
    this.refill();
    this.rate = bytesPerSecond;
    this.burst = TokenBucket.defaultBurst(bytesPerSecond);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Largest piece one take() may ask for. */
  get maxChunk() {
    return this.burst;
  }

  private refill() {
    const t = this.now();
    if (this.rate > 0) this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
  }

  /** Waits until `n` bytes (≤ maxChunk) may be sent. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.rate <= 0) return;
      this.refill();
      if (this.tokens >= n) {
        this.tokens -= n;
        return;
      }
      const waitMs = Math.max(1, Math.ceil(((n - this.tokens) * 1000) / this.rate));
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        const onAbort = () => {
          clearTimeout(t);
          reject(signal?.reason ?? new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
