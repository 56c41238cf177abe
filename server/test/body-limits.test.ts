/**
 * Issue 12 item 1: every body has a limit, enforced while reading and before authentication, against the real server
 * process (server/src/main.ts as a child, its RSS read from /proc). A 128 MiB body to sign-in, enrollment or a
 * heartbeat is refused with 413 `body_too_large` at once, whether its length is declared or it comes chunked, and
 * several at once leave the process's memory where it was.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { agentPaths } from '@mamoru/contract/paths';
import { TEST_ENV } from '../../test-support/src/env.ts';
import { startCentre, TEST_PASSWORD, type TestCentre } from './helpers/centre.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1024 * 1024;
const HUGE = 128 * MiB;
/**
 * How far the server's RSS may move across the oversized requests. One 128 MiB sign-in body read whole grew it by
 * about 190 MiB before the limits; garbage from draining what the clients still send, and V8's heap settling, stay
 * well under this.
 */
const RSS_TOLERANCE = 40 * MiB;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

type Sent = { status: number; head: string; body: string; ms: number };

/**
 * Sends `size` bytes (spaces after a `{`, produced as the socket takes them: the client holds 1 MiB) with a declared
 * Content-Length or chunked, over a plain socket, and reads the answer while still sending, as curl does (Node's
 * http client can lose an early answer when the server drops the rest of the upload). Stops sending at the answer.
 */
function sendHuge(url: string, opts: { method?: string; size: number; chunked: boolean; headers?: Record<string, string> }): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const u = new URL(url);
    const s = net.connect(Number(u.port), u.hostname);
    const block = Buffer.alloc(MiB, 0x20);
    block[0] = 0x7b; // '{'
    let got = Buffer.alloc(0);
    let answeredAt = 0;
    let done = false;
    let sent = 0;
    const finish = (err?: Error) => {
      if (done) return;
      const text = got.toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (!err) return;
        done = true;
        s.destroy();
        return reject(new Error(`no answer (${err.message}) after ${sent} bytes`));
      }
      const head = text.slice(0, headEnd);
      let body = text.slice(headEnd + 4);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length) {
        if (Buffer.byteLength(body) < Number(length[1]) && !err) return;
      } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        if (!body.includes('0\r\n\r\n') && !err) return;
        body = body.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '').replace(/\r\n$/, '');
      }
      done = true;
      s.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body, ms: answeredAt - t0 });
    };
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (!answeredAt && got.includes('\r\n\r\n')) answeredAt = performance.now();
      finish();
    });
    s.on('error', (e) => finish(e));
    s.on('close', () => finish(new Error('closed')));
    const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const framing = opts.chunked ? 'transfer-encoding: chunked' : `content-length: ${opts.size}`;
    const pump = () => {
      while (!answeredAt && !done && sent < opts.size) {
        const n = Math.min(MiB, opts.size - sent);
        sent += n;
        const data = n === MiB ? block : block.subarray(0, n);
        const ok = opts.chunked ? s.write(`${n.toString(16)}\r\n`) && s.write(data) && s.write('\r\n') : s.write(data);
        if (!ok) return void s.once('drain', pump);
      }
      if (!answeredAt && !done && opts.chunked) s.write('0\r\n\r\n');
    };
    s.on('connect', () => {
      s.write(`${opts.method ?? 'POST'} ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n${extra}${framing}\r\n\r\n`);
      pump();
    });
  });
}

describe('body limits (real server process)', () => {
  let centre: TestCentre;
  let child: ChildProcess;
  let url = '';
  let credential = '';
  let login = '';
  let out = '';

  before(async () => {
    centre = await startCentre();
    const site = await centre.createSite();
    credential = (await centre.enrollAgent(site.token)).credential;
    login = (await centre.createUser({ role: 'hq' })).login;
    child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: centre.databaseUrl,
        REDIS_URL: TEST_ENV.redisUrl,
        S3_ENDPOINT: TEST_ENV.s3Endpoint,
        S3_ACCESS_KEY: TEST_ENV.s3AccessKey,
        S3_SECRET_KEY: TEST_ENV.s3SecretKey,
        S3_BUCKET: centre.store.bucket,
        QUEUE_PREFIX: centre.queuePrefix,
        MEDIA_LINK_SECRET: 'm'.repeat(40),
        PACK_SIGNING_KEY_FILE: centre.signingKeyFile,
        HOST: '127.0.0.1',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while (!url) {
      const m = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) url = m[1]!;
      else if (child.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`server did not start:\n${out}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await centre?.close();
  });

  const auditCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM audit_event`.execute(centre.db)).rows[0]!.n);

  test('a body under the limit still works, declared or chunked (sign-in, heartbeat)', async () => {
    const body = JSON.stringify({ login, password: TEST_PASSWORD });
    const declared = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(declared.status, 200, await declared.text());
    // A ReadableStream body goes out chunked (no Content-Length).
    const chunkedBody = new ReadableStream({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode(body.slice(0, 10)));
        ctl.enqueue(new TextEncoder().encode(body.slice(10)));
        ctl.close();
      },
    });
    const chunked = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunkedBody, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 200, await chunked.text());
    const hb = await fetch(`${url}${agentPaths.heartbeat()}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` }, body: JSON.stringify({ version: 't', sentAtMs: Date.now() }) });
    assert.equal(hb.status, 200, await hb.text());
  });

  test('128 MiB to sign-in, enrollment and heartbeat: 413 body_too_large at once, before authentication, memory flat', async () => {
    // Warm the process up (JIT, pools, first sign-in hash) so the baseline is a settled one.
    for (let i = 0; i < 3; i++) {
      await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'nobody', password: 'x' }) })).text();
      await (await fetch(`${url}/api/v1/health`)).text();
    }
    await sendHuge(`${url}/api/v1/auth/login`, { size: 4 * MiB, chunked: true });
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = rssOf(child.pid!);
    const auditBefore = await auditCount();

    const targets: { name: string; path: string; headers: Record<string, string> }[] = [
      { name: 'sign-in', path: '/api/v1/auth/login', headers: {} },
      { name: 'enroll', path: agentPaths.enroll(), headers: {} },
      // No credential and a wrong one: the limit answers first (413, not 401).
      { name: 'heartbeat (no credential)', path: agentPaths.heartbeat(), headers: {} },
      { name: 'heartbeat (wrong credential)', path: agentPaths.heartbeat(), headers: { authorization: 'Bearer x.wrongwrongwrongwrong' } },
    ];
    const results: { name: string; chunked: boolean; r: Sent }[] = [];
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 20);
    try {
      // Two rounds of four at once: declared lengths, then chunked bodies.
      for (const chunked of [false, true]) {
        const round = await Promise.all(targets.map((t) => sendHuge(`${url}${t.path}`, { size: HUGE, chunked, headers: t.headers }).then((r) => ({ name: t.name, chunked, r }))));
        results.push(...round);
      }
    } finally {
      clearInterval(sampler);
    }
    for (const { name, chunked, r } of results) {
      const what = `${name}${chunked ? ' (chunked)' : ''}`;
      assert.equal(r.status, 413, `${what}: ${r.body}`);
      const err = JSON.parse(r.body) as { error: { code: string; requestId: string } };
      assert.equal(err.error.code, 'body_too_large', what);
      assert.ok(err.error.requestId, what);
      // "At once": the answer comes long before 128 MiB could be read (generous for a loaded 2-core machine).
      assert.ok(r.ms < 5000, `${what}: answered after ${r.ms.toFixed(0)} ms`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = rssOf(child.pid!);
    const grew = rssAfter - rssBefore;
    const peakGrew = peak - rssBefore;
    console.log(`# RSS before ${(rssBefore / MiB).toFixed(1)} MiB, peak +${(peakGrew / MiB).toFixed(1)} MiB, after +${(grew / MiB).toFixed(1)} MiB; answers in ${results.map((x) => x.r.ms.toFixed(0)).join('/')} ms`);
    assert.ok(peakGrew < RSS_TOLERANCE, `peak RSS grew ${(peakGrew / MiB).toFixed(1)} MiB (tolerance ${RSS_TOLERANCE / MiB} MiB)`);
    assert.ok(grew < RSS_TOLERANCE, `RSS grew ${(grew / MiB).toFixed(1)} MiB (tolerance ${RSS_TOLERANCE / MiB} MiB)`);
    // No sign-in or enrollment work was done: nothing audited, no throttle state.
    assert.equal(await auditCount(), auditBefore, 'no audit event from a refused body');
    // The server still serves.
    const h = await fetch(`${url}/api/v1/health`);
    assert.equal(h.status, 200);
  });

  test('every other JSON route has a limit too (1 MiB by default; 4 MiB for call metadata)', async () => {
    const cookie = await centre.hqCookie();
    const r1 = await sendHuge(`${url}/api/v1/incidents`, { size: 1 * MiB + 1, chunked: false, headers: { cookie } });
    assert.equal(r1.status, 413, r1.body);
    const r2 = await sendHuge(`${url}/api/v1/incidents`, { size: 2 * MiB, chunked: true, headers: { cookie } });
    assert.equal(r2.status, 413, r2.body);
    const r3 = await sendHuge(`${url}${agentPaths.callVersion('pbx:1.1', 1)}`, { method: 'PUT', size: 4 * MiB + 1, chunked: false });
    assert.equal(r3.status, 413, r3.body);
    // A segment upload declaring more than MAX_SEGMENT_BYTES is refused before its credential is checked.
    const r4 = await sendHuge(`${url}${agentPaths.segment('cam', '2026-12-01T00:00:00Z')}`, { method: 'PUT', size: 3 * 1024 * MiB, chunked: false, headers: { 'content-type': 'video/mp2t' } });
    assert.equal(r4.status, 413, r4.body);
  });

  test("the police share page's form: 16 KiB, refused with the share page's own plain HTML (not the API's JSON)", async () => {
    for (const chunked of [false, true]) {
      const r = await sendHuge(`${url}/share/some-token`, { size: 64 * 1024, chunked });
      assert.equal(r.status, 413, r.body);
      assert.match(r.head, /content-type: text\/html/i);
      assert.match(r.head, /x-robots-tag: noindex/i);
      assert.match(r.body, /data-code="body_too_large"/);
      assert.match(r.body, /送信された内容が大きすぎます/);
    }
  });
});
