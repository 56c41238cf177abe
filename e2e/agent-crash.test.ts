/**
 * "kill -9 at any moment loses nothing": the agent process SIGKILLed in the middle of recording a segment.
 * ffmpeg's launcher gets SIGTERM from the kernel (`setpriv --pdeathsig`) and forwards exactly one to ffmpeg, which
 * finishes that segment (trailer and list line) and exits; nobody hashed it or
 * wrote its outbox record. After a restart, the start-up spool recovery (edge-agent/src/recorder/spool-recovery.ts)
 * hashes and enqueues it, and the centre receives it: the footage up to the kill is at the centre, once, with the
 * bytes the edge hashed, and no two segments overlap.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { centreSegments, enrollAgent, readObject, sha256, tempDir, waitFor, writeE2eAgentConfig } from '../edge-agent/test/helpers/agent.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../test-support/src/rtsp-camera.ts';

const SEGMENT_S = 6;
const MAIN = new URL('../edge-agent/src/main.ts', import.meta.url).pathname;

let centre: TestCentre;
let root: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let agent: ChildProcess | undefined;
let site: { siteId: string };
let config: string;
let spoolDir: string;
let agentLog = '';

const startAgent = () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  return child;
};
const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

before(async () => {
  centre = await startCentre();
  root = await tempDir('e2e-crash-');
  const clip = await makeTestClip({ dir: root.path, width: 320, height: 240, fps: 10, seconds: 8, gopSeconds: 1, audio: 'aac' });
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip });
  const stateDir = join(root.path, 'state');
  site = await enrollAgent(centre, stateDir);
  ({ config, spoolDir } = await writeE2eAgentConfig({ root: root.path, centreUrl: centre.url, stateDir, cameraUrl: camera.url, cameraName: 'レジ', cameraPlace: 'レジ', segmentSeconds: SEGMENT_S, backoffCapMs: 2000 }));
});

after(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGTERM');
    await exited(agent);
  }
  await camera?.close();
  await relay?.close();
  await centre.close();
  await root.remove();
});

async function spooledSegments(): Promise<string[]> {
  const dir = join(spoolDir, 'cameras', 'cam1');
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.ts')).map((n) => join(dir, n));
}

test('agent SIGKILLed mid-segment: after a restart the segment it was recording reaches the centre, once, hash-verified', { timeout: 150_000 }, async () => {
  agent = startAgent();
  // Two complete segments at the centre: the agent records and uploads.
  await waitFor('two segments at the centre', async () => (await centreSegments(centre, site.siteId, 'cam1')).length >= 2 || undefined, 60_000, 250);
  const segs = () => centreSegments(centre, site.siteId, 'cam1');
  // Kill about halfway into a segment: wait for the next one to arrive, then half a segment more.
  const n = (await segs()).length;
  await waitFor('the next segment', async () => (await segs()).length > n || undefined, 30_000, 100);
  await new Promise((r) => setTimeout(r, (SEGMENT_S * 1000) / 2));
  const killedAt = Date.now();
  agent.kill('SIGKILL');
  await exited(agent);
  const atKill = await segs();
  const lastBefore = atKill.at(-1)!;

  // ffmpeg finished the file it was writing (SIGTERM through pdeathsig); no outbox record names it.
  await new Promise((r) => setTimeout(r, 2000));
  const orphans = await spooledSegments();
  assert.ok(orphans.length >= 1, `the segment being recorded at the kill is in the spool (${orphans.join(', ')})`);

  agent = startAgent();
  const recovered = await waitFor(
    'the segment recorded at the kill to reach the centre',
    async () => (await segs()).find((s) => s.start.getTime() > lastBefore.start.getTime() && s.start.getTime() < killedAt - 500) ?? undefined,
    60_000,
    250,
  ).catch(async (e: unknown) => {
    const lines = agentLog.split('\n').filter((l) => /recover|orphan|quarantin|refus|overlap|conflict|error/i.test(l));
    throw new Error(`${(e as Error).message}; killed at ${new Date(killedAt).toISOString()}, last before ${lastBefore.start.toISOString()}; centre has ${(await segs()).map((s) => s.start.toISOString()).join(' ')}; spool then: ${orphans.join(' ')}; agent log: ${lines.slice(-15).join('\n')}`);
  });
  // Recording resumed with a new run after the restart.
  const resumed = await waitFor('a segment of the restarted recorder', async () => (await segs()).find((s) => s.start.getTime() > killedAt) ?? undefined, 60_000, 250);
  assert.notEqual(resumed.runId, recovered.runId, 'the restarted recorder is a new run');

  const all = await segs();
  const rows = await centre.db
    .selectFrom('segment')
    .select(['segment.id', 'segment.codec'])
    .select((eb) => [eb.fn<Date>('lower', ['segment.span']).as('start'), eb.fn<Date>('upper', ['segment.span']).as('end')])
    .where('segment.id', 'in', all.map((s) => String(s.id)))
    .orderBy('start')
    .execute();
  const rec = rows.find((r) => Number(r.id) === recovered.id)!;
  assert.equal((rec.codec as { recovered?: boolean }).recovered, true, 'marked as recovered after a crash');
  // ffmpeg got one SIGTERM (its launcher forwards exactly one, however many the dying agent's threads deliver), so it
  // closed the file and wrote its list line: a complete segment, not a partial one, with no per-packet flush.
  assert.equal((rec.codec as { partial?: boolean }).partial, undefined, 'ffmpeg closed the segment gracefully (listed, not partial)');
  assert.ok(new Date(rec.end).getTime() >= killedAt - 2000, `the recovered segment reaches the kill (ends ${new Date(rec.end).getTime() - killedAt} ms from it)`);
  for (let i = 1; i < rows.length; i++) assert.ok(new Date(rows[i]!.start).getTime() >= new Date(rows[i - 1]!.end).getTime(), 'no two segments overlap');
  assert.equal(new Set(all.map((s) => s.start.getTime())).size, all.length, 'no segment twice');
  for (const s of all) assert.equal(sha256(await readObject(centre, s.objectKey!)), s.sha256, `segment ${s.id}: stored bytes match the edge hash`);
  // Nothing recovered is left behind: only the recorder's current file may be in the spool.
  await waitFor('the spool to hold only the current file', async () => ((await spooledSegments()).length <= 1 ? true : undefined), 30_000, 250);
  assert.ok(!agentLog.includes('spool recovery failed'), 'recovery did not fail');
});
