/**
 * Evidence pack throughput and the worker's memory (issue 11): a pack of N cameras × M minutes of 1080p H.264
 * (60 s MPEG-TS segments, about 4 Mbit/s) built by the real worker process (server/src/worker.ts, its own node
 * process, peak RSS read from /proc/<pid>/status VmHWM), against a plain copy of the same segment objects out of S3
 * into new objects (read stream → multipart put, one after the other), measured in the same run on the same S3.
 *
 *   node --import tsx bench/pack.ts [--cameras 2] [--minutes 2] [--size 1920x1080] [--bitrate 4M] [--segment-seconds 60]
 *
 * Full size (issue 11's figure): --cameras 8 --minutes 10. One 60 s segment is encoded once (testsrc2, x264
 * ultrafast, CBR with filler so the bytes are a camera's) and uploaded for every camera and minute through the agent
 * API with its edge hash. Prints the copy's and the pack's times and rates, the ratio (target ≥ 0.7) and the worker's
 * peak RSS (target < 300 MB). Throughput: bytes moved per second — for the copy the bytes copied; for the pack the
 * ZIP's bytes (the originals plus the MP4s cut from them, so about twice the footage) and, separately, the footage
 * bytes per second.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startCentre } from '../server/test/helpers/centre.ts';
import { uploadSegment } from '../server/test/helpers/footage.ts';
import { api, putCamera } from '../server/test/helpers/incidents.ts';
import { TEST_ENV } from '../test-support/src/env.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '2' },
    minutes: { type: 'string', default: '2' },
    size: { type: 'string', default: '1920x1080' },
    bitrate: { type: 'string', default: '4M' },
    'segment-seconds': { type: 'string', default: '60' },
  },
});
const CAMERAS = Number(values.cameras);
const MINUTES = Number(values.minutes);
const SEG_S = Number(values['segment-seconds']);
const SEGMENTS = Math.ceil((MINUTES * 60) / SEG_S);
const MB = 1024 * 1024;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const dir = await mkdtemp(path.join(tmpdir(), 'bench-pack-'));
const t0 = Date.now();
const segFile = path.join(dir, 'seg.ts');
await run(
  'ffmpeg',
  ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=size=${values.size}:rate=25`, '-t', String(SEG_S), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-b:v', values.bitrate!, '-minrate', values.bitrate!, '-maxrate', values.bitrate!, '-bufsize', '8M', '-x264-params', 'nal-hrd=cbr', '-f', 'mpegts', segFile],
  { env: { ...process.env, TZ: 'UTC' } },
);
const bytes = await readFile(segFile);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const durationMs = SEG_S * 1000;
console.log(`segment: ${(bytes.length / MB).toFixed(1)} MiB per ${SEG_S} s (${((bytes.length * 8) / SEG_S / 1e6).toFixed(1)} Mbit/s), encoded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const centre = await startCentre();
let worker: ReturnType<typeof spawn> | undefined;
try {
  const s = await centre.createSite();
  const { credential } = await centre.enrollAgent(s.token);
  const windowFrom = new Date(Date.UTC(2026, 10, 23, 18, 0, 0));
  const windowTo = new Date(windowFrom.getTime() + SEGMENTS * durationMs);
  const cameraIds: string[] = [];
  const t1 = Date.now();
  for (let c = 0; c < CAMERAS; c++) {
    cameraIds.push(await putCamera(centre, credential, `cam${c + 1}`, 'continuous', `場所${c + 1}`));
    for (let i = 0; i < SEGMENTS; i++) {
      const r = await uploadSegment(centre.url, credential, `cam${c + 1}`, new Date(windowFrom.getTime() + i * durationMs), { bytes, sha256, durationMs });
      assert.equal(r.status, 201);
    }
  }
  const footageBytes = bytes.length * SEGMENTS * CAMERAS;
  console.log(`uploaded ${CAMERAS} cameras × ${SEGMENTS} segments = ${(footageBytes / MB).toFixed(0)} MiB through the agent API in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  // The case: filed by a store manager over the window; hq asks for the pack.
  const sm = api(centre, await centre.sessionCookie((await centre.createUser({ role: 'store_manager', siteIds: [s.siteId] })).id));
  const filed = await sm.post('/incidents', { siteId: s.siteId, window: { from: windowFrom.toISOString(), to: windowTo.toISOString() }, marginBeforeSeconds: 0, marginAfterSeconds: 0, title: 'bench', category: 'other', severity: 'low' });
  assert.equal(filed.status, 201, JSON.stringify(filed.body));
  const hq = api(centre, await centre.hqCookie());

  // Baseline: copy every segment object to a new key, streamed (read → multipart put), one after the other.
  const keys: string[] = [];
  for await (const o of centre.store.list('segments/')) keys.push(o.key);
  assert.equal(keys.length, SEGMENTS * CAMERAS);
  const tc = Date.now();
  for (const k of keys) await centre.store.put(`bench-copy/${k}`, await centre.store.read(k), undefined);
  const copyS = (Date.now() - tc) / 1000;

  // The real worker process, alone on the queue.
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: centre.databaseUrl,
    REDIS_URL: TEST_ENV.redisUrl,
    S3_ENDPOINT: TEST_ENV.s3Endpoint,
    S3_ACCESS_KEY: TEST_ENV.s3AccessKey,
    S3_SECRET_KEY: TEST_ENV.s3SecretKey,
    S3_BUCKET: centre.store.bucket,
    QUEUE_PREFIX: centre.queuePrefix,
    PACK_SIGNING_KEY_FILE: centre.signingKeyFile,
    WORK_DIR: dir,
  };
  worker = spawn(process.execPath, ['--import', 'tsx', 'server/src/worker.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  worker.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const hwm = async () => Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${worker!.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  for (let i = 0; i < 100 && !log.includes('worker started'); i++) await new Promise((r) => setTimeout(r, 100));
  const idleRss = await hwm();

  const tp = Date.now();
  const req = await hq.post(`/incidents/${filed.body.incident.id}/packs`, { purpose: 'police_request', reference: 'bench', legalBasis: 'bench' });
  assert.equal(req.status, 202, JSON.stringify(req.body));
  let pack: any;
  let lastPct = -1;
  for (;;) {
    pack = (await hq.get(`/packs/${req.body.pack.id}`)).body.pack;
    if (pack.progress && pack.progress.percent !== lastPct && pack.progress.percent % 10 === 0) {
      lastPct = pack.progress.percent;
      process.stdout.write(`  progress ${pack.progress.percent}% (${pack.progress.phase})\n`);
    }
    if (pack.status === 'ready' || pack.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const packS = (Date.now() - tp) / 1000;
  assert.equal(pack.status, 'ready', pack.error ?? log.slice(-2000));
  const peak = await hwm();

  const copyRate = footageBytes / MB / copyS;
  const zipRate = pack.size / MB / packS;
  const footageRate = footageBytes / MB / packS;
  console.log(`\nfootage ${(footageBytes / MB).toFixed(0)} MiB (${CAMERAS} cameras × ${MINUTES} min); pack ZIP ${(pack.size / MB).toFixed(0)} MiB, ${pack.fileCount} files`);
  console.log(`plain copy out of S3:  ${copyS.toFixed(1)} s  ${copyRate.toFixed(1)} MiB/s`);
  console.log(`pack (request→ready):  ${packS.toFixed(1)} s  ${zipRate.toFixed(1)} MiB/s of ZIP, ${footageRate.toFixed(1)} MiB/s of footage`);
  console.log(`ratio (ZIP bytes/s ÷ copy bytes/s): ${(zipRate / copyRate).toFixed(2)}x  (target ≥ 0.7x)`);
  console.log(`ratio (footage bytes/s ÷ copy bytes/s): ${(footageRate / copyRate).toFixed(2)}x`);
  console.log(`worker peak RSS: ${(peak / MB).toFixed(0)} MiB (idle ${(idleRss / MB).toFixed(0)} MiB; target < 300 MiB)`);
} finally {
  worker?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await centre.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
