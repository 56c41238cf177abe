/**
 * Where the agent's own process spends its CPU while it only records: the real `agent run` with N simulated 1080p
 * cameras and a centre that does not answer (nothing uploads), on core 0 (this process and the cameras on core 1).
 * After a warm-up it prints, for a window, each of node's threads with its CPU and context switches a second
 * (schedstat and /proc status), and the node process's CPU second by second (a segment cut shows as a burst of
 * hashing). Optionally it records the window with `perf` or `strace -c` for a closer look.
 *
 *   node --import tsx bench/agent-probe.ts [--cameras 16] [--warmup-seconds 30] [--seconds 60] [--segment-seconds 60]
 *        [--perf FILE] [--strace FILE] [--node-flags "--perf-basic-prof"]
 *
 * Used for docs/benchmarks.md "Agent CPU" ("What node does between segment closes"). Not a pass/fail figure: for the
 * targets, run bench/cameras.ts.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hasControllingTerminal } from '../edge-agent/src/media/ffmpeg-media-tool.ts';
import { AGENT_NODE_FLAGS } from '../edge-agent/src/lib/node-flags.ts';
import { makeBenchClip, startFakeCameraFleet } from '../test-support/src/rtsp-camera.ts';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '16' },
    'warmup-seconds': { type: 'string', default: '30' },
    seconds: { type: 'string', default: '60' },
    'segment-seconds': { type: 'string', default: '60' },
    perf: { type: 'string' },
    strace: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
  },
});
// As bench/cameras.ts: no controlling terminal (the agent runs as a service does), the store side on core 0.
if (hasControllingTerminal()) {
  const r = spawnSync('setsid', ['-w', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const N = Number(values.cameras);
const WARM = Number(values['warmup-seconds']);
const SECS = Number(values.seconds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'mamoru-agent-probe-'));
const fleet = await startFakeCameraFleet({ count: N, clip: await makeBenchClip(tmp) });
const stateDir = path.join(tmp, 'state');
await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
// A credential as enrolment leaves it, for a centre that is not there (port 9, discard: refused).
await fs.writeFile(
  path.join(stateDir, 'credential.json'),
  JSON.stringify({ v: 1, serverUrl: 'http://127.0.0.1:9', agentId: '00000000-0000-4000-8000-000000000001', siteId: '00000000-0000-4000-8000-000000000002', siteCode: 'probe', timezone: 'Asia/Tokyo', credential: 'x'.repeat(40), enrolledAt: new Date().toISOString() }),
  { mode: 0o600 },
);
const config = path.join(tmp, 'agent.json');
await fs.writeFile(
  config,
  JSON.stringify({
    server: { url: 'http://127.0.0.1:9' },
    stateDir,
    spoolDir: path.join(tmp, 'spool'),
    logLevel: 'error',
    recording: { segmentSeconds: Number(values['segment-seconds']) },
    disk: { maxUsePercent: 100, minFreeBytes: 0 },
    cameras: fleet.cameras.map((c, i) => ({ key: `cam${i + 1}`, name: `cam${i + 1}`, transport: 'udp', rtspUrl: c.url })),
  }),
);
const flags = values['node-flags']!.split(' ').filter(Boolean);
const agent = spawn('taskset', ['-c', '0', process.execPath, ...AGENT_NODE_FLAGS, ...flags, '--import', 'tsx', 'edge-agent/src/main.ts', 'run', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
const pid = agent.pid!;
await sleep(WARM * 1000);

type Thread = { tid: string; name: string; voluntary: number; involuntary: number; ns: number };
const threads = (): Thread[] =>
  readdirSync(`/proc/${pid}/task`).map((tid) => {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const field = (re: RegExp) => Number(re.exec(status)?.[1] ?? 0);
    return { tid, name: /Name:\s*(.*)/.exec(status)?.[1] ?? '?', voluntary: field(/^voluntary_ctxt_switches:\s*(\d+)/m), involuntary: field(/nonvoluntary_ctxt_switches:\s*(\d+)/), ns: Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) };
  });
const total = (ts: Thread[]) => ts.reduce((n, t) => n + t.ns, 0);
const tools = [
  values.perf ? spawn('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', values.perf, '--', 'sleep', String(SECS)], { stdio: 'ignore' }) : null,
  values.strace ? spawn('timeout', ['-s', 'INT', String(SECS), 'strace', '-f', '-c', '-o', values.strace, '-p', String(pid)], { stdio: 'ignore' }) : null,
].filter((p) => p !== null);
const a = threads();
const perSecond: number[] = [];
let prev = total(a);
for (let i = 0; i < SECS; i++) {
  await sleep(1000);
  const now = total(threads());
  perSecond.push(Math.round((now - prev) / 1e5) / 10);
  prev = now;
}
const b = threads();
await Promise.all(tools.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
const pct = (ns: number) => `${((100 * ns) / 1e9 / SECS).toFixed(3)} %`;
console.log(`agent (node) recording ${N} cameras, centre unreachable, ${SECS} s after ${WARM} s:`);
for (const t of b) {
  const before = a.find((x) => x.tid === t.tid);
  if (!before) continue;
  const ns = t.ns - before.ns;
  if (ns < 1e6 && t.voluntary - before.voluntary < SECS) continue;
  console.log(`  thread ${t.tid} ${t.name.padEnd(15)} ${pct(ns).padStart(9)} of a core, ${((t.voluntary - before.voluntary) / SECS).toFixed(1)} voluntary and ${((t.involuntary - before.involuntary) / SECS).toFixed(1)} involuntary switches a second`);
}
console.log(`  node in all: ${pct(total(b) - total(a))} of a core`);
console.log(`  node CPU ms, second by second: ${perSecond.join(' ')}`);
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
await fleet.close();
await fs.rm(tmp, { recursive: true, force: true });
