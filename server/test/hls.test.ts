import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { signPath } from '../src/adapters/crypto.ts';
import { buildPlaylist, CONTIGUITY_TOLERANCE_MS, type PlaylistSegment } from '../src/domain/hls.ts';
import { MAX_SEGMENTS_PER_REQUEST } from '../src/services/playback.service.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { makeTsSegments, registerCamera, reportGap, uploadSegment, type TsSegment } from './helpers/footage.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const seg = (id: string, startS: number, durS: number, runId: string | null = null): PlaylistSegment => ({
  id,
  start: new Date(T0 + startS * 1000),
  end: new Date(T0 + (startS + durS) * 1000),
  durationMs: durS * 1000,
  runId,
});
const lines = (text: string) => text.trimEnd().split('\n');
/** The playlist as a list of entries: the tags before each URI. */
function entries(text: string) {
  const out: { uri: string; pdt: string | null; extinf: number | null; discontinuity: boolean; comments: string[] }[] = [];
  let cur = { pdt: null as string | null, extinf: null as number | null, discontinuity: false, comments: [] as string[] };
  for (const l of lines(text)) {
    if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) cur.pdt = l.slice('#EXT-X-PROGRAM-DATE-TIME:'.length);
    else if (l.startsWith('#EXTINF:')) cur.extinf = Number(l.slice(8).split(',')[0]);
    else if (l === '#EXT-X-DISCONTINUITY') cur.discontinuity = true;
    else if (l.startsWith('# ')) cur.comments.push(l);
    else if (!l.startsWith('#') && l) {
      out.push({ uri: l, ...cur });
      cur = { pdt: null, extinf: null, discontinuity: false, comments: [] };
    }
  }
  return out;
}

describe('buildPlaylist (pure)', () => {
  test('a VOD playlist with PROGRAM-DATE-TIME and EXTINF on every segment', () => {
    const text = buildPlaylist([seg('1', 0, 2), seg('2', 2, 2), seg('3', 4, 1.5)], (s) => `/m/${s.id}`);
    const l = lines(text);
    assert.equal(l[0], '#EXTM3U');
    assert.ok(l.includes('#EXT-X-PLAYLIST-TYPE:VOD'));
    assert.ok(l.includes('#EXT-X-TARGETDURATION:2'));
    assert.equal(l.at(-1), '#EXT-X-ENDLIST');
    assert.ok(text.endsWith('\n'));
    const e = entries(text);
    assert.deepEqual(
      e.map((x) => [x.uri, x.pdt, x.extinf, x.discontinuity]),
      [
        ['/m/1', '2026-11-23T10:00:00.000Z', 2, false],
        ['/m/2', '2026-11-23T10:00:02.000Z', 2, false],
        ['/m/3', '2026-11-23T10:00:04.000Z', 1.5, false],
      ],
    );
  });

  test('TARGETDURATION is the longest segment rounded up (never below an EXTINF)', () => {
    const t = (segs: PlaylistSegment[]) => Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(buildPlaylist(segs, (s) => s.id))![1]);
    assert.equal(t([seg('1', 0, 60), seg('2', 60, 60.04)]), 61);
    assert.equal(t([seg('1', 0, 0.4)]), 1);
    assert.equal(t([seg('1', 0, 9.999), seg('2', 9.999, 2)]), 10);
    assert.equal(t([]), 1);
  });

  test('DISCONTINUITY at a time gap, with the reported reason as a comment', () => {
    const gaps = [{ start: new Date(T0 + 4000), end: new Date(T0 + 10_000), reason: 'camera_offline' }];
    const e = entries(buildPlaylist([seg('1', 0, 2), seg('2', 2, 2), seg('3', 10, 2)], (s) => s.id, gaps));
    assert.deepEqual(
      e.map((x) => x.discontinuity),
      [false, false, true],
    );
    assert.equal(e[2]!.pdt, '2026-11-23T10:00:10.000Z');
    assert.deepEqual(e[2]!.comments, ['# gap 2026-11-23T10:00:04.000Z/2026-11-23T10:00:10.000Z camera_offline']);
  });

  test('an unreported gap is still a DISCONTINUITY; a hole within the tolerance is not', () => {
    const tol = CONTIGUITY_TOLERANCE_MS / 1000;
    const e = entries(buildPlaylist([seg('1', 0, 2), seg('2', 2 + tol / 2, 2), seg('3', 4 + tol / 2 + tol * 2, 2)], (s) => s.id));
    assert.deepEqual(
      e.map((x) => [x.discontinuity, x.comments.length]),
      [
        [false, 0],
        [false, 0],
        [true, 0],
      ],
    );
  });

  test('DISCONTINUITY when the recorder run changes, even without a time gap', () => {
    const a = randomUUID();
    const b = randomUUID();
    const e = entries(buildPlaylist([seg('1', 0, 2, a), seg('2', 2, 2, a), seg('3', 4, 2, b), seg('4', 6, 2, null)], (s) => s.id));
    assert.deepEqual(
      e.map((x) => x.discontinuity),
      [false, false, true, false],
      'a run change breaks; an unknown run does not by itself',
    );
  });
});

describe('playlist and media routes', () => {
  let centre: TestCentre;
  let dir: string;
  let cred: string;
  let cameraId: string;
  let otherCameraId: string;
  let otherSiteId: string;
  let segs: TsSegment[];
  const ids: string[] = [];
  const starts: Date[] = [];
  const GAP_MS = 6000;
  const admin = () => ({ authorization: `Bearer ${centre.adminToken}` });
  const range = (from: number, to: number) => `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
  const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; requestId: string } }).error;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mamoru-hls-'));
    [centre, segs] = await Promise.all([startCentre(), makeTsSegments(dir, 3, 2)]);
    const a = await centre.createSite();
    cred = (await centre.enrollAgent(a.token)).credential;
    cameraId = await registerCamera(centre.url, cred, 'cam1', { name: '入口', place: 'レジ1' });
    const b = await centre.createSite();
    otherSiteId = b.siteId;
    otherCameraId = await registerCamera(centre.url, (await centre.enrollAgent(b.token)).credential, 'cam9', { name: 'other' });
    const run = randomUUID();
    for (const [i, s] of segs.entries()) {
      const start = new Date(T0 + Math.round((s.startSec - segs[0]!.startSec) * 1000) + (i === 2 ? GAP_MS : 0));
      const r = await uploadSegment(centre.url, cred, 'cam1', start, { bytes: s.bytes, sha256: s.sha256, durationMs: Math.round(s.durationSec * 1000) }, run);
      assert.equal(r.status, 201);
      ids.push(r.segmentId);
      starts.push(start);
    }
    const g = await reportGap(centre.url, cred, { cameraKey: 'cam1', start: new Date(starts[1]!.getTime() + 2000), end: starts[2]!, reason: 'camera_offline', detail: 'test' });
    assert.equal(g.status, 201);
  });
  after(async () => {
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('cameras carry their site and time zone', async () => {
    const r = await fetch(`${centre.url}/api/v1/cameras`, { headers: admin() });
    assert.equal(r.status, 200);
    const cam = ((await r.json()) as { cameras: { id: string; timezone: string; siteName: string; place: string; lastSegmentAt: string }[] }).cameras.find((c) => c.id === cameraId)!;
    assert.equal(cam.timezone, 'Asia/Tokyo');
    assert.match(cam.siteName, /^店舗 /);
    assert.equal(cam.place, 'レジ1');
    assert.equal(cam.lastSegmentAt, new Date(starts[2]!.getTime() + 2000).toISOString());
    const one = await fetch(`${centre.url}/api/v1/cameras/${cameraId}`, { headers: admin() });
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { camera: { id: string; timezone: string } }).camera.timezone, 'Asia/Tokyo');
    const missing = await fetch(`${centre.url}/api/v1/cameras/${randomUUID()}`, { headers: admin() });
    assert.equal(missing.status, 404);
    assert.equal((await errorOf(missing)).code, 'camera_not_found');
  });

  test('the playlist covers the real segments: PROGRAM-DATE-TIME per segment, DISCONTINUITY at the gap, signed links that play', async () => {
    const r = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/playlist.m3u8?${range(T0 - 60_000, T0 + 60_000)}`, { headers: admin() });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    const text = await r.text();
    assert.match(text, /#EXT-X-TARGETDURATION:2\n/);
    const e = entries(text);
    assert.equal(e.length, 3);
    assert.deepEqual(
      e.map((x) => x.pdt),
      starts.map((s) => s.toISOString()),
    );
    assert.deepEqual(
      e.map((x) => x.discontinuity),
      [false, false, true],
    );
    assert.match(e[2]!.comments[0] ?? '', /camera_offline/);
    for (const [i, x] of e.entries()) {
      assert.equal(x.extinf, segs[i]!.durationSec);
      assert.match(x.uri, new RegExp(`^/api/v1/media/segments/${ids[i]}\\.ts\\?exp=\\d+&sig=[\\w-]+$`), 'a .ts name: ffmpeg refuses segment URLs without a known extension');
      const m = await fetch(`${centre.url}${x.uri}`); // no token: the link itself is the capability
      assert.equal(m.status, 200);
      assert.equal(m.headers.get('content-type'), 'video/mp2t');
      assert.equal(m.headers.get('accept-ranges'), 'bytes');
      const body = Buffer.from(await m.arrayBuffer());
      assert.equal(createHash('sha256').update(body).digest('hex'), segs[i]!.sha256);
      assert.equal(m.headers.get('x-content-sha256'), segs[i]!.sha256);
    }
  });

  test('the timeline lists segments and the reported gap', async () => {
    const r = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/timeline?${range(T0, T0 + 60_000)}`, { headers: admin() });
    assert.equal(r.status, 200);
    const t = (await r.json()) as { camera: { timezone: string }; segments: { id: string; stored: boolean }[]; gaps: { reason: string; start: string; end: string }[] };
    assert.equal(t.camera.timezone, 'Asia/Tokyo');
    assert.deepEqual(
      t.segments.map((s) => [s.id, s.stored]),
      ids.map((id) => [id, true]),
    );
    assert.deepEqual(t.gaps.map((g) => [g.reason, g.start, g.end]), [['camera_offline', new Date(starts[1]!.getTime() + 2000).toISOString(), starts[2]!.toISOString()]]);
  });

  test('scope: unknown or out-of-scope cameras are not found', async () => {
    for (const path of ['playlist.m3u8', 'timeline']) {
      const r = await fetch(`${centre.url}/api/v1/cameras/${randomUUID()}/${path}?${range(T0, T0 + 60_000)}`, { headers: admin() });
      assert.equal(r.status, 404, path);
      const err = await errorOf(r);
      assert.equal(err.code, 'camera_not_found');
      assert.ok(err.requestId);
    }
    // A person whose role covers only the other site (people's sessions come later; the service already scopes).
    const origin = { ip: null, userAgent: null, requestId: null, purpose: null };
    const outsider = { kind: 'user' as const, userId: randomUUID(), login: 'outsider', role: 'store_manager' as const, siteIds: [otherSiteId], sessionId: randomUUID(), origin };
    await assert.rejects(centre.services.playback.playlist(outsider, cameraId, new Date(T0), new Date(T0 + 60_000)), { code: 'camera_not_found' });
    await assert.rejects(centre.services.playback.timeline(outsider, cameraId, new Date(T0), new Date(T0 + 60_000)), { code: 'camera_not_found' });
    await assert.rejects(centre.services.playback.media({ principal: outsider }, ids[0]!, undefined), { code: 'segment_not_found' }, "another site's segment is as missing as a missing one");
    assert.equal((await centre.services.playback.listCameras(outsider)).map((c) => c.id).join(), otherCameraId);
    const nobody = { kind: 'user' as const, userId: randomUUID(), login: 'nobody', role: 'security' as const, siteIds: [], sessionId: randomUUID(), origin };
    await assert.rejects(centre.services.playback.playlist(nobody, cameraId, new Date(T0), new Date(T0 + 60_000)), { code: 'camera_not_found' });
  });

  test('bad requests: auth, range, id', async () => {
    const base = `${centre.url}/api/v1/cameras/${cameraId}/playlist.m3u8`;
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['no token', `${base}?${range(T0, T0 + 1000)}`, {}, 401, 'authentication_required'],
      ['wrong token', `${base}?${range(T0, T0 + 1000)}`, { authorization: 'Bearer nope' }, 401, 'token_invalid'],
      ['to before from', `${base}?${range(T0 + 1000, T0)}`, admin(), 400, 'invalid_range'],
      ['empty range', `${base}?${range(T0, T0)}`, admin(), 400, 'invalid_range'],
      ['longer than 7 days', `${base}?${range(T0, T0 + 8 * 86_400_000)}`, admin(), 400, 'range_too_long'],
      ['not a time', `${base}?from=yesterday&to=${new Date(T0).toISOString()}`, admin(), 400, 'invalid_request'],
      ['missing to', `${base}?from=${new Date(T0).toISOString()}`, admin(), 400, 'invalid_request'],
      ['not a uuid', `${centre.url}/api/v1/cameras/123/playlist.m3u8?${range(T0, T0 + 1000)}`, admin(), 400, 'invalid_request'],
      ['no footage in range', `${base}?${range(T0 - 3_600_000, T0 - 60_000)}`, admin(), 404, 'no_footage'],
      ['timeline, reversed', `${centre.url}/api/v1/cameras/${cameraId}/timeline?${range(T0 + 1000, T0)}`, admin(), 400, 'invalid_range'],
    ];
    for (const [name, url, headers, status, code] of cases) {
      const r = await fetch(url, { headers });
      assert.equal(r.status, status, name);
      assert.equal((await errorOf(r)).code, code, name);
    }
  });

  test('expired, forged or borrowed media signatures are refused with 403 media_link_invalid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const path = (id: string) => `/api/v1/media/segments/${id}`;
    const link = (id: string, exp: number, sig: string) => `${centre.url}${path(id)}?exp=${exp}&sig=${sig}`;
    const valid = link(ids[0]!, now + 300, signPath(centre.mediaSecret, path(ids[0]!), now + 300));
    assert.equal((await fetch(valid)).status, 200, 'control: a fresh link works');
    const cases: [string, string][] = [
      ['expired', link(ids[0]!, now - 1, signPath(centre.mediaSecret, path(ids[0]!), now - 1))],
      ['forged with another key', link(ids[0]!, now + 300, signPath('x'.repeat(40), path(ids[0]!), now + 300))],
      ['expiry moved later', link(ids[0]!, now + 99_999, signPath(centre.mediaSecret, path(ids[0]!), now + 300))],
      ['signature of another segment', link(ids[1]!, now + 300, signPath(centre.mediaSecret, path(ids[0]!), now + 300))],
      ['no signature', `${centre.url}${path(ids[0]!)}`],
      ['garbage signature', link(ids[0]!, now + 300, 'AAAA')],
    ];
    for (const [name, url] of cases) {
      const r = await fetch(url);
      assert.equal(r.status, 403, name);
      assert.equal((await errorOf(r)).code, 'media_link_invalid', name);
    }
    const unknown = await fetch(link('999999', now + 300, signPath(centre.mediaSecret, path('999999'), now + 300)));
    assert.equal(unknown.status, 404);
    assert.equal((await errorOf(unknown)).code, 'segment_not_found');
    for (const suffix of ['', '.ts']) {
      const bearer = await fetch(`${centre.url}${path(ids[0]!)}${suffix}`, { headers: admin() });
      assert.equal(bearer.status, 200, `a bearer token in scope needs no signature (${suffix || 'no extension'})`);
      await bearer.arrayBuffer();
    }
    const signed = signPath(centre.mediaSecret, path(ids[0]!), now + 300);
    for (const suffix of ['.mp4', '.TS', '.ts.ts', 'x']) {
      const r = await fetch(`${centre.url}${path(ids[0]!)}${suffix}?exp=${now + 300}&sig=${signed}`);
      assert.equal(r.status, 404, `wrong extension ${suffix}`);
      assert.equal((await errorOf(r)).code, 'segment_not_found', suffix);
    }
  });

  test('Range requests: 206 with the right bytes; unsatisfiable ranges 416 with the size', async () => {
    const bytes = segs[1]!.bytes;
    const size = bytes.length;
    const url = `${centre.url}/api/v1/media/segments/${ids[1]}`;
    const get = (range: string) => fetch(url, { headers: { ...admin(), range } });
    const partial: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-1187', 1000, 1187],
      [`bytes=${size - 10}-`, size - 10, size - 1],
      ['bytes=-188', size - 188, size - 1],
      [`bytes=100-${size * 2}`, 100, size - 1],
      [`bytes=-${size * 2}`, 0, size - 1],
    ];
    for (const [range, start, end] of partial) {
      const r = await get(range);
      assert.equal(r.status, 206, range);
      assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${size}`, range);
      assert.equal(r.headers.get('content-length'), String(end - start + 1), range);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(bytes.subarray(start, end + 1)), `${range} bytes`);
    }
    const bad = [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=50-10', 'bytes=-0', 'bytes=0-1,5-9', 'items=0-10', 'bytes=abc', 'bytes=99999999999999999999-'];
    for (const range of bad) {
      const r = await get(range);
      assert.equal(r.status, 416, range);
      assert.equal((await errorOf(r)).code, 'range_not_satisfiable', range);
      assert.equal(r.headers.get('content-range'), `bytes */${size}`, range);
    }
    const whole = await fetch(url, { headers: admin() });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(size));
    await whole.arrayBuffer();
    const health = await fetch(`${centre.url}/api/v1/health`);
    assert.equal(health.status, 200, 'still serving');
  });

  test('a range with more segments than one playlist may hold is refused, not cut short', async () => {
    const camId = await registerCamera(centre.url, cred, 'dense', { name: 'dense' });
    // Metadata-only rows, 1 s apart, written straight to the table: more than the limit.
    await sql`
      INSERT INTO segment (camera_id, span, duration_ms, byte_size, sha256, media_type)
      SELECT ${camId}::uuid, tstzrange(${new Date(T0)}::timestamptz + make_interval(secs => g), ${new Date(T0)}::timestamptz + make_interval(secs => g + 1), '[)'),
             1000, 1, decode(repeat('00', 32), 'hex'), 'video/mp2t'
      FROM generate_series(0, ${MAX_SEGMENTS_PER_REQUEST}) AS g`.execute(centre.db);
    const r = await fetch(`${centre.url}/api/v1/cameras/${camId}/timeline?${range(T0, T0 + 86_400_000)}`, { headers: admin() });
    assert.equal(r.status, 400);
    assert.equal((await errorOf(r)).code, 'range_too_dense');
    const ok = await fetch(`${centre.url}/api/v1/cameras/${camId}/timeline?${range(T0, T0 + 10_000)}`, { headers: admin() });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { segments: unknown[] }).segments.length, 10);
  });
});
