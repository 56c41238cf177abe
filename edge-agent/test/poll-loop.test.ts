/** The agent's periodic loop: the delay to the next wall-clock multiple (aligned loops and the recorders' watchdogs). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PollLoop, untilNextMultiple } from '../src/lib/poll-loop.ts';

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

  test('an aligned loop runs its passes in distinct periods and stops at once', async () => {
    const at: number[] = [];
    const loop = new PollLoop(async () => void at.push(Date.now()), () => 100, (e) => assert.fail(String(e)), { aligned: true });
    loop.start();
    while (at.length < 3) await new Promise((r) => setTimeout(r, 20));
    await loop.stop();
    const slots = at.map((t) => Math.floor(t / 100));
    assert.ok(slots[1]! > slots[0]! && slots[2]! > slots[1]!, `one pass per period: ${at.join(', ')}`);
  });
});
