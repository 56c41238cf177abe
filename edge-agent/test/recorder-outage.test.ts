/** A camera that dies and comes back: one camera_offline gap covering the outage, then a new ffmpeg run. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../../test-support/src/rtsp-camera.ts';
import { createCameraRecorder, type CameraRecorder, type RecorderState } from '../src/recorder/camera-recorder.ts';
import { recordingLogger } from './helpers/log.ts';
import { RecordingSink, sha256Of, tempDir, waitFor } from './helpers/recorder-harness.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let recorder: CameraRecorder;
/** An outbox that refuses its first two segments (e.g. a full disk being freed): the recorder must retry, in order. */
class FlakySink extends RecordingSink {
  refused = 0;
  override async segmentClosed(seg: Parameters<RecordingSink['segmentClosed']>[0]): Promise<void> {
    if (this.refused < 2) {
      this.refused++;
      throw new Error('outbox busy');
    }
    return super.segmentClosed(seg);
  }
}
const sink = new FlakySink();
const states: RecorderState[] = [];
const logLines: string[] = [];

before(async () => {
  dir = await tempDir('rec-outage');
  const clip = await makeTestClip({ dir: join(dir.path, 'clips'), audio: 'none' });
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip });
  recorder = createCameraRecorder({
    cameraKey: 'cam-b',
    rtspUrl: camera.url,
    transport: 'udp',
    spoolDir: join(dir.path, 'spool'),
    segmentSeconds: 2,
    rtspTimeoutUs: 1_500_000,
    backoff: { baseMs: 200, capMs: 800 },
    sink,
    clockOffset: { offsetMs: () => null },
    log: recordingLogger((l) => {
      logLines.push(`${new Date().toISOString()} ${JSON.stringify(l)}`);
      if (l.msg === 'recorder state') states.push(l.state as RecorderState);
    }),
  });
});

after(async () => {
  await recorder.stop();
  await camera.close();
  await relay.close();
  await dir.remove();
});

test('camera killed, then back: a camera_offline gap from the last footage to the first new footage, new runId', async () => {
  try {
    await outageScenario();
  } catch (e) {
    console.error(`recorder log:\n${logLines.join('\n')}`);
    throw e;
  }
});

async function outageScenario() {
  const end = (s: { start: Date; durationMs: number }) => s.start.getTime() + s.durationMs;
  recorder.start();
  await waitFor('2 segments', () => sink.segments.length >= 2, 25_000);
  const firstRun = sink.segments[0]!.runId;
  assert.equal(recorder.health().state, 'recording');
  assert.equal(sink.refused, 2);
  assert.equal(logLines.filter((l) => l.includes('sink rejected segment')).length, 2, 'refusals are retried, not dropped');
  const firstStarts = sink.segments.map((x) => x.start.getTime());
  assert.deepEqual(firstStarts, [...firstStarts].sort((a, b) => a - b), 'still delivered in capture order');

  const killedAt = Date.now();
  await camera.kill();
  await waitFor('the recorder to notice the camera is gone', () => recorder.health().state === 'offline', 15_000);
  await new Promise((r) => setTimeout(r, 1500)); // a few reconnect attempts against a 404
  assert.equal(recorder.health().state, 'offline');
  assert.ok(recorder.health().runs >= 2, 'it kept retrying');
  assert.match(recorder.health().lastError ?? '', /timed out|404|End of file/);
  const restartedAt = Date.now();
  await camera.restart();
  await waitFor('footage from a new run', () => sink.segments.some((s) => s.runId !== firstRun), 25_000);

  const before = sink.segments.filter((s) => s.runId === firstRun);
  const afterSeg = sink.segments.find((s) => s.runId !== firstRun)!;
  assert.notEqual(afterSeg.runId, firstRun);
  assert.equal(afterSeg.sha256, await sha256Of(afterSeg.path));
  assert.equal(afterSeg.clockOffsetMs, null, 'offset not measured yet');

  assert.equal(sink.gaps.length, 1, 'one outage, one gap (however many reconnect attempts)');
  const gap = sink.gaps[0]!;
  assert.equal(gap.reason, 'camera_offline');
  assert.equal(gap.cameraKey, 'cam-b');
  assert.match(gap.detail ?? '', /attempts/);
  assert.equal(gap.start.getTime(), end(before.at(-1)!), 'gap starts at the end of the last footage');
  assert.equal(gap.end.getTime(), afterSeg.start.getTime(), 'gap ends at the first new footage');
  // It covers the outage: footage stopped about when the camera died and resumed after it came back.
  assert.ok(Math.abs(gap.start.getTime() - killedAt) <= 1500, `gap start vs kill: ${gap.start.getTime() - killedAt} ms`);
  assert.ok(gap.end.getTime() >= restartedAt - 500 && gap.end.getTime() <= restartedAt + 6000, `gap end vs restart: ${gap.end.getTime() - restartedAt} ms`);
  const gapIndex = sink.order.indexOf('gap:camera_offline');
  assert.equal(sink.order[gapIndex + 1], `segment:${afterSeg.runId}`, 'the gap is reported before the footage after it');
  assert.equal(recorder.health().state, 'recording');
  assert.deepEqual(states, ['recording', 'offline', 'recording'], 'health as heartbeats report it');
}
