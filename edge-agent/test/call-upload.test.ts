/**
 * Call items through the outbox and uploader (CALL-CONTRACT.md). The centre's call routes are being built on another
 * branch, so this file serves them with a small in-memory stand-in that follows the contract (metadata versions,
 * then recordings checked against the declared hash). Once the routes land on main, point these tests at
 * startCentre() instead.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../src/cli/logger.ts';
import { callItemId, type SealedCall } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { CameraRegistrar } from '../src/uploader/cameras.ts';
import { createCentreClient } from '../src/uploader/centre-client.ts';
import { TokenBucket } from '../src/uploader/token-bucket.ts';
import { Uploader, type UploadEvent } from '../src/uploader/uploader.ts';
import { closedSegment, makeRandomFile, sha256, tempDir, waitFor } from './helpers/agent.ts';

type Recording = { name: string; size: number; sha256: string };

/** Stand-in for the centre's call routes, following CALL-CONTRACT.md §1–2. */
async function startCallCentre() {
  const versions = new Map<string, string>(); // `${callKey}/${version}` → JSON
  const declared = new Map<string, Map<string, Recording>>(); // callKey → name → declaration
  const stored = new Map<string, Buffer>(); // `${callKey}/${name}` → bytes
  const log: { method: string; path: string; status: number }[] = [];
  const faults: { match: RegExp; status: number; times: number }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const send = (status: number, json: unknown) => {
        log.push({ method: req.method!, path: req.url!, status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      };
      const err = (status: number, code: string) => send(status, { error: { code, message: code, requestId: 'stub' } });
      if (req.headers.authorization !== 'Bearer test-credential-123') return err(401, 'agent_credential_invalid');
      const fault = faults.find((f) => f.times > 0 && f.match.test(req.url!));
      if (fault) {
        fault.times--;
        return err(fault.status, 'injected');
      }
      let m = /^\/api\/v1\/agent\/calls\/([^/]+)\/versions\/(\d+)$/.exec(req.url!);
      if (m && req.method === 'PUT') {
        const callKey = decodeURIComponent(m[1]!);
        const key = `${callKey}/${m[2]}`;
        const text = body.toString();
        const payload = JSON.parse(text) as { recordings: Recording[] };
        const prev = versions.get(key);
        if (prev !== undefined && prev !== text) return err(409, 'call_version_conflict');
        versions.set(key, text);
        const d = declared.get(callKey) ?? new Map<string, Recording>();
        for (const r of payload.recordings) d.set(r.name, r);
        declared.set(callKey, d);
        const missing = payload.recordings.filter((r) => !stored.has(`${callKey}/${r.name}`)).map((r) => r.name);
        return send(prev === undefined ? 201 : 200, { callId: 'c1', version: Number(m[2]), status: prev === undefined ? 'created' : 'exists', missingRecordings: missing });
      }
      m = /^\/api\/v1\/agent\/calls\/([^/]+)\/recordings\/([^/]+)$/.exec(req.url!);
      if (m && req.method === 'PUT') {
        const callKey = decodeURIComponent(m[1]!);
        const name = decodeURIComponent(m[2]!);
        const d = declared.get(callKey)?.get(name);
        if (!d) return err(404, 'recording_not_declared');
        if (Number(req.headers['x-recording-size']) !== d.size || body.length !== d.size) return err(400, 'size_mismatch');
        if (req.headers['x-recording-sha256'] !== d.sha256 || createHash('sha256').update(body).digest('hex') !== d.sha256) return err(400, 'hash_mismatch');
        const k = `${callKey}/${name}`;
        const existed = stored.has(k);
        stored.set(k, body);
        return send(existed ? 200 : 201, { status: existed ? 'exists' : 'created' });
      }
      m = /^\/api\/v1\/agent\/segments\//.exec(req.url!);
      if (m && req.method === 'PUT') return send(201, { status: 'created', segmentId: '1' });
      err(404, 'route_not_found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    versions,
    stored,
    log,
    faults,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('call items (CALL-CONTRACT.md) through outbox and uploader', () => {
  let stub: Awaited<ReturnType<typeof startCallCentre>>;
  let root: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    stub = await startCallCentre();
    root = await tempDir('calls-');
  });
  after(async () => {
    await stub.close();
    await root.remove();
  });

  let n = 0;
  async function harness() {
    const spoolDir = join(root.path, `s${n++}`);
    const pbxSpool = join(spoolDir, 'pbx');
    await mkdir(pbxSpool, { recursive: true });
    const outbox = await Outbox.open({ spoolDir });
    const client = createCentreClient({ baseUrl: stub.url, credential: 'test-credential-123' });
    const events: UploadEvent[] = [];
    const uploader = new Uploader({ outbox, client, cameras: new CameraRegistrar(client, [], silentLogger), bucket: new TokenBucket(0), backoff: { baseMs: 20, capMs: 100 }, maxRetryAfterMs: 1000, log: silentLogger, onEvent: (e) => events.push(e) });
    return {
      spoolDir,
      pbxSpool,
      outbox,
      events,
      uploader,
      async stop() {
        await uploader.stop(100);
        await outbox.close();
        client.close();
      },
    };
  }
  async function sealed(dir: string, callKey: string, names: string[], startUtc = '2026-11-23T06:00:00.000Z'): Promise<SealedCall> {
    const files: Record<string, string> = {};
    const recordings: Recording[] = [];
    for (const [i, name] of names.entries()) {
      const p = join(dir, name);
      const b = await makeRandomFile(p, 4000 + i * 100);
      files[name] = p;
      recordings.push({ name, size: b.length, sha256: sha256(b) });
    }
    return { callKey, version: 1, files, recordings, times: { startUtc }, pbxId: 'main-pbx', direction: 'inbound' };
  }

  test('metadata first, then each recording; owned files removed after the ack; calls go before older footage', async () => {
    const h = await harness();
    try {
      const camDir = join(h.spoolDir, 'cameras', 'cam1');
      await mkdir(camDir, { recursive: true });
      const segBytes = await makeRandomFile(join(camDir, 'a.ts'), 1000);
      await h.outbox.segmentClosed(closedSegment('cam1', join(camDir, 'a.ts'), segBytes, new Date('2026-11-23T05:00:00Z')));
      const call = await sealed(h.pbxSpool, 'main-pbx:1795457100.1', ['in-1-rx.wav', 'in-1-tx.wav']);
      await h.outbox.callSealed(call);
      h.uploader.start();
      await waitFor('drain', () => h.outbox.stats().count === 0);
      const mine = stub.log.filter((l) => l.path.includes(encodeURIComponent('main-pbx:1795457100.1')) || l.path.includes('/segments/'));
      assert.deepEqual(
        mine.map((l) => `${l.method} ${l.path.replace(/^\/api\/v1\/agent/, '')} ${l.status}`),
        [
          `PUT /calls/${encodeURIComponent('main-pbx:1795457100.1')}/versions/1 201`,
          `PUT /calls/${encodeURIComponent('main-pbx:1795457100.1')}/recordings/in-1-rx.wav 201`,
          `PUT /calls/${encodeURIComponent('main-pbx:1795457100.1')}/recordings/in-1-tx.wav 201`,
          `PUT /segments/cam1/${encodeURIComponent('2026-11-23T05:00:00.000Z')} 201`,
        ],
      );
      const sentPayload = JSON.parse(stub.versions.get('main-pbx:1795457100.1/1')!) as Record<string, unknown>;
      assert.equal(sentPayload.files, undefined, 'local paths are not sent');
      assert.equal(sentPayload.callKey, undefined, 'exactly the CallPayload: key and version travel in the URL');
      assert.equal(sentPayload.pbxId, 'main-pbx');
      for (const name of ['in-1-rx.wav', 'in-1-tx.wav']) assert.equal(sha256(stub.stored.get(`main-pbx:1795457100.1/${name}`)!), call.recordings.find((r) => r.name === name)!.sha256);
      for (const p of Object.values(call.files)) assert.equal(existsSync(p), false, 'inside the spool: removed after ack');
    } finally {
      await h.stop();
    }
  });

  test('progress is kept per file: a failed recording is retried alone, recordings the centre has are skipped', async () => {
    const h = await harness();
    try {
      const call = await sealed(h.pbxSpool, 'main-pbx:1795457200.2', ['a.wav', 'b.wav', 'c.wav']);
      stub.stored.set('main-pbx:1795457200.2/a.wav', Buffer.from('already there'));
      stub.faults.push({ match: /1795457200\.2\/recordings\/c\.wav/, status: 503, times: 2 });
      await h.outbox.callSealed(call);
      h.uploader.start();
      await waitFor('drain', () => h.outbox.stats().count === 0);
      const mine = stub.log.filter((l) => l.path.includes('1795457200.2'));
      assert.deepEqual(
        mine.map((l) => `${l.path.split('/').slice(-1)[0]} ${l.status}`),
        ['1 201', 'b.wav 201', 'c.wav 503', 'c.wav 503', 'c.wav 201'],
        'metadata once, a.wav skipped (missingRecordings), b.wav once, c.wav until it succeeds',
      );
      assert.equal(h.events.filter((e) => e.type === 'retry').length, 2);
    } finally {
      await h.stop();
    }
  });

  test('a conflicting version is quarantined with its recordings, never deleted', async () => {
    const h = await harness();
    try {
      const first = await sealed(h.pbxSpool, 'main-pbx:1795457300.3', ['x.wav']);
      await h.outbox.callSealed(first);
      h.uploader.start();
      await waitFor('first', () => h.outbox.stats().count === 0);
      const dir2 = join(h.pbxSpool, 'again');
      await mkdir(dir2);
      const second = { ...(await sealed(dir2, 'main-pbx:1795457300.3', ['x.wav'])), direction: 'outbound' };
      await h.outbox.callSealed(second);
      await waitFor('quarantine', () => h.events.some((e) => e.type === 'quarantined'));
      const q = h.events.find((e) => e.type === 'quarantined');
      assert.ok(q?.type === 'quarantined' && q.reason === 'call_version_conflict' && q.id === callItemId('main-pbx:1795457300.3', 1));
      const recs = await h.outbox.listQuarantine();
      assert.equal(sha256(await import('node:fs/promises').then((f) => f.readFile(recs[0]!.item.files[0]!.path))), second.recordings[0]!.sha256);
    } finally {
      await h.stop();
    }
  });
});
