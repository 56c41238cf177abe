import { createRoute, z } from '@hono/zod-openapi';
import { ARRIVAL_STATES, CALL_LINK_SOURCES, COMMAND_STATUSES, HOLD_KINDS, WINDOW_LINK_SOURCES } from '@mamoru/contract/enums';
import { CATEGORIES, CATEGORY_LABELS, SEVERITIES, SEVERITY_LABELS, STATUSES, STATUS_LABELS } from '../domain/incident.ts';
import { errorResponses, IdParam, iso, IsoDate, json, jsonBody, router, sessionSecurity, Uuid } from '../http/openapi.ts';
import type { CommandRow } from '../repositories/agent-command.repository.ts';
import type { CallRow } from '../repositories/call.repository.ts';
import type { BookmarkRow, CallLinkRow, HoldRow, IncidentEventRow, IncidentRow, NoteRow } from '../repositories/incident.repository.ts';
import type { IncidentQueryService, RepeatCaller, WindowView } from '../services/incident-query.service.ts';
import type { IncidentService } from '../services/incident.service.ts';

const Span = z.object({ from: z.string(), to: z.string() });
const Link = z.object({ url: z.string(), expiresAt: z.string() });

// ---- schemas --------------------------------------------------------------------------------------------------

const Staff = z.object({ name: z.string().trim().min(1).max(200), role: z.string().max(100).nullable().default(null), extension: z.string().max(32).nullable().default(null) }).strict();
const WindowBody = z.object({ from: IsoDate, to: IsoDate }).strict();

const Incident = z
  .object({
    id: z.string(),
    caseNumber: z.string().openapi({ example: 'SHIBUYA-2026-0001' }),
    site: z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }),
    title: z.string(),
    category: z.enum(CATEGORIES),
    categoryLabel: z.string().openapi({ example: '暴言' }),
    severity: z.enum(SEVERITIES),
    severityLabel: z.string(),
    status: z.enum(STATUSES),
    statusLabel: z.string(),
    window: Span,
    margins: z.object({ beforeSeconds: z.number(), afterSeconds: z.number() }),
    linkedSpan: Span.openapi({ description: 'the window widened by the margins: what filing linked' }),
    narrative: z.string(),
    involvedStaff: z.array(z.object({ name: z.string(), role: z.string().nullable(), extension: z.string().nullable() })),
    reporter: z.object({ id: z.string(), login: z.string(), displayName: z.string() }).nullable(),
    createdBy: z.string(),
    legalHold: z.object({ active: z.boolean(), reason: z.string().nullable(), placedBy: z.string().nullable(), placedAt: z.string().nullable() }),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    version: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Incident');

const incidentJson = (i: IncidentRow) => ({
  id: i.id,
  caseNumber: i.caseNumber,
  site: { id: i.siteId, code: i.siteCode, name: i.siteName, timezone: i.timezone },
  title: i.title,
  category: i.category,
  categoryLabel: CATEGORY_LABELS[i.category],
  severity: i.severity,
  severityLabel: SEVERITY_LABELS[i.severity],
  status: i.status,
  statusLabel: STATUS_LABELS[i.status],
  window: { from: i.windowStart.toISOString(), to: i.windowEnd.toISOString() },
  margins: { beforeSeconds: i.marginBeforeS, afterSeconds: i.marginAfterS },
  linkedSpan: { from: new Date(i.windowStart.getTime() - i.marginBeforeS * 1000).toISOString(), to: new Date(i.windowEnd.getTime() + i.marginAfterS * 1000).toISOString() },
  narrative: i.narrative,
  involvedStaff: i.involvedStaff.map((s) => ({ name: s.name, role: s.role ?? null, extension: s.extension ?? null })),
  reporter: i.reporter,
  createdBy: i.createdBy,
  legalHold: { active: i.legalHold !== null, reason: i.legalHold?.reason ?? null, placedBy: i.legalHold?.by ?? null, placedAt: iso(i.legalHold?.at ?? null) },
  closedAt: iso(i.closedAt),
  closedBy: i.closedBy,
  version: i.version,
  createdAt: i.createdAt.toISOString(),
  updatedAt: i.updatedAt.toISOString(),
});

const Command = z.object({ id: z.string(), status: z.enum(COMMAND_STATUSES), createdAt: z.string(), deliveredAt: z.string().nullable(), completedAt: z.string().nullable(), detail: z.string().nullable() });
const commandJson = (c: CommandRow | null) => c && { id: c.id, status: c.status, createdAt: c.createdAt.toISOString(), deliveredAt: iso(c.deliveredAt), completedAt: iso(c.completedAt), detail: c.detail };

const Arrival = z
  .object({
    state: z.enum(ARRIVAL_STATES),
    segments: z.object({ total: z.number(), stored: z.number(), metadataOnly: z.number(), deleted: z.number() }),
    storedMs: z.number(),
    metadataOnlyMs: z.number(),
    deletedMs: z.number().openapi({ description: 'known footage whose media the retention policy deleted before the case held it' }),
    gapMs: z.number(),
    missingMs: z.number(),
    futureMs: z.number(),
    stored: z.array(Span).openapi({ description: 'stretches whose media is at the centre (segments closer than 500 ms joined)' }),
    atStore: z.array(Span).openapi({ description: 'stretches known from segment metadata whose media is still at the store' }),
    deleted: z.array(Span).openapi({ description: 'stretches whose media was deleted by the retention policy (reason deleted_by_retention); the rows and edge hashes stay' }),
    missing: z.array(Span),
    gaps: z.array(Span.extend({ reason: z.string(), detail: z.string().nullable() })),
  })
  .openapi('WindowArrival', { description: 'what of the window is at the centre, still at the store, a reported gap, or not known yet' });

const CameraWindow = z
  .object({
    id: z.string(),
    camera: z.object({ id: z.string(), key: z.string(), name: z.string(), place: z.string().nullable(), uploadMode: z.string() }),
    from: z.string(),
    to: z.string(),
    source: z.enum(WINDOW_LINK_SOURCES),
    linkedBy: z.string(),
    linkedAt: z.string(),
    arrival: Arrival,
    preserveCommand: Command.nullable(),
  })
  .openapi('IncidentCameraWindow');
const windowJson = (w: WindowView) => ({
  id: w.id,
  camera: { id: w.cameraId, key: w.camera.key, name: w.camera.name, place: w.camera.place, uploadMode: w.camera.uploadMode },
  from: w.start.toISOString(),
  to: w.end.toISOString(),
  source: w.source,
  linkedBy: w.linkedBy,
  linkedAt: w.linkedAt.toISOString(),
  arrival: {
    state: w.state,
    segments: { total: w.arrival.segmentCount, stored: w.arrival.storedCount, metadataOnly: w.arrival.metadataOnlyCount, deleted: w.arrival.deletedCount },
    storedMs: w.arrival.storedMs,
    metadataOnlyMs: w.arrival.metadataOnlyMs,
    deletedMs: w.arrival.deletedMs,
    gapMs: w.arrival.gapMs,
    missingMs: w.arrival.missingMs,
    futureMs: w.arrival.futureMs,
    stored: w.arrival.storedSpans.map((m) => ({ from: new Date(m.start).toISOString(), to: new Date(m.end).toISOString() })),
    atStore: w.arrival.atStoreSpans.map((m) => ({ from: new Date(m.start).toISOString(), to: new Date(m.end).toISOString() })),
    deleted: w.arrival.deletedSpans.map((m) => ({ from: new Date(m.start).toISOString(), to: new Date(m.end).toISOString() })),
    missing: w.arrival.missing.map((m) => ({ from: new Date(m.start).toISOString(), to: new Date(m.end).toISOString() })),
    gaps: w.gaps.map((g) => ({ from: g.start.toISOString(), to: g.end.toISOString(), reason: g.reason, detail: g.detail })),
  },
  preserveCommand: commandJson(w.command),
});

const LinkedCall = z
  .object({
    id: z.string(),
    link: z.object({ source: z.enum(CALL_LINK_SOURCES), linkedBy: z.string(), linkedAt: z.string() }),
    startUtc: z.string(),
    answerUtc: z.string().nullable(),
    endUtc: z.string(),
    durationS: z.number(),
    direction: z.string(),
    disposition: z.string(),
    caller: z.object({ number: z.string().nullable(), name: z.string().nullable(), e164: z.string().nullable() }),
    called: z.object({ number: z.string().nullable(), e164: z.string().nullable() }),
    operator: z.object({ extension: z.string(), name: z.string().nullable(), source: z.string().nullable() }).nullable(),
    notice: z.string(),
    recordingCount: z.number(),
  })
  .openapi('IncidentCall');
const callJson = (l: CallLinkRow, c: CallRow) => ({
  id: c.id,
  link: { source: l.source, linkedBy: l.linkedBy, linkedAt: l.linkedAt.toISOString() },
  startUtc: c.startAt.toISOString(),
  answerUtc: iso(c.answerAt),
  endUtc: c.endAt.toISOString(),
  durationS: c.durationS,
  direction: c.direction,
  disposition: c.disposition,
  caller: c.caller,
  called: c.called,
  operator: c.operator,
  notice: c.notice.played,
  recordingCount: c.recordingCount,
});

const Note = z.object({ id: z.string(), body: z.string(), authorId: z.string(), authorLabel: z.string().nullable(), createdAt: z.string() }).openapi('IncidentNote');
const noteJson = (n: NoteRow) => ({ ...n, createdAt: n.createdAt.toISOString() });
const Bookmark = z
  .object({ id: z.string(), at: z.string(), cameraId: z.string().nullable(), callId: z.string().nullable(), note: z.string(), createdBy: z.string(), createdByLabel: z.string().nullable(), createdAt: z.string() })
  .openapi('IncidentBookmark');
const bookmarkJson = (b: BookmarkRow) => ({ ...b, at: b.at.toISOString(), createdAt: b.createdAt.toISOString() });
const Hold = z
  .object({
    id: z.string(),
    kind: z.enum(HOLD_KINDS),
    cameraId: z.string().nullable(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    callId: z.string().nullable(),
    reason: z.string(),
    placedBy: z.string(),
    placedAt: z.string(),
    expiresAt: z.string().nullable(),
    active: z.boolean(),
    releasedAt: z.string().nullable(),
    releasedBy: z.string().nullable(),
    releaseReason: z.string().nullable(),
  })
  .openapi('EvidenceHold');
const holdJson = (h: HoldRow) => ({
  id: h.id,
  kind: h.kind,
  cameraId: h.cameraId,
  from: iso(h.start),
  to: iso(h.end),
  callId: h.callId,
  reason: h.reason,
  placedBy: h.placedBy,
  placedAt: h.placedAt.toISOString(),
  expiresAt: iso(h.expiresAt),
  active: h.releasedAt === null,
  releasedAt: iso(h.releasedAt),
  releasedBy: h.releasedBy,
  releaseReason: h.releaseReason,
});
const RepeatCallers = z.array(
  z.object({
    caller: z.object({ number: z.string().nullable(), e164: z.string().nullable() }),
    linkedCallIds: z.array(z.string()),
    matches: z.array(
      z.object({
        callId: z.string(),
        site: z.object({ id: z.string(), code: z.string(), name: z.string() }),
        startUtc: z.string(),
        endUtc: z.string(),
        direction: z.string(),
        disposition: z.string(),
        callerNumber: z.string().nullable(),
        callerE164: z.string().nullable(),
        operator: z.object({ extension: z.string().nullable(), name: z.string().nullable() }),
      }),
    ),
  }),
);
const repeatJson = (xs: RepeatCaller[]) =>
  xs.map((r) => ({
    caller: r.caller,
    linkedCallIds: r.linkedCallIds,
    matches: r.matches.map((m) => ({
      callId: m.callId,
      site: { id: m.siteId, code: m.siteCode, name: m.siteName },
      startUtc: m.startAt.toISOString(),
      endUtc: m.endAt.toISOString(),
      direction: m.direction,
      disposition: m.disposition,
      callerNumber: m.callerNumber,
      callerE164: m.callerE164,
      operator: { extension: m.operatorExtension, name: m.operatorName },
    })),
  }));

const Detail = Incident.extend({
  allowedTransitions: z.array(z.enum(STATUSES)).openapi({ description: 'statuses this viewer may move the case to now' }),
  calls: z.array(LinkedCall),
  cameraWindows: z.array(CameraWindow),
  notes: z.array(Note),
  bookmarks: z.array(Bookmark),
  holds: z.array(Hold),
  repeatCallers: RepeatCallers.openapi({ description: "calls from a linked caller's number at other sites the viewer covers" }),
}).openapi('IncidentDetail');

const LinkOutcome = z.object({
  calls: z.array(z.string()),
  windows: z.array(z.object({ id: z.string(), cameraId: z.string(), cameraKey: z.string(), from: z.string(), to: z.string(), commandId: z.string().nullable(), deletedCount: z.number().openapi({ description: "segments of the window whose media the retention policy had deleted before the case held it" }) })),
  holds: z.number(),
});

const RecordingOut = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  durationS: z.number().nullable(),
  sha256: z.string(),
  stored: z.boolean(),
  original: Link.nullable(),
  playable: Link.extend({ mediaType: z.string(), durationS: z.number() }).nullable(),
  waveform: Link.extend({ bucketMs: z.number() }).nullable(),
  derive: z.string(),
});

const Timeline = z
  .object({
    incident: Incident,
    timezone: z.string().openapi({ description: "the site's IANA time zone: show every time of the case in it", example: 'Asia/Tokyo' }),
    caseWindow: Span,
    range: Span.openapi({ description: 'from the earliest to the latest moment of anything linked: the extent of the shared clock' }),
    cameraWindows: z.array(CameraWindow.extend({ playlistUrl: z.string().openapi({ description: "the camera's HLS playlist route for exactly this window (session; audited as playback)" }), playable: z.boolean() })),
    calls: z.array(LinkedCall.extend({ recordings: z.array(RecordingOut) })),
    bookmarks: z.array(Bookmark),
    linksExpireAt: z.string(),
  })
  .openapi('IncidentTimeline');

const Event = z.object({ id: z.string(), at: z.string(), actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }), action: z.string(), changes: z.unknown() });
const eventJson = (e: IncidentEventRow) => ({ id: e.id, at: e.at.toISOString(), actor: { type: e.actorType, id: e.actorId, label: e.actorLabel }, action: e.action, changes: e.changes });

// ---- request bodies -----------------------------------------------------------------------------------------------

const FileBody = z
  .object({
    siteId: Uuid.optional(),
    callId: Uuid.optional().openapi({ description: "file from a call: its site, and its start and end as the case window unless `window` is given" }),
    window: WindowBody.optional(),
    marginBeforeSeconds: z.number().int().optional().openapi({ description: 'default INCIDENT_MARGIN_BEFORE_SECONDS (300); at most INCIDENT_MAX_MARGIN_SECONDS' }),
    marginAfterSeconds: z.number().int().optional(),
    title: z.string().max(200),
    category: z.enum(CATEGORIES),
    severity: z.enum(SEVERITIES).default('medium'),
    narrative: z.string().max(20000).optional(),
    involvedStaff: z.array(Staff).max(50).optional(),
    status: z.enum(['draft', 'open']).default('open'),
  })
  .strict();
const PatchBody = z
  .object({
    title: z.string().max(200).optional(),
    category: z.enum(CATEGORIES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    narrative: z.string().max(20000).optional(),
    window: WindowBody.optional(),
    involvedStaff: z.array(Staff).max(50).optional(),
    expectedVersion: z.number().int().positive().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'expectedVersion'), 'nothing to change');
const StatusBody = z.object({ status: z.enum(STATUSES), note: z.string().max(2000).optional(), expectedVersion: z.number().int().positive().optional() }).strict();
const ReasonBody = z.object({ reason: z.string().max(2000).default('') }).strict();
const UnlinkQuery = z.object({ reason: z.string().max(500).optional() });

/** `site=a,b` or `site=a&site=b`. */
const SiteList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(Uuid).max(500))
  .openapi({ type: 'string', description: 'site id(s): comma separated or repeated' });

/** Cases (incidents): people's sessions; the services check the role and the site scope. See docs/api-incidents.md. */
export function incidentRoutes(deps: { incidents: IncidentService; query: IncidentQueryService }) {
  const app = router();
  const { incidents, query } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents',
      summary: 'Cases the caller may see, newest filed first, by cursor',
      security: sessionSecurity,
      request: {
        query: z.object({
          site: SiteList.optional(),
          status: z.enum(STATUSES).optional(),
          category: z.enum(CATEGORIES).optional(),
          from: IsoDate.optional(),
          to: IsoDate.optional(),
          reporter: Uuid.optional().openapi({ description: 'id of the person who filed' }),
          caseNumber: z.string().trim().min(1).max(40).optional().openapi({ description: 'part of the case number, any case' }),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: json(z.object({ incidents: z.array(Incident), nextCursor: z.string().nullable() })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { reporter, ...rest } = q;
      const r = await query.list(c.get('principal'), { ...rest, reporterId: reporter, siteIds: q.site });
      return c.json({ incidents: r.incidents.map(incidentJson), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents',
      summary: "File a case from a call or a time window; links and holds the site's calls and camera windows around it",
      security: sessionSecurity,
      request: { body: jsonBody(FileBody) },
      responses: { 201: json(z.object({ incident: Incident, linked: LinkOutcome })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const r = await incidents.file(c.get('principal'), c.req.valid('json'));
      return c.json({ incident: incidentJson(r.incident), linked: r.linked }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}',
      summary: 'One case: links with arrival per camera window, notes, bookmarks, holds, repeat-caller matches',
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(Detail), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const d = await query.detail(c.get('principal'), c.req.valid('param').id);
      return c.json(
        {
          ...incidentJson(d.incident),
          allowedTransitions: d.allowedTransitions,
          calls: d.calls.map((x) => callJson(x.link, x.call)),
          cameraWindows: d.windows.map(windowJson),
          notes: d.notes.map(noteJson),
          bookmarks: d.bookmarks.map(bookmarkJson),
          holds: d.holds.map(holdJson),
          repeatCallers: repeatJson(d.repeatCallers),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/incidents/{id}',
      summary: "Edit a case's title, category, severity, narrative, window or involved staff (kept in its history)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(PatchBody) },
      responses: { 200: json(z.object({ incident: Incident, changed: z.array(z.string()) })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      return c.json({ incident: incidentJson(r.incident), changed: r.changed }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/history',
      summary: "The case's change history: who changed what, before and after",
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(z.object({ incidentId: z.string(), caseNumber: z.string(), events: z.array(Event) })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const h = await query.history(c.get('principal'), c.req.valid('param').id);
      return c.json({ incidentId: h.incident.id, caseNumber: h.incident.caseNumber, events: h.events.map(eventJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/timeline',
      summary: 'Everything to play the case on one clock: camera windows (HLS), calls (audio, waveform), bookmarks, arrival, time zone',
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(Timeline), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const t = await query.timeline(c.get('principal'), c.req.valid('param').id);
      const i = t.incident;
      return c.json(
        {
          incident: incidentJson(i),
          timezone: i.timezone,
          caseWindow: { from: i.windowStart.toISOString(), to: i.windowEnd.toISOString() },
          range: { from: t.range.start.toISOString(), to: t.range.end.toISOString() },
          cameraWindows: t.windows.map((w) => ({ ...windowJson(w), playlistUrl: w.playlistUrl, playable: w.playable })),
          calls: t.calls.map((x) => ({
            ...callJson(x.link, x.call),
            recordings: x.recordings.map(({ recording: r, original, playable, waveform }) => ({
              id: r.id,
              name: r.name,
              role: r.role,
              durationS: r.durationS,
              sha256: r.sha256,
              stored: r.objectKey !== null,
              original: original && { url: original.url, expiresAt: original.expiresAt.toISOString() },
              playable: playable && r.playable && { url: playable.url, expiresAt: playable.expiresAt.toISOString(), mediaType: r.playable.mediaType, durationS: r.playable.durationS },
              waveform: waveform && r.waveform && { url: waveform.url, expiresAt: waveform.expiresAt.toISOString(), bucketMs: r.waveform.bucketMs },
              derive: r.derive.status,
            })),
          })),
          bookmarks: t.bookmarks.map(bookmarkJson),
          linksExpireAt: t.linksExpireAt.toISOString(),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/status',
      summary: 'Move a case to another status (allowed moves depend on the status and the role); closing starts the retention clock of its incident holds',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(StatusBody) },
      responses: { 200: json(z.object({ incident: Incident, from: z.enum(STATUSES), to: z.enum(STATUSES), incidentHoldsExpireAt: z.string().nullable() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const r = await incidents.setStatus(c.get('principal'), c.req.valid('param').id, b.status, { note: b.note, expectedVersion: b.expectedVersion });
      return c.json({ incident: incidentJson(r.incident), from: r.from, to: r.to, incidentHoldsExpireAt: iso(r.incidentHoldsExpireAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/calls',
      summary: "Link a call of the case's site (held at once)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ callId: Uuid }).strict()) },
      responses: { 201: json(z.object({ callId: z.string(), holds: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(await incidents.linkCall(c.get('principal'), c.req.valid('param').id, c.req.valid('json').callId), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/calls/{callId}',
      summary: "Unlink a call; releases the case's incident hold on it (refused under legal hold)",
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, callId: Uuid }), query: UnlinkQuery },
      responses: { 200: json(z.object({ callId: z.string(), holdsReleased: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.unlinkCall(c.get('principal'), p.id, p.callId, c.req.valid('query').reason), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/camera-windows',
      summary: "Link a window of one of the site's cameras (held at once; the store's agent is asked for footage not at the centre)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ cameraId: Uuid, from: IsoDate, to: IsoDate }).strict()) },
      responses: {
        201: json(z.object({ id: z.string(), cameraId: z.string(), cameraKey: z.string(), from: z.string(), to: z.string(), commandId: z.string().nullable(), holds: z.number(), missingMs: z.number(), metadataOnlyCount: z.number() })),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await incidents.linkWindow(c.get('principal'), c.req.valid('param').id, b), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/camera-windows/{windowId}',
      summary: "Unlink a camera window; releases the case's incident hold on it and closes its open preserve command (refused under legal hold)",
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, windowId: Uuid }), query: UnlinkQuery },
      responses: { 200: json(z.object({ windowId: z.string(), holdsReleased: z.number(), commandCancelled: z.boolean() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.unlinkWindow(c.get('principal'), p.id, p.windowId, c.req.valid('query').reason), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/notes',
      summary: 'Add a note to a case (notes are kept; they are not edited)',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ body: z.string().max(10000) }).strict()) },
      responses: { 201: json(Note), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(noteJson(await incidents.addNote(c.get('principal'), c.req.valid('param').id, c.req.valid('json').body)), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/bookmarks',
      summary: 'Mark a moment: on a linked camera, a linked call, or the case clock, with a note',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ at: IsoDate, cameraId: Uuid.optional(), callId: Uuid.optional(), note: z.string().max(2000).optional() }).strict()) },
      responses: { 201: json(Bookmark), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(bookmarkJson(await incidents.addBookmark(c.get('principal'), c.req.valid('param').id, c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/bookmarks/{bookmarkId}',
      summary: 'Remove a bookmark (the history keeps it)',
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, bookmarkId: Uuid }) },
      responses: { 200: json(z.object({ bookmarkId: z.string() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.removeBookmark(c.get('principal'), p.id, p.bookmarkId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/legal-hold',
      summary: "hq: place a legal hold on the case with a reason (every linked window and call, never expiring until released)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: { 200: json(z.object({ incident: Incident, holds: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.placeLegalHold(c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason);
      return c.json({ incident: incidentJson(r.incident), holds: r.holds }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/legal-hold/release',
      summary: "hq: release the case's legal hold with a reason",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: { 200: json(z.object({ incident: Incident, holdsReleased: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.releaseLegalHold(c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason);
      return c.json({ incident: incidentJson(r.incident), holdsReleased: r.holdsReleased }, 200);
    },
  );

  return app;
}
