import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { axisTicks, fractionToInstant, instantToFraction, layoutTimeline, missingStretches, type Span } from '../src/lib/timeline.ts';

const iso = (s: number) => new Date(Date.parse('2026-11-23T10:00:00Z') + s * 1000).toISOString();
const T = (s: number) => Date.parse('2026-11-23T10:00:00Z') + s * 1000;
const range = { from: new Date(T(0)), to: new Date(T(20)) };
const seg = (a: number, b: number, stored = true) => ({ start: iso(a), end: iso(b), stored });
const brief = (spans: Span[]) => spans.map((s) => [s.kind, (s.start - T(0)) / 1000, (s.end - T(0)) / 1000, s.reason ?? null]);

describe('timeline bar', () => {
  test('footage, a reported gap with its reason, and an unexplained stretch: the whole range is accounted for', () => {
    const spans = layoutTimeline(range, [seg(0, 2), seg(2, 4), seg(10, 12)], [{ start: iso(4), end: iso(10), reason: 'camera_offline', detail: 'no RTSP' }]);
    assert.deepEqual(brief(spans), [
      ['footage', 0, 4, null],
      ['footage', 10, 12, null],
      ['unrecorded', 12, 20, null],
      ['gap', 4, 10, 'camera_offline'],
    ]);
    const gap = spans.find((s) => s.kind === 'gap')!;
    assert.equal(gap.detail, 'no RTSP');
    assert.equal(gap.left, 0.2);
    assert.equal(gap.width, 0.3);
    assert.deepEqual(brief(missingStretches(spans)), [
      ['gap', 4, 10, 'camera_offline'],
      ['unrecorded', 12, 20, null],
    ]);
    const total = spans.filter((s) => s.kind !== 'gap').reduce((n, s) => n + s.width, 0) + gap.width;
    assert.ok(Math.abs(total - 1) < 1e-9, 'no part of the range is missing from the bar');
  });

  test('clips to the range, merges touching segments, keeps footage still at the store apart', () => {
    const spans = layoutTimeline(range, [seg(-5, 3), seg(3.3, 8), seg(8, 14, false), seg(14, 30)], []);
    assert.deepEqual(brief(spans), [
      ['footage', 0, 8, null],
      ['at-store', 8, 14, null],
      ['footage', 14, 20, null],
    ]);
    assert.equal(missingStretches(spans).length, 0);
  });

  test('a hole shorter than the contiguity tolerance is not a gap; a longer one is', () => {
    assert.deepEqual(brief(layoutTimeline(range, [seg(0, 9.8), seg(10, 20)], [])), [['footage', 0, 20, null]]);
    assert.deepEqual(brief(layoutTimeline(range, [seg(0, 9), seg(10, 20)], [])), [
      ['footage', 0, 9, null],
      ['footage', 10, 20, null],
      ['unrecorded', 9, 10, null],
    ]);
  });

  test('nothing at all: one unexplained stretch over the whole range', () => {
    assert.deepEqual(brief(layoutTimeline(range, [], [])), [['unrecorded', 0, 20, null]]);
  });

  test('a gap that overlaps footage is still shown', () => {
    const spans = layoutTimeline(range, [seg(0, 20)], [{ start: iso(5), end: iso(6), reason: 'evicted', detail: null }]);
    assert.deepEqual(brief(spans), [
      ['footage', 0, 20, null],
      ['gap', 5, 6, 'evicted'],
    ]);
  });

  test('bar position ↔ instant', () => {
    assert.equal(instantToFraction(range, T(5)), 0.25);
    assert.equal(instantToFraction(range, T(-5)), 0);
    assert.equal(instantToFraction(range, T(50)), 1);
    assert.equal(fractionToInstant(range, 0.5), T(10));
    assert.equal(fractionToInstant(range, 1.2), T(20));
    for (const f of [0, 0.1, 0.33, 0.9, 1]) assert.ok(Math.abs(instantToFraction(range, fractionToInstant(range, f)) - f) < 1e-4);
  });

  test('axis ticks are round local times', () => {
    assert.deepEqual(axisTicks(range, 9 * 3600_000).map((t) => (t - T(0)) / 1000), [0, 5, 10, 15, 20]);
    const hour = { from: new Date('2026-11-23T09:50:00Z'), to: new Date('2026-11-23T10:50:00Z') };
    assert.deepEqual(axisTicks(hour, 9 * 3600_000).map((t) => new Date(t).toISOString().slice(11, 16)), ['09:50', '10:00', '10:10', '10:20', '10:30', '10:40', '10:50']);
    // Six hours in India (UTC+5:30): ticks on the local hour, i.e. at :30 UTC.
    const day = { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-23T06:00:00Z') };
    assert.deepEqual(axisTicks(day, 5.5 * 3600_000).map((t) => new Date(t).toISOString().slice(11, 16)), ['00:30', '01:30', '02:30', '03:30', '04:30', '05:30']);
    assert.deepEqual(axisTicks({ from: new Date(T(1)), to: new Date(T(1)) }, 0), []);
  });
});

describe('segment on screen', () => {
  test('the segment holding an instant: start inclusive, end exclusive, none in a gap', async () => {
    const { segmentAt } = await import('../src/lib/timeline.ts');
    const segs = [
      { ...seg(0, 2), sha256: 'a' },
      { ...seg(2, 4), sha256: 'b' },
      { ...seg(10, 12), sha256: 'c' },
    ];
    assert.equal(segmentAt(segs, T(0))?.sha256, 'a');
    assert.equal(segmentAt(segs, T(1.999))?.sha256, 'a');
    assert.equal(segmentAt(segs, T(2))?.sha256, 'b');
    assert.equal(segmentAt(segs, T(5)), null);
    assert.equal(segmentAt(segs, T(12)), null);
    assert.equal(segmentAt([], T(1)), null);
  });
});
