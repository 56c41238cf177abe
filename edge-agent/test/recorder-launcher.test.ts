/**
 * The recorder's ffmpeg launcher (edge-agent/src/media/ffmpeg-launcher.sh): ffmpeg gets exactly one stop signal.
 *
 * A SIGKILLed agent (node: a dozen threads) delivers its pdeathsig once per dying thread as the child is reparented
 * through them; ffmpeg, at a second signal, skips its trailer and loses what it buffered. The recorder no longer
 * flushes every packet, so this must hold: the launcher forwards one SIGTERM, whatever it receives.
 *
 * - A stand-in ffmpeg (node, which counts every signal delivery in its handler) under a real agent process that is
 *   SIGKILLed, several agents at once: exactly one SIGTERM each. It also reads the input list on fd 3 through the
 *   launcher.
 * - In process: repeated stop signals, a SIGKILLed ffmpeg, a SIGKILLed launcher, a hard kill; exit codes and signals
 *   reach the agent as ffmpeg's own.
 * - Real ffmpeg recording a simulated camera under an agent that is SIGKILLed mid-segment: ffmpeg closes the segment
 *   gracefully (its list line is written, the file holds everything to the end of that line).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createFfmpegMediaTool } from '../src/media/ffmpeg-media-tool.ts';
import { parseSegmentList, type SegmenterOptions } from '../src/media/media-tool.ts';
import { makeTestClip, startFakeCamera, startRtspRelay } from '../../test-support/src/rtsp-camera.ts';
import { ffprobeFile, isAlive, tempDir, waitFor } from './helpers/recorder-harness.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TOOL = fileURLToPath(new URL('../src/media/ffmpeg-media-tool.ts', import.meta.url));

/** Gone, or exited and waiting to be reaped (an orphan's parent is init, which may reap late). */
function ended(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** For a failure message: a process's state, parent and signal masks, or that it is gone. */
function procState(pid: number): string {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const f = (k: string) => /^(\w+):\s*(.*)$/m.exec(st.split('\n').find((l) => l.startsWith(`${k}:`)) ?? '')?.[2] ?? '?';
    return `${pid}: ${f('Name')} ${f('State')} ppid ${f('PPid')} threads ${f('Threads')} pending ${f('SigPnd')}/${f('ShdPnd')} blocked ${f('SigBlk')} ignored ${f('SigIgn')} caught ${f('SigCgt')}`;
  } catch {
    return `${pid}: gone`;
  }
}

function ppid(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
}

function sessionAndGroup(pid: number): { session: number; group: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { session: Number(f[3]), group: Number(f[2]) };
}

let dir: Awaited<ReturnType<typeof tempDir>>;
let fakeFfmpeg: string;

// The stand-in ffmpeg logs, next to its output pattern (its last argument): its start with the input list's `file`
// line, then every signal it receives (one line per handler call). It exits 255 1.5 s after the first one, as ffmpeg
// exits after a signal, so that later signals are still seen.
const FAKE = `
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const log = join(dirname(process.argv.at(-1)), 'signals.log');
const input = readFileSync(3, 'utf8');
appendFileSync(log, 'start ' + process.pid + ' ' + (input.split('\\n')[1] ?? '') + '\\n');
let first = true;
for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']) process.on(s, () => {
  appendFileSync(log, s + '\\n');
  if (first) setTimeout(() => process.exit(255), 1500);
  first = false;
});
setInterval(() => {}, 1000);
`;

const opts = (out: string, over: Partial<SegmenterOptions> = {}): SegmenterOptions => ({
  inputUrl: 'rtsp://user:pw@127.0.0.1:9/stream',
  transport: 'tcp',
  timeoutUs: 5_000_000,
  segmentSeconds: 60,
  outputPattern: join(out, '%Y%m%dT%H%M%SZ.ts'),
  listPath: join(out, 'list.csv'),
  audio: 'copy',
  ...over,
});

const signalsLog = async (out: string) => (await readFile(join(out, 'signals.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

/** A real agent process (node + tsx) running one segmenter; prints ffmpeg's pid once known. */
async function startAgentProcess(options: SegmenterOptions, ffmpegPath: string | null): Promise<{ agent: ChildProcess; pid: number }> {
  const script = join(options.outputPattern, '..', 'agent.mts');
  await writeFile(
    script,
    `import { createFfmpegMediaTool } from ${JSON.stringify(TOOL)};
const p = createFfmpegMediaTool(${ffmpegPath ? `{ ffmpegPath: ${JSON.stringify(ffmpegPath)} }` : ''}).startSegmenter(${JSON.stringify(options)}, {});
const t = setInterval(() => { if (p.pid) { console.log(p.pid); clearInterval(t); } }, 20);
setInterval(() => {}, 1000);`,
  );
  const agent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    agent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    agent.once('exit', () => reject(new Error('agent exited early')));
  });
  return { agent, pid };
}

/** The stand-in ffmpeg under the launcher, started through the media tool in this process, once it has read its input. */
async function startStandIn(name: string) {
  const out = join(dir.path, name);
  await mkdir(out);
  const p = createFfmpegMediaTool({ ffmpegPath: fakeFfmpeg }).startSegmenter(opts(out), {});
  await waitFor('ffmpeg to start', () => p.pid !== undefined, 10_000);
  const pid = p.pid!;
  await waitFor('the stand-in ffmpeg to read its input', () => readFileSync(join(out, 'signals.log'), { encoding: 'utf8', flag: 'a+' }).includes('start'), 10_000);
  return { out, p, pid, launcher: ppid(pid) };
}

before(async () => {
  dir = await tempDir('launcher');
  await writeFile(join(dir.path, 'fake.mjs'), FAKE);
  fakeFfmpeg = join(dir.path, 'fake-ffmpeg');
  await writeFile(fakeFfmpeg, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir.path, 'fake.mjs'))} "$@"\n`);
  await chmod(fakeFfmpeg, 0o755);
});

after(async () => {
  await dir.remove();
});

describe('ffmpeg launcher', () => {
  test('a SIGKILLed agent stops ffmpeg with exactly one SIGTERM (4 agents at once)', async () => {
    const rounds = await Promise.all(
      [1, 2, 3, 4].map(async (i) => {
        const out = join(dir.path, `kill${i}`);
        await mkdir(out);
        const { agent, pid } = await startAgentProcess(opts(out), fakeFfmpeg);
        return { out, agent, pid, launcher: ppid(pid) };
      }),
    );
    try {
      for (const r of rounds) {
        await waitFor('the stand-in ffmpeg to read its input', () => readFileSync(join(r.out, 'signals.log'), { encoding: 'utf8', flag: 'a+' }).includes('start'), 10_000);
        const threads = (await readdir(`/proc/${r.agent.pid}/task`)).length;
        assert.ok(threads > 2, `the agent has ${threads} threads (each would deliver the pdeathsig)`);
      }
      for (const r of rounds) r.agent.kill('SIGKILL');
      for (const r of rounds) {
        // 20 s: the stand-in exits 1.5 s after its first signal. If this fails, the message says where the signal stopped.
        await waitFor('ffmpeg to exit after the agent died', () => ended(r.pid), 20_000).catch(async (e: Error) =>
          assert.fail(`${e.message}; launcher ${procState(r.launcher)}; ffmpeg ${procState(r.pid)}; its log ${JSON.stringify(await signalsLog(r.out))}`),
        );
      }
      for (const r of rounds) {
        const lines = await signalsLog(r.out);
        assert.equal(lines[0], `start ${r.pid} file 'rtsp://user:pw@127.0.0.1:9/stream'`, 'ffmpeg read the camera URL on fd 3 through the launcher');
        assert.deepEqual(lines.slice(1), ['SIGTERM'], `${r.out}: one graceful stop, no more`);
      }
    } finally {
      for (const r of rounds) r.agent.kill('SIGKILL');
    }
  });

  test('stop(): however many stop signals the launcher gets, ffmpeg sees one; its exit code comes back', async () => {
    const { out, p, pid, launcher } = await startStandIn('stop');
    assert.notEqual(launcher, process.pid, 'ffmpeg runs under the launcher');
    assert.match(readFileSync(`/proc/${launcher}/cmdline`, 'utf8'), /ffmpeg-launcher\.sh/);
    process.kill(launcher, 'SIGTERM');
    process.kill(launcher, 'SIGINT');
    // If ffmpeg has not exited 3 s in, what the launcher and ffmpeg show then goes into a failure message.
    let late = '';
    const look = setTimeout(() => (late = `launcher ${procState(launcher)}; ffmpeg ${procState(pid)}`), 3000);
    const exit = await p.stop(10_000);
    clearTimeout(look);
    assert.deepEqual(await signalsLog(out).then((l) => l.slice(1)), ['SIGTERM'], `what the stand-in saw (3 s after the stop signals: ${late || 'it had exited'})`);
    assert.equal(exit.code, 255, "ffmpeg's exit code");
    assert.equal(exit.signal, null);
    assert.ok(!exit.stderrTail.some((l) => l.startsWith('mamoru-launcher')), "the launcher's pid line is not ffmpeg's output");
    assert.ok(ended(launcher) && ended(pid));
  });

  test('a burst of stop signals (as from a dying agent\'s threads, here 12): ffmpeg still sees exactly one', async () => {
    for (let round = 0; round < 3; round++) {
      const { out, p, launcher } = await startStandIn(`burst${round}`);
      // As many as a dying agent's threads send, back to back: most arrive while the launcher runs its trap.
      await new Promise<void>((resolve) => spawn('sh', ['-c', `i=0; while [ $i -lt 6 ]; do kill -TERM ${launcher}; kill -INT ${launcher}; i=$((i+1)); done 2>/dev/null`]).once('exit', () => resolve()));
      const exit = await p.exited;
      assert.deepEqual(await signalsLog(out).then((l) => l.slice(1)), ['SIGTERM'], `round ${round}`);
      assert.equal(exit.code, 255, "ffmpeg's exit code");
    }
  });

  test("ffmpeg's own exit code, and death by a signal, reach the agent unchanged", async () => {
    const outA = join(dir.path, 'code');
    await mkdir(outA);
    const a = createFfmpegMediaTool({ ffmpegPath: fakeFfmpeg }).startSegmenter(opts(outA), {});
    await waitFor('ffmpeg to start', () => a.pid !== undefined, 10_000);
    process.kill(a.pid!, 'SIGKILL');
    const killed = await a.exited;
    assert.equal(killed.signal, 'SIGKILL', 'an ffmpeg killed by SIGKILL is reported as such');
    assert.equal(killed.code, null);

    const outB = join(dir.path, 'badarg');
    await mkdir(outB);
    // Real ffmpeg, an input it refuses at once (the whitelist keeps `file` out): its exit code 1 and its stderr.
    const b = createFfmpegMediaTool().startSegmenter(opts(outB, { inputUrl: `file:${join(outB, 'nothing.ts')}` }), {});
    const refused = await b.exited;
    assert.equal(refused.signal, null);
    assert.equal(refused.code, 1, `ffmpeg exit code: ${refused.stderrTail.join(' | ')}`);
    assert.ok(refused.stderrTail.length > 0, "ffmpeg's stderr still reaches the agent");
  });

  test('a killed launcher stops ffmpeg with one SIGTERM', async () => {
    const out = join(dir.path, 'launcher-killed');
    await mkdir(out);
    const p = createFfmpegMediaTool({ ffmpegPath: fakeFfmpeg }).startSegmenter(opts(out), {});
    await waitFor('ffmpeg to start', () => p.pid !== undefined, 10_000);
    await waitFor('the stand-in ffmpeg to read its input', () => readFileSync(join(out, 'signals.log'), { encoding: 'utf8', flag: 'a+' }).includes('start'), 10_000);
    process.kill(ppid(p.pid!), 'SIGKILL');
    const exit = await p.exited;
    assert.equal(exit.signal, 'SIGKILL');
    await waitFor('ffmpeg to exit', () => ended(p.pid!), 10_000);
    assert.deepEqual((await signalsLog(out)).slice(1), ['SIGTERM'], "ffmpeg's own pdeathsig, from a single-threaded parent: once");

  });

  // Without a controlling terminal (a service) the launcher and ffmpeg stay in the agent's session and process group:
  // one scheduling group for all recorders under the kernel's autogroups. With one (ownSession), the launcher leads its
  // own session and group, so that the terminal's signals reach only the agent. Set explicitly here, so that the test
  // holds when run from a terminal too.
  for (const ownSession of [false, true]) {
    test(`kill() ends launcher and ffmpeg at once (${ownSession ? 'own session: an agent with a terminal' : "the agent's session: a service"})`, async () => {
      const out2 = join(dir.path, `hard-kill-${ownSession}`);
      await mkdir(out2);
      const q = createFfmpegMediaTool({ ffmpegPath: fakeFfmpeg, ownSession }).startSegmenter(opts(out2), {});
      await waitFor('ffmpeg to start', () => q.pid !== undefined, 10_000);
      const pid = q.pid!;
      const launcher = ppid(pid);
      const me = sessionAndGroup(process.pid);
      if (ownSession) {
        assert.deepEqual(sessionAndGroup(launcher), { session: launcher, group: launcher }, 'the launcher leads its own session and group');
        assert.deepEqual(sessionAndGroup(pid), { session: launcher, group: launcher });
      } else {
        assert.deepEqual(sessionAndGroup(launcher), me, "the launcher is in the agent's session and group");
        assert.deepEqual(sessionAndGroup(pid), me);
      }
      q.kill();
      const hard = await q.exited;
      assert.equal(hard.signal, 'SIGKILL');
      await waitFor('ffmpeg to be gone', () => ended(pid), 5_000);
      assert.ok(ended(launcher));
      assert.deepEqual((await signalsLog(out2)).filter((l) => !l.startsWith('start')), [], 'no graceful stop: killed at once');
    });
  }
});

describe('real ffmpeg under a SIGKILLed agent, without a per-packet flush', () => {
  test('ffmpeg finishes the segment it was writing: list line written, the file holds it all', { timeout: 90_000 }, async () => {
    const clip = await makeTestClip({ dir: join(dir.path, 'clips'), audio: 'aac' });
    const relay = await startRtspRelay();
    const camera = await startFakeCamera(relay, { clip });
    const out = join(dir.path, 'real');
    await mkdir(out);
    let agent: ChildProcess | undefined;
    try {
      const o = opts(out, { inputUrl: camera.url, transport: 'udp', segmentSeconds: 60 });
      const started = await startAgentProcess(o, null);
      agent = started.agent;
      const segFiles = async () => (await readdir(out)).filter((f) => f.endsWith('.ts'));
      let opened = 0;
      await waitFor('ffmpeg to open its segment', () => {
        void segFiles().then((f) => (opened = f.length));
        return opened > 0;
      }, 20_000);
      await new Promise((r) => setTimeout(r, 4000));
      agent.kill('SIGKILL');
      await waitFor('ffmpeg to exit after the agent died', () => ended(started.pid), 15_000);
      assert.ok(!isAlive(started.pid) || ended(started.pid));
      // Usually one file (60 s segments); two if a wall-clock minute fell inside the recording.
      const files = (await segFiles()).sort();
      const list = parseSegmentList(await readFile(o.listPath, 'utf8'));
      assert.deepEqual(list.map((l) => l.file), files, 'ffmpeg wrote the list line of every segment, the one it was writing at the kill included (a graceful close)');
      const last = list.at(-1)!;
      assert.ok(last.endS - list[0]!.startS > 3, `the segments hold the seconds before the kill (${last.endS - list[0]!.startS} s)`);
      const file = join(out, last.file);
      assert.ok((await stat(file)).size > 0);
      const probed = await ffprobeFile(file);
      const listed = last.endS - last.startS;
      assert.ok(Math.abs(probed.duration - listed) < 0.2, `everything listed reached the file: ffprobe ${probed.duration} s, list ${listed} s`);
    } finally {
      agent?.kill('SIGKILL');
      await camera.close();
      await relay.close();
    }
  });
});
