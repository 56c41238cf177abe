/**
 * A store's line to the centre drops and comes back (a TCP proxy the test cuts and restores), with a real agent
 * process, a simulated camera and a real centre, and the agent's default retry settings (backoff up to 5 minutes,
 * heartbeat every 30 s):
 * - while the link is down the uploader backs off; once it is back, the heartbeat's link probe gets through and wakes
 *   the uploader (unless its own retry, drawn short by the jitter, got through first): uploads resume within 5 s of the
 *   link's return (not after the rest of a backoff of up to minutes);
 * - a case window over footage that had already arrived before the cut and footage held during the outage is
 *   answered `done`, saying what arrived (not "failed" because the files are no longer at the store);
 * - while the backlog of the outage drains under a bandwidth cap (3x the camera's bitrate, oldest first), footage
 *   recorded after the link's return reaches the centre within 15 s of closing (the live lane);
 * - nothing recorded during the outage is lost.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { centreGaps, centreSegments, enrollAgent, tempDir, waitFor } from '../edge-agent/test/helpers/agent.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../test-support/src/rtsp-camera.ts';
import { startLink, type TestLink } from './helpers/link.ts';

const SEGMENT_S = 2;
const OUTAGE_MS = 60_000;
const MAIN = new URL('../edge-agent/src/main.ts', import.meta.url).pathname;

let centre: TestCentre;
let link: TestLink;
let root: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let agent: ChildProcess | undefined;
let site: { siteId: string };
let config: string;
let agentLog = '';
let bytesPerSecond = 0;

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  centre = await startCentre();
  link = await startLink(centre.port);
  root = await tempDir('e2e-outage-');
  const clip = await makeTestClip({ dir: root.path, width: 320, height: 240, fps: 10, seconds: 8, gopSeconds: 1, audio: 'aac' });
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip });
  const stateDir = join(root.path, 'state');
  site = await enrollAgent(centre, stateDir);
  // The camera's bitrate as the agent stores it (the clip remuxed into MPEG-TS): the cap is three times that.
  const ts = join(root.path, 'clip.ts');
  await promisify(execFile)('ffmpeg', ['-nostdin', '-v', 'error', '-i', clip, '-c', 'copy', '-f', 'mpegts', ts], { env: { ...process.env, TZ: 'UTC' } });
  bytesPerSecond = (await stat(ts)).size / 8;
  config = join(root.path, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      server: { url: link.url },
      stateDir,
      spoolDir: join(root.path, 'spool'),
      logLevel: 'info',
      upload: { bandwidthBytesPerSecond: Math.round(3 * bytesPerSecond) },
      recording: { segmentSeconds: SEGMENT_S },
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      cameras: [{ key: 'cam1', name: 'レジ', transport: 'udp', rtspUrl: camera.url }],
    }),
  );
});

after(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    agent.kill('SIGTERM');
    await exited(agent);
  }
  await link?.close();
  await camera?.close();
  await relay?.close();
  await centre.close();
  await root.remove();
});

test('the link drops for a minute and comes back: uploads resume within 5 s, a case window reports what arrived, live footage arrives within 15 s during the drain, nothing is lost', { timeout: 240_000 }, async (t) => {
  // The agent enrolled directly; it talks to the centre through the link from here on.
  agent = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
  agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  const segs = () => centreSegments(centre, site.siteId, 'cam1');
  await waitFor('three segments at the centre', async () => (await segs()).length >= 3 || undefined, 60_000, 200);
  const before = await segs();

  const cutAt = Date.now();
  await link.cut();
  await sleep(OUTAGE_MS);
  // A case is filed meanwhile: a window from the first footage (long at the centre) into the outage (held at the store).
  const windowFrom = before[0]!.start;
  const windowTo = new Date(cutAt + 10_000);
  const cmd = await centre.db
    .insertInto('agentCommand')
    .values({ siteId: site.siteId, kind: 'preserve_window', payload: JSON.stringify({ cameraKey: 'cam1', from: windowFrom.toISOString(), to: windowTo.toISOString(), incidentId: null }), incidentId: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  const countAtRestore = (await segs()).length;
  assert.equal(countAtRestore, before.length, 'nothing arrived while the link was down');
  const restoredAt = Date.now();
  await link.restore();
  await waitFor('the first upload after the link returned', async () => (await segs()).length > countAtRestore || undefined, 60_000, 100);
  const resumeMs = Date.now() - restoredAt;
  t.diagnostic(`uploads resumed ${resumeMs} ms after the link returned (outage ${OUTAGE_MS} ms, backoff cap 300 s, heartbeat 30 s; cap ${Math.round(3 * bytesPerSecond)} B/s for a ${Math.round(bytesPerSecond)} B/s camera)`);
  assert.ok(resumeMs <= 5000, `uploads resumed ${resumeMs} ms after the link returned`);

  // The case window: everything in it arrived; the answer says so.
  const row = await waitFor(
    'the command answered',
    async () => {
      const r = await centre.db.selectFrom('agentCommand').select(['status', 'detail']).where('id', '=', cmd.id).executeTakeFirstOrThrow();
      return r.status === 'done' || r.status === 'failed' ? r : undefined;
    },
    90_000,
    250,
  );
  t.diagnostic(`command: ${row.status}: ${row.detail}`);
  assert.equal(row.status, 'done', row.detail ?? '');
  assert.match(row.detail ?? '', /^window covered: .* already arrived at the centre/);

  // The drain: the outage's backlog goes oldest first; footage that closed after the return arrives alongside.
  const rowsNow = () =>
    centre.db
      .selectFrom('segment')
      .innerJoin('camera', 'camera.id', 'segment.cameraId')
      .select(['segment.storedAt'])
      .select((eb) => [eb.fn<Date>('lower', ['segment.span']).as('start'), eb.fn<Date>('upper', ['segment.span']).as('end')])
      .where('camera.siteId', '=', site.siteId)
      .orderBy('start')
      .execute();
  const contiguous = (rows: { start: Date; end: Date }[]) => rows.every((r, i) => i === 0 || new Date(r.start).getTime() - new Date(rows[i - 1]!.end).getTime() <= 500);
  await waitFor('the backlog drained (footage contiguous from before the cut to after the return)', async () => {
    const rows = await rowsNow();
    return contiguous(rows) && new Date(rows.at(-1)!.start).getTime() > restoredAt + 10_000 ? rows : undefined;
  }, 120_000, 250);
  const drainMs = Date.now() - restoredAt;
  const rows = await rowsNow();
  const live = rows.filter((r) => new Date(r.end).getTime() > restoredAt + 2000);
  const lags = live.map((r) => new Date(r.storedAt!).getTime() - new Date(r.end).getTime()).sort((a, b) => a - b);
  const oldest = rows.filter((r) => new Date(r.end).getTime() < restoredAt);
  const lastOld = Math.max(...oldest.map((r) => new Date(r.storedAt!).getTime())) - restoredAt;
  t.diagnostic(`drain: the outage's backlog was at the centre ${lastOld} ms after the return; ${live.length} live segments arrived a median ${lags[Math.floor(lags.length / 2)]} ms (max ${lags.at(-1)} ms) after they closed`);
  assert.ok(live.length >= 3, 'segments closed during the drain');
  assert.ok(lags.at(-1)! <= 15_000, `live segments arrive within 15 s of closing during the drain (max ${lags.at(-1)} ms)`);
  for (let i = 1; i < rows.length; i++) {
    const hole = new Date(rows[i]!.start).getTime() - new Date(rows[i - 1]!.end).getTime();
    assert.ok(hole >= 0 && hole <= 500, `footage contiguous through the outage (hole of ${hole} ms at ${new Date(rows[i]!.start).toISOString()})`);
  }
  assert.deepEqual(await centreGaps(centre, site.siteId, 'cam1'), [], 'no gap: the camera recorded throughout');
  // Either the heartbeat's answer woke the backing-off uploader, or (full jitter can draw a short delay) the uploader's
  // own retry got through first and there was nothing to wake. Uploader.wake itself: edge-agent/test/call-upload.test.ts.
  const woken = agentLog.indexOf('centre answered again: uploads resume now');
  const ownRetry = agentLog.indexOf('centre reachable again');
  t.diagnostic(woken >= 0 ? 'the heartbeat\'s answer woke the uploader' : 'the uploader\'s own retry came first');
  assert.ok(woken >= 0 || ownRetry >= 0, 'the agent logged how uploads resumed');
});
