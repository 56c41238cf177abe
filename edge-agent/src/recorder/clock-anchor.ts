/**
 * Maps one ffmpeg run's stream time to the agent's wall clock.
 *
 * Every progress report says "at wall time W, packets up to stream time T have been muxed". A packet cannot be
 * muxed before it arrived, so W - T >= (arrival wall time - stream time) for every report: each sample is the true
 * offset plus a non-negative delay (demuxer queue, interleaving, pipe). The estimate is the minimum over a sliding
 * window of samples (like NTP's minimum-delay filter). The window lets the estimate follow a camera whose clock
 * runs slow or fast against the agent's (stream copy keeps the camera's timestamps). See docs/recorder.md.
 */
export class ClockAnchor {
  private samples: Array<{ wallMs: number; offsetMs: number }> = [];

  constructor(private readonly windowMs = 120_000) {}

  /** A report: stream time `streamMs` had been muxed by agent wall time `wallMs`. */
  add(wallMs: number, streamMs: number): void {
    const offsetMs = wallMs - streamMs;
    // Monotone deque: drop older samples that can never be the minimum again.
    while (this.samples.length && this.samples[this.samples.length - 1]!.offsetMs >= offsetMs) this.samples.pop();
    this.samples.push({ wallMs, offsetMs });
    const horizon = wallMs - this.windowMs;
    while (this.samples.length > 1 && this.samples[0]!.wallMs < horizon) this.samples.shift();
  }

  /** Wall ms = offset + stream ms; null before the first sample. */
  offsetMs(): number | null {
    return this.samples.length ? this.samples[0]!.offsetMs : null;
  }

  get sampleCount(): number {
    return this.samples.length;
  }
}
