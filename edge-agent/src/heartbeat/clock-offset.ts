/**
 * NTP-style clock offset against the centre. Each heartbeat gives t0 (agent send), t1 (centre receive),
 * t2 (centre send), t3 (agent receive). The centre's offset relative to the agent is ((t1−t0)+(t2−t3))/2; the
 * contract's offsetMs() is agent − centre, the negation. Samples with a long round trip are less trustworthy, so the
 * estimate averages the recent samples whose round trip is close to the best recent one.
 */
import type { ClockOffsetSource } from '../contracts.ts';

export type OffsetSample = { offsetMs: number; rttMs: number; at: number };

/** agent − centre, ms, from one exchange. */
export function sampleOffset(t0: number, t1: number, t2: number, t3: number): OffsetSample {
  const centreMinusAgent = (t1 - t0 + (t2 - t3)) / 2;
  return { offsetMs: -centreMinusAgent, rttMs: Math.max(0, t3 - t0 - (t2 - t1)), at: t3 };
}

export class ClockOffsetEstimator implements ClockOffsetSource {
  private readonly samples: OffsetSample[] = [];
  constructor(private readonly window = 8) {}

  add(s: OffsetSample): void {
    if (!Number.isFinite(s.offsetMs) || !Number.isFinite(s.rttMs)) return;
    this.samples.push(s);
    if (this.samples.length > this.window) this.samples.shift();
  }

  offsetMs(): number | null {
    if (this.samples.length === 0) return null;
    const best = Math.min(...this.samples.map((s) => s.rttMs));
    const good = this.samples.filter((s) => s.rttMs <= best * 1.5 + 5);
    return Math.round(good.reduce((n, s) => n + s.offsetMs, 0) / good.length);
  }

  /** Round trip of the best recent sample (the offset's uncertainty is about half of it). */
  bestRttMs(): number | null {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.rttMs)) : null;
  }
}
