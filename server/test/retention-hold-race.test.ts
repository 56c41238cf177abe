/**
 * Issue 12 item 8: retention against a hold being placed at the same moment. Many cases are filed about footage that
 * is past its retention period while retention runs (two workers, small batches) delete it, all at once, over
 * several rounds. Afterwards: no held media was ever deleted (every segment a case holds is either still stored, its
 * object in S3, or was already deleted when the case was filed and the case says so), and retention took everything
 * nobody holds. Real server (filing through the API), PostgreSQL, S3, the worker's retention handler.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ffmpegAudioTools } from '../src/adapters/audio-tools.ts';
import { fixedClock } from '../src/adapters/clock.ts';
import { buildHandlers, buildWorkerServices } from '../src/jobs/handlers.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const DAY = 86_400_000;
const T = new Date('2026-11-30T00:00:00.000Z'); // the centre's and the job's clock (fixed: no dependence on the date)
const SEG_MS = 10_000;
const N = 24; // segments per camera, all just past the 30-day routine_footage period
const ROUNDS = 6;
const FILINGS_PER_ROUND = 4;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Segment k of a camera: the oldest is k = 0; the newest ends one minute before the retention cutoff. */
const segStart = (k: number) => new Date(T.getTime() - 30 * DAY - 60_000 - (N - k) * SEG_MS);

type Filed = { incident: { id: string }; linked: { windows: { cameraId: string; from: string; to: string; deletedCount: number }[] } };

describe('retention against holds placed at the same moment', () => {
  let centre: TestCentre;
  let cookie: string;
  let siteId: string;
  const cameraIds: string[] = [];
  before(async () => {
    centre = await startCentre({ clock: fixedClock(T) });
    cookie = await centre.hqCookie();
    const site = await centre.createSite();
    siteId = site.siteId;
    const { credential } = await centre.enrollAgent(site.token);
    for (const key of ['cam1', 'cam2']) {
      const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: key }) });
      cameraIds.push(((await r.json()) as { cameraId: string }).cameraId);
      for (let k = 0; k < N; k++) {
        const body = randomBytes(1500 + k);
        const p = await fetch(`${centre.url}/api/v1/agent/segments/${key}/${encodeURIComponent(segStart(k).toISOString())}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${credential}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': String(SEG_MS) },
          body,
        });
        assert.equal(p.status, 201, await p.clone().text());
      }
    }
  });
  after(() => centre.close());

  const retentionRun = () => {
    const handlers = buildHandlers(buildWorkerServices({ db: centre.db, store: centre.store, audio: ffmpegAudioTools(), clock: fixedClock(T), jobs: centre.jobs, retentionBatchSize: 2 }));
    return handlers['retention.run']({}, { jobId: 'race', name: 'retention.run', attempt: 1, maxAttempts: 1, progress: async () => undefined, log: () => undefined }) as Promise<{ segments: { deleted: number } }>;
  };
  /** A case about segments k..k+2 (no margins): its window overlaps exactly those three of each camera. */
  const file = async (k: number): Promise<Filed> => {
    const r = await fetch(`${centre.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({
        siteId,
        window: { from: new Date(segStart(k).getTime() + 1000).toISOString(), to: new Date(segStart(k + 2).getTime() + 5000).toISOString() },
        marginBeforeSeconds: 0,
        marginAfterSeconds: 0,
        title: `race ${k}`,
        category: 'verbal_abuse',
        severity: 'medium',
      }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    return (await r.json()) as Filed;
  };
  const exists = async (key: string) => (await centre.store.stat(key)) !== null;

  test(`${ROUNDS} rounds of ${FILINGS_PER_ROUND} filings racing two retention workers: no held media deleted, every loss said by its case`, async () => {
    const filed: Filed[] = [];
    let deletedByRaces = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Retention goes oldest first; the cases are spread over the footage, so some come before it and some after.
      const ks = Array.from({ length: FILINGS_PER_ROUND }, (_x, j) => (round * 5 + j * 7) % (N - 3));
      const results = await Promise.all([retentionRun(), retentionRun(), ...ks.map((k) => file(k))]);
      deletedByRaces += (results[0] as { segments: { deleted: number } }).segments.deleted + (results[1] as { segments: { deleted: number } }).segments.deleted;
      filed.push(...(results.slice(2) as Filed[]));
    }
    await retentionRun(); // takes what nobody holds

    const segs = await centre.db
      .selectFrom('segment')
      .select(['id', 'cameraId', 'objectKey', 'deletedAt', sql<Date>`lower(span)`.as('start'), sql<Date>`upper(span)`.as('end')])
      .where('cameraId', 'in', cameraIds)
      .execute();
    const holds = await centre.db
      .selectFrom('evidenceHold')
      .select(['cameraId', sql<Date>`lower(span)`.as('start'), sql<Date>`upper(span)`.as('end')])
      .where('cameraId', 'in', cameraIds)
      .where('releasedAt', 'is', null)
      .execute();
    const overlaps = (s: { cameraId: string; start: Date; end: Date }, h: { cameraId: string | null; start: Date; end: Date }) => s.cameraId === h.cameraId && s.start < h.end && h.start < s.end;

    // 1. What each case said at filing is still the truth: no segment of its windows was deleted after it was held.
    let saidDeleted = 0;
    for (const f of filed) {
      for (const w of f.linked.windows) {
        const from = new Date(w.from);
        const to = new Date(w.to);
        const now = segs.filter((s) => overlaps(s, { cameraId: w.cameraId, start: from, end: to }) && s.deletedAt !== null).length;
        assert.equal(now, w.deletedCount, `case ${f.incident.id} camera ${w.cameraId} ${w.from}..${w.to}: deleted at filing ${w.deletedCount}, now ${now}`);
        saidDeleted += w.deletedCount;
      }
    }
    // 2. Every held segment not deleted before its case still has its media in S3; everything nobody holds is gone.
    let heldStored = 0;
    for (const s of segs) {
      const held = holds.some((h) => overlaps(s, h));
      if (s.deletedAt === null) {
        assert.ok(held, `segment ${s.id} is neither held nor deleted after the final run`);
        assert.ok(s.objectKey && (await exists(s.objectKey)), `held segment ${s.id}: its object is in S3`);
        heldStored++;
      } else assert.equal(s.objectKey, null);
    }
    // 3. The race had both outcomes: cases that found footage already deleted (and said so), and holds that won.
    assert.ok(saidDeleted > 0, 'some cases came after retention and report the deletion');
    assert.ok(heldStored > 0, 'some holds came first and kept their media');
    assert.ok(deletedByRaces > 0, 'retention deleted during the races');
    // 4. The case view says it too: a window with deleted footage shows it (count and spans), not "at the store".
    const withLoss = filed.find((f) => f.linked.windows.some((w) => w.deletedCount > 0))!;
    const detail = await fetch(`${centre.url}/api/v1/incidents/${withLoss.incident.id}`, { headers: { cookie } });
    assert.equal(detail.status, 200);
    const d = (await detail.json()) as { cameraWindows?: unknown; windows?: unknown };
    const windows = (d.cameraWindows ?? d.windows) as { camera: { id: string }; arrival: { segments: { deleted: number; metadataOnly: number }; deleted: unknown[]; state: string } }[];
    for (const w of withLoss.linked.windows) {
      const shown = windows.find((x) => x.camera.id === w.cameraId)!;
      assert.equal(shown.arrival.segments.deleted, w.deletedCount);
      assert.equal(shown.arrival.segments.metadataOnly, 0, 'deleted media is not "at the store"');
      if (w.deletedCount > 0) assert.ok(shown.arrival.deleted.length > 0);
      if (w.deletedCount === 3) assert.equal(shown.arrival.state, 'failed');
    }
  });
});
