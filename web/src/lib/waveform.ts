/**
 * A recording's waveform summary (made by the centre's worker, docs/api-calls.md §3) drawn as SVG: peaks per
 * 100 ms bucket reduced to the columns the screen has, scaled to the height, one strip per channel.
 */

export type Waveform = {
  version: 1;
  bucketMs: number;
  sampleRate: number;
  channels: number;
  durationMs: number;
  /** `peaks[channel][bucket]`: max |sample| / 32768 in the bucket, 0..1. */
  peaks: number[][];
};

/** The waveform JSON checked field by field; null for anything else (a newer version, a broken file). */
export function parseWaveform(v: unknown): Waveform | null {
  if (!v || typeof v !== 'object') return null;
  const w = v as Record<string, unknown>;
  const positive = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;
  if (w.version !== 1 || !positive(w.bucketMs) || !positive(w.sampleRate) || !positive(w.channels)) return null;
  if (typeof w.durationMs !== 'number' || !Number.isFinite(w.durationMs) || w.durationMs < 0) return null;
  if (!Array.isArray(w.peaks) || w.peaks.length !== w.channels) return null;
  const peaks: number[][] = [];
  for (const ch of w.peaks) {
    if (!Array.isArray(ch) || !ch.every((p) => typeof p === 'number' && Number.isFinite(p))) return null;
    peaks.push((ch as number[]).map((p) => Math.min(1, Math.max(0, p))));
  }
  return { version: 1, bucketMs: w.bucketMs, sampleRate: w.sampleRate, channels: w.channels, durationMs: w.durationMs, peaks };
}

/**
 * `count` columns over the whole recording, each the loudest bucket it covers (a short shout stays visible however
 * far the drawing is shrunk). With more columns than buckets each bucket spans several columns.
 */
export function peakColumns(peaks: readonly number[], count: number): number[] {
  const n = Math.max(0, Math.floor(count));
  if (n === 0 || peaks.length === 0) return new Array<number>(n).fill(0);
  const out = new Array<number>(n);
  for (let c = 0; c < n; c++) {
    const a = Math.floor((c * peaks.length) / n);
    const b = Math.max(a + 1, Math.floor(((c + 1) * peaks.length) / n));
    let max = 0;
    for (let i = a; i < b; i++) max = Math.max(max, peaks[i]!);
    out[c] = max;
  }
  return out;
}

/**
 * The factor that makes the loudest peak of the recording fill the strip (phone audio is often quiet), at most
 * `maxGain`. Silence (all zero) gets 1. The same factor serves every channel so their levels stay comparable.
 */
export function displayGain(peaks: readonly (readonly number[])[], maxGain = 8): number {
  let max = 0;
  for (const ch of peaks) for (const p of ch) max = Math.max(max, p);
  return max > 0 ? Math.min(maxGain, 1 / max) : 1;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * An SVG path of vertical bars, mirrored about the strip's middle: one bar per column, `width` by `height` user
 * units. A silent column still draws a hairline (minHeight) so the strip shows where the recording is.
 */
export function waveformPath(columns: readonly number[], width: number, height: number, opts: { gain?: number; gapRatio?: number; minHeight?: number } = {}): string {
  if (columns.length === 0 || width <= 0 || height <= 0) return '';
  const gain = opts.gain ?? 1;
  const step = width / columns.length;
  const bar = Math.max(step * (1 - (opts.gapRatio ?? 0.25)), 0.5);
  const min = opts.minHeight ?? 1;
  const mid = height / 2;
  return columns
    .map((p, i) => {
      const h = Math.max(min, Math.min(height, p * gain * height));
      return `M${r2(i * step)} ${r2(mid - h / 2)}h${r2(bar)}v${r2(h)}h${r2(-bar)}z`;
    })
    .join('');
}

/** Where the playhead stands, 0..1, for a media time in seconds. */
export function playFraction(currentTimeS: number, durationS: number): number {
  if (!Number.isFinite(currentTimeS) || !Number.isFinite(durationS) || durationS <= 0) return 0;
  return Math.min(1, Math.max(0, currentTimeS / durationS));
}

/** The media time (seconds) for a click at `x` across a strip `width` wide. */
export function seekTime(x: number, width: number, durationS: number): number {
  if (width <= 0 || !Number.isFinite(durationS) || durationS <= 0) return 0;
  return Math.min(1, Math.max(0, x / width)) * durationS;
}
