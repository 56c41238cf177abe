import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCentre, TEST_PASSWORD, type TestCentre } from './helpers/centre.ts';

type Err = { error: { code: string; message: string; requestId: string } };
type User = { id: string; login: string; role: string; active: boolean; sites: { code: string }[]; lockedUntil: string | null };

describe('people and access (admin API) and the audit API', () => {
  let centre: TestCentre;
  let admin: string;
  let adminId: string;
  let site: { siteId: string; code: string };
  before(async () => {
    centre = await startCentre({ auth: { account: { maxFailures: 2, windowSeconds: 300, lockSeconds: 900 } } });
    const a = await centre.createUser({ role: 'admin' });
    adminId = a.id;
    admin = await centre.sessionCookie(a.id);
    site = await centre.createSite();
  });
  after(() => centre.close());

  const call = (method: string, path: string, body?: unknown, cookie = admin) =>
    fetch(`${centre.url}/api/v1${path}`, { method, headers: { cookie, ...(body !== undefined && { 'content-type': 'application/json' }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const userCount = async () => (await centre.db.selectFrom('appUser').select('id').execute()).length;
  const audits = (action: string) => centre.db.selectFrom('auditEvent').select(['actorId', 'targetId', 'details', 'outcome']).where('action', '=', action).orderBy('id').execute();

  test('creates a store manager with sites; the new person can sign in and sees that site', async () => {
    const r = await call('POST', '/users', { login: 'Tanaka.Store', displayName: '田中 店長', role: 'store_manager', password: 'a very long password', siteIds: [site.siteId] });
    assert.equal(r.status, 201);
    const u = (await r.json()) as User;
    assert.equal(u.login, 'tanaka.store', 'logins are stored normalized');
    assert.deepEqual(u.sites.map((s) => s.code), [site.code]);
    const cookie = await centre.signIn('TANAKA.store', 'a very long password');
    const me = (await (await call('GET', '/auth/me', undefined, cookie)).json()) as { sites: { id: string }[] };
    assert.deepEqual(me.sites.map((s) => s.id), [site.siteId]);
    const ev = (await audits('user.create')).find((e) => e.targetId === u.id)!;
    assert.equal(ev.actorId, adminId);
    assert.deepEqual(ev.details, { login: 'tanaka.store', role: 'store_manager', displayName: '田中 店長', sites: [site.code] });
    assert.ok(!JSON.stringify(ev.details).includes('very long password'), 'no password in the log');
  });

  test('bad user input gets a 4xx with a clear code and stores nothing', async () => {
    const n = await userCount();
    const base = { login: 'someone', displayName: 'x', role: 'security', password: 'a very long password' };
    const cases: [string, unknown, number, string][] = [
      ['short password', { ...base, password: 'short' }, 400, 'weak_password'],
      ['password = login', { ...base, login: 'samesame-samesame', password: 'samesame-samesame' }, 400, 'weak_password'],
      ['bad login', { ...base, login: 'has space' }, 400, 'invalid_login'],
      ['unknown role', { ...base, role: 'owner' }, 400, 'invalid_request'],
      ['sites for hq', { ...base, role: 'hq', siteIds: [site.siteId] }, 400, 'sites_not_applicable'],
      ['unknown site', { ...base, siteIds: ['00000000-0000-4000-8000-000000000000'] }, 400, 'site_not_found'],
      ['not a uuid', { ...base, siteIds: ['shibuya'] }, 400, 'invalid_request'],
      ['taken login', { ...base, login: 'tanaka.store' }, 409, 'login_taken'],
      ['blank name', { ...base, displayName: '   ' }, 400, 'invalid_display_name'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await call('POST', '/users', body);
      assert.equal(r.status, status, name);
      const e = ((await r.json()) as Err).error;
      assert.equal(e.code, code, name);
      assert.ok(e.requestId, name);
    }
    assert.equal(await userCount(), n);
    assert.equal((await call('GET', '/users/not-a-uuid')).status, 400);
    const missing = await call('GET', '/users/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Err).error.code, 'user_not_found');
    assert.equal((await call('PATCH', `/users/${adminId}`, {})).status, 400, 'nothing to change');
  });

  test('sites apply only to store managers and security; a role change to hq clears them and ends sessions', async () => {
    const auditor = await centre.createUser({ role: 'auditor' });
    const r = await call('PUT', `/users/${auditor.id}/sites`, { siteIds: [site.siteId] });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as Err).error.code, 'sites_not_applicable');

    const sec = await centre.createUser({ role: 'security' });
    const other = await centre.createSite();
    const set = await call('PUT', `/users/${sec.id}/sites`, { siteIds: [site.siteId, other.siteId] });
    assert.equal(set.status, 200);
    assert.deepEqual(((await set.json()) as User).sites.map((s) => s.code).sort(), [site.code, other.code].sort());
    const cookie = await centre.sessionCookie(sec.id);
    assert.equal((await call('GET', '/auth/me', undefined, cookie)).status, 200);
    const up = await call('PATCH', `/users/${sec.id}`, { role: 'hq' });
    assert.equal(up.status, 200);
    assert.deepEqual(((await up.json()) as User).sites, []);
    assert.equal((await call('GET', '/auth/me', undefined, cookie)).status, 401, 'the role change ended the session');
    const ev = (await audits('user.update')).find((e) => e.targetId === sec.id)!;
    assert.deepEqual((ev.details as { changes: unknown }).changes, { role: { from: 'security', to: 'hq' } });
  });

  test('the last active admin cannot be demoted or deactivated', async () => {
    const r = await call('PATCH', `/users/${adminId}`, { role: 'hq' });
    assert.equal(r.status, 409);
    assert.equal(((await r.json()) as Err).error.code, 'last_admin');
    const second = await centre.createUser({ role: 'admin' });
    const off = await call('PATCH', `/users/${second.id}`, { active: false });
    assert.equal(off.status, 200);
    assert.equal(((await off.json()) as User).active, false);
    assert.equal((await call('PATCH', `/users/${adminId}`, { active: false })).status, 409);
  });

  test('unlock lifts a lock; a password reset lifts it too and ends the person\'s sessions', async () => {
    const u = await centre.createUser({ role: 'hq' });
    for (let i = 0; i < 2; i++) await fetch(`${centre.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: u.login, password: 'wrong wrong wrong' }) });
    const listed = ((await (await call('GET', `/users/${u.id}`)).json()) as User).lockedUntil;
    assert.ok(listed, 'shown as locked');
    const unlocked = await call('POST', `/users/${u.id}/unlock`);
    assert.equal(unlocked.status, 200);
    assert.equal(((await unlocked.json()) as User).lockedUntil, null);
    const cookie = await centre.signIn(u.login);

    for (let i = 0; i < 2; i++) await fetch(`${centre.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: u.login, password: 'wrong wrong wrong' }) });
    const reset = await call('POST', `/users/${u.id}/password`, { password: 'reset by the admin 2026' });
    assert.equal(reset.status, 204);
    assert.equal((await call('GET', '/auth/me', undefined, cookie)).status, 401, 'sessions ended');
    await assert.rejects(centre.signIn(u.login, TEST_PASSWORD));
    await centre.signIn(u.login, 'reset by the admin 2026');
    const weak = await call('POST', `/users/${u.id}/password`, { password: 'short' });
    assert.equal(weak.status, 400);
  });

  test('the auditor pages through events with filters, and reading the log is itself logged', async () => {
    const aud = await centre.createUser({ role: 'auditor' });
    const cookie = await centre.sessionCookie(aud.id);
    const page1 = await call('GET', '/audit/events?action=user.*&limit=3', undefined, cookie);
    assert.equal(page1.status, 200);
    const p1 = (await page1.json()) as { events: { id: string; action: string; hash: string; prevHash: string }[]; nextCursor: string | null };
    assert.equal(p1.events.length, 3);
    assert.ok(p1.events.every((e) => e.action.startsWith('user.')));
    assert.ok(Number(p1.events[0]!.id) > Number(p1.events[2]!.id), 'newest first');
    assert.match(p1.events[0]!.hash, /^[0-9a-f]{64}$/);
    assert.ok(p1.nextCursor);
    const p2 = (await (await call('GET', `/audit/events?action=user.*&limit=3&cursor=${p1.nextCursor}`, undefined, cookie)).json()) as typeof p1;
    assert.ok(p2.events.length > 0);
    assert.ok(Number(p2.events[0]!.id) < Number(p1.events[2]!.id), 'the next page continues below the cursor');
    const byTarget = (await (await call('GET', `/audit/events?targetType=user&outcome=failure&limit=50`, undefined, cookie)).json()) as typeof p1;
    assert.ok(byTarget.events.length >= 4, 'the failed sign-ins of the lock test');
    assert.equal((await call('GET', '/audit/events?limit=0', undefined, cookie)).status, 400);
    assert.equal((await call('GET', '/audit/events?from=yesterday', undefined, cookie)).status, 400);
    const views = await audits('audit.view');
    assert.ok(views.length >= 3 && views.every((v) => v.actorId === aud.id));
    const v = await call('GET', '/audit/verify', undefined, cookie);
    const body = (await v.json()) as { ok: boolean; checked: number };
    assert.equal(body.ok, true);
    assert.ok(body.checked > 10);
  });
});
