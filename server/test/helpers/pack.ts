/**
 * Demo-like data for evidence-pack tests: real ffmpeg-made H.264+AAC MPEG-TS segments (a keyframe every second)
 * uploaded through the agent API for two cameras, the real Asterisk fixture call with its recordings (derived by the
 * worker's service), a case filed from the call, bookmarks; then a pack requested by hq and built by a real worker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './calls.ts';
import type { TestCentre } from './centre.ts';
import { reportGap, uploadSegment } from './footage.ts';
import { api, type Api, putCamera } from './incidents.ts';

const run = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };

export type Seg = { bytes: Buffer; sha256: string; durationMs: number; start: Date };

/**
 * `count` segments of `seconds` each (320x240 testsrc2, 25 fps, keyframe every second, AAC sine audio), cut by the
 * segment muxer as the edge recorder does, laid end to end from `start` on the wall clock.
 */
export async function makeSegments(dir: string, start: Date, count: number, seconds: number, hue = 0): Promise<Seg[]> {
  await mkdir(dir, { recursive: true });
  await run(
    'ffmpeg',
    [
      '-v', 'error', '-nostdin',
      '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25,hue=h=${hue}`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(count * seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-threads', '1',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'segment', '-segment_time', String(seconds), '-segment_format', 'mpegts', path.join(dir, 'seg%03d.ts'),
    ],
    { env },
  );
  const names = (await readdir(dir)).filter((n) => /^seg\d{3}\.ts$/.test(n)).sort();
  const out: Seg[] = [];
  let t = start.getTime();
  for (const n of names) {
    const bytes = await readFile(path.join(dir, n));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path.join(dir, n)], { env });
    const durationMs = Math.round(Number(stdout.trim()) * 1000);
    out.push({ bytes, sha256: createHash('sha256').update(bytes).digest('hex'), durationMs, start: new Date(t) });
    t += durationMs;
  }
  return out;
}

export type PackCase = {
  siteId: string;
  credential: string;
  caseId: string;
  caseNumber: string;
  callId: string;
  cam1: string;
  cam2: string;
  segs1: Seg[];
  segs2: Seg[];
  hq: Api;
  hqCookie: string;
  window: { from: Date; to: Date };
};

/** The fixture call is 2026-11-23 18:05:00–18:05:26 UTC; the case window is exactly the call (no margins). */
export async function setupPackCase(centre: TestCentre, dir: string): Promise<PackCase> {
  const s = await centre.createSite();
  await centre.db.updateTable("site").set({ cameraNotice: JSON.stringify({ text: '防犯カメラ作動中・録画しています', place: '入口・レジ上', since: '2026-04-01' }), pbxNoticeText: 'この通話は品質向上と防犯のため録音しています。' }).where('id', '=', s.siteId).execute();
  const { credential } = await centre.enrollAgent(s.token);
  const cam1 = await putCamera(centre, credential, 'cam1', 'continuous', 'レジ1');
  const cam2 = await putCamera(centre, credential, 'cam2', 'continuous', '入口');
  // cam1: 9 segments of 4 s from 18:04:58 (covers the whole window); cam2: 3 segments from 18:05:10 (the rest is missing) and a reported gap.
  const segs1 = await makeSegments(path.join(dir, 'cam1'), new Date('2026-11-23T18:04:58Z'), 9, 4);
  const segs2 = await makeSegments(path.join(dir, 'cam2'), new Date('2026-11-23T18:05:10Z'), 3, 4, 120);
  for (const [key, segs] of [['cam1', segs1], ['cam2', segs2]] as const) {
    for (const seg of segs) assert.equal((await uploadSegment(centre.url, credential, key, seg.start, seg)).status, 201);
  }
  assert.equal((await reportGap(centre.url, credential, { cameraKey: 'cam2', start: new Date('2026-11-23T18:05:00Z'), end: new Date('2026-11-23T18:05:10Z'), reason: 'camera_offline' })).status, 201);
  const calls = agentClient(() => centre.url, credential);
  const v = await calls.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
  assert.equal(v.status, 201);
  const callId = ((await v.json()) as { callId: string }).callId;
  for (const f of FIXTURE_FILES) {
    const r = await calls.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
    assert.equal(r.status, 201);
    const { recordingId } = (await r.json()) as { recordingId: string };
    const d = await centre.workerServices().derive.derive(recordingId, { attempt: 1, maxAttempts: 3, jobId: null, progress: async () => undefined });
    assert.equal(d.status, 'derived');
  }
  const sm = api(centre, await centre.sessionCookie((await centre.createUser({ role: 'store_manager', siteIds: [s.siteId] })).id));
  const filed = await sm.post('/incidents', { callId, title: '電話での脅迫と来店', category: 'threat', severity: 'high', narrative: '電話で脅迫の発言の後、来店してレジ前で大声を出した。', marginBeforeSeconds: 0, marginAfterSeconds: 0 });
  assert.equal(filed.status, 201, JSON.stringify(filed.body));
  const caseId = filed.body.incident.id as string;
  assert.equal((await sm.post(`/incidents/${caseId}/bookmarks`, { at: '2026-11-23T18:05:10Z', callId, note: '「店を燃やす」との発言' })).status, 201);
  assert.equal((await sm.post(`/incidents/${caseId}/bookmarks`, { at: '2026-11-23T18:05:03Z', cameraId: cam1, note: 'レジ前で大声' })).status, 201);
  const hqCookie = await centre.sessionCookie((await centre.createUser({ role: 'hq', displayName: '本部 佐藤' })).id);
  return { siteId: s.siteId, credential, caseId, caseNumber: filed.body.incident.caseNumber, callId, cam1, cam2, segs1, segs2, hq: api(centre, hqCookie), hqCookie, window: { from: new Date('2026-11-23T18:05:00Z'), to: new Date('2026-11-23T18:05:26Z') } };
}

export const PACK_REQUEST = { purpose: 'police_request', reference: '捜査関係事項照会書 渋谷署刑第1234号', legalBasis: '個人情報保護法第27条第1項第1号（法令に基づく場合：刑事訴訟法第197条第2項）' };

/** Requests a pack and waits (a real worker must be running) until it is ready; answers the pack and every progress seen. */
export async function buildPack(centre: TestCentre, c: PackCase, body: Record<string, unknown> = PACK_REQUEST) {
  const r = await c.hq.post(`/incidents/${c.caseId}/packs`, body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.pack.id as string;
  const seen: unknown[] = [];
  for (let i = 0; i < 1200; i++) {
    const g = await c.hq.get(`/packs/${id}`);
    assert.equal(g.status, 200);
    if (g.body.pack.progress) seen.push(g.body.pack.progress);
    if (g.body.pack.status === 'ready') return { pack: g.body.pack, seen };
    if (g.body.pack.status === 'failed') throw new Error(`pack failed: ${g.body.pack.error}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('pack not ready in 120 s');
}

/** Downloads a ready pack through the API (hq) and unzips it into `dir`. */
export async function downloadAndUnzip(centre: TestCentre, c: PackCase, packId: string, dir: string): Promise<{ zip: string; dir: string; bytes: Buffer }> {
  const r = await fetch(`${centre.url}/api/v1/packs/${packId}/download`, { headers: { cookie: c.hqCookie } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/zip');
  const bytes = Buffer.from(await r.arrayBuffer());
  await mkdir(dir, { recursive: true });
  const zip = path.join(dir, '..', `${path.basename(dir)}.zip`);
  await writeFile(zip, bytes);
  await run('unzip', ['-q', '-o', zip, '-d', dir]);
  return { zip, dir, bytes };
}
