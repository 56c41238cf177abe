import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('segment ingest', () => {
  let centre: TestCentre;
  let cred: string;
  let otherCred: string;
  before(async () => {
    centre = await startCentre();
    const a = await centre.createSite();
    cred = (await centre.enrollAgent(a.token)).credential;
    const b = await centre.createSite();
    otherCred = (await centre.enrollAgent(b.token)).credential;
    for (const [c, key] of [[cred, 'cam1'], [otherCred, 'cam9']] as const) {
      const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${c}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: key, place: 'レジ1' }) });
      assert.equal(r.status, 200);
    }
  });
  after(() => centre.close());

  const put = (opts: { body: Buffer; start: string; cam?: string; sha256?: string; size?: number; durationMs?: number; credential?: string | null }) =>
    fetch(`${centre.url}/api/v1/agent/segments/${opts.cam ?? 'cam1'}/${encodeURIComponent(opts.start)}`, {
      method: 'PUT',
      headers: {
        ...(opts.credential !== null && { authorization: `Bearer ${opts.credential ?? cred}` }),
        'content-type': 'video/mp2t',
        'x-segment-sha256': opts.sha256 ?? sha(opts.body),
        'x-segment-size': String(opts.size ?? opts.body.length),
        'x-segment-duration-ms': String(opts.durationMs ?? 10_000),
      },
      body: opts.body,
    });
  const rowCount = async () => Number((await centre.db.selectFrom('segment').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string; requestId: string } }).error;

  test('stores a segment, then answers success for the same segment again without a second row or object', async () => {
    const body = randomBytes(300_000);
    const r1 = await put({ body, start: '2026-11-23T10:00:00.000Z' });
    assert.equal(r1.status, 201);
    const { segmentId } = (await r1.json()) as { segmentId: string };
    const r2 = await put({ body, start: '2026-11-23T10:00:00.000Z' });
    assert.equal(r2.status, 200);
    assert.equal(((await r2.json()) as { segmentId: string }).segmentId, segmentId);
    const seg = await centre.services.repos.segments.findById(segmentId);
    assert.equal(seg?.sha256, sha(body));
    const stored = await centre.store.read(seg!.objectKey!);
    const chunks: Buffer[] = [];
    for await (const c of stored) chunks.push(c as Buffer);
    assert.equal(sha(Buffer.concat(chunks)), sha(body));
    assert.equal(await centre.objectCount('segments/'), 1);
  });

  test('bad inputs get a 4xx with a code and store nothing', async () => {
    const rows = await rowCount();
    const objects = await centre.objectCount('segments/');
    const body = randomBytes(50_000);
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['tampered body', () => put({ body, start: '2026-11-23T11:00:00Z', sha256: sha(Buffer.from('other')) }), 400, 'hash_mismatch'],
      ['wrong size', () => put({ body, start: '2026-11-23T11:01:00Z', size: body.length + 10 }), 400, 'size_mismatch'],
      ['unknown camera', () => put({ body, start: '2026-11-23T11:02:00Z', cam: 'nope' }), 404, 'camera_not_found'],
      ['camera of another site', () => put({ body, start: '2026-11-23T11:03:00Z', cam: 'cam9' }), 404, 'camera_not_found'],
      ['overlapping times', () => put({ body, start: '2026-11-23T10:00:05Z' }), 409, 'segment_overlap'],
      ['same start, other content', () => put({ body, start: '2026-11-23T10:00:00.000Z' }), 409, 'segment_conflict'],
      ['missing credential', () => put({ body, start: '2026-11-23T11:04:00Z', credential: null }), 401, 'agent_credential_missing'],
      ['bad credential', () => put({ body, start: '2026-11-23T11:05:00Z', credential: `${cred.split('.')[0]}.wrongwrongwrongwrongwrong` }), 401, 'agent_credential_invalid'],
      ['malformed hash header', () => put({ body, start: '2026-11-23T11:06:00Z', sha256: 'xyz' }), 400, 'invalid_request'],
      ['bad start time', () => put({ body, start: 'yesterday' }), 400, 'invalid_request'],
      ['zero duration', () => put({ body, start: '2026-11-23T11:07:00Z', durationMs: 0 }), 400, 'invalid_request'],
    ];
    for (const [name, run, status, code] of cases) {
      const r = await run();
      assert.equal(r.status, status, name);
      const err = await errorCode(r);
      assert.equal(err.code, code, name);
      assert.ok(err.requestId, `${name}: requestId`);
    }
    assert.equal(await rowCount(), rows);
    assert.equal(await centre.objectCount('segments/'), objects);
    const health = await fetch(`${centre.url}/api/v1/health`);
    assert.equal(health.status, 200, 'still serving');
  });

  test('enrollment tokens are single use and expire', async () => {
    const s = await centre.createSite();
    const enroll = (token: string) => fetch(`${centre.url}/api/v1/agent/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    const ok = await enroll(s.token);
    assert.equal(ok.status, 201);
    const body = (await ok.json()) as { credential: string; siteId: string };
    assert.equal(body.siteId, s.siteId);
    const again = await enroll(s.token);
    assert.equal(again.status, 409);
    assert.equal((await errorCode(again)).code, 'enrollment_token_used');
    const bogus = await enroll('mmr_enr_doesnotexist000000');
    assert.equal(bogus.status, 401);
    await centre.db.updateTable('enrollmentToken').set({ expiresAt: new Date(Date.now() - 1000) }).where('usedAt', 'is', null).execute();
    const t2 = (await centre.services.agentAuth.issueEnrollmentToken(s.code, 3600, 'test')).token;
    await centre.db.updateTable('enrollmentToken').set({ expiresAt: new Date(Date.now() - 1000) }).where('usedAt', 'is', null).execute();
    const expired = await enroll(t2);
    assert.equal(expired.status, 410);
    assert.equal((await errorCode(expired)).code, 'enrollment_token_expired');
    const agents = await centre.db.selectFrom('agent').select('id').where('siteId', '=', s.siteId).execute();
    assert.equal(agents.length, 1, 'only the first enrollment created an agent');
  });
});
