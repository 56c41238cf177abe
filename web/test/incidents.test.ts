import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Camera, IncidentTimeline } from '../src/lib/api.ts';
import { countLabel, storesWithProblems } from '../src/lib/home.ts';
import { messages } from '../src/lib/i18n.ts';
import { callPreservation, EMPTY_FILING, EMPTY_FILTER, filingBody, filingProblems, filterApiQuery, filterFromQuery, filterHref, filterProblem, windowPreservation, withFilter } from '../src/lib/incidents.ts';

const tokyo = { id: 's1', timezone: 'Asia/Tokyo' };
const ny = { id: 's2', timezone: 'America/New_York' };
const ID = '0b8e6f6a-1c3d-4e5f-8a9b-7c6d5e4f3a21';

describe('incident list filter ↔ URL ↔ API', () => {
  test('the URL round-trips; values the API would refuse are dropped', () => {
    const f = filterFromQuery(new URLSearchParams(`site=s1&status=open&category=threat&from=2026-11-24&to=2026-11-25&reporter=${ID}&case=0012&cursor=c1`));
    assert.deepEqual(f, { site: 's1', status: 'open', category: 'threat', from: '2026-11-24', to: '2026-11-25', reporter: ID, case: '0012', cursor: 'c1' });
    assert.equal(filterHref(f, 'en'), `/incidents?site=s1&status=open&category=threat&from=2026-11-24&to=2026-11-25&reporter=${ID}&case=0012&cursor=c1&lang=en`);
    assert.deepEqual(filterFromQuery(new URLSearchParams('status=lost&category=暴言&from=2026-02-30&reporter=me')), EMPTY_FILTER);
    assert.equal(filterHref(EMPTY_FILTER, 'ja'), '/incidents');
  });

  test('changing a filter starts from the newest page again', () => {
    assert.equal(withFilter({ ...EMPTY_FILTER, cursor: 'c9' }, { status: 'closed' }).cursor, '');
    assert.equal(withFilter(EMPTY_FILTER, { cursor: 'c2' }).cursor, 'c2');
  });

  test('days are whole local days of the chosen site; mixed zones without a site are UTC days', () => {
    const q = filterApiQuery({ ...EMPTY_FILTER, from: '2026-11-24', to: '2026-11-24', case: 'SHIBUYA', reporter: ID, status: 'open' }, [tokyo], 20);
    assert.deepEqual(q, { status: 'open', from: '2026-11-23T15:00:00.000Z', to: '2026-11-24T15:00:00.000Z', reporter: ID, caseNumber: 'SHIBUYA', limit: 20 });
    const mixed = filterApiQuery({ ...EMPTY_FILTER, from: '2026-11-24' }, [tokyo, ny]);
    assert.equal(mixed.from, '2026-11-24T00:00:00.000Z');
    assert.equal(filterApiQuery({ ...EMPTY_FILTER, site: 's2', from: '2026-11-24' }, [tokyo, ny]).from, '2026-11-24T05:00:00.000Z');
    assert.equal(filterProblem({ ...EMPTY_FILTER, from: '2026-11-25', to: '2026-11-24' }), 'date_order');
    assert.equal(filterProblem({ ...EMPTY_FILTER, from: '2026-11-24', to: '2026-11-24' }), null);
  });
});

describe('filing form', () => {
  const now = new Date('2026-11-24T06:00:00Z'); // 15:00 in Tokyo
  const m = messages.ja;

  test('from a call only category and severity are required', () => {
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, callId: 'c1' }, 'Asia/Tokyo', now), ['category', 'severity']);
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, callId: 'c1', category: 'threat', severity: 'high' }, 'Asia/Tokyo', now), []);
    const body = filingBody({ ...EMPTY_FILING, callId: 'c1', category: 'threat', severity: 'high', narrative: '  怒鳴った  ' }, 'Asia/Tokyo', m, '2026-11-24 14:50:00 JST');
    assert.deepEqual(body, { callId: 'c1', title: '脅迫 2026-11-24 14:50:00 JST', category: 'threat', severity: 'high', narrative: '怒鳴った' });
  });

  test('from a time: the store and the time too, read in the store zone; never in the future', () => {
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, category: 'threat', severity: 'high' }, null, now), ['site']);
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, siteId: 's1', at: 'soon', category: 'threat', severity: 'high' }, 'Asia/Tokyo', now), ['at']);
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, siteId: 's1', at: '2026-11-24T15:30', category: 'other', severity: 'low' }, 'Asia/Tokyo', now), ['at_future']);
    assert.deepEqual(filingProblems({ ...EMPTY_FILING, siteId: 's1', at: '2026-11-24T14:30', minutes: 0, category: 'other', severity: 'low' }, 'Asia/Tokyo', now), ['minutes']);
    const body = filingBody({ ...EMPTY_FILING, siteId: 's1', at: '2026-11-24T14:30', minutes: 15, category: 'violence', severity: 'critical', title: ' 殴打 ' }, 'Asia/Tokyo', m, 'x');
    assert.deepEqual(body, { siteId: 's1', window: { from: '2026-11-24T05:30:00.000Z', to: '2026-11-24T05:45:00.000Z' }, title: '殴打', category: 'violence', severity: 'critical' });
    assert.equal(filingBody({ ...EMPTY_FILING, siteId: 's1', at: '2026-11-24T14:30', category: 'bogus', severity: 'low' }, 'Asia/Tokyo', m, 'x'), null);
  });
});

describe('preservation state', () => {
  type W = IncidentTimeline['cameraWindows'][number];
  const arrival = (o: Partial<W['arrival']> = {}): W['arrival'] => ({
    state: 'awaiting', segments: { total: 0, stored: 0, metadataOnly: 0, deleted: 0 }, storedMs: 0, metadataOnlyMs: 0, deletedMs: 0, gapMs: 0, missingMs: 0, futureMs: 0, stored: [], atStore: [], missing: [], deleted: [], gaps: [], ...o,
  });
  const win = (a: W['arrival'], cmd: W['preserveCommand'] = null): W => ({
    id: 'w', camera: { id: 'c', key: 'cam1', name: 'cam1', place: null, uploadMode: 'continuous' }, from: '2026-11-24T05:00:00Z', to: '2026-11-24T05:10:00Z', source: 'filed',
    linkedBy: 'u', linkedAt: '2026-11-24T05:20:00Z', arrival: a, preserveCommand: cmd, playlistUrl: '/p', playable: true,
  });
  const cmd = (status: 'pending' | 'delivered' | 'done' | 'failed', detail: string | null = null) => ({ id: 'k', status, createdAt: 'x', deliveredAt: null, completedAt: null, detail });
  const gap = (from: string, to: string, reason: string) => ({ from, to, reason, detail: null });

  test('at the centre, held at the store, on its way, missing with its reason', () => {
    assert.equal(windowPreservation(win(arrival({ state: 'complete', storedMs: 600_000 }))).state, 'centre');
    assert.equal(windowPreservation(win(arrival({ metadataOnlyMs: 60_000, storedMs: 540_000 }), cmd('pending'))).state, 'store');
    assert.equal(windowPreservation(win(arrival({ missingMs: 60_000 }))).state, 'store');
    assert.equal(windowPreservation(win(arrival({ metadataOnlyMs: 60_000 }), cmd('delivered'))).state, 'transit');
    assert.equal(windowPreservation(win(arrival({ storedMs: 300_000, futureMs: 300_000 }))).state, 'transit', 'still being recorded and uploaded as usual');
    const failed = windowPreservation(win(arrival({ state: 'failed', gapMs: 120_000, gaps: [gap('2026-11-24T05:00:00Z', '2026-11-24T05:01:00Z', 'evicted'), gap('2026-11-24T05:02:00Z', '2026-11-24T05:03:00Z', 'evicted'), gap('2026-11-24T05:05:00Z', '2026-11-24T05:05:30Z', 'camera_offline')] }), cmd('failed', 'evicted before the request')));
    assert.deepEqual(failed, { state: 'missing', futureMs: 0, detail: 'evicted before the request', gaps: [{ reason: 'evicted', ms: 120_000 }, { reason: 'camera_offline', ms: 30_000 }] });
    assert.equal(windowPreservation(win(arrival({ state: 'complete', gapMs: 600_000 }))).state, 'missing', 'all of it a reported gap');
  });

  test("a call's recordings", () => {
    type C = IncidentTimeline['calls'][number];
    const rec = (stored: boolean) => ({ id: 'r', name: 'a.wav', role: 'mixed', durationS: 1, sha256: 'x', stored, original: null, playable: null, waveform: null, derive: 'done' });
    const call = (recordings: C['recordings']) => ({ recordings }) as Pick<C, 'recordings'>;
    assert.deepEqual(callPreservation(call([rec(true), rec(true)]) as C), { state: 'centre', stored: 2, total: 2 });
    assert.deepEqual(callPreservation(call([rec(true), rec(false)]) as C), { state: 'transit', stored: 1, total: 2 });
    assert.deepEqual(callPreservation(call([]) as C), { state: 'missing', stored: 0, total: 0 });
  });
});

describe('home', () => {
  const cam = (siteId: string, health: string, last: string | null): Camera => ({
    id: `${siteId}-${health}-${last}`, siteId, siteCode: siteId, siteName: `店 ${siteId}`, timezone: 'Asia/Tokyo', key: 'k', name: 'n', place: null, uploadMode: 'continuous', health, lastSegmentAt: last,
  });

  test('stores with problems: only those with a camera not recording, the worst first', () => {
    const r = storesWithProblems([cam('a', 'recording', '2026-11-24T05:00:00Z'), cam('a', 'offline', '2026-11-24T01:00:00Z'), cam('b', 'offline', null), cam('c', 'recording', '2026-11-24T05:00:00Z')]);
    assert.deepEqual(r.map((s) => [s.siteId, s.offline, s.total]), [['b', 1, 1], ['a', 1, 2]]);
    assert.equal(r[1]!.lastSegmentAt, '2026-11-24T05:00:00Z');
  });

  test('a capped count says so', () => {
    assert.equal(countLabel(200, true), '200+');
    assert.equal(countLabel(3, false), '3');
  });
});
