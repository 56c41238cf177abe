/**
 * On-demand cameras and case windows against a real centre (PostgreSQL, S3, the real agent API; no stand-in HTTP
 * server): metadata and hashes reach the centre while the media stays at the store; a preserve_window command holds
 * a window's segments (the disk guard cannot evict them), they are uploaded ahead of other queued footage and
 * attach to their metadata rows; the rolling buffer gives up only acknowledged, unheld media and says so.
 *
 * The centre's half of commands (agent_command delivery in heartbeat answers, POST /api/v1/agent/commands/{id}/ack)
 * comes from the cases work. The first test hands the command to the agent's executor directly
 * (`agent.commands.executeCommand`, the same code the heartbeat answer feeds) while the centre is down, so the
 * heartbeat's later (re)delivery of the same row must be harmless; the last test goes through the heartbeat alone.
 * Both check that the centre accepted the ack (agent_command.status). They fall back to checking that the ack is
 * retried on a centre without the ack route.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import type { RecorderFactory } from '../src/cli/recorders.ts';
import { agentDeps, runAgent, type RunningAgent } from '../src/agent.ts';
import type { AgentConfig } from '../src/config.ts';
import type { AgentCommand, EvidenceSink } from '../src/contracts.ts';
import { DiskGuard } from '../src/disk-guard/disk-guard.ts';
import { segmentItemId } from '../src/outbox/items.ts';
import type { UploadEvent } from '../src/uploader/uploader.ts';
import { centreGaps, centreSegments, closedSegment, enrollAgent, makeRandomFile, readObject, sha256, tempDir, testConfig, waitFor } from './helpers/agent.ts';

const quietLog = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: 'debug', write: (l) => lines.push(l) }), { lines });
};
const SIZE = 40_000;

describe('on-demand cameras and case windows against a real centre', () => {
  let centre: TestCentre;
  let root: Awaited<ReturnType<typeof tempDir>>;
  let hq: string;
  let ackRoute = false;
  before(async () => {
    centre = await startCentre();
    root = await tempDir('preservation-test-');
    hq = await centre.hqCookie();
    ackRoute = centre.app.routes.some((r) => r.method === 'POST' && r.path === '/api/v1/agent/commands/:id/ack');
  });
  after(async () => {
    await centre.close();
    await root.remove();
  });

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
  async function setup(raw: Record<string, unknown> = {}) {
    const base = join(root.path, `a${n++}`);
    const stateDir = join(base, 'state');
    const spoolDir = join(base, 'spool');
    const site = await enrollAgent(centre, stateDir);
    const config: AgentConfig = testConfig({
      server: { url: centre.url },
      stateDir,
      spoolDir,
      heartbeatSeconds: 1,
      upload: { backoff: { baseMs: 50, capMs: 300 }, shutdownGraceMs: 200 },
      disk: { maxUsePercent: 100, minFreeBytes: 0, checkSeconds: 3600 },
      commands: { tickSeconds: 0.2 },
      cameras: [
        { key: 'od1', name: 'レジ1', place: 'レジ前', uploadMode: 'on-demand', rtspUrl: 'rtsp://192.0.2.5/stream' },
        { key: 'cont', name: '入口', place: '入口', uploadMode: 'continuous', rtspUrl: 'rtsp://192.0.2.6/stream' },
      ],
      ...raw,
    });
    for (const k of ['od1', 'cont']) await mkdir(join(spoolDir, 'cameras', k), { recursive: true });
    const events: UploadEvent[] = [];
    const log = quietLog();
    let sink: EvidenceSink | undefined;
    const factory: RecorderFactory = (_cam, s) => {
      sink = s;
      return { start() {}, async stop() {}, health: () => 'recording' };
    };
    const agent: RunningAgent = await runAgent(config, { ...agentDeps(config, log), recorders: factory, onUploadEvent: (e) => events.push(e) });
    const close = async (cam: string, start: Date, size = SIZE) => {
      const path = join(spoolDir, 'cameras', cam, `${start.getTime()}.ts`);
      const bytes = await makeRandomFile(path, size);
      const seg = closedSegment(cam, path, bytes, start, 2000);
      await sink!.segmentClosed(seg);
      return seg;
    };
    return { agent, config, site, spoolDir, events, log, close };
  }
  /** A command row as the centre keeps it (its id is what the agent acknowledges). */
  async function commandRow(siteId: string, c: Omit<AgentCommand, 'id'>) {
    const row = await centre.db
      .insertInto('agentCommand')
      .values({ siteId, kind: 'preserve_window', payload: JSON.stringify({ cameraKey: c.cameraKey, from: c.from, to: c.to, incidentId: null }), incidentId: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...c, id: row.id } as AgentCommand;
  }
  const timeline = async (siteId: string, key: string, from: Date, to: Date) => {
    const cam = await centre.db.selectFrom('camera').select('id').where('siteId', '=', siteId).where('key', '=', key).executeTakeFirstOrThrow();
    const r = await fetch(`${centre.url}/api/v1/cameras/${cam.id}/timeline?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`, { headers: { cookie: hq } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { segments: { id: string; start: string; state: string }[] }).segments;
  };

  test('a segment still at the store is requested, held at the agent and arrives first', async () => {
    const T = Date.parse('2026-11-20T03:00:00Z');
    const at = (s: number) => new Date(T + s * 1000);
    const h = await setup();
    const { agent } = h;
    try {
      // 1. On-demand footage: the centre gets each segment's metadata and edge hash, the media stays here.
      const od = new Map<number, Awaited<ReturnType<typeof h.close>>>();
      for (const s of [0, 2, 4, 6, 8, 10]) od.set(s, await h.close('od1', at(s)));
      await waitFor('metadata at the centre', async () => (await centreSegments(centre, h.site.siteId, 'od1')).length === 6 && agent.outbox.stats().buffered.count === 6);
      const metaRows = await centreSegments(centre, h.site.siteId, 'od1');
      assert.ok(metaRows.every((r) => r.objectKey === null), 'no media at the centre');
      assert.deepEqual(metaRows.map((r) => r.sha256), [...od.values()].map((s) => s.sha256), 'the edge hashes are at the centre');
      assert.ok([...od.values()].every((s) => existsSync(s.path)), 'the media is in the local rolling buffer');
      assert.equal(await centre.objectCount('segments/'), 0);
      const cam = await centre.db.selectFrom('camera').select('uploadMode').where('siteId', '=', h.site.siteId).where('key', '=', 'od1').executeTakeFirstOrThrow();
      assert.equal(cam.uploadMode, 'on-demand');
      assert.ok((await timeline(h.site.siteId, 'od1', at(0), at(12))).every((s) => s.state === 'at_store'));

      // 2. The link to the centre goes down; continuous footage queues up.
      await centreDown();
      for (const s of [-100, -98, -96]) await h.close('cont', at(s));

      // 3. A case asks for [2 s, 6 s) of od1: its two segments are held and move ahead of everything.
      const cmd = await commandRow(h.site.siteId, { kind: 'preserve_window', cameraKey: 'od1', from: at(2).toISOString(), to: at(6).toISOString(), incidentId: null });
      const rec = await agent.commands.executeCommand(cmd);
      assert.equal(rec.result?.status, 'done', rec.result?.detail ?? '');
      assert.match(rec.result!.detail!, /2 segment\(s\), 80000 bytes held/);
      const windowIds = [segmentItemId('od1', at(2)), segmentItemId('od1', at(4))];
      assert.ok(windowIds.every((id) => agent.outbox.get(id)?.held && agent.outbox.get(id)?.priority === 0));
      assert.deepEqual((await agent.commands.executeCommand(cmd)).result, rec.result, 'delivered again: nothing changes');

      // 4. The disk fills up meanwhile: everything routine is evicted (oldest first), never the held window.
      const guard = new DiskGuard({ outbox: agent.outbox, spoolDir: h.spoolDir, limits: { maxUsePercent: 100, minFreeBytes: 0, maxSpoolBytes: 2 * SIZE }, intervalMs: 1000, log: h.log });
      const report = await guard.check();
      assert.equal(report.shortBytes, 0);
      assert.deepEqual(report.evicted.sort(), [...[-100, -98, -96].map((s) => segmentItemId('cont', at(s))), ...[0, 6, 8, 10].map((s) => segmentItemId('od1', at(s)))].sort());
      assert.ok(existsSync(od.get(2)!.path) && existsSync(od.get(4)!.path), 'the held segments are still at the store');
      assert.ok(![0, 6, 8, 10].some((s) => existsSync(od.get(s)!.path)));
      // More continuous footage, older than the window, queues behind it.
      const later = [await h.close('cont', at(-90)), await h.close('cont', at(-88))];

      // 5. The link returns: the window's media arrives first, then the rest.
      const firstEvent = h.events.length;
      await centreUp();
      await waitFor('the outbox to drain', () => agent.outbox.stats().count === 0 && agent.outbox.stats().buffered.count === 0 && agent.uploader.inFlight === null, 30_000);
      const acked = h.events.slice(firstEvent).filter((e): e is Extract<UploadEvent, { type: 'acked' }> => e.type === 'acked');
      assert.deepEqual(acked.slice(0, 2).map((e) => e.id), windowIds, 'the requested window is the first thing the centre receives');
      assert.ok(acked.slice(2).every((e) => !windowIds.includes(e.id)));
      assert.deepEqual(acked.filter((e) => e.kind === 'segment').slice(2).map((e) => e.id), later.map((s) => segmentItemId('cont', s.start)));

      // 6. At the centre: the media attached to the very metadata rows, bytes matching the edge hash.
      const rows = await centreSegments(centre, h.site.siteId, 'od1');
      for (const s of [2, 4]) {
        const row = rows.find((r) => r.start.getTime() === at(s).getTime())!;
        assert.equal(row.id, metaRows.find((r) => r.start.getTime() === at(s).getTime())!.id, 'same row as the metadata');
        assert.ok(row.objectKey);
        assert.equal(sha256(await readObject(centre, row.objectKey!)), od.get(s)!.sha256);
        assert.ok(!existsSync(od.get(s)!.path), 'released locally only once the centre acknowledged the media');
      }
      const storedAt = async (siteKey: string) =>
        (await centre.db.selectFrom('segment').innerJoin('camera', 'camera.id', 'segment.cameraId').select(['segment.storedAt']).where('camera.siteId', '=', h.site.siteId).where('camera.key', '=', siteKey).where('segment.storedAt', 'is not', null).execute()).map((r) => r.storedAt!.getTime());
      assert.ok(Math.max(...(await storedAt('od1'))) <= Math.min(...(await storedAt('cont'))), 'stored at the centre before the continuous footage');
      const states = await timeline(h.site.siteId, 'od1', at(0), at(12));
      assert.deepEqual(states.map((s) => s.state), ['evicted', 'stored', 'stored', 'evicted', 'evicted', 'evicted']);
      const gaps = await centreGaps(centre, h.site.siteId, 'od1');
      assert.deepEqual(gaps.map((g) => [g.reason, g.start.getTime()]), [0, 6, 8, 10].map((s) => ['evicted', at(s).getTime()]));

      // 7. The answer to the centre.
      if (ackRoute) {
        await waitFor('the ack accepted', () => agent.commands.get(cmd.id)?.ack.state === 'accepted');
        const row = await centre.db.selectFrom('agentCommand').select(['status']).where('id', '=', cmd.id).executeTakeFirstOrThrow();
        assert.equal(row.status, 'done');
      } else {
        // The centre of this branch has no ack route yet: the agent keeps the answer and keeps trying.
        await waitFor('an ack attempt', () => agent.commands.get(cmd.id)?.ack.lastError?.includes('404'));
        assert.equal(agent.commands.get(cmd.id)?.ack.state, 'pending');
      }
    } finally {
      await centreUp();
      await agent.stop();
    }
  });

  test('the rolling buffer gives up only media whose metadata the centre acknowledged and no case holds, and tells the centre', async () => {
    const T = Date.now() - 3 * 86_400_000; // three days ago: older than a one-day buffer
    const at = (s: number) => new Date(T + s * 1000);
    const h = await setup({ onDemand: { bufferDays: 1, checkSeconds: 0.1 } });
    const { agent } = h;
    try {
      await centreDown();
      const segs = [];
      for (const s of [0, 2, 4, 6]) segs.push(await h.close('od1', at(s)));
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(segs.every((s) => existsSync(s.path)), 'the centre has not acknowledged their metadata: nothing is deleted');
      const rec = await agent.commands.executeCommand({ id: randomUUID(), kind: 'preserve_window', cameraKey: 'od1', from: at(6).toISOString(), to: at(7).toISOString(), incidentId: null });
      assert.equal(rec.result?.status, 'done');

      await centreUp();
      await waitFor('outbox drained', () => agent.outbox.stats().count === 0 && agent.outbox.stats().buffered.count === 0 && agent.uploader.inFlight === null, 20_000);
      await waitFor('evicted gaps at the centre', async () => {
        const g = await centreGaps(centre, h.site.siteId, 'od1');
        return g.length > 0 && g.every((x) => x.reason === 'evicted') && Math.min(...g.map((x) => x.start.getTime())) === at(0).getTime() && Math.max(...g.map((x) => x.end.getTime())) === at(6).getTime() && g;
      });
      assert.ok(segs.slice(0, 3).every((s) => !existsSync(s.path)), 'expired from the buffer');
      const rows = await centreSegments(centre, h.site.siteId, 'od1');
      assert.deepEqual(rows.map((r) => [r.start.getTime(), r.objectKey !== null]), [[at(0).getTime(), false], [at(2).getTime(), false], [at(4).getTime(), false], [at(6).getTime(), true]]);
      assert.equal(sha256(await readObject(centre, rows[3]!.objectKey!)), segs[3]!.sha256, 'the held segment outlived the buffer and reached the centre');
      assert.deepEqual((await timeline(h.site.siteId, 'od1', at(-1), at(10))).map((s) => s.state), ['evicted', 'evicted', 'evicted', 'stored']);
    } finally {
      await centreUp();
      await agent.stop();
    }
  });

  test('heartbeat delivers a preserve_window and the agent acknowledges it (needs the cases branch)', async (t) => {
    if (!ackRoute) {
      t.skip('waiting on the cases branch: the centre has no POST /api/v1/agent/commands/{id}/ack and its heartbeat delivers no commands yet');
      return;
    }
    const T = Date.parse('2026-11-21T03:00:00Z');
    const at = (s: number) => new Date(T + s * 1000);
    const h = await setup();
    const { agent } = h;
    try {
      for (const s of [0, 2]) await h.close('od1', at(s));
      await waitFor('metadata at the centre', () => agent.outbox.stats().buffered.count === 2);
      const cmd = await commandRow(h.site.siteId, { kind: 'preserve_window', cameraKey: 'od1', from: at(0).toISOString(), to: at(4).toISOString(), incidentId: null });
      await waitFor('the command executed', () => agent.commands.get(cmd.id)?.result, 20_000);
      await waitFor('media at the centre', async () => (await centreSegments(centre, h.site.siteId, 'od1')).every((r) => r.objectKey !== null));
      await waitFor('the ack accepted', () => agent.commands.get(cmd.id)?.ack.state === 'accepted', 20_000);
      const row = await centre.db.selectFrom('agentCommand').select(['status', sql<string>`detail`.as('detail')]).where('id', '=', cmd.id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'done');
    } finally {
      await agent.stop();
    }
  });
});
