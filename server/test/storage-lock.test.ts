/**
 * Evidence the storage itself refuses to delete (issue 15, docs/design.md §6, docs/retention.md "Object Lock"):
 * against the real radosgw (scripts/rgw.sh) with the centre's own S3 credentials. A case's holds put S3 legal holds
 * on its segments, call recordings and packs; deleting or replacing them fails at the storage; the legal hold goes
 * only with the last hold; then the retention job deletes the media. The retention job and the orphan sweep never
 * delete what the storage protects and report it. Without object lock (s3rver) the centre says so.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as Minio from 'minio';
import { ffmpegAudioTools } from '../src/adapters/audio-tools.ts';
import { fixedClock } from '../src/adapters/clock.ts';
import { createS3Store, StorageRefusedError } from '../src/adapters/object-store.ts';
import { buildHandlers, buildWorkerServices } from '../src/jobs/handlers.ts';
import { packRepository } from '../src/repositories/pack.repository.ts';
import { healthService, storageReport } from '../src/services/health.service.ts';
import type { RetentionRunResult } from '../src/services/retention.service.ts';
import { startS3rver } from '../../test-support/src/s3rver.ts';
import { TEST_ENV, uniqueName } from '../../test-support/src/env.ts';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const DAY = 86_400_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The fixture call: 2026-11-23T18:05:00Z to 18:05:26Z. */
const CALL_START = Date.parse('2026-11-23T18:05:00Z');
const CALL_END = Date.parse('2026-11-23T18:05:26Z');
/** Routine footage recorded an hour ago (whole seconds): its storage retention lies ahead whatever the date. */
const RECENT = Math.floor((Date.now() - 3600_000) / 1000) * 1000;
/** The retention job's "now": past every period of everything here, whatever the date the test runs. */
const LATER = new Date(Math.max(Date.now(), CALL_END) + 400 * DAY);

/** A raw S3 client with the centre's own credentials: what anyone holding them could do, bypassing our code. */
function rawClient() {
  const u = new URL(TEST_ENV.s3Endpoint);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, pathStyle: true, region: 'us-east-1' });
}
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));
const readAll = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describe('storage object lock (radosgw)', () => {
  let centre: TestCentre;
  let hq: string;
  let siteId: string;
  let cred: string;
  let caseId: string;
  const raw = rawClient();
  const seg: Record<'held' | 'routine', { id: string; key: string; body: Buffer }> = {} as never;
  let recordingKeys: string[] = [];
  let packKey = '';

  const api = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${centre.url}/api/v1${p}`, { method, headers: { cookie: hq, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json().catch(() => null)) as any };
  };
  const putSegment = async (start: Date) => {
    const body = randomBytes(2000);
    const r = await fetch(`${centre.url}/api/v1/agent/segments/cam1/${encodeURIComponent(start.toISOString())}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cred}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000' },
      body,
    });
    assert.equal(r.status, 201, await r.clone().text());
    const id = ((await r.json()) as { segmentId: string }).segmentId;
    const row = await centre.db.selectFrom('segment').select('objectKey').where('id', '=', id).executeTakeFirstOrThrow();
    return { id, key: row.objectKey!, body };
  };
  const legalHold = async (key: string) => (await centre.store.protection(key))?.legalHold ?? false;
  const runJob = async (name: 'retention.run' | 'storage.orphan-sweep', at: Date) => {
    const handlers = buildHandlers(buildWorkerServices({ db: centre.db, store: centre.store, audio: ffmpegAudioTools(), clock: fixedClock(at), jobs: centre.jobs, orphanGraceSeconds: 0 }));
    return handlers[name]({}, { jobId: 'test', name, attempt: 1, maxAttempts: 1, progress: async () => undefined, log: () => undefined }) as Promise<any>;
  };

  before(async () => {
    centre = await startCentre();
    hq = await centre.hqCookie();
    const s = await centre.createSite();
    siteId = s.siteId;
    cred = (await centre.enrollAgent(s.token)).credential;
    const cam = await fetch(`${centre.url}/api/v1/agent/cameras/cam1`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cam1' }) });
    assert.equal(cam.status, 200);
    seg.held = await putSegment(new Date(CALL_START));
    seg.routine = await putSegment(new Date(RECENT));
    const client = agentClient(() => centre.url, cred);
    assert.equal((await client.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload())).status, 201);
    for (const f of FIXTURE_FILES) assert.equal((await client.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).status, 201);
    const recs = await centre.db.selectFrom('recording').select('objectKey').execute();
    recordingKeys = recs.map((r) => r.objectKey!);
    assert.equal(recordingKeys.length, FIXTURE_FILES.length);
  });
  after(() => centre.close());

  test('the bucket has Object Lock and versioning; routine media carries GOVERNANCE retention for its class; health says the storage protects evidence', async () => {
    const caps = await centre.store.capabilities();
    assert.deepEqual([caps.objectLock, caps.versioning], [true, true]);
    const h = await healthService({ db: centre.db, redis: centre.redis, store: centre.store }).check();
    assert.equal(h.storage?.evidenceProtection, 'storage');
    assert.equal(h.storage?.warning, null);
    const p = await centre.store.protection(seg.routine.key);
    assert.equal(p?.legalHold, false);
    assert.equal(p?.retention?.mode, 'GOVERNANCE');
    // routine_footage is 30 days after the segment ends (10 s after its start).
    assert.equal(p?.retention?.until.getTime(), RECENT + 10_000 + 30 * DAY);
    const r = await centre.store.protection(recordingKeys[0]!);
    assert.equal(r?.retention?.mode, 'GOVERNANCE');
    if (CALL_END + 365 * DAY > Date.now()) assert.equal(r.retention.until.getTime(), CALL_END + 365 * DAY, 'routine_calls: 365 days after the call ended');
    // Past its period already (the test runs a year after the fixture call): only the bucket's one-day floor.
    else assert.ok(Math.abs(r.retention.until.getTime() - (Date.now() + DAY)) < 3600_000);
    // GOVERNANCE refuses a plain delete of the version; only a delete that asks to bypass it (the retention job's) passes.
    const [v] = await centre.store.versions(seg.routine.key);
    assert.equal(await codeOf(raw.removeObject(centre.store.bucket, seg.routine.key, { versionId: v!.versionId! })), 'AccessDenied');
  });

  test('filing a case puts S3 legal holds on its footage and call recordings; the centre\'s credentials cannot delete them', async () => {
    const r = await api('POST', '/incidents', { callId: (await centre.db.selectFrom('call').select('id').executeTakeFirstOrThrow()).id, title: '威圧', category: 'verbal_abuse', severity: 'high' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    caseId = r.body.incident?.id ?? r.body.id;
    assert.ok(caseId);
    assert.equal(await legalHold(seg.held.key), true, 'the segment in the case window is held by the storage');
    for (const k of recordingKeys) assert.equal(await legalHold(k), true, `recording ${k}`);
    assert.equal(await legalHold(seg.routine.key), false, 'footage outside the case is not');

    for (const key of [seg.held.key, ...recordingKeys]) {
      // Through our own adapter (every version, bypassing GOVERNANCE) and through a raw client with the same keys.
      await assert.rejects(centre.store.remove(key), (e) => e instanceof StorageRefusedError && /object lock/i.test(e.reason));
      for (const v of await centre.store.versions(key)) {
        assert.equal(await codeOf(raw.removeObject(centre.store.bucket, key, { versionId: v.versionId!, governanceBypass: true })), 'AccessDenied');
      }
      assert.ok(await centre.store.stat(key), `${key} is still stored`);
    }
    // The row hash still matches the stored bytes.
    assert.equal(sha(await readAll(await centre.store.read(seg.held.key))), sha(seg.held.body));
  });

  test('a versioned overwrite with the centre\'s credentials does not replace the evidence: the original version stays, held and undeletable, and the replacement is visible', async () => {
    const forged = randomBytes(2000);
    await raw.putObject(centre.store.bucket, seg.held.key, forged, forged.length);
    const versions = (await centre.store.versions(seg.held.key)).filter((v) => !v.deleteMarker);
    assert.equal(versions.length, 2, 'S3 kept both: a key we write exactly once now has two versions');
    const original = versions[0]!;
    assert.equal(sha(await readAll(await raw.getObject(centre.store.bucket, seg.held.key, { versionId: original.versionId! }))), sha(seg.held.body), 'the original bytes, with the edge hash');
    assert.equal(await codeOf(raw.removeObject(centre.store.bucket, seg.held.key, { versionId: original.versionId!, governanceBypass: true })), 'AccessDenied');
    // The latest version is the forgery, and its hash is not the edge hash the row keeps: every copy (pack, redaction)
    // is checked against that hash, so the replacement fails loudly instead of passing as evidence.
    const row = await centre.db.selectFrom('segment').select('sha256').where('id', '=', seg.held.id).executeTakeFirstOrThrow();
    assert.notEqual(sha(await readAll(await centre.store.read(seg.held.key))), Buffer.from(row.sha256).toString('hex'));
    // A plain DELETE only adds a delete marker: the held version is still there to restore.
    await raw.removeObject(centre.store.bucket, seg.held.key);
    assert.equal(await centre.store.stat(seg.held.key), null);
    assert.equal(sha(await readAll(await raw.getObject(centre.store.bucket, seg.held.key, { versionId: original.versionId! }))), sha(seg.held.body));
    // Put things back as they were for the next tests: drop the marker and the forgery (neither is held).
    for (const v of await centre.store.versions(seg.held.key)) if (v.versionId !== original.versionId) await centre.store.remove(seg.held.key, { versionId: v.versionId });
    assert.equal(sha(await readAll(await centre.store.read(seg.held.key))), sha(seg.held.body));
  });

  test('an evidence pack is held by the storage while its case has a hold', async () => {
    const requester = await centre.createUser({ role: 'hq' });
    const key = `packs/${siteId}/${uniqueName('p')}.zip`;
    const body = randomBytes(5000);
    await centre.store.put(key, Readable.from(body), body.length, { 'content-type': 'application/zip' });
    // A pack row as the builder leaves it (ready, pointing at its ZIP); building a real one is evidence-pack.test.ts's job.
    const packs = packRepository(centre.db);
    const packId = await packs.insert({ siteId, incidentId: caseId, kind: 'evidence', purpose: 'police_request', reference: 'R-1', legalBasis: 'test', scope: {} as never, requestedBy: requester.id, requestedAt: new Date() });
    await packs.markReady(packId, { objectKey: key, size: body.length, fileCount: 1, manifestSha256: sha(body), signature: 'x', keyFingerprint: 'x', contents: [], at: new Date() });
    await centre.workerServices().storageLock.packStored({ key, incidentId: caseId });
    assert.equal(await legalHold(key), true);
    await assert.rejects(centre.store.remove(key), StorageRefusedError);
    packKey = key;
  });

  test('the legal hold goes only with the last hold; after that and the retention period the retention job deletes the media', async () => {
    assert.equal((await api('POST', `/incidents/${caseId}/legal-hold`, { reason: '警察からの照会' })).status, 200);
    assert.equal((await api('POST', `/incidents/${caseId}/legal-hold/release`, { reason: '照会終了' })).status, 200);
    // The case's incident holds still cover the footage and the call.
    assert.equal(await legalHold(seg.held.key), true, 'released legal hold, incident hold left: still held');
    for (const k of recordingKeys) assert.equal(await legalHold(k), true);

    const d = await api('GET', `/incidents/${caseId}`);
    const callId = (await centre.db.selectFrom('call').select('id').executeTakeFirstOrThrow()).id;
    assert.equal((await api('DELETE', `/incidents/${caseId}/calls/${callId}?reason=${encodeURIComponent('誤り')}`)).status, 200);
    for (const k of recordingKeys) assert.equal(await legalHold(k), false, 'the call\'s last hold released: no legal hold');
    assert.equal(await legalHold(seg.held.key), true, 'the camera windows are still linked');
    const windows: { id: string }[] = d.body.incident?.cameraWindows ?? d.body.cameraWindows ?? (await centre.db.selectFrom('incidentCameraWindow').select('id').where('incidentId', '=', caseId).execute());
    assert.ok(windows.length > 0);
    for (const w of windows) assert.equal((await api('DELETE', `/incidents/${caseId}/camera-windows/${w.id}?reason=${encodeURIComponent('誤り')}`)).status, 200);
    assert.equal(await legalHold(seg.held.key), false);
    assert.equal(await legalHold(packKey), false, 'the case has no active hold left: its pack is no longer held');

    // 400 days on: footage (30 days) and calls (365 days) are past their periods; nothing holds them any more.
    const result = (await runJob('retention.run', LATER)) as RetentionRunResult;
    assert.deepEqual(result.refused, []);
    assert.equal(result.segments.deleted, 2);
    assert.equal(result.recordings.deleted, FIXTURE_FILES.length);
    for (const k of [seg.held.key, seg.routine.key, ...recordingKeys]) assert.deepEqual(await centre.store.versions(k), [], `${k}: every version is gone`);
  });

  test('the retention job never deletes what the storage protects: it keeps the row pointing at it and reports it; the orphan sweep leaves it too', async () => {
    // A routine segment past its period, but with a legal hold in the storage that no hold row explains (set out of
    // band, or a sync that has not run): the storage protects it, so the job must not try.
    const s = await putSegment(new Date(RECENT + 60_000));
    assert.equal(await centre.store.setLegalHold(s.key, true), true);
    const result = (await runJob('retention.run', LATER)) as RetentionRunResult;
    assert.equal(result.segments.deleted, 0);
    assert.deepEqual(result.refused.map((r) => [r.key, r.target, r.when, r.reason]), [[s.key, 'segment', 'checked', 'S3 legal hold']]);
    const row = await centre.db.selectFrom('segment').select(['objectKey', 'deletedAt']).where('id', '=', s.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.objectKey, row.deletedAt], [s.key, null], 'the row still points at the object the storage kept');
    const ev = await centre.db.selectFrom('auditEvent').select(['details']).where('action', '=', 'retention.delete_refused').where('targetId', '=', s.id).execute();
    assert.equal(ev.length, 1);
    assert.ok(await centre.store.stat(s.key));

    // Unreferenced objects: a held one is reported and left; a free one is removed.
    const orphanHeld = `segments/${siteId}/orphan-held-${uniqueName('o')}.ts`;
    const orphanFree = `segments/${siteId}/orphan-free-${uniqueName('o')}.ts`;
    await centre.store.put(orphanHeld, Readable.from(Buffer.from('x')), 1, {}, { legalHold: true });
    await centre.store.put(orphanFree, Readable.from(Buffer.from('y')), 1, {});
    const sweep = await runJob('storage.orphan-sweep', new Date(Date.now() + 60_000));
    assert.ok(sweep.protected.includes(orphanHeld), JSON.stringify(sweep));
    assert.ok(sweep.removed.includes(orphanFree));
    assert.ok(!sweep.removed.includes(orphanHeld));
    assert.ok(await centre.store.stat(orphanHeld));
    assert.equal(await centre.store.stat(orphanFree), null);
    // Clean up what this test held, so the bucket can go.
    await centre.store.setLegalHold(orphanHeld, false);
    await centre.store.setLegalHold(s.key, false);
  });
});

describe('a backend without object lock (s3rver)', () => {
  let dir: string;
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 's3rver-'));
    s3 = await startS3rver({ port: 0, directory: dir });
  });
  after(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the centre says the storage does not protect evidence; the lock calls are no-ops and deletes still work', async () => {
    const store = createS3Store({ endpoint: `http://127.0.0.1:${s3.port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'nolock', region: 'us-east-1' });
    await store.ensureBucket();
    const caps = await store.capabilities();
    assert.equal(caps.objectLock, false);
    const report = storageReport(caps);
    assert.equal(report.evidenceProtection, 'application_only');
    assert.match(report.warning ?? '', /no Object Lock/);
    const { versionId } = await store.put('k', Readable.from(Buffer.from('abc')), 3, {}, { legalHold: true, retainUntil: new Date(Date.now() + DAY) });
    assert.equal(versionId, null);
    assert.equal(await store.setLegalHold('k', true), false);
    assert.equal(await store.protection('k'), null);
    await store.remove('k');
    assert.equal(await store.stat('k'), null);
  });
});
