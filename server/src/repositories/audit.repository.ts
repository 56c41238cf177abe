import type { AuditOutcome } from '@mamoru/contract/enums';
import { type Selectable, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { AuditEventTable } from '../db/schema.ts';
import type { ChainedEvent } from '../domain/audit-chain.ts';

export type AuditFilter = {
  from?: Date;
  to?: Date;
  actorId?: string;
  /** Who, as a person types it: the actor's id or label (a person's login, an agent's id, `retention`). */
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  siteId?: string;
  outcome?: AuditOutcome;
  /** Keyset cursor: only events with a smaller id (newest first). */
  beforeId?: string;
};

const COLUMNS = [
  'id',
  'occurredAt',
  'actorType',
  'actorId',
  'actorLabel',
  'actorRole',
  'action',
  'targetType',
  'targetId',
  'siteId',
  'ip',
  'userAgent',
  'purpose',
  'requestId',
  'clientRequestId',
  'outcome',
  'details',
  'prevHash',
  'hash',
] as const;

type Row = Pick<Selectable<AuditEventTable>, (typeof COLUMNS)[number]>;

/** The chain works on hex strings; the table holds bytes. */
const toEvent = (r: Row): ChainedEvent => ({ ...r, id: String(r.id), prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex') });

export function auditRepository(db: Db) {
  return {
    /** Locks the chain head until the surrounding transaction ends: appends are serialized here. */
    async lockHead(): Promise<{ lastId: string; lastHash: string }> {
      const r = await db.selectFrom('auditChainHead').select(['lastId', 'lastHash']).where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
      return { lastId: String(r.lastId), lastHash: r.lastHash.toString('hex') };
    },
    async readHead(): Promise<{ lastId: string; lastHash: string }> {
      const r = await db.selectFrom('auditChainHead').select(['lastId', 'lastHash']).where('id', '=', 1).executeTakeFirstOrThrow();
      return { lastId: String(r.lastId), lastHash: r.lastHash.toString('hex') };
    },
    async insert(e: ChainedEvent) {
      await db
        .insertInto('auditEvent')
        .values({
          id: e.id,
          occurredAt: e.occurredAt,
          actorType: e.actorType,
          actorId: e.actorId,
          actorLabel: e.actorLabel,
          actorRole: e.actorRole,
          action: e.action,
          targetType: e.targetType,
          targetId: e.targetId,
          siteId: e.siteId,
          ip: e.ip,
          userAgent: e.userAgent,
          purpose: e.purpose,
          requestId: e.requestId,
          clientRequestId: e.clientRequestId ?? null,
          outcome: e.outcome,
          details: JSON.stringify(e.details ?? {}),
          prevHash: Buffer.from(e.prevHash, 'hex'),
          hash: Buffer.from(e.hash, 'hex'),
        })
        .execute();
    },
    async setHead(lastId: string, lastHash: string) {
      await db.updateTable('auditChainHead').set({ lastId, lastHash: Buffer.from(lastHash, 'hex') }).where('id', '=', 1).execute();
    },
    /** Every event in id order, fetched in batches (keyset, so the walk does not hold one huge result). */
    async *walk(batchSize = 1000): AsyncGenerator<ChainedEvent> {
      let after = '0';
      for (;;) {
        const rows = await db.selectFrom('auditEvent').select(COLUMNS).where('id', '>', after).orderBy('id').limit(batchSize).execute();
        for (const r of rows) yield toEvent(r);
        if (rows.length < batchSize) return;
        after = String(rows[rows.length - 1]!.id);
      }
    },
    /** Newest first. */
    async list(f: AuditFilter, limit: number): Promise<ChainedEvent[]> {
      let q = db.selectFrom('auditEvent').select(COLUMNS).orderBy('id', 'desc').limit(limit);
      if (f.from) q = q.where('occurredAt', '>=', f.from);
      if (f.to) q = q.where('occurredAt', '<', f.to);
      if (f.actorId) q = q.where('actorId', '=', f.actorId);
      if (f.actor) q = q.where((eb) => eb.or([eb('actorId', '=', f.actor!), eb('actorLabel', '=', f.actor!)]));
      if (f.action) q = f.action.endsWith('.*') ? q.where('action', 'like', `${f.action.slice(0, -2).replace(/[\\%_]/g, '\\$&')}.%`) : q.where('action', '=', f.action);
      if (f.targetType) q = q.where('targetType', '=', f.targetType);
      if (f.targetId) q = q.where('targetId', '=', f.targetId);
      if (f.siteId) q = q.where('siteId', '=', f.siteId);
      if (f.outcome) q = q.where('outcome', '=', f.outcome);
      if (f.beforeId) q = q.where('id', '<', f.beforeId);
      const rows = await q.execute();
      return rows.map(toEvent);
    },
    async count(): Promise<number> {
      const r = await db.selectFrom('auditEvent').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
