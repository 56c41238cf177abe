import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  audioPlacement,
  cameraInstant,
  cameraPlacement,
  clockAt,
  DEFAULT_SYNC,
  hold,
  newClock,
  nudgedRate,
  pause,
  play,
  planElement,
  recordingOrigin,
  release,
  seekTo,
  setSpeed,
  shouldHold,
  startingAdvance,
  stepSpeed,
  type ElementState,
} from '../src/lib/case-clock.ts';
import type { FragmentTime } from '../src/lib/playback.ts';

const T0 = Date.parse('2026-11-23T18:05:00Z');
// [0,2) [2,4) then a 6 s gap, then [10,12) on the wall clock (media 4..6).
const frags: FragmentTime[] = [
  { start: 0, duration: 2, programDateTime: T0 },
  { start: 2, duration: 2, programDateTime: T0 + 2000 },
  { start: 4, duration: 2, programDateTime: T0 + 10_000 },
];
const el = (o: Partial<ElementState> = {}): ElementState => ({ currentTime: 0, paused: true, seeking: false, readyState: 4, playbackRate: 1, ...o });

describe('master clock', () => {
  test('stands still when paused, runs at the speed when playing, keeps the instant across changes', () => {
    let c = newClock(T0, 1000);
    assert.equal(clockAt(c, 5000), T0, 'paused: no movement');
    c = release(play(c, 1000), 1000);
    assert.equal(clockAt(c, 3500), T0 + 2500);
    c = setSpeed(c, 3500, 2);
    assert.equal(clockAt(c, 3500), T0 + 2500, 'a speed change keeps the instant');
    assert.equal(clockAt(c, 4500), T0 + 4500, 'then runs twice as fast');
    c = pause(c, 4500);
    assert.equal(clockAt(c, 99_000), T0 + 4500);
    c = seekTo(c, 99_000, T0 + 100);
    assert.equal(clockAt(c, 100_000), T0 + 100);
  });

  test('a hold freezes the clock while media loads; release carries on from where it held', () => {
    let c = play(newClock(T0, 0), 0);
    assert.equal(c.held, true, 'play starts held: the elements start together');
    c = release(c, 0);
    c = hold(c, 1000);
    assert.equal(clockAt(c, 1000), T0 + 1000);
    assert.equal(clockAt(c, 4000), T0 + 1000, 'held: no movement');
    assert.equal(hold(c, 5000), c, 'holding twice does not move the anchor');
    c = release(c, 4000, 60);
    assert.equal(clockAt(c, 4500), T0 + 1560, 'released where the media got to while starting');
    assert.equal(c.playing, true);
  });

  test('speeds step along the list and stop at its ends', () => {
    assert.equal(stepSpeed(1, 1), 2);
    assert.equal(stepSpeed(1, -1), 0.5);
    assert.equal(stepSpeed(4, 1), 4);
    assert.equal(stepSpeed(0.25, -1), 0.25);
    assert.equal(stepSpeed(1.5, 1), 4, 'an odd speed goes to the next listed one above');
  });
});

describe('placements', () => {
  const now = T0 + 60_000;
  test('a camera: media time inside footage, the next recording in a gap, nothing after its last', () => {
    assert.deepEqual(cameraPlacement(frags, T0 + 1500, now), { kind: 'media', time: 1.5 });
    assert.deepEqual(cameraPlacement(frags, T0 + 10_500, now), { kind: 'media', time: 4.5 }, 'after the gap, media time 4 is 18:05:10');
    assert.deepEqual(cameraPlacement(frags, T0 + 5000, now), { kind: 'gap', next: T0 + 10_000 });
    assert.deepEqual(cameraPlacement(frags, T0 - 1000, now), { kind: 'gap', next: T0 }, 'before its first recording');
    assert.deepEqual(cameraPlacement(frags, T0 + 12_000, now), { kind: 'gap', next: null });
    assert.deepEqual(cameraPlacement([], T0, now), { kind: 'gap', next: null }, 'no playlist (nothing at the centre)');
    assert.deepEqual(cameraPlacement(frags, now + 1, now), { kind: 'not-yet' }, 'after now is not yet, not a gap');
    assert.equal(cameraInstant(frags, 4.25), T0 + 10_250);
  });

  test('a recording starts with the call, or at the answer when it is only as long as the talk', () => {
    const call = { startUtc: '2026-11-23T18:05:00Z', answerUtc: '2026-11-23T18:05:05Z', endUtc: '2026-11-23T18:05:26Z' };
    assert.equal(recordingOrigin(call, 26.48), T0, 'covers the whole call');
    assert.equal(recordingOrigin(call, 21.2), T0 + 5000, 'covers only the talk');
    assert.equal(recordingOrigin({ ...call, answerUtc: null }, 21.2), T0);
    assert.equal(recordingOrigin(call, null), T0);
    assert.equal(recordingOrigin({ ...call, answerUtc: call.startUtc }, 26.48), T0);
  });

  test('a call: media time during the call, outside before and after', () => {
    assert.deepEqual(audioPlacement(T0, 26.48, T0 + 10_250), { kind: 'media', time: 10.25 });
    assert.deepEqual(audioPlacement(T0, 26.48, T0 - 1), { kind: 'outside' });
    assert.deepEqual(audioPlacement(T0, 26.48, T0 + 26_480), { kind: 'outside' });
  });
});

describe('keeping an element on the master', () => {
  const playing = { mode: 'running' as const, speed: 1 };
  const paused = { mode: 'paused' as const, speed: 1 };
  const starting = { mode: 'starting' as const, speed: 1 };

  test('on time: nothing but play if it stands', () => {
    assert.deepEqual(planElement({ kind: 'media', time: 5 }, el({ currentTime: 5.01, paused: false }), playing), { ready: true, drift: 0.009999999999999787 });
    const p = planElement({ kind: 'media', time: 5 }, el({ currentTime: 5 }), playing);
    assert.equal(p.play, true);
    assert.equal(p.seek, undefined);
  });

  test('a small drift is nudged by the rate: an element ahead slows, one behind speeds up, within the cap', () => {
    const ahead = planElement({ kind: 'media', time: 5 }, el({ currentTime: 5.12, paused: false }), playing);
    assert.equal(ahead.seek, undefined);
    assert.equal(ahead.rate, 0.8, 'capped at 20 %');
    const behind = planElement({ kind: 'media', time: 5 }, el({ currentTime: 4.97, paused: false }), playing);
    assert.equal(behind.rate, 1.075);
    assert.equal(nudgedRate(0.04, 2), 1.8, 'the nudge scales with the speed');
    assert.equal(nudgedRate(0.01, 1), 1, 'inside the tolerance: the plain speed');
    // Simulated: an element 0.3 s behind, ticking every 100 ms, is within the tolerance in a few seconds, without a seek.
    let actual = 4.7;
    let master = 5;
    let rate = 1;
    let seeks = 0;
    for (let i = 0; i < 40; i++) {
      const p = planElement({ kind: 'media', time: master }, el({ currentTime: actual, paused: false, playbackRate: rate }), playing);
      if (p.seek !== undefined) seeks++;
      if (p.rate !== undefined) rate = p.rate;
      actual += 0.1 * rate;
      master += 0.1;
    }
    assert.equal(seeks, 0);
    assert.ok(Math.abs(actual - master) <= DEFAULT_SYNC.toleranceS + 0.01, `converged: ${actual - master}`);
  });

  test('a large drift is a seek, and the element does not hold the master while it seeks', () => {
    const p = planElement({ kind: 'media', time: 5 }, el({ currentTime: 9, paused: false }), playing);
    assert.deepEqual([p.seek, p.rate, p.ready], [5, 1, false]);
    const seeking = planElement({ kind: 'media', time: 5 }, el({ currentTime: 5, paused: false, seeking: true }), playing);
    assert.deepEqual(seeking, { ready: false, drift: 0 });
  });

  test('paused: every element shows exactly the master frame', () => {
    const p = planElement({ kind: 'media', time: 5 }, el({ currentTime: 5.2, paused: false, playbackRate: 1.05 }), paused);
    assert.deepEqual([p.pause, p.seek, p.rate, p.ready], [true, 5, 1, false], 'not ready until it shows the frame');
    assert.deepEqual(planElement({ kind: 'media', time: 5 }, el({ currentTime: 5.01 }), paused), { ready: true, drift: 0.009999999999999787 });
    assert.equal(planElement({ kind: 'media', time: 5 }, el({ currentTime: 5, readyState: 2 }), paused).ready, false, 'a frame but no data beyond it: not ready to start');
  });

  test('starting: every element is told to play; it counts as started once its time moved; the master runs on from their median', () => {
    assert.deepEqual(planElement({ kind: 'media', time: 5 }, el({ currentTime: 5 }), starting), { play: true, ready: false, drift: 0 });
    assert.equal(planElement({ kind: 'media', time: 5 }, el({ currentTime: 5, paused: false }), starting).ready, false, 'playing but not moved yet');
    const moved = planElement({ kind: 'media', time: 5 }, el({ currentTime: 5.06, paused: false, playbackRate: 1.1 }), starting);
    assert.deepEqual([moved.ready, moved.rate, moved.seek, moved.play], [true, 1, undefined, undefined], 'no nudge while starting, just the plain speed');
    assert.equal(startingAdvance([0.08, 0.02, 0.05]), 0.05);
    assert.equal(startingAdvance([0.02, 0.04]), 0.03);
    assert.equal(startingAdvance([]), 0);
  });

  test('nothing to show (gap, not yet, outside the call): stand still and do not hold the others', () => {
    assert.deepEqual(planElement({ kind: 'gap', next: null }, el({ paused: false }), playing), { pause: true, ready: true, drift: null });
    assert.deepEqual(planElement({ kind: 'not-yet' }, el(), playing), { ready: true, drift: null });
  });

  test('loading elements hold the master, but not for ever', () => {
    assert.equal(shouldHold([{ ready: true, waitingSinceMs: null }], 1000), false);
    assert.equal(shouldHold([{ ready: true, waitingSinceMs: null }, { ready: false, waitingSinceMs: 500 }], 1000), true);
    assert.equal(shouldHold([{ ready: false, waitingSinceMs: 500 }], 6000), false, 'given up after 4 s: it catches up by seek');
  });
});
