/**
 * No camera password is visible to another local user of the store box: a real recorder records a simulated camera
 * whose URL carries a password, and while ffmpeg runs, another user (`nobody`, through setpriv) reads every
 * process's command line (`ps`, /proc/<pid>/cmdline) and tries ffmpeg's environment and file descriptors. The
 * password is in none of them; the recording works (segments reach the sink).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createCameraRecorder, type CameraRecorder } from '../src/recorder/index.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../../test-support/src/rtsp-camera.ts';
import { RecordingSink, tempDir, waitFor } from './helpers/recorder-harness.ts';

const run = promisify(execFile);
const PASSWORD = 'Kx9-camera-PW';
/** Runs a command as `nobody` (another local user, no groups). */
const asNobody = (cmd: string, args: string[]) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', cmd, ...args], { maxBuffer: 16 * 1024 * 1024 });
const canSwitchUser = process.getuid?.() === 0;

let dir: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let rec: CameraRecorder | undefined;

before(async () => {
  dir = await tempDir('secrets');
  const clip = await makeTestClip({ dir: dir.path, width: 320, height: 240, fps: 10, seconds: 8, gopSeconds: 1, audio: 'aac' });
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip });
});

after(async () => {
  await rec?.stop();
  await camera?.close();
  await relay?.close();
  await dir?.remove();
});

test('the camera password is in no command line, environment or descriptor another local user can read', { skip: !canSwitchUser && 'needs root to act as another user', timeout: 60_000 }, async () => {
  const url = new URL(camera.url);
  url.username = 'admin';
  url.password = PASSWORD;
  const sink = new RecordingSink();
  rec = createCameraRecorder({ cameraKey: 'cam1', rtspUrl: url.toString(), transport: 'udp', spoolDir: dir.path, segmentSeconds: 2, sink, clockOffset: { offsetMs: () => null } });
  rec.start();
  await waitFor('two segments recorded through the password-bearing URL', () => sink.segments.length >= 2, 30_000);
  const pid = rec.health().pid;
  assert.ok(pid, 'ffmpeg is running');

  // The command line of the running ffmpeg, as the kernel shows it to everyone.
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  assert.ok(cmdline.some((a) => /ffmpeg$/.test(a)), `that pid is ffmpeg: ${cmdline.join(' ')}`);
  assert.ok(cmdline.includes('pipe:3'), 'its input comes through file descriptor 3');
  assert.ok(!cmdline.join(' ').includes(PASSWORD), 'no password in ffmpeg\'s argv');

  // Another local user: every process's argv through ps and /proc, ffmpeg's environment and descriptors.
  const ps = await asNobody('ps', ['-eww', '-o', 'pid=,args=']);
  assert.ok(ps.stdout.includes(`${pid} `), 'nobody sees the ffmpeg process');
  assert.ok(!ps.stdout.includes(PASSWORD), 'ps as another user shows no camera password');
  const procCmd = await asNobody('cat', [`/proc/${pid}/cmdline`]);
  assert.ok(procCmd.stdout.includes('ffmpeg') && !procCmd.stdout.includes(PASSWORD));
  await assert.rejects(asNobody('cat', [`/proc/${pid}/environ`]), 'another user cannot read ffmpeg\'s environment');
  await assert.rejects(asNobody('cat', [`/proc/${pid}/fd/3`]), 'another user cannot read the input pipe');
  // And the environment holds nothing of the agent's beyond what ffmpeg needs.
  const env = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean).map((kv) => kv.split('=')[0] ?? '');
  assert.deepEqual(env.filter((k) => !['TZ', 'PATH', 'LD_LIBRARY_PATH'].includes(k)), [], 'ffmpeg gets TZ and PATH only');
  assert.ok(!(await readFile(`/proc/${pid}/environ`, 'utf8')).includes(PASSWORD));

  // The segments are real recordings of that camera.
  assert.ok(sink.segments.every((s) => s.size > 0 && s.durationMs > 0));
  assert.equal(sink.gaps.length, 0);
});
