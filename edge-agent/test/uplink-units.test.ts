/** Pure parts of the uplink: backoff and jitter bounds, Retry-After, the response table, clock offset, token bucket, disk arithmetic. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesToFree } from '../src/disk-guard/disk-guard.ts';
import { ClockOffsetEstimator, sampleOffset } from '../src/heartbeat/clock-offset.ts';
import { backoffCeiling, fullJitterDelay, parseRetryAfter, retryDelay } from '../src/lib/backoff.ts';
import { TokenBucket } from '../src/uploader/token-bucket.ts';
import { classifyResponse, fileChunks } from '../src/uploader/uploader.ts';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('backoff with full jitter', () => {
  const policy = { baseMs: 100, capMs: 5_000 };

  test('the ceiling doubles from base and stops at the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10, 60, 5000].map((n) => backoffCeiling(policy, n)), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  });

  test('every delay lies in [0, ceiling], reaching both ends, and is spread out', () => {
    for (const attempt of [0, 1, 3, 7, 30]) {
      const ceiling = backoffCeiling(policy, attempt);
      assert.equal(fullJitterDelay(policy, attempt, () => 0), 0, 'lowest draw');
      assert.equal(fullJitterDelay(policy, attempt, () => 0.999_999_999), ceiling, 'highest draw');
      const draws = Array.from({ length: 2000 }, () => fullJitterDelay(policy, attempt));
      assert.ok(draws.every((d) => Number.isInteger(d) && d >= 0 && d <= ceiling), `attempt ${attempt}: all within bounds`);
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      assert.ok(mean > ceiling * 0.4 && mean < ceiling * 0.6, `attempt ${attempt}: mean ${mean} near ceiling/2 = ${ceiling / 2}`);
      assert.ok(new Set(draws).size > Math.min(100, ceiling / 4), 'not clustered on a few values');
    }
  });

  test('Retry-After wins over jitter and is clamped', () => {
    assert.equal(retryDelay(policy, 0, 7_000, 60_000, () => 0.5), 7_000);
    assert.equal(retryDelay(policy, 0, 7_200_000, 60_000, () => 0.5), 60_000);
    assert.equal(retryDelay(policy, 2, null, 60_000, () => 0.5), 200);
  });

  test('Retry-After parses seconds and HTTP dates; nonsense is ignored', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now), 0, 'a past date means now');
    for (const bad of [undefined, null, '', '-5', '1.5', 'soon', '12abc']) assert.equal(parseRetryAfter(bad, now), null, String(bad));
  });
});

describe('what each centre answer means', () => {
  const file = { name: 'a.ts', path: '/x/a.ts', size: 1, sha256: 'a'.repeat(64), owned: true, sent: false };
  const c = (status: number, errorCode: string | null = null, retryAfterMs: number | null = null) => classifyResponse({ status, errorCode, retryAfterMs }, { cameraKey: 'cam1', file });

  test('success acknowledges; transient failures retry, carrying Retry-After', () => {
    assert.equal(c(201).kind, 'done');
    assert.equal(c(200).kind, 'done');
    for (const s of [401, 403, 408, 429, 500, 502, 503, 504]) assert.equal(c(s).kind, 'retry', String(s));
    assert.deepEqual(c(429, null, 2000), { kind: 'retry', reason: 'centre answered 429', status: 429, retryAfterMs: 2000 });
    assert.equal(c(404, 'route_not_found').kind, 'retry');
  });

  test('unknown camera re-registers; hash/size trouble verifies the local file first', () => {
    assert.deepEqual(c(404, 'camera_not_found'), { kind: 'reregister', cameraKey: 'cam1' });
    for (const code of ['hash_mismatch', 'size_mismatch', 'upload_incomplete']) assert.equal(c(400, code).kind, 'verify', code);
    assert.equal(c(413, 'body_too_large').kind, 'verify');
  });

  test('permanent refusals quarantine (never delete)', () => {
    for (const [s, code] of [[409, 'segment_conflict'], [409, 'segment_overlap'], [400, 'invalid_request'], [413, 'segment_too_large'], [400, 'unsupported_media_type']] as const) {
      assert.deepEqual(c(s, code), { kind: 'quarantine', reason: code, detail: null });
    }
    assert.equal(c(422).kind, 'quarantine');
  });
});

describe('clock offset', () => {
  test('one exchange: agent − centre, symmetric delays cancel', () => {
    // Centre clock is 1000 ms behind the agent; 20 ms each way; centre spends 5 ms.
    const t0 = 10_000;
    const t1 = t0 + 20 - 1000;
    const t2 = t1 + 5;
    const t3 = t0 + 20 + 5 + 20;
    const s = sampleOffset(t0, t1, t2, t3);
    assert.equal(s.offsetMs, 1000);
    assert.equal(s.rttMs, 40);
  });

  test('the estimate averages low-latency samples and ignores a slow outlier', () => {
    const est = new ClockOffsetEstimator(8);
    assert.equal(est.offsetMs(), null);
    est.add({ offsetMs: 100, rttMs: 10, at: 1 });
    est.add({ offsetMs: 110, rttMs: 12, at: 2 });
    est.add({ offsetMs: 900, rttMs: 800, at: 3 }); // a congested exchange
    assert.equal(est.offsetMs(), 105);
    for (let i = 0; i < 8; i++) est.add({ offsetMs: -50, rttMs: 8, at: 10 + i });
    assert.equal(est.offsetMs(), -50, 'old samples roll out of the window');
  });
});

describe('token bucket', () => {
  test('grants bytes at the configured rate (simulated clock)', async () => {
    let now = 0;
    const b = new TokenBucket(1000, { burstBytes: 100, now: () => now });
    now = 50; // 50 tokens accrued
    await b.take(50);
    now = 150; // +100, capped at the burst of 100
    await b.take(100);
    const t = setTimeout(() => (now = 1000), 5); // the next take must wait for time to pass
    await b.take(100);
    clearTimeout(t);
    assert.ok(now >= 1000);
  });

  test('zero means unlimited', async () => {
    // The clock never moves: a bucket that had to wait for tokens would never grant (the test would time out).
    const b = new TokenBucket(0, { now: () => 0 });
    let granted = 0;
    for (let i = 0; i < 1000; i++) {
      await b.take(1_000_000);
      granted += 1_000_000;
    }
    assert.equal(granted, 1e9);
  });
});

describe('upload body from a file', () => {
  const collect = async (it: AsyncIterable<Buffer>) => {
    const pieces: Buffer[] = [];
    // Each piece is copied: the source reuses one buffer, valid until the next piece is asked for.
    for await (const p of it) pieces.push(Buffer.from(p));
    return pieces;
  };

  test('the first `length` bytes, in 1 MiB pieces through one reused buffer; capped pieces under a rate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chunks-'));
    try {
      const bytes = randomBytes(2.5 * 1024 * 1024 + 7);
      const f = join(dir, 'seg.ts');
      await writeFile(f, bytes);
      const ctl = new AbortController();
      const all = await collect(fileChunks(f, bytes.length, new TokenBucket(0), ctl.signal));
      assert.deepEqual(all.map((p) => p.length), [1048576, 1048576, 524295]);
      assert.ok(Buffer.concat(all).equals(bytes));
      const seen = new Set<ArrayBufferLike>();
      for await (const p of fileChunks(f, bytes.length, new TokenBucket(0), ctl.signal)) seen.add(p.buffer);
      assert.equal(seen.size, 1, 'no buffer allocated per piece');
      // A file longer than its record: only the recorded bytes go (the centre checks them against the edge hash).
      assert.ok(Buffer.concat(await collect(fileChunks(f, 1000, new TokenBucket(0), ctl.signal))).equals(bytes.subarray(0, 1000)));
      // Under a bandwidth cap each piece is at most the bucket's burst.
      const capped = await collect(fileChunks(f, 300_000, new TokenBucket(100_000_000, { burstBytes: 65_536 }), ctl.signal));
      assert.ok(capped.every((p) => p.length <= 65_536) && capped.length === Math.ceil(300_000 / 65_536));
      assert.ok(Buffer.concat(capped).equals(bytes.subarray(0, 300_000)));
      // A file shorter than its record, or gone: an error (the uploader treats it as local, never as the network's).
      await assert.rejects(collect(fileChunks(f, bytes.length + 1, new TokenBucket(0), ctl.signal)), { code: 'ESHORT' });
      await assert.rejects(collect(fileChunks(join(dir, 'missing.ts'), 10, new TokenBucket(0), ctl.signal)), { code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('disk guard arithmetic', () => {
  const disk = (used: number, free: number) => ({ usedBytes: used, freeBytes: free, totalBytes: used + free, usePercent: (100 * used) / (used + free) });
  test('bytes to free under each limit; the largest need wins', () => {
    const limits = { maxUsePercent: 90, minFreeBytes: 0, maxSpoolBytes: 0 };
    assert.equal(bytesToFree(disk(80, 20), 0, limits), 0);
    assert.equal(bytesToFree(disk(95, 5), 0, limits), 5);
    assert.equal(bytesToFree(disk(50, 50), 0, { ...limits, minFreeBytes: 70 }), 20);
    assert.equal(bytesToFree(disk(50, 50), 1000, { ...limits, maxSpoolBytes: 400 }), 600);
    assert.equal(bytesToFree(null, 1000, { ...limits, maxSpoolBytes: 0 }), 0);
  });
});
