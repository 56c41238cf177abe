import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callTimeRows, checkSearch, clockDuration, EMPTY_SEARCH, formatBytes, nextDay, orderRecordings, searchApiParams, searchFromQuery, searchHref, searchZone, siteTime, tidySearch } from '../src/lib/calls.ts';

const q = (s: string) => new URLSearchParams(s);

describe('call search in the URL', () => {
  test('reads every field; unknown enum values are dropped', () => {
    const s = searchFromQuery(q('number=5678&from=2026-11-24&to=2026-11-25&site=abc&operator=201&direction=inbound&disposition=answered&notice=yes&cursor=xyz&lang=en'));
    assert.deepEqual(s, { number: '5678', from: '2026-11-24', to: '2026-11-25', site: 'abc', operator: '201', direction: 'inbound', disposition: 'answered', notice: 'yes', cursor: 'xyz' });
    assert.deepEqual(searchFromQuery(q('direction=sideways&notice=maybe&disposition=')), EMPTY_SEARCH);
  });

  test('writes only what is set and keeps the language; round-trips', () => {
    assert.equal(searchHref(EMPTY_SEARCH, 'ja'), '/calls');
    assert.equal(searchHref(EMPTY_SEARCH, 'en'), '/calls?lang=en');
    const s = { ...EMPTY_SEARCH, number: '+81 3-1234', from: '2026-11-24', notice: 'no' };
    const href = searchHref(s, 'ja');
    assert.equal(href, '/calls?number=%2B81+3-1234&from=2026-11-24&notice=no');
    assert.deepEqual(searchFromQuery(new URL(href, 'http://x').searchParams), s);
  });

  test('tidying makes the number searchable and starts again at the newest page', () => {
    const t = tidySearch({ ...EMPTY_SEARCH, number: ' ０３－１２３４ ', operator: ' 201 ', cursor: 'abc' });
    assert.equal(t.number, '03-1234');
    assert.equal(t.operator, '201');
    assert.equal(t.cursor, '');
  });

  test('says what is wrong before asking the centre', () => {
    const p = (over: Partial<typeof EMPTY_SEARCH>) => checkSearch({ ...EMPTY_SEARCH, ...over });
    assert.deepEqual(p({}), []);
    assert.deepEqual(p({ number: '56' }), ['number_short']);
    assert.deepEqual(p({ number: 'abc1234' }), ['number_chars']);
    assert.deepEqual(p({ from: '2026-02-30' }), ['date_invalid']);
    assert.deepEqual(p({ to: '24/11/2026' }), ['date_invalid']);
    assert.deepEqual(p({ from: '2026-11-25', to: '2026-11-24' }), ['date_order']);
    assert.deepEqual(p({ from: '2026-11-24', to: '2026-11-24' }), [], 'one day');
    assert.deepEqual(p({ operator: 'x'.repeat(65) }), ['operator_invalid']);
  });
});

describe('call search for the API', () => {
  const tokyo = { id: 's1', timezone: 'Asia/Tokyo' };
  const osaka = { id: 's2', timezone: 'Asia/Tokyo' };
  const ny = { id: 's3', timezone: 'America/New_York' };

  test('dates are read in the chosen site zone, else the zone all sites share', () => {
    assert.deepEqual(searchZone([tokyo, ny], 's3'), { zone: 'America/New_York', mixed: false });
    assert.deepEqual(searchZone([tokyo, osaka], ''), { zone: 'Asia/Tokyo', mixed: false });
    assert.deepEqual(searchZone([tokyo, ny], ''), { zone: 'UTC', mixed: true });
    assert.deepEqual(searchZone([], ''), { zone: 'UTC', mixed: false });
  });

  test('a day range in Tokyo is [from 00:00 JST, the day after to 00:00 JST) in UTC', () => {
    const p = searchApiParams({ ...EMPTY_SEARCH, from: '2026-11-24', to: '2026-11-24', number: '5678', site: 's1', operator: '201', direction: 'inbound', disposition: 'answered', notice: 'yes', cursor: 'c1' }, 'Asia/Tokyo', 25);
    assert.equal(p.from, '2026-11-23T15:00:00.000Z');
    assert.equal(p.to, '2026-11-24T15:00:00.000Z');
    assert.deepEqual(
      [p.number, p.site, p.operator, p.direction, p.disposition, p.notice, p.cursor, p.limit],
      ['5678', 's1', '201', 'inbound', 'answered', 'yes', 'c1', 25],
    );
    const bare = searchApiParams(EMPTY_SEARCH, 'Asia/Tokyo');
    assert.deepEqual(Object.keys(bare), ['limit'], 'nothing but the page size');
    assert.deepEqual(Object.keys(searchApiParams({ ...EMPTY_SEARCH, direction: 'sideways' }, 'UTC')), ['limit'], 'an unknown enum value is not sent');
  });

  test('across a DST change the days are still whole local days', () => {
    // New York falls back on 2026-11-01: that day is 25 hours long.
    const p = searchApiParams({ ...EMPTY_SEARCH, from: '2026-11-01', to: '2026-11-01' }, 'America/New_York');
    assert.equal(p.from, '2026-11-01T04:00:00.000Z');
    assert.equal(p.to, '2026-11-02T05:00:00.000Z');
  });

  test('the day after, across months and years', () => {
    assert.equal(nextDay('2026-11-30'), '2026-12-01');
    assert.equal(nextDay('2026-12-31'), '2027-01-01');
    assert.equal(nextDay('2028-02-28'), '2028-02-29');
    assert.throws(() => nextDay('tomorrow'));
  });
});

describe('call times as people read them', () => {
  test('site-local time with the zone named, whatever zone the PBX wrote in', () => {
    assert.equal(siteTime('2026-11-23T18:05:00Z', 'Asia/Tokyo'), '2026-11-24 03:05:00 JST');
    assert.equal(siteTime('2026-07-01T12:00:00Z', 'America/New_York'), '2026-07-01 08:00:00 EDT');
    assert.equal(siteTime(null, 'Asia/Tokyo'), null);
    assert.equal(siteTime('garbage', 'Asia/Tokyo'), null);
  });

  test('start, answer and end each beside the PBX string', () => {
    const rows = callTimeRows(
      { startUtc: '2026-11-23T18:05:00Z', answerUtc: null, endUtc: '2026-11-23T18:05:26Z', raw: { start: '2026-11-23 18:05:00', answer: null, end: '2026-11-23 18:05:26' } },
      'Asia/Tokyo',
    );
    assert.deepEqual(rows, [
      { key: 'start', site: '2026-11-24 03:05:00 JST', raw: '2026-11-23 18:05:00' },
      { key: 'answer', site: null, raw: null },
      { key: 'end', site: '2026-11-24 03:05:26 JST', raw: '2026-11-23 18:05:26' },
    ]);
  });

  test('durations read like a clock; sizes like a file manager', () => {
    assert.equal(clockDuration(26), '0:26');
    assert.equal(clockDuration(26.48), '0:26');
    assert.equal(clockDuration(725), '12:05');
    assert.equal(clockDuration(3723), '1:02:03');
    assert.equal(clockDuration(-1), '—');
    assert.equal(formatBytes(423), '423 B');
    assert.equal(formatBytes(423_724), '424 KB');
    assert.equal(formatBytes(1_250_000), '1.3 MB');
    assert.equal(formatBytes(Number.NaN), '—');
  });
});

describe('recordings of a call', () => {
  test('the whole call first, then the customer, then the operator; otherwise as the centre sent them', () => {
    const recs = [
      { role: 'caller', name: 'a-rx.wav' },
      { role: 'operator', name: 'a-tx.wav' },
      { role: 'mixed', name: 'a.wav' },
      { role: 'future', name: 'x' },
      { role: 'mixed', name: 'a-v2.wav' },
    ];
    assert.deepEqual(orderRecordings(recs).map((r) => r.name), ['a.wav', 'a-v2.wav', 'a-rx.wav', 'a-tx.wav', 'x']);
    assert.deepEqual(orderRecordings([]), []);
  });
});
