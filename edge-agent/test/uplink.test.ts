/**
 * The uplink against a real centre (PostgreSQL, S3, the real agent API): upload end to end with the hash checked at
 * the centre, outages, bandwidth cap, Retry-After, permanent refusals into quarantine, camera re-registration,
 * disk-guard eviction, heartbeat clock offset, and a safe shutdown mid-upload.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testConfig, centreGaps, centreSegments, closedSegment, enrollAgent, makeRandomFile, makeTs, readObject, sha256, tempDir, waitFor } from './helpers/agent.ts';
import { startProxy } from './helpers/proxy.ts';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import type { RecorderFactory } from '../src/cli/recorders.ts';
import { agentDeps, runAgent, type RunningAgent } from '../src/agent.ts';
import type { AgentConfig } from '../src/config.ts';
import type { ClockOffsetSource, EvidenceSink } from '../src/contracts.ts';
import { Heartbeat } from '../src/heartbeat/heartbeat.ts';
import { segmentItemId } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { loadCredential } from '../src/state/credential-store.ts';
import { createCentreClient } from '../src/uploader/centre-client.ts';
import type { UploadEvent } from '../src/uploader/uploader.ts';

const T = Date.parse('2026-11-23T03:00:00Z');
const at = (s: number) => new Date(T + s * 1000);
const quietLog = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: 'debug', write: (l) => lines.push(l) }), { lines });
};

describe('uplink to a real centre', () => {
  let centre: TestCentre;
  let root: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    centre = await startCentre();
    root = await tempDir('uplink-test-');
  });
  after(async () => {
    await centre.close();
    await root.remove();
  });

  // The helper's start() is not idempotent: track whether the centre is serving.
  let up = true;
  const centreDown = async () => {
    if (up) await centre.stop();
    up = false;
  };
  const centreUp = async () => {
    if (!up) await centre.start();
    up = true;
  };

  let n = 0;
  /** A fresh enrolled agent (own site, own folders) with one camera; the recorder seam hands the test the sink. */
  async function setup(opts: { serverUrl?: string; raw?: Record<string, unknown>; prefill?: (outbox: Outbox, camDir: string) => Promise<void>; start?: boolean } = {}) {
    const base = join(root.path, `a${n++}`);
    const stateDir = join(base, 'state');
    const spoolDir = join(base, 'spool');
    const camDir = join(spoolDir, 'cameras', 'cam1');
    await mkdir(camDir, { recursive: true });
    const site = await enrollAgent(centre, stateDir);
    const config: AgentConfig = testConfig({
      server: { url: opts.serverUrl ?? centre.url },
      stateDir,
      spoolDir,
      heartbeatSeconds: 1,
      upload: { backoff: { baseMs: 50, capMs: 400 }, shutdownGraceMs: 200 },
      disk: { maxUsePercent: 100, minFreeBytes: 0, checkSeconds: 0.1 },
      cameras: [{ key: 'cam1', name: 'レジ1', place: 'レジ前', rtspUrl: 'rtsp://admin:TopSecret99@192.0.2.5/stream' }],
      ...opts.raw,
    });
    if (opts.prefill) {
      const ob = await Outbox.open({ spoolDir });
      await opts.prefill(ob, camDir);
      await ob.close();
    }
    const events: UploadEvent[] = [];
    const log = quietLog();
    let sink: EvidenceSink | undefined;
    let clock: ClockOffsetSource | undefined;
    const factory: RecorderFactory = (_cam, s, c) => {
      sink = s;
      clock = c;
      return { start() {}, async stop() {}, health: () => 'recording' };
    };
    const start = () => runAgent(config, { ...agentDeps(config, log), recorders: factory, onUploadEvent: (e) => events.push(e) });
    const agent: RunningAgent | undefined = opts.start === false ? undefined : await start();
    return { agent, start, config, site, camDir, spoolDir, events, log, sink: () => sink!, clock: () => clock! };
  }
  const drained = (a: RunningAgent, ms = 20_000) => waitFor('the outbox to drain', () => a.outbox.stats().count === 0 && a.uploader.inFlight === null, ms);
  async function segFile(camDir: string, s: number, size: number) {
    const path = join(camDir, `seg${s}.ts`);
    const bytes = await makeRandomFile(path, size);
    return closedSegment('cam1', path, bytes, at(s), 2000);
  }

  test('real MPEG-TS segments and a gap reach the centre: hashes verified, bytes identical, local files gone after ack', async () => {
    const h = await setup();
    const agent = h.agent!;
    try {
      const segs = [];
      for (let i = 0; i < 3; i++) {
        const path = join(h.camDir, `seg${i}.ts`);
        const bytes = await makeTs(path, 2);
        segs.push(closedSegment('cam1', path, bytes, at(i * 2), 2000, { clockOffsetMs: h.clock().offsetMs() ?? -7 }));
      }
      for (const s of segs) await h.sink().segmentClosed(s);
      await h.sink().gap({ cameraKey: 'cam1', start: at(6), end: at(10), reason: 'camera_offline', detail: 'test outage' });
      await drained(agent);

      const rows = await centreSegments(centre, h.site.siteId, 'cam1');
      assert.equal(rows.length, 3);
      for (const [i, s] of segs.entries()) {
        assert.equal(rows[i]!.start.getTime(), s.start.getTime());
        assert.equal(rows[i]!.sha256, s.sha256, 'edge hash stored');
        assert.equal(rows[i]!.runId, s.runId);
        assert.equal(rows[i]!.clockOffsetMs, s.clockOffsetMs);
        assert.equal(sha256(await readObject(centre, rows[i]!.objectKey!)), s.sha256, 'stored bytes match the edge hash');
        assert.equal(existsSync(s.path), false, 'local file removed after the ack');
      }
      const gaps = await centreGaps(centre, h.site.siteId, 'cam1');
      assert.deepEqual(gaps.map((g) => [g.reason, g.start.getTime(), g.end.getTime(), g.detail]), [['camera_offline', at(6).getTime(), at(10).getTime(), 'test outage']]);
      assert.equal(h.events.filter((e) => e.type === 'acked').length, 4);

      // Registration and heartbeat: no credential or stream URI left the agent.
      const cam = await centre.db.selectFrom('camera').selectAll().where('siteId', '=', h.site.siteId).executeTakeFirstOrThrow();
      assert.equal(cam.name, 'レジ1');
      assert.equal(cam.place, 'レジ前');
      assert.ok(!JSON.stringify(cam).includes('TopSecret99') && !JSON.stringify(cam).includes('rtsp://'), JSON.stringify(cam.device));
      await waitFor('a heartbeat', async () => {
        const a = await centre.db.selectFrom('agent').selectAll().where('siteId', '=', h.site.siteId).executeTakeFirstOrThrow();
        return a.version === '0.1.0' && a.diskTotalBytes !== null && a.backlogCount === 0 && a.clockOffsetMs !== null && a;
      });
      const health = await centre.db.selectFrom('camera').select('health').where('siteId', '=', h.site.siteId).executeTakeFirstOrThrow();
      assert.equal(health.health, 'recording');
      assert.ok(!h.log.lines.join('\n').includes('TopSecret99'), 'camera password never logged');
      const cred = await loadCredential(h.config.stateDir);
      assert.ok(!h.log.lines.join('\n').includes(cred!.credential), 'agent credential never logged');
    } finally {
      await agent.stop();
    }
  });

  test('centre down for a while, then back: everything arrives afterwards, in capture order, once', async () => {
    const h = await setup();
    const agent = h.agent!;
    try {
      await waitFor('camera registration', () => centre.db.selectFrom('camera').select('id').where('siteId', '=', h.site.siteId).executeTakeFirst());
      await centreDown();
      const segs = [];
      for (let i = 0; i < 6; i++) {
        const s = await segFile(h.camDir, i * 2, 60_000 + i);
        segs.push(s);
        await h.sink().segmentClosed(s);
        if (i === 2) await h.sink().gap({ cameraKey: 'cam1', start: at(5), end: at(6), reason: 'recorder_restart', detail: null });
      }
      await waitFor('several failed tries', () => h.events.filter((e) => e.type === 'retry').length >= 4, 10_000);
      assert.ok(h.events.filter((e) => e.type === 'retry').every((e) => e.type === 'retry' && e.status === null && e.delayMs <= 400), 'network failures, capped backoff');
      for (const s of segs) assert.ok(existsSync(s.path), 'nothing deleted while the centre is away');
      assert.equal((await centreSegments(centre, h.site.siteId, 'cam1')).length, 0);
      await new Promise((r) => setTimeout(r, 700));
      await centreUp();
      await drained(agent);

      const rows = await centreSegments(centre, h.site.siteId, 'cam1');
      assert.deepEqual(rows.map((r) => r.sha256), segs.map((s) => s.sha256), 'all present, once, in capture order');
      const ids = rows.map((r) => r.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'stored in capture order (oldest first)');
      assert.equal((await centreGaps(centre, h.site.siteId, 'cam1')).length, 1);
      for (const s of segs) assert.equal(existsSync(s.path), false);
    } finally {
      await agent.stop();
      await centreUp();
    }
  });

  test('the bandwidth cap is roughly honoured', async () => {
    const rate = 200_000;
    const h = await setup({ raw: { upload: { bandwidthBytesPerSecond: rate, backoff: { baseMs: 50, capMs: 400 } } } });
    const agent = h.agent!;
    try {
      await waitFor('camera registration', () => centre.db.selectFrom('camera').select('id').where('siteId', '=', h.site.siteId).executeTakeFirst());
      const segs = [];
      for (let i = 0; i < 3; i++) segs.push(await segFile(h.camDir, i * 2, 200_000));
      const t0 = performance.now();
      for (const s of segs) await h.sink().segmentClosed(s);
      await drained(agent);
      const seconds = (performance.now() - t0) / 1000;
      const expected = (3 * 200_000) / rate; // 3 s
      assert.ok(seconds >= expected * 0.85, `took ${seconds.toFixed(2)} s, cap would need ≥ ${expected} s`);
      assert.ok(seconds <= expected * 2.5, `took ${seconds.toFixed(2)} s, too slow for ${expected} s`);
      assert.equal((await centreSegments(centre, h.site.siteId, 'cam1')).length, 3);
    } finally {
      await agent.stop();
    }
  });

  test('Retry-After (seconds and HTTP date) is honoured instead of the short backoff', async () => {
    let segPuts = 0;
    const proxy = await startProxy(
      () => centre.url,
      (req) => {
        if (req.method !== 'PUT' || !req.url!.includes('/segments/')) return { action: 'forward' };
        segPuts++;
        if (segPuts === 1) return { action: 'answer', status: 503, headers: { 'retry-after': '2' } };
        if (segPuts === 2) return { action: 'answer', status: 429, headers: { 'retry-after': new Date(Date.now() + 2500).toUTCString() } };
        return { action: 'forward' };
      },
    );
    const h = await setup({ serverUrl: proxy.url });
    const agent = h.agent!;
    try {
      const s = await segFile(h.camDir, 0, 10_000);
      await h.sink().segmentClosed(s);
      await drained(agent);
      const puts = proxy.seen.filter((r) => r.method === 'PUT' && r.path.includes('/segments/'));
      assert.equal(puts.length, 3);
      const gap1 = (puts[1]!.at - puts[0]!.at) / 1000;
      const gap2 = (puts[2]!.at - puts[1]!.at) / 1000;
      assert.ok(gap1 >= 1.95 && gap1 < 3, `waited ${gap1} s after Retry-After: 2`);
      assert.ok(gap2 >= 1.4 && gap2 < 3.6, `waited ${gap2} s after an HTTP-date Retry-After (second resolution)`);
      assert.equal((await centreSegments(centre, h.site.siteId, 'cam1'))[0]?.sha256, s.sha256);
    } finally {
      await agent.stop();
      await proxy.close();
    }
  });

  test('hash mismatch: corrupted in transit → retried; local file really changed → quarantined, kept, gap reported', async () => {
    let segPuts = 0;
    const proxy = await startProxy(
      () => centre.url,
      (req) => (req.method === 'PUT' && req.url!.includes('/segments/') && ++segPuts === 1 ? { action: 'corrupt', atByte: 1000 } : { action: 'forward' }),
    );
    let a!: ReturnType<typeof closedSegment>;
    let b!: ReturnType<typeof closedSegment>;
    const h = await setup({
      serverUrl: proxy.url,
      prefill: async (ob, camDir) => {
        a = await segFile(camDir, 0, 30_000);
        b = await segFile(camDir, 2, 30_000);
        await ob.segmentClosed(a);
        await ob.segmentClosed(b);
        // After b was hashed and handed over, its bytes change (same size): the edge hash no longer matches.
        const bytes = await readFile(b.path);
        bytes[5] = bytes[5]! ^ 0x01;
        await writeFile(b.path, bytes);
      },
    });
    const agent = h.agent!;
    try {
      await drained(agent);
      const retry = h.events.find((e) => e.type === 'retry');
      assert.ok(retry && retry.type === 'retry' && /hash_mismatch in transit/.test(retry.reason), JSON.stringify(h.events));
      const rows = await centreSegments(centre, h.site.siteId, 'cam1');
      assert.deepEqual(rows.map((r) => r.sha256), [a.sha256], 'a arrived after the retry; b never stored');
      const q = h.events.find((e) => e.type === 'quarantined');
      assert.ok(q && q.type === 'quarantined' && q.reason === 'local_file_changed' && q.id === segmentItemId('cam1', b.start));
      const recs = await agent.outbox.listQuarantine();
      assert.equal(recs.length, 1);
      const kept = recs[0]!.item.files[0]!.path;
      assert.ok(kept.includes(join('outbox', 'quarantine')));
      assert.equal((await readFile(kept)).length, 30_000, 'the changed file is kept for a person to look at');
      const gaps = await centreGaps(centre, h.site.siteId, 'cam1');
      assert.equal(gaps.length, 1);
      assert.equal(gaps[0]!.reason, 'other');
      assert.equal(gaps[0]!.start.getTime(), b.start.getTime());
      assert.match(gaps[0]!.detail!, /quarantine \(local_file_changed\)/);
    } finally {
      await agent.stop();
      await proxy.close();
    }
  });

  test('409 segment_conflict quarantines the second file (never deleted, no gap: the centre holds footage there)', async () => {
    const h = await setup();
    const agent = h.agent!;
    try {
      const first = await segFile(h.camDir, 0, 20_000);
      await h.sink().segmentClosed(first);
      await drained(agent);
      const otherPath = join(h.camDir, 'again.ts');
      const bytes = await makeRandomFile(otherPath, 21_000);
      await h.sink().segmentClosed(closedSegment('cam1', otherPath, bytes, at(0), 2000));
      await drained(agent);
      const q = h.events.find((e) => e.type === 'quarantined');
      assert.ok(q && q.type === 'quarantined' && q.reason === 'segment_conflict');
      const recs = await agent.outbox.listQuarantine();
      assert.equal(sha256(await readFile(recs[0]!.item.files[0]!.path)), sha256(bytes));
      assert.equal(existsSync(otherPath), false, 'moved into quarantine, not copied');
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.sha256), [first.sha256]);
      assert.equal((await centreGaps(centre, h.site.siteId, 'cam1')).length, 0);
    } finally {
      await agent.stop();
    }
  });

  test('404 camera_not_found: the agent registers the camera again, then the upload succeeds', async () => {
    const h = await setup();
    const agent = h.agent!;
    try {
      await waitFor('camera registration', () => centre.db.selectFrom('camera').select('id').where('siteId', '=', h.site.siteId).executeTakeFirst());
      await centre.db.deleteFrom('camera').where('siteId', '=', h.site.siteId).execute();
      const s = await segFile(h.camDir, 0, 5_000);
      await h.sink().segmentClosed(s);
      await drained(agent);
      assert.ok(h.events.some((e) => e.type === 'reregistered' && e.cameraKey === 'cam1'));
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.sha256), [s.sha256]);
    } finally {
      await agent.stop();
    }
  });

  test('disk guard over a small limit: oldest routine segments become "evicted" gaps, held ones stay, all reported', async () => {
    const segs: ReturnType<typeof closedSegment>[] = [];
    const h = await setup({
      raw: { disk: { maxUsePercent: 100, minFreeBytes: 0, maxSpoolBytes: 250_000, checkSeconds: 0.1 } },
      start: false,
      prefill: async (ob, camDir) => {
        for (let i = 0; i < 5; i++) {
          segs.push(await segFile(camDir, i * 2, 100_000));
          await ob.segmentClosed(segs[i]!);
        }
        await ob.requestWindow('cam1', at(0), at(1)); // a case holds the oldest
      },
    });
    await centreDown(); // enrolled; now the centre goes away so the backlog builds up
    const agent = await h.start();
    try {
      await waitFor('evictions', () => agent.outbox.list().filter((i) => i.kind === 'gap').length === 3, 10_000);
      assert.deepEqual(
        agent.outbox.list().map((i) => [i.kind, i.at]),
        [
          ['segment', at(0).toISOString()], // held: first in line, and kept
          ['gap', at(2).toISOString()],
          ['gap', at(4).toISOString()],
          ['gap', at(6).toISOString()],
          ['segment', at(8).toISOString()],
        ],
      );
      assert.deepEqual(segs.map((s) => existsSync(s.path)), [true, false, false, false, true]);
      await centreUp();
      await drained(agent);
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.start.getTime()), [at(0).getTime(), at(8).getTime()]);
      const gaps = await centreGaps(centre, h.site.siteId, 'cam1');
      assert.deepEqual(gaps.map((g) => [g.reason, g.start.getTime(), g.end.getTime()]), [2, 4, 6].map((s) => ['evicted', at(s).getTime(), at(s + 2).getTime()]));
      assert.ok(gaps.every((g, i) => g.detail!.includes(segs[i + 1]!.sha256)), 'each gap names the evicted segment');
    } finally {
      await agent.stop();
      await centreUp();
    }
  });

  test('heartbeat measures the clock offset against the centre (agent 5 s ahead)', async () => {
    const stateDir = join(root.path, 'hb-state');
    const site = await enrollAgent(centre, stateDir);
    const cred = (await loadCredential(stateDir))!;
    const client = createCentreClient({ baseUrl: centre.url, credential: cred.credential });
    const hb = new Heartbeat({ client, intervalMs: 60_000, version: 'test', spoolDir: root.path, backlog: () => ({ count: 2, bytes: 300, byKind: {}, quarantined: 0, oldestAt: null }), cameraHealth: () => [], log: quietLog(), now: () => Date.now() + 5000 });
    try {
      assert.equal(hb.clock.offsetMs(), null);
      for (let i = 0; i < 3; i++) assert.equal(await hb.beat(), true);
      const off = hb.clock.offsetMs()!;
      assert.ok(Math.abs(off - 5000) < 50, `offset ${off}`);
      const row = await centre.db.selectFrom('agent').selectAll().where('siteId', '=', site.siteId).executeTakeFirstOrThrow();
      assert.ok(Math.abs(row.clockOffsetMs! - 5000) < 50);
      assert.equal(row.backlogCount, 2);
      assert.equal(Number(row.backlogBytes), 300);
    } finally {
      client.close();
    }
  });

  test('shutdown mid-upload abandons it safely: the item stays, nothing is stored half, the next run sends it', async () => {
    const h = await setup({ raw: { upload: { bandwidthBytesPerSecond: 100_000, shutdownGraceMs: 200, backoff: { baseMs: 50, capMs: 400 } } } });
    const agent = h.agent!;
    const s = await segFile(h.camDir, 0, 1_000_000); // 10 s at the cap
    await h.sink().segmentClosed(s);
    await waitFor('the upload to start', () => agent.uploader.inFlight !== null);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await agent.stop();
    assert.ok(performance.now() - t0 < 2000, 'stopped promptly');
    assert.ok(existsSync(s.path));
    const ob = await Outbox.open({ spoolDir: h.spoolDir });
    assert.deepEqual(ob.list().map((i) => i.id), [segmentItemId('cam1', s.start)]);
    await ob.close();
    assert.equal((await centreSegments(centre, h.site.siteId, 'cam1')).length, 0);
    assert.equal(await centre.objectCount(`segments/${h.site.siteId}/`), 0, 'no partial object left');

    h.config.upload.bandwidthBytesPerSecond = 0;
    const again = await h.start();
    try {
      await drained(again);
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.sha256), [s.sha256]);
      assert.equal(existsSync(s.path), false);
    } finally {
      await again.stop();
    }
  });
});
