/** Waveform summary of a recording: the peak level per channel in fixed buckets (default 100 ms). */

export type Waveform = {
  version: 1;
  bucketMs: number;
  sampleRate: number;
  channels: number;
  durationMs: number;
  /** peaks[channel][bucket], 0..1 (|sample| / 32768), three decimals. */
  peaks: number[][];
};

/** Accumulates interleaved s16le PCM chunks of any size (odd byte counts included) into per-bucket peaks. */
export function peakAccumulator(sampleRate: number, channels: number, bucketMs = 100) {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || !Number.isInteger(channels) || channels <= 0) throw new RangeError('bad PCM format');
  const frameBytes = 2 * channels;
  const peaks: number[][] = Array.from({ length: channels }, () => []);
  let carry = Buffer.alloc(0);
  let frame = 0; // frames seen so far
  const bucketOf = (f: number) => Math.floor((f * 1000) / (sampleRate * bucketMs));

  return {
    push(chunk: Buffer) {
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const whole = buf.length - (buf.length % frameBytes);
      for (let off = 0; off < whole; off += frameBytes, frame++) {
        const b = bucketOf(frame);
        for (let c = 0; c < channels; c++) {
          const v = Math.abs(buf.readInt16LE(off + 2 * c));
          const row = peaks[c]!;
          while (row.length <= b) row.push(0);
          if (v > row[b]!) row[b] = v;
        }
      }
      carry = Buffer.from(buf.subarray(whole));
    },
    finish(): Waveform {
      return {
        version: 1,
        bucketMs,
        sampleRate,
        channels,
        durationMs: Math.round((frame * 1000) / sampleRate),
        peaks: peaks.map((row) => row.map((v) => Math.round((Math.min(v, 32768) / 32768) * 1000) / 1000)),
      };
    },
  };
}
