/**
 * The incident list's filters against a real centre: reporter and case number (beside site, status, category and the
 * window), newest filed first, always inside the caller's sites.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { api, type Api, MIN } from './helpers/incidents.ts';

describe('incident list filters', () => {
  let centre: TestCentre;
  let A: { siteId: string; code: string };
  let B: { siteId: string; code: string };
  let sm: { id: string; api: Api };
  let hq: { id: string; api: Api };
  const filed: Record<string, { id: string; caseNumber: string }> = {};
  const T = new Date(Math.floor((Date.now() - 3 * 3600_000) / MIN) * MIN);
  const at = (m: number) => new Date(T.getTime() + m * MIN).toISOString();

  before(async () => {
    centre = await startCentre();
    A = await centre.createSite();
    B = await centre.createSite();
    const user = async (role: 'store_manager' | 'hq', siteIds: string[] = []) => {
      const u = await centre.createUser({ role, siteIds });
      return { id: u.id, api: api(centre, await centre.sessionCookie(u.id)) };
    };
    sm = await user('store_manager', [A.siteId]);
    hq = await user('hq');
    const file = async (who: Api, siteId: string, m: number, category: string) => {
      const r = await who.post('/incidents', { siteId, window: { from: at(m), to: at(m + 1) }, title: `case ${m}`, category, severity: 'medium' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { id: r.body.incident.id as string, caseNumber: r.body.incident.caseNumber as string };
    };
    filed.a1 = await file(sm.api, A.siteId, 0, 'verbal_abuse');
    filed.a2 = await file(hq.api, A.siteId, 10, 'threat');
    filed.a3 = await file(sm.api, A.siteId, 20, 'threat');
    filed.b1 = await file(hq.api, B.siteId, 30, 'threat');
  });
  after(() => centre.close());

  const ids = async (who: Api, query: string) => {
    const r = await who.get(`/incidents?${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.incidents as { id: string }[]).map((i) => i.id);
  };

  test('reporter: the cases one person filed, newest first, and still only in scope', async () => {
    assert.deepEqual(await ids(hq.api, `reporter=${sm.id}`), [filed.a3!.id, filed.a1!.id]);
    assert.deepEqual(await ids(hq.api, `reporter=${hq.id}`), [filed.b1!.id, filed.a2!.id]);
    assert.deepEqual(await ids(sm.api, `reporter=${hq.id}`), [filed.a2!.id], "the store manager does not see site B's case");
    assert.equal((await hq.api.get('/incidents?reporter=not-a-uuid')).body.error.code, 'invalid_request');
  });

  test('case number: any part, any case; combined with the other filters', async () => {
    assert.deepEqual(await ids(hq.api, `caseNumber=${encodeURIComponent(filed.a2!.caseNumber.toLowerCase())}`), [filed.a2!.id]);
    assert.deepEqual(await ids(hq.api, `caseNumber=${encodeURIComponent(`${A.code}-`)}`), [filed.a3!.id, filed.a2!.id, filed.a1!.id]);
    assert.deepEqual(await ids(hq.api, `caseNumber=${encodeURIComponent(A.code)}&category=threat&reporter=${sm.id}`), [filed.a3!.id]);
    assert.deepEqual(await ids(hq.api, 'caseNumber=%25'), [], 'a % is a character, not a wildcard');
    assert.deepEqual(await ids(hq.api, 'caseNumber=_'), [], 'an _ is a character, not a wildcard');
    assert.equal((await hq.api.get('/incidents?caseNumber=%20')).body.error.code, 'invalid_request', 'blank is refused');
  });
});
