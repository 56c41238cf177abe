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
    .selectFrom('disclosure_request as d')
    .select([
      'd.id',
      'd.reference',
      'd.requester_name',
      'd.requester_number',
      'd.requester_digits',
      sql<string>`to_char(d.received_on, 'YYYY-MM-DD')`.as('received_on'),
      'd.identity_check',
      'd.identity_note',
      sql<string>`to_char(d.deadline, 'YYYY-MM-DD')`.as('deadline'),
      'd.search_from',
      'd.search_to',
      'd.note',
      'd.status',
      'd.response_job_id',
      'd.response_object_key',
      sql<string | null>`encode(d.response_sha256, 'hex')`.as('response_sha256'),
      'd.response_size',
      sql<string | null>`encode(d.response_manifest_sha256, 'hex')`.as('response_manifest_sha256'),
      'd.response_built_at',
      'd.response_error',
      'd.response_progress',
      'd.sent_at',
      'd.sent_method',
      'd.sent_by',
      'd.created_by',
      'd.created_at',
      'd.updated_at',
    ]);
type RequestSelectRow = Awaited<ReturnType<ReturnType<typeof requestSelect>['executeTakeFirstOrThrow']>>;

const toRequest = (r: RequestSelectRow): DisclosureRequestRow => ({
  id: r.id,
  reference: r.reference,
  requesterName: r.requester_name,
  requesterNumber: r.requester_number,
  requesterDigits: r.requester_digits,
  receivedOn: r.received_on,
  identityCheck: r.identity_check,
  identityNote: r.identity_note,
  deadline: r.deadline,
  searchFrom: r.search_from,
  searchTo: r.search_to,
  note: r.note,
  status: r.status,
  response: {
    jobId: r.response_job_id,
    objectKey: r.response_object_key,
    sha256: r.response_sha256,
    size: r.response_size === null ? null : Number(r.response_size),
    manifestSha256: r.response_manifest_sha256,
    builtAt: r.response_built_at,
    error: r.response_error,
    progress: (r.response_progress as Record<string, unknown> | null) ?? null,
  },
  sent: r.sent_at ? { at: r.sent_at, method: r.sent_method, by: r.sent_by } : null,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const itemSelect = (db: Db) =>
  db
    .selectFrom('disclosure_item as i')
    .innerJoin('call as c', 'c.id', 'i.call_id')
    .innerJoin('site as s', 's.id', 'i.site_id')
    .leftJoin('recording as r', 'r.id', 'i.recording_id')
    .leftJoin('camera as cam', 'cam.id', 'i.camera_id')
    .select([
      'i.id',
      'i.request_id',
      'i.kind',
      's.id as site_id',
      's.code as site_code',
      's.name as site_name',
      's.timezone as site_timezone',
      'c.id as call_id',
      'c.start_at',
      'c.end_at',
      'c.direction',
      'c.caller_number',
      'c.called_number',
      'c.operator_extension',
      'r.id as rec_id',
      'r.name as rec_name',
      'r.role as rec_role',
      'r.format as rec_format',
      'r.duration_s as rec_duration_s',
      'r.channels as rec_channels',
      'r.size as rec_size',
      sql<string | null>`encode(r.sha256, 'hex')`.as('rec_sha256'),
      sql<boolean | null>`r.object_key IS NOT NULL`.as('rec_stored'),
      'cam.id as cam_id',
      'cam.key as cam_key',
      'cam.name as cam_name',
      'cam.place as cam_place',
      'i.window_start',
      'i.window_end',
      'i.decision',
      'i.withhold_reason',
      'i.masking',
      'i.decided_by',
      'i.decided_at',
      'i.found_at',
    ]);
type ItemSelectRow = Awaited<ReturnType<ReturnType<typeof itemSelect>['executeTakeFirstOrThrow']>>;

const toItem = (r: ItemSelectRow): DisclosureItemRow => ({
  id: r.id,
  requestId: r.request_id,
  kind: r.kind,
  site: { id: r.site_id, code: r.site_code, name: r.site_name, timezone: r.site_timezone },
  call: { id: r.call_id, start: r.start_at, end: r.end_at, direction: r.direction, callerNumber: r.caller_number, calledNumber: r.called_number, operatorExtension: r.operator_extension },
  recording:
    r.rec_id && r.rec_name && r.rec_role && r.rec_format && r.rec_size !== null && r.rec_sha256
      ? { id: r.rec_id, name: r.rec_name, role: r.rec_role, format: r.rec_format, durationS: r.rec_duration_s, channels: r.rec_channels, size: Number(r.rec_size), sha256: r.rec_sha256, stored: r.rec_stored === true }
      : null,
  camera: r.cam_id && r.cam_key && r.cam_name ? { id: r.cam_id, key: r.cam_key, name: r.cam_name, place: r.cam_place } : null,
  window: r.window_start && r.window_end ? { start: r.window_start, end: r.window_end } : null,
  decision: r.decision,
  withholdReason: r.withhold_reason,
  masking: r.masking,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  foundAt: r.found_at,
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
        .insertInto('disclosure_request')
        .values({
          reference: v.reference,
          requester_name: v.requesterName,
          requester_number: v.requesterNumber,
          requester_digits: v.requesterDigits,
          received_on: v.receivedOn,
          identity_check: v.identityCheck,
          identity_note: v.identityNote,
          deadline: v.deadline,
          search_from: v.searchFrom,
          search_to: v.searchTo,
          note: v.note,
          status: 'open',
          created_by: v.createdBy,
          created_at: v.now,
          updated_at: v.now,
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

    /** Newest first (created_at, id), keyset after a given row. */
    async listRequests(o: { limit: number; status?: DisclosureStatus | undefined; after?: { createdAt: Date; id: string } | undefined }): Promise<DisclosureRequestRow[]> {
      let q = requestSelect(db);
      if (o.status) q = q.where('d.status', '=', o.status);
      if (o.after) q = q.where(sql<boolean>`(d.created_at, d.id) < (${o.after.createdAt}, ${o.after.id}::uuid)`);
      const rows = await q.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(o.limit).execute();
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
        .select(['id', 'site_id', 'start_at', 'end_at'])
        .where('start_at', '>=', from)
        .where('start_at', '<', to)
        .where((eb) => eb.or([eb('caller_digits', '~', re), eb('called_digits', '~', re)]))
        .orderBy('start_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, siteId: r.site_id, start: r.start_at, end: r.end_at }));
    },

    /** Adds items not yet listed for the request (a repeated search keeps earlier items and their decisions). */
    async addItems(requestId: string, items: readonly NewDisclosureItem[], now: Date): Promise<number> {
      if (items.length === 0) return 0;
      const rows = items.map((i) =>
        i.kind === 'recording'
          ? { request_id: requestId, kind: 'recording' as const, site_id: i.siteId, call_id: i.callId, recording_id: i.recordingId, camera_id: null, window_start: null, window_end: null, found_at: now }
          : { request_id: requestId, kind: 'camera_window' as const, site_id: i.siteId, call_id: i.callId, recording_id: null, camera_id: i.cameraId, window_start: i.start, window_end: i.end, found_at: now },
      );
      const res = await db.insertInto('disclosure_item').values(rows).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0);
    },

    /** Items in a stable order: by call start, recordings before camera windows, then by name/key. */
    async listItems(requestId: string): Promise<DisclosureItemRow[]> {
      const rows = await itemSelect(db)
        .where('i.request_id', '=', requestId)
        .orderBy('c.start_at')
        .orderBy('c.id')
        .orderBy('i.kind', 'desc')
        .orderBy(sql`coalesce(r.name, cam.key)`)
        .execute();
      return rows.map(toItem);
    },

    async findItem(requestId: string, itemId: string): Promise<DisclosureItemRow | undefined> {
      const r = await itemSelect(db).where('i.request_id', '=', requestId).where('i.id', '=', itemId).executeTakeFirst();
      return r && toItem(r);
    },

    async decide(itemId: string, d: { decision: DisclosureDecision; withholdReason: string | null; masking: unknown; by: string; at: Date }): Promise<void> {
      await db
        .updateTable('disclosure_item')
        .set({ decision: d.decision, withhold_reason: d.withholdReason, masking: d.masking === null ? null : JSON.stringify(d.masking), decided_by: d.by, decided_at: d.at })
        .where('id', '=', itemId)
        .execute();
    },

    /** Moves the request to `status` (clearing a previous response when it goes back to open). */
    async setStatus(id: string, status: DisclosureStatus, at: Date, extra: { jobId?: string | null; error?: string | null; clearResponse?: boolean } = {}): Promise<void> {
      await db
        .updateTable('disclosure_request')
        .set({
          status,
          updated_at: at,
          ...(extra.jobId !== undefined && { response_job_id: extra.jobId }),
          ...(extra.error !== undefined && { response_error: extra.error }),
          ...(extra.clearResponse && { response_object_key: null, response_sha256: null, response_size: null, response_manifest_sha256: null, response_built_at: null, response_progress: null }),
        })
        .where('id', '=', id)
        .execute();
    },

    async setProgress(id: string, progress: Record<string, unknown>): Promise<void> {
      await db.updateTable('disclosure_request').set({ response_progress: JSON.stringify(progress) }).where('id', '=', id).where('status', '=', 'building').execute();
    },

    /** The built response, only while the request is still building (a decision changed meanwhile: false). */
    async markReady(id: string, r: { objectKey: string; sha256: string; size: number; manifestSha256: string; at: Date }): Promise<boolean> {
      const res = await db
        .updateTable('disclosure_request')
        .set({
          status: 'ready',
          response_object_key: r.objectKey,
          response_sha256: Buffer.from(r.sha256, 'hex'),
          response_size: r.size,
          response_manifest_sha256: Buffer.from(r.manifestSha256, 'hex'),
          response_built_at: r.at,
          response_error: null,
          updated_at: r.at,
        })
        .where('id', '=', id)
        .where('status', '=', 'building')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async markSent(id: string, s: { method: string; by: string; at: Date }): Promise<void> {
      await db.updateTable('disclosure_request').set({ status: 'sent', sent_at: s.at, sent_method: s.method, sent_by: s.by, updated_at: s.at }).where('id', '=', id).execute();
    },

    /** Stored segments of a camera overlapping [from, to), oldest first, with what a pack's manifest records of each. */
    async windowSegments(cameraId: string, from: Date, to: Date): Promise<{ id: string; objectKey: string; start: Date; end: Date; byteSize: number; sha256: string; clockOffsetMs: number | null; receivedAt: Date; storedAt: Date | null }[]> {
      const rows = await db
        .selectFrom('segment')
        .select([
          'id',
          'object_key',
          sql<Date>`lower(span)`.as('start'),
          sql<Date>`upper(span)`.as('end'),
          'byte_size',
          sql<string>`encode(sha256, 'hex')`.as('sha256'),
          'clock_offset_ms',
          'received_at',
          'stored_at',
        ])
        .where('camera_id', '=', cameraId)
        .where(sql<boolean>`span && tstzrange(${from}, ${to}, '[)')`)
        .where('object_key', 'is not', null)
        .orderBy(sql`lower(span)`)
        .execute();
      return rows.map((r) => ({ id: String(r.id), objectKey: r.object_key!, start: r.start, end: r.end, byteSize: Number(r.byte_size), sha256: r.sha256, clockOffsetMs: r.clock_offset_ms, receivedAt: r.received_at, storedAt: r.stored_at }));
    },

    /** What a response's report says about a site: names, zone and its notices. */
    async siteNotices(siteIds: readonly string[]): Promise<{ id: string; code: string; name: string; timezone: string; cameraNotice: unknown; pbxNoticeText: string | null }[]> {
      if (siteIds.length === 0) return [];
      const rows = await db.selectFrom('site').select(['id', 'code', 'name', 'timezone', 'camera_notice', 'pbx_notice_text']).where('id', 'in', siteIds).orderBy('code').execute();
      return rows.map((r) => ({ id: r.id, code: r.code, name: r.name, timezone: r.timezone, cameraNotice: r.camera_notice, pbxNoticeText: r.pbx_notice_text }));
    },

    /** Object keys of responses that rows point at (for the orphan sweep as owner of `disclosures/`). */
    async referencedObjectKeys(keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db.selectFrom('disclosure_request').select('response_object_key').where('response_object_key', 'in', keys).execute();
      return new Set(rows.map((r) => r.response_object_key!).filter(Boolean));
    },
  };
}
export type DisclosureRepository = ReturnType<typeof disclosureRepository>;
