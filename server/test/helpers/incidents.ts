/** Helpers for the incident tests: calls through the agent API, segment rows through the segment repository, JSON calls. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { agentClient, fixturePayload } from './calls.ts';
import type { TestCentre } from './centre.ts';

export const MIN = 60_000;

/** A call at the agent's site, sent as an agent would (no recordings unless given). */
export async function putCall(
  centre: TestCentre,
  credential: string,
  o: { start: Date; end: Date; caller?: string | null; e164?: string | null; direction?: 'inbound' | 'outbound' | 'internal' | 'unknown'; operator?: string },
): Promise<string> {
  const linkedId = `${Math.floor(o.start.getTime() / 1000)}.${randomBytes(3).readUIntBE(0, 3)}`;
  const durationS = (o.end.getTime() - o.start.getTime()) / 1000;
  const payload = fixturePayload({
    linkedId,
    direction: o.direction ?? 'inbound',
    caller: { number: o.caller === undefined ? '0399990000' : o.caller, name: null, e164: o.e164 === undefined ? '+81399990000' : o.e164 },
    operator: { extension: o.operator ?? '201', name: 'Tanaka', source: 'dstchannel' },
    times: { ...fixturePayload().times, startUtc: o.start.toISOString(), answerUtc: o.start.toISOString(), endUtc: o.end.toISOString(), durationS, talkS: durationS },
    legs: [],
    recordings: [],
  });
  const r = await agentClient(() => centre.url, credential).putVersion(`main-pbx:${linkedId}`, 1, payload);
  if (r.status !== 201) throw new Error(`call: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { callId: string }).callId;
}

/** A camera of the agent's site, registered through the agent API. */
export async function putCamera(centre: TestCentre, credential: string, key: string, uploadMode: 'continuous' | 'on-demand' = 'continuous', place = 'レジ1'): Promise<string> {
  const r = await fetch(`${centre.url}/api/v1/agent/cameras/${key}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: key, place, uploadMode }),
  });
  if (r.status !== 200) throw new Error(`camera: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { cameraId: string }).cameraId;
}

/**
 * Segment rows through the segment repository, as ingest leaves them: `stored` rows point at an object key (no
 * object: these tests never fetch the bytes), metadata-only rows (on-demand cameras) have object_key NULL.
 */
export async function addSegments(centre: TestCentre, cameraId: string, from: Date, to: Date, o: { segmentMs?: number; stored?: boolean | ((i: number) => boolean) } = {}) {
  const step = o.segmentMs ?? MIN;
  const ids: string[] = [];
  let i = 0;
  for (let t = from.getTime(); t < to.getTime(); t += step, i++) {
    const stored = typeof o.stored === 'function' ? o.stored(i) : (o.stored ?? true);
    const end = Math.min(t + step, to.getTime());
    const row = await centre.services.repos.segments.insert({
      cameraId,
      start: new Date(t),
      end: new Date(end),
      durationMs: end - t,
      byteSize: 1000,
      sha256: createHash('sha256').update(`${cameraId}${t}`).digest(),
      mediaType: 'video/mp2t',
      codec: {},
      runId: null,
      clockOffsetMs: 0,
      objectKey: stored ? `segments/test/${cameraId}/${t}-${randomUUID()}.ts` : null,
      storedAt: stored ? new Date() : null,
    });
    if (!row) throw new Error('segment overlap');
    ids.push(row.id);
  }
  return ids;
}

export type Api = ReturnType<typeof api>;
export type Answer<T = any> = { status: number; body: T };

/** JSON requests with a session cookie. */
export function api(centre: TestCentre, cookie: string) {
  async function req<T = any>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = { cookie };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${centre.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (a playlist) */
    }
    return { status: r.status, body: parsed as T };
  }
  return {
    get: <T = any>(path: string) => req<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => req<T>('POST', path, body ?? {}),
    patch: <T = any>(path: string, body: unknown) => req<T>('PATCH', path, body),
    del: <T = any>(path: string) => req<T>('DELETE', path),
  };
}

/** Row counts of everything filing or linking writes: a refused request must leave them all unchanged. */
export async function footprint(centre: TestCentre) {
  const n = async (t: 'incident' | 'incidentCall' | 'incidentCameraWindow' | 'incidentNote' | 'incidentBookmark' | 'incidentEvent' | 'evidenceHold' | 'agentCommand') =>
    Number((await centre.db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const releasedHolds = Number((await centre.db.selectFrom('evidenceHold').select((eb) => eb.fn.countAll().as('n')).where('releasedAt', 'is not', null).executeTakeFirstOrThrow()).n);
  const incidentVersions = (await centre.db.selectFrom('incident').select(['id', 'version', 'status']).orderBy('id').execute()).map((r) => `${r.id}:${r.version}:${r.status}`).join(',');
  return {
    incident: await n('incident'),
    incidentCall: await n('incidentCall'),
    window: await n('incidentCameraWindow'),
    note: await n('incidentNote'),
    bookmark: await n('incidentBookmark'),
    event: await n('incidentEvent'),
    hold: await n('evidenceHold'),
    releasedHolds,
    command: await n('agentCommand'),
    incidentVersions,
  };
}
