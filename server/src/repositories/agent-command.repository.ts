import type { CommandStatus, CommandResult } from '@mamoru/contract/enums';
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { AgentCommandKind } from '../db/schema.ts';

export type { CommandStatus };

/** What a `preserve_window` command carries (the wire form adds `id` and `kind`; see edge-agent/src/contracts.ts). */
export type PreserveWindowPayload = { cameraKey: string; from: string; to: string; incidentId: string | null };

export type CommandRow = {
  id: string;
  siteId: string;
  kind: AgentCommandKind;
  payload: PreserveWindowPayload;
  incidentId: string | null;
  status: CommandStatus;
  createdAt: Date;
  deliveredAt: Date | null;
  completedAt: Date | null;
  detail: string | null;
};

const COLUMNS = ['id', 'siteId', 'kind', 'payload', 'incidentId', 'status', 'createdAt', 'deliveredAt', 'completedAt', 'detail'] as const;

/** Work for agents behind NAT: queued here, delivered in heartbeat answers, acknowledged by the agent. */
export function agentCommandRepository(db: Db) {
  return {
    async insert(c: { siteId: string; kind: AgentCommandKind; payload: PreserveWindowPayload; incidentId: string | null; now: Date }): Promise<CommandRow> {
      return db
        .insertInto('agentCommand')
        .values({ siteId: c.siteId, kind: c.kind, payload: JSON.stringify(c.payload), incidentId: c.incidentId, createdAt: c.now })
        .returning(COLUMNS)
        .$narrowType<{ payload: PreserveWindowPayload }>()
        .executeTakeFirstOrThrow();
    },

    /**
     * Claims the site's commands to hand out now: pending ones, and delivered ones not acknowledged since
     * `redeliverBefore`; marks them delivered at `now` and returns them as they were before (so a redelivery shows as
     * one). Run it in a transaction: rows another replica is delivering are skipped (SKIP LOCKED), so one heartbeat
     * never waits on another. Oldest first.
     */
    async claimForDelivery(siteId: string, now: Date, redeliverBefore: Date, limit: number): Promise<CommandRow[]> {
      const rows = await db
        .selectFrom('agentCommand')
        .select(COLUMNS)
        .$narrowType<{ payload: PreserveWindowPayload }>()
        .where('siteId', '=', siteId)
        .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'delivered'), eb('deliveredAt', '<', redeliverBefore)])]))
        .orderBy('createdAt')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return [];
      await db
        .updateTable('agentCommand')
        .set({ status: 'delivered', deliveredAt: now })
        .where('id', 'in', rows.map((r) => r.id))
        .execute();
      return rows;
    },

    /** Scoped lookup: another site's command is as missing as one that does not exist. */
    async findForSite(id: string, siteId: string, lock = false): Promise<CommandRow | undefined> {
      let q = db.selectFrom('agentCommand').select(COLUMNS).$narrowType<{ payload: PreserveWindowPayload }>().where('id', '=', id).where('siteId', '=', siteId);
      if (lock) q = q.forUpdate();
      return q.executeTakeFirst();
    },

    async complete(id: string, status: CommandResult, detail: string | null, now: Date): Promise<void> {
      await db.updateTable('agentCommand').set({ status, detail, completedAt: now }).where('id', '=', id).execute();
    },

    /** Closes open commands (pending or delivered) as failed with a detail, e.g. when the centre no longer needs them. */
    async cancelOpen(ids: readonly string[], detail: string, now: Date): Promise<number> {
      if (ids.length === 0) return 0;
      const r = await db
        .updateTable('agentCommand')
        .set({ status: 'failed', detail, completedAt: now })
        .where('id', 'in', [...ids])
        .where('status', 'in', ['pending', 'delivered'])
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async findByIds(ids: readonly string[]): Promise<CommandRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('agentCommand').select(COLUMNS).$narrowType<{ payload: PreserveWindowPayload }>().where('id', 'in', [...ids]).execute();
    },

    async countOpen(siteId: string): Promise<number> {
      const r = await db
        .selectFrom('agentCommand')
        .select(sql<string>`count(*)`.as('n'))
        .where('siteId', '=', siteId)
        .where('status', 'in', ['pending', 'delivered'])
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
export type AgentCommandRepository = ReturnType<typeof agentCommandRepository>;
