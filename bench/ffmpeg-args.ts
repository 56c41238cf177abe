/**
 * What each of the recorder's ffmpeg options costs, against plain ffmpeg segmenting: N fake 1080p cameras, each
 * variant measured over the same window length on the same fleet, one after the other, with plain ffmpeg measured
 * first and last so drift in the machine shows.
 *
 *   node --import tsx bench/ffmpeg-args.ts [--cameras 16] [--seconds 45] [--warmup-seconds 8] [--rounds 2] [--only plain,recorder,…]
 *
 * Variants: `plain` (the baseline of bench/cameras.ts), `recorder` (buildSegmenterArgs exactly, the camera URL in an
 * ffconcat list on fd 3, progress drained and stderr read, as the agent does), `launcher` (the same under the agent's
 * launcher, segmenterCommand: the launcher's shell is measured with its ffmpeg), `url-argv` (the URL and RTSP options
 * in the argv instead of the fd 3 list), `flush` (with the old `flush_packets=1`), and the recorder's arguments each
 * with one option taken out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { buildSegmenterArgs, SEGMENTER_INPUT, segmenterInputList } from '../edge-agent/src/media/media-tool.ts';
import { hasControllingTerminal, segmenterCommand } from '../edge-agent/src/media/ffmpeg-media-tool.ts';
import { cpuBetween, sleep, snapshot } from './lib/proc-cpu.ts';
import { makeBenchClip, startFakeCameraFleet } from '../test-support/src/rtsp-camera.ts';

const { values } = parseArgs({ options: { cameras: { type: 'string', default: '16' }, seconds: { type: 'string', default: '45' }, 'warmup-seconds': { type: 'string', default: '8' }, 'segment-seconds': { type: 'string', default: '60' }, only: { type: 'string' }, rounds: { type: 'string', default: '2' } } });
const N = Number(values.cameras);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values['warmup-seconds']);
const SEG = Number(values['segment-seconds']);

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-bench-ffargs-'));
const clip = await makeBenchClip(tmp);
const fleet = await startFakeCameraFleet({ count: N, clip });

/** `launch`: run under the agent's launcher (setpriv + ffmpeg-launcher.sh), as the recorder does. */
type Variant = { name: string; args: (url: string, dir: string, list: string) => string[]; launch?: boolean };
const plain: Variant = {
  name: 'plain',
  args: (url, dir) => ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', url, '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(SEG), '-segment_atclocktime', '1', '-strftime', '1', path.join(dir, '%Y%m%dT%H%M%SZ.ts')],
};
const recorderArgs = (url: string, dir: string, list: string) => buildSegmenterArgs({ inputUrl: url, transport: 'udp', timeoutUs: 5_000_000, segmentSeconds: SEG, outputPattern: path.join(dir, '%Y%m%dT%H%M%SZ-x.ts'), listPath: list, audio: 'copy' });
/** The recorder's arguments with `drop` (an option and its value(s)) removed. */
const without = (name: string, drop: (a: string[]) => string[]): Variant => ({ name, args: (u, d, l) => drop(recorderArgs(u, d, l)) });
const cut = (a: string[], opt: string, n = 1) => {
  const i = a.indexOf(opt);
  return i < 0 ? a : [...a.slice(0, i), ...a.slice(i + 1 + n)];
};
const all: Variant[] = [
  plain,
  { name: 'recorder', args: recorderArgs },
  { name: 'launcher', args: recorderArgs, launch: true },
  // The camera URL in the argv (readable by every local user) instead of an ffconcat list on fd 3.
  without('url-argv', (a) => {
    const i = a.indexOf('-f');
    const input = a.indexOf(SEGMENTER_INPUT);
    return [...a.slice(0, i), '-rtsp_transport', 'udp', '-timeout', '5000000', '-i', 'URL', ...a.slice(input + 1)];
  }),
  // What flushing every packet costs (the recorder did it until the launcher made a dying agent stop ffmpeg gracefully).
  without('flush', (a) => {
    const i = a.indexOf('-segment_format') + 2;
    return [...a.slice(0, i), '-segment_format_options', 'flush_packets=1', ...a.slice(i)];
  }),
  without('no-progress', (a) => cut(cut(a, '-progress'), '-stats_period')),
  without('stats-2s', (a) => a.map((x, i) => (a[i - 1] === '-stats_period' ? '2' : x))),
  without('loglevel-error', (a) => a.map((x, i) => (a[i - 1] === '-loglevel' ? 'error' : x))),
  { name: 'plain-nostats', args: (u, d, l) => ['-nostats', ...plain.args(u, d, l)] },
];
const chosen = all.filter((v) => !values.only || values.only.split(',').includes(v.name));
// Rounds interleave the variants (A B C A B C …) so that drift in the machine's load spreads over all of them.
const variants = Array.from({ length: Number(values.rounds) }, () => chosen).flat();

const results: Array<{ variant: string; cpuPercentOfOneCore: number; cpuSeconds: number }> = [];
for (const [k, v] of variants.entries()) {
  const procs: ChildProcess[] = [];
  for (const [i, cam] of fleet.cameras.entries()) {
    const dir = path.join(tmp, `v${k}`, `cam${i + 1}`);
    await fs.mkdir(dir, { recursive: true });
    const args = v.args(cam.url, dir, path.join(dir, 'list.csv')).map((x) => (x === 'URL' ? cam.url : x));
    const [cmd, argv] = v.launch ? segmenterCommand({ ffmpegPath: 'ffmpeg', ffmpegArgs: args, setpriv: existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null, agentPid: process.pid }) : ['ffmpeg', args];
    const p = spawn(cmd, argv, { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: v.launch && hasControllingTerminal() }); // in a session of its own only as the agent would be (docs/recorder.md)
    // The input list on fd 3, as the agent writes it (variants with the URL in the argv ignore the pipe).
    const fd3 = p.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: () => void): void };
    fd3.on('error', () => undefined);
    fd3.end(args.includes(SEGMENTER_INPUT) ? segmenterInputList({ inputUrl: cam.url, transport: 'udp', timeoutUs: 5_000_000 }) : '');
    // Read what ffmpeg writes, as the agent does (a pipe nobody reads would block ffmpeg).
    p.stdout!.on('data', () => undefined);
    p.stderr!.on('data', () => undefined);
    procs.push(p);
  }
  await sleep(WARMUP * 1000);
  const a = snapshot(procs.map((p) => p.pid!));
  await sleep(SECONDS * 1000);
  const c = cpuBetween(a, snapshot(procs.map((p) => p.pid!)));
  // The figure is for N recording cameras only if each process is still running and writing (a variant whose
  // ffmpeg died costs nothing and would look cheap).
  const alive = procs.filter((p) => p.exitCode === null && p.signalCode === null).length;
  const writing = await Promise.all(fleet.cameras.map(async (_, i) => {
    const dir = path.join(tmp, `v${k}`, `cam${i + 1}`);
    const sizes = await Promise.all((await fs.readdir(dir)).filter((f) => f.endsWith('.ts')).map(async (f) => (await fs.stat(path.join(dir, f))).size));
    return sizes.some((n) => n > 0);
  }));
  if (alive !== N || writing.some((w) => !w)) {
    console.error(`variant ${v.name}: ${alive} of ${N} processes alive, ${writing.filter(Boolean).length} writing segments: no figures`);
    process.exit(1);
  }
  results.push({ variant: v.name, cpuPercentOfOneCore: Number(((100 * c.seconds) / c.wallSeconds).toFixed(2)), cpuSeconds: Number(c.seconds.toFixed(3)) });
  await Promise.all(procs.map((p) => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill('SIGINT'))))));
  await fs.rm(path.join(tmp, `v${k}`), { recursive: true, force: true });
  console.error(JSON.stringify(results.at(-1)));
}
const mean = (name: string) => {
  const xs = results.filter((r) => r.variant === name).map((r) => r.cpuSeconds);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const base = mean('plain');
const summary = chosen.map((v) => ({ variant: v.name, meanCpuSeconds: Number(mean(v.name).toFixed(2)), cpuPercentOfOneCore: Number(((100 * mean(v.name)) / SECONDS).toFixed(2)), overPlain: base ? Number((mean(v.name) / base).toFixed(3)) : null }));
console.log(JSON.stringify({ machine: `${os.cpus().length} cores, node ${process.version}`, cameras: N, measuredSeconds: SECONDS, rounds: Number(values.rounds), loadAverage1m: os.loadavg()[0], summary, runs: results }, null, 2));
await fleet.close();
await fs.rm(tmp, { recursive: true, force: true });
