/**
 * Kill -9 at arbitrary moments while a fake PBX writes calls; restart each time. Afterwards every call is in the
 * sink exactly as version 1 (a re-delivery after a crash carries the same version and content), none missing.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PbxTree, cdrLine, dayDir, naive, timestr, wavBytes } from './pbx-helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** Small deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type SinkRec = { callKey: string; version: number; hash: string; flags: string[]; pid: number };

test('SIGKILL at arbitrary moments and restart: no call lost, none doubled', { timeout: 120_000 }, async () => {
  const { tree, cleanup } = await PbxTree.create('pbx-crash-');
  cleanups.push(cleanup);
  const sinkFile = join(tree.root, 'sink.jsonl');
  const config = {
    id: 'crash-pbx',
    adapter: 'asterisk-files',
    timezone: 'Asia/Tokyo',
    monitorDir: tree.monitor,
    cdrCsv: tree.master,
    quietSeconds: 0.4,
    pollSeconds: 0.05,
    // Waits long enough that a loaded machine (restarts take seconds there) does not seal a call before its
    // recording or row is seen, which would make a correct version 2 and fail the "only version 1" check.
    recordingWaitSeconds: 4,
    cdrWaitSeconds: 4.5,
    backfillHours: null,
  };
  let child: ChildProcess | null = null;
  let starts = 0;
  const startChild = async () => {
    starts++;
    const c = spawn(process.execPath, ['--import', 'tsx', join(here, 'pbx-crash-child.ts'), JSON.stringify(config), tree.state, sinkFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = c;
    await new Promise<void>((res, rej) => {
      c.stdout!.once('data', () => res());
      c.once('exit', (code) => rej(new Error(`child exited early: ${code}`)));
    });
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  cleanups.push(kill);

  const rand = rng(Number(process.env.PBX_CRASH_SEED ?? 20261123));
  // Calls start about an hour ago (the PBX's recordings land in today's folders, as on a real box): the test must
  // not depend on the date it runs on. The orphan-recording calls rely on the watcher seeing their files promptly.
  const base = Math.floor(Date.now() / 60e3) * 60e3 - 3600e3;
  const expected = new Map<string, string>(); // callKey → expected flag
  await startChild();
  let nextKill = Date.now() + 200 + rand() * 400;
  const maybeKill = async () => {
    if (Date.now() >= nextKill) {
      await kill();
      await startChild();
      nextKill = Date.now() + 150 + rand() * 500;
    }
  };

  for (let i = 0; i < 24; i++) {
    const at = base + i * 90e3;
    const uid = `${Math.floor(at / 1000)}.${i}`;
    const kind = i % 6 === 5 ? 'orphan-recording' : i % 6 === 4 ? 'no-recording' : 'full';
    if (kind !== 'no-recording') {
      await tree.recording(dayDir(at, 9), `in-0501234567-03100000${String(i).padStart(2, '0')}-${timestr(at, 9)}-${uid}.wav`, wavBytes(1, { seed: i }));
    }
    if (kind !== 'orphan-recording') {
      const line = Buffer.from(cdrLine({ src: `03100000${String(i).padStart(2, '0')}`, dst: '0501234567', channel: `PJSIP/trunk-${i}`, dstchannel: 'PJSIP/201-1', start: naive(at, 9), answer: naive(at, 9), end: naive(at + 1e3, 9), duration: 1, billsec: 1, disposition: 'ANSWERED', uniqueid: uid }, 21));
      // Half a line, maybe a kill, then the rest: the writer is never killed, the reader is.
      const cut = 20 + Math.floor(rand() * (line.length - 40));
      await tree.append(line.subarray(0, cut));
      await sleep(rand() * 60);
      await maybeKill();
      await tree.append(line.subarray(cut));
    }
    expected.set(`crash-pbx:${uid}`, kind === 'full' ? '' : kind === 'no-recording' ? 'no_recording' : 'no_cdr');
    await sleep(40 + rand() * 80);
    await maybeKill();
  }
  // Keep killing for a while as calls get sealed (the interesting window: between sink and ledger).
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    await sleep(50);
    await maybeKill();
  }
  // Then let it finish.
  const deadline = Date.now() + 40_000;
  let recs: SinkRec[] = [];
  for (;;) {
    const text = await readFile(sinkFile, 'utf8').catch(() => '');
    recs = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SinkRec);
    if (new Set(recs.map((r) => r.callKey)).size >= expected.size || Date.now() > deadline) break;
    await sleep(200);
  }
  await sleep(1500); // anything late would show up now
  recs = (await readFile(sinkFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SinkRec);
  await kill();

  assert.ok(starts >= 8, `the child was restarted ${starts} times`);
  assert.deepEqual([...new Set(recs.map((r) => r.callKey))].sort(), [...expected.keys()].sort(), 'every call, nothing else');
  for (const [key, flag] of expected) {
    const got = recs.filter((r) => r.callKey === key);
    assert.ok(got.every((r) => r.version === 1), `${key}: only version 1 (${got.map((r) => r.version)})`);
    assert.equal(new Set(got.map((r) => r.hash)).size, 1, `${key}: re-deliveries are identical`);
    assert.deepEqual(got[0]!.flags, flag ? [flag] : [], key);
  }
  // A clean stop on SIGTERM.
  await startChild();
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child!.kill('SIGTERM');
  assert.equal(await exited, 0, 'SIGTERM: clean exit');
  const redelivered = recs.length - expected.size;
  console.log(`# ${starts} starts, ${recs.length} deliveries for ${expected.size} calls (${redelivered} identical re-deliveries)`);
});
