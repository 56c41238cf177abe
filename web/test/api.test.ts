import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, apiClient, errorFromAnswer, parseRetryAfter } from '../src/lib/api.ts';

describe('the centre’s error answers', () => {
  test('Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    assert.equal(parseRetryAfter('900', now), 900);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 10:02:30 GMT', now), 150);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now), 0, 'a date in the past: no wait');
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(null, now), null);
    assert.equal(parseRetryAfter('', now), null);
  });

  test('our error shape gives the code and message; the header gives the wait', () => {
    const e = errorFromAnswer(429, 'Too Many Requests', { error: { code: 'too_many_attempts', message: 'try again in 900 s', requestId: 'r', details: { retryAfterSeconds: 899 } } }, '900');
    assert.deepEqual([e.status, e.code, e.message, e.retryAfterSeconds], [429, 'too_many_attempts', 'try again in 900 s', 900]);
    const noHeader = errorFromAnswer(429, 'Too Many Requests', { error: { code: 'too_many_attempts', message: 'm', details: { retryAfterSeconds: 42 } } }, null);
    assert.equal(noHeader.retryAfterSeconds, 42, 'falls back to the body');
    const s = errorFromAnswer(401, 'Unauthorized', { error: { code: 'session_expired', message: 'session expired', requestId: 'r' } }, null);
    assert.deepEqual([s.code, s.retryAfterSeconds], ['session_expired', null]);
  });

  test('an answer that is not ours still gives a usable code', () => {
    const e = errorFromAnswer(502, 'Bad Gateway', null, null);
    assert.deepEqual([e.status, e.code, e.message], [502, 'http_502', 'Bad Gateway']);
    assert.equal(errorFromAnswer(500, 'x', { error: { code: 7 } }, null).code, 'http_500');
    assert.equal(errorFromAnswer(500, 'x', 'text', null).code, 'http_500');
  });
});

describe('the typed client', () => {
  /** A `fetch` that records requests and answers from a table, so the client's handling is seen without a server. */
  function fakeFetch(answer: (req: Request) => Response) {
    const seen: Request[] = [];
    return {
      seen,
      fetch: async (input: Request | string | URL) => {
        const req = input instanceof Request ? input : new Request(input);
        seen.push(req);
        return answer(req);
      },
    };
  }
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  test('a typed query becomes the query string; the body comes back as the schema says', async () => {
    const f = fakeFetch(() => json(200, { calls: [], nextCursor: null }));
    const api = apiClient({ base: 'http://centre.test', fetch: f.fetch });
    const page = await api.calls({ site: 's1', direction: 'inbound', limit: 25 });
    assert.deepEqual(page, { calls: [], nextCursor: null });
    const url = new URL(f.seen[0]!.url);
    assert.equal(url.pathname, '/api/v1/calls');
    assert.deepEqual(Object.fromEntries(url.searchParams), { site: 's1', direction: 'inbound', limit: '25' });
    assert.equal(f.seen[0]!.method, 'GET');
  });

  test('path parameters are encoded', async () => {
    const f = fakeFetch(() => json(404, { error: { code: 'not_found', message: 'no such call', requestId: 'r' } }));
    const api = apiClient({ base: 'http://centre.test', fetch: f.fetch });
    await assert.rejects(api.call('a/b'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.code === 'not_found' && e.message === 'no such call');
    assert.equal(new URL(f.seen[0]!.url).pathname, '/api/v1/calls/a%2Fb');
  });

  test('a 401 on a signed-in request ends the session; on sign-in it does not', async () => {
    const ended: string[] = [];
    const f = fakeFetch(() => json(401, { error: { code: 'session_expired', message: 'expired', requestId: 'r' } }));
    const api = apiClient({ base: 'http://centre.test', fetch: f.fetch, onUnauthorized: (c) => ended.push(c) });
    await assert.rejects(api.cameras(), (e: unknown) => e instanceof ApiError && e.code === 'session_expired');
    assert.deepEqual(ended, ['session_expired']);
    await assert.rejects(api.login('tanaka', 'wrong'), ApiError);
    await assert.rejects(api.me(), ApiError);
    assert.deepEqual(ended, ['session_expired'], 'sign-in and the who-am-I check do not count');
    assert.deepEqual(JSON.parse(await f.seen[1]!.text()), { login: 'tanaka', password: 'wrong' });
  });

  test('429 keeps its wait; a network failure is network_error; 204 is no body', async () => {
    const wait = apiClient({ base: 'http://centre.test', fetch: fakeFetch(() => json(429, { error: { code: 'too_many_attempts', message: 'm', requestId: 'r' } }, { 'retry-after': '30' })).fetch });
    await assert.rejects(wait.login('a', 'b'), (e: unknown) => e instanceof ApiError && e.retryAfterSeconds === 30);
    const down = apiClient({ base: 'http://centre.test', fetch: async () => { throw new TypeError('fetch failed'); } });
    await assert.rejects(down.sites(), (e: unknown) => e instanceof ApiError && e.status === 0 && e.code === 'network_error');
    const out = apiClient({ base: 'http://centre.test', fetch: fakeFetch(() => new Response(null, { status: 204 })).fetch });
    assert.equal(await out.logout(), undefined);
  });
});
