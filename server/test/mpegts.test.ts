/**
 * tsCodecs (domain/mpegts.ts): the codecs of MPEG-TS files made by the real ffmpeg, read from their program map,
 * agree with ffprobe's names; where the map cannot say (MPEG audio, not MPEG-TS at all), it answers null.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { tsCodecs } from '../src/domain/mpegts.ts';

const run = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mpegts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function make(name: string, audio: string[] | null, format = 'mpegts'): Promise<string> {
  const file = path.join(dir, name);
  const a = audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', ...audio] : [];
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=1', ...a, '-c:v', 'libx264', '-preset', 'ultrafast', '-f', format, '-y', file], { env });
  return file;
}

async function ffprobeCodecs(file: string): Promise<{ video: string | null; audio: string | null }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', file], { env });
  const s = (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[] }).streams;
  return { video: s.find((x) => x.codec_type === 'video')?.codec_name ?? null, audio: s.find((x) => x.codec_type === 'audio')?.codec_name ?? null };
}

const head = async (file: string) => (await readFile(file)).subarray(0, 16 * 188);

test('H.264 with AAC, and H.264 alone: the program map names them as ffprobe does', async () => {
  for (const [name, audio] of [
    ['aac.ts', ['-c:a', 'aac']],
    ['none.ts', null],
  ] as const) {
    const file = await make(name, audio ? [...audio] : null);
    const got = tsCodecs(await head(file));
    assert.deepEqual(got, await ffprobeCodecs(file), name);
  }
  assert.deepEqual(tsCodecs(await head(path.join(dir, 'aac.ts'))), { video: 'h264', audio: 'aac' });
});

test('MPEG audio (layer 2 or 3 is not in the map) and files that are not MPEG-TS: null, so the caller probes', async () => {
  assert.equal(tsCodecs(await head(await make('mp2.ts', ['-c:a', 'mp2']))), null);
  assert.equal(tsCodecs(await head(await make('x.mp4', null, 'mp4'))), null);
  // The map not yet in the bytes given: null, not a guess.
  assert.equal(tsCodecs((await head(path.join(dir, 'mp2.ts'))).subarray(0, 188)), null);
  assert.equal(tsCodecs(Buffer.alloc(0)), null);
});
