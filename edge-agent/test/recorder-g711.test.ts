/**
 * G.711 cameras: MPEG-TS cannot carry PCMA/PCMU as playable audio, so audio is transcoded to AAC (video stays a
 * stream copy). 'auto' finds out from the first run; an explicit 'aac' needs no restart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../../test-support/src/rtsp-camera.ts';
import { createCameraRecorder, type CameraRecorder } from '../src/recorder/camera-recorder.ts';
import { decodeErrors, ffprobeFile, RecordingSink, sha256Of, tempDir, waitFor } from './helpers/recorder-harness.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
const cameras: FakeCamera[] = [];
const recorders: CameraRecorder[] = [];

before(async () => {
  dir = await tempDir('rec-g711');
  relay = await startRtspRelay();
});

after(async () => {
  await Promise.all(recorders.map((r) => r.stop()));
  await Promise.all(cameras.map((c) => c.close()));
  await relay.close();
  await dir.remove();
});

async function record(audioIn: 'pcm_alaw' | 'pcm_mulaw', audio: 'auto' | 'aac', sink: RecordingSink, key: string) {
  const clip = await makeTestClip({ dir: join(dir.path, 'clips'), audio: audioIn });
  const camera = await startFakeCamera(relay, { clip });
  cameras.push(camera);
  const r = createCameraRecorder({
    cameraKey: key,
    rtspUrl: camera.url,
    transport: 'udp',
    audio,
    spoolDir: join(dir.path, key),
    segmentSeconds: 2,
    rtspTimeoutUs: 2_000_000,
    backoff: { baseMs: 200, capMs: 1000 },
    sink,
    clockOffset: { offsetMs: () => -15 },
  });
  recorders.push(r);
  r.start();
  return r;
}

test('G.711 cameras record: video copied, audio as AAC (auto-detected A-law, configured µ-law)', async () => {
  const autoSink = new RecordingSink();
  const fixedSink = new RecordingSink();
  const [auto, fixed] = await Promise.all([record('pcm_alaw', 'auto', autoSink, 'cam-alaw'), record('pcm_mulaw', 'aac', fixedSink, 'cam-mulaw')]);
  const aacSegments = (s: RecordingSink) => s.segments.filter((x) => (x.codec.audio as { mode?: string } | null)?.mode === 'aac');
  // The first segment of a run can be a fraction of a second (clock-aligned cut) with no audio frame yet: check the next two.
  await waitFor('3 AAC segments from each camera', () => aacSegments(autoSink).length >= 3 && aacSegments(fixedSink).length >= 3, 35_000);

  for (const [sink, input] of [[autoSink, 'pcm_alaw'], [fixedSink, 'pcm_mulaw']] as const) {
    for (const s of aacSegments(sink).slice(1, 3)) {
      const p = await ffprobeFile(s.path);
      assert.equal(p.formatName, 'mpegts');
      assert.deepEqual(p.codecs, ['h264', 'aac'], `${s.path}: playable audio`);
      assert.deepEqual(s.codec.audio, { codec: 'aac', sampleRate: 16000, channels: 1, mode: 'aac', input });
      assert.equal(s.sha256, await sha256Of(s.path));
      assert.equal(await decodeErrors(s.path), '');
      assert.equal(s.clockOffsetMs, -15);
    }
  }

  // 'auto': the first run showed A-law and was restarted with AAC at once. Whatever it had written is kept (video is
  // fine; A-law copied into MPEG-TS is only a private data stream); the restart is a short, labelled gap.
  assert.deepEqual(auto.health().audio, { mode: 'aac', input: 'pcm_alaw' });
  const copyRun = autoSink.segments.filter((x) => (x.codec.audio as { mode?: string } | null)?.mode !== 'aac');
  for (const s of copyRun) {
    assert.equal((s.codec.video as { codec: string }).codec, 'h264');
    assert.equal(s.codec.audio, null);
    assert.equal(s.runId, autoSink.segments[0]!.runId, 'only the first run copied audio');
  }
  assert.equal(autoSink.gaps.length, 1);
  const gap = autoSink.gaps[0]!;
  assert.equal(gap.reason, 'recorder_restart');
  assert.match(gap.detail ?? '', /pcm_alaw/);
  assert.equal(gap.end.getTime(), aacSegments(autoSink)[0]!.start.getTime());
  assert.ok(gap.end.getTime() - gap.start.getTime() < 8000, 'the restart costs seconds');

  // Configured 'aac': one run, no gap.
  assert.deepEqual(fixed.health().audio, { mode: 'aac', input: 'pcm_mulaw' });
  assert.equal(fixed.health().runs, 1);
  assert.equal(fixedSink.gaps.length, 0);
  assert.ok(fixedSink.segments.every((s) => s.runId === fixedSink.segments[0]!.runId));
});
