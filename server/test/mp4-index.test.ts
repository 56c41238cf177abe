/**
 * The MP4 index reader (domain/mp4-index.ts) against what ffprobe says of the same files: cuts made by the real
 * ffmpeg adapter from real MPEG-TS segments (with and without B-frames and audio), and damaged inputs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegVideoTools, readMp4Index } from '../src/adapters/video-tools.ts';
import { findTopLevelBox, parseMoov } from '../src/domain/mp4-index.ts';

const run = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mp4-index-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A segment of `seconds` of 320x240 H.264 (B-frames or none), with AAC audio or none, as MPEG-TS. */
async function segment(name: string, o: { seconds: number; bframes: boolean; audio: boolean }): Promise<string> {
  const file = path.join(dir, name);
  const audio = o.audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${o.seconds}`] : [];
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${o.seconds}`, ...audio, '-c:v', 'libx264', '-preset', o.bframes ? 'veryfast' : 'ultrafast', '-g', '25', ...(o.audio ? ['-c:a', 'aac'] : []), '-f', 'mpegts', '-y', file], { env });
  return file;
}

async function ffprobeFacts(file: string): Promise<{ durationS: number; nbFrames: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'format=duration:stream=nb_frames', '-of', 'json', file], { env });
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: { nb_frames: string }[] };
  return { durationS: Number(j.format.duration), nbFrames: Number(j.streams[0]!.nb_frames) };
}

for (const kind of [
  { name: 'no B-frames, no audio', bframes: false, audio: false },
  { name: 'B-frames and AAC audio', bframes: true, audio: true },
]) {
  test(`a cut's duration and video packet count read from its moov match ffprobe (${kind.name})`, async () => {
    const a = await segment(`a-${kind.bframes}-${kind.audio}.ts`, { seconds: 4, ...kind });
    const b = await segment(`b-${kind.bframes}-${kind.audio}.ts`, { seconds: 3, ...kind });
    const out = path.join(dir, `cut-${kind.bframes}-${kind.audio}.mp4`);
    const cut = await ffmpegVideoTools().cut({
      inputs: [{ file: a, durationS: 4 }, { file: b }],
      output: out,
      subtitlesSrt: '1\n00:00:00,000 --> 00:00:01,000\n2026-11-24 03:05:00\n',
      audio: kind.audio ? 'copy' : null,
      metadata: { title: 'test' },
      scratchPrefix: path.join(dir, `cut-${kind.bframes}-${kind.audio}`),
    });
    const probe = await ffprobeFacts(out);
    assert.equal(cut.videoPackets, probe.nbFrames);
    assert.ok(cut.videoPackets >= 170 && cut.videoPackets <= 176, `7 s at 25 fps: ${cut.videoPackets}`);
    assert.ok(Math.abs(cut.durationS - probe.durationS) < 0.001, `duration ${cut.durationS} vs ffprobe ${probe.durationS}`);
    const index = await readMp4Index(out);
    assert.deepEqual(index.tracks.map((t) => t.handler).sort(), (kind.audio ? ['sbtl', 'soun', 'vide'] : ['sbtl', 'vide']).sort());
  });
}

test('a damaged or missing index is an error, not a guess', async () => {
  const a = await segment('c.ts', { seconds: 2, bframes: false, audio: false });
  const out = path.join(dir, 'c.mp4');
  await ffmpegVideoTools().cut({ inputs: [{ file: a }], output: out, subtitlesSrt: '1\n00:00:00,000 --> 00:00:01,000\nx\n', audio: null, metadata: {}, scratchPrefix: path.join(dir, 'c') });
  const bytes = await readFile(out);
  const at = findTopLevelBox(bytes, 'moov')!;
  assert.ok(at && at.offset < 1024, 'faststart: the index is at the front');
  const moov = bytes.subarray(at.offset, at.offset + at.size);
  assert.ok(parseMoov(Buffer.from(moov)).durationS > 1.9);
  // A box inside claiming more bytes than the moov has.
  const broken = Buffer.from(moov);
  broken.writeUInt32BE(0x7fffffff, 8);
  assert.throws(() => parseMoov(broken), /claims/);
  assert.throws(() => parseMoov(Buffer.from(moov.subarray(0, 100))), /claims/);
  assert.throws(() => parseMoov(bytes.subarray(0, 32)), /not a moov box/);
  // An MPEG-TS file has no MP4 boxes at all.
  await assert.rejects(readMp4Index(a), /no moov box|size of/);
});
