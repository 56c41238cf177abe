/**
 * The timeline of a case: one response with the site's time zone, every linked camera window (its HLS playlist route
 * for exactly that window, segments and gaps), every linked call (playable audio and waveform links), bookmarks and
 * arrival, so a viewer plays them on one clock. Real footage (ffmpeg segments through the agent API) and the real
 * Asterisk fixture call with its recordings, derived by the worker's service (ffmpeg).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { makeTsSegments, reportGap, uploadSegment } from './helpers/footage.ts';
import { api, type Api, putCamera } from './helpers/incidents.ts';

describe('incidents: the timeline of a case', () => {
  let centre: TestCentre;
  let dir: string;
  let sm: Api;
  let callId: string;
  let cam1: string;
  let cam2: string;
  let caseId: string;
  // The fixture call: 2026-11-23 18:05:00–18:05:26 UTC at a site in Asia/Tokyo.
  const CALL_START = new Date('2026-11-23T18:05:00Z');
  const segStarts: Date[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'incident-timeline-'));
    centre = await startCentre();
    const s = await centre.createSite();
    const credential = (await centre.enrollAgent(s.token)).credential;
    cam1 = await putCamera(centre, credential, 'cam1', 'continuous', 'レジ1');
    cam2 = await putCamera(centre, credential, 'cam2', 'on-demand', '事務所');
    // Three real 2 s segments around the call's start, then a reported gap.
    const segs = await makeTsSegments(dir, 3, 2);
    let t = CALL_START.getTime() - 2000;
    for (const seg of segs) {
      const start = new Date(t);
      const r = await uploadSegment(centre.url, credential, 'cam1', start, { bytes: seg.bytes, sha256: seg.sha256, durationMs: Math.round(seg.durationSec * 1000) });
      assert.equal(r.status, 201);
      segStarts.push(start);
      t += Math.round(seg.durationSec * 1000);
    }
    assert.equal((await reportGap(centre.url, credential, { cameraKey: 'cam1', start: new Date('2026-11-23T18:06:00Z'), end: new Date('2026-11-23T18:07:00Z'), reason: 'recorder_restart' })).status, 201);
    const calls = agentClient(() => centre.url, credential);
    const v = await calls.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(v.status, 201);
    callId = ((await v.json()) as { callId: string }).callId;
    for (const f of FIXTURE_FILES) {
      const r = await calls.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
      assert.equal(r.status, 201);
      const { recordingId } = (await r.json()) as { recordingId: string };
      const d = await centre.workerServices().derive.derive(recordingId, { attempt: 1, maxAttempts: 3, jobId: null, progress: async () => undefined });
      assert.equal(d.status, 'derived');
    }
    sm = api(centre, await centre.sessionCookie((await centre.createUser({ role: 'store_manager', siteIds: [s.siteId] })).id));
    const filed = await sm.post('/incidents', { callId, title: '電話での脅迫', category: 'threat', severity: 'high' });
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    caseId = filed.body.incident.id;
    assert.equal((await sm.post(`/incidents/${caseId}/bookmarks`, { at: '2026-11-23T18:05:10Z', callId, note: '脅迫の発言' })).status, 201);
    assert.equal((await sm.post(`/incidents/${caseId}/bookmarks`, { at: '2026-11-23T18:05:01Z', cameraId: cam1, note: '客が来店' })).status, 201);
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('one response: time zone, case window, camera windows with their playlists and arrival, calls with audio links, bookmarks', async () => {
    const r = await sm.get(`/incidents/${caseId}/timeline`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const t = r.body;
    assert.equal(t.timezone, 'Asia/Tokyo');
    assert.deepEqual(t.caseWindow, { from: '2026-11-23T18:05:00.000Z', to: '2026-11-23T18:05:26.000Z' });
    assert.deepEqual(t.range, { from: '2026-11-23T18:00:00.000Z', to: '2026-11-23T18:10:26.000Z' });
    assert.equal(t.incident.id, caseId);

    assert.deepEqual(t.cameraWindows.map((w: { camera: { key: string } }) => w.camera.key), ['cam1', 'cam2']);
    const [w1, w2] = t.cameraWindows;
    assert.deepEqual([w1.from, w1.to], ['2026-11-23T18:00:00.000Z', '2026-11-23T18:10:26.000Z']);
    assert.equal(w1.camera.place, 'レジ1');
    assert.equal(w1.playlistUrl, `/api/v1/cameras/${cam1}/playlist.m3u8?from=${encodeURIComponent(w1.from)}&to=${encodeURIComponent(w1.to)}`);
    assert.equal(w1.playable, true);
    assert.equal(w1.arrival.segments.stored, 3);
    assert.deepEqual(w1.arrival.gaps, [{ from: '2026-11-23T18:06:00.000Z', to: '2026-11-23T18:07:00.000Z', reason: 'recorder_restart', detail: null }]);
    assert.equal(w1.arrival.state, 'awaiting', 'most of the window has no footage yet: the agent was asked for it');
    assert.deepEqual(w1.arrival.missing[0], { from: '2026-11-23T18:00:00.000Z', to: segStarts[0]!.toISOString() });
    assert.equal(w1.arrival.missingMs + w1.arrival.storedMs + w1.arrival.gapMs, 626_000, 'every moment of the window is accounted for');
    // The stored stretch is the three contiguous segments as one span; nothing of cam1 is only at the store.
    assert.deepEqual(w1.arrival.stored, [{ from: segStarts[0]!.toISOString(), to: new Date(segStarts[0]!.getTime() + w1.arrival.storedMs).toISOString() }]);
    assert.deepEqual(w1.arrival.atStore, []);
    assert.equal(w1.preserveCommand.status, 'pending');
    assert.deepEqual([w2.camera.uploadMode, w2.playable, w2.arrival.segments.total, w2.arrival.missingMs, w2.preserveCommand.status], ['on-demand', false, 0, 626_000, 'pending']);

    assert.equal(t.calls.length, 1);
    const c = t.calls[0];
    assert.deepEqual([c.id, c.startUtc, c.endUtc, c.operator.extension, c.caller.e164, c.link.source], [callId, '2026-11-23T18:05:00.000Z', '2026-11-23T18:05:26.000Z', '201', '+81312345678', 'filed_from']);
    assert.equal(c.recordings.length, 3);
    for (const rec of c.recordings) {
      assert.equal(rec.stored, true);
      assert.equal(rec.derive, 'done');
      assert.ok(rec.playable.url.startsWith(`/api/v1/media/recordings/${rec.id}/playable?exp=`));
      assert.ok(rec.waveform.url.startsWith(`/api/v1/media/recordings/${rec.id}/waveform?exp=`));
      assert.equal(rec.playable.expiresAt, t.linksExpireAt);
    }
    assert.deepEqual(t.bookmarks.map((b: { at: string; note: string }) => [b.at, b.note]), [['2026-11-23T18:05:01.000Z', '客が来店'], ['2026-11-23T18:05:10.000Z', '脅迫の発言']]);

    const ev = await centre.db.selectFrom('auditEvent').selectAll().where('action', '=', 'incident.timeline').where('targetId', '=', caseId).execute();
    assert.equal(ev.length, 1, 'the timeline is audited as a view');
    assert.deepEqual(ev[0]!.details, { caseNumber: t.incident.caseNumber, windows: 2, calls: 1, recordings: 3, linksExpireAt: t.linksExpireAt });
  });

  test('the links in the timeline play: the HLS playlist of the window (with a session), the audio and waveform (signed)', async () => {
    const cookie = await centre.sessionCookie((await centre.createUser({ role: 'security', siteIds: [(await centre.db.selectFrom('incident').select('siteId').where('id', '=', caseId).executeTakeFirstOrThrow()).siteId] })).id);
    const sec = api(centre, cookie);
    const t = (await sec.get(`/incidents/${caseId}/timeline`)).body;
    const pl = await fetch(`${centre.url}${t.cameraWindows[0].playlistUrl}`, { headers: { cookie } });
    assert.equal(pl.status, 200);
    const text = await pl.text();
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')).map((l) => new Date(l.slice(25)).toISOString()),
      segStarts.map((d) => d.toISOString()),
      'the three segments, each on the wall clock',
    );
    const seg = await fetch(`${centre.url}${text.split('\n').find((l) => l.startsWith('/api/v1/media/segments/'))}`);
    assert.equal(seg.status, 200);
    const playlistEvents = await centre.db.selectFrom('auditEvent').select('targetId').where('action', '=', 'footage.playlist').execute();
    assert.ok(playlistEvents.some((e) => e.targetId === cam1), 'playing the window is audited as playback');
    const rec = t.calls[0].recordings.find((x: { role: string }) => x.role === 'mixed');
    const audio = await fetch(`${centre.url}${rec.playable.url}`);
    assert.equal(audio.status, 200);
    assert.equal(audio.headers.get('content-type'), rec.playable.mediaType);
    assert.ok((await audio.arrayBuffer()).byteLength > 1000);
    const wave = await fetch(`${centre.url}${rec.waveform.url}`);
    assert.equal(wave.status, 200);
    const peaks = (await wave.json()) as Record<string, unknown>;
    assert.ok(Object.keys(peaks).length > 0);
    const forged = await fetch(`${centre.url}${rec.playable.url.replace(/sig=[^&]+/, 'sig=AAAA')}`);
    assert.equal(forged.status, 403);
  });
});
