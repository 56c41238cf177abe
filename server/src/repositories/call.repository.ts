import { type ExpressionBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { CallDirection, CallDisposition, Database, NoticePlayed } from '../db/schema.ts';
import type { CallLeg, CallPayload, LiveCall } from '@mamoru/contract';
import type { LiveCallState } from '@mamoru/contract/enums';
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
  directionSource: string;
  pickupAt: Date | null;
  operatorTalkS: number | null;
  operatorExtensions: string[];
  /** Transfers of the current version (blind / attended, by and to whom); empty for a live-only call. */
  transfers: CallTransferBrief[];
  /** Set while only the live (AMI) view exists; null once a sealed version arrived. */
  liveState: LiveCallState | null;
  liveUpdatedAt: Date | null;
};

export type CallTransferBrief = { kind: string; atUtc: string | null; by: string | null; to: string | null };

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
    pbxId: p.pbxId,
    linkedId: p.linkedId,
    adapter: p.adapter,
    direction: p.direction,
    disposition: p.disposition,
    callerNumber: p.caller.number,
    callerName: p.caller.name,
    callerE164: p.caller.e164,
    calledNumber: p.called.number,
    calledE164: p.called.e164,
    operatorExtension: p.operator?.extension ?? null,
    operatorName: p.operator?.name ?? null,
    operatorSource: p.operator?.source ?? null,
    startAt: new Date(p.times.startUtc),
    answerAt: p.times.answerUtc ? new Date(p.times.answerUtc) : null,
    endAt: new Date(p.times.endUtc),
    durationS: p.times.durationS,
    talkS: p.times.talkS,
    zone: p.times.zone,
    zoneSource: p.times.zoneSource,
    rawStart: p.times.raw.start,
    rawAnswer: p.times.raw.answer,
    rawEnd: p.times.raw.end,
    noticePlayed: p.notice.played,
    noticeMethod: p.notice.method,
    noticeAt: p.notice.atUtc ? new Date(p.notice.atUtc) : null,
    flags: p.flags,
    directionSource: p.directionSource,
    pickupAt: p.times.pickupUtc ? new Date(p.times.pickupUtc) : null,
    operatorTalkS: p.times.operatorTalkS,
    operatorExtensions: operatorExtensions(p.operator, p.operators),
    liveState: null,
    liveSeq: null,
  };
}

function operatorExtensions(first: { extension: string } | null, all: readonly { extension: string }[]): string[] {
  return [...new Set([...(first ? [first.extension] : []), ...all.map((o) => o.extension)])];
}

/** Columns of `call` a live (AMI) view determines. */
function liveColumns(l: LiveCall) {
  const start = Date.parse(l.startUtc);
  const end = Math.max(start, Date.parse(l.endUtc ?? l.observedUtc));
  const answer = l.answerUtc ? Date.parse(l.answerUtc) : null;
  return {
    pbxId: l.pbxId,
    linkedId: l.linkedId,
    adapter: l.adapter,
    direction: l.direction,
    directionSource: l.directionSource,
    disposition: l.operator || l.pickupUtc ? ('answered' as const) : ('unknown' as const),
    callerNumber: l.caller.number,
    callerName: l.caller.name,
    callerE164: l.caller.e164,
    calledNumber: l.called.number,
    calledE164: l.called.e164,
    operatorExtension: l.operator?.extension ?? null,
    operatorName: l.operator?.name ?? null,
    operatorSource: l.operator?.source ?? null,
    operatorExtensions: operatorExtensions(l.operator, l.operators),
    startAt: new Date(start),
    answerAt: answer === null ? null : new Date(answer),
    endAt: new Date(end),
    durationS: Math.round((end - start) / 1000),
    talkS: answer === null ? null : Math.max(0, Math.round((end - answer) / 1000)),
    pickupAt: l.pickupUtc ? new Date(l.pickupUtc) : null,
    operatorTalkS: l.pickupUtc ? Math.max(0, Math.round((end - Date.parse(l.pickupUtc)) / 1000)) : null,
    zone: 'UTC',
    zoneSource: 'offset_in_data',
    rawStart: null,
    rawAnswer: null,
    rawEnd: null,
    noticePlayed: 'unknown' as const,
    noticeMethod: null,
    noticeAt: null,
    flags: [],
    liveState: l.state,
    liveSeq: l.seq,
  };
}

const CALL_COLUMNS = [
  'call.id',
  'call.siteId',
  'call.callKey',
  'call.pbxId',
  'call.linkedId',
  'call.adapter',
  'call.currentVersion',
  'call.direction',
  'call.disposition',
  'call.callerNumber',
  'call.callerName',
  'call.callerE164',
  'call.calledNumber',
  'call.calledE164',
  'call.operatorExtension',
  'call.operatorName',
  'call.operatorSource',
  'call.startAt',
  'call.answerAt',
  'call.endAt',
  'call.durationS',
  'call.talkS',
  'call.zone',
  'call.zoneSource',
  'call.rawStart',
  'call.rawAnswer',
  'call.rawEnd',
  'call.noticePlayed',
  'call.noticeMethod',
  'call.noticeAt',
  'call.flags',
  'call.retentionClass',
  'call.holdCount',
  'call.createdAt',
  'call.updatedAt',
  'call.directionSource',
  'call.pickupAt',
  'call.operatorTalkS',
  'call.operatorExtensions',
  'call.liveState',
  'call.liveUpdatedAt',
] as const;

const recordingCount = (eb: ExpressionBuilder<Database, 'call'>) =>
  eb.selectFrom('recording').select((e) => e.fn.countAll<string>().as('n')).whereRef('recording.callId', '=', 'call.id').as('recordingCount');

// The current version's transfers, so that a search result can say "transferred" without a column of its own.
const transfers = () =>
  sql<{ kind?: string; atUtc?: string | null; by?: string | null; to?: string | null }[] | null>`(SELECT v.payload->'transfers' FROM call_version v WHERE v.call_id = call.id AND v.version = call.current_version)`.as('transfers');

const callSelect = (db: Db) => db.selectFrom('call').select(CALL_COLUMNS).select(recordingCount).select(transfers);
type CallSelectRow = Awaited<ReturnType<ReturnType<typeof callSelect>['executeTakeFirstOrThrow']>>;

const toCall = (r: CallSelectRow): CallRow => ({
  id: r.id,
  siteId: r.siteId,
  callKey: r.callKey,
  pbxId: r.pbxId,
  linkedId: r.linkedId,
  adapter: r.adapter,
  currentVersion: r.currentVersion,
  direction: r.direction,
  disposition: r.disposition,
  caller: { number: r.callerNumber, name: r.callerName, e164: r.callerE164 },
  called: { number: r.calledNumber, e164: r.calledE164 },
  operator: r.operatorExtension === null ? null : { extension: r.operatorExtension, name: r.operatorName, source: r.operatorSource },
  startAt: r.startAt,
  answerAt: r.answerAt,
  endAt: r.endAt,
  durationS: r.durationS,
  talkS: r.talkS,
  zone: r.zone,
  zoneSource: r.zoneSource,
  raw: { start: r.rawStart, answer: r.rawAnswer, end: r.rawEnd },
  notice: { played: r.noticePlayed, method: r.noticeMethod, atUtc: r.noticeAt },
  flags: r.flags,
  retentionClass: r.retentionClass,
  holdCount: r.holdCount,
  recordingCount: Number(r.recordingCount ?? 0),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  directionSource: r.directionSource,
  pickupAt: r.pickupAt,
  operatorTalkS: r.operatorTalkS,
  operatorExtensions: r.operatorExtensions,
  transfers: (r.transfers ?? []).map((t) => ({ kind: t.kind ?? 'unknown', atUtc: t.atUtc ?? null, by: t.by ?? null, to: t.to ?? null })),
  liveState: r.liveState,
  liveUpdatedAt: r.liveUpdatedAt,
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
          .values({ siteId: v.siteId, callKey: v.callKey, currentVersion: v.version, ...cols, createdAt: v.now, updatedAt: v.now })
          .onConflict((oc) => oc.constraint('call_site_key_uq').doNothing())
          .returning('id')
          .executeTakeFirst();
        const call = inserted
          ? { id: inserted.id, currentVersion: v.version }
          : await trx.selectFrom('call').select(['id', 'currentVersion']).where('siteId', '=', v.siteId).where('callKey', '=', v.callKey).forUpdate().executeTakeFirstOrThrow();

        if (!inserted) {
          const existing = await trx.selectFrom('callVersion').select('payloadSha256').where('callId', '=', call.id).where('version', '=', v.version).executeTakeFirst();
          if (existing) return { status: existing.payloadSha256.equals(v.digest) ? 'exists' : 'conflict', callId: call.id, version: v.version };
        }

        const ver = await trx
          .insertInto('callVersion')
          .values({ callId: call.id, version: v.version, payload: canonicalJson(v.payload), payloadSha256: v.digest, agentId: v.agentId, receivedAt: v.now })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (v.payload.legs.length > 0) {
          await trx
            .insertInto('callLeg')
            .values(
              v.payload.legs.map((l, i) => ({
                callId: call.id,
                callVersionId: ver.id,
                ordinal: i,
                uniqueId: l.uniqueId,
                linkedId: l.linkedId,
                sequence: l.sequence,
                src: l.src,
                dst: l.dst,
                channel: l.channel,
                dstChannel: l.dstChannel,
                lastApp: l.lastApp,
                disposition: l.disposition,
                raw: l.raw,
                sourceFile: l.source.file,
                sourceOffset: l.source.offset,
              })),
            )
            .execute();
        }
        if (v.payload.recordings.length > 0) {
          await trx
            .insertInto('recording')
            .values(
              v.payload.recordings.map((r) => ({
                callId: call.id,
                name: r.name,
                role: r.role,
                format: r.format,
                sampleRate: r.sampleRate,
                channels: r.channels,
                durationS: r.durationS,
                size: r.size,
                sha256: Buffer.from(r.sha256, 'hex'),
                declaredInVersion: v.version,
              })),
            )
            .onConflict((oc) => oc.constraint('recording_identity_uq').doNothing())
            .execute();
        }
        if (!inserted && v.version > call.currentVersion) {
          // Also the first sealed version of a call seen live (current_version 0): the files' facts replace the live view.
          await trx
            .updateTable('call')
            .set({ ...cols, currentVersion: v.version, updatedAt: v.now })
            .where('id', '=', call.id)
            .execute();
        }
        return { status: 'created', callId: call.id, version: v.version };
      });
    },

    /**
     * Creates or updates the live (AMI) view of a call that has no sealed version yet. A call with a sealed version
     * is left alone (`superseded`); an update older than the one stored (`seq`) too (`stale`).
     */
    async saveLive(v: { siteId: string; callKey: string; live: LiveCall; now: Date }): Promise<{ status: 'applied' | 'superseded' | 'stale'; callId: string }> {
      return db.transaction().execute(async (trx) => {
        const cols = liveColumns(v.live);
        const inserted = await trx
          .insertInto('call')
          .values({ siteId: v.siteId, callKey: v.callKey, currentVersion: 0, ...cols, liveUpdatedAt: v.now, createdAt: v.now, updatedAt: v.now })
          .onConflict((oc) => oc.constraint('call_site_key_uq').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) return { status: 'applied' as const, callId: inserted.id };
        const call = await trx.selectFrom('call').select(['id', 'currentVersion', 'liveSeq']).where('siteId', '=', v.siteId).where('callKey', '=', v.callKey).forUpdate().executeTakeFirstOrThrow();
        if (call.currentVersion > 0) return { status: 'superseded' as const, callId: call.id };
        if (call.liveSeq !== null && Number(call.liveSeq) > v.live.seq) return { status: 'stale' as const, callId: call.id };
        await trx.updateTable('call').set({ ...cols, liveUpdatedAt: v.now, updatedAt: v.now }).where('id', '=', call.id).execute();
        return { status: 'applied' as const, callId: call.id };
      });
    },

    async findBySiteAndKey(siteId: string, callKey: string): Promise<CallRow | undefined> {
      const r = await callSelect(db).where('call.siteId', '=', siteId).where('call.callKey', '=', callKey).executeTakeFirst();
      return r && toCall(r);
    },

    /** Scoped lookup: a call outside `siteIds` is as missing as one that does not exist. */
    async findInSites(id: string, siteIds: readonly string[] | 'all'): Promise<CallRow | undefined> {
      let q = callSelect(db).where('call.id', '=', id);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return undefined;
        q = q.where('call.siteId', 'in', siteIds);
      }
      const r = await q.executeTakeFirst();
      return r && toCall(r);
    },

    /** Newest first; returns up to `limit` rows. */
    searchQuery(s: CallSearch) {
      let q = callSelect(db);
      if (s.siteIds !== 'all') q = s.siteIds.length ? q.where('call.siteId', 'in', s.siteIds) : q.where(sql<boolean>`false`);
      if (s.from) q = q.where('call.startAt', '>=', s.from);
      if (s.to) q = q.where('call.startAt', '<', s.to);
      if (s.numberDigits) {
        const pat = `%${s.numberDigits}%`;
        q = q.where((eb) => eb.or([eb('call.callerDigits', 'like', pat), eb('call.calledDigits', 'like', pat)]));
      }
      if (s.callerDigits) q = q.where('call.callerDigits', 'like', `%${s.callerDigits}%`);
      if (s.calledDigits) q = q.where('call.calledDigits', 'like', `%${s.calledDigits}%`);
      // Anyone the call rang, answered or not (operator_extensions also holds the answering one).
      if (s.operator) q = q.where(sql<boolean>`call.operator_extensions @> ARRAY[${s.operator}]::text[]`);
      if (s.direction) q = q.where('call.direction', '=', s.direction);
      if (s.disposition) q = q.where('call.disposition', '=', s.disposition);
      if (s.notice) q = q.where('call.noticePlayed', '=', s.notice);
      if (s.after) q = q.where(sql<boolean>`(call.start_at, call.id) < (${s.after.startAt}, ${s.after.id}::uuid)`);
      return q.orderBy('call.startAt', 'desc').orderBy('call.id', 'desc').limit(s.limit);
    },

    async search(s: CallSearch): Promise<CallRow[]> {
      if (s.siteIds !== 'all' && s.siteIds.length === 0) return [];
      const rows = await this.searchQuery(s).execute();
      return rows.map(toCall);
    },

    async listVersions(callId: string): Promise<CallVersionRow[]> {
      return db
        .selectFrom('callVersion')
        .select(['id', 'version', 'payload', sql<string>`encode(payload_sha256, 'hex')`.as('payloadSha256'), 'agentId', 'receivedAt'])
        .$narrowType<{ payload: CallPayload }>()
        .where('callId', '=', callId)
        .orderBy('version')
        .execute();
    },

    async listLegs(callVersionId: string): Promise<CallLegRow[]> {
      const rows = await db.selectFrom('callLeg').selectAll().where('callVersionId', '=', callVersionId).orderBy('ordinal').execute();
      return rows.map((r) => ({
        ordinal: r.ordinal,
        uniqueId: r.uniqueId,
        linkedId: r.linkedId,
        sequence: r.sequence,
        src: r.src,
        dst: r.dst,
        channel: r.channel,
        dstChannel: r.dstChannel,
        lastApp: r.lastApp,
        disposition: r.disposition,
        raw: r.raw,
        source: { file: r.sourceFile, offset: r.sourceOffset === null ? null : Number(r.sourceOffset) },
      }));
    },

    /** Calls by id, oldest first (callers have already scoped the ids, e.g. to one case's links). */
    async listByIds(ids: readonly string[]): Promise<CallRow[]> {
      if (ids.length === 0) return [];
      const rows = await callSelect(db).where('call.id', 'in', [...ids]).orderBy('call.startAt').orderBy('call.id').execute();
      return rows.map(toCall);
    },
  };
}
export type CallRepository = ReturnType<typeof callRepository>;
