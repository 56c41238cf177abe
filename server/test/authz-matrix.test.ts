/**
 * The authorization matrix: every route of the app (walked from its route table) × every kind of caller, with the
 * status each must get. A route without an entry in EXPECT fails the test, so no route ships without a decision.
 * Site scoping is proven by pairs: a store manager of the camera's site and of another site, a security officer
 * assigned to it and one who is not, an agent of the site and an agent of another site. `admin_token` is the legacy
 * ADMIN_TOKEN bearer (optional; the web viewer still uses it): footage and site names of every site, nothing else.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './helpers/calls.ts';
import { startCentre, TEST_PASSWORD, type TestCentre } from './helpers/centre.ts';

const WHO = ['sm_own', 'sm_other', 'sec_assigned', 'sec_unassigned', 'hq', 'auditor', 'admin', 'none', 'agent_own', 'agent_other', 'admin_token'] as const;
type Who = (typeof WHO)[number];
const USERS: readonly Who[] = ['sm_own', 'sm_other', 'sec_assigned', 'sec_unassigned', 'hq', 'auditor', 'admin'];

type Fixture = {
  siteA: string;
  siteB: string;
  cameraA: string;
  segmentA: string;
  callA: string;
  recordingA: string;
  jobA: string;
  targetUser: string;
  loginUser: string;
  users: Record<Exclude<Who, 'none' | 'agent_own' | 'agent_other' | 'admin_token'>, string>;
  agentOwn: string;
  agentOther: string;
  /** A case at site A (filed from callA), its preserve_window command (camA has no footage of the call's minutes). */
  incidentA: string;
  commandA: string;
  /** Set by an entry's `before` for the route that removes it. */
  windowId: string;
  bookmarkId: string;
  /** Set by the admin entries' `before`: an unused enrollment token of site A, an agent of site A to revoke. */
  tokenId: string;
  spareAgentId: string;
  /** A disclosure request (hq) for callA's caller, and its item for recordingA. */
  disclosureA: string;
  disclosureItemA: string;
  /** An evidence pack of incidentA requested by hq (queued: no worker runs here). */
  packA: string;
};
type Req = { method: string; path: string; body?: unknown; rawBody?: Buffer; headers?: Record<string, string> };
type Entry = {
  req: (f: Fixture, n: number) => Req;
  expect: Record<Who, number>;
  /** The cell gets a session of its own (the route ends or changes sessions). */
  freshSession?: boolean;
  /** A 2xx must leave at least one audit event (invariant 6) unless this says why not. */
  notAudited?: string;
  /** A page for a person's browser (the police share page): its refusals are HTML pages, not the JSON error shape. */
  htmlPage?: true;
  /** Puts the fixture in the state the request needs, before each caller's request (not counted as its audit). */
  before?: (f: Fixture, centre: TestCentre) => Promise<void>;
};

/** Expected statuses: `rest` for everyone not named. */
const s = (rest: number, named: Partial<Record<Who, number>> = {}): Record<Who, number> => Object.fromEntries(WHO.map((w) => [w, named[w] ?? rest])) as Record<Who, number>;
/** Users (and the operator token, which passes the session gate) get `users` or what is named; no session 401. */
const forUsers = (users: number, named: Partial<Record<Who, number>> = {}) => s(401, { ...Object.fromEntries([...USERS, 'admin_token'].map((u) => [u, users])), ...named });
/** Footage of site A: own/assigned and hq read it, the other site's people get 404 as if missing, auditor and admin 403. */
const footageA = (ok: number) => forUsers(ok, { sm_other: 404, sec_unassigned: 404, auditor: 403, admin: 403 });
/** Media needs a session or a signed link: without either, 403 media_link_invalid (an agent's bearer is neither). */
const mediaA = (ok: number) => ({ ...footageA(ok), none: 403, agent_own: 403, agent_other: 403 });
const onlyAdmin = (ok: number) => forUsers(403, { admin: ok });
const onlyAuditor = (ok: number) => forUsers(403, { auditor: ok });
const agentsOnly = (own: number, other: number) => s(401, { agent_own: own, agent_other: other });

const RANGE = 'from=2026-11-24T00:00:00Z&to=2026-11-24T01:00:00Z';

/** Cases of site A: own/assigned and hq; the other site's people 404 as if missing; auditor, admin and the legacy token 403. */
const caseA = (ok: number, named: Partial<Record<Who, number>> = {}) => forUsers(ok, { sm_other: 404, sec_unassigned: 404, auditor: 403, admin: 403, admin_token: 403, ...named });
/** The case open, without legal hold: the state most case routes start from. */
async function resetCase(f: Fixture, c: TestCentre, patch: { legalHold?: boolean } = {}) {
  await c.db
    .updateTable('incident')
    .set({ status: 'open', closedAt: null, closedBy: null, ...(patch.legalHold ? { legalHold: true, legalHoldReason: 'matrix', legalHoldBy: 'matrix', legalHoldAt: new Date() } : { legalHold: false, legalHoldReason: null, legalHoldBy: null, legalHoldAt: null }) })
    .where('id', '=', f.incidentA)
    .execute();
}
const CASE_AT = '2026-11-23T18:05:10.000Z';
/** A disclosure request received today (never in the future, whatever the machine's date), searching the fixture's year. */
const disclosureBody = (number: string) => {
  const today = new Date().toISOString().slice(0, 10);
  return { requesterName: '山田 太郎', requesterNumber: number, receivedOn: today, identityCheck: 'photo_id_in_person', deadline: today, searchFrom: '2026-01-01T00:00:00Z', searchTo: '2027-01-01T00:00:00Z' };
};
/** The matrix's disclosure request back to open (and, with `decided`, every item decided) before a caller's request. */
async function openDisclosure(f: Fixture, c: TestCentre, decided = false) {
  await c.db.updateTable('disclosureRequest').set({ status: 'open', sentAt: null, sentMethod: null, sentBy: null, responseObjectKey: null, responseSha256: null }).where('id', '=', f.disclosureA).execute();
  await c.db
    .updateTable('disclosureItem')
    .set(decided ? { decision: 'withhold', withholdReason: 'matrix', masking: null, decidedBy: 'matrix', decidedAt: new Date() } : { decision: null, withholdReason: null, masking: null, decidedBy: null, decidedAt: null })
    .where('requestId', '=', f.disclosureA)
    .execute();
}
let windowHooks = 0;
const segBody = randomBytes(2048);

const EXPECT: Record<string, Entry> = {
  'GET /api/v1/health': { req: () => ({ method: 'GET', path: '/api/v1/health' }), expect: s(200), notAudited: 'public liveness' },
  'GET /api/v1/time': { req: () => ({ method: 'GET', path: '/api/v1/time' }), expect: s(200), notAudited: 'public clock' },
  'GET /api/v1/openapi.json': { req: () => ({ method: 'GET', path: '/api/v1/openapi.json' }), expect: s(200), notAudited: 'public API description' },

  'POST /api/v1/auth/login': { req: (f) => ({ method: 'POST', path: '/api/v1/auth/login', body: { login: f.loginUser, password: TEST_PASSWORD } }), expect: s(200) },
  'POST /api/v1/auth/logout': { req: () => ({ method: 'POST', path: '/api/v1/auth/logout' }), expect: s(204), freshSession: true, notAudited: 'without a session there is nothing to end' },
  'GET /api/v1/auth/me': { req: () => ({ method: 'GET', path: '/api/v1/auth/me' }), expect: forUsers(200, { admin_token: 403 }), notAudited: 'the caller reading their own account' },
  'POST /api/v1/auth/password': {
    // Authorized for every person; the unchanged password makes it a 400 that changes nothing.
    req: () => ({ method: 'POST', path: '/api/v1/auth/password', body: { currentPassword: TEST_PASSWORD, newPassword: TEST_PASSWORD } }),
    expect: forUsers(400, { admin_token: 403 }),
    freshSession: true,
  },

  'POST /api/v1/agent/enroll': { req: () => ({ method: 'POST', path: '/api/v1/agent/enroll', body: { token: 'mmr_enr_not-a-real-token-000' } }), expect: s(401) },
  'PUT /api/v1/agent/cameras/:key': {
    req: () => ({ method: 'PUT', path: '/api/v1/agent/cameras/matrix-cam', body: { name: 'matrix', place: 'レジ2' } }),
    expect: agentsOnly(200, 200), // each agent registers a camera of ITS site under this key
    notAudited: 'audited only when the camera is new or changed; the repeats are not',
  },
  'PUT /api/v1/agent/segments/:cameraKey/:start': {
    req: (_f, n) => ({
      method: 'PUT',
      path: `/api/v1/agent/segments/camA/${encodeURIComponent(new Date(Date.UTC(2026, 10, 24, 0, 10) + n * 10_000).toISOString())}`,
      rawBody: segBody,
      headers: { 'content-type': 'video/mp2t', 'x-segment-sha256': createHash('sha256').update(segBody).digest('hex'), 'x-segment-size': String(segBody.length), 'x-segment-duration-ms': '10000' },
    }),
    expect: agentsOnly(201, 404), // camA is site A's: the other site's agent finds no such camera
    notAudited: 'ingest is recorded in the segment row (edge hash, received and stored times), not the audit log',
  },
  'GET /api/v1/agent/segments/:cameraKey/:start': {
    // The fixture's segment of site A's camA (its start): the other site's agent has no camera camA.
    req: () => ({ method: 'GET', path: `/api/v1/agent/segments/camA/${encodeURIComponent('2026-11-24T00:00:00.000Z')}` }),
    expect: agentsOnly(200, 404),
    notAudited: "an agent reading back its own segment's facts (hash, size, where the media is) before it quarantines",
  },
  'PUT /api/v1/agent/segments/:cameraKey/:start/meta': {
    req: (_f, n) => ({
      method: 'PUT',
      path: `/api/v1/agent/segments/camA/${encodeURIComponent(new Date(Date.UTC(2026, 10, 24, 3) + n * 10_000).toISOString())}/meta`,
      body: { sha256: createHash('sha256').update(`meta-${n}`).digest('hex'), size: 1000, durationMs: 10_000, mediaType: 'video/mp2t' },
    }),
    expect: agentsOnly(201, 404), // camA is site A's: the other site's agent finds no such camera
    notAudited: 'ingest is recorded in the segment row (edge hash, received time), not the audit log',
  },
  'POST /api/v1/agent/gaps': {
    req: (_f, n) => ({ method: 'POST', path: '/api/v1/agent/gaps', body: { cameraKey: 'camA', start: new Date(Date.UTC(2026, 10, 24, 2) + n * 60_000).toISOString(), end: new Date(Date.UTC(2026, 10, 24, 2) + n * 60_000 + 5000).toISOString(), reason: 'camera_offline' } }),
    expect: agentsOnly(201, 404),
    notAudited: 'gap reports are footage metadata (evictions will be audited with retention)',
  },
  'POST /api/v1/agent/heartbeat': { req: () => ({ method: 'POST', path: '/api/v1/agent/heartbeat', body: { version: 'm', sentAtMs: Date.now() } }), expect: agentsOnly(200, 200), notAudited: 'status report (handing out commands, when there are any, is audited)' },

  'GET /api/v1/cameras': { req: () => ({ method: 'GET', path: '/api/v1/cameras' }), expect: forUsers(200, { auditor: 403, admin: 403 }) },
  'GET /api/v1/cameras/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/cameras/${f.cameraA}` }), expect: footageA(200) },
  'GET /api/v1/cameras/:id/timeline': { req: (f) => ({ method: 'GET', path: `/api/v1/cameras/${f.cameraA}/timeline?${RANGE}` }), expect: footageA(200) },
  'GET /api/v1/cameras/:id/playlist.m3u8': { req: (f) => ({ method: 'GET', path: `/api/v1/cameras/${f.cameraA}/playlist.m3u8?${RANGE}` }), expect: footageA(200) },
  'GET /api/v1/media/segments/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/media/segments/${f.segmentA}` }), expect: mediaA(200) },

  'PUT /api/v1/agent/calls/:callKey/versions/:version': {
    req: () => ({ method: 'PUT', path: `/api/v1/agent/calls/${encodeURIComponent('main-pbx:1795457999.0')}/versions/1`, body: fixturePayload({ linkedId: '1795457999.0' }) }),
    expect: agentsOnly(201, 201), // each agent stores the call at ITS site
    notAudited: 'ingest is recorded in the call version rows (payload hash, agent, received time)',
  },
  'PUT /api/v1/agent/calls/:callKey/recordings/:name': {
    req: () => ({
      method: 'PUT',
      path: `/api/v1/agent/calls/${encodeURIComponent(FIXTURE_CALL_KEY)}/recordings/${encodeURIComponent(FIXTURE_FILES[0]!.name)}`,
      rawBody: FIXTURE_FILES[0]!.bytes,
      headers: { 'content-type': 'audio/wav', 'x-recording-sha256': createHash('sha256').update(FIXTURE_FILES[0]!.bytes).digest('hex'), 'x-recording-size': String(FIXTURE_FILES[0]!.bytes.length) },
    }),
    expect: agentsOnly(200, 404), // site A's call: stored already for its agent, not found for the other site's
    notAudited: 'ingest is recorded in the recording row (edge hash, stored time)',
  },
  'GET /api/v1/calls': { req: () => ({ method: 'GET', path: '/api/v1/calls' }), expect: forUsers(200, { auditor: 403, admin: 403 }) },
  'GET /api/v1/calls/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/calls/${f.callA}` }), expect: footageA(200) },
  'GET /api/v1/media/recordings/:id/:kind': { req: (f) => ({ method: 'GET', path: `/api/v1/media/recordings/${f.recordingA}/original` }), expect: mediaA(200) },
  // Jobs span sites: only principals that read every site see them; everyone else is told there is no such job.
  'GET /api/v1/jobs/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/jobs/${encodeURIComponent(f.jobA)}` }), expect: forUsers(404, { hq: 200, admin_token: 200 }) },

  'GET /api/v1/sites': { req: () => ({ method: 'GET', path: '/api/v1/sites' }), expect: forUsers(200) },

  'GET /api/v1/users': { req: () => ({ method: 'GET', path: '/api/v1/users' }), expect: onlyAdmin(200) },
  'POST /api/v1/users': {
    req: (f, n) => ({ method: 'POST', path: '/api/v1/users', body: { login: `made-${n}-${f.siteA.slice(0, 6)}`, displayName: '新規', role: 'store_manager', password: 'a long enough password', siteIds: [f.siteA] } }),
    expect: onlyAdmin(201),
  },
  'GET /api/v1/users/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/users/${f.targetUser}` }), expect: onlyAdmin(200) },
  'PATCH /api/v1/users/:id': { req: (f, n) => ({ method: 'PATCH', path: `/api/v1/users/${f.targetUser}`, body: { displayName: `対象 ${n}` } }), expect: onlyAdmin(200) },
  'PUT /api/v1/users/:id/sites': { req: (f) => ({ method: 'PUT', path: `/api/v1/users/${f.targetUser}/sites`, body: { siteIds: [f.siteB] } }), expect: onlyAdmin(200) },
  'POST /api/v1/users/:id/password': { req: (f) => ({ method: 'POST', path: `/api/v1/users/${f.targetUser}/password`, body: { password: 'another long password' } }), expect: onlyAdmin(204) },
  'POST /api/v1/users/:id/unlock': { req: (f) => ({ method: 'POST', path: `/api/v1/users/${f.targetUser}/unlock` }), expect: onlyAdmin(200) },

  'GET /api/v1/incidents': { req: () => ({ method: 'GET', path: '/api/v1/incidents' }), expect: forUsers(200, { auditor: 403, admin: 403, admin_token: 403 }) },
  'POST /api/v1/incidents': {
    req: (f, n) => ({ method: 'POST', path: '/api/v1/incidents', body: { siteId: f.siteA, window: { from: '2026-11-23T17:00:00Z', to: '2026-11-23T17:01:00Z' }, title: `matrix ${n}`, category: 'other' } }),
    // Store managers, security and hq file at the sites they cover; someone who does not cover site A does not see it.
    expect: forUsers(403, { sm_own: 201, sm_other: 404, sec_assigned: 201, sec_unassigned: 404, hq: 201 }),
  },
  'GET /api/v1/incidents/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/incidents/${f.incidentA}` }), expect: caseA(200) },
  'PATCH /api/v1/incidents/:id': { req: (f, n) => ({ method: 'PATCH', path: `/api/v1/incidents/${f.incidentA}`, body: { narrative: `経過 ${n}` } }), expect: caseA(200), before: resetCase },
  'GET /api/v1/incidents/:id/history': { req: (f) => ({ method: 'GET', path: `/api/v1/incidents/${f.incidentA}/history` }), expect: caseA(200) },
  'GET /api/v1/incidents/:id/timeline': { req: (f) => ({ method: 'GET', path: `/api/v1/incidents/${f.incidentA}/timeline` }), expect: caseA(200) },
  'POST /api/v1/incidents/:id/status': {
    // open → under_review is a reviewer's move: the store manager of the site may see the case but not make it.
    req: (f) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/status`, body: { status: 'under_review' } }),
    expect: caseA(200, { sm_own: 403 }),
    before: resetCase,
  },
  'POST /api/v1/incidents/:id/calls': {
    req: (f) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/calls`, body: { callId: f.callA } }),
    expect: caseA(201),
    before: async (f, c) => {
      await resetCase(f, c);
      await c.db.deleteFrom('incidentCall').where('incidentId', '=', f.incidentA).where('callId', '=', f.callA).execute();
    },
  },
  'DELETE /api/v1/incidents/:id/calls/:callId': {
    req: (f) => ({ method: 'DELETE', path: `/api/v1/incidents/${f.incidentA}/calls/${f.callA}` }),
    expect: caseA(200),
    before: async (f, c) => {
      await resetCase(f, c);
      await c.services.repos.incidents.linkCalls(f.incidentA, [{ callId: f.callA, source: 'manual' }], 'matrix', new Date());
    },
  },
  'POST /api/v1/incidents/:id/camera-windows': {
    req: (f, n) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/camera-windows`, body: { cameraId: f.cameraA, from: new Date(Date.UTC(2026, 10, 23, 12) + n * 60_000).toISOString(), to: new Date(Date.UTC(2026, 10, 23, 12) + n * 60_000 + 30_000).toISOString() } }),
    expect: caseA(201),
    before: resetCase,
  },
  'DELETE /api/v1/incidents/:id/camera-windows/:windowId': {
    req: (f) => ({ method: 'DELETE', path: `/api/v1/incidents/${f.incidentA}/camera-windows/${f.windowId}` }),
    expect: caseA(200),
    before: async (f, c) => {
      await resetCase(f, c);
      const t = Date.UTC(2026, 10, 23, 11) + ++windowHooks * 60_000;
      f.windowId = (await c.services.repos.incidents.linkWindow({ incidentId: f.incidentA, cameraId: f.cameraA, start: new Date(t), end: new Date(t + 10_000), source: 'manual', by: 'matrix', at: new Date() }))!;
    },
  },
  'POST /api/v1/incidents/:id/notes': { req: (f, n) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/notes`, body: { body: `メモ ${n}` } }), expect: caseA(201), before: resetCase },
  'POST /api/v1/incidents/:id/bookmarks': { req: (f, n) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/bookmarks`, body: { at: CASE_AT, note: `印 ${n}` } }), expect: caseA(201), before: resetCase },
  'DELETE /api/v1/incidents/:id/bookmarks/:bookmarkId': {
    req: (f) => ({ method: 'DELETE', path: `/api/v1/incidents/${f.incidentA}/bookmarks/${f.bookmarkId}` }),
    expect: caseA(200),
    before: async (f, c) => {
      await resetCase(f, c);
      f.bookmarkId = (await c.services.repos.incidents.addBookmark({ incidentId: f.incidentA, at: new Date(CASE_AT), cameraId: null, callId: null, note: '', by: 'matrix', byLabel: null, now: new Date() })).id;
    },
  },
  // Legal hold: hq only (the capability is checked before the scope, so everyone else gets 403).
  'POST /api/v1/incidents/:id/legal-hold': { req: (f) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/legal-hold`, body: { reason: '訴訟対応' } }), expect: forUsers(403, { hq: 200 }), before: resetCase },
  'POST /api/v1/incidents/:id/legal-hold/release': {
    req: (f) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/legal-hold/release`, body: { reason: '和解' } }),
    expect: forUsers(403, { hq: 200 }),
    before: (f, c) => resetCase(f, c, { legalHold: true }),
  },
  'POST /api/v1/agent/commands/:id/ack': {
    req: (f) => ({ method: 'POST', path: `/api/v1/agent/commands/${f.commandA}/ack`, body: { status: 'done' } }),
    expect: agentsOnly(200, 404), // site A's command: the other site's agent is told there is no such command
  },
  // Retention: hq reads and edits; the auditor reads; nobody else (the legacy token reads footage only).
  'GET /api/v1/retention/policies': { req: () => ({ method: 'GET', path: '/api/v1/retention/policies' }), expect: forUsers(403, { hq: 200, auditor: 200, admin: 200 }) },

  // Stores view and the admin pages (issue 10 items 5 and 6).
  'POST /api/v1/sites': {
    req: (_f, n) => ({ method: 'POST', path: '/api/v1/sites', body: { code: `matrix-${n}`, name: `店舗 ${n}`, timezone: 'Asia/Tokyo', pbxNoticeText: 'この通話は録音されます' } }),
    expect: onlyAdmin(201),
  },
  'GET /api/v1/sites/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/sites/${f.siteA}` }), expect: forUsers(200, { sm_other: 404, sec_unassigned: 404 }) },
  'PATCH /api/v1/sites/:id': {
    req: (f, n) => ({ method: 'PATCH', path: `/api/v1/sites/${f.siteA}`, body: { cameraNotice: { text: `防犯カメラ作動中 ${n}`, place: '入口', since: '2026-11-01' } } }),
    expect: onlyAdmin(200),
  },
  'GET /api/v1/fleet': { req: () => ({ method: 'GET', path: '/api/v1/fleet' }), expect: forUsers(200, { sm_own: 403, sm_other: 403, auditor: 403, admin_token: 403 }) },
  'GET /api/v1/enrollment-tokens': { req: () => ({ method: 'GET', path: '/api/v1/enrollment-tokens' }), expect: onlyAdmin(200) },
  'POST /api/v1/enrollment-tokens': { req: (f) => ({ method: 'POST', path: '/api/v1/enrollment-tokens', body: { siteId: f.siteA, ttlSeconds: 600 } }), expect: onlyAdmin(201) },
  'POST /api/v1/enrollment-tokens/:id/revoke': {
    before: async (f, c) => {
      const site = (await c.services.repos.sites.findById(f.siteA))!;
      const t = await c.services.agentAuth.issueEnrollmentToken(site.code, 600, 'matrix');
      f.tokenId = (await c.db.selectFrom('enrollmentToken').select('id').where('tokenHash', '=', createHash('sha256').update(t.token).digest('hex')).executeTakeFirstOrThrow()).id;
    },
    req: (f) => ({ method: 'POST', path: `/api/v1/enrollment-tokens/${f.tokenId}/revoke` }),
    expect: onlyAdmin(200),
  },
  'GET /api/v1/agents': { req: () => ({ method: 'GET', path: '/api/v1/agents' }), expect: onlyAdmin(200) },
  'POST /api/v1/agents/:id/revoke': {
    before: async (f, c) => {
      const site = (await c.services.repos.sites.findById(f.siteA))!;
      const t = await c.services.agentAuth.issueEnrollmentToken(site.code, 600, 'matrix');
      f.spareAgentId = (await c.enrollAgent(t.token)).agentId;
    },
    req: (f) => ({ method: 'POST', path: `/api/v1/agents/${f.spareAgentId}/revoke` }),
    expect: onlyAdmin(200),
  },
  'PUT /api/v1/retention/policies': {
    req: (_f, n) => ({ method: 'PUT', path: '/api/v1/retention/policies', body: { policies: [{ class: 'routine_footage', retentionDays: 30 + (n % 50) }] } }),
    expect: forUsers(403, { hq: 200 }),
  },

  // Disclosure requests (開示請求): hq only; everyone else 403 (the legacy token too).
  // Evidence packs: hq only (packs:manage); the pack stays queued, so its download and share links answer 409.
  'POST /api/v1/incidents/:id/packs': {
    req: (f) => ({ method: 'POST', path: `/api/v1/incidents/${f.incidentA}/packs`, body: { purpose: 'police_request', reference: '捜査関係事項照会書 第1号', legalBasis: '刑事訴訟法第197条第2項' } }),
    expect: forUsers(403, { hq: 202 }),
  },
  'GET /api/v1/incidents/:id/packs': { req: (f) => ({ method: 'GET', path: `/api/v1/incidents/${f.incidentA}/packs` }), expect: forUsers(403, { hq: 200 }) },
  'GET /api/v1/pack-signing-key': { req: () => ({ method: 'GET', path: '/api/v1/pack-signing-key' }), expect: forUsers(403, { hq: 200 }) },
  'GET /api/v1/packs/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/packs/${f.packA}` }), expect: forUsers(403, { hq: 200 }) },
  'GET /api/v1/packs/:id/download': { req: (f) => ({ method: 'GET', path: `/api/v1/packs/${f.packA}/download` }), expect: forUsers(403, { hq: 409 }) },
  'POST /api/v1/packs/:id/share-links': {
    req: (f) => ({ method: 'POST', path: `/api/v1/packs/${f.packA}/share-links`, body: { recipient: '神奈川県警', expiresInHours: 24, maxDownloads: 1 } }),
    expect: forUsers(403, { hq: 409 }),
  },
  'POST /api/v1/packs/:id/share-links/:linkId/revoke': {
    req: (f) => ({ method: 'POST', path: `/api/v1/packs/${f.packA}/share-links/00000000-0000-4000-8000-000000000000/revoke`, body: { reason: '誤送付' } }),
    expect: forUsers(403, { hq: 404 }),
  },
  // The police share page needs no account: whoever calls, an unknown token is 404.
  'GET /share/:token': { req: () => ({ method: 'GET', path: '/share/unknown-token-0000000000000000' }), expect: s(404), htmlPage: true },
  'POST /share/:token': { req: () => ({ method: 'POST', path: '/share/unknown-token-0000000000000000', body: { passcode: 'x' } }), expect: s(404), htmlPage: true },
  'GET /share/:token/download': { req: () => ({ method: 'GET', path: '/share/unknown-token-0000000000000000/download' }), expect: s(404), htmlPage: true },
  'GET /share/:token/media/:index{[0-9]+}': { req: () => ({ method: 'GET', path: '/share/unknown-token-0000000000000000/media/0' }), expect: s(404), htmlPage: true },
  'GET /api/v1/disclosures': { req: () => ({ method: 'GET', path: '/api/v1/disclosures' }), expect: forUsers(403, { hq: 200 }) },
  'POST /api/v1/disclosures': {
    req: () => ({ method: 'POST', path: '/api/v1/disclosures', body: disclosureBody('03-1234-5678') }),
    expect: forUsers(403, { hq: 201 }),
  },
  'GET /api/v1/disclosures/:id': { req: (f) => ({ method: 'GET', path: `/api/v1/disclosures/${f.disclosureA}` }), expect: forUsers(403, { hq: 200 }), before: (f, c) => openDisclosure(f, c) },
  'POST /api/v1/disclosures/:id/search': { req: (f) => ({ method: 'POST', path: `/api/v1/disclosures/${f.disclosureA}/search` }), expect: forUsers(403, { hq: 200 }), before: (f, c) => openDisclosure(f, c) },
  'PUT /api/v1/disclosures/:id/items/:itemId/decision': {
    req: (f) => ({ method: 'PUT', path: `/api/v1/disclosures/${f.disclosureA}/items/${f.disclosureItemA}/decision`, body: { decision: 'withhold', withholdReason: '第三者の権利利益を害するおそれ' } }),
    expect: forUsers(403, { hq: 200 }),
    before: (f, c) => openDisclosure(f, c),
  },
  'POST /api/v1/disclosures/:id/response': {
    req: (f) => ({ method: 'POST', path: `/api/v1/disclosures/${f.disclosureA}/response` }),
    expect: forUsers(403, { hq: 202 }),
    before: (f, c) => openDisclosure(f, c, true),
  },
  'GET /api/v1/disclosures/:id/response': {
    // No response built (open): hq is allowed and told so; the download itself is tested in disclosures.test.ts.
    req: (f) => ({ method: 'GET', path: `/api/v1/disclosures/${f.disclosureA}/response` }),
    expect: forUsers(403, { hq: 409 }),
    before: (f, c) => openDisclosure(f, c),
  },
  'POST /api/v1/disclosures/:id/sent': {
    req: (f) => ({ method: 'POST', path: `/api/v1/disclosures/${f.disclosureA}/sent`, body: { method: '簡易書留で郵送' } }),
    expect: forUsers(403, { hq: 200 }),
    before: async (f, c) => {
      await c.db.updateTable('disclosureRequest').set({ status: 'ready', sentAt: null, responseObjectKey: 'disclosures/matrix.zip', responseSha256: Buffer.alloc(32) }).where('id', '=', f.disclosureA).execute();
    },
  },

  'GET /api/v1/audit/events': { req: () => ({ method: 'GET', path: '/api/v1/audit/events?limit=5' }), expect: onlyAuditor(200) },
  'GET /api/v1/audit/verify': { req: () => ({ method: 'GET', path: '/api/v1/audit/verify' }), expect: onlyAuditor(200) },
};

/** `use()` middleware mounts appear in the route table as method ALL; any other ALL route must be added here with a reason. */
const MIDDLEWARE_MOUNTS = new Set(['/*', '/api/v1/*', '/api/v1/agent/cameras/*', '/api/v1/agent/segments/*', '/api/v1/agent/gaps', '/api/v1/agent/heartbeat', '/api/v1/agent/calls/*', '/api/v1/agent/commands/*']);

describe('authorization matrix', () => {
  let centre: TestCentre;
  let f: Fixture;
  const sessions = new Map<Who, string>();
  let counter = 0;

  before(async () => {
    centre = await startCentre();
    const a = await centre.createSite();
    const b = await centre.createSite();
    const agentOwn = (await centre.enrollAgent(a.token)).credential;
    const agentOther = (await centre.enrollAgent(b.token)).credential;
    const cam = await fetch(`${centre.url}/api/v1/agent/cameras/camA`, { method: 'PUT', headers: { authorization: `Bearer ${agentOwn}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'camA', place: 'レジ1' }) });
    assert.equal(cam.status, 200);
    const cameraA = ((await cam.json()) as { cameraId: string }).cameraId;
    const body = randomBytes(4096);
    const seg = await fetch(`${centre.url}/api/v1/agent/segments/camA/2026-11-24T00:00:00.000Z`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentOwn}`, 'content-type': 'video/mp2t', 'x-segment-sha256': createHash('sha256').update(body).digest('hex'), 'x-segment-size': String(body.length), 'x-segment-duration-ms': '10000' },
      body,
    });
    assert.equal(seg.status, 201);
    const segmentA = ((await seg.json()) as { segmentId: string }).segmentId;
    const calls = agentClient(() => centre.url, agentOwn);
    const v = await calls.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(v.status, 201);
    const callA = ((await v.json()) as { callId: string }).callId;
    const rec = await calls.putRecording(FIXTURE_CALL_KEY, FIXTURE_FILES[0]!.name, FIXTURE_FILES[0]!.bytes);
    assert.equal(rec.status, 201);
    const recBody = (await rec.json()) as { recordingId: string; derive: { jobId: string | null } };
    const recordingA = recBody.recordingId;
    const jobA = recBody.derive.jobId!;
    const users = {
      sm_own: (await centre.createUser({ role: 'store_manager', siteIds: [a.siteId] })).id,
      sm_other: (await centre.createUser({ role: 'store_manager', siteIds: [b.siteId] })).id,
      sec_assigned: (await centre.createUser({ role: 'security', siteIds: [a.siteId, b.siteId] })).id,
      sec_unassigned: (await centre.createUser({ role: 'security', siteIds: [b.siteId] })).id,
      hq: (await centre.createUser({ role: 'hq' })).id,
      auditor: (await centre.createUser({ role: 'auditor' })).id,
      admin: (await centre.createUser({ role: 'admin' })).id,
    };
    const targetUser = (await centre.createUser({ role: 'store_manager', siteIds: [a.siteId] })).id;
    const loginUser = (await centre.createUser({ role: 'security', siteIds: [b.siteId] })).login;
    for (const w of USERS) sessions.set(w, await centre.sessionCookie(users[w as keyof typeof users]));
    const filed = await fetch(`${centre.url}/api/v1/incidents`, { method: 'POST', headers: { cookie: sessions.get('hq')!, 'content-type': 'application/json' }, body: JSON.stringify({ callId: callA, title: '暴言', category: 'verbal_abuse' }) });
    assert.equal(filed.status, 201);
    const filedBody = (await filed.json()) as { incident: { id: string }; linked: { windows: { commandId: string | null }[] } };
    const commandA = filedBody.linked.windows.find((w) => w.commandId)!.commandId!;
    const packRes = await fetch(`${centre.url}/api/v1/incidents/${filedBody.incident.id}/packs`, {
      method: 'POST',
      headers: { cookie: sessions.get('hq')!, 'content-type': 'application/json' },
      body: JSON.stringify({ purpose: 'police_request', reference: '捜査関係事項照会書 第0号', legalBasis: '刑事訴訟法第197条第2項' }),
    });
    assert.equal(packRes.status, 202, await packRes.clone().text());
    const packA = ((await packRes.json()) as { pack: { id: string } }).pack.id;
    const disc = await fetch(`${centre.url}/api/v1/disclosures`, {
      method: 'POST',
      headers: { cookie: sessions.get('hq')!, 'content-type': 'application/json' },
      body: JSON.stringify(disclosureBody('0312345678')),
    });
    assert.equal(disc.status, 201);
    const discBody = (await disc.json()) as { id: string; items: { id: string; recording: { id: string } | null }[] };
    const disclosureItemA = discBody.items.find((i) => i.recording?.id === recordingA)?.id;
    assert.ok(disclosureItemA, 'the disclosure request found recordingA');
    f = { siteA: a.siteId, siteB: b.siteId, cameraA, segmentA, callA, recordingA, jobA, targetUser, loginUser, users, agentOwn, agentOther, incidentA: filedBody.incident.id, commandA, windowId: '', bookmarkId: '', tokenId: '', spareAgentId: '', disclosureA: discBody.id, disclosureItemA, packA };
  });
  after(() => centre.close());

  async function call(entry: Entry, who: Who): Promise<Response> {
    const r = entry.req(f, ++counter);
    const headers: Record<string, string> = { ...r.headers };
    if ((USERS as readonly string[]).includes(who)) {
      const uid = f.users[who as keyof Fixture['users']];
      headers.cookie = entry.freshSession ? await centre.sessionCookie(uid) : sessions.get(who)!;
    }
    if (who === 'agent_own') headers.authorization = `Bearer ${f.agentOwn}`;
    if (who === 'agent_other') headers.authorization = `Bearer ${f.agentOther}`;
    if (who === 'admin_token') headers.authorization = `Bearer ${centre.adminToken}`;
    let body: RequestInit['body'];
    if (r.rawBody) body = r.rawBody;
    else if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(r.body);
    }
    return fetch(`${centre.url}${r.path}`, { method: r.method, headers, body });
  }

  const auditCount = async () => Number((await centre.db.selectFrom('auditEvent').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('every route in the app has an entry, and every entry is a route', () => {
    const routes = new Set<string>();
    for (const r of centre.app.routes) {
      if (r.method === 'ALL') {
        assert.ok(MIDDLEWARE_MOUNTS.has(r.path), `ALL ${r.path} is not a known middleware mount: give it an EXPECT entry (and a method) or list it`);
        continue;
      }
      routes.add(`${r.method} ${r.path}`);
    }
    const missing = [...routes].filter((k) => !(k in EXPECT));
    assert.deepEqual(missing, [], `routes without an authorization expectation: ${missing.join(', ')}`);
    const stale = Object.keys(EXPECT).filter((k) => !routes.has(k));
    assert.deepEqual(stale, [], `expectations for routes that do not exist: ${stale.join(', ')}`);
  });

  for (const [route, entry] of Object.entries(EXPECT)) {
    test(route, async () => {
      const problems: string[] = [];
      for (const who of WHO) {
        await entry.before?.(f, centre);
        const before = await auditCount();
        const r = await call(entry, who);
        const text = await r.text();
        if (r.status !== entry.expect[who]) {
          problems.push(`${who}: expected ${entry.expect[who]}, got ${r.status} ${text.slice(0, 160)}`);
          continue;
        }
        if (r.status >= 400 && entry.htmlPage) {
          if (!r.headers.get('content-type')?.startsWith('text/html')) problems.push(`${who}: ${r.status} is not an HTML page: ${r.headers.get('content-type')}`);
        } else if (r.status >= 400) {
          const err = (JSON.parse(text) as { error?: { code?: string; requestId?: string } }).error;
          if (!err?.code || !err.requestId) problems.push(`${who}: ${r.status} without the error shape: ${text.slice(0, 120)}`);
        } else if (!entry.notAudited && (await auditCount()) <= before) {
          problems.push(`${who}: ${r.status} but no audit event was written`);
        }
      }
      assert.deepEqual(problems, [], `${route}\n  ${problems.join('\n  ')}`);
    });
  }

  test('an unknown path or method is a plain 404 for everyone; a known one is gated before anything else', async () => {
    for (const headers of [{}, { cookie: sessions.get('hq')! }] as Record<string, string>[]) {
      for (const [method, path] of [['GET', '/api/v1/no-such-thing'], ['DELETE', '/api/v1/cameras'], ['GET', '/api/v1/cameras/x/y/z']]) {
        const r = await fetch(`${centre.url}${path}`, { method, headers });
        assert.equal(r.status, 404, `${method} ${path}`);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'route_not_found');
      }
    }
    const gated = await fetch(`${centre.url}/api/v1/cameras/not-a-uuid/timeline?from=x`);
    assert.equal(gated.status, 401, 'authentication comes before validation');
  });

  test('lists are scoped: each person sees only the cameras and sites their role covers', async () => {
    const cams = async (who: Who) =>
      ((await (await fetch(`${centre.url}/api/v1/cameras`, { headers: { cookie: sessions.get(who)! } })).json()) as { cameras: { id: string; siteId: string }[] }).cameras;
    const sites = async (who: Who) => ((await (await fetch(`${centre.url}/api/v1/sites`, { headers: { cookie: sessions.get(who)! } })).json()) as { sites: { id: string }[] }).sites.map((x) => x.id).sort();
    assert.ok((await cams('sm_own')).some((c) => c.id === f.cameraA));
    assert.ok((await cams('sm_own')).every((c) => c.siteId === f.siteA));
    assert.ok(!(await cams('sm_other')).some((c) => c.id === f.cameraA));
    assert.ok((await cams('sm_other')).every((c) => c.siteId === f.siteB));
    assert.ok(!(await cams('sec_unassigned')).some((c) => c.siteId === f.siteA));
    assert.deepEqual([...new Set((await cams('hq')).map((c) => c.siteId))].sort(), [f.siteA, f.siteB].sort());
    assert.deepEqual(await sites('sm_own'), [f.siteA]);
    assert.deepEqual(await sites('sec_assigned'), [f.siteA, f.siteB].sort());
    // hq and admin list every site (the matrix's POST /sites entry made more than A and B).
    const everySite = (await centre.db.selectFrom('site').select('id').execute()).map((x) => x.id).sort();
    assert.ok(everySite.includes(f.siteA) && everySite.includes(f.siteB));
    assert.deepEqual(await sites('hq'), everySite);
    assert.deepEqual(await sites('admin'), everySite);
    const calls = async (who: Who, q = '') => ((await (await fetch(`${centre.url}/api/v1/calls${q}`, { headers: { cookie: sessions.get(who)! } })).json()) as { calls: { id: string }[] }).calls.map((c) => c.id);
    assert.ok((await calls('sm_own')).includes(f.callA));
    assert.ok(!(await calls('sm_other')).includes(f.callA));
    assert.ok(!(await calls('sm_other', `?site=${f.siteA}`)).includes(f.callA), "asking for another site's calls gives none of them");
    assert.ok((await calls('hq')).includes(f.callA));
    const byQuery = await fetch(`${centre.url}/api/v1/cameras?siteId=${f.siteA}`, { headers: { cookie: sessions.get('sm_other')! } });
    assert.deepEqual(((await byQuery.json()) as { cameras: unknown[] }).cameras, [], "asking for another site's cameras by id gives nothing");
  });

  test('a 404 for another site is exactly the 404 for a missing camera or segment', async () => {
    const missingCam = '00000000-0000-4000-8000-000000000000';
    const pairs: [string, string][] = [
      [`/api/v1/cameras/${f.cameraA}`, `/api/v1/cameras/${missingCam}`],
      [`/api/v1/cameras/${f.cameraA}/timeline?${RANGE}`, `/api/v1/cameras/${missingCam}/timeline?${RANGE}`],
      [`/api/v1/cameras/${f.cameraA}/playlist.m3u8?${RANGE}`, `/api/v1/cameras/${missingCam}/playlist.m3u8?${RANGE}`],
      [`/api/v1/media/segments/${f.segmentA}`, '/api/v1/media/segments/999999999'],
      [`/api/v1/calls/${f.callA}`, `/api/v1/calls/${missingCam}`],
      [`/api/v1/media/recordings/${f.recordingA}/original`, `/api/v1/media/recordings/${missingCam}/original`],
      [`/api/v1/incidents/${f.incidentA}`, `/api/v1/incidents/${missingCam}`],
      [`/api/v1/incidents/${f.incidentA}/timeline`, `/api/v1/incidents/${missingCam}/timeline`],
      [`/api/v1/incidents/${f.incidentA}/history`, `/api/v1/incidents/${missingCam}/history`],
    ];
    for (const [other, missing] of pairs) {
      const a = await fetch(`${centre.url}${other}`, { headers: { cookie: sessions.get('sm_other')! } });
      const b = await fetch(`${centre.url}${missing}`, { headers: { cookie: sessions.get('sm_other')! } });
      assert.equal(a.status, 404);
      assert.equal(b.status, 404);
      const [ea, eb] = [((await a.json()) as { error: { code: string; message: string } }).error, ((await b.json()) as { error: { code: string; message: string } }).error];
      assert.deepEqual({ code: ea.code, message: ea.message }, { code: eb.code, message: eb.message }, other);
    }
  });

  test('playlist links play without a session, are not tied to the scope check again, and a forged or expired link is refused', async () => {
    const pl = await fetch(`${centre.url}/api/v1/cameras/${f.cameraA}/playlist.m3u8?${RANGE}`, { headers: { cookie: sessions.get('sec_assigned')! } });
    assert.equal(pl.status, 200);
    const uri = (await pl.text()).split('\n').find((l) => l.startsWith('/api/v1/media/'))!;
    const media = await fetch(`${centre.url}${uri}`);
    assert.equal(media.status, 200);
    assert.equal(Buffer.from(await media.arrayBuffer()).length, 4096);
    const deadCookie = `${centre.cookieName}=${'A'.repeat(43)}`;
    const withDeadSession = await fetch(`${centre.url}${uri}`, { headers: { cookie: deadCookie } });
    assert.equal(withDeadSession.status, 200, 'an ended session does not break a valid media link');
    assert.equal((await fetch(`${centre.url}/api/v1/media/segments/${f.segmentA}`, { headers: { cookie: deadCookie } })).status, 403, 'but gives no access without one');
    const forged = await fetch(`${centre.url}${uri.replace(/sig=[^&]+/, 'sig=AAAA')}`);
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { error: { code: string } }).error.code, 'media_link_invalid');
    const events = await centre.db.selectFrom('auditEvent').select(['actorId', 'siteId', 'targetId', 'details']).where('action', '=', 'footage.playlist').execute();
    assert.ok(events.some((e) => e.actorId === f.users.sec_assigned && e.siteId === f.siteA && e.targetId === f.cameraA), 'the playback is attributed to the person and the site');
  });
});

describe('without ADMIN_TOKEN (production default)', () => {
  let centre: TestCentre;
  before(async () => {
    centre = await startCentre({ adminToken: null });
  });
  after(() => centre.close());

  test('a bearer token opens nothing that needs a session', async () => {
    for (const path of ['/api/v1/cameras', '/api/v1/sites', '/api/v1/audit/events']) {
      const r = await fetch(`${centre.url}${path}`, { headers: { authorization: `Bearer ${'x'.repeat(40)}` } });
      assert.equal(r.status, 401, path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'authentication_required');
    }
  });
});
