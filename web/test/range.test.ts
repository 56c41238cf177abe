import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkRange, defaultRange, isoUtc, MAX_RANGE_MS, playerHref, rangeFromInputs, rangeFromQuery, rangeToInputs, shiftRange } from '../src/lib/range.ts';

const q = (s: string) => new URLSearchParams(s);

describe('range in the URL', () => {
  test('reads from/to as instants with an offset', () => {
    const r = rangeFromQuery(q('from=2026-11-23T10:00:00Z&to=2026-11-23T11:00:00Z'));
    assert.ok(r.ok);
    assert.equal(r.range.from.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(r.range.to.toISOString(), '2026-11-23T11:00:00.000Z');
    const j = rangeFromQuery(q('from=2026-11-23T19:00:00%2B09:00&to=2026-11-23T20:00:00.500%2B09:00'));
    assert.ok(j.ok);
    assert.equal(j.range.from.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(j.range.to.toISOString(), '2026-11-23T11:00:00.500Z');
  });

  test('says what is wrong with a bad range', () => {
    const problem = (s: string) => {
      const r = rangeFromQuery(q(s));
      return r.ok ? 'ok' : r.problem;
    };
    assert.equal(problem(''), 'missing');
    assert.equal(problem('from=2026-11-23T10:00:00Z'), 'missing');
    assert.equal(problem('from=yesterday&to=2026-11-23T10:00:00Z'), 'invalid');
    assert.equal(problem('from=2026-11-23T10:00:00&to=2026-11-23T11:00:00'), 'invalid', 'no offset: ambiguous, refused');
    assert.equal(problem('from=2026-11-23T99:00:00Z&to=2026-11-23T11:00:00Z'), 'invalid');
    assert.equal(problem('from=2026-11-23T11:00:00Z&to=2026-11-23T10:00:00Z'), 'order');
    assert.equal(problem('from=2026-11-23T10:00:00Z&to=2026-11-23T10:00:00Z'), 'order');
    assert.equal(problem('from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:01Z'), 'too_long');
    assert.equal(problem('from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z'), 'ok', 'exactly 7 days is allowed');
    assert.equal(checkRange(new Date(0), new Date(MAX_RANGE_MS)).ok, true);
  });

  test('writes a player link that reads back to the same range and keeps the language', () => {
    const range = { from: new Date('2026-11-23T10:00:00Z'), to: new Date('2026-11-23T10:00:20.250Z') };
    const ja = playerHref('0b6c1d9e-0000-4000-8000-000000000001', range, 'ja');
    assert.equal(ja, '/cameras/0b6c1d9e-0000-4000-8000-000000000001?from=2026-11-23T10%3A00%3A00Z&to=2026-11-23T10%3A00%3A20.250Z');
    const en = new URL(playerHref('c1', range, 'en'), 'http://x');
    assert.equal(en.searchParams.get('lang'), 'en');
    const back = rangeFromQuery(en.searchParams);
    assert.ok(back.ok);
    assert.equal(back.range.from.getTime(), range.from.getTime());
    assert.equal(back.range.to.getTime(), range.to.getTime());
    assert.equal(isoUtc(new Date('2026-11-23T10:00:00Z')), '2026-11-23T10:00:00Z');
  });

  test('the default range is the hour before the last recording, rounded up to the minute', () => {
    const r = defaultRange('2026-11-23T10:07:12.400Z', new Date('2030-01-01T00:00:00Z'));
    assert.equal(r.to.toISOString(), '2026-11-23T10:08:00.000Z');
    assert.equal(r.from.toISOString(), '2026-11-23T09:08:00.000Z');
    const none = defaultRange(null, new Date('2026-11-23T10:00:00Z'));
    assert.equal(none.to.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(defaultRange('garbage', new Date('2026-11-23T10:00:30Z')).to.toISOString(), '2026-11-23T10:01:00.000Z');
  });

  test('inputs are the site-local wall clock; they convert to UTC and back', () => {
    const range = { from: new Date('2026-11-23T10:00:00Z'), to: new Date('2026-11-23T10:00:20Z') };
    assert.deepEqual(rangeToInputs(range, 'Asia/Tokyo'), { from: '2026-11-23T19:00:00', to: '2026-11-23T19:00:20' });
    const back = rangeFromInputs('2026-11-23T19:00', '2026-11-23T19:00:20', 'Asia/Tokyo');
    assert.ok(back.ok);
    assert.equal(back.range.from.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(back.range.to.toISOString(), '2026-11-23T10:00:20.000Z');
    const bad = (a: string, b: string) => {
      const r = rangeFromInputs(a, b, 'Asia/Tokyo');
      return r.ok ? 'ok' : r.problem;
    };
    assert.equal(bad('', '2026-11-23T19:00'), 'missing');
    assert.equal(bad('2026-11-23T19:00', 'soon'), 'invalid');
    assert.equal(bad('2026-11-23T19:00', '2026-11-23T18:00'), 'order');
    assert.equal(bad('2026-11-01T00:00', '2026-11-09T00:00'), 'too_long');
  });

  test('earlier/later move the range by its length', () => {
    const range = { from: new Date('2026-11-23T10:00:00Z'), to: new Date('2026-11-23T11:00:00Z') };
    const s = shiftRange(range, -3600_000);
    assert.equal(s.from.toISOString(), '2026-11-23T09:00:00.000Z');
    assert.equal(s.to.toISOString(), '2026-11-23T10:00:00.000Z');
  });
});
