import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorFromAnswer, parseRetryAfter } from '../src/lib/api.ts';

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
