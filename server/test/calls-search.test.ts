import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import type { CallPayload } from '@mamoru/contract';
import { payloadDigest } from '../src/domain/call-payload.ts';
import type { CallSearch } from '../src/repositories/call.repository.ts';
import { errorOf, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

/** A small deterministic PRNG (mulberry32), so a failure can be reproduced. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Synthetic = { id: string; siteId: string; payload: CallPayload; start: number };

const digits = (s: string | null) => (s ?? '').replace(/[^0-9]/g, '');
const order = (a: Synthetic, b: Synthetic) => b.start - a.start || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe('calls: search across thousands of calls', () => {
  let centre: TestCentre;
  const sites: string[] = [];
  const calls: Synthetic[] = [];
  const T0 = Date.parse('2026-09-01T00:00:00Z');
  const DAY = 86_400_000;
  const admin = () => ({ authorization: `Bearer ${centre.adminToken}` });

  async function search(q: Record<string, string | string[]>) {
    const u = new URL(`${centre.url}/api/v1/calls`);
    for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
    const r = await fetch(u, { headers: admin() });
    return { status: r.status, body: (await r.json()) as { calls: { id: string; siteId: string; times: { startUtc: string } }[]; nextCursor: string | null } };
  }
  /** Every page of a search, following the cursor. */
  async function searchAll(q: Record<string, string | string[]>, limit = 200) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await search({ ...q, limit: String(limit), ...(cursor && { cursor }) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      ids.push(...r.body.calls.map((c) => c.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 1000);
    return ids;
  }
  const expected = (pred: (c: Synthetic) => boolean) => calls.filter(pred).sort(order).map((c) => c.id);

  before(async () => {
    centre = await startCentre();
    for (let i = 0; i < 3; i++) sites.push((await centre.createSite()).siteId);
    const agentId = null;
    const rand = rng(20261123);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const N = 4000;
    const specs: { siteId: string; payload: CallPayload }[] = [];
    for (let i = 0; i < N; i++) {
      const siteId = sites[i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2]!;
      // 50 calls share one start second, to exercise the (start, id) tie-break.
      const start = i < 50 ? T0 + 30 * DAY : T0 + Math.floor(rand() * 60 * DAY / 1000) * 1000;
      const mobile = rand() < 0.4;
      const national = mobile ? `90${String(Math.floor(rand() * 1e8)).padStart(8, '0')}` : `${pick(['3', '6', '45', '52'])}${String(Math.floor(rand() * 1e8)).padStart(8, '0')}`.slice(0, 9);
      const anonymous = rand() < 0.05;
      const disposition = rand() < 0.01 ? 'congestion' : rand() < 0.8 ? 'answered' : pick(['no_answer', 'busy', 'failed'] as const);
      const answered = disposition === 'answered';
      const notice = rand() < 0.02 ? 'no' : rand() < 0.9 ? 'yes' : 'unknown';
      const did = pick(['0501234567', '0501234568', '0663334444']);
      const payload = fixturePayload({
        linkedId: `${Math.floor(start / 1000)}.${i}`,
        direction: rand() < 0.9 ? 'inbound' : 'outbound',
        disposition,
        caller: anonymous ? { number: 'anonymous', name: null, e164: null } : { number: `0${national}`, name: null, e164: `+81${national}` },
        called: { number: did, e164: `+81${did.slice(1)}` },
        operator: answered ? { extension: pick(['201', '202', '203', '204', '205', '206', '207', '208']), name: null, source: 'dstchannel' } : null,
        times: { ...fixturePayload().times, startUtc: new Date(start).toISOString(), answerUtc: null, endUtc: new Date(start + 60_000).toISOString(), durationS: 60, talkS: null },
        notice: { played: notice, method: notice === 'unknown' ? null : 'cdr_variable', atUtc: null, evidence: [] },
        legs: [{ ...fixturePayload().legs[2]!, raw: `synthetic ${i}` }],
        recordings: [],
      });
      specs.push({ siteId, payload });
    }
    const t0 = Date.now();
    // Through the repository, four at a time (the pool has five connections).
    for (let i = 0; i < specs.length; i += 4) {
      await Promise.all(
        specs.slice(i, i + 4).map(async ({ siteId, payload }) => {
          const r = await centre.services.repos.calls.saveVersion({ siteId, agentId, callKey: `main-pbx:${payload.linkedId}`, version: 1, payload, digest: payloadDigest(payload), now: new Date() });
          calls.push({ id: r.callId, siteId, payload, start: Date.parse(payload.times.startUtc) });
        }),
      );
    }
    console.log(`# inserted ${N} calls through the repository in ${Date.now() - t0} ms`);
    await centre.db.executeQuery(CompiledQuery.raw('ANALYZE call'));
  });
  after(() => centre.close());

  test('finds a partial number in either form, raw or E.164, for caller or called', async () => {
    const target = calls.find((c) => c.payload.caller.e164?.startsWith('+813'))!;
    const raw = target.payload.caller.number!; // 03xxxxxxxx
    const part = raw.slice(3, 9);
    const has = (c: Synthetic, d: string) => digits(c.payload.caller.number).includes(d) || digits(c.payload.caller.e164).includes(d) || digits(c.payload.called.number).includes(d) || digits(c.payload.called.e164).includes(d);

    const byPart = await searchAll({ number: part });
    assert.deepEqual(byPart, expected((c) => has(c, part)));
    assert.ok(byPart.includes(target.id));

    // The E.164 form as a person types it, and the domestic form: both find the call.
    const e164Typed = `+81 ${raw.slice(1, 2)}-${raw.slice(2, 6)}-${raw.slice(6)}`;
    const byE164 = await searchAll({ number: e164Typed });
    assert.ok(byE164.includes(target.id));
    assert.deepEqual(byE164, expected((c) => has(c, digits(e164Typed))));
    const byRaw = await searchAll({ caller: raw });
    assert.deepEqual(byRaw, expected((c) => digits(c.payload.caller.number).includes(digits(raw)) || digits(c.payload.caller.e164).includes(digits(raw))));
    assert.ok(byRaw.includes(target.id));

    // Called (DID) only: thousands of matches, paged.
    const byDid = await searchAll({ called: '0501234568' });
    assert.ok(byDid.length > 500);
    assert.deepEqual(byDid, expected((c) => digits(c.payload.called.number).includes('0501234568') || digits(c.payload.called.e164).includes('0501234568')));
    assert.deepEqual(await searchAll({ caller: '0501234568' }), expected((c) => digits(c.payload.caller.number).includes('0501234568')));
  });

  test('filters by site, time range, operator, direction, disposition and notice, together', async () => {
    const from = new Date(T0 + 10 * DAY);
    const to = new Date(T0 + 20 * DAY);
    const got = await searchAll({ site: [sites[0]!, sites[2]!], from: from.toISOString(), to: to.toISOString(), operator: '203' }, 25);
    const want = expected((c) => (c.siteId === sites[0] || c.siteId === sites[2]) && c.start >= from.getTime() && c.start < to.getTime() && c.payload.operator?.extension === '203');
    assert.ok(want.length > 20, `enough rows to page (${want.length})`);
    assert.deepEqual(got, want);

    assert.deepEqual(await searchAll({ site: sites[1]!, disposition: 'busy', direction: 'inbound' }), expected((c) => c.siteId === sites[1] && c.payload.disposition === 'busy' && c.payload.direction === 'inbound'));
    assert.deepEqual(await searchAll({ notice: 'no' }), expected((c) => c.payload.notice.played === 'no'));
    assert.deepEqual(await searchAll({ site: `${sites[0]},${sites[1]}`, notice: 'unknown', from: from.toISOString() }), expected((c) => c.siteId !== sites[2] && c.payload.notice.played === 'unknown' && c.start >= from.getTime()));
  });

  test('pages newest first by cursor, stable while new calls arrive', async () => {
    const want = expected((c) => c.siteId === sites[0]);
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = false;
    do {
      const r = await search({ site: sites[0]!, limit: '37', ...(cursor && { cursor }) });
      assert.equal(r.status, 200);
      seen.push(...r.body.calls.map((c) => c.id));
      const starts = r.body.calls.map((c) => Date.parse(c.times.startUtc));
      assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first');
      cursor = r.body.nextCursor;
      if (!inserted) {
        // A new call lands (newest of all) while someone is paging: the next pages neither repeat nor skip.
        const p = fixturePayload({ linkedId: '9999999999.1', times: { ...fixturePayload().times, startUtc: '2026-12-31T00:00:00Z', endUtc: '2026-12-31T00:01:00Z' }, recordings: [] });
        await centre.services.repos.calls.saveVersion({ siteId: sites[0]!, agentId: null, callKey: 'main-pbx:9999999999.1', version: 1, payload: p, digest: payloadDigest(p), now: new Date() });
        inserted = true;
      }
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no call twice');
    assert.deepEqual(seen, want);
    const first = await search({ site: sites[0]!, limit: '1' });
    assert.notEqual(first.body.calls[0]!.id, want[0], 'the new call is first on a fresh search');
    // The 50 calls that share one start second come in id order, across page boundaries.
    const tied = seen.filter((id) => calls.find((c) => c.id === id)!.start === T0 + 30 * DAY);
    assert.deepEqual(tied, [...tied].sort().reverse());
  });

  test("a user sees only the sites their role covers, whatever they ask for", async () => {
    const origin = { ip: null, userAgent: null, requestId: null, purpose: null };
    const p = { kind: 'user' as const, userId: 'u1', login: 'u1', role: 'security' as const, siteIds: [sites[1]!], sessionId: 's1', origin };
    const mine = await centre.services.callQuery.search(p, { limit: 200 });
    assert.ok(mine.calls.length > 0);
    assert.ok(mine.calls.every((c) => c.siteId === sites[1]));
    assert.deepEqual((await centre.services.callQuery.search(p, { siteIds: [sites[0]!], limit: 200 })).calls, []);
    const nobody = { kind: 'user' as const, userId: 'u2', login: 'u2', role: 'store_manager' as const, siteIds: [], sessionId: 's2', origin };
    assert.deepEqual((await centre.services.callQuery.search(nobody, { limit: 10 })).calls, []);
    const other = calls.find((c) => c.siteId === sites[0])!;
    await assert.rejects(centre.services.callQuery.detail(p, other.id), (e: Error & { code?: string }) => e.code === 'call_not_found');
  });

  test('bad search parameters get a 400 with a code', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ number: '12' }, 400, 'number_too_short'],
      [{ number: '03-abc' }, 400, 'invalid_number'],
      [{ caller: '+81' }, 400, 'number_too_short'],
      [{ cursor: 'bm90IGEgY3Vyc29y' }, 400, 'invalid_cursor'],
      [{ cursor: Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'x'])).toString('base64url') }, 400, 'invalid_cursor'],
      [{ from: '2026-10-02T00:00:00Z', to: '2026-10-01T00:00:00Z' }, 400, 'invalid_range'],
      [{ from: 'yesterday' }, 400, 'invalid_request'],
      [{ limit: '0' }, 400, 'invalid_request'],
      [{ limit: '201' }, 400, 'invalid_request'],
      [{ site: 'not-a-uuid' }, 400, 'invalid_request'],
      [{ direction: 'sideways' }, 400, 'invalid_request'],
      [{ notice: 'maybe' }, 400, 'invalid_request'],
    ];
    for (const [q, status, code] of cases) {
      const u = new URL(`${centre.url}/api/v1/calls`);
      for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
      const r = await fetch(u, { headers: admin() });
      assert.equal(r.status, status, JSON.stringify(q));
      assert.equal((await errorOf(r)).code, code, JSON.stringify(q));
    }
    const anon = await fetch(`${centre.url}/api/v1/calls`);
    assert.equal(anon.status, 401);
    assert.equal((await errorOf(anon)).code, 'authentication_required');
  });

  test('at 100k calls the planner answers each kind of search from its index', async () => {
    // A few thousand rows fit in a few dozen pages, where a sequential scan is honestly the cheapest plan. Grow the
    // table in one statement (same distribution: 60/30/10 per site, 2 months, 1% congestion, 2% notice not played)
    // to where the choice is real, then read the planner's own choice: no planner settings are changed.
    const t0 = Date.now();
    await centre.db.executeQuery(
      CompiledQuery.raw(
        `INSERT INTO call (site_id, call_key, pbx_id, linked_id, adapter, current_version, direction, disposition, caller_number, caller_e164,
           called_number, called_e164, operator_extension, start_at, end_at, duration_s, zone, zone_source, notice_played)
         SELECT CASE WHEN g % 10 < 6 THEN $1::uuid WHEN g % 10 < 9 THEN $2::uuid ELSE $3::uuid END, 'filler:' || g, 'filler', g::text, 'asterisk-files', 1,
           'inbound', CASE WHEN g % 100 = 7 THEN 'congestion' ELSE 'answered' END, '0' || n, '+81' || n, '0501234567', '+81501234567',
           (201 + g % 8)::text, ts, ts + interval '1 minute', 60, 'UTC', 'uniqueid', CASE WHEN g % 50 = 3 THEN 'no' ELSE 'yes' END
         FROM (SELECT g, lpad(floor(random() * 1e9)::bigint::text, 9, '0') AS n, $4::timestamptz + random() * interval '60 days' AS ts
               FROM generate_series(1, 100000) g) x`,
        [sites[0], sites[1], sites[2], new Date(T0)],
      ),
    );
    await centre.db.executeQuery(CompiledQuery.raw('ANALYZE call'));
    console.log(`# added 100000 filler calls in ${Date.now() - t0} ms`);
    const plan = async (s: Omit<CallSearch, 'limit'>) => {
      const c = centre.services.repos.calls.searchQuery({ ...s, limit: 51 }).compile();
      const r = await centre.db.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${c.sql}`, [...c.parameters]));
      const indexes = new Set<string>();
      const walk = (n: unknown) => {
        if (!n || typeof n !== 'object') return;
        const o = n as Record<string, unknown>;
        if (typeof o['Index Name'] === 'string') indexes.add(o['Index Name']);
        if (o['Node Type'] === 'Seq Scan' && o['Relation Name'] === 'call') indexes.add('SEQ SCAN call');
        for (const v of Object.values(o)) if (typeof v === 'object') walk(v);
      };
      walk(r.rows[0]!['QUERY PLAN']);
      return indexes;
    };
    const site = [sites[0]!];
    const newest = calls.filter((c) => c.siteId === sites[0]).sort(order)[100]!;
    const cases: [string, Omit<CallSearch, 'limit'>, string[]][] = [
      ['one site, newest first', { siteIds: site }, ['call_site_start_idx']],
      ['one site, next page', { siteIds: site, after: { startAt: new Date(newest.start), id: newest.id } }, ['call_site_start_idx']],
      ['all sites, a time range', { siteIds: 'all', from: new Date(T0 + 5 * DAY), to: new Date(T0 + 6 * DAY) }, ['call_start_idx']],
      ['a partial number, either side, one site', { siteIds: site, numberDigits: '4567890' }, ['call_caller_digits_trgm', 'call_called_digits_trgm']],
      ['a partial number, either side, all sites', { siteIds: 'all', numberDigits: '81312345' }, ['call_caller_digits_trgm', 'call_called_digits_trgm']],
      ['a partial caller number, all sites', { siteIds: 'all', callerDigits: '9012345' }, ['call_caller_digits_trgm']],
      ['an operator at a site (any extension the call rang)', { siteIds: site, operator: '205', from: new Date(T0), to: new Date(T0 + 7 * DAY) }, ['call_operator_extensions_gin']],
      ['notice not played', { siteIds: site, notice: 'no' }, ['call_site_notice_idx']],
      ['congested calls', { siteIds: site, disposition: 'congestion' }, ['call_site_disposition_idx']],
    ];
    for (const [name, s, want] of cases) {
      const used = await plan(s);
      for (const w of want) assert.ok(used.has(w), `${name}: expected ${w}, plan used ${[...used].join(', ')}`);
      assert.ok(!used.has('SEQ SCAN call'), `${name}: no sequential scan of call`);
    }
  });
});
