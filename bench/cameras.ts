/**
 * Agent CPU and memory recording N simulated 1080p cameras, against plain ffmpeg segmenting the same streams.
 * Both measured in this run, one after the other, on the same fake-camera fleet (RTSP relay + `-c copy`
 * publishers of one pre-encoded 1080p25 clip, about 4 Mb/s each).
 *
 *   node --import tsx bench/cameras.ts [--cameras 16] [--seconds 60] [--segment-seconds 10]
 *
 * Plain ffmpeg: one `ffmpeg -rtsp_transport udp -i URL -map 0:v -c copy -f segment -segment_atclocktime 1 …` per
 * camera, nothing else. Agent: the real `agent run` (recorders with ffprobe + SHA-256 per closed segment, durable
 * outbox, uploads to a real centre, heartbeats), measured as its whole process tree (node + ffmpeg/ffprobe children).
 * CPU is read from /proc/<pid>/stat (utime + stime, including reaped children) over the same wall-clock window.
 * A third phase runs the agent with the centre unreachable (recording only), and both agent phases report where the
 * CPU went: the node process, the living ffmpeg recorders, and children reaped during the window (ffprobe).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../server/src/adapters/clock.ts';
import { createS3Store } from '../server/src/adapters/object-store.ts';
import { buildAccessServices } from '../server/src/app.ts';
import { loadAuthSettings } from '../server/src/config.ts';
import { createDb } from '../server/src/db/connect.ts';
import { migrateToLatest } from '../server/src/db/migrate.ts';
import { createTestDatabase, TEST_ENV, uniqueName } from '../test-support/src/env.ts';
import { makeBenchClip, startFakeCameraFleet } from '../test-support/src/rtsp-camera.ts';

const { values } = parseArgs({ options: { cameras: { type: 'string', default: '16' }, seconds: { type: 'string', default: '60' }, 'segment-seconds': { type: 'string', default: '10' }, 'warmup-seconds': { type: 'string', default: '8' } } });
const N = Number(values.cameras);
const SECONDS = Number(values.seconds);
const SEG = Number(values['segment-seconds']);
const WARMUP = Number(values['warmup-seconds']);
const TICK = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procStat(pid: number): { ppid: number; ticks: number; childTicks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}
function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
/** The pid and all its descendants alive now. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(Number(d));
    if (st) children.set(st.ppid, [...(children.get(st.ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}
/** CPU seconds a set of roots (and their descendants, living and reaped) used over `seconds`, plus peak RSS. */
async function measure(roots: number[], seconds: number) {
  const total = () => roots.flatMap(tree).reduce((sum, pid) => {
    const st = procStat(pid);
    return sum + (st ? st.ticks + st.childTicks : 0);
  }, 0);
  // Children reaped during the window move their ticks into the parent's childTicks, so the sum stays whole.
  const t0 = total();
  const w0 = performance.now();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, roots.flatMap(tree).reduce((s, p) => s + rssKb(p), 0))), 1000);
  await sleep(seconds * 1000);
  clearInterval(sampler);
  const cpuS = (total() - t0) / TICK;
  const wallS = (performance.now() - w0) / 1000;
  return { cpuPercentOfOneCore: Number(((100 * cpuS) / wallS).toFixed(1)), cpuSeconds: Number(cpuS.toFixed(2)), wallSeconds: Number(wallS.toFixed(1)), peakRssMB: Math.round(peakRss / 1024) };
}
/** Where one process tree's CPU goes: the root itself, its living ffmpeg children, and children reaped meanwhile. */
function split(root: number) {
  const self = procStat(root);
  const live = tree(root).filter((p) => p !== root);
  const ffmpeg = live.reduce((s, p) => s + (procStat(p)?.ticks ?? 0), 0);
  return { self: self?.ticks ?? 0, reaped: self?.childTicks ?? 0, ffmpeg };
}
async function measureSplit(root: number, seconds: number) {
  const a = split(root);
  const r = await measure([root], seconds);
  const b = split(root);
  const pct = (t: number) => Number(((100 * t) / TICK / r.wallSeconds).toFixed(1));
  return { ...r, split: { nodeProcess: pct(b.self - a.self), ffmpegRecorders: pct(b.ffmpeg - a.ffmpeg), reapedChildren_ffprobe: pct(b.reaped - a.reaped) } };
}
const stop = (p: ChildProcess, sig: NodeJS.Signals = 'SIGTERM') => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill(sig))));

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-bench-cams-'));
const clip = await makeBenchClip(tmp);
const fleet = await startFakeCameraFleet({ count: N, clip });

// Phase A: plain ffmpeg.
const plainDir = path.join(tmp, 'plain');
const plain: ChildProcess[] = [];
for (const [i, cam] of fleet.cameras.entries()) {
  const dir = path.join(plainDir, `cam${i + 1}`);
  await fs.mkdir(dir, { recursive: true });
  plain.push(
    spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', cam.url, '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(SEG), '-segment_atclocktime', '1', '-strftime', '1', path.join(dir, '%Y%m%dT%H%M%SZ.ts')], { env: { ...process.env, TZ: 'UTC' }, stdio: 'ignore' }),
  );
}
await sleep(WARMUP * 1000);
const plainResult = await measure(plain.map((p) => p.pid!), SECONDS);
const plainAlive = plain.filter((p) => p.exitCode === null).length;
await Promise.all(plain.map((p) => stop(p, 'SIGINT')));
const plainSegments = (await Promise.all(fleet.cameras.map((_, i) => fs.readdir(path.join(plainDir, `cam${i + 1}`))))).flat().length;
await fs.rm(plainDir, { recursive: true, force: true });

// Phase B: the agent, uploading to a real centre (a separate process, not counted).
const database = await createTestDatabase('benchcams');
const db = createDb(database.url, 2);
await migrateToLatest(db);
const bucket = uniqueName('cams').toLowerCase().replaceAll('_', '-');
await createS3Store({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket, region: 'us-east-1' }).ensureBucket();
const access = buildAccessServices({ db, clock: systemClock, auth: loadAuthSettings({}) });
const site = await access.repos.sites.create({ code: uniqueName('c').toLowerCase().replaceAll('_', '-'), name: 'bench', timezone: 'Asia/Tokyo' });
const { token } = await access.agentAuth.issueEnrollmentToken(site.code, 3600, 'bench');
const port = 18000 + Math.floor(Math.random() * 1000);
const server = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
  env: { ...process.env, DATABASE_URL: database.url, REDIS_URL: TEST_ENV.redisUrl, S3_ENDPOINT: TEST_ENV.s3Endpoint, S3_ACCESS_KEY: TEST_ENV.s3AccessKey, S3_SECRET_KEY: TEST_ENV.s3SecretKey, S3_BUCKET: bucket, PORT: String(port), MEDIA_LINK_SECRET: 'm'.repeat(40), QUEUE_PREFIX: uniqueName('q') },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  server.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
  server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const agentDir = path.join(tmp, 'agent');
const config = {
  server: { url: `http://127.0.0.1:${port}` },
  stateDir: path.join(agentDir, 'state'),
  spoolDir: path.join(agentDir, 'spool'),
  heartbeatSeconds: 10,
  logLevel: 'warn',
  recording: { segmentSeconds: SEG },
  disk: { maxUsePercent: 100, minFreeBytes: 0 },
  cameras: fleet.cameras.map((c, i) => ({ key: `cam${i + 1}`, name: `cam${i + 1}`, transport: 'udp', rtspUrl: c.url })),
};
await fs.mkdir(agentDir, { recursive: true });
const configPath = path.join(agentDir, 'agent.json');
await fs.writeFile(configPath, JSON.stringify(config));
const agentArgs = (a: string[]) => ['--import', 'tsx', 'edge-agent/src/main.ts', ...a, '--config', configPath];
await new Promise<void>((resolve, reject) => spawn(process.execPath, agentArgs(['enroll', '--server', config.server.url, '--token', token]), { stdio: 'inherit' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`enroll ${c}`)))));
const agent = spawn(process.execPath, agentArgs(['run']), { stdio: ['ignore', 'ignore', 'inherit'] });
await sleep(WARMUP * 1000);
const agentResult = await measureSplit(agent.pid!, SECONDS);
const recorders = tree(agent.pid!).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('ffmpeg')).length;
await stop(agent);

// Phase C: the same agent recording with the centre unreachable (nothing uploads; the outbox fills): the cost of
// recording (ffmpeg, ffprobe, hashing, durable outbox) without the cost of shipping.
const offline = { ...config, server: { url: 'http://127.0.0.1:9' } };
await fs.writeFile(configPath, JSON.stringify(offline));
const recordingOnly = spawn(process.execPath, agentArgs(['run']), { stdio: ['ignore', 'ignore', 'ignore'] });
await sleep(WARMUP * 1000);
const recordingOnlyResult = await measureSplit(recordingOnly.pid!, SECONDS);
await stop(recordingOnly);
const stored = await db.selectFrom('segment').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
await stop(server);

console.log(
  JSON.stringify(
    {
      machine: `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`,
      cameras: N,
      stream: '1920x1080 25 fps H.264 ~4 Mb/s, RTSP over UDP from a local relay',
      segmentSeconds: SEG,
      measuredSeconds: SECONDS,
      plainFfmpeg: { ...plainResult, processesAlive: plainAlive, segmentFiles: plainSegments },
      agent: { ...agentResult, ffmpegRecorders: recorders, segmentsStoredAtCentre: Number(stored.n) },
      cpuRatioAgentOverPlain: Number((agentResult.cpuSeconds / plainResult.cpuSeconds).toFixed(2)),
      agentRecordingOnlyCentreUnreachable: recordingOnlyResult,
      cpuRatioRecordingOnlyOverPlain: Number((recordingOnlyResult.cpuSeconds / plainResult.cpuSeconds).toFixed(2)),
    },
    null,
    2,
  ),
);
await fleet.close();
await db.destroy();
await database.drop();
await fs.rm(tmp, { recursive: true, force: true });
