/**
 * Metadata-only segment ingest for on-demand cameras (`PUT /api/v1/agent/segments/{camera}/{start}/meta`): the row
 * holds the edge hash with no object; the media PUT later attaches to that very row only if hash, size and
 * duration match; timeline, playlist and media routes say the media is at the store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { makeTsSegments, type TsSegment } from './helpers/footage.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('metadata-only segments (on-demand cameras)', () => {
  let centre: TestCentre;
  let cred: string;
  let otherCred: string;
  let cameraId: string;
  let hq: string;
  let dir: string;
  let ts: TsSegment[];
  before(async () => {
    centre = await startCentre();
    const a = await centre.createSite();
    cred = (await centre.enrollAgent(a.token)).credential;
    otherCred = (await centre.enrollAgent((await centre.createSite()).token)).credential;
    const r = await fetch(`${centre.url}/api/v1/agent/cameras/od1`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'レジ1', uploadMode: 'on-demand' }) });
    assert.equal(r.status, 200);
    cameraId = ((await r.json()) as { cameraId: string }).cameraId;
    hq = await centre.hqCookie();
    dir = await mkdtemp(join(tmpdir(), 'seg-meta-'));
    ts = await makeTsSegments(dir, 3, 2);
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  type Meta = { sha256: string; size: number; durationMs: number; mediaType?: string; codec?: unknown; runId?: string | null; clockOffsetMs?: number | null };
  const putMeta = (start: string, meta: Record<string, unknown>, opts: { cam?: string; credential?: string | null; raw?: string } = {}) =>
    fetch(`${centre.url}/api/v1/agent/segments/${opts.cam ?? 'od1'}/${encodeURIComponent(start)}/meta`, {
      method: 'PUT',
      headers: { ...(opts.credential !== null && { authorization: `Bearer ${opts.credential ?? cred}` }), 'content-type': 'application/json' },
      body: opts.raw ?? JSON.stringify(meta),
    });
  const metaOf = (b: Buffer, durationMs: number, extra: Partial<Meta> = {}): Meta => ({ sha256: sha(b), size: b.length, durationMs, mediaType: 'video/mp2t', codec: { video: 'h264' }, runId: randomUUID(), clockOffsetMs: -12, ...extra });
  const putMedia = (start: string, body: Buffer, durationMs: number, extra: { sha256?: string; size?: number } = {}) =>
    fetch(`${centre.url}/api/v1/agent/segments/od1/${encodeURIComponent(start)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cred}`, 'content-type': 'video/mp2t', 'x-segment-sha256': extra.sha256 ?? sha(body), 'x-segment-size': String(extra.size ?? body.length), 'x-segment-duration-ms': String(durationMs) },
      body,
    });
  const rows = async () => centre.db.selectFrom('segment').select(['id', 'objectKey', 'storedAt', 'byteSize', 'clockOffsetMs', 'runId']).select((eb) => eb.fn<string>('encode', ['sha256', eb.val('hex')]).as('sha256')).orderBy('id').execute();
  const err = async (r: Response) => ((await r.json()) as { error: { code: string; requestId: string } }).error;

  test('records the hash without media, idempotently; the media PUT later attaches to the same row', async () => {
    const seg = ts[0]!;
    const start = '2026-11-24T01:00:00.000Z';
    const m = metaOf(seg.bytes, Math.round(seg.durationSec * 1000));
    const r1 = await putMeta(start, m);
    assert.equal(r1.status, 201);
    const { segmentId, status } = (await r1.json()) as { segmentId: string; status: string };
    assert.equal(status, 'created');
    const r2 = await putMeta(start, m);
    assert.equal(r2.status, 200, 'the same metadata again is a success');
    assert.equal(((await r2.json()) as { segmentId: string }).segmentId, segmentId);
    let all = await rows();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.objectKey, null, 'no object: the media is at the store');
    assert.equal(all[0]!.sha256, seg.sha256, 'the edge hash is at the centre');
    assert.equal(all[0]!.clockOffsetMs, -12);
    assert.equal(all[0]!.runId, m.runId);
    assert.equal(await centre.objectCount('segments/'), 0);

    const media = await putMedia(start, seg.bytes, m.durationMs);
    assert.equal(media.status, 201);
    assert.equal(((await media.json()) as { segmentId: string }).segmentId, segmentId, 'attached to the metadata row, not a new one');
    all = await rows();
    assert.equal(all.length, 1);
    assert.ok(all[0]!.objectKey && all[0]!.storedAt);
    assert.equal(await centre.objectCount('segments/'), 1);
    assert.equal((await putMedia(start, seg.bytes, m.durationMs)).status, 200, 'media again: exists');
    assert.equal((await putMeta(start, m)).status, 200, 'metadata after the media: exists');
    assert.equal(await centre.objectCount('segments/'), 1);
  });

  test('media that does not match the metadata row is refused and stores nothing', async () => {
    const seg = ts[1]!;
    const start = '2026-11-24T02:00:00.000Z';
    const durationMs = Math.round(seg.durationSec * 1000);
    assert.equal((await putMeta(start, metaOf(seg.bytes, durationMs))).status, 201);
    const before = await rows();
    const objects = await centre.objectCount('segments/');
    const other = randomBytes(seg.bytes.length);
    // Other bytes with their own (correct) hash: a different segment claims this start.
    const r1 = await putMedia(start, other, durationMs);
    assert.equal(r1.status, 409);
    assert.equal((await err(r1)).code, 'segment_conflict');
    // Same hash, another size (a truncated body would be caught too): conflict with the row.
    const r2 = await putMedia(start, seg.bytes.subarray(0, 1000), durationMs, { sha256: seg.sha256 });
    assert.equal(r2.status, 409);
    assert.equal((await err(r2)).code, 'segment_conflict');
    // Right row, wrong bytes for the declared hash: hash mismatch, nothing attached.
    const tampered = Buffer.from(seg.bytes);
    tampered[100] = tampered[100]! ^ 0xff;
    const r3 = await putMedia(start, tampered, durationMs, { sha256: seg.sha256 });
    assert.equal(r3.status, 400);
    assert.equal((await err(r3)).code, 'hash_mismatch');
    assert.deepEqual(await rows(), before, 'rows unchanged');
    assert.equal(await centre.objectCount('segments/'), objects, 'no object left behind');
  });

  test('bad metadata gets a 4xx with a code and stores nothing', async () => {
    const before = await rows();
    const b = randomBytes(5000);
    const ok = metaOf(b, 2000);
    const cases: [string, Promise<Response>, number, string][] = [
      ['no credential', putMeta('2026-11-24T03:00:00Z', ok, { credential: null }), 401, 'agent_credential_missing'],
      ['malformed JSON', putMeta('2026-11-24T03:00:00Z', {}, { raw: '{"sha256":' }), 400, 'invalid_request'],
      ['upper-case hash', putMeta('2026-11-24T03:00:00Z', { ...ok, sha256: ok.sha256.toUpperCase() }), 400, 'invalid_request'],
      ['short hash', putMeta('2026-11-24T03:00:00Z', { ...ok, sha256: 'abc' }), 400, 'invalid_request'],
      ['zero size', putMeta('2026-11-24T03:00:00Z', { ...ok, size: 0 }), 400, 'invalid_request'],
      ['fractional duration', putMeta('2026-11-24T03:00:00Z', { ...ok, durationMs: 10.5 }), 400, 'invalid_request'],
      ['duration over an hour', putMeta('2026-11-24T03:00:00Z', { ...ok, durationMs: 3_600_001 }), 400, 'invalid_request'],
      ['run id not a uuid', putMeta('2026-11-24T03:00:00Z', { ...ok, runId: 'run-1' }), 400, 'invalid_request'],
      ['clock offset out of range', putMeta('2026-11-24T03:00:00Z', { ...ok, clockOffsetMs: 10 ** 9 }), 400, 'invalid_request'],
      ['codec not an object', putMeta('2026-11-24T03:00:00Z', { ...ok, codec: 'h264' }), 400, 'invalid_request'],
      ['start not a date', putMeta('yesterday', ok), 400, 'invalid_request'],
      ['start without zone', putMeta('2026-11-24T03:00:00', ok), 400, 'invalid_request'],
      ['bad camera key', putMeta('2026-11-24T03:00:00Z', ok, { cam: 'no%20spaces' }), 400, 'invalid_request'],
      ['unknown media type', putMeta('2026-11-24T03:00:00Z', { ...ok, mediaType: 'video/x-matroska' }), 400, 'unsupported_media_type'],
      ['unknown camera', putMeta('2026-11-24T03:00:00Z', ok, { cam: 'nope' }), 404, 'camera_not_found'],
      ["another site's camera", putMeta('2026-11-24T03:00:00Z', ok, { credential: otherCred }), 404, 'camera_not_found'],
    ];
    for (const [what, res, status, code] of cases) {
      const r = await res;
      assert.equal(r.status, status, what);
      const e = await err(r);
      assert.equal(e.code, code, what);
      assert.ok(e.requestId, `${what}: requestId`);
    }
    assert.deepEqual(await rows(), before, 'nothing stored');
  });

  test('a segment too large for the centre is refused with 413 before anything is stored', async () => {
    const small = await startCentre({ maxSegmentBytes: 1000 });
    try {
      const c = (await small.enrollAgent((await small.createSite()).token)).credential;
      await fetch(`${small.url}/api/v1/agent/cameras/od1`, { method: 'PUT', headers: { authorization: `Bearer ${c}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', uploadMode: 'on-demand' }) });
      const r = await fetch(`${small.url}/api/v1/agent/segments/od1/2026-11-24T03%3A00%3A00Z/meta`, { method: 'PUT', headers: { authorization: `Bearer ${c}`, 'content-type': 'application/json' }, body: JSON.stringify(metaOf(randomBytes(1001), 1000)) });
      assert.equal(r.status, 413);
      assert.equal((await err(r)).code, 'segment_too_large');
      assert.equal(Number((await small.db.selectFrom('segment').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 0);
    } finally {
      await small.close();
    }
  });

  test('a different segment at the same start is a conflict; an overlapping one is an overlap', async () => {
    const b = randomBytes(4000);
    const start = '2026-11-24T04:00:00.000Z';
    assert.equal((await putMeta(start, metaOf(b, 10_000))).status, 201);
    const before = await rows();
    const r1 = await putMeta(start, metaOf(randomBytes(4000), 10_000));
    assert.equal(r1.status, 409);
    assert.equal((await err(r1)).code, 'segment_conflict');
    const r2 = await putMeta(start, metaOf(b, 9_000));
    assert.equal(r2.status, 409, 'same bytes, other duration');
    assert.equal((await err(r2)).code, 'segment_conflict');
    const r3 = await putMeta('2026-11-24T04:00:05.000Z', metaOf(randomBytes(4000), 10_000));
    assert.equal(r3.status, 409);
    assert.equal((await err(r3)).code, 'segment_overlap');
    // A media upload overlapping a metadata-only row is an overlap too.
    const media = await putMedia('2026-11-24T03:59:55.000Z', randomBytes(3000), 10_000);
    assert.equal(media.status, 409);
    assert.equal((await err(media)).code, 'segment_overlap');
    assert.deepEqual(await rows(), before);
    assert.equal(await centre.objectCount('segments/'), 1, 'only the first test\'s attached media');
  });

  test('timeline shows segments at the store (stored:false); the playlist plays only what is here and names the rest; media says where it is', async () => {
    // Two real segments back to back: the first stored, the second only as metadata.
    const base = Date.parse('2026-11-24T05:00:00.000Z');
    const [s0, s1] = [ts[0]!, ts[1]!];
    const d0 = Math.round(s0.durationSec * 1000);
    const d1 = Math.round(s1.durationSec * 1000);
    const t0 = new Date(base).toISOString();
    const t1 = new Date(base + d0).toISOString();
    assert.equal((await putMeta(t0, metaOf(s0.bytes, d0, { runId: null }))).status, 201);
    assert.equal((await putMedia(t0, s0.bytes, d0)).status, 201);
    const r = await putMeta(t1, metaOf(s1.bytes, d1, { runId: null }));
    assert.equal(r.status, 201);
    const atStoreId = ((await r.json()) as { segmentId: string }).segmentId;
    const range = `from=${encodeURIComponent(new Date(base - 1000).toISOString())}&to=${encodeURIComponent(new Date(base + 10_000).toISOString())}`;

    const tl = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/timeline?${range}`, { headers: { cookie: hq } });
    assert.equal(tl.status, 200);
    const segs = ((await tl.json()) as { segments: { id: string; stored: boolean; state: string; sha256: string; deletedAt: string | null }[] }).segments;
    assert.deepEqual(segs.map((s) => [s.stored, s.state]), [[true, 'stored'], [false, 'at_store']]);
    assert.equal(segs[1]!.sha256, s1.sha256, 'the hash of footage still at the store is shown');

    const pl = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/playlist.m3u8?${range}`, { headers: { cookie: hq } });
    assert.equal(pl.status, 200);
    const text = await pl.text();
    assert.equal(text.split('\n').filter((l) => l.startsWith('/api/v1/media/')).length, 1, 'only the stored segment is in the playlist');
    assert.ok(!text.includes(`/media/segments/${atStoreId}`));

    const media = await fetch(`${centre.url}/api/v1/media/segments/${atStoreId}`, { headers: { cookie: hq } });
    assert.equal(media.status, 404);
    assert.equal((await err(media)).code, 'media_not_at_centre');

    // A range with only metadata: no playlist, and the answer says why.
    const onlyMeta = `from=${encodeURIComponent(t1)}&to=${encodeURIComponent(new Date(base + d0 + d1).toISOString())}`;
    const none = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/playlist.m3u8?${onlyMeta}`, { headers: { cookie: hq } });
    assert.equal(none.status, 404);
    const e = (await none.json()) as { error: { code: string; message: string } };
    assert.equal(e.error.code, 'no_footage');
    assert.match(e.error.message, /1 segments known/);
  });

  test('a gap the store reported as evicted turns an at-store segment into "evicted" on the timeline', async () => {
    const b = randomBytes(2000);
    const start = new Date('2026-11-24T06:00:00.000Z');
    assert.equal((await putMeta(start.toISOString(), metaOf(b, 4000))).status, 201);
    const g = await fetch(`${centre.url}/api/v1/agent/gaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cameraKey: 'od1', start: start.toISOString(), end: new Date(start.getTime() + 4000).toISOString(), reason: 'evicted', detail: 'disk full' }),
    });
    assert.equal(g.status, 201);
    const tl = await fetch(`${centre.url}/api/v1/cameras/${cameraId}/timeline?from=2026-11-24T05:59:00Z&to=2026-11-24T06:01:00Z`, { headers: { cookie: hq } });
    const segs = ((await tl.json()) as { segments: { state: string }[] }).segments;
    assert.deepEqual(segs.map((s) => s.state), ['evicted']);
  });
});
