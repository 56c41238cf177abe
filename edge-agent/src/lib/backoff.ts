/**
 * Retry timing for the whole agent: capped exponential backoff with full jitter (the n-th delay is uniform in
 * [0, min(cap, base · 2^n)]), the server's Retry-After, and an abortable sleep. The uploader and the command acks
 * count their own failures and call retryDelay; the recorder's restarts and sink retries use the stateful Backoff.
 */

export type BackoffPolicy = { baseMs: number; capMs: number };

/** The ceiling for attempt n (0-based): min(cap, base · 2^n). */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const exp = policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 52);
  return Math.min(policy.capMs, exp);
}

/** "Full jitter": a uniform draw in [0, ceiling]. `random` is injectable for tests. */
export function fullJitterDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * (backoffCeiling(policy, attempt) + 1));
}

/** A failure counter over fullJitterDelay: each next() widens the window until the cap; reset() starts over. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly o: BackoffPolicy & { random?: () => number }) {
    if (!(o.baseMs > 0) || !(o.capMs >= o.baseMs)) throw new Error('backoff needs 0 < baseMs <= capMs');
  }

  /** The next delay. */
  next(): number {
    return fullJitterDelay(this.o, this.attempt++, this.o.random);
  }

  /** After a healthy run: start again from the base window. */
  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Parses Retry-After (delta-seconds or an HTTP date) into milliseconds from `nowMs`. Returns null when absent or
 * unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return null; // e.g. "-5" or "1.5": not valid delta-seconds, not a date
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/**
 * How long to wait before the next try: the server's Retry-After when it gave one (clamped to `maxRetryAfterMs`),
 * otherwise full jitter.
 */
export function retryDelay(policy: BackoffPolicy, attempt: number, retryAfterMs: number | null, maxRetryAfterMs: number, random: () => number = Math.random): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, maxRetryAfterMs);
  return fullJitterDelay(policy, attempt, random);
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
