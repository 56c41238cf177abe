import type { UploadMode, CallLinkSource, WindowLinkSource, HoldKind } from '@mamoru/contract/enums';
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { CALL_MEDIA_LOCK, CAMERA_FOOTAGE_LOCK, lockTargets } from './footage-locks.ts';
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

export type CallLinkRow = { callId: string; source: CallLinkSource; linkedBy: string; linkedAt: Date };

export type CameraWindowRow = {
  id: string;
  incidentId: string;
  cameraId: string;
  camera: { key: string; name: string; place: string | null; uploadMode: UploadMode; siteId: string };
  start: Date;
  end: Date;
  source: WindowLinkSource;
  preserveCommandId: string | null;
  linkedBy: string;
  linkedAt: Date;
};

export type NoteRow = { id: string; body: string; authorId: string; authorLabel: string | null; createdAt: Date };
export type BookmarkRow = { id: string; at: Date; cameraId: string | null; callId: string | null; note: string; createdBy: string; createdByLabel: string | null; createdAt: Date };
export type IncidentEventRow = { id: string; at: Date; actorType: string; actorId: string | null; actorLabel: string | null; action: string; changes: unknown };

export type HoldRow = {
  id: string;
  kind: HoldKind;
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

export type NewHold = { siteId: string; incidentId: string; kind: HoldKind; target: { cameraId: string; start: Date; end: Date } | { callId: string }; reason: string; placedBy: string; placedAt: Date; expiresAt: Date | null };

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
    .innerJoin('site', 'site.id', 'incident.siteId')
    .leftJoin('appUser', 'appUser.id', 'incident.reporterId')
    .select([
      'incident.id',
      'incident.siteId',
      'site.code as siteCode',
      'site.name as siteName',
      'site.timezone',
      'incident.caseNumber',
      'incident.title',
      'incident.category',
      'incident.severity',
      'incident.status',
      'incident.windowStart',
      'incident.windowEnd',
      'incident.marginBeforeS',
      'incident.marginAfterS',
      'incident.narrative',
      'incident.involvedStaff',
      'incident.reporterId',
      'appUser.login as reporterLogin',
      'appUser.displayName as reporterName',
      'incident.createdBy',
      'incident.legalHold',
      'incident.legalHoldReason',
      'incident.legalHoldBy',
      'incident.legalHoldAt',
      'incident.closedAt',
      'incident.closedBy',
      'incident.version',
      'incident.createdAt',
      'incident.updatedAt',
    ]);
type IncidentSelectRow = Awaited<ReturnType<ReturnType<typeof incidentSelect>['executeTakeFirstOrThrow']>>;

const toIncident = (r: IncidentSelectRow): IncidentRow => ({
  id: r.id,
  siteId: r.siteId,
  siteCode: r.siteCode,
  siteName: r.siteName,
  timezone: r.timezone,
  caseNumber: r.caseNumber,
  title: r.title,
  category: r.category,
  severity: r.severity,
  status: r.status,
  windowStart: r.windowStart,
  windowEnd: r.windowEnd,
  marginBeforeS: r.marginBeforeS,
  marginAfterS: r.marginAfterS,
  narrative: r.narrative,
  involvedStaff: (r.involvedStaff ?? []) as InvolvedStaff[],
  reporter: r.reporterId ? { id: r.reporterId, login: r.reporterLogin ?? '', displayName: r.reporterName ?? '' } : null,
  createdBy: r.createdBy,
  legalHold: r.legalHold ? { reason: r.legalHoldReason!, by: r.legalHoldBy!, at: r.legalHoldAt! } : null,
  closedAt: r.closedAt,
  closedBy: r.closedBy,
  version: r.version,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const CALL_LINK_COLUMNS = ['callId', 'source', 'linkedBy', 'linkedAt'] as const;
const NOTE_COLUMNS = ['id', 'body', 'authorId', 'authorLabel', 'createdAt'] as const;
const BOOKMARK_COLUMNS = ['id', 'at', 'cameraId', 'callId', 'note', 'createdBy', 'createdByLabel', 'createdAt'] as const;

const range = (start: Date, end: Date) => sql<string>`tstzrange(${start}, ${end}, '[)')`;

const windowSelect = (db: Db) =>
  db
    .selectFrom('incidentCameraWindow as w')
    .innerJoin('camera', 'camera.id', 'w.cameraId')
    .select([
      'w.id',
      'w.incidentId',
      'w.cameraId',
      'camera.key',
      'camera.name',
      'camera.place',
      'camera.uploadMode',
      'camera.siteId',
      sql<Date>`lower(w.span)`.as('start'),
      sql<Date>`upper(w.span)`.as('end'),
      'w.source',
      'w.preserveCommandId',
      'w.linkedBy',
      'w.linkedAt',
    ]);
type WindowSelectRow = Awaited<ReturnType<ReturnType<typeof windowSelect>['executeTakeFirstOrThrow']>>;
const toWindow = (r: WindowSelectRow): CameraWindowRow => ({
  id: r.id,
  incidentId: r.incidentId,
  cameraId: r.cameraId,
  camera: { key: r.key, name: r.name, place: r.place, uploadMode: r.uploadMode, siteId: r.siteId },
  start: r.start,
  end: r.end,
  source: r.source,
  preserveCommandId: r.preserveCommandId,
  linkedBy: r.linkedBy,
  linkedAt: r.linkedAt,
});

const holdSelect = (db: Db) =>
  db
    .selectFrom('evidenceHold')
    .select([
      'id',
      'kind',
      'cameraId',
      sql<Date | null>`lower(span)`.as('start'),
      sql<Date | null>`upper(span)`.as('end'),
      'callId',
      'reason',
      'placedBy',
      'placedAt',
      'expiresAt',
      'releasedAt',
      'releasedBy',
      'releaseReason',
    ]);

export function incidentRepository(db: Db) {
  return {
    /** The next case number of a site and year: one atomic upsert, so concurrent filings never share one. */
    async nextSequence(siteId: string, year: number): Promise<number> {
      const r = await db
        .insertInto('incidentSequence')
        .values({ siteId, year, lastValue: 1 })
        .onConflict((oc) => oc.columns(['siteId', 'year']).doUpdateSet({ lastValue: sql`incident_sequence.last_value + 1` }))
        .returning('lastValue')
        .executeTakeFirstOrThrow();
      return r.lastValue;
    },

    async insert(i: NewIncident): Promise<string> {
      const r = await db
        .insertInto('incident')
        .values({
          siteId: i.siteId,
          caseNumber: i.caseNumber,
          title: i.title,
          category: i.category,
          severity: i.severity,
          status: i.status,
          windowStart: i.windowStart,
          windowEnd: i.windowEnd,
          marginBeforeS: i.marginBeforeS,
          marginAfterS: i.marginAfterS,
          narrative: i.narrative,
          involvedStaff: JSON.stringify(i.involvedStaff),
          reporterId: i.reporterId,
          createdBy: i.createdBy,
          closedAt: i.status === 'closed' ? i.now : null,
          createdAt: i.now,
          updatedAt: i.now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return r.id;
    },

    /** Scoped lookup: a case outside `siteIds` is as missing as one that does not exist. `lock` takes the row lock. */
    async findInSites(id: string, siteIds: readonly string[] | 'all', lock = false): Promise<IncidentRow | undefined> {
      if (siteIds !== 'all' && siteIds.length === 0) return undefined;
      let q = incidentSelect(db).where('incident.id', '=', id);
      if (siteIds !== 'all') q = q.where('incident.siteId', 'in', siteIds);
      if (lock) q = q.forUpdate('incident');
      const r = await q.executeTakeFirst();
      return r && toIncident(r);
    },

    async list(f: IncidentFilter): Promise<IncidentRow[]> {
      if (f.siteIds !== 'all' && f.siteIds.length === 0) return [];
      let q = incidentSelect(db);
      if (f.siteIds !== 'all') q = q.where('incident.siteId', 'in', f.siteIds);
      if (f.status) q = q.where('incident.status', '=', f.status);
      if (f.category) q = q.where('incident.category', '=', f.category);
      if (f.from) q = q.where('incident.windowEnd', '>', f.from);
      if (f.to) q = q.where('incident.windowStart', '<', f.to);
      if (f.reporterId) q = q.where('incident.reporterId', '=', f.reporterId);
      if (f.caseNumber) q = q.where('incident.caseNumber', 'ilike', `%${f.caseNumber.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`);
      if (f.after) q = q.where(sql<boolean>`(incident.created_at, incident.id) < (${f.after.createdAt}, ${f.after.id}::uuid)`);
      const rows = await q.orderBy('incident.createdAt', 'desc').orderBy('incident.id', 'desc').limit(f.limit).execute();
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
          ...(p.windowStart !== undefined && { windowStart: p.windowStart }),
          ...(p.windowEnd !== undefined && { windowEnd: p.windowEnd }),
          ...(p.involvedStaff !== undefined && { involvedStaff: JSON.stringify(p.involvedStaff) }),
          ...(p.status !== undefined && { status: p.status }),
          ...(p.closedAt !== undefined && { closedAt: p.closedAt }),
          ...(p.closedBy !== undefined && { closedBy: p.closedBy }),
          ...(p.legalHold !== undefined &&
            (p.legalHold
              ? { legalHold: true, legalHoldReason: p.legalHold.reason, legalHoldBy: p.legalHold.by, legalHoldAt: p.legalHold.at }
              : { legalHold: false, legalHoldReason: null, legalHoldBy: null, legalHoldAt: null })),
          version: sql`version + 1`,
          updatedAt: now,
        })
        .where('id', '=', id)
        .execute();
    },

    // ---- calls ---------------------------------------------------------------------------------------------------

    /** Links calls; returns the ids that were not linked before. */
    async linkCalls(incidentId: string, links: readonly { callId: string; source: CallLinkRow['source'] }[], by: string, at: Date): Promise<string[]> {
      if (links.length === 0) return [];
      const rows = await db
        .insertInto('incidentCall')
        .values(links.map((l) => ({ incidentId, callId: l.callId, source: l.source, linkedBy: by, linkedAt: at })))
        .onConflict((oc) => oc.columns(['incidentId', 'callId']).doNothing())
        .returning('callId')
        .execute();
      return rows.map((r) => r.callId);
    },
    async unlinkCall(incidentId: string, callId: string): Promise<CallLinkRow | undefined> {
      return db.deleteFrom('incidentCall').where('incidentId', '=', incidentId).where('callId', '=', callId).returning(CALL_LINK_COLUMNS).executeTakeFirst();
    },
    async listCallLinks(incidentId: string): Promise<CallLinkRow[]> {
      return db
        .selectFrom('incidentCall')
        .innerJoin('call', 'call.id', 'incidentCall.callId')
        .select(CALL_LINK_COLUMNS.map((c) => `incidentCall.${c}` as const))
        .where('incidentCall.incidentId', '=', incidentId)
        .orderBy('call.startAt')
        .orderBy('call.id')
        .execute();
    },

    // ---- camera windows ----------------------------------------------------------------------------------------

    /** Inserts a camera window; undefined when the same camera and span is already linked. */
    async linkWindow(w: { incidentId: string; cameraId: string; start: Date; end: Date; source: WindowLinkSource; by: string; at: Date }): Promise<string | undefined> {
      const r = await db
        .insertInto('incidentCameraWindow')
        .values({ incidentId: w.incidentId, cameraId: w.cameraId, span: range(w.start, w.end), source: w.source, linkedBy: w.by, linkedAt: w.at })
        .onConflict((oc) => oc.constraint('incident_camera_window_uq').doNothing())
        .returning('id')
        .executeTakeFirst();
      return r?.id;
    },
    async setWindowCommand(windowId: string, commandId: string) {
      await db.updateTable('incidentCameraWindow').set({ preserveCommandId: commandId }).where('id', '=', windowId).execute();
    },
    async findWindow(incidentId: string, windowId: string): Promise<CameraWindowRow | undefined> {
      const r = await windowSelect(db).where('w.incidentId', '=', incidentId).where('w.id', '=', windowId).executeTakeFirst();
      return r && toWindow(r);
    },
    async unlinkWindow(windowId: string): Promise<void> {
      await db.deleteFrom('incidentCameraWindow').where('id', '=', windowId).execute();
    },
    async listWindows(incidentId: string): Promise<CameraWindowRow[]> {
      const rows = await windowSelect(db).where('w.incidentId', '=', incidentId).orderBy('camera.key').orderBy(sql`lower(w.span)`).execute();
      return rows.map(toWindow);
    },

    // ---- holds ---------------------------------------------------------------------------------------------------

    /**
     * Takes the hold writers' (shared) locks of cameras and calls until the transaction ends (footage-locks.ts): the
     * retention job cannot delete their media meanwhile, and waits for this transaction's holds to commit.
     */
    async lockForHolds(t: { cameraIds?: readonly string[]; callIds?: readonly string[] }): Promise<void> {
      await lockTargets(db, [...(t.cameraIds ?? []).map((id) => ({ ns: CAMERA_FOOTAGE_LOCK, id })), ...(t.callIds ?? []).map((id) => ({ ns: CALL_MEDIA_LOCK, id }))], 'shared');
    },
    /** lockForHolds for every camera of a site (filing a case, before it reads the footage it will hold). */
    async lockSiteCamerasForHolds(siteId: string): Promise<void> {
      const cams = await db.selectFrom('camera').select('id').where('siteId', '=', siteId).execute();
      await this.lockForHolds({ cameraIds: cams.map((c) => c.id) });
    },
    /** Places holds; first takes the hold writers' locks of their cameras and calls (lockForHolds). */
    async placeHolds(holds: readonly NewHold[]): Promise<number> {
      if (holds.length === 0) return 0;
      await this.lockForHolds({
        cameraIds: holds.flatMap((h) => ('cameraId' in h.target ? [h.target.cameraId] : [])),
        callIds: holds.flatMap((h) => ('callId' in h.target ? [h.target.callId] : [])),
      });
      const rows = await db
        .insertInto('evidenceHold')
        .values(
          holds.map((h) => ({
            siteId: h.siteId,
            incidentId: h.incidentId,
            kind: h.kind,
            cameraId: 'cameraId' in h.target ? h.target.cameraId : null,
            span: 'cameraId' in h.target ? range(h.target.start, h.target.end) : null,
            callId: 'callId' in h.target ? h.target.callId : null,
            reason: h.reason,
            placedBy: h.placedBy,
            placedAt: h.placedAt,
            expiresAt: h.expiresAt,
          })),
        )
        .returning('id')
        .execute();
      return rows.length;
    },
    /** Releases the case's active holds of a kind, all of them or those on one target; returns how many. */
    async releaseHolds(incidentId: string, kind: HoldKind, target: HoldTarget | null, by: string, at: Date, reason: string): Promise<number> {
      let q = db
        .updateTable('evidenceHold')
        .set({ releasedAt: at, releasedBy: by, releaseReason: reason })
        .where('incidentId', '=', incidentId)
        .where('kind', '=', kind)
        .where('releasedAt', 'is', null);
      if (target && 'callId' in target) q = q.where('callId', '=', target.callId);
      if (target && 'cameraId' in target) q = q.where('cameraId', '=', target.cameraId).where(sql<boolean>`span = ${range(target.start, target.end)}`);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    /** Sets when the case's active incident holds lapse (null: never, while the case is open). */
    async setIncidentHoldExpiry(incidentId: string, expiresAt: Date | null): Promise<number> {
      const r = await db
        .updateTable('evidenceHold')
        .set({ expiresAt })
        .where('incidentId', '=', incidentId)
        .where('kind', '=', 'incident')
        .where('releasedAt', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async listHolds(incidentId: string): Promise<HoldRow[]> {
      return holdSelect(db).where('incidentId', '=', incidentId).orderBy('placedAt').orderBy('id').execute();
    },

    // ---- notes, bookmarks, history -----------------------------------------------------------------------------

    async addNote(incidentId: string, body: string, authorId: string, authorLabel: string | null, at: Date): Promise<NoteRow> {
      return db.insertInto('incidentNote').values({ incidentId, body, authorId, authorLabel, createdAt: at }).returning(NOTE_COLUMNS).executeTakeFirstOrThrow();
    },
    async listNotes(incidentId: string): Promise<NoteRow[]> {
      return db.selectFrom('incidentNote').select(NOTE_COLUMNS).where('incidentId', '=', incidentId).orderBy('createdAt').orderBy('id').execute();
    },
    async addBookmark(b: { incidentId: string; at: Date; cameraId: string | null; callId: string | null; note: string; by: string; byLabel: string | null; now: Date }): Promise<BookmarkRow> {
      return db
        .insertInto('incidentBookmark')
        .values({ incidentId: b.incidentId, at: b.at, cameraId: b.cameraId, callId: b.callId, note: b.note, createdBy: b.by, createdByLabel: b.byLabel, createdAt: b.now })
        .returning(BOOKMARK_COLUMNS)
        .executeTakeFirstOrThrow();
    },
    async removeBookmark(incidentId: string, bookmarkId: string): Promise<BookmarkRow | undefined> {
      return db.deleteFrom('incidentBookmark').where('incidentId', '=', incidentId).where('id', '=', bookmarkId).returning(BOOKMARK_COLUMNS).executeTakeFirst();
    },
    async listBookmarks(incidentId: string): Promise<BookmarkRow[]> {
      return db.selectFrom('incidentBookmark').select(BOOKMARK_COLUMNS).where('incidentId', '=', incidentId).orderBy('at').orderBy('id').execute();
    },
    async addEvent(e: { incidentId: string; at: Date; actorType: string; actorId: string | null; actorLabel: string | null; action: string; changes: Record<string, unknown> }) {
      await db
        .insertInto('incidentEvent')
        .values({ incidentId: e.incidentId, at: e.at, actorType: e.actorType, actorId: e.actorId, actorLabel: e.actorLabel, action: e.action, changes: JSON.stringify(e.changes) })
        .execute();
    },
    async listEvents(incidentId: string): Promise<IncidentEventRow[]> {
      return db.selectFrom('incidentEvent').select(['id', 'at', 'actorType', 'actorId', 'actorLabel', 'action', 'changes']).where('incidentId', '=', incidentId).orderBy('id').execute();
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
        .innerJoin('site', 'site.id', 'call.siteId')
        .select([
          'call.id',
          'call.siteId',
          'site.code',
          'site.name',
          'call.callerNumber',
          'call.callerE164',
          'call.direction',
          'call.disposition',
          'call.startAt',
          'call.endAt',
          'call.operatorExtension',
          'call.operatorName',
        ])
        .where('call.siteId', '<>', q.excludeSiteId)
        .where('call.direction', '<>', 'internal')
        .where((eb) => {
          const ors = [];
          if (q.e164s.length) ors.push(eb('call.callerE164', 'in', [...q.e164s]));
          if (q.rawDigits.length) ors.push(eb(sql<string>`regexp_replace(coalesce(call.caller_number, ''), '[^0-9]', '', 'g')`, 'in', [...q.rawDigits]));
          return eb.or(ors);
        });
      if (q.siteIds !== 'all') s = s.where('call.siteId', 'in', q.siteIds);
      const rows = await s.orderBy('call.startAt', 'desc').orderBy('call.id', 'desc').limit(q.limit).execute();
      return rows.map((r) => ({
        callId: r.id,
        siteId: r.siteId,
        siteCode: r.code,
        siteName: r.name,
        callerNumber: r.callerNumber,
        callerE164: r.callerE164,
        direction: r.direction,
        disposition: r.disposition,
        startAt: r.startAt,
        endAt: r.endAt,
        operatorExtension: r.operatorExtension,
        operatorName: r.operatorName,
      }));
    },
  };
}
export type IncidentRepository = ReturnType<typeof incidentRepository>;

