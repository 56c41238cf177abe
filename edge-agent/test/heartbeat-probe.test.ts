/**
 * While the centre does not answer, the heartbeat probes with a TCP connection (`connectProbe`) and sends a heartbeat
 * only once that connects: a real HTTP "centre" on loopback that is closed, then listening again on the same port.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Heartbeat } from '../src/heartbeat/heartbeat.ts';
import { connectProbe, createCentreClient, type CentreClient } from '../src/uploader/centre-client.ts';
import { recordingLogger } from './helpers/log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A port nothing listens on now (taken from the kernel, then released). */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The centre's heartbeat route, counting what reaches it. */
function startCentre(port: number, seen: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ receivedAtMs: now, sentAtMs: now, commands: [] }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mamoru-hb-probe-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('connectProbe', () => {
  test('null when the host takes a connection; the reason when it refuses; aborted at once', async () => {
    const port = await freePort();
    const refused = await connectProbe(`http://127.0.0.1:${port}`, { timeoutMs: 2000 });
    assert.match(refused ?? '', /ECONNREFUSED/);
    const seen: string[] = [];
    const centre = await startCentre(port, seen);
    try {
      assert.equal(await connectProbe(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 }), null);
      assert.deepEqual(seen, [], 'nothing is sent: a connection only');
      const ctl = new AbortController();
      ctl.abort();
      assert.equal(await connectProbe(`http://127.0.0.1:${port}`, { timeoutMs: 2000, signal: ctl.signal }), 'aborted');
    } finally {
      await new Promise<void>((r) => centre.close(() => r()));
    }
  });

  test('a link that drops packets: the timeout, not a hang', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (never routed); without a route the kernel may refuse at once instead: either way an answer comes.
    const t0 = Date.now();
    const r = await connectProbe('http://192.0.2.1:81', { timeoutMs: 300 });
    assert.notEqual(r, null);
    assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`);
  });
});

describe('heartbeat while the centre is down', () => {
  test('probes by connection only, then a heartbeat at once when the centre is back; failures are logged', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const real = createCentreClient({ baseUrl: base, credential: 'x'.repeat(40) });
    let requests = 0;
    const client: CentreClient = { ...real, request: (o) => (requests++, real.request(o)) };
    let probes = 0;
    let reachable = 0;
    const log = recordingLogger();
    const hb = new Heartbeat({
      client,
      intervalMs: 60_000,
      probeMs: 50,
      probe: (signal) => (probes++, connectProbe(base, { timeoutMs: 1000, signal })),
      version: 'test',
      spoolDir: dir,
      backlog: () => ({ count: 0, bytes: 0 }),
      cameraHealth: () => [],
      log,
      onReachable: () => void reachable++,
    });
    hb.start();
    const seen: string[] = [];
    let centre: Server | undefined;
    try {
      await waitFor('ten probes', () => probes >= 10, 10_000);
      assert.equal(requests, 1, 'one heartbeat (the first, refused); after it only connection probes');
      const failed = log.records.filter((r) => r.msg === 'heartbeat failed');
      assert.ok(failed.length >= 2, 'the first failure and the tenth are logged');
      assert.match(String(failed.at(-1)!.reason), /ECONNREFUSED/);
      assert.equal(failed.at(-1)!.failures, 10);
      centre = await startCentre(port, seen);
      const back = Date.now();
      await waitFor('the centre to get a heartbeat', () => reachable > 0, 5000);
      assert.ok(Date.now() - back < 1000, `answered ${Date.now() - back} ms after the centre was back (probes every 50 ms)`);
      assert.deepEqual(seen, ['POST /api/v1/agent/heartbeat']);
      assert.equal(requests, 2);
      assert.ok(hb.lastOkAt !== null);
    } finally {
      await hb.stop();
      real.close();
      if (centre) await new Promise<void>((r) => centre!.close(() => r()));
    }
  });
});
