/**
 * The demo's filed incident: signs in as the demo store manager, waits for an answered call with a recording from
 * the demo store to reach the centre, and files an incident from it (the centre links that call, the calls around
 * it and every camera of the store). Idempotent: does nothing when the store already has an incident.
 *
 *   node --import tsx scripts/demo-incident.ts --server URL --login tencho --password-file F [--timeout 300]
 *
 * Exits non-zero (with the reason) when sign-in, the wait or the filing fails: set-up never hides a failure.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { server: { type: 'string' }, login: { type: 'string' }, 'password-file': { type: 'string' }, timeout: { type: 'string', default: '300' } },
});
if (!values.server || !values.login || !values['password-file']) {
  console.error('usage: demo-incident.ts --server URL --login LOGIN --password-file FILE [--timeout SECONDS]');
  process.exit(2);
}
const base = values.server.replace(/\/$/, '');
const password = readFileSync(values['password-file'], 'utf8').trim();

async function call(method: string, path: string, cookie: string | null, body?: unknown): Promise<{ status: number; json: any; setCookie: string | null }> {
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { accept: 'application/json', ...(cookie && { cookie }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, setCookie: r.headers.get('set-cookie') };
}

const login = await call('POST', '/auth/login', null, { login: values.login, password });
if (login.status !== 200 || !login.setCookie) throw new Error(`sign-in as ${values.login}: ${login.status} ${JSON.stringify(login.json)}`);
const cookie = login.setCookie.split(';')[0]!;

const existing = await call('GET', '/incidents?limit=1', cookie);
if (existing.status !== 200) throw new Error(`incident list: ${existing.status} ${JSON.stringify(existing.json)}`);
if (existing.json.incidents.length > 0) {
  console.log(`incident already filed: ${existing.json.incidents[0].caseNumber}`);
  process.exit(0);
}

const deadline = Date.now() + Number(values.timeout) * 1000;
let callId: string | null = null;
while (!callId) {
  const calls = await call('GET', '/calls?disposition=answered&limit=10', cookie);
  if (calls.status !== 200) throw new Error(`call search: ${calls.status} ${JSON.stringify(calls.json)}`);
  callId = calls.json.calls.find((c: { recordingCount: number }) => c.recordingCount > 0)?.id ?? null;
  if (callId) break;
  if (Date.now() > deadline) throw new Error(`no answered call with a recording reached the centre within ${values.timeout} s`);
  await new Promise((r) => setTimeout(r, 3000));
}

const filed = await call('POST', '/incidents', cookie, {
  callId,
  title: 'レジでの大声による威圧',
  category: 'verbal_abuse',
  severity: 'high',
  narrative: '返品を断ったところ、大声で怒鳴り続けた。オペレーターが対応し、店長に引き継いだ。',
});
if (filed.status !== 201) throw new Error(`filing: ${filed.status} ${JSON.stringify(filed.json)}`);
console.log(`incident filed: ${filed.json.incident.caseNumber} (${filed.json.linked.calls.length} calls, ${filed.json.linked.windows.length} camera windows linked)`);
