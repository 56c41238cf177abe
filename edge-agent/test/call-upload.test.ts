/**
 * Call items (CALL-CONTRACT.md) through the outbox and uploader into a real centre: the real Asterisk fixture call,
 * metadata first, then each recording the centre still misses; progress per file; a conflicting version quarantined.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from '../../server/test/helpers/calls.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { callItemId, type SealedCall } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { loadCredential } from '../src/state/credential-store.ts';
import { CameraRegistrar } from '../src/uploader/cameras.ts';
import { createCentreClient } from '../src/uploader/centre-client.ts';
import { TokenBucket } from '../src/uploader/token-bucket.ts';
import { Uploader, type UploadEvent } from '../src/uploader/uploader.ts';
import { agentDeps, runAgent } from '../src/agent.ts';
import { closedSegment, enrollAgent, makeRandomFile, readObject, sha256, tempDir, testConfig, waitFor } from './helpers/agent.ts';
import { startProxy, type ProxyDecision } from './helpers/proxy.ts';

describe('call items through outbox and uploader into a real centre', () => {
  let centre: TestCentre;
  let root: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    centre = await startCentre();
    root = await tempDir('calls-');
  });
  after(async () => {
    await centre.close();
    await root.remove();
  });

  let n = 0;
  /** An enrolled agent's outbox and uploader (no recorders), talking to the centre through a fault-injecting proxy. */
  async function harness(decide?: (path: string) => ProxyDecision, opts: { backoff?: { baseMs: number; capMs: number }; random?: () => number } = {}) {
    const base = join(root.path, `h${n++}`);
    const spoolDir = join(base, 'spool');
    const pbxDir = join(spoolDir, 'pbx');
    await mkdir(pbxDir, { recursive: true });
    const site = await enrollAgent(centre, join(base, 'state'));
    const cred = (await loadCredential(join(base, 'state')))!;
    const proxy = await startProxy(() => centre.url, (req) => decide?.(req.url!) ?? { action: 'forward' });
    const outbox = await Outbox.open({ spoolDir });
    const client = createCentreClient({ baseUrl: proxy.url, credential: cred.credential });
    const config = testConfig({ server: { url: proxy.url }, stateDir: join(base, 'state'), spoolDir, cameras: [{ key: 'cam1', name: 'レジ1', rtspUrl: 'rtsp://192.0.2.1/s' }] });
    const events: UploadEvent[] = [];
    const uploader = new Uploader({ outbox, client, cameras: new CameraRegistrar(client, config.cameras, silentLogger), bucket: new TokenBucket(0), backoff: opts.backoff ?? { baseMs: 20, capMs: 100 }, maxRetryAfterMs: 1000, log: silentLogger, onEvent: (e) => events.push(e), ...(opts.random && { random: opts.random }) });
    return {
      site,
      spoolDir,
      pbxDir,
      outbox,
      events,
      uploader,
      proxy,
      cred,
      async stop() {
        await uploader.stop(100);
        await outbox.close();
        client.close();
        await proxy.close();
      },
    };
  }

  /** The fixture call as the PBX side hands it over, its recordings copied into the agent's spool. */
  async function sealedFixture(dir: string, over: Parameters<typeof fixturePayload>[0] = {}): Promise<SealedCall> {
    const files: Record<string, string> = {};
    for (const f of FIXTURE_FILES) {
      files[f.name] = join(dir, f.name);
      await copyFile(f.path, files[f.name]!);
    }
    return { ...fixturePayload(over), callKey: FIXTURE_CALL_KEY, version: 1, files };
  }

  const callPath = (suffix: string) => `/api/v1/agent/calls/${encodeURIComponent(FIXTURE_CALL_KEY)}${suffix}`;

  test('metadata first, then each recording, bytes verified at the centre; the PBX files left alone; the call goes before older footage', async () => {
    const h = await harness();
    try {
      const camDir = join(h.spoolDir, 'cameras', 'cam1');
      await mkdir(camDir, { recursive: true });
      const segBytes = await makeRandomFile(join(camDir, 'a.ts'), 5000);
      await h.outbox.segmentClosed(closedSegment('cam1', join(camDir, 'a.ts'), segBytes, new Date('2026-11-23T05:00:00Z')));
      const call = await sealedFixture(h.pbxDir);
      await h.outbox.callSealed(call);
      h.uploader.start();
      await waitFor('drain', () => h.outbox.stats().count === 0 && h.uploader.inFlight === null);

      const puts = h.proxy.seen.filter((r) => r.method === 'PUT' && !r.path.includes('/cameras/')).map((r) => r.path);
      assert.deepEqual(puts, [callPath('/versions/1'), ...FIXTURE_FILES.map((f) => callPath(`/recordings/${encodeURIComponent(f.name)}`)), `/api/v1/agent/segments/cam1/${encodeURIComponent('2026-11-23T05:00:00.000Z')}`]);
      const recs = await centre.db
        .selectFrom('recording')
        .innerJoin('call', 'call.id', 'recording.callId')
        .select(['recording.name', 'recording.objectKey'])
        .select((eb) => eb.fn<string>('encode', ['recording.sha256', eb.val('hex')]).as('sha256'))
        .where('call.siteId', '=', h.site.siteId)
        .execute();
      assert.equal(recs.length, 3);
      for (const f of FIXTURE_FILES) {
        const r = recs.find((x) => x.name === f.name)!;
        assert.equal(r.sha256, sha256(f.bytes));
        assert.equal(sha256(await readObject(centre, r.objectKey!)), sha256(f.bytes), 'original bytes stored byte-for-byte');
      }
      for (const p of Object.values(call.files)) assert.ok(existsSync(p), 'the PBX\'s originals are never deleted by the agent');
    } finally {
      await h.stop();
    }
  });

  test('recordings the centre already holds are skipped; a failing recording is retried alone; metadata is sent once', async () => {
    let txFaults = 2;
    const tx = FIXTURE_FILES.find((f) => f.role === 'operator')!;
    const mixed = FIXTURE_FILES.find((f) => f.role === 'mixed')!;
    const h = await harness((path) => (path.endsWith(encodeURIComponent(tx.name)) && txFaults-- > 0 ? { action: 'answer', status: 503 } : { action: 'forward' }));
    try {
      // The centre already has the metadata and the mixed recording (e.g. sent before a crash).
      const auth = { authorization: `Bearer ${h.cred.credential}` };
      assert.equal((await fetch(`${centre.url}${callPath('/versions/1')}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(fixturePayload()) })).status, 201);
      const pre = await fetch(`${centre.url}${callPath(`/recordings/${encodeURIComponent(mixed.name)}`)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'audio/wav', 'x-recording-sha256': sha256(mixed.bytes), 'x-recording-size': String(mixed.bytes.length) }, body: mixed.bytes });
      assert.equal(pre.status, 201);

      await h.outbox.callSealed(await sealedFixture(h.pbxDir));
      h.uploader.start();
      await waitFor('drain', () => h.outbox.stats().count === 0 && h.uploader.inFlight === null);
      const puts = h.proxy.seen.filter((r) => r.method === 'PUT' && r.path.includes('/calls/')).map((r) => `${r.path.split('/').pop()} ${r.decision}`);
      const rx = FIXTURE_FILES.find((f) => f.role === 'caller')!;
      assert.deepEqual(puts, ['1 forward', `${encodeURIComponent(rx.name)} forward`, `${encodeURIComponent(tx.name)} answer`, `${encodeURIComponent(tx.name)} answer`, `${encodeURIComponent(tx.name)} forward`]);
      assert.equal(h.events.filter((e) => e.type === 'retry').length, 2);
      const stored = await centre.db.selectFrom('recording').innerJoin('call', 'call.id', 'recording.callId').select(['recording.objectKey']).where('call.siteId', '=', h.site.siteId).execute();
      assert.equal(stored.filter((r) => r.objectKey).length, 3);
    } finally {
      await h.stop();
    }
  });

  test('a sign that the centre is back (wake) ends a retry delay of a minute at once; a Retry-After still stands', async () => {
    // Every retry waits the whole ceiling (random = 1): a minute. The first two attempts are refused.
    let refusals = 2;
    let retryAfter = false;
    const h = await harness(
      (path) => {
        if (!path.includes('/calls/')) return { action: 'forward' };
        if (refusals > 0) return refusals--, retryAfter ? { action: 'answer', status: 503, headers: { 'retry-after': '1' } } : { action: 'answer', status: 503 };
        return { action: 'forward' };
      },
      { backoff: { baseMs: 60_000, capMs: 60_000 }, random: () => 1 },
    );
    try {
      h.uploader.wake('nothing to end');
      assert.equal(h.uploader.failing, false, 'a wake without a failure streak changes nothing');
      await h.outbox.callSealed(await sealedFixture(h.pbxDir));
      h.uploader.start();
      await waitFor('the first refusal', () => (h.events.some((e) => e.type === 'retry') && !h.uploader.inFlight) || undefined, 10_000, 20);
      const retry = h.events.find((e) => e.type === 'retry')!;
      assert.ok(retry.type === 'retry' && retry.delayMs >= 60_000, 'the uploader is set to wait a minute');
      assert.equal(h.uploader.failing, true);
      // The next refusal carries a Retry-After of 1 s: a wake during it must not cut it short.
      retryAfter = true;
      const wokeAt = performance.now();
      h.uploader.wake('a heartbeat was answered');
      assert.equal(h.uploader.failing, false, 'the streak starts over');
      await waitFor('the second refusal (Retry-After: 1)', () => h.events.filter((e) => e.type === 'retry').length >= 2 || undefined, 5_000, 10);
      assert.ok(performance.now() - wokeAt < 5_000, 'the woken uploader tried again at once');
      const second = h.events.filter((e) => e.type === 'retry')[1]!;
      assert.equal(second.type === 'retry' && second.delayMs, 1000, 'the centre asked for 1 s');
      const afterRetryAfter = performance.now();
      h.uploader.wake('a heartbeat was answered');
      assert.equal(h.uploader.failing, true, 'a Retry-After is the centre\'s own word: a wake does not end it');
      await waitFor('drain', () => (h.outbox.stats().count === 0 && h.uploader.inFlight === null) || undefined, 10_000, 20);
      const waited = performance.now() - afterRetryAfter;
      assert.ok(waited >= 900, `the Retry-After was kept (${Math.round(waited)} ms)`);
      assert.ok(waited < 8_000, `and the call went as soon as it ended, not after the minute (${Math.round(waited)} ms)`);
      assert.equal(h.events.filter((e) => e.type === 'retry').length, 2);
    } finally {
      await h.stop();
    }
  });


  test('a lane that waits for the cameras\' registration is let go when it succeeds, not by polling', async () => {
    // The centre refuses camera registrations at first (as when it does not answer); the live lane waits meanwhile.
    let refuse = true;
    const h = await harness((path) => (refuse && path.includes('/cameras/') ? { action: 'answer', status: 503 } : { action: 'forward' }));
    const client = createCentreClient({ baseUrl: h.proxy.url, credential: h.cred.credential });
    const cameras = testConfig({ server: { url: h.proxy.url }, stateDir: join(h.spoolDir, '..', 'state'), spoolDir: h.spoolDir, cameras: [{ key: 'cam1', name: 'レジ1', rtspUrl: 'rtsp://192.0.2.1/s' }, { key: 'cam2', name: '入口', rtspUrl: 'rtsp://192.0.2.2/s' }] }).cameras;
    const registrar = new CameraRegistrar(client, cameras, silentLogger);
    try {
      let released = false;
      const waiting = registrar.whenAllRegistered().then(() => (released = true));
      const failed = await registrar.ensureAll();
      assert.equal(failed.ok, false, 'the first registration was refused');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(released, false, 'still waiting while a camera is not registered');
      refuse = false;
      assert.equal((await registrar.register('cam1')).ok, true);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(released, false, 'one camera of two is not enough');
      assert.equal((await registrar.ensureAll()).ok, true);
      await waiting;
      assert.equal(released, true, 'released once every camera is registered');
      // Already registered: at once. An aborted wait (the agent stopping) ends too.
      await registrar.whenAllRegistered();
      registrar.forget('cam2');
      const stop = new AbortController();
      const aborted = registrar.whenAllRegistered(stop.signal);
      stop.abort();
      await aborted;
      assert.equal(registrar.allRegistered, false);
      // What reached the centre: the refused first try (ensureAll stops at it), cam1 alone, then only cam2.
      assert.deepEqual(
        h.proxy.seen.filter((s) => s.path.includes('/cameras/')).map((s) => `${s.path.split('/').pop()} ${s.decision}`),
        ['cam1 answer', 'cam1 forward', 'cam2 forward'],
      );
    } finally {
      client.close();
      await h.stop();
    }
  });
  test('run with a pbx section: the real Asterisk fixture call goes from the PBX files through the outbox to the centre', async () => {
    const base = join(root.path, 'pbx-run');
    const site = await enrollAgent(centre, join(base, 'state'));
    const FIX = new URL('./fixtures/asterisk-22/', import.meta.url).pathname;
    const config = testConfig({
      server: { url: centre.url },
      stateDir: join(base, 'state'),
      spoolDir: join(base, 'spool'),
      heartbeatSeconds: 60,
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      pbx: {
        id: 'main-pbx',
        adapter: 'asterisk-files',
        timezone: 'Asia/Tokyo',
        monitorDir: join(FIX, 'monitor'),
        cdrCsv: join(FIX, 'cdr-csv', 'Master.csv'),
        cdrCustom: join(FIX, 'cdr-custom', 'cdr_master.json'),
        cel: join(FIX, 'cel-custom', 'Master.csv'),
        noticeSound: 'custom/notice',
        operators: { '201': 'Tanaka' },
        quietSeconds: 0.3,
        pollSeconds: 0.1,
        backfillHours: null,
      },
    });
    const agent = await runAgent(config, agentDeps(config, silentLogger));
    try {
      const row = await waitFor(
        'the call and its 3 recordings at the centre',
        async () => {
          const recs = await centre.db.selectFrom('recording').innerJoin('call', 'call.id', 'recording.callId').select(['recording.objectKey', 'call.id']).where('call.siteId', '=', site.siteId).execute();
          return recs.length === 3 && recs.every((r) => r.objectKey) && recs;
        },
        30_000,
        100,
      );
      assert.equal(new Set(row.map((r) => r.id)).size, 1);
      await waitFor('drain', () => agent.outbox.stats().count === 0 && agent.uploader.inFlight === null);
      for (const f of FIXTURE_FILES) assert.ok(existsSync(join(FIX, 'monitor', '2026', '11', '23', f.name)), 'the PBX files stay');
    } finally {
      await agent.stop();
    }
  });

  test('a different payload under the same version is quarantined with its recordings, never deleted', async () => {
    const h = await harness();
    try {
      const first = await sealedFixture(h.pbxDir);
      await h.outbox.callSealed(first);
      h.uploader.start();
      await waitFor('first call', () => h.outbox.stats().count === 0 && h.uploader.inFlight === null);
      const dir2 = join(h.pbxDir, 'again');
      await mkdir(dir2);
      await h.outbox.callSealed(await sealedFixture(dir2, { flags: ['weak_match'] }));
      await waitFor('quarantine', () => h.events.some((e) => e.type === 'quarantined'));
      const q = h.events.find((e) => e.type === 'quarantined');
      assert.ok(q?.type === 'quarantined' && q.reason === 'call_version_conflict' && q.id === callItemId(FIXTURE_CALL_KEY, 1), JSON.stringify(q));
      const [rec] = await h.outbox.listQuarantine();
      assert.equal(rec!.item.files.length, 3);
      for (const f of rec!.item.files) assert.equal(sha256(await readFile(f.path)), f.sha256, `${f.name} kept intact in quarantine`);
    } finally {
      await h.stop();
    }
  });
});
