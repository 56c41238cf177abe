/**
 * A filed case with real media for the case page's browser test and bench: a Tokyo site whose agent uploaded
 * ffmpeg-made H.264 segments for each camera (one camera with a reported outage), the fixture PBX call with its
 * three recordings (the worker derives the playable AAC and the waveform), and a case filed from that call (which
 * links every camera's window and the call).
 */
import assert from 'node:assert/strict';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from '../server/test/helpers/calls.ts';
import { makeTsSegments, registerCamera, reportGap, uploadSegment } from '../server/test/helpers/footage.ts';

/** The fixture call: 2026-11-23 18:05:00–18:05:26 UTC (03:05 JST on the 24th). */
export const CALL_START = Date.parse('2026-11-23T18:05:00Z');
export const CALL_END = Date.parse('2026-11-23T18:05:26Z');
/** Footage of every camera: 40 segments of 2 s from 18:04:40 to 18:06:00. */
export const FOOTAGE_START = Date.parse('2026-11-23T18:04:40Z');
export const SEGMENTS = 40;
/** The second camera's outage (reported by its agent). */
export const OUTAGE = { start: Date.parse('2026-11-23T18:05:50Z'), end: Date.parse('2026-11-23T18:05:56Z') };

export type CaseFixture = {
  centre: TestCentre;
  siteId: string;
  caseId: string;
  callId: string;
  cameraIds: string[];
  user: { id: string; login: string; password: string };
};

export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

export async function caseFixture(o: { webRoot: string; dir: string; cameras: number; role?: 'store_manager' | 'hq' }): Promise<CaseFixture> {
  const [centre, segs] = await Promise.all([startCentre({ webRoot: o.webRoot, adminToken: null }), makeTsSegments(o.dir, SEGMENTS, 2)]);
  const site = await centre.createSite(undefined, 'Asia/Tokyo');
  const role = o.role ?? 'store_manager';
  const user = await centre.createUser({ role, siteIds: role === 'hq' ? [] : [site.siteId], displayName: '田中 店長' });
  const agent = await centre.enrollAgent(site.token);
  const places = ['レジ1', '入口', '事務所', '売場A', '売場B', '倉庫', '駐車場', '通路', 'レジ2'];
  const cameraIds: string[] = [];
  for (let c = 0; c < o.cameras; c++) {
    const key = `cam-${c + 1}`;
    cameraIds.push(await registerCamera(centre.url, agent.credential, key, { name: `カメラ${c + 1}`, place: places[c] ?? null, health: 'recording' }));
    const uploads = segs.map(async (s) => {
      const start = FOOTAGE_START + Math.round((s.startSec - segs[0]!.startSec) * 1000);
      if (c === 1 && start >= OUTAGE.start && start < OUTAGE.end) return; // the second camera was offline
      const r = await uploadSegment(centre.url, agent.credential, key, new Date(start), { bytes: s.bytes, sha256: s.sha256, durationMs: Math.round(s.durationSec * 1000) });
      assert.equal(r.status, 201, `${key} segment at ${new Date(start).toISOString()}`);
    });
    await Promise.all(uploads);
    if (c === 1) assert.equal((await reportGap(centre.url, agent.credential, { cameraKey: key, start: new Date(OUTAGE.start), end: new Date(OUTAGE.end), reason: 'camera_offline', detail: 'RTSP timeout' })).status, 201);
  }

  // The call as the site's agent sends it; the worker derives the playable copies and waveforms.
  const calls = agentClient(() => centre.url, agent.credential);
  const v = await calls.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
  assert.equal(v.status, 201);
  const callId = ((await v.json()) as { callId: string }).callId;
  for (const f of FIXTURE_FILES) assert.equal((await calls.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).status, 201, f.name);
  centre.startWorker(1);
  await until(
    async () => (await centre.services.repos.recordings.listForCall(callId)).map((r) => r.derive.status),
    (s) => s.length === 3 && s.every((x) => x === 'done'),
    'the worker to derive the three recordings',
    60_000,
  );

  // Filed from the call by someone who may (hq files for any site).
  const filer = await centre.createUser({ role: 'hq' });
  const r = await fetch(`${centre.url}/api/v1/incidents`, {
    method: 'POST',
    headers: { cookie: await centre.sessionCookie(filer.id), 'content-type': 'application/json' },
    body: JSON.stringify({ callId, title: '電話での威圧と来店', category: 'threat', severity: 'high', narrative: '電話で大声を出し、その後来店した。' }),
  });
  assert.equal(r.status, 201, await r.clone().text());
  const caseId = ((await r.json()) as { incident: { id: string } }).incident.id;
  return { centre, siteId: site.siteId, caseId, callId, cameraIds, user };
}

/** A browser cookie for a user's fresh session on the centre (no sign-in form needed). */
export async function browserCookie(centre: TestCentre, userId: string) {
  const header = await centre.sessionCookie(userId);
  const [name, ...rest] = header.split(';')[0]!.split('=');
  return { name: name!.trim(), value: rest.join('='), domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' as const };
}

export type Frag = { start: number; duration: number; pdt: number };

/** The playlist's fragments as a player lays them on its media timeline: EXTINF summed, each with its PROGRAM-DATE-TIME. */
export function parsePlaylist(text: string): Frag[] {
  const out: Frag[] = [];
  let pdt: number | null = null;
  let t = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    else if (line.startsWith('#EXTINF:')) {
      const d = Number(line.slice('#EXTINF:'.length).split(',')[0]);
      assert.ok(pdt !== null, 'every segment has its PROGRAM-DATE-TIME');
      out.push({ start: t, duration: d, pdt });
      t += d;
      pdt = null;
    }
  }
  return out;
}

/** Wall clock (ms) of a media time through the playlist, or null outside its fragments. */
export function wallClockOf(frags: readonly Frag[], mediaTime: number): number | null {
  let f: Frag | undefined;
  for (const x of frags) if (x.start <= mediaTime + 1e-6) f = x;
  f ??= frags[0];
  if (!f || mediaTime < f.start - 0.1 || mediaTime > f.start + f.duration + 0.1) return null;
  return f.pdt + (mediaTime - f.start) * 1000;
}
