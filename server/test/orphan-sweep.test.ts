import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fixedClock } from '../src/adapters/clock.ts';
import { orphanSweepService } from '../src/services/orphan-sweep.service.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

let centre: TestCentre;
let credential: string;
before(async () => {
  centre = await startCentre();
  credential = (await centre.enrollAgent((await centre.createSite()).token)).credential;
  await fetch(`${centre.url}/api/v1/agent/cameras/cam1`, { method: 'PUT', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cam1' }) });
});
after(() => centre.close());

test('the sweep removes objects no row points at once past the grace period, and keeps referenced and young ones', async () => {
  const body = randomBytes(10_000);
  const r = await fetch(`${centre.url}/api/v1/agent/segments/cam1/2026-11-23T09:00:00Z`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'video/mp2t', 'x-segment-sha256': createHash('sha256').update(body).digest('hex'), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '60000' },
    body,
  });
  assert.equal(r.status, 201);
  // An upload that crashed between the object and the row: an orphan.
  await centre.store.put('segments/orphan/crashed.ts', Readable.from([randomBytes(100)]), 100);
  const segs = centre.services.repos.segments;
  const owners = [{ prefix: 'segments/', referenced: (keys: string[]) => segs.referencedObjectKeys(keys) }];

  const young = orphanSweepService({ store: centre.store, clock: fixedClock(new Date()), graceSeconds: 3600, owners });
  assert.deepEqual((await young.sweep()).removed, [], 'inside the grace period nothing is removed');
  assert.equal(await centre.objectCount('segments/'), 2);

  const later = orphanSweepService({ store: centre.store, clock: fixedClock(new Date(Date.now() + 2 * 3600_000)), graceSeconds: 3600, owners });
  // Two sweepers at once: each orphan is removed, nothing else, and neither fails.
  const [a, b] = await Promise.all([later.sweep(), later.sweep()]);
  assert.ok([...a.removed, ...b.removed].every((k) => k === 'segments/orphan/crashed.ts'));
  assert.ok(a.removed.length + b.removed.length >= 1);
  assert.equal(await centre.objectCount('segments/'), 1, 'the referenced segment object stays');
  assert.equal((await later.sweep()).removed.length, 0, 'idempotent');
});

test('the worker job storage.orphan-sweep sweeps every owner (segments/ and calls/) through the queue', async () => {
  await centre.store.put('calls/orphan/x.wav', Readable.from([randomBytes(64)]), 64);
  await centre.store.put('segments/orphan/y.ts', Readable.from([randomBytes(64)]), 64);
  // The centre's worker services use a grace of one day; an object older than that is what a crash leaves behind.
  const { buildHandlers, buildWorkerServices } = await import('../src/jobs/handlers.ts');
  const { ffmpegAudioTools } = await import('../src/adapters/audio-tools.ts');
  const { JOBS } = await import('../src/jobs/definitions.ts');
  assert.ok(JOBS['storage.orphan-sweep'].schedule, 'scheduled on every worker');
  const handlers = buildHandlers(
    buildWorkerServices({ db: centre.db, store: centre.store, audio: ffmpegAudioTools(), clock: fixedClock(new Date(Date.now() + 2 * 86400_000)), jobs: undefined as never, orphanGraceSeconds: 86400 }),
  );
  const result = (await handlers['storage.orphan-sweep']()) as { removed: string[] };
  assert.deepEqual(result.removed.sort(), ['calls/orphan/x.wav', 'segments/orphan/y.ts']);
  assert.equal(await centre.objectCount('segments/'), 1, 'the referenced segment stays');
});
