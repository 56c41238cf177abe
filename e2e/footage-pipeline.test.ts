/**
 * Footage end to end with every real part: a fake camera (RTSP relay + ffmpeg publisher) → the agent as a process
 * (`agent run`: ffmpeg recorder, durable outbox, uploader) → a real centre (PostgreSQL, S3). The centre goes down
 * for two minutes (MAMORU_E2E_OUTAGE_SECONDS, default 120) while recording continues; afterwards everything arrives,
 * in capture order, with no loss and no duplicate, each object's bytes matching the SHA-256 computed at the edge.
 * Then the camera dies and comes back: a gap with its reason, and recording resumes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { centreGaps, centreSegments, enrollAgent, readObject, sha256, tempDir, waitFor, writeE2eAgentConfig } from '../edge-agent/test/helpers/agent.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../test-support/src/rtsp-camera.ts';

const OUTAGE_S = Number(process.env.MAMORU_E2E_OUTAGE_SECONDS ?? 120);
const SEGMENT_S = 2;
const MAIN = new URL('../edge-agent/src/main.ts', import.meta.url).pathname;

let centre: TestCentre;
let root: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let agent: ChildProcess | undefined;
let site: { siteId: string };
let spoolDir: string;
let agentLog = '';

before(async () => {
  centre = await startCentre();
  root = await tempDir('e2e-pipeline-');
  const clip = await makeTestClip({ dir: root.path, width: 320, height: 240, fps: 10, seconds: 8, gopSeconds: 1, audio: 'aac' });
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip });
  const stateDir = join(root.path, 'state');
  site = await enrollAgent(centre, stateDir);
  // Retries stay frequent (cap 3 s) so the backlog drains soon after the centre returns.
  const written = await writeE2eAgentConfig({ root: root.path, centreUrl: centre.url, stateDir, cameraUrl: camera.url, cameraName: '入口カメラ', cameraPlace: '入口', segmentSeconds: SEGMENT_S, backoffCapMs: 3000 });
  const config = written.config;
  spoolDir = written.spoolDir;
  agent = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
  agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
});

after(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent!.once('exit', r));
  }
  await camera?.close();
  await relay?.close();
  await centre.close();
  await root.remove();
});

const segments = () => centreSegments(centre, site.siteId, 'cam1');
/** Local segment files still waiting in the spool (the recorder's current file is not in the outbox yet). */
async function spooledMedia(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) found.push(join(dir, e.name));
    }
  };
  await walk(spoolDir);
  return found;
}

test(`recording continues through a ${OUTAGE_S} s centre outage; afterwards everything arrives in order, once, hash-verified`, { timeout: (OUTAGE_S + 180) * 1000 }, async () => {
  await waitFor('three segments at the centre', async () => (await segments()).length >= 3, 60_000, 250);
  const beforeOutage = (await segments()).length;
  const downAt = Date.now();
  await centre.stop();
  await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
  const spooledDuringOutage = (await spooledMedia()).length;
  await centre.start();
  const upAt = Date.now();
  // Everything captured up to the return of the centre arrives. Live footage goes first (the agent's live lane), so
  // "the newest segment is here" is not "the backlog drained": wait for the outage's footage too.
  const expectedDuringOutage = Math.floor(OUTAGE_S / SEGMENT_S) - 2;
  await waitFor('the backlog to drain', async () => {
    const s = await segments();
    const last = s.at(-1);
    const outage = s.filter((x) => x.start.getTime() >= downAt && x.start.getTime() < upAt).length;
    return last !== undefined && last.start.getTime() >= upAt - 2 * SEGMENT_S * 1000 && outage >= expectedDuringOutage;
  }, 120_000, 500);
  // And nothing is left in flight: every file but the one being recorded was acknowledged (the two lanes finish at
  // different moments).
  await waitFor('acknowledged files to be deleted', async () => (await spooledMedia()).length <= 2, 60_000, 250);

  const segs = await segments();
  assert.ok(spooledDuringOutage >= expectedDuringOutage, `the agent kept recording while the centre was down (${spooledDuringOutage} files spooled)`);
  assert.ok(segs.length >= beforeOutage + expectedDuringOutage, `segments captured during the outage arrived (${segs.length} total, ${beforeOutage} before)`);
  // No loss: consecutive segments of the run touch (within the centre's contiguity tolerance), across the outage.
  const rows = await centre.db.selectFrom('segment').select(['id', 'runId', 'durationMs', 'receivedAt']).select((eb) => [eb.fn<Date>('lower', ['span']).as('start'), eb.fn<Date>('upper', ['span']).as('end')]).orderBy('start').execute();
  for (let i = 1; i < rows.length; i++) {
    const hole = rows[i]!.start.getTime() - rows[i - 1]!.end.getTime();
    if (rows[i]!.runId === rows[i - 1]!.runId) assert.ok(hole >= 0 && hole <= 500, `segment ${i} follows its predecessor without a hole or overlap (${hole} ms)`);
  }
  const covered = rows.filter((r) => r.start.getTime() >= downAt && r.end.getTime() <= upAt).length;
  assert.ok(covered >= expectedDuringOutage, `the outage window is covered by footage (${covered} segments)`);
  // No duplicate: one row per start. The backlog is received in capture order (oldest first); only footage that ended
  // within the live window (the last 30 s, edge-agent/src/agent.ts liveWindowMs) may overtake it, through the live
  // lane (docs/design.md, upload priorities).
  assert.equal(new Set(rows.map((r) => r.start.getTime())).size, rows.length);
  const backlog = rows.filter((r) => r.start.getTime() < upAt - 30_000 - 2 * SEGMENT_S * 1000);
  assert.ok(backlog.length >= beforeOutage + expectedDuringOutage - 16, `most of the outage is backlog (${backlog.length})`);
  const byId = [...backlog].sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(byId.map((r) => r.start.getTime()), backlog.map((r) => r.start.getTime()), 'the centre received the backlog in capture order');
  // Hash verified end to end: the stored bytes hash to what the edge computed at close.
  for (const s of segs) assert.equal(sha256(await readObject(centre, s.objectKey!)), s.sha256, `segment ${s.id} bytes match the edge hash`);
  // Acknowledged files are gone from the store's spool: at most the segment being recorded remains.
  await waitFor('acknowledged files to be deleted', async () => (await spooledMedia()).length <= 2, 20_000, 250);
  assert.deepEqual(agentLog.split('\n').filter((l) => l.includes('item quarantined')), [], 'nothing was quarantined');
});

test('a camera that dies and comes back: a camera_offline gap, and recording resumes with a new run', { timeout: 120_000 }, async () => {
  const before = await segments();
  await camera.kill();
  await new Promise((r) => setTimeout(r, 12_000));
  await camera.restart();
  await waitFor('a gap reported for the outage', async () => (await centreGaps(centre, site.siteId, 'cam1')).find((g) => g.reason === 'camera_offline'), 90_000, 500);
  const gap = (await centreGaps(centre, site.siteId, 'cam1')).find((g) => g.reason === 'camera_offline')!;
  assert.ok(gap.end.getTime() - gap.start.getTime() >= 8_000, `the gap spans the outage (${gap.end.getTime() - gap.start.getTime()} ms)`);
  const resumed = await waitFor('recording to resume after the gap', async () => (await segments()).find((s) => s.start.getTime() >= gap.end.getTime() - 500), 60_000, 500);
  assert.notEqual(resumed.runId, before.at(-1)!.runId, 'a new recorder run');
  assert.ok(gap.detail !== null && !gap.detail.includes('@'), 'the reason detail carries no credentials');
});
