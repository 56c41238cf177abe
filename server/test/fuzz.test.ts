/**
 * A bounded fuzz pass over the agent and people's routes and the police share page (issue 12), reproducible from its seed (FUZZ_SEED, default
 * below; FUZZ_REQUESTS sets the count). Routes, parameters and body shapes come from the live OpenAPI document; each
 * request mixes well-formed and hostile parts (wrong types, NUL and lone surrogates, huge or deep JSON, malformed
 * JSON, wrong content types, odd headers, garbage path and query values) under a random caller (none, a person of
 * some role, the site's agent, a bad bearer). It asserts:
 *   - no answer is a 5xx, every JSON error is the one error shape;
 *   - a refused request (4xx) stores nothing: every table's row count is unchanged (the audit log, throttling and
 *     sessions excepted), and the bucket holds no new object;
 *   - afterwards the centre is healthy and its audit chain verifies.
 * Loopback only (the centre is started on 127.0.0.1).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentClient, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { putCall, putCamera } from './helpers/incidents.ts';
import { tableCounts } from './helpers/table-counts.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const COUNT = Number(process.env.FUZZ_REQUESTS ?? 400);
const TIME_BUDGET_MS = 90_000;

/** mulberry32: a small PRNG with a fixed seed, so a failing run can be replayed exactly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; anyOf?: Schema[]; oneOf?: Schema[]; format?: string; $ref?: string; nullable?: boolean };
type Op = { method: string; path: string; params: { in: string; name: string; schema?: Schema }[]; body?: { type: string; schema?: Schema } };

let centre: TestCentre;
let ids: Record<string, string[]> = {};
let cookies: Record<string, () => Promise<string>> = {};
let credential = '';
let ops: Op[] = [];
let components: Record<string, Schema> = {};

before(async () => {
  centre = await startCentre();
  const site = await centre.createSite();
  credential = (await centre.enrollAgent(site.token)).credential;
  const cameraId = await putCamera(centre, credential, 'fz-cam');
  const t = new Date(Date.now() - 7200_000);
  const callId = await putCall(centre, credential, { start: t, end: new Date(t.getTime() + 60_000) });
  const users = {
    hq: await centre.createUser({ role: 'hq' }),
    store_manager: await centre.createUser({ role: 'store_manager', siteIds: [site.siteId] }),
    security: await centre.createUser({ role: 'security', siteIds: [site.siteId] }),
    auditor: await centre.createUser({ role: 'auditor' }),
    admin: await centre.createUser({ role: 'admin' }),
  };
  // A fresh session per request: a fuzzed sign-out or password change must not end the rest of the run.
  cookies = Object.fromEntries(Object.entries(users).map(([role, u]) => [role, () => centre.sessionCookie(u.id)]));
  const filed = await fetch(`${centre.url}/api/v1/incidents`, {
    method: 'POST',
    headers: { cookie: await cookies.hq!(), 'content-type': 'application/json' },
    body: JSON.stringify({ callId, title: 'fuzz case', category: 'threat' }),
  });
  assert.equal(filed.status, 201, await filed.clone().text());
  const incidentId = ((await filed.json()) as { incident: { id: string } }).incident.id;
  ids = { id: [cameraId, callId, incidentId, site.siteId, users.hq.id], siteId: [site.siteId], callId: [callId], cameraKey: ['fz-cam'], key: ['fz-cam'], callKey: [`main-pbx:${fixturePayload().linkedId}`], token: ['no-such-token', 'A'.repeat(43)], index: ['0', '1', '99999999999'] };

  const doc = (await (await fetch(`${centre.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: Op['params']; requestBody?: { content: Record<string, { schema?: Schema }> } }>>; components?: { schemas?: Record<string, Schema> } };
  components = doc.components?.schemas ?? {};
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const [type, content] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
      ops.push({ method: m.toUpperCase(), path: p, params: op.parameters ?? [], ...(type && { body: { type, schema: content?.schema } }) });
    }
  }
  assert.ok(ops.length > 50, `the OpenAPI document lists the routes (${ops.length})`);
  // The police share page is outside the API (plain HTML, no OpenAPI entry): its four routes are fuzzed as well.
  ops.push(
    { method: 'GET', path: '/share/{token}', params: [] },
    { method: 'POST', path: '/share/{token}', params: [], body: { type: 'application/x-www-form-urlencoded', schema: { type: 'object', properties: { passcode: { type: 'string' } } } } },
    { method: 'GET', path: '/share/{token}/download', params: [{ in: 'query', name: 'grant', schema: { type: 'string' } }] },
    { method: 'GET', path: '/share/{token}/media/{index}', params: [{ in: 'query', name: 'grant', schema: { type: 'string' } }] },
  );
});
after(() => centre?.close());

const HOSTILE_STRINGS = ['', 'a', 'x'.repeat(5000), '日本語のテキスト', 'a\u0000b', '\ud800', 'ok\udfff', '../../etc/passwd', "' OR 1=1 --", '<script>alert(1)</script>', '1e309', '-1', '9'.repeat(40), '2026-13-45T25:61:61Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '00000000-0000-0000-0000-000000000000', '\u202e\u200b', 'null'];
/** encodeURIComponent, except that a lone surrogate (which it cannot encode) goes as its would-be UTF-8 bytes. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};
const HOSTILE_PATH = ['%00', '..%2F..%2Fetc', 'x'.repeat(300), '%ED%A0%80', '%E6%97%A5', '-1', '1e309', '00000000-0000-4000-8000-000000000000', '%2e%2e', 'a%20b', '%'];

function generator(seed: number) {
  const r = prng(seed);
  const resolve = (s: Schema | undefined): Schema | undefined => (s?.$ref ? components[s.$ref.split('/').pop()!] : s);

  function value(s0: Schema | undefined, depth = 0): unknown {
    const s = resolve(s0);
    // A fifth of the time anything at all goes where a value was expected.
    if (!s || r.chance(0.2) || depth > 6) return wild(depth);
    if (s.enum) return r.chance(0.8) ? r.pick(s.enum) : r.pick(HOSTILE_STRINGS);
    const alt = s.anyOf ?? s.oneOf;
    if (alt) return value(r.pick(alt), depth + 1);
    const type = Array.isArray(s.type) ? r.pick(s.type) : s.type;
    switch (type) {
      case 'object': {
        const o: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) if (r.chance(0.85)) o[k] = value(v, depth + 1);
        if (r.chance(0.15)) o[r.pick(['extra', '__proto__', 'constructor', 'a\u0000'])] = wild(depth + 1);
        return o;
      }
      case 'array':
        return Array.from({ length: r.pick([0, 1, 2, 3, 300]) }, () => value(s.items, depth + 1));
      case 'integer':
      case 'number':
        return r.pick([0, 1, -1, 7, 2 ** 31, 2 ** 53 + 1, 1e300, 0.5, -0.0, 60_000, Date.now()]);
      case 'boolean':
        return r.chance(0.5);
      case 'null':
        return null;
      case 'string':
        if (s.format === 'uuid') return r.pick([...Object.values(ids).flat(), crypto.randomUUID(), ...HOSTILE_STRINGS.slice(0, 4)]);
        if (s.format === 'date-time') return r.pick([new Date(Date.now() - r.int(86400_000)).toISOString(), ...HOSTILE_STRINGS.slice(13, 17)]);
        return r.pick([...HOSTILE_STRINGS, ...Object.values(ids).flat()]);
      default:
        return wild(depth);
    }
  }
  function wild(depth: number): unknown {
    switch (r.int(7)) {
      case 0:
        return r.pick(HOSTILE_STRINGS);
      case 1:
        return r.pick([0, -1, 1e308, 3.14, 2 ** 63]);
      case 2:
        return null;
      case 3:
        return r.chance(0.5);
      case 4:
        return depth > 4 ? [] : [wild(depth + 1), wild(depth + 1)];
      case 5:
        return depth > 4 ? {} : { [r.pick(HOSTILE_STRINGS)]: wild(depth + 1) };
      default:
        return r.pick(Object.values(ids).flat());
    }
  }

  function pathOf(op: Op): string {
    return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      if (r.chance(0.3)) return r.pick(HOSTILE_PATH);
      const known = ids[name] ?? ids.id!;
      if (name === 'start') return enc(r.pick([new Date(Date.now() - r.int(3600_000)).toISOString(), ...HOSTILE_STRINGS.slice(13, 17)]));
      if (name === 'version') return String(r.pick([1, 2, 0, -1, 1e9]));
      if (name === 'kind') return r.pick(['original', 'playable', 'waveform', 'x']);
      if (name === 'name') return r.pick(['a.wav', '..%2Fx.wav', 'x'.repeat(300)]);
      return enc(String(r.chance(0.6) ? r.pick(known) : value({ type: 'string' })));
    });
  }

  function queryOf(op: Op): string {
    const q = new URLSearchParams();
    for (const p of op.params.filter((x) => x.in === 'query')) if (r.chance(0.5)) q.set(p.name, String(value(p.schema)));
    if (r.chance(0.1)) q.set(r.pick(['unknown', 'a\u0000', 'limit']), r.pick(HOSTILE_STRINGS));
    const s = q.toString();
    // Sometimes a raw, hand-broken query string.
    return r.chance(0.05) ? `?${r.pick(['a=%00', 'limit=%', 'from=%E6', '&&&=', 'site=' + '%2C'.repeat(200)])}` : s ? `?${s}` : '';
  }

  async function headersOf(op: Op): Promise<Record<string, string>> {
    const h: Record<string, string> = {};
    const who = r.pick(['none', 'hq', 'store_manager', 'security', 'auditor', 'admin', 'agent', 'agent', 'bad-bearer', 'bad-cookie'] as const);
    if (who === 'agent') h.authorization = `Bearer ${credential}`;
    else if (who === 'bad-bearer') h.authorization = r.pick(['Bearer x', 'Bearer a.b', `Bearer ${'x'.repeat(3000)}`, 'Basic Zm9vOmJhcg==']);
    else if (who === 'bad-cookie') h.cookie = r.pick(['mamoru_session=x', 'mamoru_session=', `mamoru_session=${'a'.repeat(500)}`]);
    else if (who !== 'none') h.cookie = await cookies[who]!();
    for (const p of op.params.filter((x) => x.in === 'header' && x.name !== 'content-length')) if (r.chance(0.7)) h[p.name] = String(value(p.schema)).replace(/[^\x20-\x7e]/g, '?').slice(0, 4000);
    if (r.chance(0.15)) h['x-request-id'] = r.pick(['same-id', 'x'.repeat(500), 'a b', '<>']);
    if (r.chance(0.15)) h['x-mamoru-purpose'] = r.pick(['%00', '%E6%97%A5%E6%9C%AC', 'x'.repeat(2000), '%']);
    if (r.chance(0.1)) h.range = r.pick(['bytes=abc', 'bytes=999999999999-', 'bytes=-0', 'bytes=0-0,5-6']);
    if (r.chance(0.05)) h['sec-fetch-site'] = 'cross-site';
    return h;
  }

  function bodyOf(op: Op): { body?: RequestInit['body']; type?: string } {
    if (!op.body && !r.chance(0.1)) return {};
    if (op.body && op.body.type !== 'application/json') return { body: Buffer.from(Array.from({ length: r.pick([0, 10, 1000]) }, () => r.int(256))), type: r.chance(0.8) ? op.body.type : 'application/json' };
    switch (r.int(10)) {
      case 0:
        return { body: r.pick(['{"a":', '[]', 'null', '"str"', '123', '{"a":1}{"b":2}', '\ufeff{}', '{"__proto__":{"x":1}}']), type: 'application/json' };
      case 1:
        return { body: `${'['.repeat(5000)}${']'.repeat(5000)}`, type: 'application/json' };
      case 2:
        return { body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), type: 'application/json' }; // invalid UTF-8 in a string
      case 3:
        return { body: JSON.stringify(value(op.body?.schema)), type: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x']) };
      default:
        return { body: JSON.stringify(value(op.body?.schema)), type: 'application/json' };
    }
  }

  return { r, pathOf, queryOf, headersOf, bodyOf };
}

test(`fuzz: ${COUNT} requests over the agent and people's routes (seed ${SEED}): no 5xx, nothing stored when refused, healthy after`, async () => {
  const g = generator(SEED);
  const statuses = new Map<number, number>();
  let counts = await tableCounts(centre.db);
  const objectsBefore = await centre.objectCount();
  const accepted: string[] = [];
  const t0 = Date.now();
  let sent = 0;
  for (; sent < COUNT && Date.now() - t0 < TIME_BUDGET_MS; sent++) {
    const op = g.r.pick(ops);
    const url = `${centre.url}${g.pathOf(op)}${g.queryOf(op)}`;
    const headers = await g.headersOf(op);
    const { body, type } = g.bodyOf(op);
    if (type) headers['content-type'] = type;
    const what = `#${sent} ${op.method} ${url.slice(centre.url.length, 200)}`;
    const res = await fetch(url, { method: op.method, headers, body: op.method === 'GET' || op.method === 'HEAD' ? undefined : body });
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    assert.ok(res.status < 500, `${what} → ${res.status} ${text.slice(0, 300)}`);
    if (res.status >= 400 && res.headers.get('content-type')?.startsWith('application/json')) {
      const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } }).error;
      assert.ok(typeof e?.code === 'string' && typeof e.message === 'string' && typeof e.requestId === 'string' && e.requestId.length > 0, `${what}: error shape ${text.slice(0, 200)}`);
    }
    if (op.method !== 'GET') {
      const now = await tableCounts(centre.db);
      if (res.status >= 400) assert.deepEqual(now, counts, `${what} → ${res.status} changed stored rows`);
      else accepted.push(`${op.method} ${op.path} ${res.status}`);
      counts = now;
    }
  }
  const elapsed = Date.now() - t0;
  const uploadsAccepted = accepted.filter((a) => /\/segments\/\{cameraKey\}\/\{start\} |\/recordings\//.test(a)).length;
  assert.equal(uploadsAccepted, 0, 'no random upload matches its hash');
  assert.equal(await centre.objectCount(), objectsBefore, 'no object from a refused upload');
  assert.equal((await fetch(`${centre.url}/api/v1/health`)).status, 200, 'healthy afterwards');
  const verify = (await (await fetch(`${centre.url}/api/v1/audit/verify`, { headers: { cookie: await cookies.auditor!() } })).json()) as { ok: boolean; checked: number };
  assert.equal(verify.ok, true, 'the audit chain verifies');
  const hist = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(`# fuzz seed ${SEED}: ${sent} requests over ${ops.length} operations in ${(elapsed / 1000).toFixed(1)} s; answers ${hist}; ${accepted.length} writes accepted; audit chain ${verify.checked} events ok`);
  assert.equal(sent, COUNT, `all ${COUNT} requests sent within ${TIME_BUDGET_MS / 1000} s`);
});
