/**
 * The factory `run` plugs in (cli/recorders.ts seam): camera config in, Recorder out. An ONVIF camera whose stream
 * URL cannot be fetched at first is offline (gap), then records; credentials never reach a log line or a gap.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera, type RtspRelay } from '../../test-support/src/rtsp-camera.ts';
import type { Logger } from '../src/lib/logger.ts';
import type { Recorder } from '../src/cli/recorders.ts';
import type { CameraConfig } from '../src/config.ts';
import { createRecorderFactory } from '../src/recorder/index.ts';
import { RecordingSink, sha256Of, tempDir, waitFor } from './helpers/recorder-harness.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
let relay: RtspRelay;
let camera: FakeCamera;
let recorder: Recorder | null = null;

before(async () => {
  dir = await tempDir('rec-factory');
  relay = await startRtspRelay();
  camera = await startFakeCamera(relay, { clip: await makeTestClip({ dir: join(dir.path, 'clips'), audio: 'aac' }) });
});

after(async () => {
  await recorder?.stop();
  await camera.close();
  await relay.close();
  await dir.remove();
});

test('an ONVIF camera: URL lookup fails twice (camera_offline gap), then records; no credential in logs or gaps', async () => {
  const lines: string[] = [];
  const capture = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, msg, ...fields }));
  const log: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), addSecrets() {} };
  const secretUrl = camera.url.replace('rtsp://', 'rtsp://admin:s3cr3t-pw@');
  let lookups = 0;
  const factory = createRecorderFactory({
    resolveOnvifUrl: async (onvif) => {
      lookups++;
      assert.equal(onvif.host, '127.0.0.1');
      if (lookups <= 2) throw new Error(`ONVIF GetStreamUri timed out (${secretUrl})`);
      return secretUrl;
    },
    overrides: { rtspTimeoutUs: 2_000_000, backoff: { baseMs: 100, capMs: 300 } },
  });
  const cfg: CameraConfig = { key: 'cam-onvif', name: 'レジ1', place: 'レジ1', uploadMode: 'continuous', transport: 'udp', onvif: { host: '127.0.0.1', port: 80, password: 's3cr3t-pw' } };
  const sink = new RecordingSink();
  recorder = factory(cfg, sink, { offsetMs: () => 3 }, { dir: join(dir.path, 'spool', 'cam-onvif'), recording: { segmentSeconds: 2, ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe' }, log });
  assert.equal(recorder.health?.(), 'starting');
  recorder.start();
  await waitFor('a closed segment', () => sink.segments.length >= 1, 25_000);
  assert.equal(recorder.health?.(), 'recording');
  assert.equal(lookups, 3, 'the URL is looked up before every start');

  const seg = sink.segments[0]!;
  assert.equal(seg.cameraKey, 'cam-onvif');
  // The recorded hash is of the closed file; if the file changed later, say how (a rewrite by a later open of the
  // same name would show as a different size and an extra entry in the spool).
  const { size: sizeNow } = await stat(seg.path);
  assert.equal(seg.sha256, await sha256Of(seg.path), `segment ${seg.path} changed after it closed: ${seg.size} bytes then, ${sizeNow} now; spool ${JSON.stringify(await readdir(dirname(seg.path)))}; delivered ${JSON.stringify(sink.segments.map((s) => [s.path, s.size]))}`);
  assert.ok(seg.path.startsWith(join(dir.path, 'spool', 'cam-onvif')));
  assert.equal(sink.gaps.length, 1);
  const gap = sink.gaps[0]!;
  assert.equal(gap.reason, 'camera_offline');
  assert.match(gap.detail ?? '', /GetStreamUri timed out.*2 attempts/);
  assert.equal(gap.end.getTime(), seg.start.getTime());
  assert.ok(gap.start < gap.end);

  await recorder.stop();
  assert.equal(recorder.health?.(), 'unknown');
  recorder = null;
  const all = lines.join('\n') + JSON.stringify(sink.gaps);
  assert.ok(lines.some((l) => /ffmpeg started/.test(l)));
  assert.ok(!all.includes('s3cr3t-pw'), 'no credential in any log line or gap');
});
