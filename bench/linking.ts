/**
 * The linking query (issue 4): "calls plus segments of all cameras of a site for a one-hour window", measured at
 * 10 million segment rows and 1 million calls, for random (site, window) pairs; prints p50/p95/p99/max with the table
 * sizes, the rows returned, EXPLAIN (ANALYZE, BUFFERS) of one pair and how long the data took to generate. Target:
 * p99 under 20 ms on the 2-core machine.
 *
 * The headline is the read the incident service uses when it files a case: linkingRepository.siteWindow (one SQL
 * statement: the overlapping call ids and every camera's segments [start, end, stored] and gaps as JSON), timed in
 * this process around the repository call (so Kysely, the driver, the transfer and the decoding are included), one
 * pair after the other. The reads are interleaved: each of --samples rounds (after --warmup rounds) runs every read
 * once, each on its own random pair, starting at a different read each round, so that all see the same cache state:
 *   - linking read (headline): linking.siteWindow;
 *   - filing's reads now: linking.siteWindow and the arrival of every camera (domain/incident.ts), in a transaction;
 *   - case views' read: linking.windows for the site's cameras over the window (one statement, as the detail and
 *     timeline views read a case's linked windows);
 *   - before (for comparison; main up to e6cfa88): the two full-record functions segments.listForSiteWindow +
 *     calls.listForSiteWindow, sequential and parallel; and filing's old reads (call ids, the camera list, then per
 *     camera listInRange + listGapsInRange: 22 queries for 10 cameras);
 *   - server-side only (EXPLAIN ANALYZE's planning + execution time, no rows sent) and without node-side decoding
 *     (the same SQL through a pg client that keeps every value as text), for the new read and the two old functions.
 *
 *   node --import tsx bench/linking.ts [--segments 10000000] [--calls 1000000] [--sites 100] [--cameras-per-site 10]
 *        [--samples 1000] [--warmup 200] [--window-minutes 60] [--seed 4] [--defer-exclusion] [--keep] [--db NAME [--drop]]
 *
 * It creates its own scratch database (dropped at the end unless --keep); --db NAME reruns the measurement against
 * a database kept by an earlier --keep run without generating anything (and keeps it, unless --drop). Needs
 * PostgreSQL from scripts/services.sh.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { createDb } from '../server/src/db/connect.ts';
import { migrateToLatest } from '../server/src/db/migrate.ts';
import { createRepositories } from '../server/src/repositories/index.ts';
import { CONTIGUITY_TOLERANCE_MS } from '../server/src/domain/hls.ts';
import { arrival } from '../server/src/domain/incident.ts';
import { footageArrival } from '../server/src/services/incident-support.ts';
import { createTestDatabase, TEST_ENV } from '../test-support/src/env.ts';
import { generateLinkingData } from '../test-support/src/linking-data.ts';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '10000000' },
    calls: { type: 'string', default: '1000000' },
    sites: { type: 'string', default: '100' },
    'cameras-per-site': { type: 'string', default: '10' },
    samples: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '200' },
    'window-minutes': { type: 'string', default: '60' },
    seed: { type: 'string', default: '4' },
    'defer-exclusion': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    db: { type: 'string' },
    drop: { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const SITES = int('sites');
const CAMS = int('cameras-per-site');
const SEGMENTS_PER_CAMERA = Math.ceil(int('segments') / (SITES * CAMS));
const CALLS = int('calls');
const SAMPLES = int('samples');
const WARMUP = int('warmup');
const WINDOW_MS = int('window-minutes') * 60_000;
const PREFIX = 'lk';
const START = new Date('2026-11-02T00:00:00Z');

/** mulberry32: reproducible (site, window) pairs. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Nearest-rank percentile. */
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (n: number) => Number(n.toFixed(2));
  return { p50: r(pct(s, 0.5)), p95: r(pct(s, 0.95)), p99: r(pct(s, 0.99)), max: r(s[s.length - 1]!), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
};
const counts = (xs: number[]) => ({ min: Math.min(...xs), mean: Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)), max: Math.max(...xs) });
const mib = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MiB`;
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

let database: { url: string; name: string; drop(): Promise<void> };
if (values.db) {
  const url = new URL(TEST_ENV.adminDatabaseUrl);
  url.pathname = `/${values.db}`;
  const name = values.db;
  database = {
    url: url.toString(),
    name,
    async drop() {
      const admin = createDb(TEST_ENV.adminDatabaseUrl, 1);
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin);
      await admin.destroy();
    },
  };
} else {
  database = await createTestDatabase('bench_linking');
}
log(`database ${database.name}`);
const db = createDb(database.url, 2);

let generation: Awaited<ReturnType<typeof generateLinkingData>> | undefined;
try {
  if (!values.db) {
    await migrateToLatest(db);
    const t0 = performance.now();
    generation = await generateLinkingData(db, {
      prefix: PREFIX,
      sites: SITES,
      camerasPerSite: CAMS,
      segmentsPerCamera: SEGMENTS_PER_CAMERA,
      calls: CALLS,
      start: START,
      deferExclusion: values['defer-exclusion'],
      log,
    });
    generation.timings.total = Math.round(performance.now() - t0);
    log(`generated in ${(generation.timings.total / 1000).toFixed(1)} s`);
  }

  const sites = (await db.selectFrom('site').select('id').where('code', 'like', `${PREFIX}-%`).orderBy('code').execute()).map((r) => r.id);
  const period = await sql<{ from: Date; to: Date }>`SELECT min(lower(span)) AS "from", max(upper(span)) AS "to" FROM segment`.execute(db);
  const from = period.rows[0]!.from.getTime();
  const to = period.rows[0]!.to.getTime();
  if (sites.length === 0 || to - from < WINDOW_MS) throw new Error('no data to measure (wrong --db?)');

  // Table sizes.
  const tables = ['segment', 'call', 'recording', 'camera', 'site'];
  const sizes: Record<string, { rows: number; totalBytes: number; heapBytes: number; indexBytes: number; toastAndMapsBytes: number; indexes: Record<string, number> }> = {};
  for (const t of tables) {
    const r = await sql<{ rows: string; total: string; heap: string; idx: string }>`
      SELECT (SELECT count(*) FROM ${sql.id(t)}) AS rows, pg_total_relation_size(${t}::regclass) AS total,
             pg_relation_size(${t}::regclass) AS heap, pg_indexes_size(${t}::regclass) AS idx`.execute(db);
    const ix = await sql<{ name: string; bytes: string }>`
      SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ${t}::regclass ORDER BY pg_relation_size(c.oid) DESC`.execute(db);
    const row = r.rows[0]!;
    sizes[t] = {
      rows: Number(row.rows),
      totalBytes: Number(row.total),
      heapBytes: Number(row.heap),
      indexBytes: Number(row.idx),
      toastAndMapsBytes: Number(row.total) - Number(row.heap) - Number(row.idx),
      indexes: Object.fromEntries(ix.rows.map((x) => [x.name, Number(x.bytes)])),
    };
  }

  const repos = createRepositories(db);
  const random = rng(Number(values.seed));
  const pair = () => {
    const siteId = sites[Math.floor(random() * sites.length)]!;
    const start = from + Math.floor(random() * ((to - from - WINDOW_MS) / 1000)) * 1000;
    return { siteId, from: new Date(start), to: new Date(start + WINDOW_MS) };
  };
  const blocks = async () => {
    const r = await sql<{ hit: string; read: string }>`SELECT blks_hit AS hit, blks_read AS read FROM pg_stat_database WHERE datname = current_database()`.execute(db);
    return { hit: Number(r.rows[0]!.hit), read: Number(r.rows[0]!.read) };
  };

  type Pair = ReturnType<typeof pair>;
  const timed = async (into: number[], fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    const r = await fn();
    into.push(performance.now() - t0);
    return r;
  };
  const camerasOf = new Map<string, string[]>();
  for (const c of await repos.cameras.listInSites('all')) camerasOf.set(c.siteId, [...(camerasOf.get(c.siteId) ?? []), c.id]);

  // The database's own share: planning + execution time as EXPLAIN ANALYZE reports it (no rows sent to the client).
  const executionMs = async (q: { compile(): CompiledQuery }) => {
    const c = q.compile();
    const r = await db.executeQuery<{ 'QUERY PLAN': [{ 'Execution Time': number; 'Planning Time': number }] }>(
      CompiledQuery.raw(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${c.sql}`, [...c.parameters]),
    );
    const plan = r.rows[0]!['QUERY PLAN'][0];
    return plan['Execution Time'] + plan['Planning Time'];
  };
  // The same SQL through a plain pg client whose type parsers keep the text: the node-side decoding left out.
  const rawClient = new pg.Client({ connectionString: database.url, types: { getTypeParser: () => (v: string) => v } });
  await rawClient.connect();
  const rawMs = async (q: { compile(): CompiledQuery }) => {
    const c = q.compile();
    const t0 = performance.now();
    await rawClient.query(c.sql, [...c.parameters]);
    return performance.now() - t0;
  };

  const m = {
    linking: [] as number[],
    filingNow: [] as number[],
    caseViews: [] as number[],
    seqSegments: [] as number[],
    seqCalls: [] as number[],
    seqTotal: [] as number[],
    parallel: [] as number[],
    filingBefore: [] as number[],
    serverLinking: [] as number[],
    serverSegments: [] as number[],
    serverCalls: [] as number[],
    rawLinking: [] as number[],
    rawSegments: [] as number[],
    rawCalls: [] as number[],
    rowsCameras: [] as number[],
    rowsSegments: [] as number[],
    rowsCalls: [] as number[],
  };
  const reads: ((p: Pair) => Promise<void>)[] = [
    // The headline: the one statement incident.service's file() reads (calls and every camera's footage).
    async (p) => {
      const l = (await timed(m.linking, () => repos.linking.siteWindow(p.siteId, p.from, p.to))) as Awaited<ReturnType<typeof repos.linking.siteWindow>>;
      m.rowsCameras.push(l.cameras.length);
      m.rowsSegments.push(l.cameras.reduce((k, c) => k + c.segments.length, 0));
      m.rowsCalls.push(l.callIds.length);
    },
    // What file() reads now (writes left out): in one transaction, the linking read, then each camera's arrival.
    async (p) => {
      await timed(m.filingNow, () =>
        db.transaction().execute(async (trx) => {
          const l = await createRepositories(trx).linking.siteWindow(p.siteId, p.from, p.to);
          for (const cam of l.cameras) footageArrival(cam, p.from, p.to, p.to);
        }),
      );
    },
    // The case views' read: every linked window of a case in one statement (here: the site's cameras over the window).
    async (p) => {
      const ws = camerasOf.get(p.siteId)!.map((cameraId) => ({ cameraId, start: p.from, end: p.to }));
      await timed(m.caseViews, () => repos.linking.windows(ws));
    },
    // Before: the two full-record functions one after the other (the first version of this bench).
    async (p) => {
      const t0 = performance.now();
      await timed(m.seqSegments, () => repos.segments.listForSiteWindow(p.siteId, p.from, p.to));
      await timed(m.seqCalls, () => repos.calls.listForSiteWindow(p.siteId, p.from, p.to));
      m.seqTotal.push(performance.now() - t0);
    },
    // Before: the same two at once on the pool's two connections.
    async (p) => {
      await timed(m.parallel, () => Promise.all([repos.segments.listForSiteWindow(p.siteId, p.from, p.to), repos.calls.listForSiteWindow(p.siteId, p.from, p.to)]));
    },
    // What file() read before (main up to e6cfa88), in one transaction as it did: the ids of the overlapping
    // calls, the site's cameras, then per camera its full segment records and gaps (the old windowFootage) and the
    // arrival: 22 queries for 10 cameras.
    async (p) => {
      await timed(m.filingBefore, () =>
        db.transaction().execute(async (trx) => {
          const r = createRepositories(trx);
          await r.incidents.callIdsOverlapping(p.siteId, p.from, p.to);
          for (const cam of await r.cameras.listInSites('all', p.siteId)) {
            const [segs, gaps] = await Promise.all([r.segments.listInRange(cam.id, p.from, p.to, 200_000), r.segments.listGapsInRange(cam.id, p.from, p.to)]);
            arrival({
              window: { start: p.from.getTime(), end: p.to.getTime() },
              segments: segs.map((x) => ({ start: x.start.getTime(), end: x.end.getTime(), stored: x.objectKey !== null })),
              gaps: gaps.map((g) => ({ start: g.start.getTime(), end: g.end.getTime() })),
              now: p.to.getTime(),
              toleranceMs: CONTIGUITY_TOLERANCE_MS,
            });
          }
        }),
      );
    },
    async (p) => void m.serverLinking.push(await executionMs(repos.linking.siteWindowQuery(p.siteId, p.from, p.to))),
    async (p) => {
      m.serverSegments.push(await executionMs(repos.segments.siteWindowQuery(p.siteId, p.from, p.to)));
      m.serverCalls.push(await executionMs(repos.calls.siteWindowQuery(p.siteId, p.from, p.to)));
    },
    async (p) => void m.rawLinking.push(await rawMs(repos.linking.siteWindowQuery(p.siteId, p.from, p.to))),
    async (p) => {
      m.rawSegments.push(await rawMs(repos.segments.siteWindowQuery(p.siteId, p.from, p.to)));
      m.rawCalls.push(await rawMs(repos.calls.siteWindowQuery(p.siteId, p.from, p.to)));
    },
  ];
  // Interleaved: round i runs every read once, each on its own random pair, starting at read i mod n, so that all
  // reads see the same cache and machine conditions over the run (the data is larger than the page cache).
  async function rounds(n: number) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < reads.length; j++) await reads[(i + j) % reads.length]!(pair());
    }
  }
  const pageCacheGiB = () => Number((Number(/^Cached:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 ** 2).toFixed(1));

  log(`warm-up: ${WARMUP} rounds`);
  await rounds(WARMUP);
  for (const xs of Object.values(m)) xs.length = 0;
  log(`measuring: ${SAMPLES} rounds of ${reads.length} reads, interleaved, each read on its own random (site, window) pair`);
  const load0 = os.loadavg();
  const cache0 = pageCacheGiB();
  const b0 = await blocks();
  await rounds(SAMPLES);
  const b1 = await blocks();
  const load1 = os.loadavg();
  await rawClient.end();

  // EXPLAIN (ANALYZE, BUFFERS) of one more random pair, both halves.
  const p = pair();
  const explain = async (q: { compile(): CompiledQuery }) => {
    const c = q.compile();
    const r = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS) ${c.sql}`, [...c.parameters]));
    return r.rows.map((x) => x['QUERY PLAN']).join('\n');
  };
  const explainLinking = await explain(repos.linking.siteWindowQuery(p.siteId, p.from, p.to));
  const explainSegments = await explain(repos.segments.siteWindowQuery(p.siteId, p.from, p.to));
  const explainCalls = await explain(repos.calls.siteWindowQuery(p.siteId, p.from, p.to));

  const settings = await sql<{ name: string; setting: string; unit: string | null }>`
    SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit', 'server_version')`.execute(db);

  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`,
    postgres: Object.fromEntries(settings.rows.map((s) => [s.name, s.unit ? `${s.setting} x ${s.unit}` : s.setting])),
    data: { sites: sites.length, camerasPerSite: CAMS, segmentsPerCamera: SEGMENTS_PER_CAMERA, period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() }, windowMinutes: WINDOW_MS / 60_000 },
    generation: generation ? { ms: generation.timings, deferExclusion: values['defer-exclusion'] } : 'reused database (--db)',
    sizes,
    samples: SAMPLES,
    warmup: WARMUP,
    linkingReadMs: { total: stats(m.linking) },
    filingReadsNowMs: { total: stats(m.filingNow) },
    caseViewsWindowsReadMs: { total: stats(m.caseViews) },
    before: {
      sequentialMs: { segments: stats(m.seqSegments), calls: stats(m.seqCalls), total: stats(m.seqTotal) },
      parallelMs: { total: stats(m.parallel) },
      filingReadsMs: { total: stats(m.filingBefore) },
    },
    serverExecutionMs: { linking: stats(m.serverLinking), segments: stats(m.serverSegments), calls: stats(m.serverCalls) },
    withoutNodeDecodingMs: { linking: stats(m.rawLinking), segments: stats(m.rawSegments), calls: stats(m.rawCalls) },
    loadAverage1m: { beforeSamples: Number(load0[0]!.toFixed(2)), afterSamples: Number(load1[0]!.toFixed(2)) },
    osPageCacheGiB: cache0,
    rowsReturned: { cameras: counts(m.rowsCameras), segments: counts(m.rowsSegments), calls: counts(m.rowsCalls) },
    sharedBuffersDuringMeasurement: { hit: b1.hit - b0.hit, read: b1.read - b0.read, hitRatio: Number(((b1.hit - b0.hit) / Math.max(1, b1.hit - b0.hit + b1.read - b0.read)).toFixed(4)) },
    target: { p99UnderMs: 20, measure: 'linking read (headline)', met: stats(m.linking).p99 < 20 },
  };

  console.log('\n== sizes');
  for (const [t, s] of Object.entries(sizes)) {
    console.log(`${t}: ${s.rows.toLocaleString('en')} rows, total ${mib(s.totalBytes)} = heap ${mib(s.heapBytes)} + indexes ${mib(s.indexBytes)} + toast/maps ${mib(s.toastAndMapsBytes)}`);
    for (const [name, bytes] of Object.entries(s.indexes)) console.log(`    ${name}: ${mib(bytes)}`);
  }
  console.log(`\n== EXPLAIN (ANALYZE, BUFFERS) linking read, site ${p.siteId}, ${p.from.toISOString()} .. ${p.to.toISOString()}\n${explainLinking}`);
  console.log(`\n== EXPLAIN (ANALYZE, BUFFERS) before: segments, same pair\n${explainSegments}`);
  console.log(`\n== EXPLAIN (ANALYZE, BUFFERS) before: calls, same pair\n${explainCalls}`);
  console.log('\n== result');
  console.log(JSON.stringify(result, null, 2));
} finally {
  await db.destroy();
  if (values.keep || (values.db && !values.drop)) log(`kept database ${database.name}; rerun with --db ${database.name} (add --drop to drop it)`);
  else {
    await database.drop();
    log(`dropped database ${database.name}`);
  }
}
