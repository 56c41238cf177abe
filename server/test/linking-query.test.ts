/**
 * The linking query (issue 4) against real PostgreSQL: segments of all cameras of a site and the site's calls that
 * overlap a window, exactly at the window's edges, never another site's, and served by indexes at volume.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { createDb, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { payloadDigest } from '../src/domain/call-payload.ts';
import { createRepositories, type Repositories } from '../src/repositories/index.ts';
import { createTestDatabase } from '../../test-support/src/env.ts';
import { generateLinkingData, type LinkingData } from '../../test-support/src/linking-data.ts';
import { windowCallPayload } from './helpers/calls.ts';
import { segmentRow } from './helpers/segment-rows.ts';

const T = Date.parse('2026-11-20T10:00:00Z'); // window [T, T + 1 h)
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(T + ms);
const W = { from: at(0), to: at(HOUR) };

describe('linking query: segments and calls of a site for a window', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let repos: Repositories;
  let siteA: string;
  let siteB: string;
  const cams: Record<string, string> = {};
  /** Named segments: [camera, start, end] relative to T. */
  const segs: Record<string, { camera: string; start: number; end: number; id?: string }> = {
    endsAtFrom: { camera: 'a1', start: -MIN, end: 0 },
    startsAtFrom: { camera: 'a1', start: 0, end: MIN },
    middle: { camera: 'a1', start: 30 * MIN, end: 31 * MIN },
    endsAtTo: { camera: 'a1', start: HOUR - MIN, end: HOUR },
    startsAtTo: { camera: 'a1', start: HOUR, end: HOUR + MIN },
    straddlesFrom: { camera: 'a2', start: -30_000, end: 30_000 },
    straddlesTo: { camera: 'a2', start: HOUR - 30_000, end: HOUR + 30_000 },
    endsOneMsIn: { camera: 'a4', start: -MIN, end: 1 },
    oneMsBefore: { camera: 'a5', start: -MIN, end: -1 },
    coversWindow: { camera: 'a3', start: -HOUR, end: 2 * HOUR },
    longAfter: { camera: 'a4', start: 5 * HOUR, end: 5 * HOUR + MIN },
    otherSiteInside: { camera: 'b1', start: 10 * MIN, end: 11 * MIN },
  };
  const segIn = ['startsAtFrom', 'middle', 'endsAtTo', 'straddlesFrom', 'straddlesTo', 'endsOneMsIn', 'coversWindow'];
  /** Named calls: [site, start, end] relative to T. */
  const calls: Record<string, { site: 'A' | 'B'; start: number; end: number; recordings?: number; id?: string }> = {
    endsAtFrom: { site: 'A', start: -10 * MIN, end: 0 },
    startsAtTo: { site: 'A', start: HOUR, end: HOUR + 5 * MIN },
    startsAtFrom: { site: 'A', start: 0, end: MIN, recordings: 3 },
    endsAtTo: { site: 'A', start: HOUR - MIN, end: HOUR },
    straddlesFrom: { site: 'A', start: -5 * MIN, end: 5 * MIN },
    straddlesTo: { site: 'A', start: HOUR - 5 * MIN, end: HOUR + 5 * MIN },
    longHeld: { site: 'A', start: -2 * HOUR, end: 3 * HOUR },
    zeroInside: { site: 'A', start: 30 * MIN, end: 30 * MIN },
    zeroAtFrom: { site: 'A', start: 0, end: 0 },
    zeroAtTo: { site: 'A', start: HOUR, end: HOUR },
    oneMsBefore: { site: 'A', start: -HOUR, end: -1 },
    oneMsIn: { site: 'A', start: -HOUR, end: 1 },
    lastMs: { site: 'A', start: HOUR - 1, end: HOUR + MIN },
    otherSiteInside: { site: 'B', start: 10 * MIN, end: 20 * MIN },
  };
  const callIn = ['startsAtFrom', 'endsAtTo', 'straddlesFrom', 'straddlesTo', 'longHeld', 'zeroInside', 'oneMsIn', 'lastMs'];

  before(async () => {
    database = await createTestDatabase('linking');
    db = createDb(database.url, 2);
    await migrateToLatest(db);
    repos = createRepositories(db);
    siteA = (await repos.sites.create({ code: 'link-a', name: 'A', timezone: 'Asia/Tokyo' })).id;
    siteB = (await repos.sites.create({ code: 'link-b', name: 'B', timezone: 'Asia/Tokyo' })).id;
    for (const [key, site] of [['a1', siteA], ['a2', siteA], ['a3', siteA], ['a4', siteA], ['a5', siteA], ['b1', siteB]] as const) {
      cams[key] = (await repos.cameras.upsert({ siteId: site, key, name: key, place: null, uploadMode: 'continuous', device: {}, health: 'ok' })).id;
    }
    let n = 0;
    for (const s of Object.values(segs)) {
      n++;
      const row = await repos.segments.insert(segmentRow(cams[s.camera]!, at(s.start), at(s.end), n, n % 2 === 1, null));
      assert.ok(row, 'segment inserted');
      s.id = row.id;
    }
    for (const [name, c] of Object.entries(calls)) {
      const payload = windowCallPayload(`link.${name}`, at(c.start), at(c.end), c.recordings ?? 0);
      const r = await repos.calls.saveVersion({ siteId: c.site === 'A' ? siteA : siteB, agentId: null, callKey: `main-pbx:link.${name}`, version: 1, payload, digest: payloadDigest(payload), now: new Date() });
      assert.equal(r.status, 'created');
      c.id = r.callId;
    }
  });

  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  test('segments: every camera of the site, rows in and out exactly at the window edges', async () => {
    const got = await repos.segments.listForSiteWindow(siteA, W.from, W.to);
    const byId = new Map(Object.entries(segs).map(([name, s]) => [s.id!, name]));
    assert.deepEqual(got.map((s) => byId.get(s.id)).sort(), [...segIn].sort());
    // Ordered by camera, then start.
    const order = [...got].sort((a, b) => (a.cameraId < b.cameraId ? -1 : a.cameraId > b.cameraId ? 1 : a.start.getTime() - b.start.getTime()));
    assert.deepEqual(got.map((s) => s.id), order.map((s) => s.id));
    // The record is the whole segment: its own bounds, edge hash and whether the media is at the centre.
    const straddle = got.find((s) => s.id === segs.straddlesFrom!.id)!;
    assert.equal(straddle.start.getTime(), T - 30_000);
    assert.equal(straddle.end.getTime(), T + 30_000);
    assert.equal(straddle.cameraId, cams.a2);
    assert.match(straddle.sha256, /^[0-9a-f]{64}$/);
    assert.equal(straddle.clockOffsetMs, 3);
  });

  test('segments: another site sees only its own camera', async () => {
    const got = await repos.segments.listForSiteWindow(siteB, W.from, W.to);
    assert.deepEqual(got.map((s) => s.id), [segs.otherSiteInside!.id]);
    assert.deepEqual(await repos.segments.listForSiteWindow('00000000-0000-4000-8000-000000000000', W.from, W.to), []);
  });

  test('segments: a one-millisecond window at an edge', async () => {
    const got = await repos.segments.listForSiteWindow(siteA, at(-1), at(0));
    // [T-1ms, T): segments ending at T or later overlap it; oneMsBefore ends at T-1ms and startsAtFrom starts at T.
    const names = got.map((s) => Object.entries(segs).find(([, x]) => x.id === s.id)![0]).sort();
    assert.deepEqual(names, ['coversWindow', 'endsAtFrom', 'endsOneMsIn', 'straddlesFrom']);
  });

  test('calls: start_at < to AND end_at > from, zero-length calls included, other site excluded', async () => {
    const got = await repos.calls.listForSiteWindow(siteA, W.from, W.to);
    const byId = new Map(Object.entries(calls).map(([name, c]) => [c.id!, name]));
    assert.deepEqual(got.map((c) => byId.get(c.id)).sort(), [...callIn].sort());
    // Oldest first; the rows are full CallRows.
    const starts = got.map((c) => c.startAt.getTime());
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
    const first = got.find((c) => c.id === calls.startsAtFrom!.id)!;
    assert.equal(first.siteId, siteA);
    assert.equal(first.recordingCount, 3);
    assert.equal(first.endAt.getTime(), T + MIN);
    assert.ok(got.every((c) => c.siteId === siteA));
    const b = await repos.calls.listForSiteWindow(siteB, W.from, W.to);
    assert.deepEqual(b.map((c) => c.id), [calls.otherSiteInside!.id]);
  });

  test('a window must have from < to', async () => {
    for (const [f, t] of [[W.to, W.from], [W.from, W.from], [new Date(Number.NaN), W.to]] as const) {
      assert.throws(() => repos.segments.siteWindowQuery(siteA, f, t), RangeError);
      await assert.rejects(repos.segments.listForSiteWindow(siteA, f, t), RangeError);
      await assert.rejects(repos.calls.listForSiteWindow(siteA, f, t), RangeError);
    }
  });

  describe('at volume (generated rows)', () => {
    let data: LinkingData;
    const explain = async (q: { compile(): CompiledQuery }) => {
      const c = q.compile();
      const r = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${c.sql}`, [...c.parameters]));
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    };

    before(async () => {
      // 20 sites × 5 cameras × 400 one-minute segments (40,000 rows) and 20,000 calls over the same ~6.7 hours.
      data = await generateLinkingData(db, { prefix: 'vol', sites: 20, camerasPerSite: 5, segmentsPerCamera: 400, calls: 20_000, start: new Date('2026-10-01T00:00:00Z') });
    });

    test('the generator made what it was asked for', async () => {
      assert.equal(data.siteIds.length, 20);
      const n = await sql<{ segs: string; calls: string }>`
        SELECT (SELECT count(*) FROM segment s JOIN camera c ON c.id = s.camera_id JOIN site ON site.id = c.site_id WHERE site.code LIKE 'vol-%') AS segs,
               (SELECT count(*) FROM call JOIN site ON site.id = call.site_id WHERE site.code LIKE 'vol-%') AS calls`.execute(db);
      assert.equal(Number(n.rows[0]!.segs), 40_000);
      assert.equal(Number(n.rows[0]!.calls), 20_000);
      assert.ok(data.recordings > 14_000 && data.recordings < 18_000, `about 80 % answered: ${data.recordings}`);
    });

    test('indexes serve both halves: camera → segment_no_overlap, call_site_window_idx', async () => {
      const from = new Date(data.from.getTime() + 3 * HOUR + 17_000);
      const to = new Date(from.getTime() + HOUR);
      const segPlan = await explain(repos.segments.siteWindowQuery(data.siteIds[3]!, from, to));
      assert.match(segPlan, /segment_no_overlap/, segPlan);
      assert.doesNotMatch(segPlan, /Seq Scan on segment/, segPlan);
      const callPlan = await explain(repos.calls.siteWindowQuery(data.siteIds[3]!, from, to));
      assert.match(callPlan, /call_site_window_idx/, callPlan);
      assert.doesNotMatch(callPlan, /Seq Scan on call/, callPlan);
    });

    test("the incident service's callIdsOverlapping selects the same calls and is served by call_site_window_idx", async () => {
      const scans = async () => {
        const r = await sql<{ n: string }>`SELECT idx_scan AS n FROM pg_stat_user_indexes WHERE indexrelname = 'call_site_window_idx'`.execute(db);
        return Number(r.rows[0]!.n);
      };
      const from = new Date(data.from.getTime() + 2 * HOUR + 5_000);
      const to = new Date(from.getTime() + HOUR);
      const before = await scans();
      const ids = await db.transaction().execute(async (trx) => {
        const got = await createRepositories(trx).incidents.callIdsOverlapping(data.siteIds[5]!, from, to);
        await sql`SELECT pg_stat_force_next_flush()`.execute(trx);
        return got;
      });
      let after = await scans();
      for (let i = 0; i < 50 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await scans();
      }
      assert.ok(after > before, `idx_scan of call_site_window_idx: ${before} -> ${after}`);
      const mine = await repos.calls.listForSiteWindow(data.siteIds[5]!, from, to);
      assert.ok(mine.length > 10);
      assert.deepEqual(ids, mine.map((c) => c.id));
    });

    test('random windows return exactly what the plain predicates select', async () => {
      let seed = 4;
      const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const span = data.to.getTime() - data.from.getTime();
      let segTotal = 0;
      let callTotal = 0;
      for (let i = 0; i < 40; i++) {
        const siteId = data.siteIds[Math.floor(rnd() * data.siteIds.length)]!;
        // Half the windows start on a whole second: generated call times are whole seconds, so edges coincide.
        const start = data.from.getTime() - HOUR + Math.floor(rnd() * (span + HOUR));
        const from = new Date(i % 2 ? Math.floor(start / 1000) * 1000 : start);
        const to = new Date(from.getTime() + (i % 5 === 0 ? 1000 : HOUR));
        const segs = await repos.segments.listForSiteWindow(siteId, from, to);
        const segWant = await sql<{ id: string }>`
          SELECT s.id FROM segment s JOIN camera c ON c.id = s.camera_id
          WHERE c.site_id = ${siteId} AND lower(s.span) < ${to} AND upper(s.span) > ${from} ORDER BY s.id`.execute(db);
        assert.deepEqual(segs.map((s) => s.id).sort(), segWant.rows.map((r) => String(r.id)).sort());
        const got = await repos.calls.listForSiteWindow(siteId, from, to);
        const want = await sql<{ id: string }>`SELECT id FROM call WHERE site_id = ${siteId} AND start_at < ${to} AND end_at > ${from}`.execute(db);
        assert.deepEqual(got.map((c) => c.id).sort(), want.rows.map((r) => r.id).sort());
        segTotal += segs.length;
        callTotal += got.length;
      }
      assert.ok(segTotal > 1000 && callTotal > 100, `windows found rows: ${segTotal} segments, ${callTotal} calls`);
    });
  });
});
