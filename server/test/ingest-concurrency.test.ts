/**
 * Issue 12 item 3: the same segment sent concurrently. Idempotency (invariant 3) must hold under concurrency: ten
 * identical uploads at once answer success every time (one 201, the rest 200), and exactly one row and one object
 * are kept. Real server, PostgreSQL and S3.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PARALLEL = 10;
const ROUNDS = 5;

describe('segment ingest under concurrency', () => {
  let centre: TestCentre;
  let cred: string;
  // Recent times (the centre refuses footage times far from its clock); each round its own minute.
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 6 * 3600_000;
  before(async () => {
    centre = await startCentre();
    const a = await centre.createSite();
    cred = (await centre.enrollAgent(a.token)).credential;
    for (const [key, uploadMode] of [['cam1', 'continuous'], ['cam2', 'on-demand']] as const) {
      const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: key, uploadMode }) });
      assert.equal(r.status, 200);
    }
  });
  after(() => centre.close());

  const put = (cam: string, start: string, body: Buffer) =>
    fetch(`${centre.url}/api/v1/agent/segments/${cam}/${encodeURIComponent(start)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cred}`, 'content-type': 'video/mp2t', 'x-segment-sha256': sha(body), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000' },
      body,
    });
  const putMeta = (cam: string, start: string, body: Buffer) =>
    fetch(`${centre.url}/api/v1/agent/segments/${cam}/${encodeURIComponent(start)}/meta`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: sha(body), size: body.length, durationMs: 10_000, mediaType: 'video/mp2t' }),
    });
  const rowsAt = async (start: string) =>
    centre.db
      .selectFrom('segment')
      .select(['id', 'objectKey'])
      .where(sql<boolean>`lower(span) = ${new Date(start)}`)
      .execute();
  const answers = async (rs: Response[]) => Promise.all(rs.map(async (r) => ({ status: r.status, body: (await r.json()) as { segmentId?: string; error?: { code: string } } })));

  test(`${PARALLEL} identical media uploads at once, ${ROUNDS} rounds: all succeed, one 201, one row, one object`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const start = new Date(base + round * 60_000).toISOString();
      const body = randomBytes(2_000 + round); // small: the requests reach the database together
      const objectsBefore = await centre.objectCount('segments/');
      const res = await answers(await Promise.all(Array.from({ length: PARALLEL }, () => put('cam1', start, body))));
      const statuses = res.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], `round ${round}: ${JSON.stringify(res)}`);
      const rows = await rowsAt(start);
      assert.equal(rows.length, 1, `round ${round}: one row`);
      assert.ok(rows[0]!.objectKey, 'the row points at its media');
      assert.ok(res.every((r) => r.body.segmentId === rows[0]!.id), 'every answer names the one row');
      assert.equal(await centre.objectCount('segments/'), objectsBefore + 1, `round ${round}: one object`);
    }
  });

  test('metadata and media of an on-demand segment sent at once: all succeed, one row, its media attached once', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const start = new Date(base + 3600_000 + round * 60_000).toISOString();
      const body = randomBytes(100_000 + round);
      const objectsBefore = await centre.objectCount('segments/');
      const reqs = Array.from({ length: PARALLEL }, (_x, i) => (i % 2 === 0 ? putMeta('cam2', start, body) : put('cam2', start, body)));
      const res = await answers(await Promise.all(reqs));
      assert.ok(res.every((r) => r.status === 200 || r.status === 201), `round ${round}: ${JSON.stringify(res)}`);
      const rows = await rowsAt(start);
      assert.equal(rows.length, 1);
      assert.ok(rows[0]!.objectKey, 'the media is attached');
      assert.ok(res.every((r) => r.body.segmentId === rows[0]!.id));
      // Exactly one media upload attached (201); the other media uploads found it attached (200) and kept nothing.
      const mediaCreated = res.filter((r, i) => i % 2 === 1 && r.status === 201).length;
      assert.equal(mediaCreated, 1, `round ${round}: one media upload attached`);
      assert.equal(await centre.objectCount('segments/'), objectsBefore + 1);
    }
  });

  test('overlapping segments sent at once: one is kept, the others get 409 segment_overlap, nothing else stored', async () => {
    const t0 = base + 2 * 3600_000;
    const objectsBefore = await centre.objectCount('segments/');
    const bodies = Array.from({ length: PARALLEL }, (_x, i) => randomBytes(50_000 + i));
    const res = await answers(await Promise.all(bodies.map((b, i) => put('cam1', new Date(t0 + i * 1000).toISOString(), b))));
    assert.equal(res.filter((r) => r.status === 201).length, 1, JSON.stringify(res));
    assert.ok(res.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.error?.code === 'segment_overlap'), JSON.stringify(res));
    const rows = await centre.db.selectFrom('segment').select('id').where(sql<boolean>`span && tstzrange(${new Date(t0)}, ${new Date(t0 + 20_000)}, '[)')`).execute();
    assert.equal(rows.length, 1);
    assert.equal(await centre.objectCount('segments/'), objectsBefore + 1);
  });
});
