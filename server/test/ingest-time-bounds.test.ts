/**
 * Issue 12 item 2: every time an agent sends is bounded against the centre's clock (fixed here, so the test does not
 * depend on the date) and the agent's measured offset. Out of bounds: 422 `time_out_of_bounds`, nothing stored, the
 * refusal counted (ingest_refusal) and, for footage and gaps, audited. Real server, PostgreSQL and S3.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AGENT_TIME_BOUNDS, type CallPayload, type LiveCallInput } from '@mamoru/contract';
import { fixedClock } from '../src/adapters/clock.ts';
import { footageTimeViolation, heartbeatTimeViolation } from '../src/domain/time-bounds.ts';
import { fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const NOW = new Date('2026-11-24T03:00:00.000Z');
const MIN = 60_000;
const TOL = AGENT_TIME_BOUNDS.futureToleranceMs;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Err = { error: { code: string; message: string; details?: { field: string; value: string; earliest: string; latest: string; offsetMs: number } } };

describe('agent times: pure bounds', () => {
  const now = NOW.getTime();
  test('footage: the floor, the tolerance ahead of the centre, and the offset taken out', () => {
    assert.equal(footageTimeViolation([{ field: 'end', ms: now + TOL }], { nowMs: now, offsetMs: 0 }), null);
    assert.equal(footageTimeViolation([{ field: 'end', ms: now + TOL + 1 }], { nowMs: now, offsetMs: 0 })?.field, 'end');
    // An agent clock 10 minutes ahead: its "now + 10 min" is the centre's now.
    assert.equal(footageTimeViolation([{ field: 'end', ms: now + 10 * MIN }], { nowMs: now, offsetMs: 10 * MIN }), null);
    assert.ok(footageTimeViolation([{ field: 'end', ms: now + 10 * MIN }], { nowMs: now, offsetMs: 0 }));
    assert.equal(footageTimeViolation([{ field: 'start', ms: Date.parse(AGENT_TIME_BOUNDS.floor) }], { nowMs: now, offsetMs: 0 }), null);
    assert.equal(footageTimeViolation([{ field: 'start', ms: Date.parse(AGENT_TIME_BOUNDS.floor) - 1 }], { nowMs: now, offsetMs: 0 })?.field, 'start');
    assert.ok(footageTimeViolation([{ field: 'start', ms: Number.NaN }], { nowMs: now, offsetMs: 0 }));
  });
  test('heartbeat: within a day (the largest accepted offset) and the tolerance', () => {
    assert.equal(heartbeatTimeViolation(now - 86_400_000, now), null);
    assert.equal(heartbeatTimeViolation(now + 86_400_000 + TOL, now), null);
    assert.ok(heartbeatTimeViolation(now + 86_400_000 + TOL + 1, now));
    assert.ok(heartbeatTimeViolation(Date.parse('2099-01-01T00:00:00Z'), now));
  });
});

describe('agent times: the centre refuses what is out of bounds and stores nothing', () => {
  let centre: TestCentre;
  let agent: { agentId: string; siteId: string; credential: string };
  before(async () => {
    centre = await startCentre({ clock: fixedClock(NOW) });
    agent = await centre.enrollAgent((await centre.createSite()).token);
    for (const [key, uploadMode] of [['cam1', 'continuous'], ['cam2', 'on-demand']] as const) {
      const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: key, uploadMode }) });
      assert.equal(r.status, 200);
    }
  });
  after(() => centre.close());

  const auth = () => ({ authorization: `Bearer ${agent.credential}` });
  const put = (start: string, body: Buffer, extra: Record<string, string> = {}) =>
    fetch(`${centre.url}/api/v1/agent/segments/cam1/${encodeURIComponent(start)}`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000', ...extra },
      body,
    });
  const putMeta = (start: string, body: Buffer, clockOffsetMs: number | null = null) =>
    fetch(`${centre.url}/api/v1/agent/segments/cam2/${encodeURIComponent(start)}/meta`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: sha(body), size: body.length, durationMs: 10_000, mediaType: 'video/mp2t', clockOffsetMs }),
    });
  const gap = (start: string, end: string) =>
    fetch(`${centre.url}/api/v1/agent/gaps`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ cameraKey: 'cam1', start, end, reason: 'camera_offline', detail: null }) });
  const heartbeat = (sentAtMs: number, clockOffsetMs: number | null = null) =>
    fetch(`${centre.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ version: 't', sentAtMs, clockOffsetMs }) });
  const count = async (table: 'segment' | 'gap') => Number((await centre.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const stored = async () => ({ segments: await count('segment'), gaps: await count('gap'), objects: await centre.objectCount('segments/') });
  const refused = async (r: Response, field: string) => {
    assert.equal(r.status, 422, await r.clone().text());
    const e = ((await r.json()) as Err).error;
    assert.equal(e.code, 'time_out_of_bounds');
    assert.equal(e.details?.field, field);
    return e;
  };

  test('segments dated 2099, 1970 and year 1 (media and metadata routes) and a gap 1900–2999 are refused; nothing is stored', async () => {
    const before = await stored();
    const body = randomBytes(20_000);
    for (const start of ['2099-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z']) {
      const e = await refused(await put(start, body), 'start');
      assert.equal(e.details?.earliest, AGENT_TIME_BOUNDS.floor);
      await refused(await putMeta(start, body), 'start');
    }
    await refused(await gap('1900-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z'), 'start');
    await refused(await gap('2026-11-24T02:00:00.000Z', '2999-01-01T00:00:00.000Z'), 'end');
    assert.deepEqual(await stored(), before, 'no row, no gap, no object');
  });

  test('the bound is the centre clock plus the tolerance, after the agent offset is taken out', async () => {
    const body = randomBytes(10_000);
    // Ends exactly at now + tolerance: accepted. One millisecond later: refused.
    assert.equal((await put(new Date(NOW.getTime() + TOL - 10_000).toISOString(), body)).status, 201);
    const late = randomBytes(10_000);
    const e = await refused(await put(new Date(NOW.getTime() + TOL - 10_000 + 1).toISOString(), late), 'end');
    assert.equal(e.details?.latest, new Date(NOW.getTime() + TOL).toISOString());
    // The same late segment from an agent whose clock runs 10 minutes ahead (its own measured offset): accepted.
    assert.equal((await put(new Date(NOW.getTime() + 9 * MIN).toISOString(), randomBytes(10_000), { 'x-clock-offset-ms': String(10 * MIN) })).status, 201);
    // Without an offset on the segment, the one of the agent's last heartbeat counts.
    assert.equal((await heartbeat(NOW.getTime() + 10 * MIN, 10 * MIN)).status, 200);
    assert.equal((await putMeta(new Date(NOW.getTime() + 9 * MIN).toISOString(), randomBytes(10_000))).status, 201);
    assert.equal((await gap(new Date(NOW.getTime() + 8 * MIN).toISOString(), new Date(NOW.getTime() + 9 * MIN).toISOString())).status, 201);
    assert.equal((await heartbeat(NOW.getTime(), 0)).status, 200);
    await refused(await gap(new Date(NOW.getTime() + 8 * MIN).toISOString(), new Date(NOW.getTime() + 9 * MIN).toISOString()), 'start');
  });

  test('a heartbeat sent from 2099 (or more than a day off) is refused and changes nothing; an offset beyond a day is invalid', async () => {
    const before = await centre.db.selectFrom('agent').select(['lastContactAt', 'version', 'clockOffsetMs']).where('id', '=', agent.agentId).executeTakeFirstOrThrow();
    await refused(await heartbeat(Date.parse('2099-01-01T00:00:00Z')), 'sentAtMs');
    await refused(await heartbeat(NOW.getTime() - 2 * 86_400_000), 'sentAtMs');
    const r = await heartbeat(NOW.getTime(), 2 * 86_400_000);
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as Err).error.code, 'invalid_request');
    const afterRow = await centre.db.selectFrom('agent').select(['lastContactAt', 'version', 'clockOffsetMs']).where('id', '=', agent.agentId).executeTakeFirstOrThrow();
    assert.deepEqual(afterRow, before);
  });

  test('each refusal is counted per agent, subject and code with the latest values, and footage refusals are audited', async () => {
    const rows = await centre.db.selectFrom('ingestRefusal').select(['agentId', 'subject', 'code', 'count', 'lastDetail']).where('agentId', '=', agent.agentId).orderBy('subject').execute();
    const by = Object.fromEntries(rows.map((r) => [r.subject, r]));
    assert.equal(Number(by.segment?.count), 4, 'three dates and one a millisecond late');
    assert.equal(Number(by.segment_meta?.count), 3);
    assert.equal(Number(by.gap?.count), 3);
    assert.equal(Number(by.heartbeat?.count), 2);
    assert.ok(rows.every((r) => r.code === 'time_out_of_bounds'));
    assert.equal((by.segment!.lastDetail as { cameraKey: string }).cameraKey, 'cam1');
    const audits = await centre.db.selectFrom('auditEvent').select(['details', 'actorType', 'siteId']).where('action', '=', 'ingest.refused').execute();
    assert.equal(audits.length, 4 + 3 + 3, 'segments, metadata and gaps; heartbeats are counted, not audited');
    assert.ok(audits.every((a) => a.actorType === 'agent' && a.siteId === agent.siteId));
  });

  test('the stores view shows the refusals of the store\'s agent', async () => {
    const r = await fetch(`${centre.url}/api/v1/fleet?siteId=${agent.siteId}`, { headers: { cookie: await centre.hqCookie() } });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { stores: { refusals: { agentId: string; subject: string; code: string; count: number; lastDetail: { field: string; latest: string } }[] }[] };
    const refusals = body.stores[0]!.refusals;
    assert.deepEqual(refusals.map((x) => [x.subject, x.count]).sort(), [['gap', 3], ['heartbeat', 2], ['segment', 4], ['segment_meta', 3]]);
    assert.ok(refusals.every((x) => x.agentId === agent.agentId && x.code === 'time_out_of_bounds' && typeof x.lastDetail.latest === 'string'));
  });
});

describe('agent times: calls and live calls are bounded like footage', () => {
  let centre: TestCentre;
  let agent: { agentId: string; siteId: string; credential: string };
  before(async () => {
    centre = await startCentre({ clock: fixedClock(NOW) });
    agent = await centre.enrollAgent((await centre.createSite()).token);
  });
  after(() => centre.close());

  const put = (linkedId: string, path: string, body: unknown) =>
    fetch(`${centre.url}/api/v1/agent/calls/${encodeURIComponent(`main-pbx:${linkedId}`)}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const call = (linkedId: string, over: Partial<CallPayload> = {}) => ({ ...fixturePayload(over), linkedId });
  const live = (linkedId: string, over: Partial<LiveCallInput> = {}): LiveCallInput => ({
    pbxId: 'main-pbx', linkedId, adapter: 'asterisk-files', seq: 1, state: 'in_progress', direction: 'inbound', directionSource: 'ami',
    caller: { number: '0312345678', name: null, e164: '+81312345678' }, called: { number: '0501234567', e164: '+81501234567' },
    operator: null, operators: [], startUtc: '2026-11-24T02:59:00Z', answerUtc: null, pickupUtc: null, endUtc: null, observedUtc: '2026-11-24T02:59:01Z', ...over,
  });
  const stored = async () => ({
    calls: Number((await centre.db.selectFrom('call').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    versions: Number((await centre.db.selectFrom('callVersion').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
  });
  const refused = async (r: Response, field: string) => {
    assert.equal(r.status, 422, await r.clone().text());
    const e = ((await r.json()) as Err).error;
    assert.equal(e.code, 'time_out_of_bounds');
    assert.equal(e.details?.field, field);
  };
  const times = fixturePayload().times;
  const span = (start: string, end: string) => ({ ...times, startUtc: start, answerUtc: null, endUtc: end, raw: { start: null, answer: null, end: null } });

  test('call versions dated 2099 or 1970, or carrying a transfer in 2999 or a ring in year 1, are refused; nothing is stored', async () => {
    const before0 = await stored();
    await refused(await put('a.1', '/versions/1', call('a.1', { times: span('2099-01-01T00:00:00Z', '2099-01-01T00:01:00Z') })), 'times.startUtc');
    await refused(await put('a.2', '/versions/1', call('a.2', { times: span('1970-01-01T00:00:00Z', '1970-01-01T00:01:00Z') })), 'times.startUtc');
    const transfer = { kind: 'blind' as const, atUtc: '2999-01-01T00:00:00Z', by: '201', from: '201', to: '202', raw: 'x', source: { file: 'Master.csv', offset: 0 } };
    await refused(await put('a.3', '/versions/1', call('a.3', { transfers: [transfer] })), 'transfers[0].atUtc');
    const op = { extension: '201', name: null, rungUtc: '0001-01-01T00:00:00Z', answeredUtc: null, source: 'cel' as const };
    await refused(await put('a.4', '/versions/1', call('a.4', { operators: [op] })), 'operators[0].rungUtc');
    assert.deepEqual(await stored(), before0);
    // The fixture call (the evening before the centre's now) and one ending a moment ago are taken.
    assert.equal((await put('b.1', '/versions/1', call('b.1'))).status, 201);
    assert.equal((await put('b.2', '/versions/1', call('b.2', { times: span('2026-11-24T02:58:00Z', '2026-11-24T03:00:00Z') }))).status, 201);
  });

  test('a live view observed in 2099 or started in 1970 is refused; nothing is stored', async () => {
    const before0 = await stored();
    await refused(await put('c.1', '/live', live('c.1', { observedUtc: '2099-01-01T00:00:00Z' })), 'observedUtc');
    await refused(await put('c.2', '/live', live('c.2', { startUtc: '1970-01-01T00:00:00Z' })), 'startUtc');
    assert.deepEqual(await stored(), before0);
    assert.equal((await put('c.3', '/live', live('c.3'))).status, 200);
  });

  test('the refusals are counted under call and call_live and audited', async () => {
    const rows = await centre.db.selectFrom('ingestRefusal').select(['subject', 'count']).where('agentId', '=', agent.agentId).execute();
    assert.deepEqual(rows.map((r) => [r.subject, Number(r.count)]).sort(), [['call', 4], ['call_live', 2]]);
    const audits = await centre.db.selectFrom('auditEvent').select(['details']).where('action', '=', 'ingest.refused').execute();
    assert.deepEqual(audits.map((a) => (a.details as { subject: string }).subject).sort(), ['call', 'call', 'call', 'call', 'call_live', 'call_live']);
  });
});
