/**
 * Ingest throughput through the centre against a plain S3 PUT of the same bytes, and the server's memory during a
 * large upload. Both measured in this run, on this machine, against the same S3 backend.
 * Beside the throughput it reports CPU-seconds per GiB: the centre's (its whole process, from /proc/<pid>/stat) for
 * the uploads through it, and the plain PUT's (this process, process.cpuUsage()) for the direct uploads. CPU per GiB
 * moves far less than MB/s when other work shares the machine.
 *   node --import tsx bench/ingest.ts [--mb 256] [--big-mb 1024] [--runs 3] [--profile DIR]
 * `--profile DIR`: the centre runs under `node --cpu-prof` and writes its profile into DIR when it stops.
 * Needs the services of scripts/services.sh.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createS3Store } from '../server/src/adapters/object-store.ts';
import { createDb } from '../server/src/db/connect.ts';
import { migrateToLatest } from '../server/src/db/migrate.ts';
import { buildServices } from '../server/src/app.ts';
import { systemClock } from '../server/src/adapters/clock.ts';
import { loadAuthSettings } from '../server/src/config.ts';
import { createTestDatabase, TEST_ENV, uniqueName } from '../test-support/src/env.ts';
import { createCentreClient } from '../edge-agent/src/uploader/centre-client.ts';
import { fileChunks } from '../edge-agent/src/uploader/uploader.ts';
import { TokenBucket } from '../edge-agent/src/uploader/token-bucket.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '256' }, 'big-mb': { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' }, profile: { type: 'string' } } });
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

/** CPU-seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
const CLK_TCK = 100;
const procCpuSec = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (14th, 15th)
};
/** CPU-seconds this process has used so far (every thread). */
const selfCpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const GiB = 1024 ** 3;

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
const profileDir = values.profile ? path.resolve(values.profile) : undefined;
if (profileDir) await fs.mkdir(profileDir, { recursive: true });
const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
const server = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/src/main.ts'], {
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

const agentClient = createCentreClient({ baseUrl: base, credential });
const unlimited = new TokenBucket(0);

// Footage times must be near the centre's clock (issue 12 item 2): the bench's segments are dated an hour ago.
let minute = 0;
const benchEpoch = Math.floor((Date.now() - 3600_000) / 60_000) * 60_000;
type Run = { ms: number; cpuSec: number; clientCpuSec: number };
async function viaServer(file: string, meta: { sha256: string; size: number }): Promise<Run> {
  const start = new Date(benchEpoch + 60_000 * minute++).toISOString();
  const cpu0 = procCpuSec(server.pid!);
  const self0 = selfCpuSec();
  const t0 = performance.now();
  // As the agent sends it: its own centre client, the file read through one reused 1 MiB buffer.
  const r = await agentClient.request({
    method: 'PUT',
    path: `/api/v1/agent/segments/bench/${start}`,
    headers: { 'x-segment-sha256': meta.sha256, 'x-segment-size': String(meta.size), 'x-segment-duration-ms': '60000' },
    body: { length: meta.size, contentType: 'video/mp2t', chunks: () => fileChunks(file, meta.size, unlimited, new AbortController().signal) },
    timeoutMs: 600_000,
  });
  if (r.status !== 201) throw new Error(`server upload ${r.status} ${JSON.stringify(r.body)}`);
  const ms = performance.now() - t0;
  return { ms, cpuSec: procCpuSec(server.pid!) - cpu0, clientCpuSec: selfCpuSec() - self0 };
}
/**
 * The plain PUT: the same bytes straight to S3 the way the centre stores them (one PUT signed with the body's SHA-256,
 * streamed; where the backend does not verify payload hashes, the centre and this baseline fall back to the minio
 * client's putObject). `minio`: the minio client's putObject (8 MiB parts, each hashed with MD5 and SHA-256 here).
 */
const s3Verifies = await store.verifiesPayloadHash();
async function viaS3(file: string, meta: { size: number; sha256: string }, how: 'plain' | 'minio' = 'plain'): Promise<Run> {
  const self0 = selfCpuSec();
  const t0 = performance.now();
  const body = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const key = `baseline/${uniqueName('o')}`;
  if (how === 'plain' && s3Verifies) await store.putSigned(key, body, meta.size, meta.sha256, { 'content-type': 'video/mp2t' });
  else await store.put(key, body, meta.size, { 'content-type': 'video/mp2t' });
  const ms = performance.now() - t0;
  const cpuSec = selfCpuSec() - self0;
  return { ms, cpuSec, clientCpuSec: cpuSec };
}

const file = path.join(tmp, 'seg.bin');
const meta = await makeFile(file, MB);
await viaS3(file, meta); // warm-up
const s3Runs: Run[] = [];
const srvRuns: Run[] = [];
const minioRuns: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  s3Runs.push(await viaS3(file, meta));
  srvRuns.push(await viaServer(file, meta));
  minioRuns.push(await viaS3(file, meta, 'minio'));
}
const s3MBs = MB / (median(s3Runs.map((r) => r.ms)) / 1000);
const srvMBs = MB / (median(srvRuns.map((r) => r.ms)) / 1000);
const perGiB = (runs: Run[], pick: (r: Run) => number) => Number((median(runs.map(pick)) / ((MB * 1024 * 1024) / GiB)).toFixed(2));

// Memory: sample the server's RSS while it ingests one large body.
const big = path.join(tmp, 'big.bin');
const bigMeta = await makeFile(big, BIG_MB);
await fs.rm(file);
const rssBefore = rssMb(server.pid!);
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(server.pid!))), 50);
const bigMs = (await viaServer(big, bigMeta)).ms;
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
  plainS3Put: s3Verifies ? 'one PUT signed with the body SHA-256, verified by S3' : 'minio putObject (backend does not verify payload hashes)',
  perRunMBps: {
    plainS3Put: s3Runs.map((r) => Number((MB / (r.ms / 1000)).toFixed(1))),
    throughCentre: srvRuns.map((r) => Number((MB / (r.ms / 1000)).toFixed(1))),
    minioPutObject: minioRuns.map((r) => Number((MB / (r.ms / 1000)).toFixed(1))),
  },
  minioPutObjectMBps: Number((MB / (median(minioRuns.map((r) => r.ms)) / 1000)).toFixed(1)),
  // CPU-seconds per GiB (medians): the centre's process for an upload through it; this process for a plain PUT (the
  // same S3 client work the centre does, without receiving, hashing and indexing), and for sending to the centre.
  cpuSecPerGiB: {
    centre: perGiB(srvRuns, (r) => r.cpuSec),
    plainS3PutClient: perGiB(s3Runs, (r) => r.cpuSec),
    centreOverPlainPut: Number((median(srvRuns.map((r) => r.cpuSec)) / median(s3Runs.map((r) => r.cpuSec))).toFixed(2)),
    benchClientSendingToCentre: perGiB(srvRuns, (r) => r.clientCpuSec),
    minioPutObjectClient: perGiB(minioRuns, (r) => r.cpuSec),
  },
  bigUploadMB: BIG_MB,
  bigUploadMBps: Number((BIG_MB / (bigMs / 1000)).toFixed(1)),
  serverRssAtStartMB: Math.round(rssAtStart),
  serverRssBeforeBigMB: Math.round(rssBefore),
  serverRssPeakMB: Math.round(rssPeak),
  serverRssGrowthDuringBigMB: Math.round(rssPeak - rssBefore),
  serverRssGrowthSinceStartMB: Math.round(rssPeak - rssAtStart),
};
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
console.log(JSON.stringify({ ...result, ...(profileDir ? { profile: (await fs.readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f)) } : {}) }, null, 2));
for await (const o of store.list('')) await store.remove(o.key);
agentClient.close();
await db.destroy();
await database.drop();
await fs.rm(tmp, { recursive: true, force: true });
