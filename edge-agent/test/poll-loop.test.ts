/** The agent's periodic loop: the delay to the next wall-clock multiple (aligned loops and the recorders' watchdogs). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PollLoop, untilNextMultiple, untilNextMultipleAfter } from '../src/lib/poll-loop.ts';

describe('poll loop', () => {
  test('untilNextMultiple: the time to the next multiple of the period, a whole period on a multiple', () => {
    assert.equal(untilNextMultiple(5000, 1_765_000_000_000), 5000, 'on a multiple: the next one');
    assert.equal(untilNextMultiple(5000, 1_765_000_000_001), 4999);
    assert.equal(untilNextMultiple(5000, 1_765_000_004_999), 1);
    assert.equal(untilNextMultiple(15_000, 1_765_000_000_000), 5000, '1 765 000 000 000 is 10 000 past a multiple of 15 000');
    assert.equal(untilNextMultiple(5000, -1), 1, 'before the epoch too (a clock set far back)');
    // Two timers started at different moments meet at the same instant.
    const a = 1_765_000_001_234;
    const b = 1_765_000_003_999;
    assert.equal(a + untilNextMultiple(5000, a), b + untilNextMultiple(5000, b));
  });

  test('untilNextMultipleAfter: never the multiple a timer firing a moment early was set for', () => {
    assert.equal(untilNextMultipleAfter(5000, 1_765_000_004_999, 1_765_000_005_000), 5001, '1 ms early: the multiple after');
    assert.equal(untilNextMultipleAfter(5000, 1_765_000_005_001, 1_765_000_005_000), 4999, 'late: the next multiple');
    assert.equal(untilNextMultipleAfter(5000, 1_765_000_002_000, -Infinity), 3000, 'first wait: as untilNextMultiple');
    assert.equal(untilNextMultipleAfter(5000, 1_765_000_012_500, 1_765_000_005_000), 2500, 'after a long pass: the next multiple from now');
    assert.equal(untilNextMultipleAfter(5000, 1_765_000_002_000 - 3_600_000, 1_765_000_005_000), 3000, 'clock set back an hour: from now, not an hour');
  });

  test('an aligned loop runs one pass per period, on its multiples, and stops at once', async () => {
    const P = 200;
    const at: number[] = [];
    const loop = new PollLoop(async () => void at.push(Date.now()), () => P, (e) => assert.fail(String(e)), { aligned: true });
    loop.start();
    while (at.length < 4) await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    await loop.stop();
    assert.ok(performance.now() - t0 < 50, 'stop wakes the wait');
    // The first pass at once, the next ones at multiples of P by the wall clock: a timer may fire a millisecond or so
    // early by it, or late on a busy machine (under P/2 here), but never twice for one multiple.
    const slots = at.slice(1).map((t) => Math.round(t / P));
    slots.forEach((slot, i) => {
      assert.ok(at[i + 1]! >= slot * P - 5, `pass ${i + 1} not before its multiple: ${at.join(', ')}`);
      if (i > 0) assert.ok(slot > slots[i - 1]!, `one pass per multiple: ${at.join(', ')}`);
    });
  });
});
