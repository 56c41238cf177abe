/**
 * Issue 12 items 2 and 3 at the agent, against a real centre (PostgreSQL, S3): before it quarantines a segment the
 * centre refused with 409 it asks the centre what it holds (GET /segments/{cameraKey}/{start}), and the very same
 * segment held there counts as delivered; a time the centre refuses (422 time_out_of_bounds) is final for the item:
 * quarantined with the centre's reason, its files kept, no gap queued for the same bad time, no endless retry.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentPaths, segmentHeaders } from '@mamoru/contract';
import { centreGaps, centreSegments, closedSegment, enrollAgent, makeRandomFile, sha256, tempDir, testConfig, waitFor } from './helpers/agent.ts';
import { startProxy } from './helpers/proxy.ts';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { createLogger } from '../src/lib/logger.ts';
import type { RecorderFactory } from '../src/cli/recorders.ts';
import { agentDeps, runAgent, type RunningAgent } from '../src/agent.ts';
import type { EvidenceSink } from '../src/contracts.ts';
import { loadCredential } from '../src/state/credential-store.ts';
import type { UploadEvent } from '../src/uploader/uploader.ts';

// Recent footage (the centre bounds times against its clock): six hours ago, on a whole minute.
const T = Math.floor(Date.now() / 60_000) * 60_000 - 6 * 3600_000;
const at = (s: number) => new Date(T + s * 1000);

describe('agent: re-check before quarantine, and refused times', () => {
  let centre: TestCentre;
  let root: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    centre = await startCentre();
    root = await tempDir('uplink-refusals-');
  });
  after(async () => {
    await centre.close();
    await root.remove();
  });

  let n = 0;
  async function setup(serverUrl?: string) {
    const base = join(root.path, `a${n++}`);
    const stateDir = join(base, 'state');
    const spoolDir = join(base, 'spool');
    const camDir = join(spoolDir, 'cameras', 'cam1');
    await mkdir(camDir, { recursive: true });
    const site = await enrollAgent(centre, stateDir);
    const config = testConfig({
      server: { url: serverUrl ?? centre.url },
      stateDir,
      spoolDir,
      heartbeatSeconds: 1,
      upload: { backoff: { baseMs: 50, capMs: 400 }, shutdownGraceMs: 200 },
      disk: { maxUsePercent: 100, minFreeBytes: 0, checkSeconds: 0.1 },
      cameras: [{ key: 'cam1', name: 'レジ1', place: 'レジ前', rtspUrl: 'rtsp://192.0.2.5/stream' }],
    });
    const events: UploadEvent[] = [];
    const lines: string[] = [];
    let sink: EvidenceSink | undefined;
    const factory: RecorderFactory = (_cam, s) => {
      sink = s;
      return { start() {}, async stop() {}, health: () => 'recording' };
    };
    const agent: RunningAgent = await runAgent(config, { ...agentDeps(config, createLogger({ level: 'debug', write: (l) => lines.push(l) })), recorders: factory, onUploadEvent: (e) => events.push(e) });
    await waitFor('the recorder seam', () => sink);
    await waitFor('the camera registered', () => centre.db.selectFrom('camera').select('id').where('siteId', '=', site.siteId).executeTakeFirst());
    const credential = (await loadCredential(stateDir))!.credential;
    return { agent, site, camDir, events, lines, credential, sink: () => sink! };
  }
  const drained = (a: RunningAgent, ms = 20_000) => waitFor('the outbox to drain', () => a.outbox.stats().count === 0 && a.uploader.inFlight === null, ms);
  async function segFile(camDir: string, name: string, size: number, start: Date, durationMs = 2000) {
    const path = join(camDir, name);
    const bytes = await makeRandomFile(path, size);
    return { seg: closedSegment('cam1', path, bytes, start, durationMs), bytes };
  }
  /** The same segment sent to the centre directly (another upload of it that got there first). */
  const putDirect = (credential: string, seg: ReturnType<typeof closedSegment>, bytes: Buffer) =>
    fetch(`${centre.url}${agentPaths.segment('cam1', seg.start.toISOString())}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'video/mp2t', ...segmentHeaders({ ...seg, clockOffsetMs: seg.clockOffsetMs }) },
      body: bytes,
    });

  test('409 for a segment the centre holds (a concurrent upload won): re-checked, counted as delivered, nothing quarantined', async () => {
    let refused = 0;
    // The centre of issue 12 answered a concurrent duplicate 409 segment_overlap: the proxy gives the agent that answer.
    const proxy = await startProxy(
      () => centre.url,
      (req) => {
        if (req.method === 'PUT' && req.url!.startsWith('/api/v1/agent/segments/') && refused === 0) {
          refused++;
          return { action: 'answer', status: 409, body: { error: { code: 'segment_overlap', message: 'segment overlaps a stored segment of this camera', requestId: 'proxy' } } };
        }
        return { action: 'forward' };
      },
    );
    const h = await setup(proxy.url);
    try {
      const { seg, bytes } = await segFile(h.camDir, 'dup.ts', 30_000, at(0));
      assert.equal((await putDirect(h.credential, seg, bytes)).status, 201);
      await h.sink().segmentClosed(seg);
      await drained(h.agent);
      assert.equal(refused, 1);
      assert.ok(proxy.seen.some((r) => r.method === 'GET' && r.path.startsWith('/api/v1/agent/segments/cam1/')), 'the agent asked the centre');
      assert.equal(h.events.filter((e) => e.type === 'quarantined').length, 0, JSON.stringify(h.events));
      assert.equal(h.events.filter((e) => e.type === 'acked').length, 1);
      assert.deepEqual(await h.agent.outbox.listQuarantine(), []);
      assert.equal(existsSync(seg.path), false, 'delivered: the local file is released');
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.sha256), [seg.sha256]);
      assert.equal((await centreGaps(centre, h.site.siteId, 'cam1')).length, 0);
    } finally {
      await h.agent.stop();
      await proxy.close();
    }
  });

  test('409 where the centre holds other footage: quarantined after the re-check (files kept, no gap); no answer to the re-check is retried, not quarantined', async () => {
    let failChecks = 2;
    const proxy = await startProxy(
      () => centre.url,
      (req) => {
        if (req.method === 'GET' && req.url!.startsWith('/api/v1/agent/segments/') && failChecks > 0) {
          failChecks--;
          return { action: 'answer', status: 503 };
        }
        return { action: 'forward' };
      },
    );
    const h = await setup(proxy.url);
    try {
      // The centre holds [0 s, 4 s); the agent then sends a different file starting at 1 s (overlap) and one at 0 s (conflict).
      const held = await segFile(h.camDir, 'held.ts', 20_000, at(0), 4000);
      assert.equal((await putDirect(h.credential, held.seg, held.bytes)).status, 201);
      const overlap = await segFile(h.camDir, 'overlap.ts', 21_000, at(1));
      const conflict = await segFile(h.camDir, 'conflict.ts', 22_000, at(0));
      await h.sink().segmentClosed(overlap.seg);
      await h.sink().segmentClosed(conflict.seg);
      await drained(h.agent);
      assert.equal(failChecks, 0);
      const retries = h.events.filter((e) => e.type === 'retry');
      assert.ok(retries.length >= 2 && retries.every((e) => e.type === 'retry' && /re-check after 409/.test(e.reason)), JSON.stringify(retries));
      const q = h.events.filter((e) => e.type === 'quarantined');
      assert.deepEqual(q.map((e) => e.type === 'quarantined' && e.reason).sort(), ['segment_conflict', 'segment_overlap']);
      const recs = await h.agent.outbox.listQuarantine();
      assert.equal(recs.length, 2);
      for (const r of recs) assert.ok(r.detail && /centre holds/.test(r.detail), r.detail ?? '');
      const bySha = new Set(await Promise.all(recs.map(async (r) => sha256(await readFile(r.item.files[0]!.path)))));
      assert.deepEqual(bySha, new Set([overlap.seg.sha256, conflict.seg.sha256]), 'both files kept in quarantine');
      assert.deepEqual((await centreSegments(centre, h.site.siteId, 'cam1')).map((r) => r.sha256), [held.seg.sha256]);
      assert.equal((await centreGaps(centre, h.site.siteId, 'cam1')).length, 0, 'no gap: the centre holds footage there');
    } finally {
      await h.agent.stop();
      await proxy.close();
    }
  });

  test('422 time_out_of_bounds (a clock in 2099 or 1970): quarantined once with the reason, files kept, no gap, nothing stored', async () => {
    const h = await setup();
    try {
      const future = await segFile(h.camDir, 'future.ts', 10_000, new Date('2099-01-01T00:00:00Z'));
      const epoch = await segFile(h.camDir, 'epoch.ts', 11_000, new Date('1970-01-01T00:00:00Z'));
      await h.sink().segmentClosed(future.seg);
      await h.sink().segmentClosed(epoch.seg);
      await h.sink().gap({ cameraKey: 'cam1', start: new Date('1970-01-01T00:00:10Z'), end: new Date('1970-01-01T00:00:20Z'), reason: 'camera_offline', detail: 'clock reset' });
      await drained(h.agent);
      const q = h.events.filter((e) => e.type === 'quarantined');
      assert.equal(q.length, 3, JSON.stringify(h.events));
      assert.ok(q.every((e) => e.type === 'quarantined' && e.reason === 'time_out_of_bounds' && /outside the accepted range/.test(e.detail ?? '')));
      assert.equal(h.events.filter((e) => e.type === 'retry').length, 0, 'not retried');
      const recs = await h.agent.outbox.listQuarantine();
      assert.equal(recs.length, 3);
      const kept = await Promise.all(recs.filter((r) => r.item.kind === 'segment').map(async (r) => sha256(await readFile(r.item.files[0]!.path))));
      assert.deepEqual(new Set(kept), new Set([future.seg.sha256, epoch.seg.sha256]));
      assert.equal((await centreSegments(centre, h.site.siteId, 'cam1')).length, 0);
      assert.equal((await centreGaps(centre, h.site.siteId, 'cam1')).length, 0);
      const refusals = await centre.db.selectFrom('ingestRefusal').select(['subject', 'count']).where('siteId', '=', h.site.siteId).orderBy('subject').execute();
      assert.deepEqual(refusals.map((r) => [r.subject, Number(r.count)]), [['gap', 1], ['segment', 2]]);
      assert.ok(h.lines.some((l) => l.includes('item quarantined') && l.includes('time_out_of_bounds')));
    } finally {
      await h.agent.stop();
    }
  });
});
