/**
 * Evidence pack throughput and the worker's memory (issue 11): a pack of N cameras × M minutes of 1080p H.264
 * (60 s MPEG-TS segments, about 4 Mbit/s) built by the real worker process (server/src/worker.ts, its own node
 * process, peak RSS read from /proc/<pid>/status VmHWM), against a plain copy of the same segment objects out of S3
 * into new objects (read stream → multipart put, one after the other), measured in the same run on the same S3: the
 * tests' S3 (TEST_ENV: radosgw on :17480 unless TEST_S3_* point elsewhere, e.g. at s3rver). Needs about 4× the footage
 * of free S3 space (see docs/benchmarks.md "Space").
 *
 *   node --import tsx bench/pack.ts [--cameras 2] [--minutes 2] [--size 1920x1080] [--bitrate 4M] [--segment-seconds 60] [--profile DIR]
 *
 * Full size (issue 11's figure): --cameras 8 --minutes 10.
 *
 * Source: one 60 s segment is encoded once (testsrc2, x264 ultrafast, CBR with filler so the bytes are a camera's)
 * and kept in the temp folder for later runs (`bench-pack-seg-*.ts`). Every camera and minute gets its own copy with
 * one MPEG-TS null packet (PID 0x1FFF, ignored by every demuxer) appended that names the camera and minute, so no two
 * objects have the same bytes or edge hash (nothing downstream can dedupe or cache across cameras). Each is uploaded
 * through the agent API with its edge hash (two uploads at a time; not timed).
 *
 * Throughput, the same definition for both sides: SOURCE bytes (the segment objects of the window, the footage) per
 * second of wall time. Copy: every segment object read from S3 and written to a new key; pack: from the request to
 * `ready` (the worker reads each segment once, writes the originals and the MP4s into a ZIP of about twice the
 * footage, renders the report, signs, uploads). Target: pack ≥ 0.7x the copy, worker peak RSS < 300 MB.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
    profile: { type: 'string' },
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
const segFile = path.join(tmpdir(), `bench-pack-seg-${values.size}-${values.bitrate}-${SEG_S}s.ts`);
const cached = await access(segFile).then(
  () => true,
  () => false,
);
if (!cached) {
  await run(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=size=${values.size}:rate=25`, '-t', String(SEG_S), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-b:v', values.bitrate!, '-minrate', values.bitrate!, '-maxrate', values.bitrate!, '-bufsize', '8M', '-x264-params', 'nal-hrd=cbr', '-f', 'mpegts', '-y', `${segFile}.part`],
    { env: { ...process.env, TZ: 'UTC' } },
  );
  await rename(`${segFile}.part`, segFile);
}
const base = await readFile(segFile);
const durationMs = SEG_S * 1000;
console.log(`segment: ${(base.length / MB).toFixed(1)} MiB per ${SEG_S} s (${((base.length * 8) / SEG_S / 1e6).toFixed(1)} Mbit/s), ${cached ? `reused ${segFile}` : `encoded in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`);

/** CPU seconds (user + system) of a process and of its waited-for children (ffmpeg, ffprobe), from /proc. */
async function procCpu(pid: number): Promise<{ self: number; children: number }> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const t = (i: number) => Number(f[i - 3]) / 100; // fields 14.. of proc(5), counted after "pid (comm)"
  return { self: t(14) + t(15), children: t(16) + t(17) };
}
/** CPU seconds of the S3 processes serving TEST_ENV's endpoint (radosgw and its OSD found by the config the port is in). */
async function s3Cpu(): Promise<number> {
  let total = 0;
  const port = new URL(TEST_ENV.s3Endpoint).port;
  const { stdout } = await run('sh', ['-c', `for p in $(pgrep -f 'radosgw|ceph-osd|s3rver\\.ts'); do echo "$p $(tr '\\0' ' ' < /proc/$p/cmdline)"; done`]).catch(() => ({ stdout: '' }));
  const conf = /-c (\S+ceph\.conf)/;
  const confs = new Set<string>();
  for (const l of stdout.split('\n')) {
    const c = conf.exec(l)?.[1];
    if (c && /radosgw/.test(l) && (await readFile(c, 'utf8').catch(() => '')).includes(`:${port}`)) confs.add(c);
  }
  for (const l of stdout.split('\n')) {
    const pid = Number(l.split(' ')[0]);
    const c = conf.exec(l)?.[1];
    if (pid && ((c && confs.has(c)) || /node .*s3rver\.ts/.test(l))) total += (await procCpu(pid).catch(() => ({ self: 0 }))).self;
  }
  return total;
}

/** The clip with one MPEG-TS null packet appended that names it: distinct bytes per camera and minute. */
function segmentBytes(label: string): { bytes: Buffer; sha256: string } {
  const nul = Buffer.alloc(188, 0xff);
  nul.writeUInt32BE(0x471fff10, 0); // sync, PID 0x1FFF (null packet), payload only, continuity 0
  nul.write(label, 4, 'latin1');
  const bytes = Buffer.concat([base, nul]);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const centre = await startCentre();
let worker: ReturnType<typeof spawn> | undefined;
try {
  const s = await centre.createSite();
  const { credential } = await centre.enrollAgent(s.token);
  const windowFrom = new Date(Date.UTC(2026, 10, 23, 18, 0, 0));
  const windowTo = new Date(windowFrom.getTime() + SEGMENTS * durationMs);
  const cameraIds: string[] = [];
  const t1 = Date.now();
  const todo: { c: number; i: number }[] = [];
  for (let c = 0; c < CAMERAS; c++) {
    cameraIds.push(await putCamera(centre, credential, `cam${c + 1}`, 'continuous', `場所${c + 1}`));
    for (let i = 0; i < SEGMENTS; i++) todo.push({ c, i });
  }
  const uploadNext = async () => {
    for (let t = todo.shift(); t; t = todo.shift()) {
      const seg = segmentBytes(`mamoru bench cam${t.c + 1} minute ${t.i}`);
      // A reset keep-alive connection under load is retried, as the agent's uploader does (the upload is idempotent).
      let r: { status: number } | undefined;
      for (let attempt = 1; !r; attempt++) {
        r = await uploadSegment(centre.url, credential, `cam${t.c + 1}`, new Date(windowFrom.getTime() + t.i * durationMs), { ...seg, durationMs }).catch((e: Error) => {
          if (attempt >= 3) throw e;
          return undefined;
        });
      }
      assert.ok(r.status === 201 || r.status === 200, `upload: ${r.status}`);
    }
  };
  await Promise.all([uploadNext(), uploadNext()]);
  const footageBytes = (base.length + 188) * SEGMENTS * CAMERAS;
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
  const copyCpu0 = { me: process.cpuUsage(), s3: await s3Cpu() };
  for (const k of keys) await centre.store.put(`bench-copy/${k}`, await centre.store.read(k), undefined);
  const copyS = (Date.now() - tc) / 1000;
  const copyCpu = { me: (process.cpuUsage(copyCpu0.me).user + process.cpuUsage(copyCpu0.me).system) / 1e6, s3: (await s3Cpu()) - copyCpu0.s3 };

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
  // --profile DIR: a V8 CPU profile of the worker process (written when it exits).
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : [];
  // BENCH_WORKER_NODE_FLAGS: more node flags for the worker (e.g. --perf-basic-prof for `perf record`).
  const extra = (process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  worker = spawn(process.execPath, [...profile, ...extra, '--import', 'tsx', 'server/src/worker.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  worker.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const hwm = async () => Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${worker!.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  for (let i = 0; i < 100 && !log.includes('worker started'); i++) await new Promise((r) => setTimeout(r, 100));
  const idleRss = await hwm();

  const tp = Date.now();
  if (process.env.BENCH_PACK_MARK) await writeFile(process.env.BENCH_PACK_MARK, String(worker.pid));
  const packCpu0 = { worker: await procCpu(worker.pid!), s3: await s3Cpu() };
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
  const w1 = await procCpu(worker.pid!);
  const packCpu = { worker: w1.self - packCpu0.worker.self, tools: w1.children - packCpu0.worker.children, s3: (await s3Cpu()) - packCpu0.s3 };

  const copyRate = footageBytes / MB / copyS;
  const packRate = footageBytes / MB / packS;
  const built = log.split('\n').find((l) => l.includes('"pack built"'));
  console.log(`\nsource (footage) ${(footageBytes / MB).toFixed(0)} MiB: ${CAMERAS} cameras × ${MINUTES} min; pack ZIP ${(pack.size / MB).toFixed(0)} MiB, ${pack.fileCount} files`);
  console.log(`plain copy out of S3:  ${copyS.toFixed(1)} s  ${copyRate.toFixed(1)} MiB/s of source`);
  console.log(`pack (request→ready):  ${packS.toFixed(1)} s  ${packRate.toFixed(1)} MiB/s of source  (${(pack.size / MB / packS).toFixed(1)} MiB/s of ZIP written)`);
  console.log(`ratio pack ÷ copy (source bytes/s): ${(packRate / copyRate).toFixed(2)}x  (target ≥ 0.7x)`);
  console.log(`worker peak RSS: ${(peak / MB).toFixed(0)} MiB (idle ${(idleRss / MB).toFixed(0)} MiB; target < 300 MiB)`);
  console.log(`CPU seconds, copy: client ${copyCpu.me.toFixed(1)} + S3 ${copyCpu.s3.toFixed(1)}; pack: worker ${packCpu.worker.toFixed(1)} + ffmpeg/ffprobe ${packCpu.tools.toFixed(1)} + S3 ${packCpu.s3.toFixed(1)} (S3 = the radosgw and OSD processes of ${TEST_ENV.s3Endpoint}, shared with anything else using them; Chromium not counted)`);
  if (built) console.log(`worker's breakdown: ${built}`);
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(`load average at the end: ${load}`);
} finally {
  worker?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await centre.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
