import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDateTime, formatOffset, formatTime, isValidTimeZone, localToUtc, utcToLocalInput, wallClock, zoneAbbreviation, zoneLabel, zoneOffsetMs } from '../src/lib/time.ts';

const at = (iso: string) => new Date(iso);

describe('site-local time', () => {
  test('formats an instant in the site zone, not the runtime zone', () => {
    const t = at('2026-11-23T10:00:05.250Z');
    assert.equal(formatDateTime(t, 'Asia/Tokyo'), '2026-11-23 19:00:05');
    assert.equal(formatDateTime(t, 'Asia/Tokyo', { millis: true }), '2026-11-23 19:00:05.250');
    assert.equal(formatDateTime(t, 'America/New_York'), '2026-11-23 05:00:05');
    assert.equal(formatTime(at('2026-11-23T15:30:00Z'), 'Asia/Tokyo'), '00:30:00', 'midnight is 00, not 24');
    assert.equal(formatDateTime(at('2026-12-31T15:00:00Z'), 'Asia/Tokyo'), '2027-01-01 00:00:00', 'crosses the year in Tokyo');
    assert.deepEqual(wallClock(at('2026-03-01T00:00:00Z'), 'Asia/Kolkata'), { year: 2026, month: 3, day: 1, hour: 5, minute: 30, second: 0 });
  });

  test('offsets follow daylight saving time', () => {
    assert.equal(zoneOffsetMs(at('2026-07-01T00:00:00Z'), 'Asia/Tokyo'), 9 * 3600_000);
    assert.equal(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'America/New_York'), -5 * 3600_000);
    assert.equal(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'America/New_York'), -4 * 3600_000);
    assert.equal(zoneOffsetMs(at('2026-01-15T12:00:00.999Z'), 'UTC'), 0);
  });

  test('names the zone: JST for Tokyo, EST/EDT, GMT, UTC, else the offset', () => {
    assert.equal(zoneAbbreviation('Asia/Tokyo', at('2026-11-23T10:00:00Z')), 'JST');
    assert.equal(zoneLabel('Asia/Tokyo', at('2026-11-23T10:00:00Z')), 'Asia/Tokyo (JST)');
    assert.equal(zoneAbbreviation('America/New_York', at('2026-01-15T12:00:00Z')), 'EST');
    assert.equal(zoneAbbreviation('America/New_York', at('2026-07-15T12:00:00Z')), 'EDT');
    assert.equal(zoneAbbreviation('Europe/London', at('2026-01-15T12:00:00Z')), 'GMT');
    assert.equal(zoneAbbreviation('UTC', at('2026-01-15T12:00:00Z')), 'UTC');
    assert.equal(zoneAbbreviation('Asia/Kolkata', at('2026-01-15T12:00:00Z')), 'UTC+5:30', 'no letter abbreviation in ICU: offset');
    assert.equal(formatOffset(-3.5 * 3600_000), 'UTC-3:30');
    assert.equal(formatOffset(11 * 3600_000), 'UTC+11');
  });

  test('knows which zone names are real', () => {
    assert.equal(isValidTimeZone('Asia/Tokyo'), true);
    assert.equal(isValidTimeZone('Asia/Nowhere'), false);
    assert.equal(isValidTimeZone(''), false);
  });

  test('a wall-clock time typed for the site maps to the right UTC instant and back', () => {
    assert.equal(localToUtc('2026-11-23T19:00', 'Asia/Tokyo')?.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(localToUtc('2026-11-23T19:00:30', 'Asia/Tokyo')?.toISOString(), '2026-11-23T10:00:30.000Z');
    assert.equal(localToUtc('2026-11-23 00:15:00', 'Asia/Tokyo')?.toISOString(), '2026-11-22T15:15:00.000Z');
    assert.equal(utcToLocalInput(at('2026-11-23T10:00:30Z'), 'Asia/Tokyo'), '2026-11-23T19:00:30');
    for (const iso of ['2026-01-01T00:00:00Z', '2026-06-30T23:59:59Z', '2026-03-08T07:30:00Z', '2026-11-01T05:59:59Z']) {
      for (const zone of ['Asia/Tokyo', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'UTC']) {
        assert.equal(localToUtc(utcToLocalInput(at(iso), zone), zone)?.toISOString(), at(iso).toISOString(), `${iso} ${zone}`);
      }
    }
  });

  test('DST edges: a skipped time moves forward, a repeated time takes the earlier instant', () => {
    // New York 2026-03-08 02:00 → 03:00 (02:30 does not exist).
    assert.equal(localToUtc('2026-03-08T02:30', 'America/New_York')?.toISOString(), '2026-03-08T07:30:00.000Z');
    // New York 2026-11-01 01:30 happens twice (EDT then EST): the first one.
    assert.equal(localToUtc('2026-11-01T01:30', 'America/New_York')?.toISOString(), '2026-11-01T05:30:00.000Z');
  });

  test('rejects text that is not a wall-clock time', () => {
    for (const bad of ['', 'yesterday', '2026-13-01T00:00', '2026-02-30T10:00', '2026-11-23T24:00', '2026-11-23', '2026-11-23T10:00Z']) {
      assert.equal(localToUtc(bad, 'Asia/Tokyo'), null, bad);
    }
  });
});
