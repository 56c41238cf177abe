import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixedClock } from '../src/adapters/clock.ts';
import { startCentre, TEST_PASSWORD, type TestCentre } from './helpers/centre.ts';

type Opts = { ip?: string; cookie?: string; headers?: Record<string, string> };
type ErrorBody = { error: { code: string; message: string; requestId: string; details?: { retryAfterSeconds?: number } } };

function client(centre: TestCentre) {
  const headers = (o: Opts, json: boolean) => ({
    ...(json && { 'content-type': 'application/json' }),
    'user-agent': 'auth-test/1.0',
    'x-forwarded-for': o.ip ?? '198.51.100.1',
    ...(o.cookie && { cookie: o.cookie }),
    ...o.headers,
  });
  return {
    login: (login: string, password: string, o: Opts = {}) => fetch(`${centre.url}/api/v1/auth/login`, { method: 'POST', headers: headers(o, true), body: JSON.stringify({ login, password }) }),
    get: (path: string, o: Opts = {}) => fetch(`${centre.url}/api/v1${path}`, { headers: headers(o, false) }),
    post: (path: string, body: unknown, o: Opts = {}) => fetch(`${centre.url}/api/v1${path}`, { method: 'POST', headers: headers(o, body !== undefined), ...(body !== undefined && { body: JSON.stringify(body) }) }),
  };
}
const cookieOf = (r: Response) => (r.headers.get('set-cookie') ?? '').split(';')[0]!;
const errorOf = async (r: Response) => ((await r.json()) as ErrorBody).error;

describe('sign-in, sessions and lockout', () => {
  const clock = fixedClock(new Date('2026-11-24T09:00:00.000Z'));
  let centre: TestCentre;
  let api: ReturnType<typeof client>;
  before(async () => {
    centre = await startCentre({
      clock,
      auth: {
        sessionTtlSeconds: 3600,
        sessionIdleSeconds: 600,
        account: { maxFailures: 3, windowSeconds: 300, lockSeconds: 60 },
        ip: { maxFailures: 6, windowSeconds: 300, lockSeconds: 120 },
        trustProxyHops: 1,
      },
    });
    api = client(centre);
  });
  after(() => centre.close());

  const auditRows = (action: string) =>
    centre.db.selectFrom('auditEvent').select(['id', 'actorType', 'actorId', 'actorLabel', 'outcome', 'ip', 'userAgent', 'targetId', 'details']).where('action', '=', action).orderBy('id').execute();

  test('signing in sets an HttpOnly, SameSite=Strict, Path=/ cookie bound to a server-side session; /auth/me answers with the role and sites', async () => {
    const site = await centre.createSite();
    const u = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId] });
    const r = await api.login(u.login.toUpperCase(), TEST_PASSWORD, { ip: '198.51.100.10' });
    assert.equal(r.status, 200);
    const setCookie = r.headers.get('set-cookie')!;
    assert.match(setCookie, /^mamoru_session=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.match(setCookie, /; Max-Age=3600/);
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP here: COOKIE_SECURE is off');
    const body = (await r.json()) as { user: { login: string; role: string; sites: { code: string }[] }; expiresAt: string };
    assert.equal(body.user.login, u.login);
    assert.equal(body.user.role, 'store_manager');
    assert.deepEqual(body.user.sites.map((s) => s.code), [site.code]);
    assert.equal(body.expiresAt, '2026-11-24T10:00:00.000Z');

    const token = cookieOf(r).split('=')[1]!;
    const rows = await centre.db.selectFrom('session').select(['tokenHash', 'userId', 'ip', 'userAgent', 'expiresAt']).where('userId', '=', u.id).execute();
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.tokenHash, token, 'only a hash of the token is stored');
    assert.equal(rows[0]!.ip, '198.51.100.10');
    assert.equal(rows[0]!.userAgent, 'auth-test/1.0');

    const me = await api.get('/auth/me', { cookie: cookieOf(r) });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { role: string }).role, 'store_manager');

    const events = await auditRows('auth.login');
    const mine = events.find((e) => e.actorId === u.id)!;
    assert.equal(mine.outcome, 'success');
    assert.equal(mine.actorType, 'user');
    assert.equal(mine.ip, '198.51.100.10');
    assert.equal(mine.userAgent, 'auth-test/1.0');
  });

  test('an unknown login and a wrong password get the same answer, and both are audited as failures', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const wrong = await api.login(u.login, 'not the password at all', { ip: '198.51.100.20' });
    const unknown = await api.login('nobody-here', 'not the password at all', { ip: '198.51.100.21' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const [a, b] = [await errorOf(wrong), await errorOf(unknown)];
    assert.equal(a.code, 'invalid_credentials');
    assert.deepEqual({ code: a.code, message: a.message }, { code: b.code, message: b.message });
    assert.equal(wrong.headers.get('set-cookie'), null);
    const failures = (await auditRows('auth.login')).filter((e) => e.outcome === 'failure');
    const forUser = failures.find((e) => e.targetId === u.id)!;
    assert.equal(forUser.actorType, 'anonymous');
    assert.equal((forUser.details as { reason: string }).reason, 'wrong_password');
    const forNobody = failures.find((e) => e.actorLabel === 'nobody-here')!;
    assert.equal((forNobody.details as { reason: string }).reason, 'unknown_login');
    assert.equal(forNobody.ip, '198.51.100.21');
  });

  test('bad sign-in bodies get 400 invalid_request and create no session', async () => {
    const before = (await centre.db.selectFrom('session').select('id').execute()).length;
    for (const body of [{}, { login: 'x' }, { login: '', password: 'p' }, { login: 'x', password: 'y'.repeat(2000) }, 'not json']) {
      const r = await fetch(`${centre.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.30' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await errorOf(r)).code, 'invalid_request');
    }
    assert.equal((await centre.db.selectFrom('session').select('id').execute()).length, before);
  });

  test('a request another site started (Sec-Fetch-Site: cross-site) cannot sign in or act with a session', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const r = await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.31', headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(r.status, 403);
    assert.equal((await errorOf(r)).code, 'cross_site_request');
    const cookie = await centre.sessionCookie(u.id);
    const out = await api.post('/auth/logout', undefined, { cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(out.status, 403);
    assert.equal((await api.get('/auth/me', { cookie })).status, 200, 'the session was not ended by the cross-site request');
  });

  test('an account locks after 3 failures (even the right password is refused), and opens again after the lock period', async () => {
    const u = await centre.createUser({ role: 'security' });
    const ip = '198.51.100.40';
    for (let i = 1; i <= 3; i++) {
      const r = await api.login(u.login, `wrong password ${i}`, { ip });
      assert.equal(r.status, 401, `failure ${i}`);
    }
    const locked = await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.41' });
    assert.equal(locked.status, 429, 'locked: the correct password from another address is refused too');
    assert.equal(locked.headers.get('retry-after'), '60');
    const err = await errorOf(locked);
    assert.equal(err.code, 'too_many_attempts');
    const row = await centre.db.selectFrom('appUser').select(['lockedUntil', 'failedAttempts']).where('id', '=', u.id).executeTakeFirstOrThrow();
    assert.equal(row.lockedUntil?.toISOString(), '2026-11-24T09:01:00.000Z');

    clock.advance(30_000);
    const still = await api.login(u.login, TEST_PASSWORD, { ip });
    assert.equal(still.status, 429);
    assert.equal(still.headers.get('retry-after'), '30');

    clock.advance(30_001);
    const open = await api.login(u.login, TEST_PASSWORD, { ip });
    assert.equal(open.status, 200, 'the lock ended');
    const after = await centre.db.selectFrom('appUser').select(['lockedUntil', 'failedAttempts']).where('id', '=', u.id).executeTakeFirstOrThrow();
    assert.equal(after.failedAttempts, 0);
    assert.equal(after.lockedUntil, null);
    const reasons = (await auditRows('auth.login')).filter((e) => e.targetId === u.id && e.outcome === 'failure').map((e) => (e.details as { reason: string }).reason);
    assert.deepEqual(reasons, ['wrong_password', 'wrong_password', 'wrong_password', 'account_locked', 'account_locked']);
  });

  test('failures outside the window do not add up', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const ip = '198.51.100.45';
    assert.equal((await api.login(u.login, 'wrong wrong wrong', { ip })).status, 401);
    assert.equal((await api.login(u.login, 'wrong wrong wrong', { ip })).status, 401);
    clock.advance(301_000);
    assert.equal((await api.login(u.login, 'wrong wrong wrong', { ip })).status, 401);
    assert.equal((await api.login(u.login, TEST_PASSWORD, { ip })).status, 200, 'two old failures and one new one: not locked');
  });

  test('an unknown login locks exactly like a known one, so locking reveals nothing', async () => {
    const ip = '198.51.100.50';
    for (let i = 0; i < 3; i++) assert.equal((await api.login('ghost-user', 'whatever whatever', { ip })).status, 401);
    const r = await api.login('ghost-user', 'whatever whatever', { ip });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '60');
    clock.advance(61_000);
    assert.equal((await api.login('ghost-user', 'whatever whatever', { ip })).status, 401);
  });

  test('a client address locks after 6 failures across any logins, also for a valid account, until its lock ends', async () => {
    const ip = '198.51.100.60';
    const u = await centre.createUser({ role: 'hq' });
    for (let i = 0; i < 6; i++) assert.equal((await api.login(`guess-${i}`, 'password guess', { ip })).status, 401, `guess ${i}`);
    const blocked = await api.login(u.login, TEST_PASSWORD, { ip });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers.get('retry-after'), '120');
    assert.equal((await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.61' })).status, 200, 'another address is not affected');
    clock.advance(121_000);
    assert.equal((await api.login(u.login, TEST_PASSWORD, { ip })).status, 200);
  });

  test('throttle rows without state (window passed, no lock running) are pruned', async () => {
    const rows = async () => (await centre.db.selectFrom('loginThrottle').select(['scope', 'key']).execute()).map((r) => `${r.scope}:${r.key}`).sort();
    assert.ok((await rows()).length > 2);
    clock.advance(3600_000);
    assert.equal((await api.login('late-guess', 'password guess', { ip: '198.51.100.65' })).status, 401);
    assert.deepEqual(await rows(), ['ip:198.51.100.65', 'login:late-guess']);
  });

  test('a session ends after its lifetime, however active', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const cookie = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.70' }));
    for (let t = 500; t <= 3500; t += 500) {
      clock.advance(500_000); // used well within the idle timeout each time
      assert.equal((await api.get('/auth/me', { cookie })).status, 200, `after ${t} s`);
    }
    clock.advance(100_000);
    const r = await api.get('/auth/me', { cookie });
    assert.equal(r.status, 401, 'after 3600 s');
    assert.equal((await errorOf(r)).code, 'session_expired');
  });

  test('a session unused for the idle timeout ends; use keeps it alive', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const cookie = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.71' }));
    clock.advance(500_000);
    assert.equal((await api.get('/auth/me', { cookie })).status, 200);
    clock.advance(500_000);
    assert.equal((await api.get('/auth/me', { cookie })).status, 200, '1000 s after sign-in but 500 s after last use');
    clock.advance(600_000);
    const r = await api.get('/auth/me', { cookie });
    assert.equal(r.status, 401);
    assert.equal((await errorOf(r)).code, 'session_expired');
    assert.match(r.headers.get('set-cookie') ?? '', /^mamoru_session=;.*Max-Age=0/, 'the dead cookie is cleared');
  });

  test('logout revokes the session at the centre: the old cookie is refused afterwards', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const cookie = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.80' }));
    const out = await api.post('/auth/logout', undefined, { cookie });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^mamoru_session=;.*Max-Age=0/);
    const again = await api.get('/auth/me', { cookie });
    assert.equal(again.status, 401);
    assert.equal((await errorOf(again)).code, 'session_invalid');
    const s = await centre.db.selectFrom('session').select(['revokedAt', 'revokedReason']).where('userId', '=', u.id).executeTakeFirstOrThrow();
    assert.ok(s.revokedAt);
    assert.equal(s.revokedReason, 'logout');
    assert.equal((await auditRows('auth.logout')).filter((e) => e.actorId === u.id).length, 1);
    assert.equal((await api.post('/auth/logout', undefined, {})).status, 204, 'logging out without a session is harmless');
    assert.equal((await api.get('/auth/me', { cookie: 'mamoru_session=garbage' })).status, 401);
    assert.equal((await api.get('/auth/me')).status, 401);
  });

  test('changing one\'s password checks the current one, applies the policy and ends the other sessions', async () => {
    const u = await centre.createUser({ role: 'security' });
    const ip = '198.51.100.90';
    const a = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip }));
    const b = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip }));
    const wrong = await api.post('/auth/password', { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }, { cookie: a });
    assert.equal(wrong.status, 403);
    assert.equal((await errorOf(wrong)).code, 'current_password_wrong');
    const weak = await api.post('/auth/password', { currentPassword: TEST_PASSWORD, newPassword: 'short' }, { cookie: a });
    assert.equal(weak.status, 400);
    assert.equal((await errorOf(weak)).code, 'weak_password');
    const ok = await api.post('/auth/password', { currentPassword: TEST_PASSWORD, newPassword: 'a brand new passphrase' }, { cookie: a });
    assert.equal(ok.status, 204);
    assert.equal((await api.get('/auth/me', { cookie: a })).status, 200, 'the session that changed it stays');
    assert.equal((await api.get('/auth/me', { cookie: b })).status, 401, 'the other session ended');
    assert.equal((await api.login(u.login, TEST_PASSWORD, { ip })).status, 401);
    assert.equal((await api.login(u.login, 'a brand new passphrase', { ip })).status, 200);
  });

  test('a deactivated person\'s sessions end and their correct password gets the same 401 as a wrong one', async () => {
    const admin = await centre.createUser({ role: 'admin' });
    const u = await centre.createUser({ role: 'hq' });
    const adminCookie = await centre.sessionCookie(admin.id);
    const cookie = cookieOf(await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.95' }));
    const r = await fetch(`${centre.url}/api/v1/users/${u.id}`, { method: 'PATCH', headers: { cookie: adminCookie, 'content-type': 'application/json' }, body: JSON.stringify({ active: false }) });
    assert.equal(r.status, 200);
    assert.equal((await api.get('/auth/me', { cookie })).status, 401);
    const again = await api.login(u.login, TEST_PASSWORD, { ip: '198.51.100.96' });
    assert.equal(again.status, 401);
    assert.equal((await errorOf(again)).code, 'invalid_credentials');
  });
});

describe('cookie flags behind TLS', () => {
  let centre: TestCentre;
  before(async () => {
    centre = await startCentre({ auth: { cookieSecure: true } });
  });
  after(() => centre.close());

  test('with COOKIE_SECURE the cookie is Secure and __Host- prefixed, and only that name is accepted', async () => {
    const u = await centre.createUser({ role: 'hq' });
    const r = await fetch(`${centre.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: u.login, password: TEST_PASSWORD }) });
    assert.equal(r.status, 200);
    const setCookie = r.headers.get('set-cookie')!;
    assert.match(setCookie, /^__Host-mamoru_session=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /; Secure/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.doesNotMatch(setCookie, /Domain=/i);
    const token = cookieOf(r).split('=')[1]!;
    assert.equal((await fetch(`${centre.url}/api/v1/auth/me`, { headers: { cookie: `__Host-mamoru_session=${token}` } })).status, 200);
    assert.equal((await fetch(`${centre.url}/api/v1/auth/me`, { headers: { cookie: `mamoru_session=${token}` } })).status, 401);
  });
});
