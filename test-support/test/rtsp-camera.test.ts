/** The fake RTSP camera itself: OS-assigned ports, a pullable stream, kill (404) and restart, a small fleet. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { makeTestClip, startFakeCamera, startFakeCameraFleet, startRtspRelay } from '../src/rtsp-camera.ts';

const execFileP = promisify(execFile);
let dir: string;

/** ffprobe pulls the camera like a recorder would (async: the relay runs in this process). */
async function pull(url: string): Promise<{ codecs: string[] } | { error: string }> {
  try {
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-timeout', '3000000', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url]);
    return { codecs: stdout.split('\n').filter(Boolean) };
  } catch (e) {
    return { error: String((e as { stderr?: string }).stderr ?? e) };
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mamoru-rtspcam-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a camera on OS-assigned ports streams its clip; killed it answers 404; restarted it streams again', async () => {
  const clip = await makeTestClip({ dir, audio: 'pcm_mulaw', width: 320, height: 180 });
  assert.equal(await makeTestClip({ dir, audio: 'pcm_mulaw', width: 320, height: 180 }), clip, 'an existing clip is reused');
  const relay = await startRtspRelay();
  try {
    assert.ok(relay.publishPort > 0 && relay.clientPort > 0 && relay.publishPort !== relay.clientPort);
    const cam = await startFakeCamera(relay, { clip });
    assert.ok(cam.running);
    assert.match(cam.url, new RegExp(`^rtsp://127\\.0\\.0\\.1:${relay.clientPort}/cam-[0-9a-f]{10}$`));
    assert.deepEqual(await pull(cam.url), { codecs: ['h264', 'pcm_mulaw'] });

    await cam.kill();
    assert.equal(cam.running, false);
    const gone = await pull(cam.url);
    assert.ok('error' in gone && /404/.test(gone.error), JSON.stringify(gone));

    await cam.restart();
    assert.deepEqual(await pull(cam.url), { codecs: ['h264', 'pcm_mulaw'] });
    await cam.close();
  } finally {
    await relay.close();
  }
});

test('a fleet of cameras shares one clip and one relay; close() stops every publisher', async () => {
  const clip = await makeTestClip({ dir, audio: 'none', width: 320, height: 180 });
  const fleet = await startFakeCameraFleet({ count: 2, clip });
  try {
    const urls = fleet.cameras.map((c) => c.url);
    assert.equal(new Set(urls).size, 2);
    const results = await Promise.all(urls.map(pull));
    assert.deepEqual(results, [{ codecs: ['h264'] }, { codecs: ['h264'] }]);
  } finally {
    await fleet.close();
  }
  assert.ok(fleet.cameras.every((c) => !c.running));
});
