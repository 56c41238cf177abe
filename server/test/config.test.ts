import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const good = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_ACCESS_KEY: 'k',
  S3_SECRET_KEY: 's',
  S3_BUCKET: 'mamoru',
  ADMIN_TOKEN: 'a'.repeat(24),
  MEDIA_LINK_SECRET: 'm'.repeat(32),
};

test('a valid environment parses with defaults', () => {
  const c = loadConfig(good);
  assert.equal(c.PORT, 8080);
  assert.equal(c.MEDIA_LINK_TTL_SECONDS, 3600);
});

test('every bad variable is listed at once', () => {
  try {
    loadConfig({ ...good, DATABASE_URL: 'mysql://x', PORT: '70000', S3_BUCKET: 'Bad_Bucket', ADMIN_TOKEN: 'short', REDIS_URL: undefined });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const vars = e.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(vars, ['ADMIN_TOKEN', 'DATABASE_URL', 'PORT', 'REDIS_URL', 'S3_BUCKET']);
  }
});

test('the server exits non-zero and names each bad variable', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { env: { PATH: process.env.PATH, ...good, S3_ENDPOINT: 'not a url', MEDIA_LINK_SECRET: '' }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /S3_ENDPOINT/);
  assert.match(r.stderr, /MEDIA_LINK_SECRET/);
});

let centre: TestCentre;
before(async () => (centre = await startCentre()));
after(() => centre.close());

test('health reports PostgreSQL, Redis and S3; the OpenAPI document lists the agent and footage routes', async () => {
  const h = await fetch(`${centre.url}/api/v1/health`);
  assert.equal(h.status, 200);
  const body = (await h.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
  assert.deepEqual(Object.keys(body.checks).sort(), ['postgres', 'redis', 's3']);
  assert.ok(Object.values(body.checks).every((c) => c.ok));
  const doc = (await (await fetch(`${centre.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
  for (const p of ['/api/v1/agent/enroll', '/api/v1/agent/segments/{cameraKey}/{start}', '/api/v1/cameras/{id}/playlist.m3u8', '/api/v1/health']) {
    assert.ok(doc.paths[p], `openapi has ${p}`);
  }
  const missing = await fetch(`${centre.url}/api/v1/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'route_not_found');
});

test('sign-in settings: booleans are true/false/1/0 only, ADMIN_TOKEN may be empty (off), session and lock limits are bounded', () => {
  assert.equal(loadConfig({ ...good, COOKIE_SECURE: 'false' }).COOKIE_SECURE, false, '"false" is false (not a truthy string)');
  assert.equal(loadConfig({ ...good, COOKIE_SECURE: '1' }).COOKIE_SECURE, true);
  assert.equal(loadConfig({ ...good, ADMIN_TOKEN: '' }).ADMIN_TOKEN, undefined);
  const c = loadConfig(good);
  assert.deepEqual([c.SESSION_TTL_SECONDS, c.SESSION_IDLE_SECONDS, c.LOGIN_MAX_FAILURES, c.LOGIN_IP_MAX_FAILURES, c.LOGIN_LOCK_SECONDS, c.TRUST_PROXY_HOPS], [43200, 7200, 5, 20, 900, 0]);
  try {
    loadConfig({ ...good, COOKIE_SECURE: 'yes', SESSION_TTL_SECONDS: '10', LOGIN_MAX_FAILURES: '0', TRUST_PROXY_HOPS: '-1' });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems.map((p) => p.split(':')[0]).sort(), ['COOKIE_SECURE', 'LOGIN_MAX_FAILURES', 'SESSION_TTL_SECONDS', 'TRUST_PROXY_HOPS']);
  }
});
