/**
 * Agent CPU and memory recording N simulated 1080p cameras, against plain ffmpeg segmenting the same streams.
 * Both measured in this run, one after the other, on the same fake-camera fleet (RTSP relay + `-c copy`
 * publishers of one pre-encoded 1080p25 clip, about 4 Mb/s each).
 *
 *   node --import tsx bench/cameras.ts [--cameras 16] [--seconds 60] [--segment-seconds 10] [--profile DIR] [--pin] [--together]
 *
 * Plain ffmpeg: one `ffmpeg -rtsp_transport udp -i URL -map 0:v -c copy -f segment -segment_atclocktime 1 …` per
 * camera, nothing else. Agent: the real `agent run` (recorders, SHA-256 per closed segment, durable outbox, uploads
 * to a real centre, heartbeats), measured as its whole process tree (node + ffmpeg children). CPU is exact per-thread
 * run time from /proc/<pid>/task/<tid>/schedstat over the same wall-clock window (bench/lib/proc-cpu.ts; the 100 Hz
 * tick counters were too coarse for processes using a fraction of a percent each). A third phase runs the agent with
 * the centre unreachable (recording only); both agent phases report where the CPU went: the node process, its ffmpeg
 * recorders, and children reaped during the window (ffprobe, only for partial segments now).
 * Phase D, the floor: a minimal process that reads, SHA-256s and sends over TCP the bytes the cameras produce, at
 * their rate (bench/hash-send-floor.ts). Plain + floor is the lowest ratio any agent that hashes and uploads could
 * reach on this machine.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { promises as fs, readFileSync } from 'node:fs';
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
import { hasControllingTerminal } from '../edge-agent/src/media/ffmpeg-media-tool.ts';
import { AGENT_NODE_FLAGS } from '../edge-agent/src/lib/node-flags.ts';
import { cpuBetween, ioAndSwitchesOver, measure as measureCpu, memKb, sleep, tree } from './lib/proc-cpu.ts';

const measure = measureCpu;
const strip = <T extends { a: unknown; b: unknown }>({ a: _a, b: _b, ...rest }: T) => rest;

const { values } = parseArgs({ options: { cameras: { type: 'string', default: '16' }, seconds: { type: 'string', default: '60' }, 'segment-seconds': { type: 'string', default: '10' }, 'warmup-seconds': { type: 'string', default: '8' }, profile: { type: 'string' }, pin: { type: 'boolean', default: false }, together: { type: 'boolean', default: false } } });
/**
 * --together: besides the phases one after the other, plain ffmpeg (a second set, reading the same streams) and the
 * floor also run in the agent's own measuring windows, so that the agent's ratios are also measured against
 * baselines taken at the same moments (`sameWindow` in the output): each phase's window is otherwise its own 2
 * minutes, and plain ffmpeg's CPU alone moves by about 10 % from window to window on this VM.
 */
const TOGETHER = values.together;
/**
 * --pin: the store box on core 0, everything else on core 1. A store's agent does not share its cores with the
 * cameras or the centre; on this one machine they would, and the centre's and S3's work beside the agent then shows
 * up as the agent's CPU (cache and scheduling contention). With --pin, this bench process (the cameras' RTSP relay)
 * and what it starts unpinned (the cameras' publishers, the centre) run on core 1, and each measured side (plain
 * ffmpeg, the floor, the agent with its ffmpegs) is started under `taskset -c 0`. PostgreSQL, Redis and radosgw,
 * started outside the bench, are left where the system put them.
 */
const PIN = values.pin;
/**
 * The bench runs in a session without a controlling terminal, as a service does: re-run under `setsid` when started
 * from a terminal. Two reasons. (1) The agent then behaves as a service: with a terminal it would start each recorder
 * in a session of its own (Ctrl-C isolation), which the kernel's autogroup scheduling makes a scheduling group per
 * ffmpeg (docs/recorder.md). (2) Everything measured (plain ffmpeg, the floor, the agent and its ffmpegs) shares one
 * session, so one scheduling group: with --together, two groups on one core are not scheduled alike (the one that
 * sleeps more preempts the other's tasks at every wake-up; the preempted ffmpegs then take their packets in batches
 * and use less CPU: measured, the agent in its own session gave its ffmpegs twice the plain ones' context switches).
 */
if (hasControllingTerminal()) {
  const r = spawnSync('setsid', ['-w', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
/** A measured process: on core 0 with --pin (taskset execs the command, so the pid is the command's). */
const storeSide = (cmd: string, args: string[]): [string, string[]] => (PIN ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args]);
const N = Number(values.cameras);
const SECONDS = Number(values.seconds);
const SEG = Number(values['segment-seconds']);
const WARMUP = Number(values['warmup-seconds']);
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
/** Where one agent's CPU goes over `seconds`: its node process, its living ffmpeg children, children reaped meanwhile. */
async function measureSplit(root: number, seconds: number) {
  const r = await measure([root], seconds);
  const pct = (x: number) => Number(((100 * x) / r.wallSeconds).toFixed(2));
  const self = cpuBetween(r.a, r.b, (pid) => pid === root);
  // The launchers (one sh per recorder, asleep in `wait`) apart from their ffmpeg, so that their cost shows.
  const launcher = new Set([...r.b.ns.keys()].filter((pid) => cmdline(pid).some((a) => a.endsWith('ffmpeg-launcher.sh'))));
  // The recorders' ffmpegs apart from any other child (tsx's esbuild service, an ffprobe alive at the snapshot).
  const isFfmpeg = (pid: number) => /(^|\/)ffmpeg$/.test(cmdline(pid)[0] ?? '');
  const children = cpuBetween(r.a, r.b, (pid) => pid !== root && !launcher.has(pid) && isFfmpeg(pid));
  const others = cpuBetween(r.a, r.b, (pid) => pid !== root && !launcher.has(pid) && !isFfmpeg(pid));
  const launchers = cpuBetween(r.a, r.b, (pid) => launcher.has(pid));
  const { a: _a, b: _b, ...result } = r;
  return { ...result, split: { nodeProcess: pct(self.seconds - self.reapedSeconds), ffmpegRecorders: pct(children.seconds), ffmpegCpuSeconds: children.seconds, otherChildren: pct(others.seconds), launchers: pct(launchers.seconds), launcherCpuSeconds: Number(launchers.seconds.toFixed(4)), reapedChildren: pct(self.reapedSeconds) } };
}
const mb = (kb: number) => Number((kb / 1024).toFixed(1));
/**
 * Memory of an agent's process tree now, by kind: the node process, its ffmpeg recorders, their launchers (sh). PSS
 * divides shared pages among the processes sharing them, so its sums are real totals; RSS counts them per process.
 */
function agentMemory(root: number, cameras: number) {
  const kinds = { node: [] as Array<{ rss: number; pss: number }>, ffmpeg: [] as Array<{ rss: number; pss: number }>, launcher: [] as Array<{ rss: number; pss: number }> };
  for (const pid of tree(root)) {
    const argv = cmdline(pid);
    const kind = pid === root ? 'node' : /(^|\/)ffmpeg$/.test(argv[0] ?? '') ? 'ffmpeg' : argv.some((a) => a.endsWith('ffmpeg-launcher.sh')) ? 'launcher' : null;
    if (kind) kinds[kind].push(memKb(pid));
  }
  const sum = (xs: Array<{ rss: number; pss: number }>, k: 'rss' | 'pss') => xs.reduce((s, x) => s + x[k], 0);
  const each = (xs: Array<{ rss: number; pss: number }>, k: 'rss' | 'pss') => (xs.length ? mb(sum(xs, k) / xs.length) : null);
  const all = [...kinds.node, ...kinds.ffmpeg, ...kinds.launcher];
  return {
    nodeRssMB: mb(sum(kinds.node, 'rss')),
    nodePssMB: mb(sum(kinds.node, 'pss')),
    ffmpegRssMBEach: each(kinds.ffmpeg, 'rss'),
    ffmpegPssMBEach: each(kinds.ffmpeg, 'pss'),
    launchers: kinds.launcher.length,
    launcherPssMBEach: each(kinds.launcher, 'pss'),
    totalPssMB: mb(sum(all, 'pss')),
    perCameraPssMB: mb(sum(all, 'pss') / cameras),
    perCameraRssMB: mb(sum(all, 'rss') / cameras),
  };
}
const stop = (p: ChildProcess, sig: NodeJS.Signals = 'SIGTERM') => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill(sig))));

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-bench-cams-'));
const clip = await makeBenchClip(tmp);
const fleet = await startFakeCameraFleet({ count: N, clip });

// The centre's database and bucket first: a run against services that are down fails now, not after phase A.
const database = await createTestDatabase('benchcams');
const db = createDb(database.url, 2);
await migrateToLatest(db);
const bucket = uniqueName('cams').toLowerCase().replaceAll('_', '-');
await createS3Store({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket, region: 'us-east-1' }).ensureBucket();

// Phase A: plain ffmpeg.
const plainDir = path.join(tmp, 'plain');
const plain: ChildProcess[] = [];
const plainErrors: string[][] = [];
const plainStarted = performance.now();
/** One plain ffmpeg per camera, segmenting into `root`/camN; each one's errors are kept in `errors`. */
async function startPlain(root: string, procs: ChildProcess[], errorsOut: string[][], only: (camera: number) => boolean = () => true) {
  for (const [i, cam] of fleet.cameras.entries()) {
    if (!only(i)) continue;
    const dir = path.join(root, `cam${i + 1}`);
    await fs.mkdir(dir, { recursive: true });
    procs.push(
      spawn(...storeSide('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', cam.url, '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(SEG), '-segment_atclocktime', '1', '-strftime', '1', path.join(dir, '%Y%m%dT%H%M%SZ.ts')]), { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    // ffmpeg prints errors only (-loglevel error): kept, so that a camera that dies says why.
    const errors: string[] = [];
    errorsOut.push(errors);
    procs.at(-1)!.stderr!.on('data', (b: Buffer) => errors.push(b.toString()));
  }
}
await startPlain(plainDir, plain, plainErrors);
await sleep(WARMUP * 1000);
const plainResult = strip(await measure(plain.map((p) => p.pid!), SECONDS));
const plainPss = plain.reduce((s, p) => s + memKb(p.pid!).pss, 0);
const plainAliveEach = plain.map((p) => p.exitCode === null);
const plainAlive = plainAliveEach.filter(Boolean).length;
await Promise.all(plain.map((p) => stop(p, 'SIGINT')));
const plainWallS = (performance.now() - plainStarted) / 1000;
const plainFiles = (await Promise.all(fleet.cameras.map(async (_, i) => (await fs.readdir(path.join(plainDir, `cam${i + 1}`))).map((f) => path.join(plainDir, `cam${i + 1}`, f))))).flat();
const plainSegments = plainFiles.length;
let plainBytes = 0;
for (const f of plainFiles) plainBytes += (await fs.stat(f)).size;
const byteRate = plainBytes / plainWallS;
// The figures are for N cameras only if N cameras recorded: a camera that died (or never started) fails the run.
const plainPerCamera = fleet.cameras.map((_, i) => plainFiles.filter((f) => f.startsWith(path.join(plainDir, `cam${i + 1}`) + path.sep)).length);
if (plainAlive !== N || plainPerCamera.some((n) => n < Math.floor(SECONDS / SEG) - 1)) {
  console.error(`plain ffmpeg: ${plainAlive} of ${N} processes alive at the end; segment files per camera ${JSON.stringify(plainPerCamera)}: not every camera recorded, no figures`);
  plain.forEach((p, i) => (!plainAliveEach[i] || plainPerCamera[i]! < Math.floor(SECONDS / SEG) - 1) && console.error(`  camera ${i + 1}: ${plainAliveEach[i] ? 'alive' : `died (exit ${p.exitCode ?? p.signalCode})`}; ffmpeg said: ${plainErrors[i]!.join('').trim().slice(-2000) || '(nothing)'}`));
  process.exit(1);
}

// Phase D (run here, before the agent): the floor. A minimal process that reads, SHA-256s and sends over TCP the
// bytes the cameras produce, at their rate: work any agent must add to ffmpeg's, so plain + floor is the best ratio
// an agent could reach on this machine.
const floorFile = path.join(tmp, 'floor.bin');
await fs.writeFile(floorFile, randomBytes(32 * 1024 * 1024));
const sinkServer = createServer((sock) => sock.resume());
await new Promise<void>((r) => sinkServer.listen(0, '127.0.0.1', () => r()));
/** The floor: read + SHA-256 + send at the cameras' byte rate; `hashOnly`: read + SHA-256 in a burst at each segment cut. */
const startFloor = (seconds: number, hashOnly = false) =>
  spawn(...storeSide(process.execPath, ['--import', 'tsx', 'bench/hash-send-floor.ts', floorFile, String(Math.round(byteRate)), String(seconds), ...(hashOnly ? ['none', String(SEG)] : [String((sinkServer.address() as AddressInfo).port)])]), { stdio: ['ignore', 'ignore', 'inherit'] });
const floorProc = startFloor(SECONDS + 8);
await sleep(4000);
const floorResult = strip(await measure([floorProc.pid!], SECONDS));
await stop(floorProc);
if (!TOGETHER) sinkServer.close();

/** --together: plain ffmpeg (and the floor) started beside an agent phase, measured in the agent's window. */
type Beside = { plain: ChildProcess[]; errors: string[][]; floor: ChildProcess | null };
/**
 * Starts an agent phase with plain ffmpegs beside it, in a balanced order: the relay sends each packet to a camera's
 * viewers in the order they subscribed, and which of two ffmpegs on one core gets a camera's packets first changes how
 * often each is woken (in a run where every plain ffmpeg subscribed first, started while the agent was still loading,
 * they were switched 674 times a second voluntarily and 144–176 times involuntarily, the recorders 724–750 and 41).
 * So the plain ffmpegs of cameras 1, 3, 5, … subscribe before the agent and those of cameras 2, 4, 6, … after its
 * recorders, and each set is first on half the cameras.
 */
async function startAgentBeside(tag: string, floor: 'hash-send' | 'hash', startAgent: () => ChildProcess): Promise<{ agent: ChildProcess; beside: Beside | null }> {
  if (!TOGETHER) return { agent: startAgent(), beside: null };
  const b: Beside = { plain: [], errors: [], floor: null };
  await startPlain(path.join(tmp, tag), b.plain, b.errors, (i) => i % 2 === 0);
  await sleep(3000);
  const agent = startAgent();
  const until = Date.now() + 60_000;
  while (tree(agent.pid!).filter((p) => /(^|\/)ffmpeg$/.test(cmdline(p)[0] ?? '')).length < N) {
    if (Date.now() > until || agent.exitCode !== null) throw new Error(`${tag}: the agent's ${N} recorders did not start`);
    await sleep(200);
  }
  await sleep(3000); // their RTSP sessions set up
  await startPlain(path.join(tmp, tag), b.plain, b.errors, (i) => i % 2 === 1);
  b.floor = startFloor(WARMUP + SECONDS + 8, floor === 'hash');
  return { agent, beside: b };
}
async function measureBeside(b: Beside | null) {
  if (!b) return null;
  const [p, f] = await Promise.all([measure(b.plain.map((x) => x.pid!), SECONDS), b.floor ? measure([b.floor.pid!], SECONDS) : null]);
  const alive = b.plain.filter((x) => x.exitCode === null).length;
  await Promise.all([...b.plain.map((x) => stop(x, 'SIGINT')), ...(b.floor ? [stop(b.floor)] : [])]);
  if (alive !== N) {
    console.error(`plain ffmpeg beside the agent: ${alive} of ${N} alive: no figures`);
    b.plain.forEach((x, i) => x.exitCode !== null && console.error(`  plain ffmpeg ${i + 1} (in start order: cameras 1, 3, 5, … first): ${b.errors[i]!.join('').trim().slice(-2000) || '(nothing)'}`));
    process.exit(1);
  }
  return { plain: strip(p), floor: f ? strip(f) : null };
}
await fs.rm(plainDir, { recursive: true, force: true });
/**
 * What the recorders' ffmpegs and the plain ffmpegs beside them wrote and how often they were switched, over the same
 * window: the same bytes are expected (the same streams); more switches a second mean more wake-ups per packet.
 */
async function ffmpegIo(agentPid: number, beside: Beside | null) {
  const recorders = () => tree(agentPid).filter((p) => /(^|\/)ffmpeg$/.test(cmdline(p)[0] ?? ''));
  const [rec, plain] = await Promise.all([ioAndSwitchesOver(recorders, SECONDS), beside ? ioAndSwitchesOver(() => beside.plain.map((x) => x.pid!), SECONDS) : null]);
  return { recorders: rec, plainBeside: plain };
}

// Phase B: the agent, uploading to a real centre (a separate process, not counted).
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
// --profile DIR: V8 CPU profiles of the agent's node process (one .cpuprofile per agent phase) for where node's share goes.
const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : [];
// The agent as deployed: with its node flags (edge-agent/src/lib/node-flags.ts).
const agentArgs = (a: string[]) => [...AGENT_NODE_FLAGS, ...(a[0] === 'run' ? profile : []), '--import', 'tsx', 'edge-agent/src/main.ts', ...a, '--config', configPath];
await new Promise<void>((resolve, reject) => spawn(process.execPath, agentArgs(['enroll', '--server', config.server.url, '--token', token]), { stdio: 'inherit' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`enroll ${c}`)))));
const { agent, beside: besideAgent } = await startAgentBeside('plain-beside-agent', 'hash-send', () => spawn(...storeSide(process.execPath, agentArgs(['run'])), { stdio: ['ignore', 'ignore', 'inherit'] }));
await sleep(WARMUP * 1000);
const [agentResult, besideAgentResult, ioUploading] = await Promise.all([measureSplit(agent.pid!, SECONDS), measureBeside(besideAgent), ffmpegIo(agent.pid!, besideAgent)]);
const recorders = tree(agent.pid!).filter((p) => /(^|\/)ffmpeg$/.test(cmdline(p)[0] ?? '')).length;
const agentMem = agentMemory(agent.pid!, N);
if (recorders !== N) {
  console.error(`agent: ${recorders} ffmpeg recorders running at the end of the window, not ${N}: no figures`);
  process.exit(1);
}
await stop(agent);

// Phase C: the same agent recording with the centre unreachable (nothing uploads; the outbox fills): the cost of
// recording (ffmpeg, ffprobe, hashing, durable outbox) without the cost of shipping.
const offline = { ...config, server: { url: 'http://127.0.0.1:9' } };
await fs.writeFile(configPath, JSON.stringify(offline));
const { agent: recordingOnly, beside: besideRecording } = await startAgentBeside('plain-beside-recording', 'hash', () => spawn(...storeSide(process.execPath, agentArgs(['run'])), { stdio: ['ignore', 'ignore', 'ignore'] }));
await sleep(WARMUP * 1000);
const [recordingOnlyResult, besideRecordingResult, ioRecordingOnly] = await Promise.all([measureSplit(recordingOnly.pid!, SECONDS), measureBeside(besideRecording), ffmpegIo(recordingOnly.pid!, besideRecording)]);
if (TOGETHER) sinkServer.close();
const recordingOnlyMem = agentMemory(recordingOnly.pid!, N);
await stop(recordingOnly);
const stored = await db.selectFrom('segment').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
await stop(server);

console.log(
  JSON.stringify(
    {
      machine: `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`,
      pinned: PIN ? 'store side on core 0 (plain, floor, agent); cameras and centre on core 1' : false,
      cameras: N,
      stream: '1920x1080 25 fps H.264 ~4 Mb/s, RTSP over UDP from a local relay',
      segmentSeconds: SEG,
      measuredSeconds: SECONDS,
      plainFfmpeg: { ...plainResult, processesAlive: plainAlive, segmentFiles: plainSegments, megabytesPerSecond: Number((byteRate / 1e6).toFixed(2)), pssMBEach: mb(plainPss / N) },
      floorHashAndSend: { ...floorResult, note: 'read + SHA-256 + TCP send of the same byte rate, nothing else (bench/hash-send-floor.ts)' },
      bestPossibleRatio: Number(((plainResult.cpuSeconds + floorResult.cpuSeconds) / plainResult.cpuSeconds).toFixed(2)),
      agent: { ...agentResult, ffmpegRecorders: recorders, segmentsStoredAtCentre: Number(stored.n), memory: agentMem },
      cpuRatioAgentOverPlain: Number((agentResult.cpuSeconds / plainResult.cpuSeconds).toFixed(2)),
      agentRecordingOnlyCentreUnreachable: { ...recordingOnlyResult, memory: recordingOnlyMem },
      cpuRatioRecordingOnlyOverPlain: Number((recordingOnlyResult.cpuSeconds / plainResult.cpuSeconds).toFixed(2)),
      sameWindow:
        besideAgentResult && besideRecordingResult
          ? {
              note: 'plain ffmpeg (a second set on the same streams) and the floor measured in the agent phases own windows',
              plainBesideAgent: besideAgentResult.plain.cpuPercentOfOneCore,
              floorBesideAgent: besideAgentResult.floor!.cpuPercentOfOneCore,
              cpuRatioAgentOverPlainPlusFloor: Number((agentResult.cpuSeconds / (besideAgentResult.plain.cpuSeconds + besideAgentResult.floor!.cpuSeconds)).toFixed(3)),
              plainBesideRecordingOnly: besideRecordingResult.plain.cpuPercentOfOneCore,
              cpuRatioRecordingOnlyOverPlain: Number((recordingOnlyResult.cpuSeconds / besideRecordingResult.plain.cpuSeconds).toFixed(3)),
              // Recording only also hashes every closed segment: read + SHA-256 of the same bytes in a burst at each cut.
              hashFloorBesideRecordingOnly: besideRecordingResult.floor!.cpuPercentOfOneCore,
              cpuRatioPlainPlusHashFloorOverPlain: Number(((besideRecordingResult.plain.cpuSeconds + besideRecordingResult.floor!.cpuSeconds) / besideRecordingResult.plain.cpuSeconds).toFixed(3)),
              cpuRatioRecordingOnlyOverPlainPlusHashFloor: Number((recordingOnlyResult.cpuSeconds / (besideRecordingResult.plain.cpuSeconds + besideRecordingResult.floor!.cpuSeconds)).toFixed(3)),
              // The recorders' ffmpeg processes alone against the plain ffmpegs on the same streams in the same window.
              recorderFfmpegsOverPlainUploading: Number((agentResult.split.ffmpegCpuSeconds / besideAgentResult.plain.cpuSeconds).toFixed(3)),
              recorderFfmpegsOverPlainRecordingOnly: Number((recordingOnlyResult.split.ffmpegCpuSeconds / besideRecordingResult.plain.cpuSeconds).toFixed(3)),
              // Bytes written and context switches a second of each set (the same streams: the same bytes expected).
              ffmpegIoUploading: ioUploading,
              ffmpegIoRecordingOnly: ioRecordingOnly,
            }
          : null,
    },
    null,
    2,
  ),
);
await fleet.close();
await db.destroy();
await database.drop();
await fs.rm(tmp, { recursive: true, force: true });
