import { type ExpressionBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { CallDirection, CallDisposition, Database, NoticePlayed } from '../db/schema.ts';
import type { CallLeg, CallPayload } from '@mamoru/contract';
import { canonicalJson } from '../domain/call-payload.ts';
import { assertWindow } from '../domain/time-window.ts';

export type CallRow = {
  id: string;
  siteId: string;
  callKey: string;
  pbxId: string;
  linkedId: string;
  adapter: string;
  currentVersion: number;
  direction: CallDirection;
  disposition: CallDisposition;
  caller: { number: string | null; name: string | null; e164: string | null };
  called: { number: string | null; e164: string | null };
  operator: { extension: string; name: string | null; source: string | null } | null;
  startAt: Date;
  answerAt: Date | null;
  endAt: Date;
  durationS: number;
  talkS: number | null;
  zone: string;
  zoneSource: string;
  raw: { start: string | null; answer: string | null; end: string | null };
  notice: { played: NoticePlayed; method: string | null; atUtc: Date | null };
  flags: string[];
  retentionClass: string;
  holdCount: number;
  recordingCount: number;
  createdAt: Date;
  updatedAt: Date;
};

export type CallVersionRow = { id: string; version: number; payload: CallPayload; payloadSha256: string; agentId: string | null; receivedAt: Date };

/** A leg as the agent sent it (`CallLegSchema` of @mamoru/contract), in the call's order. */
export type CallLegRow = { ordinal: number } & CallLeg;

export type CallSearch = {
  siteIds: readonly string[] | 'all';
  from?: Date | undefined;
  to?: Date | undefined;
  /** Digits to find in the caller's or the called number (raw or E.164). */
  numberDigits?: string | undefined;
  callerDigits?: string | undefined;
  calledDigits?: string | undefined;
  operator?: string | undefined;
  direction?: CallDirection | undefined;
  disposition?: CallDisposition | undefined;
  notice?: NoticePlayed | undefined;
  /** Keyset: rows strictly older than (startAt, id) in (start_at DESC, id DESC) order. */
  after?: { startAt: Date; id: string } | undefined;
  limit: number;
};

export type SaveVersionResult = { status: 'created' | 'exists' | 'conflict'; callId: string; version: number };

/** Columns of `call` that a version's payload determines. */
function callColumns(p: CallPayload) {
  return {
    pbx_id: p.pbxId,
    linked_id: p.linkedId,
    adapter: p.adapter,
    direction: p.direction,
    disposition: p.disposition,
    caller_number: p.caller.number,
    caller_name: p.caller.name,
    caller_e164: p.caller.e164,
    called_number: p.called.number,
    called_e164: p.called.e164,
    operator_extension: p.operator?.extension ?? null,
    operator_name: p.operator?.name ?? null,
    operator_source: p.operator?.source ?? null,
    start_at: new Date(p.times.startUtc),
    answer_at: p.times.answerUtc ? new Date(p.times.answerUtc) : null,
    end_at: new Date(p.times.endUtc),
    duration_s: p.times.durationS,
    talk_s: p.times.talkS,
    zone: p.times.zone,
    zone_source: p.times.zoneSource,
    raw_start: p.times.raw.start,
    raw_answer: p.times.raw.answer,
    raw_end: p.times.raw.end,
    notice_played: p.notice.played,
    notice_method: p.notice.method,
    notice_at: p.notice.atUtc ? new Date(p.notice.atUtc) : null,
    flags: p.flags,
  };
}

const CALL_COLUMNS = [
  'call.id',
  'call.site_id',
  'call.call_key',
  'call.pbx_id',
  'call.linked_id',
  'call.adapter',
  'call.current_version',
  'call.direction',
  'call.disposition',
  'call.caller_number',
  'call.caller_name',
  'call.caller_e164',
  'call.called_number',
  'call.called_e164',
  'call.operator_extension',
  'call.operator_name',
  'call.operator_source',
  'call.start_at',
  'call.answer_at',
  'call.end_at',
  'call.duration_s',
  'call.talk_s',
  'call.zone',
  'call.zone_source',
  'call.raw_start',
  'call.raw_answer',
  'call.raw_end',
  'call.notice_played',
  'call.notice_method',
  'call.notice_at',
  'call.flags',
  'call.retention_class',
  'call.hold_count',
  'call.created_at',
  'call.updated_at',
] as const;

const recordingCount = (eb: ExpressionBuilder<Database, 'call'>) =>
  eb.selectFrom('recording').select((e) => e.fn.countAll<string>().as('n')).whereRef('recording.call_id', '=', 'call.id').as('recording_count');

const callSelect = (db: Db) => db.selectFrom('call').select(CALL_COLUMNS).select(recordingCount);
type CallSelectRow = Awaited<ReturnType<ReturnType<typeof callSelect>['executeTakeFirstOrThrow']>>;

const toCall = (r: CallSelectRow): CallRow => ({
  id: r.id,
  siteId: r.site_id,
  callKey: r.call_key,
  pbxId: r.pbx_id,
  linkedId: r.linked_id,
  adapter: r.adapter,
  currentVersion: r.current_version,
  direction: r.direction,
  disposition: r.disposition,
  caller: { number: r.caller_number, name: r.caller_name, e164: r.caller_e164 },
  called: { number: r.called_number, e164: r.called_e164 },
  operator: r.operator_extension === null ? null : { extension: r.operator_extension, name: r.operator_name, source: r.operator_source },
  startAt: r.start_at,
  answerAt: r.answer_at,
  endAt: r.end_at,
  durationS: r.duration_s,
  talkS: r.talk_s,
  zone: r.zone,
  zoneSource: r.zone_source,
  raw: { start: r.raw_start, answer: r.raw_answer, end: r.raw_end },
  notice: { played: r.notice_played, method: r.notice_method, atUtc: r.notice_at },
  flags: r.flags,
  retentionClass: r.retention_class,
  holdCount: r.hold_count,
  recordingCount: Number(r.recording_count ?? 0),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function callRepository(db: Db) {
  return {
    /**
     * Stores one version of a call, with its legs and recording declarations, in one transaction. The same
     * (call, version) again is `exists` when its content is identical and `conflict` otherwise; nothing is
     * overwritten. The call row takes the facts of the highest version seen.
     */
    async saveVersion(v: { siteId: string; agentId: string | null; callKey: string; version: number; payload: CallPayload; digest: Buffer; now: Date }): Promise<SaveVersionResult> {
      return db.transaction().execute(async (trx) => {
        const cols = callColumns(v.payload);
        const inserted = await trx
          .insertInto('call')
          .values({ site_id: v.siteId, call_key: v.callKey, current_version: v.version, ...cols, created_at: v.now, updated_at: v.now })
          .onConflict((oc) => oc.constraint('call_site_key_uq').doNothing())
          .returning('id')
          .executeTakeFirst();
        const call = inserted
          ? { id: inserted.id, current_version: v.version }
          : await trx.selectFrom('call').select(['id', 'current_version']).where('site_id', '=', v.siteId).where('call_key', '=', v.callKey).forUpdate().executeTakeFirstOrThrow();

        if (!inserted) {
          const existing = await trx.selectFrom('call_version').select('payload_sha256').where('call_id', '=', call.id).where('version', '=', v.version).executeTakeFirst();
          if (existing) return { status: existing.payload_sha256.equals(v.digest) ? 'exists' : 'conflict', callId: call.id, version: v.version };
        }

        const ver = await trx
          .insertInto('call_version')
          .values({ call_id: call.id, version: v.version, payload: canonicalJson(v.payload), payload_sha256: v.digest, agent_id: v.agentId, received_at: v.now })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (v.payload.legs.length > 0) {
          await trx
            .insertInto('call_leg')
            .values(
              v.payload.legs.map((l, i) => ({
                call_id: call.id,
                call_version_id: ver.id,
                ordinal: i,
                unique_id: l.uniqueId,
                linked_id: l.linkedId,
                sequence: l.sequence,
                src: l.src,
                dst: l.dst,
                channel: l.channel,
                dst_channel: l.dstChannel,
                last_app: l.lastApp,
                disposition: l.disposition,
                raw: l.raw,
                source_file: l.source.file,
                source_offset: l.source.offset,
              })),
            )
            .execute();
        }
        if (v.payload.recordings.length > 0) {
          await trx
            .insertInto('recording')
            .values(
              v.payload.recordings.map((r) => ({
                call_id: call.id,
                name: r.name,
                role: r.role,
                format: r.format,
                sample_rate: r.sampleRate,
                channels: r.channels,
                duration_s: r.durationS,
                size: r.size,
                sha256: Buffer.from(r.sha256, 'hex'),
                declared_in_version: v.version,
              })),
            )
            .onConflict((oc) => oc.constraint('recording_identity_uq').doNothing())
            .execute();
        }
        if (!inserted && v.version > call.current_version) {
          await trx
            .updateTable('call')
            .set({ ...cols, current_version: v.version, updated_at: v.now })
            .where('id', '=', call.id)
            .execute();
        }
        return { status: 'created', callId: call.id, version: v.version };
      });
    },

    async findBySiteAndKey(siteId: string, callKey: string): Promise<CallRow | undefined> {
      const r = await callSelect(db).where('call.site_id', '=', siteId).where('call.call_key', '=', callKey).executeTakeFirst();
      return r && toCall(r);
    },

    /** Scoped lookup: a call outside `siteIds` is as missing as one that does not exist. */
    async findInSites(id: string, siteIds: readonly string[] | 'all'): Promise<CallRow | undefined> {
      let q = callSelect(db).where('call.id', '=', id);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return undefined;
        q = q.where('call.site_id', 'in', siteIds);
      }
      const r = await q.executeTakeFirst();
      return r && toCall(r);
    },

    /** Newest first; returns up to `limit` rows. */
    searchQuery(s: CallSearch) {
      let q = callSelect(db);
      if (s.siteIds !== 'all') q = s.siteIds.length ? q.where('call.site_id', 'in', s.siteIds) : q.where(sql<boolean>`false`);
      if (s.from) q = q.where('call.start_at', '>=', s.from);
      if (s.to) q = q.where('call.start_at', '<', s.to);
      if (s.numberDigits) {
        const pat = `%${s.numberDigits}%`;
        q = q.where((eb) => eb.or([eb('call.caller_digits', 'like', pat), eb('call.called_digits', 'like', pat)]));
      }
      if (s.callerDigits) q = q.where('call.caller_digits', 'like', `%${s.callerDigits}%`);
      if (s.calledDigits) q = q.where('call.called_digits', 'like', `%${s.calledDigits}%`);
      if (s.operator) q = q.where('call.operator_extension', '=', s.operator);
      if (s.direction) q = q.where('call.direction', '=', s.direction);
      if (s.disposition) q = q.where('call.disposition', '=', s.disposition);
      if (s.notice) q = q.where('call.notice_played', '=', s.notice);
      if (s.after) q = q.where(sql<boolean>`(call.start_at, call.id) < (${s.after.startAt}, ${s.after.id}::uuid)`);
      return q.orderBy('call.start_at', 'desc').orderBy('call.id', 'desc').limit(s.limit);
    },

    async search(s: CallSearch): Promise<CallRow[]> {
      if (s.siteIds !== 'all' && s.siteIds.length === 0) return [];
      const rows = await this.searchQuery(s).execute();
      return rows.map(toCall);
    },

    /**
     * The linking query's call half: the calls of `siteId` that overlap the window [from, to), i.e.
     * `start_at < to AND end_at > from`, oldest first. Written as `tstzrange(start_at, end_at, '[]') &&
     * tstzrange(from, to, '()')` (the same set: a closed call range meets an open window exactly when it starts
     * before `to` and ends after `from`, zero-length calls included) so that the GiST index `call_site_window_idx`
     * (migration 20261124T140000) serves it; no b-tree on start_at or end_at bounds both ends, and a call may last
     * hours.
     */
    async listForSiteWindow(siteId: string, from: Date, to: Date): Promise<CallRow[]> {
      const rows = await this.siteWindowQuery(siteId, from, to).execute();
      return rows.map(toCall);
    },
    /** The query of listForSiteWindow, for EXPLAIN in tests and benches. */
    siteWindowQuery(siteId: string, from: Date, to: Date) {
      assertWindow(from, to);
      return callSelect(db)
        .where('call.site_id', '=', siteId)
        .where(sql<boolean>`tstzrange(call.start_at, call.end_at, '[]') && tstzrange(${from}, ${to}, '()')`)
        .orderBy('call.start_at')
        .orderBy('call.id');
    },

    async listVersions(callId: string): Promise<CallVersionRow[]> {
      const rows = await db
        .selectFrom('call_version')
        .select(['id', 'version', 'payload', sql<string>`encode(payload_sha256, 'hex')`.as('sha'), 'agent_id', 'received_at'])
        .where('call_id', '=', callId)
        .orderBy('version')
        .execute();
      return rows.map((r) => ({ id: String(r.id), version: r.version, payload: r.payload as CallPayload, payloadSha256: r.sha, agentId: r.agent_id, receivedAt: r.received_at }));
    },

    async listLegs(callVersionId: string): Promise<CallLegRow[]> {
      const rows = await db.selectFrom('call_leg').selectAll().where('call_version_id', '=', callVersionId).orderBy('ordinal').execute();
      return rows.map((r) => ({
        ordinal: r.ordinal,
        uniqueId: r.unique_id,
        linkedId: r.linked_id,
        sequence: r.sequence,
        src: r.src,
        dst: r.dst,
        channel: r.channel,
        dstChannel: r.dst_channel,
        lastApp: r.last_app,
        disposition: r.disposition,
        raw: r.raw,
        source: { file: r.source_file, offset: r.source_offset === null ? null : Number(r.source_offset) },
      }));
    },

    /** Calls by id, oldest first (callers have already scoped the ids, e.g. to one case's links). */
    async listByIds(ids: readonly string[]): Promise<CallRow[]> {
      if (ids.length === 0) return [];
      const rows = await callSelect(db).where('call.id', 'in', [...ids]).orderBy('call.start_at').orderBy('call.id').execute();
      return rows.map(toCall);
    },
  };
}
export type CallRepository = ReturnType<typeof callRepository>;
