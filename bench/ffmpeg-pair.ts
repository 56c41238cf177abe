/**
 * Two ways of running the cameras' ffmpegs, measured in the SAME windows: N fake 1080p cameras, and for each camera
 * one ffmpeg of variant A and one of variant B reading the same stream at the same time. Each round measures both
 * sets over the same wall-clock window, so the machine's drift (±10 % for plain ffmpeg between windows on this VM)
 * cancels in the per-round ratio B/A. With --pin the measured ffmpegs run on core 0, the cameras (relay and
 * publishers, this process) on core 1, as in bench/cameras.ts --pin.
 *
 *   node --import tsx bench/ffmpeg-pair.ts --a plain --b recorder-launcher [--cameras 16] [--seconds 30] [--rounds 3] [--warmup-seconds 8] [--pin]
 *
 * Variants: `plain` (bench/cameras.ts's plain ffmpeg), `plain-setsid` (the same, spawned in its own session as the
 * agent spawns its launchers: `detached`), `recorder` (buildSegmenterArgs, the URL on fd 3, progress and stderr read,
 * not detached), `recorder-setsid` (the same, detached), `launcher` (as the agent runs it as a service: segmenterCommand
 * in the agent's session), `launcher-setsid` (the launcher in a session of its own, as an agent with a terminal runs it),
 * `url-argv` (the recorder's arguments with the camera URL in the argv instead of the ffconcat list on fd 3).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSegmenterArgs, SEGMENTER_INPUT, segmenterInputList } from '../edge-agent/src/media/media-tool.ts';
import { segmenterCommand } from '../edge-agent/src/media/ffmpeg-media-tool.ts';
import { makeBenchClip, startFakeCameraFleet } from '../test-support/src/rtsp-camera.ts';
import { cpuBetween, ioAndSwitches, sleep, snapshot, tree } from './lib/proc-cpu.ts';

const { values } = parseArgs({ options: { a: { type: 'string', default: 'plain' }, b: { type: 'string', default: 'launcher' }, cameras: { type: 'string', default: '16' }, seconds: { type: 'string', default: '30' }, 'warmup-seconds': { type: 'string', default: '8' }, 'segment-seconds': { type: 'string', default: '60' }, rounds: { type: 'string', default: '3' }, pin: { type: 'boolean', default: false } } });
const N = Number(values.cameras);
const SECONDS = Number(values.seconds);
const SEG = Number(values['segment-seconds']);
if (values.pin) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const pinned = (cmd: string, args: string[]): [string, string[]] => (values.pin ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args]);

type Spec = { args: (url: string, dir: string) => string[]; fd3: boolean; launch: boolean; detached: boolean };
const plainArgs = (url: string, dir: string) => ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', url, '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(SEG), '-segment_atclocktime', '1', '-strftime', '1', path.join(dir, '%Y%m%dT%H%M%SZ.ts')];
const recArgs = (url: string, dir: string) => buildSegmenterArgs({ inputUrl: url, transport: 'udp', timeoutUs: 5_000_000, segmentSeconds: SEG, outputPattern: path.join(dir, '%Y%m%dT%H%M%SZ-x.ts'), listPath: path.join(dir, 'list.csv'), audio: 'copy' });
/** The recorder's arguments with the camera URL and RTSP options in the argv instead of the ffconcat list on fd 3. */
const urlArgvArgs = (url: string, dir: string) => {
  const a = recArgs(url, dir);
  return [...a.slice(0, a.indexOf('-f')), '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', url, ...a.slice(a.indexOf(SEGMENTER_INPUT) + 1)];
};
const SPECS: Record<string, Spec> = {
  plain: { args: plainArgs, fd3: false, launch: false, detached: false },
  'plain-setsid': { args: plainArgs, fd3: false, launch: false, detached: true },
  recorder: { args: recArgs, fd3: true, launch: false, detached: false },
  'url-argv': { args: urlArgvArgs, fd3: false, launch: false, detached: false },
  'recorder-setsid': { args: recArgs, fd3: true, launch: false, detached: true },
  launcher: { args: recArgs, fd3: true, launch: true, detached: false },
  'launcher-setsid': { args: recArgs, fd3: true, launch: true, detached: true },
};
const A = SPECS[values.a!];
const B = SPECS[values.b!];
if (!A || !B) throw new Error(`variants: ${Object.keys(SPECS).join(', ')}`);

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-bench-pair-'));
const clip = await makeBenchClip(tmp);
const fleet = await startFakeCameraFleet({ count: N, clip });

const stderrSeen = new Map<ChildProcess, number>();
const lastStderr = new Map<ChildProcess, string>();
function start(spec: Spec, url: string, dir: string): ChildProcess {
  const args = spec.args(url, dir);
  const [cmd, argv] = spec.launch ? segmenterCommand({ ffmpegPath: 'ffmpeg', ffmpegArgs: args, setpriv: existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null, agentPid: process.pid }) : ['ffmpeg', args];
  // taskset (and setpriv) exec the command, so the launcher's parent is still this process.
  const [c, a] = pinned(cmd, argv);
  const p = spawn(c, a, { env: spec.launch ? { TZ: 'UTC', PATH: process.env.PATH } : { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: spec.detached });
  const fd3 = p.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
  fd3.on('error', () => undefined);
  fd3.end(spec.fd3 ? segmenterInputList({ inputUrl: url, transport: 'udp', timeoutUs: 5_000_000 }) : '');
  p.stdout!.on('data', () => undefined);
  // What ffmpeg prints beyond its start (warnings at the recorder's `-loglevel info`): counted per set and round.
  p.stderr!.on('data', (b: Buffer) => {
    const t = b.toString('utf8');
    stderrSeen.set(p, (stderrSeen.get(p) ?? 0) + (t.match(/\n/g)?.length ?? 0));
    lastStderr.set(p, t.trim().split('\n').pop() ?? '');
  });
  return p;
}

const rounds: Array<{ a: number; b: number; ratio: number }> = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const sets: ChildProcess[][] = [[], []];
  // Alternate which set starts first, so start order does not favour one.
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const [i, cam] of fleet.cameras.entries()) {
    for (const k of order) {
      const dir = path.join(tmp, `r${r}`, k === 0 ? 'a' : 'b', `cam${i + 1}`);
      await fs.mkdir(dir, { recursive: true });
      sets[k]!.push(start(k === 0 ? A : B, cam.url, dir));
    }
  }
  await sleep(Number(values['warmup-seconds']) * 1000);
  const lines0 = sets.map((s) => s.reduce((n, p) => n + (stderrSeen.get(p) ?? 0), 0));
  const s0 = sets.map((s) => snapshot(s.map((p) => p.pid!)));
  // The ffmpegs themselves (under the launcher they are its children).
  const ffmpegPids = sets.map((s) => s.flatMap((p) => tree(p.pid!)).filter((pid) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg'; } catch { return false; } }));
  const io0 = ffmpegPids.map((pids) => ioAndSwitches(pids));
  await sleep(SECONDS * 1000);
  const io1 = ffmpegPids.map((pids) => ioAndSwitches(pids));
  // Context switches a second of each set: more voluntary ones mean fewer packets per wake-up.
  const switches = io0.map((a, k) => ({ voluntary: Math.round((io1[k]!.voluntary - a.voluntary) / SECONDS), involuntary: Math.round((io1[k]!.involuntary - a.involuntary) / SECONDS) }));
  const stderrLines = sets.map((s, k) => s.reduce((n, p) => n + (stderrSeen.get(p) ?? 0), 0) - lines0[k]!);
  const stderrLast = sets.map((s) => s.map((p) => lastStderr.get(p)).find((l) => l) ?? '');
  const s1 = sets.map((s) => snapshot(s.map((p) => p.pid!)));
  const cpu = s0.map((a, k) => cpuBetween(a, s1[k]!));
  const alive = sets.map((s) => s.filter((p) => p.exitCode === null && p.signalCode === null).length);
  if (alive.some((n) => n !== N)) {
    console.error(`round ${r}: alive a=${alive[0]} b=${alive[1]} of ${N}: no figures`);
    process.exit(1);
  }
  const pct = (c: { seconds: number; wallSeconds: number }) => Number(((100 * c.seconds) / c.wallSeconds).toFixed(3));
  rounds.push({ a: pct(cpu[0]!), b: pct(cpu[1]!), ratio: Number((cpu[1]!.seconds / cpu[0]!.seconds).toFixed(3)) });
  console.error(JSON.stringify({ round: r, ...rounds.at(-1), load: os.loadavg()[0], switchesPerSecond: switches, stderrLinesInWindow: stderrLines, stderrLast }));
  await Promise.all(sets.flat().map((p) => new Promise<void>((res) => (p.exitCode !== null || p.signalCode !== null ? res() : (p.once('exit', () => res()), p.kill('SIGINT'))))));
  await fs.rm(path.join(tmp, `r${r}`), { recursive: true, force: true });
}
const sa = rounds.reduce((s, x) => s + x.a, 0);
const sb = rounds.reduce((s, x) => s + x.b, 0);
console.log(JSON.stringify({ a: values.a, b: values.b, cameras: N, seconds: SECONDS, pinned: values.pin, rounds, meanA: Number((sa / rounds.length).toFixed(3)), meanB: Number((sb / rounds.length).toFixed(3)), ratioBoverA: Number((sb / sa).toFixed(3)), loadAverage1m: os.loadavg()[0] }, null, 2));
await fleet.close();
await fs.rm(tmp, { recursive: true, force: true });
