/**
 * The linking read the incident services use (repositories/linking.repository.ts) against real PostgreSQL: the
 * site's calls and every camera's segments and gaps for a window in one statement, exactly at the window's edges,
 * never another site's, metadata-only rows of on-demand cameras, zero-length calls; the per-window variant of the
 * timeline; the same arrival as the per-camera full-record reads; and index use at volume.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { createDb, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { payloadDigest } from '../src/domain/call-payload.ts';
import { CONTIGUITY_TOLERANCE_MS } from '../src/domain/hls.ts';
import { arrival } from '../src/domain/incident.ts';
import { createRepositories, type Repositories } from '../src/repositories/index.ts';
import { footageArrival } from '../src/services/incident-support.ts';
import { createTestDatabase } from '../../test-support/src/env.ts';
import { generateLinkingData, type LinkingData } from '../../test-support/src/linking-data.ts';
import { windowCallPayload } from './helpers/calls.ts';
import { segmentRow } from './helpers/segment-rows.ts';

const T = Date.parse('2026-11-20T10:00:00Z'); // window [T, T + 1 h)
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(T + ms);
const W = { from: at(0), to: at(HOUR) };
const NO_SITE = '00000000-0000-4000-8000-000000000000';

describe('linking read: calls and every camera’s footage of a site for a window, one statement', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  /** The definition of "a call overlaps [from, to)", as plain predicates (no range, no index), oldest first. */
  const callIdsByPredicate = async (siteId: string, from: Date, to: Date) =>
    (await sql<{ id: string }>`SELECT id FROM call WHERE site_id = ${siteId} AND start_at < ${to} AND end_at > ${from} ORDER BY start_at, id`.execute(db)).rows.map((r) => r.id);
  let db: Db;
  let repos: Repositories;
  let siteA: string;
  let siteB: string;
  let siteEmpty: string;
  const cams: Record<string, string> = {};
  /** Named segments: camera, [start, end) relative to T, and whether the media is at the centre. */
  const segs: Record<string, { camera: string; start: number; end: number; stored: boolean; id?: string }> = {
    endsAtFrom: { camera: 'a1', start: -MIN, end: 0, stored: true },
    startsAtFrom: { camera: 'a1', start: 0, end: MIN, stored: true },
    middle: { camera: 'a1', start: 30 * MIN, end: 31 * MIN, stored: false },
    endsAtTo: { camera: 'a1', start: HOUR - MIN, end: HOUR, stored: true },
    startsAtTo: { camera: 'a1', start: HOUR, end: HOUR + MIN, stored: true },
    straddlesFrom: { camera: 'a2', start: -30_000, end: 30_000, stored: true },
    straddlesTo: { camera: 'a2', start: HOUR - 30_000, end: HOUR + 30_000, stored: true },
    endsOneMsIn: { camera: 'a4', start: -MIN, end: 1, stored: true },
    oneMsBefore: { camera: 'a5', start: -MIN, end: -1, stored: true },
    coversWindow: { camera: 'a3', start: -HOUR, end: 2 * HOUR, stored: true },
    longAfter: { camera: 'a4', start: 5 * HOUR, end: 5 * HOUR + MIN, stored: true },
    // The on-demand camera: metadata-only rows (media still at the store).
    odFirst: { camera: 'od', start: 10 * MIN, end: 11 * MIN, stored: false },
    odSecond: { camera: 'od', start: 11 * MIN, end: 12 * MIN, stored: false },
    otherSiteInside: { camera: 'b1', start: 10 * MIN, end: 11 * MIN, stored: true },
  };
  /** Named gaps: camera, [start, end) relative to T. */
  const gaps: Record<string, { camera: string; start: number; end: number; reason: 'camera_offline' | 'evicted'; detail: string | null; id?: string }> = {
    gapEndsAtFrom: { camera: 'a2', start: -10 * MIN, end: -30_000, reason: 'camera_offline', detail: null },
    gapInside: { camera: 'a2', start: 40 * MIN, end: 45 * MIN, reason: 'camera_offline', detail: 'rtsp timeout' },
    gapStraddlesTo: { camera: 'a4', start: HOUR - MIN, end: HOUR + MIN, reason: 'evicted', detail: null },
    gapStartsAtTo: { camera: 'a1', start: HOUR, end: HOUR + MIN, reason: 'camera_offline', detail: null },
    gapOtherSite: { camera: 'b1', start: 0, end: MIN, reason: 'camera_offline', detail: null },
  };
  /** Named calls: site, [start, end] relative to T. */
  const calls: Record<string, { site: 'A' | 'B'; start: number; end: number; id?: string }> = {
    endsAtFrom: { site: 'A', start: -10 * MIN, end: 0 },
    startsAtTo: { site: 'A', start: HOUR, end: HOUR + 5 * MIN },
    startsAtFrom: { site: 'A', start: 0, end: MIN },
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
  const callIn = ['longHeld', 'oneMsIn', 'straddlesFrom', 'startsAtFrom', 'zeroInside', 'straddlesTo', 'endsAtTo', 'lastMs']; // oldest first

  const segName = (cam: string, s: { start: number; end: number }) =>
    Object.entries(segs).find(([, x]) => cams[x.camera] === cam && T + x.start === s.start && T + x.end === s.end)?.[0] ?? `?${s.start}`;

  before(async () => {
    database = await createTestDatabase('linking_read');
    db = createDb(database.url, 2);
    await migrateToLatest(db);
    repos = createRepositories(db);
    siteA = (await repos.sites.create({ code: 'read-a', name: 'A', timezone: 'Asia/Tokyo' })).id;
    siteB = (await repos.sites.create({ code: 'read-b', name: 'B', timezone: 'Asia/Tokyo' })).id;
    siteEmpty = (await repos.sites.create({ code: 'read-empty', name: 'E', timezone: 'Asia/Tokyo' })).id;
    // Created out of key order, to see the read order them by key.
    for (const [key, site, mode] of [['a3', siteA, 'continuous'], ['od', siteA, 'on-demand'], ['a1', siteA, 'continuous'], ['a5', siteA, 'continuous'], ['a2', siteA, 'continuous'], ['a4', siteA, 'continuous'], ['a6', siteA, 'continuous'], ['b1', siteB, 'continuous']] as const) {
      cams[key] = (await repos.cameras.upsert({ siteId: site, key, name: key, place: null, uploadMode: mode, device: {}, health: 'ok' })).id;
    }
    let n = 0;
    for (const s of Object.values(segs)) {
      const row = await repos.segments.insert(segmentRow(cams[s.camera]!, at(s.start), at(s.end), ++n, s.stored));
      assert.ok(row, 'segment inserted');
      s.id = row.id;
    }
    for (const g of Object.values(gaps)) {
      const r = await repos.segments.insertGap({ cameraId: cams[g.camera]!, start: at(g.start), end: at(g.end), reason: g.reason, detail: g.detail });
      assert.ok(r.created);
      g.id = r.gap.id;
    }
    for (const [name, c] of Object.entries(calls)) {
      const payload = windowCallPayload(`read.${name}`, at(c.start), at(c.end));
      const r = await repos.calls.saveVersion({ siteId: c.site === 'A' ? siteA : siteB, agentId: null, callKey: `main-pbx:read.${name}`, version: 1, payload, digest: payloadDigest(payload), now: new Date() });
      assert.equal(r.status, 'created');
      c.id = r.callId;
    }
  });

  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  test('siteWindow: every camera of the site by key, each with exactly its segments at the window edges', async () => {
    const got = await repos.linking.siteWindow(siteA, W.from, W.to);
    assert.deepEqual(
      got.cameras.map((c) => c.key),
      ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'od'],
    );
    const byKey = Object.fromEntries(got.cameras.map((c) => [c.key, c]));
    const names = (key: string) => byKey[key]!.segments.map((s) => segName(cams[key]!, s));
    // Oldest first; a segment ending exactly at `from` or starting exactly at `to` is out.
    assert.deepEqual(names('a1'), ['startsAtFrom', 'middle', 'endsAtTo']);
    assert.deepEqual(names('a2'), ['straddlesFrom', 'straddlesTo']);
    assert.deepEqual(names('a3'), ['coversWindow']);
    assert.deepEqual(names('a4'), ['endsOneMsIn']); // ends 1 ms after `from`: in
    assert.deepEqual(names('a5'), []); // ends 1 ms before `from`: out
    assert.deepEqual(names('a6'), []); // a camera with no rows at all is still listed
    // Each segment keeps its own bounds (not clipped) and whether its media is at the centre.
    assert.deepEqual(byKey.a2!.segments[0], { start: T - 30_000, end: T + 30_000, stored: true, deleted: false });
    assert.deepEqual(byKey.a1!.segments[1], { start: T + 30 * MIN, end: T + 31 * MIN, stored: false, deleted: false });
    assert.deepEqual(byKey.a3!.segments[0], { start: T - HOUR, end: T + 2 * HOUR, stored: true, deleted: false });
    assert.ok(got.cameras.every((c) => c.id === cams[c.key]));
    assert.equal(byKey.a1!.uploadMode, 'continuous');
  });

  test('siteWindow: on-demand camera with metadata-only rows', async () => {
    const od = (await repos.linking.siteWindow(siteA, W.from, W.to)).cameras.find((c) => c.key === 'od')!;
    assert.equal(od.uploadMode, 'on-demand');
    assert.deepEqual(od.segments, [
      { start: T + 10 * MIN, end: T + 11 * MIN, stored: false, deleted: false },
      { start: T + 11 * MIN, end: T + 12 * MIN, stored: false, deleted: false },
    ]);
    const a = footageArrival(od, W.from, W.to, at(2 * HOUR)).arrival;
    assert.equal(a.metadataOnlyCount, 2);
    assert.equal(a.metadataOnlyMs, 2 * MIN);
    assert.equal(a.storedMs, 0);
    assert.equal(a.missingMs, HOUR - 2 * MIN);
  });

  test('siteWindow: gaps overlapping the window, full records, oldest first', async () => {
    const got = await repos.linking.siteWindow(siteA, W.from, W.to);
    const byKey = Object.fromEntries(got.cameras.map((c) => [c.key, c]));
    assert.deepEqual(byKey.a2!.gaps, [{ id: gaps.gapInside!.id, cameraId: cams.a2, start: at(40 * MIN), end: at(45 * MIN), reason: 'camera_offline', detail: 'rtsp timeout' }]);
    assert.deepEqual(byKey.a4!.gaps, [{ id: gaps.gapStraddlesTo!.id, cameraId: cams.a4, start: at(HOUR - MIN), end: at(HOUR + MIN), reason: 'evicted', detail: null }]);
    assert.deepEqual(byKey.a1!.gaps, []); // starts exactly at `to`
    // The same as the per-camera gap read.
    for (const c of got.cameras) assert.deepEqual(c.gaps, await repos.segments.listGapsInRange(c.id, W.from, W.to));
  });

  test('siteWindow: calls with start_at < to AND end_at > from, zero-length calls inside included, oldest first', async () => {
    const got = await repos.linking.siteWindow(siteA, W.from, W.to);
    const byId = new Map(Object.entries(calls).map(([name, c]) => [c.id!, name]));
    assert.deepEqual(got.callIds.map((id) => byId.get(id)), callIn);
    // Exactly the ids the plain predicates select (same set, same order).
    assert.deepEqual(got.callIds, await callIdsByPredicate(siteA, W.from, W.to));
    // A window around a zero-length call at its instant finds it; a window ending at it does not.
    const z = at(30 * MIN);
    assert.ok((await repos.linking.siteWindow(siteA, new Date(z.getTime() - 1), new Date(z.getTime() + 1))).callIds.includes(calls.zeroInside!.id!));
    assert.ok(!(await repos.linking.siteWindow(siteA, at(29 * MIN), z)).callIds.includes(calls.zeroInside!.id!));
  });

  test("siteWindow: another site sees only its own camera, calls and gaps; unknown or empty sites give empty lists", async () => {
    const b = await repos.linking.siteWindow(siteB, W.from, W.to);
    assert.deepEqual(b.callIds, [calls.otherSiteInside!.id]);
    assert.deepEqual(b.cameras.map((c) => c.key), ['b1']);
    assert.deepEqual(b.cameras[0]!.segments, [{ start: T + 10 * MIN, end: T + 11 * MIN, stored: true, deleted: false }]);
    assert.deepEqual(b.cameras[0]!.gaps.map((g) => g.id), [gaps.gapOtherSite!.id]);
    const a = await repos.linking.siteWindow(siteA, W.from, W.to);
    assert.ok(!a.callIds.includes(calls.otherSiteInside!.id!));
    assert.ok(!a.cameras.some((c) => c.id === cams.b1));
    assert.deepEqual(await repos.linking.siteWindow(siteEmpty, W.from, W.to), { callIds: [], cameras: [] });
    assert.deepEqual(await repos.linking.siteWindow(NO_SITE, W.from, W.to), { callIds: [], cameras: [] });
  });

  test('siteWindow: a one-millisecond window at the edge', async () => {
    const got = await repos.linking.siteWindow(siteA, at(-1), at(0));
    const names = got.cameras.flatMap((c) => c.segments.map((s) => segName(c.id, s))).sort();
    assert.deepEqual(names, ['coversWindow', 'endsAtFrom', 'endsOneMsIn', 'straddlesFrom']);
    const byId = new Map(Object.entries(calls).map(([name, c]) => [c.id!, name]));
    assert.deepEqual(got.callIds.map((id) => byId.get(id)), ['longHeld', 'oneMsIn', 'endsAtFrom', 'straddlesFrom']);
  });

  test('windows: per-camera windows of different spans, in the order given, the same rows as the per-camera reads', async () => {
    const ws = [
      { cameraId: cams.a2!, start: at(44 * MIN), end: at(2 * HOUR) },
      { cameraId: cams.a1!, start: at(0), end: at(HOUR + 1) },
      { cameraId: cams.od!, start: at(10 * MIN + 30_000), end: at(10 * MIN + 31_000) },
      { cameraId: cams.a1!, start: at(0), end: at(HOUR + 1) }, // the same window twice: two answers
      { cameraId: cams.b1!, start: at(-HOUR), end: at(HOUR) },
      { cameraId: cams.a6!, start: at(0), end: at(HOUR) },
    ];
    const got = await repos.linking.windows(ws);
    assert.equal(got.length, ws.length);
    assert.deepEqual(got[0]!.segments.map((s) => segName(cams.a2!, s)), ['straddlesTo']);
    assert.deepEqual(got[0]!.gaps.map((g) => g.id), [gaps.gapInside!.id]);
    assert.deepEqual(got[1]!.segments.map((s) => segName(cams.a1!, s)), ['startsAtFrom', 'middle', 'endsAtTo', 'startsAtTo']);
    assert.deepEqual(got[1]!.gaps.map((g) => g.id), [gaps.gapStartsAtTo!.id]);
    assert.deepEqual(got[2]!.segments, [{ start: T + 10 * MIN, end: T + 11 * MIN, stored: false, deleted: false }]);
    assert.deepEqual(got[3], got[1]);
    assert.deepEqual(got[4]!.segments.map((s) => segName(cams.b1!, s)), ['otherSiteInside']);
    assert.deepEqual(got[5], { segments: [], gaps: [] });
    for (const [i, w] of ws.entries()) {
      const full = await repos.segments.listInRange(w.cameraId, w.start, w.end);
      assert.deepEqual(got[i]!.segments, full.map((s) => ({ start: s.start.getTime(), end: s.end.getTime(), stored: s.objectKey !== null, deleted: s.deletedAt !== null })));
      assert.deepEqual(got[i]!.gaps, await repos.segments.listGapsInRange(w.cameraId, w.start, w.end));
    }
    assert.deepEqual(await repos.linking.windows([]), []);
  });

  test('microsecond bounds are truncated to the millisecond, as the pg driver truncates them into a Date', async () => {
    const cam = (await repos.cameras.upsert({ siteId: siteEmpty, key: 'us', name: 'us', place: null, uploadMode: 'continuous', device: {}, health: 'ok' })).id;
    await sql`INSERT INTO segment (camera_id, span, duration_ms, byte_size, sha256, media_type, object_key)
              VALUES (${cam}, tstzrange('2026-11-20 10:00:00.000999+00', '2026-11-20 10:01:00.001500+00', '[)'), 60000, 1, ${Buffer.alloc(32, 99)}, 'video/mp2t', NULL)`.execute(db);
    const got = (await repos.linking.siteWindow(siteEmpty, W.from, W.to)).cameras.find((c) => c.id === cam)!;
    const full = await repos.segments.listInRange(cam, W.from, W.to);
    assert.deepEqual(got.segments, [{ start: full[0]!.start.getTime(), end: full[0]!.end.getTime(), stored: false, deleted: false }]);
    assert.deepEqual(got.segments[0], { start: T, end: T + MIN + 1, stored: false, deleted: false });
  });

  test('a window must have from < to', async () => {
    for (const [f, t] of [[W.to, W.from], [W.from, W.from], [new Date(Number.NaN), W.to]] as const) {
      assert.throws(() => repos.linking.siteWindowQuery(siteA, f, t), RangeError);
      await assert.rejects(repos.linking.siteWindow(siteA, f, t), RangeError);
      await assert.rejects(repos.linking.windows([{ cameraId: cams.a1!, start: W.from, end: W.to }, { cameraId: cams.a1!, start: f, end: t }]), RangeError);
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
      // A few gaps, so that the gap index has something to serve.
      await sql`INSERT INTO gap (camera_id, span, reason)
                SELECT c.id, tstzrange(${data.from}::timestamptz + g * interval '7 minutes', ${data.from}::timestamptz + g * interval '7 minutes' + interval '20 seconds', '[)'), 'camera_offline'
                FROM camera c CROSS JOIN generate_series(0, 50) AS g`.execute(db);
      // Some metadata-only rows among the continuous cameras' (media not uploaded yet).
      await sql`UPDATE segment SET object_key = NULL, stored_at = NULL WHERE id % 13 = 0`.execute(db);
      await sql`ANALYZE gap`.execute(db);
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

    test('indexes serve the one statement: segment_no_overlap, gap_camera_span_idx, call_site_window_idx', async () => {
      const from = new Date(data.from.getTime() + 3 * HOUR + 17_000);
      const to = new Date(from.getTime() + HOUR);
      const plan = await explain(repos.linking.siteWindowQuery(data.siteIds[3]!, from, to));
      for (const ix of ['segment_no_overlap', 'call_site_window_idx', 'gap_camera_span_idx']) assert.match(plan, new RegExp(ix), plan);
      assert.doesNotMatch(plan, /Seq Scan on (segment|call|gap)\b/, plan);
      const cams = await repos.cameras.listInSites('all', data.siteIds[3]!);
      const wplan = await explain(repos.linking.windowsQuery(cams.map((c, i) => ({ cameraId: c.id, start: new Date(from.getTime() + i * MIN), end: to }))));
      assert.match(wplan, /segment_no_overlap/, wplan);
      assert.match(wplan, /gap_camera_span_idx/, wplan);
      assert.doesNotMatch(wplan, /Seq Scan on (segment|gap)\b/, wplan);
    });

    test('random windows: the same calls, segments and arrival as the per-camera full-record reads', async () => {
      let seed = 7;
      const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const span = data.to.getTime() - data.from.getTime();
      let segTotal = 0;
      let callTotal = 0;
      let metaOnly = 0;
      for (let i = 0; i < 30; i++) {
        const siteId = data.siteIds[Math.floor(rnd() * data.siteIds.length)]!;
        const start = data.from.getTime() - HOUR + Math.floor(rnd() * (span + HOUR));
        const from = new Date(i % 2 ? Math.floor(start / 1000) * 1000 : start);
        const to = new Date(from.getTime() + (i % 5 === 0 ? 1000 : HOUR));
        const now = new Date(from.getTime() + 40 * MIN);
        const got = await repos.linking.siteWindow(siteId, from, to);
        assert.deepEqual(got.callIds, await callIdsByPredicate(siteId, from, to));
        const cams = await repos.cameras.listInSites('all', siteId);
        assert.deepEqual(got.cameras.map((c) => [c.id, c.key, c.uploadMode]), cams.map((c) => [c.id, c.key, c.uploadMode]));
        for (const c of got.cameras) {
          const full = await repos.segments.listInRange(c.id, from, to, 100_000);
          const fullGaps = await repos.segments.listGapsInRange(c.id, from, to);
          assert.deepEqual(c.segments, full.map((s) => ({ start: s.start.getTime(), end: s.end.getTime(), stored: s.objectKey !== null, deleted: s.deletedAt !== null })));
          assert.deepEqual(c.gaps, fullGaps);
          const old = arrival({
            window: { start: from.getTime(), end: to.getTime() },
            segments: full.map((s) => ({ start: s.start.getTime(), end: s.end.getTime(), stored: s.objectKey !== null, deleted: s.deletedAt !== null })),
            gaps: fullGaps.map((g) => ({ start: g.start.getTime(), end: g.end.getTime() })),
            now: now.getTime(),
            toleranceMs: CONTIGUITY_TOLERANCE_MS,
          });
          assert.deepEqual(footageArrival(c, from, to, now).arrival, old);
          segTotal += c.segments.length;
          metaOnly += old.metadataOnlyCount;
        }
        callTotal += got.callIds.length;
      }
      assert.ok(segTotal > 1000 && callTotal > 100 && metaOnly > 0, `windows found rows: ${segTotal} segments (${metaOnly} metadata-only), ${callTotal} calls`);
    });
  });
});
