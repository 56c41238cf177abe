/**
 * The agent's own downtime is a gap (recorder/downtime.ts): a real agent process records two simulated cameras into
 * a real centre; it is SIGKILLed, stays down for a while and is started again; later it is stopped cleanly (an
 * upgrade) and started again. Each camera gets an `agent_down` gap per outage, from the end of its last footage before
 * the outage (the segment recovered after the kill included) to its first new segment, to the millisecond, with the
 * kind of stop in the detail; no footage overlaps a gap.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { centreGaps, enrollAgent, tempDir, waitFor } from '../edge-agent/test/helpers/agent.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../test-support/src/rtsp-camera.ts';

const SEGMENT_S = 4;
const DOWN_MS = 8000;
const MAIN = new URL('../edge-agent/src/main.ts', import.meta.url).pathname;
const CAMS = ['cam1', 'cam2'];

let centre: TestCentre;
let root: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
const cameras: FakeCamera[] = [];
let agent: ChildProcess | undefined;
let site: { siteId: string };
let config: string;
let agentLog = '';

const startAgent = () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  return child;
};
const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  centre = await startCentre();
  root = await tempDir('e2e-down-');
  const clip = await makeTestClip({ dir: root.path, width: 320, height: 240, fps: 10, seconds: 8, gopSeconds: 1, audio: 'aac' });
  relay = await startRtspRelay();
  for (const key of CAMS) cameras.push(await startFakeCamera(relay, { clip, mount: `/${key}` }));
  const stateDir = join(root.path, 'state');
  site = await enrollAgent(centre, stateDir);
  config = join(root.path, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      server: { url: centre.url },
      stateDir,
      spoolDir: join(root.path, 'spool'),
      heartbeatSeconds: 5,
      logLevel: 'info',
      upload: { backoff: { baseMs: 200, capMs: 2000 } },
      recording: { segmentSeconds: SEGMENT_S },
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      cameras: CAMS.map((key, i) => ({ key, name: `カメラ${i + 1}`, transport: 'udp', rtspUrl: cameras[i]!.url })),
    }),
  );
});

after(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGTERM');
    await exited(agent);
  }
  for (const c of cameras) await c.close();
  await relay?.close();
  await centre.close();
  await root.remove();
});

/** Footage rows of a camera at the centre, start order, with exact spans. */
async function footage(key: string) {
  const rows = await centre.db
    .selectFrom('segment')
    .innerJoin('camera', 'camera.id', 'segment.cameraId')
    .select((eb) => [eb.fn<Date>('lower', ['segment.span']).as('start'), eb.fn<Date>('upper', ['segment.span']).as('end')])
    .where('camera.siteId', '=', site.siteId)
    .where('camera.key', '=', key)
    .orderBy('start')
    .execute();
  return rows.map((r) => ({ start: new Date(r.start).getTime(), end: new Date(r.end).getTime() }));
}

/**
 * Waits for the camera's agent_down gap that starts at or after `after` and checks it against the footage around it.
 * A camera that refuses the restarted recorder for a moment (the test relay sometimes answers SETUP with a 500) adds
 * its own camera_offline gap from the restart on, as designed; the footage then resumes where that one ends.
 */
async function checkDownGap(key: string, o: { downAt: number; upAt: number; after: number; how: RegExp }, note: (s: string) => void) {
  const found = await waitFor(
    `${key}: an agent_down gap and footage after it`,
    async () => {
      const gaps = await centreGaps(centre, site.siteId, key);
      const g = gaps.find((x) => x.reason === 'agent_down' && x.start.getTime() >= o.after);
      if (!g) return undefined;
      // The camera's own outage right after the restart, if any, continues the gap.
      const then = gaps.filter((x) => x.reason === 'camera_offline' && x.start.getTime() >= g.end.getTime()).sort((a, b) => a.start.getTime() - b.start.getTime());
      let resume = g.end.getTime();
      const after: typeof then = [];
      for (const x of then) if (x.start.getTime() === resume) (after.push(x), (resume = x.end.getTime()));
      const segs = await footage(key);
      return segs.some((s) => s.start === resume) ? { g, resume, after } : undefined;
    },
    90_000,
    250,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; agent log: ${agentLog.split('\n').filter((l) => /down|gap|error|recover/i.test(l)).slice(-12).join('\n')}`);
  });
  const gap = found.g;
  if (found.after.length > 0) note(`${key}: the camera refused the restarted recorder for ${found.resume - gap.end.getTime()} ms (camera_offline after the agent_down gap: ${found.after.map((x) => x.detail).join('; ')})`);
  const segs = await footage(key);
  const start = gap.start.getTime();
  const end = gap.end.getTime();
  const beforeGap = segs.filter((s) => s.end <= start);
  const afterGap = segs.filter((s) => s.start >= found.resume);
  assert.equal(beforeGap.at(-1)?.end, start, `${key}: the gap starts exactly where the last footage before the outage ends`);
  assert.equal(afterGap[0]?.start, found.resume, `${key}: the gap (and the camera's own outage right after the restart, if any) ends exactly where the first new segment starts`);
  assert.equal(beforeGap.length + afterGap.length, segs.length, `${key}: no footage inside the gap`);
  // The span covers the outage: footage up to about the stop (the segment being written is recovered or closed),
  // nothing from the stop to the restart, first new footage within the restart's start-up time.
  assert.ok(start <= o.downAt + 1000 && start >= o.downAt - SEGMENT_S * 1000 - 3000, `${key}: gap starts near the stop (${start - o.downAt} ms from it)`);
  assert.ok(end >= o.upAt && end <= o.upAt + 30_000, `${key}: gap ends after the restart (${end - o.upAt} ms after it)`);
  assert.match(gap.detail ?? '', o.how, `${key}: the detail says how the agent stopped`);
  note(`${key}: agent_down ${gap.start.toISOString()}..${gap.end.toISOString()} (${end - start} ms): starts ${start - o.downAt} ms from the stop, ends ${end - o.upAt} ms after the restart`);
  return gap;
}

test('agent SIGKILLed, down for a while, restarted; later stopped cleanly and restarted: one agent_down gap per camera per outage, exact spans', { timeout: 240_000 }, async (t) => {
  agent = startAgent();
  for (const key of CAMS) await waitFor(`${key}: two segments at the centre`, async () => (await footage(key)).length >= 2 || undefined, 60_000, 250);
  await sleep((SEGMENT_S * 1000) / 2);

  // 1. A crash: SIGKILL, down for DOWN_MS, restart.
  const killedAt = Date.now();
  agent.kill('SIGKILL');
  await exited(agent);
  await sleep(DOWN_MS);
  const restartedAt = Date.now();
  agent = startAgent();
  const crash = [];
  for (const key of CAMS) crash.push(await checkDownGap(key, { downAt: killedAt, upAt: restartedAt, after: killedAt - SEGMENT_S * 1000 - 3000, how: /no clean shutdown/ }, (m) => t.diagnostic(m)));
  assert.ok(crash.every((g) => g.end.getTime() - g.start.getTime() >= DOWN_MS), 'each gap is at least as long as the agent was down');

  // 2. An upgrade: SIGTERM (clean), down for a while, restart.
  const stoppedAt = Date.now();
  agent.kill('SIGTERM');
  await exited(agent);
  assert.equal(agent.exitCode, 0);
  await sleep(DOWN_MS / 2);
  const upAgain = Date.now();
  agent = startAgent();
  for (const key of CAMS) await checkDownGap(key, { downAt: stoppedAt, upAt: upAgain, after: crash[0]!.end.getTime(), how: /\(clean shutdown\); restarted/ }, (m) => t.diagnostic(m));

  for (const key of CAMS) {
    const downs = (await centreGaps(centre, site.siteId, key)).filter((g) => g.reason === 'agent_down');
    assert.equal(downs.length, 2, `${key}: one agent_down gap per outage`);
  }
});
