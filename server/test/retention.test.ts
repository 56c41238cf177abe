/**
 * Retention (invariant 7, docs/design.md §7): the `retention.run` job deletes routine media past its period from S3 and
 * marks the rows; media under an active hold (incident or legal) is never deleted, a lapsed or released hold protects
 * nothing; every deletion is audited (actor system/retention); two workers at once remove each object exactly once;
 * policies are read by hq and the auditor and edited by hq only.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ffmpegAudioTools } from '../src/adapters/audio-tools.ts';
import { fixedClock } from '../src/adapters/clock.ts';
import type { ObjectStore } from '../src/adapters/object-store.ts';
import { createDb } from '../src/db/connect.ts';
import { NO_ORIGIN } from '../src/domain/principal.ts';
import { JOBS } from '../src/jobs/definitions.ts';
import { buildHandlers, buildWorkerServices } from '../src/jobs/handlers.ts';
import { startJobWorker } from '../src/jobs/queue.ts';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const DAY = 86_400_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The fixture call ends 2026-11-23T18:05:26Z; "now" for the job is 400 days later. */
const CALL_END = Date.parse('2026-11-23T18:05:26Z');
const T = new Date(CALL_END + 400 * DAY);
const ago = (days: number, plusMs = 0) => new Date(T.getTime() - days * DAY + plusMs);

/** An ObjectStore that counts removals (what S3 was asked to delete). */
function counting(inner: ObjectStore) {
  const removed: string[] = [];
  const store: ObjectStore = { ...inner, bucket: inner.bucket, remove: async (key) => {
    removed.push(key);
    await inner.remove(key);
  } };
  return { store, removed };
}

describe('retention', () => {
  let centre: TestCentre;
  let hq: string;
  const seg: Record<string, { id: string; key: string | null; body: Buffer }> = {};
  let siteA: string;
  let cam1: string;
  let cam2: string;
  let credA: string;
  const calls: Record<'free' | 'incident' | 'legal', { siteId: string; callId: string; recordingIds: string[] }> = {} as never;
  let legalHoldId: string;

  const putSegment = async (cred: string, cam: string, start: Date, meta = false) => {
    const body = randomBytes(1500 + Math.floor(Math.random() * 1000));
    const path = `/api/v1/agent/segments/${cam}/${encodeURIComponent(start.toISOString())}${meta ? '/meta' : ''}`;
    const r = meta
      ? await fetch(`${centre.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify({ sha256: sha(body), size: body.length, durationMs: 10_000, mediaType: 'video/mp2t' }) })
      : await fetch(`${centre.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000' }, body });
    assert.equal(r.status, 201, await r.clone().text());
    const id = ((await r.json()) as { segmentId: string }).segmentId;
    const row = await centre.db.selectFrom('segment').select('objectKey').where('id', '=', id).executeTakeFirstOrThrow();
    return { id, key: row.objectKey, body };
  };
  const cameraOf = async (cred: string, key: string) => {
    const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: key }) });
    return ((await r.json()) as { cameraId: string }).cameraId;
  };
  const hold = async (h: { siteId: string; kind: 'incident' | 'legal'; cameraId?: string; from?: Date; to?: Date; callId?: string; expiresAt?: Date | null; releasedAt?: Date | null }) => {
    const row = await centre.db
      .insertInto('evidenceHold')
      .values({
        siteId: h.siteId,
        kind: h.kind,
        cameraId: h.cameraId ?? null,
        span: h.cameraId ? sql<string>`tstzrange(${h.from!}, ${h.to!}, '[)')` : null,
        callId: h.callId ?? null,
        reason: 'test',
        placedBy: 'test',
        expiresAt: h.expiresAt ?? null,
        releasedAt: h.releasedAt ?? null,
        releasedBy: h.releasedAt ? 'test-hq' : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  };
  const runJob = async (at: Date, batch = 3) => {
    const c = counting(centre.store);
    const handlers = buildHandlers(buildWorkerServices({ db: centre.db, store: c.store, audio: ffmpegAudioTools(), clock: fixedClock(at), jobs: centre.jobs, retentionBatchSize: batch }));
    const result = (await handlers['retention.run']({}, { jobId: 'test', name: 'retention.run', attempt: 1, maxAttempts: 1, progress: async () => undefined, log: () => undefined })) as {
      segments: { deleted: number };
      recordings: { deleted: number; objects: number };
      removalFailures: string[];
    };
    return { result, removed: c.removed };
  };
  const segRow = (id: string) => centre.db.selectFrom('segment').select(['objectKey', 'deletedAt', 'deletionReason']).where('id', '=', id).executeTakeFirstOrThrow();
  const retentionEvents = () => centre.db.selectFrom('auditEvent').select(['actorType', 'actorId', 'targetType', 'targetId', 'siteId', 'details']).where('action', '=', 'retention.delete').orderBy('id').execute();

  before(async () => {
    // The centre's clock is the job's "now": it refuses footage dated after its clock (issue 12 item 2).
    centre = await startCentre({ clock: fixedClock(T) });
    hq = await centre.hqCookie();
    const a = await centre.createSite();
    siteA = a.siteId;
    credA = (await centre.enrollAgent(a.token)).credential;
    cam1 = await cameraOf(credA, 'cam1');
    cam2 = await cameraOf(credA, 'cam2');
    seg.oldFree = await putSegment(credA, 'cam1', ago(40));
    seg.young = await putSegment(credA, 'cam1', ago(10));
    seg.incident = await putSegment(credA, 'cam1', ago(40, 3600_000));
    seg.legal = await putSegment(credA, 'cam1', ago(40, 2 * 3600_000));
    seg.lapsed = await putSegment(credA, 'cam1', ago(40, 3 * 3600_000));
    seg.released = await putSegment(credA, 'cam1', ago(40, 4 * 3600_000));
    seg.otherCameraHeld = await putSegment(credA, 'cam1', ago(40, 5 * 3600_000));
    seg.metaOnly = await putSegment(credA, 'cam1', ago(40, 6 * 3600_000), true);
    // Incident hold overlapping only the last 5 s of the segment, lapsing tomorrow: still active.
    await hold({ siteId: siteA, kind: 'incident', cameraId: cam1, from: ago(40, 3600_000 + 5000), to: ago(40, 3600_000 + 60_000), expiresAt: new Date(T.getTime() + DAY) });
    legalHoldId = await hold({ siteId: siteA, kind: 'legal', cameraId: cam1, from: ago(40, 2 * 3600_000 - 60_000), to: ago(40, 2 * 3600_000 + 60_000) });
    await hold({ siteId: siteA, kind: 'incident', cameraId: cam1, from: ago(40, 3 * 3600_000), to: ago(40, 3 * 3600_000 + 10_000), expiresAt: ago(1) });
    await hold({ siteId: siteA, kind: 'incident', cameraId: cam1, from: ago(40, 4 * 3600_000), to: ago(40, 4 * 3600_000 + 10_000), releasedAt: ago(2) });
    await hold({ siteId: siteA, kind: 'legal', cameraId: cam2, from: ago(40, 5 * 3600_000), to: ago(40, 5 * 3600_000 + 10_000) });

    // The same fixture call at three sites: one free, one under an incident hold, one under a legal hold.
    for (const k of ['free', 'incident', 'legal'] as const) {
      const s = k === 'free' ? { siteId: siteA, cred: credA } : await (async () => { const x = await centre.createSite(); return { siteId: x.siteId, cred: (await centre.enrollAgent(x.token)).credential }; })();
      const client = agentClient(() => centre.url, s.cred);
      const v = await client.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
      assert.equal(v.status, 201);
      const callId = ((await v.json()) as { callId: string }).callId;
      const recordingIds: string[] = [];
      for (const f of FIXTURE_FILES) {
        const r = await client.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
        assert.equal(r.status, 201);
        recordingIds.push(((await r.json()) as { recordingId: string }).recordingId);
      }
      calls[k] = { siteId: s.siteId, callId, recordingIds };
      if (k !== 'free') await hold({ siteId: s.siteId, kind: k, callId, expiresAt: k === 'incident' ? new Date(T.getTime() + 30 * DAY) : null });
    }
    // The free call's mixed recording gets its playable copy and waveform (real ffmpeg), so derivatives are deleted too.
    await centre.workerServices().derive.derive(calls.free.recordingIds[0]!, { attempt: 1, maxAttempts: 1, jobId: null, progress: async () => undefined });
  });
  after(() => centre.close());

  test('deletes routine media past its age; keeps younger media and media under an active incident or legal hold; a lapsed or released hold protects nothing', async () => {
    assert.ok(JOBS['retention.run'].schedule, 'scheduled on every worker');
    const objectsBefore = await centre.objectCount();

    // 100 days after the call, 300 days before the segments: nothing is old enough.
    const early = await runJob(new Date(CALL_END + 100 * DAY));
    assert.deepEqual([early.result.segments.deleted, early.result.recordings.deleted, early.removed.length], [0, 0, 0]);
    assert.equal(await centre.objectCount(), objectsBefore);

    const { result, removed } = await runJob(T);
    const deletedSegs = ['oldFree', 'lapsed', 'released', 'otherCameraHeld'];
    const keptSegs = ['young', 'incident', 'legal'];
    assert.equal(result.segments.deleted, deletedSegs.length);
    for (const k of deletedSegs) {
      const r = await segRow(seg[k]!.id);
      assert.equal(r.objectKey, null, k);
      assert.ok(r.deletedAt, k);
      assert.match(r.deletionReason ?? '', /routine_footage 30 days/, k);
      assert.equal(await centre.store.stat(seg[k]!.key!), null, `${k}: the object is gone from S3`);
    }
    for (const k of keptSegs) {
      const r = await segRow(seg[k]!.id);
      assert.equal(r.objectKey, seg[k]!.key, k);
      assert.equal(r.deletedAt, null, k);
      assert.ok(await centre.store.stat(seg[k]!.key!), `${k}: the object is still in S3`);
    }
    const meta = await segRow(seg.metaOnly!.id);
    assert.deepEqual([meta.objectKey, meta.deletedAt], [null, null], 'a metadata-only row has nothing to delete and is left alone');

    // Calls: the free call's three recordings (original of each, plus the mixed one's playable copy and waveform).
    const recs = await centre.db.selectFrom('recording').select(['id', 'callId', 'objectKey', 'playableKey', 'waveformKey', 'deletedAt', 'deletionReason', 'deriveStatus']).execute();
    for (const r of recs) {
      if (r.callId === calls.free.callId) {
        assert.deepEqual([r.objectKey, r.playableKey, r.waveformKey], [null, null, null]);
        assert.ok(r.deletedAt);
        assert.match(r.deletionReason ?? '', /routine_calls 365 days/);
        assert.notEqual(r.deriveStatus, 'pending', 'no derivation is queued again for a deleted original');
      } else {
        assert.ok(r.objectKey, 'held call recordings keep their originals');
        assert.equal(r.deletedAt, null);
      }
    }
    assert.equal(result.recordings.deleted, 3);
    assert.equal(result.recordings.objects, 5);
    assert.equal(removed.length, deletedSegs.length + 5, 'S3 was asked to remove each object once');
    assert.equal(new Set(removed).size, removed.length);
    assert.equal(await centre.objectCount(), objectsBefore - removed.length);

    // Every deletion is audited: actor system/retention, the target, the site, the policy and the reason.
    const events = await retentionEvents();
    assert.equal(events.length, deletedSegs.length + 3);
    for (const e of events) {
      assert.deepEqual([e.actorType, e.actorId], ['system', 'retention']);
      const d = e.details as { policy: string; reason: string; retentionDays: number; sha256: string };
      assert.ok(d.policy === 'routine_footage' || d.policy === 'routine_calls');
      assert.match(d.reason, /^retention: /);
      assert.match(d.sha256, /^[0-9a-f]{64}$/);
    }
    assert.deepEqual(events.filter((e) => e.targetType === 'segment').map((e) => e.targetId).sort(), deletedSegs.map((k) => seg[k]!.id).sort());
    assert.deepEqual(events.filter((e) => e.targetType === 'recording').map((e) => e.targetId).sort(), [...calls.free.recordingIds].sort());
    assert.ok(events.every((e) => e.siteId === siteA));
    const chain = await centre.services.audit.verify({ kind: 'system', name: 'test', origin: NO_ORIGIN });
    assert.ok(chain.ok, 'the audit chain is intact');

    // Idempotent: a second run finds nothing.
    const again = await runJob(T);
    assert.deepEqual([again.result.segments.deleted, again.result.recordings.deleted, again.removed.length], [0, 0, 0]);
    assert.equal((await retentionEvents()).length, events.length);
  });

  test('the viewer sees deleted media as deleted: timeline state, 410 for the bytes, absent from the playlist', async () => {
    const range = `from=${encodeURIComponent(ago(41).toISOString())}&to=${encodeURIComponent(ago(39).toISOString())}`;
    const tl = await fetch(`${centre.url}/api/v1/cameras/${cam1}/timeline?${range}`, { headers: { cookie: hq } });
    const segs = ((await tl.json()) as { segments: { id: string; state: string; deletedAt: string | null }[] }).segments;
    const byId = new Map(segs.map((s) => [s.id, s]));
    assert.equal(byId.get(seg.oldFree!.id)?.state, 'deleted');
    assert.ok(byId.get(seg.oldFree!.id)?.deletedAt);
    assert.equal(byId.get(seg.incident!.id)?.state, 'stored');
    assert.equal(byId.get(seg.metaOnly!.id)?.state, 'at_store');
    const media = await fetch(`${centre.url}/api/v1/media/segments/${seg.oldFree!.id}`, { headers: { cookie: hq } });
    assert.equal(media.status, 410);
    assert.equal(((await media.json()) as { error: { code: string } }).error.code, 'media_deleted');
    const pl = await (await fetch(`${centre.url}/api/v1/cameras/${cam1}/playlist.m3u8?${range}`, { headers: { cookie: hq } })).text();
    assert.ok(!pl.includes(`/segments/${seg.oldFree!.id}`));
    assert.ok(pl.includes(`/segments/${seg.incident!.id}`));
    assert.equal(pl.split('\n').filter((l) => l.startsWith('/api/v1/media/')).length, 2, 'only the two held segments still play');
    // The store cannot bring deleted media back: the same segment again is refused (410), other bytes conflict.
    const resend = (body: Buffer) =>
      fetch(`${centre.url}/api/v1/agent/segments/cam1/${encodeURIComponent(ago(40).toISOString())}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${credA}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000' },
        body,
      });
    const objects = await centre.objectCount();
    const same = await resend(seg.oldFree!.body);
    assert.equal(same.status, 410);
    assert.equal(((await same.json()) as { error: { code: string } }).error.code, 'segment_expired');
    assert.equal((await resend(randomBytes(100))).status, 409, 'other bytes for that start: conflict');
    assert.equal(await centre.objectCount(), objects, 'nothing stored');
    assert.equal((await segRow(seg.oldFree!.id)).objectKey, null);
  });

  test('two retention workers at once (separate connections, small batches) delete each object exactly once', async () => {
    const s = await centre.createSite();
    const cred = (await centre.enrollAgent(s.token)).credential;
    await cameraOf(cred, 'camx');
    const keys = new Set<string>();
    for (let i = 0; i < 40; i++) keys.add((await putSegment(cred, 'camx', ago(60, i * 10_000))).key!);
    const eventsBefore = (await retentionEvents()).length;
    const dbs = [createDb(centre.databaseUrl, 3, () => undefined), createDb(centre.databaseUrl, 3, () => undefined)];
    try {
      const runs = dbs.map((db) => {
        const c = counting(centre.store);
        const svc = buildWorkerServices({ db, store: c.store, audio: ffmpegAudioTools(), clock: fixedClock(T), jobs: centre.jobs, retentionBatchSize: 4 });
        return { c, run: svc.retention.run() };
      });
      const results = await Promise.all(runs.map((r) => r.run));
      const removed = runs.flatMap((r) => r.c.removed);
      assert.equal(removed.length, 40, 'forty removals in all');
      assert.deepEqual(new Set(removed), keys, 'each object exactly once');
      assert.equal(results[0]!.segments.deleted + results[1]!.segments.deleted, 40);
      assert.ok(results.every((r) => r.removalFailures.length === 0));
      const events = (await retentionEvents()).slice(eventsBefore);
      assert.equal(events.length, 40);
      assert.equal(new Set(events.map((e) => e.targetId)).size, 40, 'one audit event per deleted segment');
      for (const k of keys) assert.equal(await centre.store.stat(k), null);
    } finally {
      await Promise.all(dbs.map((d) => d.destroy()));
    }
  });

  test('the job through the real queue on two workers: each object removed once, each deletion audited once', async () => {
    const s = await centre.createSite();
    const cred = (await centre.enrollAgent(s.token)).credential;
    await cameraOf(cred, 'camq');
    const keys = new Set<string>();
    for (let i = 0; i < 24; i++) keys.add((await putSegment(cred, 'camq', ago(70, i * 10_000))).key!);
    const eventsBefore = (await retentionEvents()).length;
    const c = counting(centre.store);
    const dbs = [createDb(centre.databaseUrl, 3, () => undefined), createDb(centre.databaseUrl, 3, () => undefined)];
    const workers = dbs.map((db) =>
      startJobWorker({
        connection: centre.redis,
        prefix: centre.queuePrefix,
        handlers: buildHandlers(buildWorkerServices({ db, store: c.store, audio: ffmpegAudioTools(), clock: fixedClock(T), jobs: centre.jobs, retentionBatchSize: 3 })),
        concurrency: 1,
        log: () => undefined,
      }),
    );
    try {
      const ids = [await centre.jobs.enqueue('retention.run', {}), await centre.jobs.enqueue('retention.run', {})];
      for (const id of ids) {
        for (let i = 0; ; i++) {
          const j = await centre.jobs.get(id);
          if (j?.state === 'completed') break;
          assert.notEqual(j?.state, 'failed', j?.failedReason ?? '');
          assert.ok(i < 300, 'job finished');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(c.removed.length, 24);
      assert.deepEqual(new Set(c.removed), keys);
      const events = (await retentionEvents()).slice(eventsBefore);
      assert.equal(new Set(events.map((e) => e.targetId)).size, 24);
      assert.equal(events.length, 24);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(dbs.map((d) => d.destroy()));
    }
  });

  test('policies: hq reads and edits, the auditor reads, nobody else; bad edits change nothing; the job follows the policy; releasing a legal hold lets its media expire', async () => {
    const users = {
      hq,
      auditor: await centre.sessionCookie((await centre.createUser({ role: 'auditor' })).id),
      sm: await centre.sessionCookie((await centre.createUser({ role: 'store_manager', siteIds: [siteA] })).id),
      security: await centre.sessionCookie((await centre.createUser({ role: 'security', siteIds: [siteA] })).id),
      admin: await centre.sessionCookie((await centre.createUser({ role: 'admin' })).id),
    };
    const get = (cookie?: string) => fetch(`${centre.url}/api/v1/retention/policies`, { headers: cookie ? { cookie } : {} });
    const put = (body: unknown, cookie?: string, raw?: string) =>
      fetch(`${centre.url}/api/v1/retention/policies`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(cookie && { cookie }) }, body: raw ?? JSON.stringify(body) });
    type P = { policies: { class: string; retentionDays: number | null; updatedBy: string; description: string }[] };

    const r = await get(hq);
    assert.equal(r.status, 200);
    const defaults = Object.fromEntries(((await r.json()) as P).policies.map((p) => [p.class, p.retentionDays]));
    assert.deepEqual(defaults, { routine_footage: 30, routine_calls: 365, incident_evidence: 1095, legal_hold: null }, 'the defaults of docs/design.md §7');
    assert.equal((await get(users.auditor)).status, 200);
    assert.equal((await get(users.admin)).status, 200, 'the admin page shows the policies (read-only)');
    for (const who of ['sm', 'security'] as const) assert.equal((await get(users[who])).status, 403, who);
    assert.equal((await get()).status, 401);

    const snapshot = async () => centre.db.selectFrom('retentionPolicy').selectAll().orderBy('class').execute();
    const before = await snapshot();
    const bad: [string, Response, number, string][] = [
      ['auditor may not edit', await put({ policies: [{ class: 'routine_footage', retentionDays: 5 }] }, users.auditor), 403, 'forbidden'],
      ['store manager may not edit', await put({ policies: [{ class: 'routine_footage', retentionDays: 5 }] }, users.sm), 403, 'forbidden'],
      ['admin may not edit', await put({ policies: [{ class: 'routine_footage', retentionDays: 5 }] }, users.admin), 403, 'forbidden'],
      ['no session', await put({ policies: [{ class: 'routine_footage', retentionDays: 5 }] }), 401, 'authentication_required'],
      ['legal hold with a period', await put({ policies: [{ class: 'legal_hold', retentionDays: 10 }] }, hq), 400, 'legal_hold_not_finite'],
      ['footage without a period', await put({ policies: [{ class: 'routine_footage', retentionDays: null }] }, hq), 400, 'retention_days_required'],
      ['a class twice', await put({ policies: [{ class: 'routine_calls', retentionDays: 10 }, { class: 'routine_calls', retentionDays: 11 }] }, hq), 400, 'duplicate_class'],
      ['unknown class', await put({ policies: [{ class: 'forever', retentionDays: 10 }] }, hq), 400, 'invalid_request'],
      ['zero days', await put({ policies: [{ class: 'routine_footage', retentionDays: 0 }] }, hq), 400, 'invalid_request'],
      ['fractional days', await put({ policies: [{ class: 'routine_footage', retentionDays: 1.5 }] }, hq), 400, 'invalid_request'],
      ['over 100 years', await put({ policies: [{ class: 'routine_footage', retentionDays: 36_501 }] }, hq), 400, 'invalid_request'],
      ['empty list', await put({ policies: [] }, hq), 400, 'invalid_request'],
      ['malformed JSON', await put(null, hq, '{"policies":'), 400, 'invalid_request'],
      // The second change is refused, so the first is not applied either.
      ['one bad change among good ones', await put({ policies: [{ class: 'routine_calls', retentionDays: 10 }, { class: 'legal_hold', retentionDays: 1 }] }, hq), 400, 'legal_hold_not_finite'],
    ];
    for (const [what, res, status, code] of bad) {
      assert.equal(res.status, status, what);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, what);
    }
    assert.deepEqual(await snapshot(), before, 'nothing changed');

    const ok = await put({ policies: [{ class: 'routine_footage', retentionDays: 5 }, { class: 'incident_evidence', retentionDays: 1095 }] }, hq);
    assert.equal(ok.status, 200);
    const after = ((await ok.json()) as P).policies;
    assert.equal(after.find((p) => p.class === 'routine_footage')?.retentionDays, 5);
    assert.ok(after.find((p) => p.class === 'routine_footage')?.updatedBy.startsWith('hq'));
    const ev = await centre.db.selectFrom('auditEvent').select(['actorRole', 'details']).where('action', '=', 'retention.policy.update').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(ev.actorRole, 'hq');
    assert.deepEqual(ev.details, { changes: [{ class: 'routine_footage', from: 30, to: 5 }], unchanged: 1 });
    assert.ok(await centre.db.selectFrom('auditEvent').select('id').where('action', '=', 'retention.policy.view').executeTakeFirst(), 'reading is audited too');

    // Footage 10 days old is now past the period; the legal hold still protects its segment until released.
    const run1 = await runJob(T);
    assert.equal(run1.result.segments.deleted, 1);
    assert.equal((await segRow(seg.young!.id)).objectKey, null);
    assert.ok((await segRow(seg.legal!.id)).objectKey);
    await centre.db.updateTable('evidenceHold').set({ releasedAt: T, releasedBy: 'hq-user', releaseReason: 'case closed' }).where('id', '=', legalHoldId).execute();
    const run2 = await runJob(T);
    assert.equal(run2.result.segments.deleted, 1);
    assert.equal((await segRow(seg.legal!.id)).objectKey, null, 'released legal hold: the media expires');
    assert.ok((await segRow(seg.incident!.id)).objectKey, 'the active incident hold still protects its segment');
  });
});
