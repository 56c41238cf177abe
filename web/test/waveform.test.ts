import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayGain, parseWaveform, peakColumns, playFraction, seekTime, waveformPath } from '../src/lib/waveform.ts';

const valid = { version: 1, bucketMs: 100, sampleRate: 8000, channels: 2, durationMs: 300, peaks: [[0.1, 0.5, 0], [0.2, 1.2, -0.1]], recordingId: 'r', sourceSha256: 'x' };

describe('waveform JSON', () => {
  test('a summary from the worker is read; peaks are kept within 0..1', () => {
    const w = parseWaveform(valid);
    assert.ok(w);
    assert.equal(w.channels, 2);
    assert.deepEqual(w.peaks, [[0.1, 0.5, 0], [0.2, 1, 0]]);
  });

  test('anything else is refused rather than drawn wrong', () => {
    for (const bad of [
      null,
      'x',
      { ...valid, version: 2 },
      { ...valid, bucketMs: 0 },
      { ...valid, channels: 1 }, // two strips of peaks for one channel
      { ...valid, peaks: [[0.1], ['a']] },
      { ...valid, peaks: [[0.1], [Number.NaN]] },
      { ...valid, durationMs: -1 },
      { ...valid, peaks: 'no' },
    ]) {
      assert.equal(parseWaveform(bad), null, JSON.stringify(bad));
    }
  });
});

describe('drawing', () => {
  test('columns keep the loudest bucket they cover', () => {
    const peaks = [0, 0.1, 0.9, 0.2, 0, 0, 0.3, 0.4];
    assert.deepEqual(peakColumns(peaks, 4), [0.1, 0.9, 0, 0.4]);
    assert.deepEqual(peakColumns(peaks, 2), [0.9, 0.4]);
    assert.deepEqual(peakColumns(peaks, 1), [0.9]);
    assert.deepEqual(peakColumns([0.5, 1], 4), [0.5, 0.5, 1, 1], 'more columns than buckets: each bucket spans several');
    assert.deepEqual(peakColumns([], 3), [0, 0, 0]);
    assert.deepEqual(peakColumns(peaks, 0), []);
    // 265 buckets (26.48 s) onto 250 columns: every bucket is seen, the maximum survives.
    const long = Array.from({ length: 265 }, (_, i) => (i === 200 ? 0.8 : 0.01));
    const cols = peakColumns(long, 250);
    assert.equal(cols.length, 250);
    assert.equal(Math.max(...cols), 0.8);
  });

  test('quiet phone audio is scaled up to fill the strip, within a limit; silence stays flat', () => {
    assert.equal(displayGain([[0.25, 0.5], [0.1]]), 2);
    assert.equal(displayGain([[0.01]]), 8, 'at most 8x');
    assert.equal(displayGain([[0.01]], 100), 100);
    assert.equal(displayGain([[0, 0]]), 1);
    assert.equal(displayGain([[1]]), 1);
  });

  test('bars are mirrored about the middle and scaled to the height', () => {
    // Two columns over 100 × 40: full height, then silence (a 1-unit hairline).
    const d = waveformPath([1, 0], 100, 40, { gapRatio: 0 });
    assert.equal(d, 'M0 0h50v40h-50zM50 19.5h50v1h-50z');
    const half = waveformPath([0.25], 10, 40, { gain: 2, gapRatio: 0.5 });
    assert.equal(half, 'M0 10h5v20h-5z', 'gain 2 doubles a quarter-height peak');
    assert.equal(waveformPath([2], 10, 40, { gapRatio: 0 }), 'M0 0h10v40h-10z', 'never taller than the strip');
    assert.equal(waveformPath([], 10, 40), '');
    assert.equal(waveformPath([0.5], 0, 40), '');
  });

  test('playhead position and click-to-seek', () => {
    assert.equal(playFraction(13.24, 26.48), 0.5);
    assert.equal(playFraction(30, 26.48), 1);
    assert.equal(playFraction(-1, 26.48), 0);
    assert.equal(playFraction(5, Number.NaN), 0, 'duration unknown before metadata');
    assert.equal(playFraction(5, 0), 0);
    assert.equal(seekTime(250, 1000, 26.48), 6.62);
    assert.equal(seekTime(-5, 1000, 26.48), 0);
    assert.equal(seekTime(2000, 1000, 26.48), 26.48);
    assert.equal(seekTime(10, 0, 26.48), 0);
  });
});
