import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { IncidentCategory, IncidentSeverity, IncidentStatus } from '../db/schema.ts';
import type { InvolvedStaff } from '../domain/incident.ts';

export type IncidentRow = {
  id: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  timezone: string;
  caseNumber: string;
  title: string;
  category: IncidentCategory;
  severity: IncidentSeverity;
  status: IncidentStatus;
  windowStart: Date;
  windowEnd: Date;
  marginBeforeS: number;
  marginAfterS: number;
  narrative: string;
  involvedStaff: InvolvedStaff[];
  reporter: { id: string; login: string; displayName: string } | null;
  createdBy: string;
  legalHold: { reason: string; by: string; at: Date } | null;
  closedAt: Date | null;
  closedBy: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type NewIncident = {
  siteId: string;
  caseNumber: string;
  title: string;
  category: IncidentCategory;
  severity: IncidentSeverity;
  status: IncidentStatus;
  windowStart: Date;
  windowEnd: Date;
  marginBeforeS: number;
  marginAfterS: number;
  narrative: string;
  involvedStaff: InvolvedStaff[];
  reporterId: string | null;
  createdBy: string;
  now: Date;
};

export type IncidentPatch = Partial<{
  title: string;
  category: IncidentCategory;
  severity: IncidentSeverity;
  narrative: string;
  windowStart: Date;
  windowEnd: Date;
  involvedStaff: InvolvedStaff[];
  status: IncidentStatus;
  closedAt: Date | null;
  closedBy: string | null;
  legalHold: { reason: string; by: string; at: Date } | null;
}>;

export type IncidentFilter = {
  siteIds: readonly string[] | 'all';
  status?: IncidentStatus | undefined;
  category?: IncidentCategory | undefined;
  /** Cases whose window overlaps [from, to). */
  from?: Date | undefined;
  to?: Date | undefined;
  /** Cases filed by this person. */
  reporterId?: string | undefined;
  /** Part of the case number, any case (`0012`, `shibuya-2026`). */
  caseNumber?: string | undefined;
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
};

export type CallLinkRow = { callId: string; source: 'filed_from' | 'window' | 'manual'; linkedBy: string; linkedAt: Date };

export type CameraWindowRow = {
  id: string;
  incidentId: string;
  cameraId: string;
  camera: { key: string; name: string; place: string | null; uploadMode: 'continuous' | 'on-demand'; siteId: string };
  start: Date;
  end: Date;
  source: 'filed' | 'manual';
  preserveCommandId: string | null;
  linkedBy: string;
  linkedAt: Date;
};

export type NoteRow = { id: string; body: string; authorId: string; authorLabel: string | null; createdAt: Date };
export type BookmarkRow = { id: string; at: Date; cameraId: string | null; callId: string | null; note: string; createdBy: string; createdByLabel: string | null; createdAt: Date };
export type IncidentEventRow = { id: string; at: Date; actorType: string; actorId: string | null; actorLabel: string | null; action: string; changes: unknown };

export type HoldRow = {
  id: string;
  kind: 'incident' | 'legal';
  cameraId: string | null;
  start: Date | null;
  end: Date | null;
  callId: string | null;
  reason: string;
  placedBy: string;
  placedAt: Date;
  expiresAt: Date | null;
  releasedAt: Date | null;
  releasedBy: string | null;
  releaseReason: string | null;
};

export type NewHold = { siteId: string; incidentId: string; kind: 'incident' | 'legal'; target: { cameraId: string; start: Date; end: Date } | { callId: string }; reason: string; placedBy: string; placedAt: Date; expiresAt: Date | null };

/** A target of holds: one camera window (exact span) or one call. */
export type HoldTarget = { cameraId: string; start: Date; end: Date } | { callId: string };

export type RepeatCallMatch = {
  callId: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  callerNumber: string | null;
  callerE164: string | null;
  direction: string;
  disposition: string;
  startAt: Date;
  endAt: Date;
  operatorExtension: string | null;
  operatorName: string | null;
};

const incidentSelect = (db: Db) =>
  db
    .selectFrom('incident')
    .innerJoin('site', 'site.id', 'incident.site_id')
    .leftJoin('app_user', 'app_user.id', 'incident.reporter_id')
    .select([
      'incident.id',
      'incident.site_id',
      'site.code as site_code',
      'site.name as site_name',
      'site.timezone',
      'incident.case_number',
      'incident.title',
      'incident.category',
      'incident.severity',
      'incident.status',
      'incident.window_start',
      'incident.window_end',
      'incident.margin_before_s',
      'incident.margin_after_s',
      'incident.narrative',
      'incident.involved_staff',
      'incident.reporter_id',
      'app_user.login as reporter_login',
      'app_user.display_name as reporter_name',
      'incident.created_by',
      'incident.legal_hold',
      'incident.legal_hold_reason',
      'incident.legal_hold_by',
      'incident.legal_hold_at',
      'incident.closed_at',
      'incident.closed_by',
      'incident.version',
      'incident.created_at',
      'incident.updated_at',
    ]);
type IncidentSelectRow = Awaited<ReturnType<ReturnType<typeof incidentSelect>['executeTakeFirstOrThrow']>>;

const toIncident = (r: IncidentSelectRow): IncidentRow => ({
  id: r.id,
  siteId: r.site_id,
  siteCode: r.site_code,
  siteName: r.site_name,
  timezone: r.timezone,
  caseNumber: r.case_number,
  title: r.title,
  category: r.category,
  severity: r.severity,
  status: r.status,
  windowStart: r.window_start,
  windowEnd: r.window_end,
  marginBeforeS: r.margin_before_s,
  marginAfterS: r.margin_after_s,
  narrative: r.narrative,
  involvedStaff: (r.involved_staff ?? []) as InvolvedStaff[],
  reporter: r.reporter_id ? { id: r.reporter_id, login: r.reporter_login ?? '', displayName: r.reporter_name ?? '' } : null,
  createdBy: r.created_by,
  legalHold: r.legal_hold ? { reason: r.legal_hold_reason!, by: r.legal_hold_by!, at: r.legal_hold_at! } : null,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const range = (start: Date, end: Date) => sql<string>`tstzrange(${start}, ${end}, '[)')`;

const windowSelect = (db: Db) =>
  db
    .selectFrom('incident_camera_window as w')
    .innerJoin('camera', 'camera.id', 'w.camera_id')
    .select([
      'w.id',
      'w.incident_id',
      'w.camera_id',
      'camera.key',
      'camera.name',
      'camera.place',
      'camera.upload_mode',
      'camera.site_id',
      sql<Date>`lower(w.span)`.as('start'),
      sql<Date>`upper(w.span)`.as('end'),
      'w.source',
      'w.preserve_command_id',
      'w.linked_by',
      'w.linked_at',
    ]);
type WindowSelectRow = Awaited<ReturnType<ReturnType<typeof windowSelect>['executeTakeFirstOrThrow']>>;
const toWindow = (r: WindowSelectRow): CameraWindowRow => ({
  id: r.id,
  incidentId: r.incident_id,
  cameraId: r.camera_id,
  camera: { key: r.key, name: r.name, place: r.place, uploadMode: r.upload_mode, siteId: r.site_id },
  start: r.start,
  end: r.end,
  source: r.source,
  preserveCommandId: r.preserve_command_id,
  linkedBy: r.linked_by,
  linkedAt: r.linked_at,
});

const holdSelect = (db: Db) =>
  db
    .selectFrom('evidence_hold')
    .select([
      'id',
      'kind',
      'camera_id',
      sql<Date | null>`lower(span)`.as('start'),
      sql<Date | null>`upper(span)`.as('end'),
      'call_id',
      'reason',
      'placed_by',
      'placed_at',
      'expires_at',
      'released_at',
      'released_by',
      'release_reason',
    ]);

export function incidentRepository(db: Db) {
  return {
    /** The next case number of a site and year: one atomic upsert, so concurrent filings never share one. */
    async nextSequence(siteId: string, year: number): Promise<number> {
      const r = await db
        .insertInto('incident_sequence')
        .values({ site_id: siteId, year, last_value: 1 })
        .onConflict((oc) => oc.columns(['site_id', 'year']).doUpdateSet({ last_value: sql`incident_sequence.last_value + 1` }))
        .returning('last_value')
        .executeTakeFirstOrThrow();
      return r.last_value;
    },

    async insert(i: NewIncident): Promise<string> {
      const r = await db
        .insertInto('incident')
        .values({
          site_id: i.siteId,
          case_number: i.caseNumber,
          title: i.title,
          category: i.category,
          severity: i.severity,
          status: i.status,
          window_start: i.windowStart,
          window_end: i.windowEnd,
          margin_before_s: i.marginBeforeS,
          margin_after_s: i.marginAfterS,
          narrative: i.narrative,
          involved_staff: JSON.stringify(i.involvedStaff),
          reporter_id: i.reporterId,
          created_by: i.createdBy,
          closed_at: i.status === 'closed' ? i.now : null,
          created_at: i.now,
          updated_at: i.now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return r.id;
    },

    /** Scoped lookup: a case outside `siteIds` is as missing as one that does not exist. `lock` takes the row lock. */
    async findInSites(id: string, siteIds: readonly string[] | 'all', lock = false): Promise<IncidentRow | undefined> {
      if (siteIds !== 'all' && siteIds.length === 0) return undefined;
      let q = incidentSelect(db).where('incident.id', '=', id);
      if (siteIds !== 'all') q = q.where('incident.site_id', 'in', siteIds);
      if (lock) q = q.forUpdate('incident');
      const r = await q.executeTakeFirst();
      return r && toIncident(r);
    },

    async list(f: IncidentFilter): Promise<IncidentRow[]> {
      if (f.siteIds !== 'all' && f.siteIds.length === 0) return [];
      let q = incidentSelect(db);
      if (f.siteIds !== 'all') q = q.where('incident.site_id', 'in', f.siteIds);
      if (f.status) q = q.where('incident.status', '=', f.status);
      if (f.category) q = q.where('incident.category', '=', f.category);
      if (f.from) q = q.where('incident.window_end', '>', f.from);
      if (f.to) q = q.where('incident.window_start', '<', f.to);
      if (f.reporterId) q = q.where('incident.reporter_id', '=', f.reporterId);
      if (f.caseNumber) q = q.where('incident.case_number', 'ilike', `%${f.caseNumber.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
      if (f.after) q = q.where(sql<boolean>`(incident.created_at, incident.id) < (${f.after.createdAt}, ${f.after.id}::uuid)`);
      const rows = await q.orderBy('incident.created_at', 'desc').orderBy('incident.id', 'desc').limit(f.limit).execute();
      return rows.map(toIncident);
    },

    /** Applies a patch and bumps the version. */
    async update(id: string, p: IncidentPatch, now: Date): Promise<void> {
      await db
        .updateTable('incident')
        .set({
          ...(p.title !== undefined && { title: p.title }),
          ...(p.category !== undefined && { category: p.category }),
          ...(p.severity !== undefined && { severity: p.severity }),
          ...(p.narrative !== undefined && { narrative: p.narrative }),
          ...(p.windowStart !== undefined && { window_start: p.windowStart }),
          ...(p.windowEnd !== undefined && { window_end: p.windowEnd }),
          ...(p.involvedStaff !== undefined && { involved_staff: JSON.stringify(p.involvedStaff) }),
          ...(p.status !== undefined && { status: p.status }),
          ...(p.closedAt !== undefined && { closed_at: p.closedAt }),
          ...(p.closedBy !== undefined && { closed_by: p.closedBy }),
          ...(p.legalHold !== undefined &&
            (p.legalHold
              ? { legal_hold: true, legal_hold_reason: p.legalHold.reason, legal_hold_by: p.legalHold.by, legal_hold_at: p.legalHold.at }
              : { legal_hold: false, legal_hold_reason: null, legal_hold_by: null, legal_hold_at: null })),
          version: sql`version + 1`,
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
    },

    // ---- the linking query -------------------------------------------------------------------------------------

    /**
     * Ids of the calls of a site that overlap [from, to): `start_at < to AND end_at > from`, written as a range
     * overlap (a closed call range meets an open window exactly then) so a GiST index on
     * (site_id, tstzrange(start_at, end_at, '[]')) can serve it.
     */
    async callIdsOverlapping(siteId: string, from: Date, to: Date): Promise<string[]> {
      const rows = await db
        .selectFrom('call')
        .select('id')
        .where('site_id', '=', siteId)
        .where(sql<boolean>`tstzrange(call.start_at, call.end_at, '[]') && tstzrange(${from}, ${to}, '()')`)
        .orderBy('start_at')
        .orderBy('id')
        .execute();
      return rows.map((r) => r.id);
    },

    // ---- calls ---------------------------------------------------------------------------------------------------

    /** Links calls; returns the ids that were not linked before. */
    async linkCalls(incidentId: string, links: readonly { callId: string; source: CallLinkRow['source'] }[], by: string, at: Date): Promise<string[]> {
      if (links.length === 0) return [];
      const rows = await db
        .insertInto('incident_call')
        .values(links.map((l) => ({ incident_id: incidentId, call_id: l.callId, source: l.source, linked_by: by, linked_at: at })))
        .onConflict((oc) => oc.columns(['incident_id', 'call_id']).doNothing())
        .returning('call_id')
        .execute();
      return rows.map((r) => r.call_id);
    },
    async unlinkCall(incidentId: string, callId: string): Promise<CallLinkRow | undefined> {
      const r = await db.deleteFrom('incident_call').where('incident_id', '=', incidentId).where('call_id', '=', callId).returningAll().executeTakeFirst();
      return r && { callId: r.call_id, source: r.source, linkedBy: r.linked_by, linkedAt: r.linked_at };
    },
    async listCallLinks(incidentId: string): Promise<CallLinkRow[]> {
      const rows = await db
        .selectFrom('incident_call')
        .innerJoin('call', 'call.id', 'incident_call.call_id')
        .select(['incident_call.call_id', 'incident_call.source', 'incident_call.linked_by', 'incident_call.linked_at'])
        .where('incident_call.incident_id', '=', incidentId)
        .orderBy('call.start_at')
        .orderBy('call.id')
        .execute();
      return rows.map((r) => ({ callId: r.call_id, source: r.source, linkedBy: r.linked_by, linkedAt: r.linked_at }));
    },

    // ---- camera windows ----------------------------------------------------------------------------------------

    /** Inserts a camera window; undefined when the same camera and span is already linked. */
    async linkWindow(w: { incidentId: string; cameraId: string; start: Date; end: Date; source: 'filed' | 'manual'; by: string; at: Date }): Promise<string | undefined> {
      const r = await db
        .insertInto('incident_camera_window')
        .values({ incident_id: w.incidentId, camera_id: w.cameraId, span: range(w.start, w.end), source: w.source, linked_by: w.by, linked_at: w.at })
        .onConflict((oc) => oc.constraint('incident_camera_window_uq').doNothing())
        .returning('id')
        .executeTakeFirst();
      return r?.id;
    },
    async setWindowCommand(windowId: string, commandId: string) {
      await db.updateTable('incident_camera_window').set({ preserve_command_id: commandId }).where('id', '=', windowId).execute();
    },
    async findWindow(incidentId: string, windowId: string): Promise<CameraWindowRow | undefined> {
      const r = await windowSelect(db).where('w.incident_id', '=', incidentId).where('w.id', '=', windowId).executeTakeFirst();
      return r && toWindow(r);
    },
    async unlinkWindow(windowId: string): Promise<void> {
      await db.deleteFrom('incident_camera_window').where('id', '=', windowId).execute();
    },
    async listWindows(incidentId: string): Promise<CameraWindowRow[]> {
      const rows = await windowSelect(db).where('w.incident_id', '=', incidentId).orderBy('camera.key').orderBy(sql`lower(w.span)`).execute();
      return rows.map(toWindow);
    },

    // ---- holds ---------------------------------------------------------------------------------------------------

    async placeHolds(holds: readonly NewHold[]): Promise<number> {
      if (holds.length === 0) return 0;
      const rows = await db
        .insertInto('evidence_hold')
        .values(
          holds.map((h) => ({
            site_id: h.siteId,
            incident_id: h.incidentId,
            kind: h.kind,
            camera_id: 'cameraId' in h.target ? h.target.cameraId : null,
            span: 'cameraId' in h.target ? range(h.target.start, h.target.end) : null,
            call_id: 'callId' in h.target ? h.target.callId : null,
            reason: h.reason,
            placed_by: h.placedBy,
            placed_at: h.placedAt,
            expires_at: h.expiresAt,
          })),
        )
        .returning('id')
        .execute();
      return rows.length;
    },
    /** Releases the case's active holds of a kind, all of them or those on one target; returns how many. */
    async releaseHolds(incidentId: string, kind: 'incident' | 'legal', target: HoldTarget | null, by: string, at: Date, reason: string): Promise<number> {
      let q = db
        .updateTable('evidence_hold')
        .set({ released_at: at, released_by: by, release_reason: reason })
        .where('incident_id', '=', incidentId)
        .where('kind', '=', kind)
        .where('released_at', 'is', null);
      if (target && 'callId' in target) q = q.where('call_id', '=', target.callId);
      if (target && 'cameraId' in target) q = q.where('camera_id', '=', target.cameraId).where(sql<boolean>`span = ${range(target.start, target.end)}`);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    /** Sets when the case's active incident holds lapse (null: never, while the case is open). */
    async setIncidentHoldExpiry(incidentId: string, expiresAt: Date | null): Promise<number> {
      const r = await db
        .updateTable('evidence_hold')
        .set({ expires_at: expiresAt })
        .where('incident_id', '=', incidentId)
        .where('kind', '=', 'incident')
        .where('released_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async listHolds(incidentId: string): Promise<HoldRow[]> {
      const rows = await holdSelect(db).where('incident_id', '=', incidentId).orderBy('placed_at').orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        cameraId: r.camera_id,
        start: r.start,
        end: r.end,
        callId: r.call_id,
        reason: r.reason,
        placedBy: r.placed_by,
        placedAt: r.placed_at,
        expiresAt: r.expires_at,
        releasedAt: r.released_at,
        releasedBy: r.released_by,
        releaseReason: r.release_reason,
      }));
    },

    // ---- notes, bookmarks, history -----------------------------------------------------------------------------

    async addNote(incidentId: string, body: string, authorId: string, authorLabel: string | null, at: Date): Promise<NoteRow> {
      const r = await db
        .insertInto('incident_note')
        .values({ incident_id: incidentId, body, author_id: authorId, author_label: authorLabel, created_at: at })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { id: r.id, body: r.body, authorId: r.author_id, authorLabel: r.author_label, createdAt: r.created_at };
    },
    async listNotes(incidentId: string): Promise<NoteRow[]> {
      const rows = await db.selectFrom('incident_note').selectAll().where('incident_id', '=', incidentId).orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({ id: r.id, body: r.body, authorId: r.author_id, authorLabel: r.author_label, createdAt: r.created_at }));
    },
    async addBookmark(b: { incidentId: string; at: Date; cameraId: string | null; callId: string | null; note: string; by: string; byLabel: string | null; now: Date }): Promise<BookmarkRow> {
      const r = await db
        .insertInto('incident_bookmark')
        .values({ incident_id: b.incidentId, at: b.at, camera_id: b.cameraId, call_id: b.callId, note: b.note, created_by: b.by, created_by_label: b.byLabel, created_at: b.now })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBookmark(r);
    },
    async removeBookmark(incidentId: string, bookmarkId: string): Promise<BookmarkRow | undefined> {
      const r = await db.deleteFrom('incident_bookmark').where('incident_id', '=', incidentId).where('id', '=', bookmarkId).returningAll().executeTakeFirst();
      return r && toBookmark(r);
    },
    async listBookmarks(incidentId: string): Promise<BookmarkRow[]> {
      const rows = await db.selectFrom('incident_bookmark').selectAll().where('incident_id', '=', incidentId).orderBy('at').orderBy('id').execute();
      return rows.map(toBookmark);
    },
    async addEvent(e: { incidentId: string; at: Date; actorType: string; actorId: string | null; actorLabel: string | null; action: string; changes: Record<string, unknown> }) {
      await db
        .insertInto('incident_event')
        .values({ incident_id: e.incidentId, at: e.at, actor_type: e.actorType, actor_id: e.actorId, actor_label: e.actorLabel, action: e.action, changes: JSON.stringify(e.changes) })
        .execute();
    },
    async listEvents(incidentId: string): Promise<IncidentEventRow[]> {
      const rows = await db.selectFrom('incident_event').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
      return rows.map((r) => ({ id: String(r.id), at: r.at, actorType: r.actor_type, actorId: r.actor_id, actorLabel: r.actor_label, action: r.action, changes: r.changes }));
    },

    // ---- repeat callers ------------------------------------------------------------------------------------------

    /**
     * Calls at sites other than `excludeSiteId` (and inside `siteIds`) whose caller has one of these E.164 numbers or
     * whose raw caller number has one of these digit strings; newest first.
     */
    async repeatCalls(q: { e164s: readonly string[]; rawDigits: readonly string[]; excludeSiteId: string; siteIds: readonly string[] | 'all'; limit: number }): Promise<RepeatCallMatch[]> {
      if ((q.siteIds !== 'all' && q.siteIds.length === 0) || (q.e164s.length === 0 && q.rawDigits.length === 0)) return [];
      let s = db
        .selectFrom('call')
        .innerJoin('site', 'site.id', 'call.site_id')
        .select([
          'call.id',
          'call.site_id',
          'site.code',
          'site.name',
          'call.caller_number',
          'call.caller_e164',
          'call.direction',
          'call.disposition',
          'call.start_at',
          'call.end_at',
          'call.operator_extension',
          'call.operator_name',
        ])
        .where('call.site_id', '<>', q.excludeSiteId)
        .where('call.direction', '<>', 'internal')
        .where((eb) => {
          const ors = [];
          if (q.e164s.length) ors.push(eb('call.caller_e164', 'in', [...q.e164s]));
          if (q.rawDigits.length) ors.push(eb(sql<string>`regexp_replace(coalesce(call.caller_number, ''), '[^0-9]', '', 'g')`, 'in', [...q.rawDigits]));
          return eb.or(ors);
        });
      if (q.siteIds !== 'all') s = s.where('call.site_id', 'in', q.siteIds);
      const rows = await s.orderBy('call.start_at', 'desc').orderBy('call.id', 'desc').limit(q.limit).execute();
      return rows.map((r) => ({
        callId: r.id,
        siteId: r.site_id,
        siteCode: r.code,
        siteName: r.name,
        callerNumber: r.caller_number,
        callerE164: r.caller_e164,
        direction: r.direction,
        disposition: r.disposition,
        startAt: r.start_at,
        endAt: r.end_at,
        operatorExtension: r.operator_extension,
        operatorName: r.operator_name,
      }));
    },
  };
}
export type IncidentRepository = ReturnType<typeof incidentRepository>;

function toBookmark(r: { id: string; at: Date; camera_id: string | null; call_id: string | null; note: string; created_by: string; created_by_label: string | null; created_at: Date }): BookmarkRow {
  return { id: r.id, at: r.at, cameraId: r.camera_id, callId: r.call_id, note: r.note, createdBy: r.created_by, createdByLabel: r.created_by_label, createdAt: r.created_at };
}
