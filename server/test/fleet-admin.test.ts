/**
 * The stores view (GET /fleet) and the admin APIs behind the admin pages (sites with notices, enrollment tokens,
 * agents), against a real centre and PostgreSQL. The centre's clock is fixed so that "the last 24 hours" is the
 * same on every machine and date.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixedClock } from '../src/adapters/clock.ts';
import { compareStores, coverageOf, storeProblems } from '../src/domain/fleet.ts';
import { agentClient, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { segmentRow } from './helpers/segment-rows.ts';

const NOW = new Date('2026-11-24T00:00:00.000Z');
const at = (minutesBeforeNow: number) => new Date(NOW.getTime() - minutesBeforeNow * 60_000);
type Err = { error: { code: string; message: string; requestId: string } };

describe('fleet domain (pure)', () => {
  const window = { start: at(60), end: NOW };
  test('coverage: holes between footage, the short tail is "not yet", a camera is judged from its creation', () => {
    const c = coverageOf(
      [
        { start: at(50), end: at(40) },
        { start: at(40), end: at(30) }, // touches: merged
        { start: at(20), end: at(2) },
      ],
      window,
      { createdAt: at(55), notYetMs: 3 * 60_000 },
    );
    assert.equal(c.from.toISOString(), at(55).toISOString());
    assert.deepEqual(c.covered.map((i) => [i.start.toISOString(), i.end.toISOString()]), [[at(50).toISOString(), at(30).toISOString()], [at(20).toISOString(), at(2).toISOString()]]);
    assert.deepEqual(c.holes.map((i) => [i.start.toISOString(), i.end.toISOString()]), [[at(55).toISOString(), at(50).toISOString()], [at(30).toISOString(), at(20).toISOString()]]);
    assert.deepEqual(c.notYet && [c.notYet.start.toISOString(), c.notYet.end.toISOString()], [at(2).toISOString(), NOW.toISOString()]);
    assert.equal(c.coveredMs, 38 * 60_000);
    assert.equal(c.holeMs, 15 * 60_000);
  });
  test('coverage: a long silence after the last footage is a hole, and footage outside the window is clipped', () => {
    const c = coverageOf([{ start: at(90), end: at(30) }], window, { notYetMs: 3 * 60_000 });
    assert.deepEqual(c.covered.map((i) => [i.start.toISOString(), i.end.toISOString()]), [[at(60).toISOString(), at(30).toISOString()]]);
    assert.deepEqual(c.holes.map((i) => [i.start.toISOString(), i.end.toISOString()]), [[at(30).toISOString(), NOW.toISOString()]]);
    assert.equal(c.notYet, null);
    const none = coverageOf([], window, { notYetMs: 3 * 60_000 });
    assert.equal(none.holeMs, 60 * 60_000);
  });
  test('problems: no agent, silent agent, clock, disk, backlog, offline camera, holes; revoked agents do not count', () => {
    const full = coverageOf([{ start: at(60), end: NOW }], window, { notYetMs: 0 });
    const holey = coverageOf([{ start: at(60), end: at(10) }], window, { notYetMs: 0 });
    assert.deepEqual(storeProblems([{ id: 'a', revokedAt: at(5), lastContactAt: NOW, clockOffsetMs: 0, diskUsedBytes: 1, diskTotalBytes: 10, backlogCount: 0 }], [], NOW).map((p) => p.code), ['no_agent']);
    const p = storeProblems(
      [{ id: 'a', revokedAt: null, lastContactAt: at(6), clockOffsetMs: -2500, diskUsedBytes: 95, diskTotalBytes: 100, backlogCount: 101 }],
      [
        { id: 'c1', key: 'k1', health: 'offline', uploadMode: 'continuous', coverage: full },
        { id: 'c2', key: 'k2', health: 'recording', uploadMode: 'continuous', coverage: holey },
      ],
      NOW,
    );
    assert.deepEqual(p.map((x) => x.code), ['agent_silent', 'camera_offline', 'clock_offset', 'disk_nearly_full', 'backlog', 'coverage_holes']);
    assert.deepEqual(storeProblems([{ id: 'a', revokedAt: null, lastContactAt: at(1), clockOffsetMs: 40, diskUsedBytes: 5, diskTotalBytes: 100, backlogCount: 3 }], [{ id: 'c1', key: 'k1', health: 'recording', uploadMode: 'on-demand', coverage: full }], NOW), []);
  });
  test('stores with a problem first: critical, then warning, then more problems, then code', () => {
    const crit = { severity: 'critical' as const, code: 'no_agent' as const };
    const warn = { severity: 'warning' as const, code: 'backlog' as const };
    const stores = [
      { code: 'a-ok', problems: [] },
      { code: 'b-warn', problems: [warn] },
      { code: 'c-crit', problems: [crit] },
      { code: 'd-warn2', problems: [warn, warn] },
    ];
    assert.deepEqual(stores.sort(compareStores).map((s) => s.code), ['c-crit', 'd-warn2', 'b-warn', 'a-ok']);
  });
});

describe('stores view and admin APIs', () => {
  let centre: TestCentre;
  let A: { siteId: string; code: string; token: string };
  let B: { siteId: string; code: string; token: string };
  let C: { siteId: string; code: string; token: string };
  let agentA: { agentId: string; credential: string };
  let agentB: { agentId: string; credential: string };
  let cookies: Record<'admin' | 'hq' | 'security' | 'manager' | 'auditor', string>;
  let camA: string;
  let camB: string;

  const call = (method: string, path: string, cookie: string, body?: unknown) =>
    fetch(`${centre.url}/api/v1${path}`, { method, headers: { cookie, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const agentCall = (credential: string, path: string, body: unknown, method = 'POST') =>
    fetch(`${centre.url}/api/v1/agent${path}`, { method, headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const audits = (action: string) => centre.db.selectFrom('auditEvent').select(['actorLabel', 'targetId', 'siteId', 'details', 'outcome']).where('action', '=', action).orderBy('id').execute();

  before(async () => {
    centre = await startCentre({ clock: fixedClock(NOW) });
    A = await centre.createSite('fleet-a');
    B = await centre.createSite('fleet-b');
    C = await centre.createSite('fleet-c');
    agentA = await centre.enrollAgent(A.token);
    agentB = await centre.enrollAgent(B.token);
    // Site C has no agent at all.
    const user = async (role: 'admin' | 'hq' | 'security' | 'store_manager' | 'auditor', siteIds: string[] = []) => centre.sessionCookie((await centre.createUser({ role, siteIds })).id);
    cookies = { admin: await user('admin'), hq: await user('hq'), security: await user('security', [A.siteId, B.siteId]), manager: await user('store_manager', [A.siteId]), auditor: await user('auditor') };

    for (const [agent, key] of [[agentA, 'camA'], [agentB, 'camB']] as const) {
      const r = await agentCall(agent.credential, `/cameras/${key}`, { name: key, place: 'レジ1' }, 'PUT');
      assert.equal(r.status, 200);
    }
    camA = (await centre.db.selectFrom('camera').select('id').where('key', '=', 'camA').executeTakeFirstOrThrow()).id;
    camB = (await centre.db.selectFrom('camera').select('id').where('key', '=', 'camB').executeTakeFirstOrThrow()).id;
    // Registered 30 minutes ago (the database's own now() is the machine's date, not the fixed clock's).
    await centre.db.updateTable('camera').set({ createdAt: at(30) }).execute();
    // Site A: footage without a break from registration to a minute ago, a healthy agent.
    let n = 0;
    for (let m = 30; m > 1; m--) await centre.services.repos.segments.insert(segmentRow(camA, at(m), at(m - 1), ++n, true));
    assert.equal((await agentCall(agentA.credential, '/heartbeat', { version: '1.4.0', sentAtMs: NOW.getTime(), clockOffsetMs: 12, diskUsedBytes: 10e9, diskTotalBytes: 100e9, backlogCount: 0, backlogBytes: 0, cameras: [{ key: 'camA', health: 'recording' }] })).status, 200);
    // Site B: a 10-minute break (reported as camera_offline), the camera offline now, the agent silent for an hour.
    for (let m = 30; m > 20; m--) await centre.services.repos.segments.insert(segmentRow(camB, at(m), at(m - 1), ++n, true));
    for (let m = 10; m > 1; m--) await centre.services.repos.segments.insert(segmentRow(camB, at(m), at(m - 1), ++n, false));
    assert.equal((await agentCall(agentB.credential, '/gaps', { cameraKey: 'camB', start: at(20).toISOString(), end: at(10).toISOString(), reason: 'camera_offline', detail: 'RTSP timeout' })).status, 201);
    assert.equal((await agentCall(agentB.credential, '/heartbeat', { version: '1.3.9', sentAtMs: NOW.getTime(), cameras: [{ key: 'camB', health: 'offline' }] })).status, 200);
    await centre.db.updateTable('agent').set({ lastContactAt: at(60) }).where('id', '=', agentB.agentId).execute();
    // A call at site A inside the window.
    const calls = agentClient(() => centre.url, agentA.credential);
    assert.equal((await calls.putVersion('main-pbx:1795457100.0', 1, fixturePayload())).status, 201);
  });
  after(() => centre.close());

  type Fleet = {
    from: string;
    to: string;
    stores: {
      site: { id: string; code: string };
      problems: { code: string; severity: string; cameraId?: string }[];
      agents: { id: string; version: string | null; clockOffsetMs: number | null; diskUsedBytes: number | null; lastContactAt: string | null }[];
      cameras: { id: string; uploadMode: string; health: string; segments: number; coverage: { coveredMs: number; holeMs: number; holes: { start: string; end: string }[]; notYet: { start: string } | null }; gaps: { reason: string; detail: string | null }[] }[];
      calls: { count: number; recent: { id: string; direction: string }[] } | null;
    }[];
  };

  test('security sees the stores they are assigned to, the one with a problem first, with agent status, coverage and gaps', async () => {
    const r = await call('GET', '/fleet', cookies.security);
    assert.equal(r.status, 200);
    const f = (await r.json()) as Fleet;
    assert.equal(f.to, NOW.toISOString());
    assert.equal(f.from, at(24 * 60).toISOString());
    assert.deepEqual(f.stores.map((s) => s.site.code), ['fleet-b', 'fleet-a'], 'B has problems, C is not theirs');
    const [b, a] = f.stores;
    assert.deepEqual(b!.problems.map((p) => p.code), ['agent_silent', 'camera_offline', 'coverage_holes']);
    assert.deepEqual(a!.problems, []);
    assert.deepEqual({ version: a!.agents[0]!.version, offset: a!.agents[0]!.clockOffsetMs, disk: a!.agents[0]!.diskUsedBytes }, { version: '1.4.0', offset: 12, disk: 10e9 });
    const ca = a!.cameras[0]!;
    assert.deepEqual({ segments: ca.segments, covered: ca.coverage.coveredMs, holes: ca.coverage.holeMs, notYet: ca.coverage.notYet?.start, mode: ca.uploadMode, health: ca.health }, { segments: 29, covered: 29 * 60_000, holes: 0, notYet: at(1).toISOString(), mode: 'continuous', health: 'recording' });
    const cb = b!.cameras[0]!;
    assert.deepEqual(cb.coverage.holes, [{ start: at(20).toISOString(), end: at(10).toISOString() }]);
    assert.deepEqual(cb.gaps.map((g) => [g.reason, g.detail]), [['camera_offline', 'RTSP timeout']]);
    assert.equal(cb.segments, 19, 'metadata-only (on-demand style) rows count as recorded');
    assert.equal(a!.calls!.count, 1);
    assert.equal(a!.calls!.recent[0]!.direction, 'inbound');
    assert.deepEqual(b!.calls, { count: 0, recent: [] });
    const ev = (await audits('fleet.view')).at(-1)!;
    assert.deepEqual(ev.details, { sites: 2, hours: 24, withProblems: 1 });
  });

  test("a store outside the caller's scope is refused as missing; store managers and auditors get 403", async () => {
    const other = await call('GET', `/fleet?siteId=${C.siteId}`, cookies.security);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as Err).error.code, 'site_not_found');
    const missing = await call('GET', '/fleet?siteId=00000000-0000-4000-8000-000000000000', cookies.security);
    assert.deepEqual(((await missing.json()) as Err).error.message, 'site not found');
    const one = (await (await call('GET', `/fleet?siteId=${B.siteId}`, cookies.security)).json()) as Fleet;
    assert.deepEqual(one.stores.map((s) => s.site.code), ['fleet-b']);
    for (const who of ['manager', 'auditor'] as const) {
      const r = await call('GET', '/fleet', cookies[who]);
      assert.equal(r.status, 403, who);
      assert.equal(((await r.json()) as Err).error.code, 'forbidden');
    }
    assert.equal((await call('GET', '/fleet?hours=0', cookies.hq)).status, 400);
  });

  test('hq and admin see every store (the one without an agent first); admin gets no calls', async () => {
    const hq = (await (await call('GET', '/fleet', cookies.hq)).json()) as Fleet;
    assert.deepEqual(hq.stores.map((s) => s.site.code), ['fleet-b', 'fleet-c', 'fleet-a']);
    assert.deepEqual(hq.stores[1]!.problems.map((p) => p.code), ['no_agent']);
    assert.equal(hq.stores[2]!.calls!.count, 1);
    const admin = (await (await call('GET', '/fleet', cookies.admin)).json()) as Fleet;
    assert.deepEqual(admin.stores.map((s) => s.calls), [null, null, null]);
  });

  test('admin creates a site with its camera signage and PBX recording notices; bad input stores nothing', async () => {
    const body = { code: 'shinjuku', name: '新宿店', timezone: 'Asia/Tokyo', address: '東京都新宿区', cameraNotice: { text: '防犯カメラ作動中', place: '入口・レジ上', since: '2026-11-01' }, pbxNoticeText: 'この通話は品質向上のため録音しています' };
    const r = await call('POST', '/sites', cookies.admin, body);
    assert.equal(r.status, 201);
    const s = (await r.json()) as { id: string; cameraNotice: unknown; pbxNoticeText: string };
    assert.deepEqual(s.cameraNotice, body.cameraNotice);
    const got = (await (await call('GET', `/sites/${s.id}`, cookies.admin)).json()) as typeof s;
    assert.deepEqual({ cameraNotice: got.cameraNotice, pbxNoticeText: got.pbxNoticeText }, { cameraNotice: body.cameraNotice, pbxNoticeText: body.pbxNoticeText });
    const ev = (await audits('site.create')).find((e) => e.targetId === s.id)!;
    assert.equal((ev.details as { pbxNoticeText: string }).pbxNoticeText, body.pbxNoticeText);
    const count = async () => (await centre.db.selectFrom('site').select('id').execute()).length;
    const before = await count();
    const bad: [unknown, number, string][] = [
      [body, 409, 'site_code_taken'],
      [{ ...body, code: 'Bad Code' }, 400, 'invalid_site_code'],
      [{ ...body, code: 'x1', timezone: 'Mars/Olympus' }, 400, 'invalid_timezone'],
      [{ ...body, code: 'x2', pbxNoticeText: 'a\u0000b' }, 400, 'invalid_request'],
      [{ ...body, code: 'x3', cameraNotice: { text: ' ' } }, 400, 'invalid_request'],
      [{ ...body, code: 'x4', cameraNotice: { text: 'ok', since: '2026-13-45' } }, 400, 'invalid_notice_date'],
    ];
    for (const [b, status, code] of bad) {
      const x = await call('POST', '/sites', cookies.admin, b);
      assert.equal(x.status, status, JSON.stringify(b));
      assert.equal(((await x.json()) as Err).error.code, code);
    }
    const denied = await call('POST', '/sites', cookies.hq, { ...body, code: 'by-hq' });
    assert.equal(denied.status, 403);
    assert.equal(await count(), before, 'nothing stored');
    const listed = (await (await call('GET', '/sites?detail=1', cookies.admin)).json()) as { sites: { code: string; pbxNoticeText?: string | null }[] };
    assert.equal(listed.sites.find((x) => x.code === 'shinjuku')!.pbxNoticeText, body.pbxNoticeText);
    assert.equal((await call('GET', '/sites?detail=1', cookies.hq)).status, 403, 'the detailed list is the admin page’s');
  });

  test('admin edits a site: changes audited with before and after; the code never changes; other roles 403', async () => {
    const r = await call('PATCH', `/sites/${A.siteId}`, cookies.admin, { name: '渋谷店', pbxNoticeText: '録音します', cameraNotice: { text: '防犯カメラ作動中', place: '入口' } });
    assert.equal(r.status, 200);
    const s = (await r.json()) as { code: string; name: string; pbxNoticeText: string; cameraNotice: { since: string | null } };
    assert.deepEqual({ code: s.code, name: s.name, pbx: s.pbxNoticeText, since: s.cameraNotice.since }, { code: 'fleet-a', name: '渋谷店', pbx: '録音します', since: null });
    const ev = (await audits('site.update')).at(-1)!;
    assert.deepEqual(Object.keys((ev.details as { changes: object }).changes).sort(), ['cameraNotice', 'name', 'pbxNoticeText']);
    assert.equal((await call('PATCH', `/sites/${A.siteId}`, cookies.admin, { code: 'renamed' })).status, 400, 'code is not a field');
    assert.equal((await call('PATCH', `/sites/${A.siteId}`, cookies.security, { name: 'x' })).status, 403);
    assert.equal((await call('PATCH', '/sites/00000000-0000-4000-8000-000000000000', cookies.admin, { name: 'x' })).status, 404);
    // A store manager reads their own site's notices; another site is missing to them.
    assert.equal((await call('GET', `/sites/${A.siteId}`, cookies.manager)).status, 200);
    assert.equal((await call('GET', `/sites/${B.siteId}`, cookies.manager)).status, 404);
  });

  test('enrollment tokens: issue (secret once), list with states, revoke an unused one (then it cannot enroll), a used one is 409', async () => {
    const r = await call('POST', '/enrollment-tokens', cookies.admin, { siteId: C.siteId, ttlSeconds: 3600 });
    assert.equal(r.status, 201);
    const t = (await r.json()) as { id: string; token: string; state: string; siteCode: string; expiresAt: string; createdBy: string };
    assert.match(t.token, /^mmr_enr_/);
    assert.deepEqual({ state: t.state, site: t.siteCode, expires: t.expiresAt }, { state: 'active', site: 'fleet-c', expires: new Date(NOW.getTime() + 3600_000).toISOString() });
    assert.match(t.createdBy, /^user:/);
    const list = (await (await call('GET', `/enrollment-tokens?siteId=${C.siteId}`, cookies.admin)).json()) as { tokens: Record<string, unknown>[] };
    assert.ok(list.tokens.some((x) => x.id === t.id && x.state === 'active'));
    assert.ok(list.tokens.every((x) => !('token' in x) && !('tokenHash' in x)), 'the secret is never listed');
    const rv = await call('POST', `/enrollment-tokens/${t.id}/revoke`, cookies.admin);
    assert.equal(rv.status, 200);
    assert.equal(((await rv.json()) as { state: string }).state, 'revoked');
    assert.equal((await call('POST', `/enrollment-tokens/${t.id}/revoke`, cookies.admin)).status, 200, 'idempotent');
    const enroll = await fetch(`${centre.url}/api/v1/agent/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t.token }) });
    assert.equal(enroll.status, 410);
    assert.equal(((await enroll.json()) as Err).error.code, 'enrollment_token_revoked');
    assert.equal((await centre.db.selectFrom('agent').select('id').where('siteId', '=', C.siteId).execute()).length, 0);
    // The token site A's agent used.
    const used = (await centre.db.selectFrom('enrollmentToken').select('id').where('siteId', '=', A.siteId).where('usedAt', 'is not', null).executeTakeFirstOrThrow()).id;
    const u = await call('POST', `/enrollment-tokens/${used}/revoke`, cookies.admin);
    assert.equal(u.status, 409);
    assert.equal(((await u.json()) as Err).error.code, 'enrollment_token_used');
    assert.equal((await call('POST', '/enrollment-tokens', cookies.admin, { siteId: C.siteId, ttlSeconds: 5 })).status, 400);
    assert.equal((await call('POST', '/enrollment-tokens', cookies.admin, { siteId: '00000000-0000-4000-8000-000000000000' })).status, 404);
    assert.equal((await call('POST', '/enrollment-tokens', cookies.hq, { siteId: C.siteId })).status, 403);
    assert.deepEqual((await audits('agent.enrollment_token.revoke')).map((e) => [e.targetId, (e.details as { alreadyRevoked: boolean }).alreadyRevoked]), [[t.id, false], [t.id, true]]);
  });

  test('admin revokes an agent: its credential is refused at once, the fleet shows the store without an agent', async () => {
    const spare = await centre.enrollAgent((await centre.services.agentAuth.issueEnrollmentToken('fleet-c', 600, 'test')).token);
    assert.equal((await agentCall(spare.credential, '/heartbeat', { version: '1', sentAtMs: NOW.getTime() })).status, 200);
    const list = (await (await call('GET', '/agents', cookies.admin)).json()) as { agents: { id: string; siteCode: string; revokedAt: string | null }[] };
    assert.ok(list.agents.some((a) => a.id === spare.agentId && a.siteCode === 'fleet-c' && a.revokedAt === null));
    const r = await call('POST', `/agents/${spare.agentId}/revoke`, cookies.admin);
    assert.equal(r.status, 200);
    const a = (await r.json()) as { revokedAt: string; revokedBy: string };
    assert.equal(a.revokedAt, NOW.toISOString());
    assert.match(a.revokedBy, /^user:/);
    const hb = await agentCall(spare.credential, '/heartbeat', { version: '1', sentAtMs: NOW.getTime() });
    assert.equal(hb.status, 401);
    assert.equal(((await hb.json()) as Err).error.code, 'agent_credential_invalid');
    const ev = (await audits('agent.revoke')).at(-1)!;
    assert.deepEqual({ target: ev.targetId, site: ev.siteId }, { target: spare.agentId, site: C.siteId });
    const fleet = (await (await call('GET', `/fleet?siteId=${C.siteId}`, cookies.hq)).json()) as Fleet;
    assert.deepEqual(fleet.stores[0]!.problems.map((p) => p.code), ['no_agent']);
    assert.equal((await call('POST', `/agents/${spare.agentId}/revoke`, cookies.security)).status, 403);
    assert.equal((await call('POST', '/agents/00000000-0000-4000-8000-000000000000/revoke', cookies.admin)).status, 404);
  });

  test('the audit log filters by who as a person types it (a login)', async () => {
    const login = (await centre.db.selectFrom('auditEvent').select('actorLabel').where('action', '=', 'agent.revoke').executeTakeFirstOrThrow()).actorLabel!;
    const r = await call('GET', `/audit/events?actor=${encodeURIComponent(login)}&action=agent.*`, cookies.auditor);
    assert.equal(r.status, 200);
    const events = ((await r.json()) as { events: { actorLabel: string; action: string }[] }).events;
    assert.ok(events.length >= 1);
    assert.ok(events.every((e) => e.actorLabel === login && e.action.startsWith('agent.')));
  });
});
