import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fragmentAt, fragmentTimes, mediaTimeToUtc, utcToMediaTime, type FragmentTime } from '../src/lib/playback.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
// Two contiguous 2 s recordings, then a 6 s gap (absent from the media timeline), then one more.
const frags: FragmentTime[] = [
  { start: 0, duration: 2, programDateTime: T0 },
  { start: 2, duration: 2, programDateTime: T0 + 2000 },
  { start: 4, duration: 2, programDateTime: T0 + 10_000 },
];

describe('media time ↔ UTC from PROGRAM-DATE-TIME', () => {
  test('maps media time to the wall clock fragment by fragment, across a gap', () => {
    assert.equal(mediaTimeToUtc(frags, 0), T0);
    assert.equal(mediaTimeToUtc(frags, 1.5), T0 + 1500);
    assert.equal(mediaTimeToUtc(frags, 3.25), T0 + 3250);
    assert.equal(mediaTimeToUtc(frags, 4), T0 + 10_000, 'after the discontinuity the clock jumps over the gap');
    assert.equal(mediaTimeToUtc(frags, 5.5), T0 + 11_500);
    assert.equal(mediaTimeToUtc(frags, 6), T0 + 12_000, 'the very end of the last fragment');
  });

  test('unknown outside the fragments or without PROGRAM-DATE-TIME', () => {
    assert.equal(mediaTimeToUtc([], 1), null);
    assert.equal(mediaTimeToUtc(frags, 7), null);
    assert.equal(mediaTimeToUtc(frags, Number.NaN), null);
    assert.equal(mediaTimeToUtc([{ start: 0, duration: 2, programDateTime: null }], 1), null);
    assert.equal(fragmentAt(frags, -0.1), 0, 'a hair before the first frame');
    assert.equal(fragmentAt(frags, -1), -1);
  });

  test('works with hls.js fragment starts that are not zero-based', () => {
    const shifted = frags.map((f) => ({ ...f, start: f.start + 1.4 }));
    assert.equal(mediaTimeToUtc(shifted, 1.4), T0);
    assert.equal(mediaTimeToUtc(shifted, 5.9), T0 + 10_500);
  });

  test('maps a wall-clock instant to where to seek; a gap seeks to the next recording', () => {
    assert.deepEqual(utcToMediaTime(frags, T0 + 500), { time: 0.5, inGap: false });
    assert.deepEqual(utcToMediaTime(frags, T0 + 3000), { time: 3, inGap: false });
    assert.deepEqual(utcToMediaTime(frags, T0 + 6000), { time: 4, inGap: true });
    assert.deepEqual(utcToMediaTime(frags, T0 + 11_000), { time: 5, inGap: false });
    assert.deepEqual(utcToMediaTime(frags, T0 - 5000), { time: 0, inGap: true }, 'before the first recording');
    assert.equal(utcToMediaTime(frags, T0 + 12_000), null, 'after the last recording');
    for (const t of [0, 0.75, 2, 3.9, 4, 5.99]) {
      const utc = mediaTimeToUtc(frags, t)!;
      assert.equal(utcToMediaTime(frags, utc)?.time, t, `round trip ${t}`);
    }
  });

  test('copies hls.js fragments into plain values', () => {
    const copied = fragmentTimes([{ start: 1, duration: 2, programDateTime: T0, extra: 'ignored' } as FragmentTime & { extra: string }]);
    assert.deepEqual(copied, [{ start: 1, duration: 2, programDateTime: T0 }]);
  });
});

