/**
 * Ingest throughput through the centre against a plain S3 PUT of the same bytes, and the server's memory during a
 * large upload. Both measured in this run, on this machine, against the same S3 backend.
 *   node --import tsx bench/ingest.ts [--mb 256] [--big-mb 1024] [--runs 3]
 * Needs the services of scripts/services.sh.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createS3Store } from '../server/src/adapters/object-store.ts';
import { createDb } from '../server/src/db/connect.ts';
import { migrateToLatest } from '../server/src/db/migrate.ts';
import { buildServices } from '../server/src/app.ts';
import { systemClock } from '../server/src/adapters/clock.ts';
import { loadAuthSettings } from '../server/src/config.ts';
import { createTestDatabase, TEST_ENV, uniqueName } from '../test-support/src/env.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '256' }, 'big-mb': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const MB = Number(values.mb);
const BIG_MB = Number(values['big-mb']);
const RUNS = Number(values.runs);

async function makeFile(file: string, mb: number): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  const out = createWriteStream(file);
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    chunk.writeUInt32LE(i, 0); // distinct chunks
    h.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return { sha256: h.digest('hex'), size: mb * 1024 * 1024 };
}

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-bench-'));
const database = await createTestDatabase('bench');
const db = createDb(database.url, 2);
await migrateToLatest(db);
const bucket = uniqueName('bench').toLowerCase().replaceAll('_', '-');
const store = createS3Store({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket, region: 'us-east-1' });
await store.ensureBucket();
const services = buildServices({ db, redis: undefined as never, jobs: undefined as never, store, clock: systemClock, auth: loadAuthSettings({}), mediaSecret: 'x'.repeat(40), mediaTtlSeconds: 60, maxSegmentBytes: 4 * 1024 ** 3, maxRecordingBytes: 1 });
const site = await services.repos.sites.create({ code: uniqueName('b').toLowerCase().replaceAll('_', '-'), name: 'bench', timezone: 'Asia/Tokyo' });
const { token } = await services.agentAuth.issueEnrollmentToken(site.code, 3600, 'bench');
const { credential } = await services.agentAuth.enroll(token, 'bench', 'bench');

const port = Number(process.env.BENCH_PORT ?? 18000 + Math.floor(Math.random() * 1000));
const server = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
  env: {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_ENV.redisUrl,
    S3_ENDPOINT: TEST_ENV.s3Endpoint,
    S3_ACCESS_KEY: TEST_ENV.s3AccessKey,
    S3_SECRET_KEY: TEST_ENV.s3SecretKey,
    S3_BUCKET: bucket,
    PORT: String(port),
    ADMIN_TOKEN: 'a'.repeat(32),
    MEDIA_LINK_SECRET: 'm'.repeat(40),
    MAX_SEGMENT_BYTES: String(4 * 1024 ** 3),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  server.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
  server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const base = `http://127.0.0.1:${port}`;
const rssAtStart = rssMb(server.pid!);
const auth = { authorization: `Bearer ${credential}` };
await fetch(`${base}/api/v1/agent/cameras/bench`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });

let minute = 0;
async function viaServer(file: string, meta: { sha256: string; size: number }) {
  const start = new Date(Date.UTC(2026, 0, 1, 0, minute++)).toISOString();
  const t0 = performance.now();
  const r = await fetch(`${base}/api/v1/agent/segments/bench/${start}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'video/mp2t', 'content-length': String(meta.size), 'x-segment-sha256': meta.sha256, 'x-segment-size': String(meta.size), 'x-segment-duration-ms': '60000' },
    body: Readable.toWeb(createReadStream(file, { highWaterMark: 1024 * 1024 })) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (r.status !== 201) throw new Error(`server upload ${r.status} ${await r.text()}`);
  return performance.now() - t0;
}
async function viaS3(file: string, meta: { size: number }) {
  const t0 = performance.now();
  await store.put(`baseline/${uniqueName('o')}`, createReadStream(file, { highWaterMark: 1024 * 1024 }), meta.size);
  return performance.now() - t0;
}

const file = path.join(tmp, 'seg.bin');
const meta = await makeFile(file, MB);
await viaS3(file, meta); // warm-up
const s3Times: number[] = [];
const srvTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  s3Times.push(await viaS3(file, meta));
  srvTimes.push(await viaServer(file, meta));
}
const s3MBs = MB / (median(s3Times) / 1000);
const srvMBs = MB / (median(srvTimes) / 1000);

// Memory: sample the server's RSS while it ingests one large body.
const big = path.join(tmp, 'big.bin');
const bigMeta = await makeFile(big, BIG_MB);
await fs.rm(file);
const rssBefore = rssMb(server.pid!);
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(server.pid!))), 50);
const bigMs = await viaServer(big, bigMeta);
clearInterval(sampler);

const result = {
  machine: `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`,
  // radosgw (scripts/rgw.sh) by default; TEST_S3_ENDPOINT/KEYS point it at s3rver or MinIO.
  backend: `${TEST_ENV.s3Endpoint}, ${(await store.capabilities()).objectLock ? 'with object lock (radosgw, scripts/rgw.sh)' : 'no object lock (s3rver)'}`,
  bodyMB: MB,
  runs: RUNS,
  plainS3PutMBps: Number(s3MBs.toFixed(1)),
  serverIngestMBps: Number(srvMBs.toFixed(1)),
  ratio: Number((srvMBs / s3MBs).toFixed(2)),
  bigUploadMB: BIG_MB,
  bigUploadMBps: Number((BIG_MB / (bigMs / 1000)).toFixed(1)),
  serverRssAtStartMB: Math.round(rssAtStart),
  serverRssBeforeBigMB: Math.round(rssBefore),
  serverRssPeakMB: Math.round(rssPeak),
  serverRssGrowthDuringBigMB: Math.round(rssPeak - rssBefore),
  serverRssGrowthSinceStartMB: Math.round(rssPeak - rssAtStart),
};
console.log(JSON.stringify(result, null, 2));

server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
for await (const o of store.list('')) await store.remove(o.key);
await db.destroy();
await database.drop();
await fs.rm(tmp, { recursive: true, force: true });
