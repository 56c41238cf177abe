/** Request and response schemas of the incidents routes, and the mappers from repository rows to them. */
import { z } from '@hono/zod-openapi';
import { ARRIVAL_STATES, CALL_LINK_SOURCES, COMMAND_STATUSES, HOLD_KINDS, WINDOW_LINK_SOURCES } from '@mamoru/contract/enums';
import { CATEGORIES, CATEGORY_LABELS, SEVERITIES, SEVERITY_LABELS, STATUSES, STATUS_LABELS } from '../../domain/incident.ts';
import { iso, IsoDate, Uuid } from '../../http/openapi.ts';
import type { CommandRow } from '../../repositories/agent-command.repository.ts';
import type { CallRow } from '../../repositories/call.repository.ts';
import type { BookmarkRow, CallLinkRow, HoldRow, IncidentEventRow, IncidentRow, NoteRow } from '../../repositories/incident.repository.ts';
import type { RepeatCaller, WindowView } from '../../services/incident-query.service.ts';

const Span = z.object({ from: z.string(), to: z.string() });
export const Link = z.object({ url: z.string(), expiresAt: z.string() });

// ---- schemas --------------------------------------------------------------------------------------------------

const Staff = z.object({ name: z.string().trim().min(1).max(200), role: z.string().max(100).nullable().default(null), extension: z.string().max(32).nullable().default(null) }).strict();
const WindowBody = z.object({ from: IsoDate, to: IsoDate }).strict();

export const Incident = z
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

export const incidentJson = (i: IncidentRow) => ({
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
export const windowJson = (w: WindowView) => ({
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
export const callJson = (l: CallLinkRow, c: CallRow) => ({
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

export const Note = z.object({ id: z.string(), body: z.string(), authorId: z.string(), authorLabel: z.string().nullable(), createdAt: z.string() }).openapi('IncidentNote');
export const noteJson = (n: NoteRow) => ({ ...n, createdAt: n.createdAt.toISOString() });
export const Bookmark = z
  .object({ id: z.string(), at: z.string(), cameraId: z.string().nullable(), callId: z.string().nullable(), note: z.string(), createdBy: z.string(), createdByLabel: z.string().nullable(), createdAt: z.string() })
  .openapi('IncidentBookmark');
export const bookmarkJson = (b: BookmarkRow) => ({ ...b, at: b.at.toISOString(), createdAt: b.createdAt.toISOString() });
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
export const holdJson = (h: HoldRow) => ({
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
export const repeatJson = (xs: RepeatCaller[]) =>
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

export const Detail = Incident.extend({
  allowedTransitions: z.array(z.enum(STATUSES)).openapi({ description: 'statuses this viewer may move the case to now' }),
  calls: z.array(LinkedCall),
  cameraWindows: z.array(CameraWindow),
  notes: z.array(Note),
  bookmarks: z.array(Bookmark),
  holds: z.array(Hold),
  repeatCallers: RepeatCallers.openapi({ description: "calls from a linked caller's number at other sites the viewer covers" }),
}).openapi('IncidentDetail');

export const LinkOutcome = z.object({
  calls: z.array(z.string()),
  windows: z.array(z.object({ id: z.string(), cameraId: z.string(), cameraKey: z.string(), from: z.string(), to: z.string(), commandId: z.string().nullable(), deletedCount: z.number().openapi({ description: 'segments of the window whose media the retention policy had deleted before the case held it' }) })),
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

export const Timeline = z
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

export const Event = z.object({ id: z.string(), at: z.string(), actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }), action: z.string(), changes: z.unknown() });
export const eventJson = (e: IncidentEventRow) => ({ id: e.id, at: e.at.toISOString(), actor: { type: e.actorType, id: e.actorId, label: e.actorLabel }, action: e.action, changes: e.changes });

// ---- request bodies -----------------------------------------------------------------------------------------------

export const FileBody = z
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
export const PatchBody = z
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
export const StatusBody = z.object({ status: z.enum(STATUSES), note: z.string().max(2000).optional(), expectedVersion: z.number().int().positive().optional() }).strict();
export const ReasonBody = z.object({ reason: z.string().max(2000).default('') }).strict();
export const UnlinkQuery = z.object({ reason: z.string().max(500).optional() });

/** `site=a,b` or `site=a&site=b`. */
export const SiteList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(Uuid).max(500))
  .openapi({ type: 'string', description: 'site id(s): comma separated or repeated' });
