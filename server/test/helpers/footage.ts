/** Real footage for tests: H.264 MPEG-TS segments made by ffmpeg, measured by ffprobe, uploaded as an agent would. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };

export type TsSegment = { path: string; bytes: Buffer; sha256: string; startSec: number; durationSec: number };

/**
 * `count` segments of `seconds` each of testsrc2 (320x240, 25 fps, keyframe every segment), cut by the segment
 * muxer without resetting timestamps, as the edge recorder does. Start and duration are what ffprobe reads.
 */
export async function makeTsSegments(dir: string, count = 3, seconds = 2): Promise<TsSegment[]> {
  const fps = 25;
  await run(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${fps}`, '-t', String(count * seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(fps * seconds), '-keyint_min', String(fps * seconds), '-sc_threshold', '0', '-threads', '1', '-f', 'segment', '-segment_time', String(seconds), '-segment_format', 'mpegts', join(dir, 'seg%03d.ts')],
    { env },
  );
  const names = (await readdir(dir)).filter((n) => /^seg\d{3}\.ts$/.test(n)).sort();
  const out: TsSegment[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration', '-of', 'json', path], { env });
    const f = (JSON.parse(stdout) as { format: { start_time: string; duration: string } }).format;
    const bytes = await readFile(path);
    out.push({ path, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), startSec: Number(f.start_time), durationSec: Number(f.duration) });
  }
  return out;
}

/** Registers a camera for the agent's site. */
export async function registerCamera(baseUrl: string, credential: string, key: string, body: { name: string; place?: string | null; health?: string }) {
  const r = await fetch(`${baseUrl}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`camera registration: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { cameraId: string }).cameraId;
}

/** PUT one segment through the agent API with its edge hash; returns the status and segment id. */
export async function uploadSegment(baseUrl: string, credential: string, cameraKey: string, start: Date, seg: { bytes: Buffer; sha256: string; durationMs: number }, runId?: string) {
  const r = await fetch(`${baseUrl}/api/v1/agent/segments/${cameraKey}/${encodeURIComponent(start.toISOString())}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${credential}`,
      'content-type': 'video/mp2t',
      'x-segment-sha256': seg.sha256,
      'x-segment-size': String(seg.bytes.length),
      'x-segment-duration-ms': String(seg.durationMs),
      ...(runId && { 'x-segment-run': runId }),
    },
    body: seg.bytes,
  });
  const body = (await r.json()) as { segmentId?: string };
  return { status: r.status, segmentId: body.segmentId ?? '' };
}

export async function reportGap(baseUrl: string, credential: string, gap: { cameraKey: string; start: Date; end: Date; reason: string; detail?: string | null }) {
  const r = await fetch(`${baseUrl}/api/v1/agent/gaps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...gap, start: gap.start.toISOString(), end: gap.end.toISOString() }),
  });
  return { status: r.status, body: (await r.json()) as { created?: boolean; gapId?: string } };
}
