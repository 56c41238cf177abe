/**
 * Issue 12 items 4–7 against a real centre (PostgreSQL, S3): text with NUL or a lone surrogate is refused with 400
 * `invalid_text` on every route (and a refused sign-in still counts and is audited); the audit log's request ids are
 * the centre's own; `x-segment-codec` is checked like the metadata route's `codec`; API JSON is `no-store`; the web
 * app has a Content-Security-Policy; a read refused by the site scope is audited without telling the caller.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentPaths } from '@mamoru/contract/paths';
import { agentClient, fixturePayload } from './helpers/calls.ts';
import { startCentre, TEST_PASSWORD, type TestCentre } from './helpers/centre.ts';
import { putCall, putCamera } from './helpers/incidents.ts';
import { tableCounts } from './helpers/table-counts.ts';

const NUL = '\u0000';
const LONE = '\ud800';

describe('hostile input', () => {
  let centre: TestCentre;
  let cred = '';
  let otherCred = '';
  let hq = '';
  let manager = '';
  let managerLogin = '';
  let cameraId = '';
  let otherCameraId = '';
  let otherCallId = '';
  let incidentId = '';
  let siteId = '';

  before(async () => {
    centre = await startCentre({ auth: { account: { maxFailures: 3, windowSeconds: 900, lockSeconds: 900 } } });
    const site = await centre.createSite();
    siteId = site.siteId;
    const other = await centre.createSite();
    cred = (await centre.enrollAgent(site.token)).credential;
    otherCred = (await centre.enrollAgent(other.token)).credential;
    hq = await centre.hqCookie();
    const m = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId] });
    managerLogin = m.login;
    manager = await centre.sessionCookie(m.id);
    cameraId = await putCamera(centre, cred, 'cam-a');
    otherCameraId = await putCamera(centre, otherCred, 'cam-b');
    const t = new Date(Date.now() - 3600_000);
    otherCallId = await putCall(centre, otherCred, { start: t, end: new Date(t.getTime() + 60_000) });
    const r = await fetch(`${centre.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { cookie: manager, 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: site.siteId, window: { from: t.toISOString(), to: new Date(t.getTime() + 60_000).toISOString() }, title: 'case', category: 'threat' }),
    });
    const text = await r.text();
    assert.equal(r.status, 201, text);
    incidentId = (JSON.parse(text) as { incident: { id: string } }).incident.id;
  });
  after(() => centre?.close());

  const send = (method: string, p: string, o: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${centre.url}${p}`, {
      method,
      headers: { ...(o.body !== undefined || o.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
    });
  const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string; requestId: string } }).error;

  test('NUL and lone surrogates: 400 invalid_text on every kind of input, nothing stored, still serving', async () => {
    const agent = { authorization: `Bearer ${cred}` };
    const now = Date.now();
    const cases: [string, () => Promise<Response>][] = [];
    for (const [label, bad] of [
      ['NUL', `a${NUL}b`],
      ['lone surrogate', `a${LONE}b`],
    ] as const) {
      cases.push(
        [`${label}: case title`, () => send('POST', '/api/v1/incidents', { headers: { cookie: manager }, body: { siteId, title: bad, category: 'threat', window: { from: new Date(now - 120_000).toISOString(), to: new Date(now - 60_000).toISOString() } } })],
        [`${label}: case title (edit)`, () => send('PATCH', `/api/v1/incidents/${incidentId}`, { headers: { cookie: manager }, body: { title: bad } })],
        [`${label}: case note`, () => send('POST', `/api/v1/incidents/${incidentId}/notes`, { headers: { cookie: manager }, body: { body: bad } })],
        [`${label}: involved staff (nested)`, () => send('PATCH', `/api/v1/incidents/${incidentId}`, { headers: { cookie: manager }, body: { involvedStaff: [{ name: bad }] } })],
        [`${label}: camera name`, () => send('PUT', agentPaths.camera('cam-a'), { headers: agent, body: { name: bad } })],
        [`${label}: camera device (a key)`, () => send('PUT', agentPaths.camera('cam-a'), { headers: agent, body: { name: 'x', device: { [bad]: 1 } } })],
        [`${label}: heartbeat version`, () => send('POST', agentPaths.heartbeat(), { headers: agent, body: { version: bad, sentAtMs: now } })],
        [`${label}: gap detail`, () => send('POST', agentPaths.gaps(), { headers: agent, body: { cameraKey: 'cam-a', start: new Date(now - 60_000).toISOString(), end: new Date(now - 30_000).toISOString(), reason: 'other', detail: bad } })],
        [`${label}: call payload (caller name)`, () => send('PUT', agentPaths.callVersion('main-pbx:1795457999.8', 1), { headers: agent, body: fixturePayload({ linkedId: '1795457999.8', caller: { number: '0312345678', name: bad, e164: '+81312345678' } }) })],
        [`${label}: enrollment hostname`, () => send('POST', agentPaths.enroll(), { body: { token: 'x'.repeat(20), hostname: bad } })],
        [`${label}: segment metadata codec`, () => send('PUT', agentPaths.segmentMeta('cam-a', new Date(now - 10_000).toISOString()), { headers: agent, body: { sha256: 'a'.repeat(64), size: 10, durationMs: 1000, mediaType: 'video/mp2t', codec: { v: bad } } })],
        [`${label}: user display name`, () => send('POST', '/api/v1/users', { headers: { cookie: hq }, body: { login: 'newbie', displayName: bad, role: 'hq', password: 'a long enough password' } })],
      );
    }
    // Queries, paths and the purpose header are percent-encoded: NUL only (a lone surrogate is not valid UTF-8).
    cases.push(
      ['search filter (calls)', () => send('GET', '/api/v1/calls?caller=%00', { headers: { cookie: hq } })],
      ['search filter (cases)', () => send('GET', '/api/v1/incidents?q=a%00', { headers: { cookie: hq } })],
      ['audit filter', () => send('GET', '/api/v1/audit/events?actor=a%00b', { headers: { cookie: hq } })],
      ['path parameter', () => send('GET', '/api/v1/incidents/%00', { headers: { cookie: hq } })],
      ['purpose header', () => send('GET', `/api/v1/cameras/${cameraId}`, { headers: { cookie: hq, 'x-mamoru-purpose': 'a%00b' } })],
    );
    const before = await tableCounts(centre.db);
    const objects = await centre.objectCount();
    for (const [name, run] of cases) {
      const r = await run();
      const text = await r.text();
      assert.equal(r.status, 400, `${name}: ${text}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'invalid_text', `${name}: ${text}`);
      assert.equal(r.headers.get('cache-control'), 'no-store', name);
    }
    assert.deepEqual(await tableCounts(centre.db), before, 'no row from a refused request');
    assert.equal(await centre.objectCount(), objects);
    assert.equal((await fetch(`${centre.url}/api/v1/health`)).status, 200);
  });

  test('a sign-in with NUL or a lone surrogate: 400 invalid_text, audited and counted like any failed sign-in', async () => {
    const auditOf = async () => centre.db.selectFrom('auditEvent').select(['action', 'outcome', 'actorLabel', 'details']).where('action', '=', 'auth.login').orderBy('id', 'desc').limit(1).executeTakeFirst();
    for (const body of [
      { login: `${managerLogin}`, password: `x${NUL}` },
      { login: `${managerLogin}`, password: `x${LONE}` },
      { login: `${managerLogin}`, password: `${LONE}y${NUL}` },
      { login: `${managerLogin}${NUL}`, password: 'whatever' },
    ]) {
      const r = await send('POST', '/api/v1/auth/login', { body });
      assert.equal(r.status, 400);
      assert.equal((await errorOf(r)).code, 'invalid_text');
      const ev = await auditOf();
      assert.equal(ev?.outcome, 'failure');
      assert.equal((ev?.details as { reason: string }).reason, 'invalid_text');
      assert.ok(!ev?.actorLabel?.includes(NUL), 'the audited login is cleaned');
    }
    // Three refused attempts against the account (maxFailures 3; the NUL login counts against its cleaned name): the right password is now refused too (locked).
    const locked = await send('POST', '/api/v1/auth/login', { body: { login: managerLogin, password: TEST_PASSWORD } });
    assert.equal(locked.status, 429, await locked.text());
  });

  test("request ids are the centre's: two requests with the same X-Request-Id get different ids in the audit log", async () => {
    const clientId = `same-id-${Date.now()}`;
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await send('GET', `/api/v1/cameras/${cameraId}`, { headers: { cookie: hq, 'x-request-id': clientId } });
      assert.equal(r.status, 200);
      answers.push(r.headers.get('x-request-id')!);
    }
    assert.notEqual(answers[0], answers[1]);
    assert.ok(!answers.includes(clientId), 'the answer names the centre\'s id, not the client\'s');
    const rows = await centre.db.selectFrom('auditEvent').select(['requestId', 'clientRequestId']).where('clientRequestId', '=', clientId).orderBy('id').execute();
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]!.requestId, rows[1]!.requestId);
    assert.deepEqual(rows.map((r) => r.requestId), answers);
    // The auditor sees both, the client's marked as such; the chain still verifies with the new field in it.
    const auditor = await centre.sessionCookie((await centre.createUser({ role: 'auditor' })).id);
    const listed = (await (await send('GET', '/api/v1/audit/events?action=camera.view&limit=5', { headers: { cookie: auditor } })).json()) as { events: { requestId: string; clientRequestId: string | null }[] };
    assert.ok(listed.events.some((e) => e.clientRequestId === clientId && answers.includes(e.requestId)));
    const verify = (await (await send('GET', '/api/v1/audit/verify', { headers: { cookie: auditor } })).json()) as { ok: boolean };
    assert.equal(verify.ok, true);
    // An error answer carries the centre's id too.
    const bad = await send('GET', '/api/v1/incidents/not-a-uuid', { headers: { cookie: hq, 'x-request-id': clientId } });
    assert.notEqual((await errorOf(bad)).requestId, clientId);
  });

  test('x-segment-codec must be a JSON object, as in the metadata route: null, 123, "str", [1,2] get 400', async () => {
    const bytes = Buffer.from('not really a segment');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const before = await tableCounts(centre.db);
    const objects = await centre.objectCount();
    for (const codec of ['null', '123', '"str"', '[1,2]', '{not json']) {
      const r = await fetch(`${centre.url}${agentPaths.segment('cam-a', new Date(Date.now() - 5000).toISOString())}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${cred}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha, 'x-segment-size': String(bytes.length), 'x-segment-duration-ms': '2000', 'x-segment-codec': codec },
        body: bytes,
      });
      assert.equal(r.status, 400, codec);
      const e = await errorOf(r);
      assert.equal(e.code, 'invalid_request', codec);
      assert.match(e.message, /x-segment-codec/, codec);
      // The metadata route says the same about the same values.
      const meta = await send('PUT', agentPaths.segmentMeta('cam-a', new Date(Date.now() - 5000).toISOString()), { headers: { authorization: `Bearer ${cred}` }, raw: `{"sha256":"${sha}","size":${bytes.length},"durationMs":2000,"mediaType":"video/mp2t","codec":${codec}}` });
      assert.equal(meta.status, 400, `meta ${codec}`);
    }
    assert.deepEqual(await tableCounts(centre.db), before);
    assert.equal(await centre.objectCount(), objects);
  });

  test('API JSON answers are no-store; media answers keep their own caching', async () => {
    for (const [p, headers] of [
      ['/api/v1/auth/me', { cookie: hq }],
      [`/api/v1/cameras/${cameraId}`, { cookie: hq }],
      ['/api/v1/incidents', { cookie: hq }],
      [`/api/v1/calls/${otherCallId}`, { cookie: hq }],
      ['/api/v1/health', {}],
      ['/api/v1/nothing-here', {}],
      ['/api/v1/incidents', {}], // 401
    ] as const) {
      const r = await send('GET', p, { headers });
      await r.arrayBuffer();
      assert.match(r.headers.get('content-type') ?? '', /application\/json/, p);
      assert.equal(r.headers.get('cache-control'), 'no-store', p);
    }
  });

  test("a read of another site's object is audited as a refusal, answered exactly like a missing one", async () => {
    const probe = async (p: string) => {
      const r = await send('GET', p, { headers: { cookie: manager } });
      return { status: r.status, code: (await errorOf(r)).code };
    };
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const [kind, other, none] of [
      ['camera', `/api/v1/cameras/${otherCameraId}`, `/api/v1/cameras/${missing}`],
      ['call', `/api/v1/calls/${otherCallId}`, `/api/v1/calls/${missing}`],
    ] as const) {
      const a = await probe(other);
      const b = await probe(none);
      assert.deepEqual(a, b, `${kind}: another site's answers like a missing one`);
      assert.equal(a.status, 404);
      const events = await centre.db.selectFrom('auditEvent').select(['action', 'outcome', 'targetId', 'siteId', 'details', 'actorLabel']).where('action', '=', 'access.refused').where('targetType', '=', kind).orderBy('id', 'desc').limit(2).execute();
      assert.equal(events.length, 2, kind);
      const [ofNone, ofOther] = events;
      assert.equal(ofOther!.targetId, kind === 'camera' ? otherCameraId : otherCallId);
      assert.equal(ofOther!.outcome, 'failure');
      assert.equal((ofOther!.details as { reason: string }).reason, 'outside_scope');
      assert.ok(ofOther!.siteId, 'the refusal names the site the object belongs to (for the auditor)');
      assert.equal(ofOther!.actorLabel, managerLogin);
      assert.equal((ofNone!.details as { reason: string }).reason, 'not_found');
    }
  });

  test("a change to another site's case, or filing and linking another site's call, is audited as a refusal too", async () => {
    // hq files a case at the other site; the manager of the first site tries to change it and to use its call.
    const f = await send('POST', '/api/v1/incidents', { headers: { cookie: hq }, body: { callId: otherCallId, title: 'other', category: 'threat' } });
    assert.equal(f.status, 201, await f.clone().text());
    const otherIncident = { id: ((await f.json()) as { incident: { id: string } }).incident.id, siteId: (await centre.db.selectFrom('call').select('siteId').where('id', '=', otherCallId).executeTakeFirstOrThrow()).siteId };
    const refusals = async () => centre.db.selectFrom('auditEvent').select(['targetType', 'targetId', 'siteId', 'details', 'actorLabel']).where('action', '=', 'access.refused').orderBy('id', 'asc').execute();
    const before0 = (await refusals()).length;
    const rows = await tableCounts(centre.db);
    for (const [method, p, body] of [
      ['PATCH', `/api/v1/incidents/${otherIncident.id}`, { title: 'mine now' }],
      ['POST', `/api/v1/incidents/${otherIncident.id}/status`, { status: 'closed' }],
      ['POST', `/api/v1/incidents/${otherIncident.id}/notes`, { body: 'note' }],
    ] as const) {
      const r = await send(method, p, { headers: { cookie: manager }, body });
      assert.equal(r.status, 404, `${method} ${p}: ${await r.clone().text()}`);
      assert.equal((await errorOf(r)).code, 'incident_not_found');
    }
    const filed = await send('POST', '/api/v1/incidents', { headers: { cookie: manager }, body: { callId: otherCallId, title: 't', category: 'threat' } });
    assert.equal(filed.status, 404);
    assert.equal((await errorOf(filed)).code, 'call_not_found');
    const link = await send('POST', `/api/v1/incidents/${incidentId}/calls`, { headers: { cookie: manager }, body: { callId: otherCallId } });
    assert.equal(link.status, 404);
    assert.equal((await errorOf(link)).code, 'call_not_found');

    const events = (await refusals()).slice(before0);
    assert.deepEqual(events.map((e) => [e.targetType, e.targetId, e.siteId, (e.details as { reason: string }).reason, e.actorLabel]), [
      ['incident', otherIncident.id, otherIncident.siteId, 'outside_scope', managerLogin],
      ['incident', otherIncident.id, otherIncident.siteId, 'outside_scope', managerLogin],
      ['incident', otherIncident.id, otherIncident.siteId, 'outside_scope', managerLogin],
      ['call', otherCallId, otherIncident.siteId, 'outside_scope', managerLogin],
      ['call', otherCallId, otherIncident.siteId, 'outside_scope', managerLogin],
    ]);
    // Nothing else moved: the refused changes rolled back (only the audit log grew).
    assert.deepEqual(await tableCounts(centre.db), rows);
  });

  test('the web app gets a Content-Security-Policy naming its inline start-up script by hash', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mamoru-web-'));
    const script = '\n\t\t\t\tconsole.log("start");\n\t\t\t';
    await writeFile(path.join(dir, 'index.html'), `<!doctype html><html><body><div style="display: contents"><script>${script}</script></div></body></html>`);
    const web = await startCentre({ webRoot: dir });
    try {
      const r = await fetch(`${web.url}/cases/123`);
      assert.equal(r.status, 200);
      const csp = r.headers.get('content-security-policy') ?? '';
      const hash = createHash('sha256').update(script).digest('base64');
      assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/=]/g, (c) => `\\${c}`)}'`));
      for (const d of ["default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "media-src 'self' blob:", "worker-src 'self' blob:", "connect-src 'self'", "base-uri 'self'"]) assert.ok(csp.includes(d), d);
      assert.ok(!csp.includes('unsafe-eval') && !/script-src[^;]*unsafe-inline/.test(csp), 'no unsafe script sources');
      // The API is not given the page's policy; the police share page keeps its own.
      assert.equal((await fetch(`${web.url}/api/v1/health`)).headers.get('content-security-policy'), null);
      // The page is asked again each time; the build's hashed files are cached for good; a missing one is not.
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      await mkdir(path.join(dir, '_app', 'immutable', 'chunks'), { recursive: true });
      await writeFile(path.join(dir, '_app', 'immutable', 'chunks', 'A1b2.js'), 'export {};');
      const asset = await fetch(`${web.url}/_app/immutable/chunks/A1b2.js`);
      assert.equal(asset.status, 200);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const missing = await fetch(`${web.url}/_app/immutable/chunks/gone.js`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('cache-control'), null);
    } finally {
      await web.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
