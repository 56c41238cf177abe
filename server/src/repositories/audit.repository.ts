import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
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
  outcome?: 'success' | 'failure';
  /** Keyset cursor: only events with a smaller id (newest first). */
  beforeId?: string;
};

const COLUMNS = [
  'id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'actor_label',
  'actor_role',
  'action',
  'target_type',
  'target_id',
  'site_id',
  'ip',
  'user_agent',
  'purpose',
  'request_id',
  'outcome',
  'details',
  'prev_hash',
  'hash',
] as const;

type Row = {
  id: string;
  occurred_at: Date;
  actor_type: ChainedEvent['actorType'];
  actor_id: string | null;
  actor_label: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  site_id: string | null;
  ip: string | null;
  user_agent: string | null;
  purpose: string | null;
  request_id: string | null;
  outcome: ChainedEvent['outcome'];
  details: unknown;
  prev_hash: Buffer;
  hash: Buffer;
};

const toEvent = (r: Row): ChainedEvent => ({
  id: String(r.id),
  occurredAt: r.occurred_at,
  actorType: r.actor_type,
  actorId: r.actor_id,
  actorLabel: r.actor_label,
  actorRole: r.actor_role,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  siteId: r.site_id,
  ip: r.ip,
  userAgent: r.user_agent,
  purpose: r.purpose,
  requestId: r.request_id,
  outcome: r.outcome,
  details: r.details,
  prevHash: r.prev_hash.toString('hex'),
  hash: r.hash.toString('hex'),
});

export function auditRepository(db: Db) {
  return {
    /** Locks the chain head until the surrounding transaction ends: appends are serialized here. */
    async lockHead(): Promise<{ lastId: string; lastHash: string }> {
      const r = await db.selectFrom('audit_chain_head').select(['last_id', 'last_hash']).where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
      return { lastId: String(r.last_id), lastHash: r.last_hash.toString('hex') };
    },
    async readHead(): Promise<{ lastId: string; lastHash: string }> {
      const r = await db.selectFrom('audit_chain_head').select(['last_id', 'last_hash']).where('id', '=', 1).executeTakeFirstOrThrow();
      return { lastId: String(r.last_id), lastHash: r.last_hash.toString('hex') };
    },
    async insert(e: ChainedEvent) {
      await db
        .insertInto('audit_event')
        .values({
          id: e.id,
          occurred_at: e.occurredAt,
          actor_type: e.actorType,
          actor_id: e.actorId,
          actor_label: e.actorLabel,
          actor_role: e.actorRole,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          site_id: e.siteId,
          ip: e.ip,
          user_agent: e.userAgent,
          purpose: e.purpose,
          request_id: e.requestId,
          outcome: e.outcome,
          details: JSON.stringify(e.details ?? {}),
          prev_hash: Buffer.from(e.prevHash, 'hex'),
          hash: Buffer.from(e.hash, 'hex'),
        })
        .execute();
    },
    async setHead(lastId: string, lastHash: string) {
      await db.updateTable('audit_chain_head').set({ last_id: lastId, last_hash: Buffer.from(lastHash, 'hex') }).where('id', '=', 1).execute();
    },
    /** Every event in id order, fetched in batches (keyset, so the walk does not hold one huge result). */
    async *walk(batchSize = 1000): AsyncGenerator<ChainedEvent> {
      let after = '0';
      for (;;) {
        const rows = await db.selectFrom('audit_event').select(COLUMNS).where('id', '>', after).orderBy('id').limit(batchSize).execute();
        for (const r of rows) yield toEvent(r);
        if (rows.length < batchSize) return;
        after = String(rows[rows.length - 1]!.id);
      }
    },
    /** Newest first. */
    async list(f: AuditFilter, limit: number): Promise<ChainedEvent[]> {
      let q = db.selectFrom('audit_event').select(COLUMNS).orderBy('id', 'desc').limit(limit);
      if (f.from) q = q.where('occurred_at', '>=', f.from);
      if (f.to) q = q.where('occurred_at', '<', f.to);
      if (f.actorId) q = q.where('actor_id', '=', f.actorId);
      if (f.actor) q = q.where((eb) => eb.or([eb('actor_id', '=', f.actor!), eb('actor_label', '=', f.actor!)]));
      if (f.action) q = f.action.endsWith('.*') ? q.where('action', 'like', `${f.action.slice(0, -2).replace(/[\\%_]/g, '\\$&')}.%`) : q.where('action', '=', f.action);
      if (f.targetType) q = q.where('target_type', '=', f.targetType);
      if (f.targetId) q = q.where('target_id', '=', f.targetId);
      if (f.siteId) q = q.where('site_id', '=', f.siteId);
      if (f.outcome) q = q.where('outcome', '=', f.outcome);
      if (f.beforeId) q = q.where('id', '<', f.beforeId);
      const rows = await q.execute();
      return rows.map(toEvent);
    },
    async count(): Promise<number> {
      const r = await db.selectFrom('audit_event').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
