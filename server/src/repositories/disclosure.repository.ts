/** Disclosure requests and their items (migration 20261206T120000-disclosure). Kysely only; no rules here. */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { DisclosureDecision, DisclosureIdentityCheck, DisclosureStatus, RecordingRole } from '../db/schema.ts';

export type DisclosureRequestRow = {
  id: string;
  reference: string;
  requesterName: string;
  requesterNumber: string;
  requesterDigits: string;
  receivedOn: string;
  identityCheck: DisclosureIdentityCheck;
  identityNote: string;
  deadline: string;
  searchFrom: Date;
  searchTo: Date;
  note: string;
  status: DisclosureStatus;
  response: {
    jobId: string | null;
    objectKey: string | null;
    sha256: string | null;
    size: number | null;
    manifestSha256: string | null;
    builtAt: Date | null;
    error: string | null;
    progress: Record<string, unknown> | null;
  };
  sent: { at: Date; method: string | null; by: string | null } | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
};

export type DisclosureItemRow = {
  id: string;
  requestId: string;
  kind: 'recording' | 'camera_window';
  site: { id: string; code: string; name: string; timezone: string };
  call: { id: string; start: Date; end: Date; direction: string; callerNumber: string | null; calledNumber: string | null; operatorExtension: string | null };
  recording: { id: string; name: string; role: RecordingRole; format: string; durationS: number | null; channels: number | null; size: number; sha256: string; stored: boolean } | null;
  camera: { id: string; key: string; name: string; place: string | null } | null;
  window: { start: Date; end: Date } | null;
  decision: DisclosureDecision | null;
  withholdReason: string | null;
  masking: unknown;
  decidedBy: string | null;
  decidedAt: Date | null;
  foundAt: Date;
};

export type NewDisclosureItem =
  | { kind: 'recording'; siteId: string; callId: string; recordingId: string }
  | { kind: 'camera_window'; siteId: string; callId: string; cameraId: string; start: Date; end: Date };

const requestSelect = (db: Db) =>
  db
    .selectFrom('disclosureRequest as d')
    .select([
      'd.id',
      'd.reference',
      'd.requesterName',
      'd.requesterNumber',
      'd.requesterDigits',
      sql<string>`to_char(d.received_on, 'YYYY-MM-DD')`.as('receivedOn'),
      'd.identityCheck',
      'd.identityNote',
      sql<string>`to_char(d.deadline, 'YYYY-MM-DD')`.as('deadline'),
      'd.searchFrom',
      'd.searchTo',
      'd.note',
      'd.status',
      'd.responseJobId',
      'd.responseObjectKey',
      sql<string | null>`encode(d.response_sha256, 'hex')`.as('responseSha256'),
      'd.responseSize',
      sql<string | null>`encode(d.response_manifest_sha256, 'hex')`.as('responseManifestSha256'),
      'd.responseBuiltAt',
      'd.responseError',
      'd.responseProgress',
      'd.sentAt',
      'd.sentMethod',
      'd.sentBy',
      'd.createdBy',
      'd.createdAt',
      'd.updatedAt',
    ]);
type RequestSelectRow = Awaited<ReturnType<ReturnType<typeof requestSelect>['executeTakeFirstOrThrow']>>;

const toRequest = (r: RequestSelectRow): DisclosureRequestRow => ({
  id: r.id,
  reference: r.reference,
  requesterName: r.requesterName,
  requesterNumber: r.requesterNumber,
  requesterDigits: r.requesterDigits,
  receivedOn: r.receivedOn,
  identityCheck: r.identityCheck,
  identityNote: r.identityNote,
  deadline: r.deadline,
  searchFrom: r.searchFrom,
  searchTo: r.searchTo,
  note: r.note,
  status: r.status,
  response: {
    jobId: r.responseJobId,
    objectKey: r.responseObjectKey,
    sha256: r.responseSha256,
    size: r.responseSize === null ? null : Number(r.responseSize),
    manifestSha256: r.responseManifestSha256,
    builtAt: r.responseBuiltAt,
    error: r.responseError,
    progress: (r.responseProgress as Record<string, unknown> | null) ?? null,
  },
  sent: r.sentAt ? { at: r.sentAt, method: r.sentMethod, by: r.sentBy } : null,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const itemSelect = (db: Db) =>
  db
    .selectFrom('disclosureItem as i')
    .innerJoin('call as c', 'c.id', 'i.callId')
    .innerJoin('site as s', 's.id', 'i.siteId')
    .leftJoin('recording as r', 'r.id', 'i.recordingId')
    .leftJoin('camera as cam', 'cam.id', 'i.cameraId')
    .select([
      'i.id',
      'i.requestId',
      'i.kind',
      's.id as siteId',
      's.code as siteCode',
      's.name as siteName',
      's.timezone as siteTimezone',
      'c.id as callId',
      'c.startAt',
      'c.endAt',
      'c.direction',
      'c.callerNumber',
      'c.calledNumber',
      'c.operatorExtension',
      'r.id as recId',
      'r.name as recName',
      'r.role as recRole',
      'r.format as recFormat',
      'r.durationS as recDurationS',
      'r.channels as recChannels',
      'r.size as recSize',
      sql<string | null>`encode(r.sha256, 'hex')`.as('recSha256'),
      sql<boolean | null>`r.object_key IS NOT NULL`.as('recStored'),
      'cam.id as camId',
      'cam.key as camKey',
      'cam.name as camName',
      'cam.place as camPlace',
      'i.windowStart',
      'i.windowEnd',
      'i.decision',
      'i.withholdReason',
      'i.masking',
      'i.decidedBy',
      'i.decidedAt',
      'i.foundAt',
    ]);
type ItemSelectRow = Awaited<ReturnType<ReturnType<typeof itemSelect>['executeTakeFirstOrThrow']>>;

const toItem = (r: ItemSelectRow): DisclosureItemRow => ({
  id: r.id,
  requestId: r.requestId,
  kind: r.kind,
  site: { id: r.siteId, code: r.siteCode, name: r.siteName, timezone: r.siteTimezone },
  call: { id: r.callId, start: r.startAt, end: r.endAt, direction: r.direction, callerNumber: r.callerNumber, calledNumber: r.calledNumber, operatorExtension: r.operatorExtension },
  recording:
    r.recId && r.recName && r.recRole && r.recFormat && r.recSize !== null && r.recSha256
      ? { id: r.recId, name: r.recName, role: r.recRole, format: r.recFormat, durationS: r.recDurationS, channels: r.recChannels, size: Number(r.recSize), sha256: r.recSha256, stored: r.recStored === true }
      : null,
  camera: r.camId && r.camKey && r.camName ? { id: r.camId, key: r.camKey, name: r.camName, place: r.camPlace } : null,
  window: r.windowStart && r.windowEnd ? { start: r.windowStart, end: r.windowEnd } : null,
  decision: r.decision,
  withholdReason: r.withholdReason,
  masking: r.masking,
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt,
  foundAt: r.foundAt,
});

export function disclosureRepository(db: Db) {
  return {
    /** `DR-<year>-<nnnn>` from one company-wide sequence. */
    async nextReference(year: number): Promise<string> {
      const r = await sql<{ n: string }>`SELECT nextval('disclosure_reference_seq')::text AS n`.execute(db);
      return `DR-${year}-${String(r.rows[0]!.n).padStart(4, '0')}`;
    },

    async insertRequest(v: {
      reference: string;
      requesterName: string;
      requesterNumber: string;
      requesterDigits: string;
      receivedOn: string;
      identityCheck: DisclosureIdentityCheck;
      identityNote: string;
      deadline: string;
      searchFrom: Date;
      searchTo: Date;
      note: string;
      createdBy: string;
      now: Date;
    }): Promise<string> {
      const r = await db
        .insertInto('disclosureRequest')
        .values({
          reference: v.reference,
          requesterName: v.requesterName,
          requesterNumber: v.requesterNumber,
          requesterDigits: v.requesterDigits,
          receivedOn: v.receivedOn,
          identityCheck: v.identityCheck,
          identityNote: v.identityNote,
          deadline: v.deadline,
          searchFrom: v.searchFrom,
          searchTo: v.searchTo,
          note: v.note,
          status: 'open',
          createdBy: v.createdBy,
          createdAt: v.now,
          updatedAt: v.now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return r.id;
    },

    async findRequest(id: string, o: { forUpdate?: boolean } = {}): Promise<DisclosureRequestRow | undefined> {
      let q = requestSelect(db).where('d.id', '=', id);
      if (o.forUpdate) q = q.forUpdate();
      const r = await q.executeTakeFirst();
      return r && toRequest(r);
    },

    /** Newest first (createdAt, id), keyset after a given row. */
    async listRequests(o: { limit: number; status?: DisclosureStatus | undefined; after?: { createdAt: Date; id: string } | undefined }): Promise<DisclosureRequestRow[]> {
      let q = requestSelect(db);
      if (o.status) q = q.where('d.status', '=', o.status);
      if (o.after) q = q.where(sql<boolean>`(d.created_at, d.id) < (${o.after.createdAt}, ${o.after.id}::uuid)`);
      const rows = await q.orderBy('d.createdAt', 'desc').orderBy('d.id', 'desc').limit(o.limit).execute();
      return rows.map(toRequest);
    },

    /**
     * Calls of every site whose caller or called number is exactly one of `forms` (digits; raw or E.164 form), started
     * in [from, to), oldest first. `caller_digits`/`called_digits` hold "<raw digits> <E.164 digits>"; the trigram
     * indexes serve the regular expression.
     */
    async matchingCalls(forms: readonly string[], from: Date, to: Date, limit: number): Promise<{ id: string; siteId: string; start: Date; end: Date }[]> {
      const alt = forms.map((f) => f.replace(/\D/g, '')).filter(Boolean).join('|');
      if (!alt) return [];
      const re = `(^| )(${alt})( |$)`;
      const rows = await db
        .selectFrom('call')
        .select(['id', 'siteId', 'startAt', 'endAt'])
        .where('startAt', '>=', from)
        .where('startAt', '<', to)
        .where((eb) => eb.or([eb('callerDigits', '~', re), eb('calledDigits', '~', re)]))
        .orderBy('startAt')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, siteId: r.siteId, start: r.startAt, end: r.endAt }));
    },

    /** Adds items not yet listed for the request (a repeated search keeps earlier items and their decisions). */
    async addItems(requestId: string, items: readonly NewDisclosureItem[], now: Date): Promise<number> {
      if (items.length === 0) return 0;
      const rows = items.map((i) =>
        i.kind === 'recording'
          ? { requestId: requestId, kind: 'recording' as const, siteId: i.siteId, callId: i.callId, recordingId: i.recordingId, cameraId: null, windowStart: null, windowEnd: null, foundAt: now }
          : { requestId: requestId, kind: 'camera_window' as const, siteId: i.siteId, callId: i.callId, recordingId: null, cameraId: i.cameraId, windowStart: i.start, windowEnd: i.end, foundAt: now },
      );
      const res = await db.insertInto('disclosureItem').values(rows).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0);
    },

    /** Items in a stable order: by call start, recordings before camera windows, then by name/key. */
    async listItems(requestId: string): Promise<DisclosureItemRow[]> {
      const rows = await itemSelect(db)
        .where('i.requestId', '=', requestId)
        .orderBy('c.startAt')
        .orderBy('c.id')
        .orderBy('i.kind', 'desc')
        .orderBy(sql`coalesce(r.name, cam.key)`)
        .execute();
      return rows.map(toItem);
    },

    async findItem(requestId: string, itemId: string): Promise<DisclosureItemRow | undefined> {
      const r = await itemSelect(db).where('i.requestId', '=', requestId).where('i.id', '=', itemId).executeTakeFirst();
      return r && toItem(r);
    },

    async decide(itemId: string, d: { decision: DisclosureDecision; withholdReason: string | null; masking: unknown; by: string; at: Date }): Promise<void> {
      await db
        .updateTable('disclosureItem')
        .set({ decision: d.decision, withholdReason: d.withholdReason, masking: d.masking === null ? null : JSON.stringify(d.masking), decidedBy: d.by, decidedAt: d.at })
        .where('id', '=', itemId)
        .execute();
    },

    /** Moves the request to `status` (clearing a previous response when it goes back to open). */
    async setStatus(id: string, status: DisclosureStatus, at: Date, extra: { jobId?: string | null; error?: string | null; clearResponse?: boolean } = {}): Promise<void> {
      await db
        .updateTable('disclosureRequest')
        .set({
          status,
          updatedAt: at,
          ...(extra.jobId !== undefined && { responseJobId: extra.jobId }),
          ...(extra.error !== undefined && { responseError: extra.error }),
          ...(extra.clearResponse && { responseObjectKey: null, responseSha256: null, responseSize: null, responseManifestSha256: null, responseBuiltAt: null, responseProgress: null }),
        })
        .where('id', '=', id)
        .execute();
    },

    async setProgress(id: string, progress: Record<string, unknown>): Promise<void> {
      await db.updateTable('disclosureRequest').set({ responseProgress: JSON.stringify(progress) }).where('id', '=', id).where('status', '=', 'building').execute();
    },

    /** The built response, only while the request is still building (a decision changed meanwhile: false). */
    async markReady(id: string, r: { objectKey: string; sha256: string; size: number; manifestSha256: string; at: Date }): Promise<boolean> {
      const res = await db
        .updateTable('disclosureRequest')
        .set({
          status: 'ready',
          responseObjectKey: r.objectKey,
          responseSha256: Buffer.from(r.sha256, 'hex'),
          responseSize: r.size,
          responseManifestSha256: Buffer.from(r.manifestSha256, 'hex'),
          responseBuiltAt: r.at,
          responseError: null,
          updatedAt: r.at,
        })
        .where('id', '=', id)
        .where('status', '=', 'building')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async markSent(id: string, s: { method: string; by: string; at: Date }): Promise<void> {
      await db.updateTable('disclosureRequest').set({ status: 'sent', sentAt: s.at, sentMethod: s.method, sentBy: s.by, updatedAt: s.at }).where('id', '=', id).execute();
    },

    /** Stored segments of a camera overlapping [from, to), oldest first, with what a pack's manifest records of each. */
    async windowSegments(cameraId: string, from: Date, to: Date): Promise<{ id: string; objectKey: string; start: Date; end: Date; byteSize: number; sha256: string; clockOffsetMs: number | null; receivedAt: Date; storedAt: Date | null }[]> {
      const rows = await db
        .selectFrom('segment')
        .select([
          'id',
          'objectKey',
          sql<Date>`lower(span)`.as('start'),
          sql<Date>`upper(span)`.as('end'),
          'byteSize',
          sql<string>`encode(sha256, 'hex')`.as('sha256'),
          'clockOffsetMs',
          'receivedAt',
          'storedAt',
        ])
        .where('cameraId', '=', cameraId)
        .where(sql<boolean>`span && tstzrange(${from}, ${to}, '[)')`)
        .where('objectKey', 'is not', null)
        .orderBy(sql`lower(span)`)
        .execute();
      return rows.map((r) => ({ id: String(r.id), objectKey: r.objectKey!, start: r.start, end: r.end, byteSize: Number(r.byteSize), sha256: r.sha256, clockOffsetMs: r.clockOffsetMs, receivedAt: r.receivedAt, storedAt: r.storedAt }));
    },

    /** What a response's report says about a site: names, zone and its notices. */
    async siteNotices(siteIds: readonly string[]): Promise<{ id: string; code: string; name: string; timezone: string; cameraNotice: unknown; pbxNoticeText: string | null }[]> {
      if (siteIds.length === 0) return [];
      const rows = await db.selectFrom('site').select(['id', 'code', 'name', 'timezone', 'cameraNotice', 'pbxNoticeText']).where('id', 'in', siteIds).orderBy('code').execute();
      return rows.map((r) => ({ id: r.id, code: r.code, name: r.name, timezone: r.timezone, cameraNotice: r.cameraNotice, pbxNoticeText: r.pbxNoticeText }));
    },

    /** Object keys of responses that rows point at (for the orphan sweep as owner of `disclosures/`). */
    async referencedObjectKeys(keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db.selectFrom('disclosureRequest').select('responseObjectKey').where('responseObjectKey', 'in', keys).execute();
      return new Set(rows.map((r) => r.responseObjectKey!).filter(Boolean));
    },
  };
}
export type DisclosureRepository = ReturnType<typeof disclosureRepository>;
