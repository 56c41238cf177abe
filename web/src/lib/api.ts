/**
 * The centre's API as the browser calls it: same origin, the session in an HttpOnly cookie the browser sends by
 * itself (`credentials: 'same-origin'`). No Authorization header, nothing kept in storage.
 *
 * Every request and answer type comes from `./api/schema.d.ts`, generated from the server's OpenAPI document by
 * `npm run gen:api` (the test command fails when it is stale). Nothing here is written by hand: the names below are
 * only shorter handles on the generated schemas.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './api/schema.d.ts';
import { earlyStore, takeEarly } from './early.ts';

type Schemas = components['schemas'];
export type Me = Schemas['Me'];
export type Role = Me['role'];
export type Site = Schemas['Site'];
export type Camera = Schemas['Camera'];
export type Timeline = Json<'/api/v1/cameras/{id}/timeline', 'get'>;
export type Segment = Timeline['segments'][number];
export type Gap = Timeline['gaps'][number];
export type CallSummary = Schemas['CallSummary'];
export type CallTimes = CallSummary['times'];
export type CallDetail = Schemas['CallDetail'];
export type Recording = CallDetail['recordings'][number];
export type CallLeg = CallDetail['legs'][number];
export type CallVersion = CallDetail['versions'][number];
export type Incident = Schemas['Incident'];
export type IncidentDetail = Schemas['IncidentDetail'];
export type IncidentCall = Schemas['IncidentCall'];
export type IncidentCameraWindow = Schemas['IncidentCameraWindow'];
export type IncidentTimeline = Schemas['IncidentTimeline'];
export type AuditVerification = Schemas['AuditVerification'];
export type DisclosureRequest = Schemas['DisclosureRequest'];
export type DisclosureDetail = Schemas['DisclosureDetail'];
export type DisclosureItem = Schemas['DisclosureItem'];
export type NewDisclosure = NonNullable<paths['/api/v1/disclosures']['post']['requestBody']>['content']['application/json'];
export type DisclosureDecisionBody = NonNullable<paths['/api/v1/disclosures/{id}/items/{itemId}/decision']['put']['requestBody']>['content']['application/json'];
export type IncidentBookmark = Schemas['IncidentBookmark'];
export type IncidentHistory = Json<'/api/v1/incidents/{id}/history', 'get'>;
export type IncidentStatus = Incident['status'];
// Stores, audit and admin pages.
export type FleetStore = Schemas['FleetStore'];
export type AuditEvent = Schemas['AuditEvent'];
export type AuditQuery = NonNullable<paths['/api/v1/audit/events']['get']['parameters']['query']>;
export type User = Schemas['User'];
export type NewUser = NonNullable<paths['/api/v1/users']['post']['requestBody']>['content']['application/json'];
export type UserPatch = NonNullable<paths['/api/v1/users/{id}']['patch']['requestBody']>['content']['application/json'];
export type SiteDetail = Schemas['SiteDetail'];
export type SiteListed = Schemas['SiteListed'];
export type NewSite = NonNullable<paths['/api/v1/sites']['post']['requestBody']>['content']['application/json'];
export type SitePatch = NonNullable<paths['/api/v1/sites/{id}']['patch']['requestBody']>['content']['application/json'];
export type EnrollmentToken = Schemas['EnrollmentToken'];
export type AgentInfo = Schemas['Agent'];
export type RetentionPolicy = Schemas['RetentionPolicy'];
export type CallQuery = NonNullable<paths['/api/v1/calls']['get']['parameters']['query']>;
export type IncidentQuery = NonNullable<paths['/api/v1/incidents']['get']['parameters']['query']>;
export type EvidencePack = Schemas['EvidencePack'];
export type PackShareLink = Schemas['PackShareLink'];
export type PackRequest = NonNullable<paths['/api/v1/incidents/{id}/packs']['post']['requestBody']>['content']['application/json'];
export type NewShareLink = NonNullable<paths['/api/v1/packs/{id}/share-links']['post']['requestBody']>['content']['application/json'];
export type NewIncident = NonNullable<paths['/api/v1/incidents']['post']['requestBody']>['content']['application/json'];

/** The JSON body of an operation's success answer (200 or 201). */
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? (R extends { 200: infer A } ? A : R extends { 201: infer A } ? A : never) extends { content: { 'application/json': infer J } }
    ? J
    : never
  : never;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429 `Retry-After`), when the centre said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** `Retry-After` as seconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? Reflect.get(v, key) : undefined;
}

/**
 * The error an answer stands for: our JSON shape `{ error: { code, message, details? } }` when it is there, else
 * `http_<status>`. The wait comes from `Retry-After`, else from the body's `details.retryAfterSeconds`.
 */
export function errorFromAnswer(status: number, statusText: string, body: unknown, retryAfterHeader: string | null, now = Date.now()): ApiError {
  const e = field(body, 'error');
  const code = field(e, 'code');
  const message = field(e, 'message');
  let retry = parseRetryAfter(retryAfterHeader, now);
  const detailWait = field(field(e, 'details'), 'retryAfterSeconds');
  if (retry === null && typeof detailWait === 'number') retry = detailWait;
  return new ApiError(status, typeof code === 'string' ? code : `http_${status}`, typeof message === 'string' ? message : statusText, retry);
}

export type Api = ReturnType<typeof apiClient>;

/**
 * `onUnauthorized` runs when the centre answers 401 to a signed-in request (the session expired or was revoked):
 * the app then shows the sign-in form again. Sign-in itself does not trigger it.
 */
export function apiClient(opts: { onUnauthorized?: (code: string) => void; base?: string; fetch?: typeof fetch } = {}) {
  const base = opts.base ?? '';
  // In the browser, answers app.html started while the app loaded (early.ts) are used once before asking again.
  const fetcher =
    opts.fetch ??
    ((input: Request) => {
      const ask = () => globalThis.fetch(input);
      const origin = (globalThis as { location?: { origin: string } }).location?.origin;
      return (origin === undefined ? null : takeEarly(earlyStore(), input, origin, ask)) ?? ask();
    });
  const http = createClient<paths>({ baseUrl: base, credentials: 'same-origin', headers: { accept: 'application/json' }, fetch: fetcher });

  type Answer<T> = { data?: T; error?: unknown; response: Response };

  /** Sends; an answer that is not 2xx becomes an ApiError (network failures become `network_error`). */
  async function send<T>(request: () => Promise<Answer<T>>, o: { auth?: boolean } = {}): Promise<Answer<T>> {
    let r: Answer<T>;
    try {
      r = await request();
    } catch (e) {
      throw new ApiError(0, 'network_error', e instanceof Error ? e.message : String(e));
    }
    if (r.response.ok) return r;
    const err = errorFromAnswer(r.response.status, r.response.statusText, r.error, r.response.headers.get('retry-after'));
    if (r.response.status === 401 && o.auth !== false) opts.onUnauthorized?.(err.code);
    throw err;
  }
  /** The success answer's JSON body. */
  async function run<T>(request: () => Promise<Answer<T>>, o: { auth?: boolean } = {}): Promise<T> {
    const r = await send(request, o);
    if (r.data === undefined) throw new ApiError(r.response.status, 'empty_answer', r.response.statusText);
    return r.data;
  }
  /** An operation whose success is 204 No Content. */
  async function runEmpty(request: () => Promise<Answer<unknown>>, o: { auth?: boolean } = {}): Promise<void> {
    await send(request, o);
  }
  const id = (v: string) => ({ path: { id: v } });
  const range = (from: Date, to: Date) => ({ from: from.toISOString(), to: to.toISOString() });

  return {
    /** The signed-in person, or ApiError 401 when nobody is (does not call `onUnauthorized`). */
    me: () => run(() => http.GET('/api/v1/auth/me'), { auth: false }),
    login: (login: string, password: string) => run(() => http.POST('/api/v1/auth/login', { body: { login, password } }), { auth: false }),
    logout: () => runEmpty(() => http.POST('/api/v1/auth/logout'), { auth: false }),
    sites: () => run(() => http.GET('/api/v1/sites')).then((b) => b.sites),
    cameras: () => run(() => http.GET('/api/v1/cameras')).then((b) => b.cameras),
    camera: (cameraId: string) => run(() => http.GET('/api/v1/cameras/{id}', { params: id(cameraId) })).then((b) => b.camera),
    timeline: (cameraId: string, from: Date, to: Date) =>
      run(() => http.GET('/api/v1/cameras/{id}/timeline', { params: { ...id(cameraId), query: range(from, to) } })),
    playlistUrl: (cameraId: string, from: Date, to: Date) =>
      `${base}/api/v1/cameras/${encodeURIComponent(cameraId)}/playlist.m3u8?${new URLSearchParams(range(from, to)).toString()}`,
    calls: (query: CallQuery) => run(() => http.GET('/api/v1/calls', { params: { query } })),
    call: (callId: string) => run(() => http.GET('/api/v1/calls/{id}', { params: id(callId) })),
    incidents: (query: IncidentQuery) => run(() => http.GET('/api/v1/incidents', { params: { query } })),
    incident: (incidentId: string) => run(() => http.GET('/api/v1/incidents/{id}', { params: id(incidentId) })),
    incidentTimeline: (incidentId: string) => run(() => http.GET('/api/v1/incidents/{id}/timeline', { params: id(incidentId) })),
    fileIncident: (body: NewIncident) => run(() => http.POST('/api/v1/incidents', { body })),
    auditVerify: () => run(() => http.GET('/api/v1/audit/verify')),
    disclosures: () => run(() => http.GET('/api/v1/disclosures', { params: { query: {} } })),
    disclosure: (requestId: string) => run(() => http.GET('/api/v1/disclosures/{id}', { params: id(requestId) })),
    recordDisclosure: (body: NewDisclosure) => run(() => http.POST('/api/v1/disclosures', { body })),
    decideDisclosureItem: (requestId: string, itemId: string, body: DisclosureDecisionBody) =>
      run(() => http.PUT('/api/v1/disclosures/{id}/items/{itemId}/decision', { params: { path: { id: requestId, itemId } }, body })),
    buildDisclosureResponse: (requestId: string) => run(() => http.POST('/api/v1/disclosures/{id}/response', { params: id(requestId) })),
    markDisclosureSent: (requestId: string, method: string) => run(() => http.POST('/api/v1/disclosures/{id}/sent', { params: id(requestId), body: { method } })),
    disclosureResponseUrl: (requestId: string) => `${base}/api/v1/disclosures/${encodeURIComponent(requestId)}/response`,
    // The case page (docs/api-incidents.md): its timeline, history and changes.
    incidentHistory: (incidentId: string) => run(() => http.GET('/api/v1/incidents/{id}/history', { params: id(incidentId) })).then((b) => b.events),
    addBookmark: (incidentId: string, body: { at: string; note?: string; cameraId?: string; callId?: string }) =>
      run(() => http.POST('/api/v1/incidents/{id}/bookmarks', { params: id(incidentId), body })),
    removeBookmark: (incidentId: string, bookmarkId: string) => run(() => http.DELETE('/api/v1/incidents/{id}/bookmarks/{bookmarkId}', { params: { path: { id: incidentId, bookmarkId } } })),
    setIncidentStatus: (incidentId: string, body: { status: IncidentStatus; note?: string; expectedVersion?: number }) =>
      run(() => http.POST('/api/v1/incidents/{id}/status', { params: id(incidentId), body })),
    linkCall: (incidentId: string, callId: string) => run(() => http.POST('/api/v1/incidents/{id}/calls', { params: id(incidentId), body: { callId } })),
    unlinkCall: (incidentId: string, callId: string) => run(() => http.DELETE('/api/v1/incidents/{id}/calls/{callId}', { params: { path: { id: incidentId, callId } } })),
    linkWindow: (incidentId: string, body: { cameraId: string; from: string; to: string }) => run(() => http.POST('/api/v1/incidents/{id}/camera-windows', { params: id(incidentId), body })),
    unlinkWindow: (incidentId: string, windowId: string) =>
      run(() => http.DELETE('/api/v1/incidents/{id}/camera-windows/{windowId}', { params: { path: { id: incidentId, windowId } } })),
    placeLegalHold: (incidentId: string, reason: string) => run(() => http.POST('/api/v1/incidents/{id}/legal-hold', { params: id(incidentId), body: { reason } })),
    releaseLegalHold: (incidentId: string, reason: string) => run(() => http.POST('/api/v1/incidents/{id}/legal-hold/release', { params: id(incidentId), body: { reason } })),
    // Stores, audit and admin pages.
    fleet: (siteId?: string) => run(() => http.GET('/api/v1/fleet', { params: { query: siteId ? { siteId } : {} } })),
    auditEvents: (query: AuditQuery) => run(() => http.GET('/api/v1/audit/events', { params: { query } })),
    users: () => run(() => http.GET('/api/v1/users')).then((b) => b.users),
    createUser: (body: NewUser) => run(() => http.POST('/api/v1/users', { body })),
    updateUser: (userId: string, body: UserPatch) => run(() => http.PATCH('/api/v1/users/{id}', { params: id(userId), body })),
    setUserSites: (userId: string, siteIds: string[]) => run(() => http.PUT('/api/v1/users/{id}/sites', { params: id(userId), body: { siteIds } })),
    siteDetails: () => run(() => http.GET('/api/v1/sites', { params: { query: { detail: '1' } } })).then((b) => b.sites),
    createSite: (body: NewSite) => run(() => http.POST('/api/v1/sites', { body })),
    updateSite: (siteId: string, body: SitePatch) => run(() => http.PATCH('/api/v1/sites/{id}', { params: id(siteId), body })),
    enrollmentTokens: () => run(() => http.GET('/api/v1/enrollment-tokens')).then((b) => b.tokens),
    issueEnrollmentToken: (siteId: string, ttlSeconds: number) => run(() => http.POST('/api/v1/enrollment-tokens', { body: { siteId, ttlSeconds } })),
    revokeEnrollmentToken: (tokenId: string) => run(() => http.POST('/api/v1/enrollment-tokens/{id}/revoke', { params: id(tokenId) })),
    agents: () => run(() => http.GET('/api/v1/agents')).then((b) => b.agents),
    revokeAgent: (agentId: string) => run(() => http.POST('/api/v1/agents/{id}/revoke', { params: id(agentId) })),
    retentionPolicies: () => run(() => http.GET('/api/v1/retention/policies')).then((b) => b.policies),
    setRetentionPolicies: (policies: { class: RetentionPolicy['class']; retentionDays: number | null }[]) => run(() => http.PUT('/api/v1/retention/policies', { body: { policies } })).then((b) => b.policies),
    // Evidence packs and police share links (hq; docs/api-packs.md).
    packs: (incidentId: string) => run(() => http.GET('/api/v1/incidents/{id}/packs', { params: id(incidentId) })).then((b) => b.packs),
    requestPack: (incidentId: string, body: PackRequest) => run(() => http.POST('/api/v1/incidents/{id}/packs', { params: id(incidentId), body })).then((b) => b.pack),
    pack: (packId: string) => run(() => http.GET('/api/v1/packs/{id}', { params: id(packId) })),
    packSigningKey: () => run(() => http.GET('/api/v1/pack-signing-key')),
    createShareLink: (packId: string, body: NewShareLink) => run(() => http.POST('/api/v1/packs/{id}/share-links', { params: id(packId), body })),
    revokeShareLink: (packId: string, linkId: string, reason: string) =>
      run(() => http.POST('/api/v1/packs/{id}/share-links/{linkId}/revoke', { params: { path: { id: packId, linkId } }, body: { reason } })).then((b) => b.link),
    /** JSON behind a signed media link the centre handed out (no session needed, same origin); the caller checks its shape. */
    mediaJson: async (url: string): Promise<unknown> => {
      let r: Response;
      try {
        r = await fetcher(new Request(url.startsWith('/') ? `${base}${url}` : url, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
      } catch (e) {
        throw new ApiError(0, 'network_error', e instanceof Error ? e.message : String(e));
      }
      const body: unknown = await r.json().catch(() => null);
      if (!r.ok) throw errorFromAnswer(r.status, r.statusText, body, r.headers.get('retry-after'));
      return body;
    },
  };
}
