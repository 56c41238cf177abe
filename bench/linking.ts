/**
 * The linking query (issue 4): "calls plus segments of all cameras of a site for a one-hour window", measured at
 * 10 million segment rows and 1 million calls. It runs the two repository functions the incident service calls
 * when a case is filed (segmentRepository.listForSiteWindow, callRepository.listForSiteWindow) for random
 * (site, window) pairs and prints p50/p95/p99/max with the table sizes, the row counts returned, EXPLAIN (ANALYZE,
 * BUFFERS) of one pair and how long the data took to generate. Target: p99 under 20 ms on the 2-core machine.
 * Passes, each over its own random pairs after a warm-up: sequential (the two queries one after the other, as a case
 * filing waits for them: the headline figure), parallel (both at once on two pooled connections), the incident
 * service's own reads when it files a case today (calls by id, then per camera segments and gaps), server-side only
 * (EXPLAIN ANALYZE's planning + execution time, no rows sent) and without node-side decoding (the same SQL through
 * a pg client that keeps every value as text), so that database time and client time can be told apart.
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
import { windowFootage } from '../server/src/services/incident-support.ts';
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

  // Sequential: the service's two queries one after the other (what a case filing waits for).
  async function sequentialPass(n: number) {
    const seg: number[] = [], call: number[] = [], total: number[] = [], segRows: number[] = [], callRows: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pair();
      const t0 = performance.now();
      const s = await repos.segments.listForSiteWindow(p.siteId, p.from, p.to);
      const t1 = performance.now();
      const c = await repos.calls.listForSiteWindow(p.siteId, p.from, p.to);
      const t2 = performance.now();
      seg.push(t1 - t0);
      call.push(t2 - t1);
      total.push(t2 - t0);
      segRows.push(s.length);
      callRows.push(c.length);
    }
    return { seg, call, total, segRows, callRows };
  }
  // Parallel: both queries at once on the pool's two connections.
  async function parallelPass(n: number) {
    const total: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pair();
      const t0 = performance.now();
      await Promise.all([repos.segments.listForSiteWindow(p.siteId, p.from, p.to), repos.calls.listForSiteWindow(p.siteId, p.from, p.to)]);
      total.push(performance.now() - t0);
    }
    return total;
  }

  // What incident.service's file() reads today (main, 2026-11-23), in one transaction as it does: the ids of the
  // overlapping calls, the site's cameras, then per camera its segments and gaps (windowFootage). Writes left out.
  async function servicePass(n: number) {
    const total: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pair();
      const t0 = performance.now();
      await db.transaction().execute(async (trx) => {
        const r = createRepositories(trx);
        await r.incidents.callIdsOverlapping(p.siteId, p.from, p.to);
        for (const cam of await r.cameras.listInSites('all', p.siteId)) await windowFootage(r.segments, cam.id, p.from, p.to, p.to);
      });
      total.push(performance.now() - t0);
    }
    return total;
  }

  // The database's own share: execution time as EXPLAIN ANALYZE reports it (no rows sent to the client).
  const executionMs = async (q: { compile(): CompiledQuery }) => {
    const c = q.compile();
    const r = await db.executeQuery<{ 'QUERY PLAN': [{ 'Execution Time': number; 'Planning Time': number }] }>(
      CompiledQuery.raw(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${c.sql}`, [...c.parameters]),
    );
    const plan = r.rows[0]!['QUERY PLAN'][0];
    return plan['Execution Time'] + plan['Planning Time'];
  };
  async function serverPass(n: number) {
    const seg: number[] = [], call: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pair();
      seg.push(await executionMs(repos.segments.siteWindowQuery(p.siteId, p.from, p.to)));
      call.push(await executionMs(repos.calls.siteWindowQuery(p.siteId, p.from, p.to)));
    }
    return { seg, call };
  }

  // The same SQL through a plain pg client whose type parsers keep the text: the node-side decoding left out.
  const rawClient = new pg.Client({ connectionString: database.url, types: { getTypeParser: () => (v: string) => v } });
  await rawClient.connect();
  async function rawPass(n: number) {
    const seg: number[] = [], call: number[] = [];
    const run = async (q: { compile(): CompiledQuery }, into: number[]) => {
      const c = q.compile();
      const t0 = performance.now();
      await rawClient.query(c.sql, [...c.parameters]);
      into.push(performance.now() - t0);
    };
    for (let i = 0; i < n; i++) {
      const p = pair();
      await run(repos.segments.siteWindowQuery(p.siteId, p.from, p.to), seg);
      await run(repos.calls.siteWindowQuery(p.siteId, p.from, p.to), call);
    }
    return { seg, call };
  }
  const pageCacheGiB = () => Number((Number(/^Cached:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 ** 2).toFixed(1));

  log(`warm-up: ${WARMUP} pairs`);
  await sequentialPass(WARMUP);
  log(`measuring: ${SAMPLES} pairs each: sequential, parallel, incident service shape, server-side only, without node-side decoding`);
  const load0 = os.loadavg();
  const cache0 = pageCacheGiB();
  const b0 = await blocks();
  const seq = await sequentialPass(SAMPLES);
  const b1 = await blocks();
  const par = await parallelPass(SAMPLES);
  const svc = await servicePass(SAMPLES);
  const srv = await serverPass(SAMPLES);
  const rawRows = await rawPass(SAMPLES);
  await rawClient.end();
  const load1 = os.loadavg();

  // EXPLAIN (ANALYZE, BUFFERS) of one more random pair, both halves.
  const p = pair();
  const explain = async (q: { compile(): CompiledQuery }) => {
    const c = q.compile();
    const r = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS) ${c.sql}`, [...c.parameters]));
    return r.rows.map((x) => x['QUERY PLAN']).join('\n');
  };
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
    sequentialMs: { segments: stats(seq.seg), calls: stats(seq.call), total: stats(seq.total) },
    parallelMs: { total: stats(par) },
    incidentServiceShapeMs: { total: stats(svc) },
    serverExecutionMs: { segments: stats(srv.seg), calls: stats(srv.call) },
    rowsWithoutNodeDecodingMs: { segments: stats(rawRows.seg), calls: stats(rawRows.call) },
    loadAverage1m: { beforeSamples: Number(load0[0]!.toFixed(2)), afterSamples: Number(load1[0]!.toFixed(2)) },
    osPageCacheGiB: cache0,
    rowsReturned: { segments: counts(seq.segRows), calls: counts(seq.callRows) },
    sharedBuffersDuringSequentialPass: { hit: b1.hit - b0.hit, read: b1.read - b0.read, hitRatio: Number(((b1.hit - b0.hit) / Math.max(1, b1.hit - b0.hit + b1.read - b0.read)).toFixed(4)) },
    target: { p99UnderMs: 20, met: stats(seq.total).p99 < 20 },
  };

  console.log('\n== sizes');
  for (const [t, s] of Object.entries(sizes)) {
    console.log(`${t}: ${s.rows.toLocaleString('en')} rows, total ${mib(s.totalBytes)} = heap ${mib(s.heapBytes)} + indexes ${mib(s.indexBytes)} + toast/maps ${mib(s.toastAndMapsBytes)}`);
    for (const [name, bytes] of Object.entries(s.indexes)) console.log(`    ${name}: ${mib(bytes)}`);
  }
  console.log(`\n== EXPLAIN (ANALYZE, BUFFERS) segments, site ${p.siteId}, ${p.from.toISOString()} .. ${p.to.toISOString()}\n${explainSegments}`);
  console.log(`\n== EXPLAIN (ANALYZE, BUFFERS) calls, same pair\n${explainCalls}`);
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
