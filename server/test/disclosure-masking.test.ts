/**
 * The masking adapter measured with ffmpeg itself: a muted channel is silent (volumedetect) while the kept channel's
 * samples hash equal to the source's; a muted range is silent and every sample outside it is the source's; a blurred
 * region differs from the source inside (PSNR low) and matches it outside the region and outside its times (PSNR
 * high, i.e. codec loss only).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { detectFaceDetector, noFaceDetector } from '../src/adapters/face-detector.ts';
import { ffmpegMediaMasker, MediaMaskError, regionToPixels } from '../src/adapters/media-mask.ts';
import { audioMaskFor, faceRegions } from '../src/domain/disclosure-mask.ts';

const exec = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };
const FIX = path.join(import.meta.dirname, 'fixtures/asterisk-22/monitor/2026/11/23/in-0501234567-0312345678-20261123-180500-1795457100.0');

async function ffmpeg(args: string[]) {
  return exec('ffmpeg', ['-nostdin', '-hide_banner', '-y', ...args], { env, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
}
/** Decoded samples of one channel as s16le. */
async function channelPcm(file: string, channel: number, channels: number): Promise<Buffer> {
  const layout = channels === 1 ? 'c0=c0' : `c0=c${channel}`;
  const { stdout } = await ffmpeg(['-v', 'error', '-i', file, '-af', `pan=mono|${layout}`, '-f', 's16le', '-c:a', 'pcm_s16le', '-']);
  return stdout;
}
/** ffmpeg volumedetect of one channel, optionally within [from, to). */
async function maxVolumeDb(file: string, channel: number, range?: { from: number; to: number }): Promise<number> {
  const trim = range ? `,atrim=start=${range.from}:end=${range.to}` : '';
  const { stderr } = await ffmpeg(['-i', file, '-af', `pan=mono|c0=c${channel}${trim},volumedetect`, '-f', 'null', '-']);
  const m = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr.toString());
  assert.ok(m, `volumedetect printed no max_volume for ${file}`);
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** PSNR (average, dB) between a crop of two videos over a time window. */
async function psnr(a: string, b: string, o: { crop?: { x: number; y: number; w: number; h: number }; cover?: { x: number; y: number; w: number; h: number }; from: number; to: number }): Promise<number> {
  const f = (i: number) => {
    let s = `[${i}:v]trim=start=${o.from}:end=${o.to},setpts=PTS-STARTPTS,format=yuv420p`;
    if (o.crop) s += `,crop=${o.crop.w}:${o.crop.h}:${o.crop.x}:${o.crop.y}`;
    if (o.cover) s += `,drawbox=x=${o.cover.x}:y=${o.cover.y}:w=${o.cover.w}:h=${o.cover.h}:color=black:t=fill`;
    return `${s}[s${i}]`;
  };
  const { stderr } = await ffmpeg(['-i', a, '-i', b, '-lavfi', `${f(0)};${f(1)};[s0][s1]psnr`, '-f', 'null', '-']);
  const m = /PSNR .*average:([\d.]+|inf)/.exec(stderr.toString());
  assert.ok(m, `psnr printed nothing: ${stderr.toString().slice(-400)}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

describe('disclosure masking (ffmpeg)', () => {
  const masker = ffmpegMediaMasker();
  let dir: string;
  let stereo: string;
  let video: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mamoru-mask-'));
    // A stereo call recording as PBXes write them: channel 0 the caller (rx), channel 1 the operator (tx).
    stereo = path.join(dir, 'stereo.wav');
    await ffmpeg(['-v', 'error', '-i', `${FIX}-rx.wav`, '-i', `${FIX}-tx.wav`, '-filter_complex', '[0:a][1:a]amerge=inputs=2', '-c:a', 'pcm_s16le', stereo]);
    // A camera-like H.264 clip with detail everywhere (testsrc2 moves), 4 s at 25 fps, 640x360.
    video = path.join(dir, 'camera.mp4');
    await ffmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=4', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-g', '25', '-pix_fmt', 'yuv420p', video]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('stereo call: the operator channel is silent and the caller channel is the source, sample for sample', async () => {
    const out = path.join(dir, 'stereo-masked.wav');
    const r = await masker.maskAudio(stereo, out, { muteChannels: [1], muteRanges: [] });
    assert.deepEqual({ rate: r.sampleRate, ch: r.channels }, { rate: 8000, ch: 2 });
    assert.ok(Math.abs((r.durationS ?? 0) - 26.48) < 0.01, `duration ${r.durationS}`);

    // The source's operator channel has speech; the response's is digital silence (-91 dB is ffmpeg's floor for zero).
    assert.ok((await maxVolumeDb(stereo, 1)) > -20, 'the source operator channel should carry speech');
    assert.ok((await maxVolumeDb(out, 1)) <= -90, 'operator channel not silent');
    const op = await channelPcm(out, 1, 2);
    assert.ok(op.length > 400_000 && op.every((b) => b === 0), 'every operator sample is zero');

    const srcCaller = await channelPcm(stereo, 0, 2);
    const outCaller = await channelPcm(out, 0, 2);
    assert.equal(srcCaller.length, outCaller.length);
    assert.equal(sha(outCaller), sha(srcCaller), 'caller samples changed');
    // And the caller channel did carry speech, so the equality means something.
    assert.ok((await maxVolumeDb(out, 0)) > -20);
  });

  test('mixed call: chosen ranges are silent, every sample outside them is the source sample', async () => {
    const src = `${FIX}.wav`;
    const out = path.join(dir, 'mixed-masked.wav');
    const ranges = [{ fromS: 3, toS: 7.5 }, { fromS: 12.25, toS: 14 }];
    await masker.maskAudio(src, out, { muteChannels: [], muteRanges: ranges });
    for (const r of ranges) {
      assert.ok((await maxVolumeDb(src, 0, { from: r.fromS, to: r.toS })) > -30, `source has sound in ${r.fromS}-${r.toS}`);
      assert.ok((await maxVolumeDb(out, 0, { from: r.fromS, to: r.toS })) <= -90, `range ${r.fromS}-${r.toS} not silent`);
    }
    const a = await channelPcm(src, 0, 1);
    const b = await channelPcm(out, 0, 1);
    assert.equal(a.length, b.length);
    const at = (s: number) => Math.round(s * 8000) * 2; // byte offset of a time (8 kHz, 16-bit mono)
    // Per-sample boundaries: one sample of slack each side for the float time of a sample.
    const kept = [[0, at(3) - 2], [at(7.5) + 4, at(12.25) - 2], [at(14) + 4, a.length]] as const;
    for (const [s, e] of kept) assert.equal(sha(b.subarray(s, e)), sha(a.subarray(s, e)), `samples ${s / 2}-${e / 2} changed`);
    for (const r of ranges) assert.ok(b.subarray(at(r.fromS) + 4, at(r.toS) - 2).every((x) => x === 0), 'muted range has a non-zero sample');
  });

  test('bad masks are refused before ffmpeg writes anything', async () => {
    await assert.rejects(masker.maskAudio(stereo, path.join(dir, 'x.wav'), { muteChannels: [2], muteRanges: [] }), MediaMaskError);
    await assert.rejects(masker.maskAudio(stereo, path.join(dir, 'x.wav'), { muteChannels: [], muteRanges: [{ fromS: 5, toS: 5 }] }), MediaMaskError);
    await assert.rejects(masker.blurVideo(stereo, path.join(dir, 'x.mp4'), { regions: [], style: 'blur', keepAudio: false }), /no video stream/);
  });

  test('blurred region differs inside and matches outside (region and time), within codec loss', async () => {
    const out = path.join(dir, 'camera-masked.mp4');
    const region = { x: 0.25, y: 0.25, w: 0.3, h: 0.4, fromS: 1, toS: 3 };
    const r = await masker.blurVideo(video, out, { regions: [region], style: 'blur', keepAudio: false });
    const px = regionToPixels(region, 640, 360)!;
    assert.deepEqual(r.applied, [{ ...px, fromS: 1, toS: 3 }]);
    assert.deepEqual({ w: r.width, h: r.height, codec: r.codec }, { w: 640, h: 360, codec: 'h264' });
    assert.ok(Math.abs((r.durationS ?? 0) - 4) < 0.1, `duration ${r.durationS}`);

    const inside = await psnr(out, video, { crop: px, from: 1.2, to: 2.8 });
    const outsideRegion = await psnr(out, video, { cover: px, from: 1.2, to: 2.8 });
    const regionBefore = await psnr(out, video, { crop: px, from: 0, to: 0.9 });
    const regionAfter = await psnr(out, video, { crop: px, from: 3.2, to: 4 });
    assert.ok(inside < 22, `inside the region during the blur PSNR ${inside} dB: not blurred enough`);
    for (const [what, v] of [['outside the region', outsideRegion], ['region before', regionBefore], ['region after', regionAfter]] as const) {
      assert.ok(v > 38, `${what}: PSNR ${v} dB, more than codec loss`);
    }
  });

  test('fill style: the region is black while enabled', async () => {
    const out = path.join(dir, 'camera-filled.mp4');
    const region = { x: 0.5, y: 0, w: 0.5, h: 0.5, fromS: 0, toS: 4 };
    const r = await masker.blurVideo(video, out, { regions: [region], style: 'fill', keepAudio: false });
    const px = r.applied[0]!;
    // Mean luma of the region: black is 16 in limited range.
    const { stderr } = await ffmpeg(['-i', out, '-vf', `crop=${px.w}:${px.h}:${px.x}:${px.y},signalstats,metadata=print:key=lavfi.signalstats.YAVG`, '-f', 'null', '-']);
    const avgs = [...stderr.toString().matchAll(/YAVG=([\d.]+)/g)].map((m) => Number(m[1]));
    assert.ok(avgs.length >= 90, `frames measured ${avgs.length}`);
    assert.ok(avgs.every((y) => y < 17.5), `region not black: max YAVG ${Math.max(...avgs)}`);
    assert.ok((await psnr(out, video, { cover: px, from: 0, to: 4 })) > 38);
  });

  test('faces: the OpenCV detector finds both faces; all but the requester\'s are blurred', async () => {
    const detector = await detectFaceDetector();
    // setup.sh installs python3-opencv and opencv-data; without them this is the "no detector" implementation.
    assert.equal(detector.available, true, `no face detector here: ${detector.reason}`);
    const png = path.join(dir, 'faces.png');
    await exec('/usr/bin/python3', [path.join(import.meta.dirname, 'fixtures/draw-faces.py'), png]);
    const clip = path.join(dir, 'faces.mp4');
    await ffmpeg(['-v', 'error', '-loop', '1', '-i', png, '-t', '3', '-r', '10', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', clip]);

    const found = await detector.detect(clip, { everyS: 1 });
    assert.deepEqual([...new Set(found.map((f) => f.t))], [0, 1, 2]);
    const left = found.filter((f) => f.x + f.w / 2 < 0.5);
    const right = found.filter((f) => f.x + f.w / 2 >= 0.5);
    assert.equal(left.length, 3, 'left face once per sampled frame');
    assert.equal(right.length, 3, 'right face once per sampled frame');
    // The drawn faces: left centred at (180,180) px, right at (460,170) px of 640x360.
    for (const [faces, cx, cy] of [[left, 180 / 640, 180 / 360], [right, 460 / 640, 170 / 360]] as const) {
      for (const f of faces) assert.ok(Math.abs(f.x + f.w / 2 - cx) < 0.03 && Math.abs(f.y + f.h / 2 - cy) < 0.05, `face off centre: ${JSON.stringify(f)}`);
    }

    // HQ marks the requester (the left face) for the whole clip; every other face is blurred.
    const regions = faceRegions(found, { everyS: 1, keep: [{ x: 0, y: 0, w: 0.5, h: 1, fromS: 0, toS: 3 }], durationS: 3 });
    assert.equal(regions.length, 3);
    assert.deepEqual(regions.map((r) => [r.fromS, r.toS]), [[0, 0.5], [0.5, 1.5], [1.5, 2.5]]);
    const out = path.join(dir, 'faces-masked.mp4');
    await masker.blurVideo(clip, out, { regions, style: 'blur', keepAudio: false });
    const rightBox = regionToPixels({ ...right[0]!, fromS: 0, toS: 1 }, 640, 360)!;
    const leftBox = regionToPixels({ ...left[0]!, fromS: 0, toS: 1 }, 640, 360)!;
    assert.ok((await psnr(out, clip, { crop: rightBox, from: 0, to: 2.4 })) < 30, 'third party face not blurred');
    assert.ok((await psnr(out, clip, { crop: leftBox, from: 0, to: 2.4 })) > 38, 'requester face changed');
    // The detector runs again on the masked copy: only the requester's face is still a face.
    const again = await detector.detect(out, { everyS: 1 });
    assert.ok(again.length >= 2 && again.every((f) => f.x + f.w / 2 < 0.5), `faces left: ${JSON.stringify(again)}`);
  });

  test('the "no detector" implementation says why and finds nothing', async () => {
    const none = noFaceDetector('python3-opencv not installed');
    assert.deepEqual({ available: none.available, reason: none.reason, name: none.name }, { available: false, reason: 'python3-opencv not installed', name: 'none' });
    assert.deepEqual(await none.detect(video, { everyS: 1 }), []);
    const missing = await detectFaceDetector({ cascade: path.join(dir, 'no-such-cascade.xml') });
    assert.equal(missing.available, false);
    assert.match(missing.reason ?? '', /no Haar cascade/);
  });

  test('recording roles decide the audio mask', () => {
    assert.deepEqual(audioMaskFor('operator', []), { omit: true });
    assert.deepEqual(audioMaskFor('stereo', []), { omit: false, muteChannels: [1], muteRanges: [] });
    assert.deepEqual(audioMaskFor('mixed', [{ fromS: 1, toS: 2 }]), { omit: false, muteChannels: [], muteRanges: [{ fromS: 1, toS: 2 }] });
    assert.deepEqual(audioMaskFor('caller', []), { omit: false, muteChannels: [], muteRanges: [] });
  });
});
