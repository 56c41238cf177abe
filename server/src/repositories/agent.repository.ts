import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

import type { RefusalSubject } from '@mamoru/contract/enums';
export type { RefusalSubject };

export type AgentRow = { id: string; siteId: string; credentialHash: string; revokedAt: Date | null };

export type AgentStatus = {
  version: string;
  clockOffsetMs: number | null;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  backlogCount: number | null;
  backlogBytes: number | null;
};

export type EnrollmentTokenRecord = {
  id: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  agentId: string | null;
  revokedAt: Date | null;
  revokedBy: string | null;
};

export type AgentRecord = {
  id: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  hostname: string | null;
  version: string | null;
  lastContactAt: Date | null;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
};

const tokenSelect = (db: Db) =>
  db
    .selectFrom('enrollmentToken')
    .innerJoin('site', 'site.id', 'enrollmentToken.siteId')
    .select([
      'enrollmentToken.id',
      'enrollmentToken.siteId',
      'site.code as siteCode',
      'site.name as siteName',
      'enrollmentToken.createdBy',
      'enrollmentToken.createdAt',
      'enrollmentToken.expiresAt',
      'enrollmentToken.usedAt',
      'enrollmentToken.agentId',
      'enrollmentToken.revokedAt',
      'enrollmentToken.revokedBy',
    ]);

const agentSelect = (db: Db) =>
  db
    .selectFrom('agent')
    .innerJoin('site', 'site.id', 'agent.siteId')
    .select(['agent.id', 'agent.siteId', 'site.code as siteCode', 'site.name as siteName', 'agent.hostname', 'agent.version', 'agent.lastContactAt', 'agent.createdAt', 'agent.revokedAt', 'agent.revokedBy']);

export function agentRepository(db: Db) {
  return {
    async createToken(t: { siteId: string; tokenHash: string; expiresAt: Date; createdBy: string }) {
      return db
        .insertInto('enrollmentToken')
        .values({ siteId: t.siteId, tokenHash: t.tokenHash, expiresAt: t.expiresAt, createdBy: t.createdBy })
        .returning(['id', 'expiresAt'])
        .executeTakeFirstOrThrow();
    },
    /**
     * Consumes a token and creates the agent in one transaction. The UPDATE ... WHERE used_at IS NULL makes a
     * token single-use even under concurrent enrollments.
     */
    async enroll(e: { tokenHash: string; now: Date; credentialHash: (agentId: string) => string; hostname: string | null; version: string | null }) {
      return db.transaction().execute(async (trx) => {
        const token = await trx
          .selectFrom('enrollmentToken')
          .select(['id', 'siteId', 'expiresAt', 'usedAt', 'revokedAt'])
          .where('tokenHash', '=', e.tokenHash)
          .forUpdate()
          .executeTakeFirst();
        if (!token) return { kind: 'unknown' as const };
        if (token.usedAt) return { kind: 'used' as const };
        if (token.revokedAt) return { kind: 'revoked' as const };
        if (token.expiresAt <= e.now) return { kind: 'expired' as const };
        const id = crypto.randomUUID();
        await trx
          .insertInto('agent')
          .values({ id, siteId: token.siteId, credentialHash: e.credentialHash(id), hostname: e.hostname, version: e.version, lastContactAt: e.now })
          .execute();
        await trx.updateTable('enrollmentToken').set({ usedAt: e.now, agentId: id }).where('id', '=', token.id).execute();
        return { kind: 'ok' as const, agentId: id, siteId: token.siteId };
      });
    },
    async findById(id: string): Promise<AgentRow | undefined> {
      return db.selectFrom('agent').select(['id', 'siteId', 'credentialHash', 'revokedAt']).where('id', '=', id).executeTakeFirst();
    },
    async recordContact(id: string, at: Date, status?: AgentStatus) {
      await db
        .updateTable('agent')
        .set({
          lastContactAt: at,
          ...(status && {
            version: status.version,
            clockOffsetMs: status.clockOffsetMs,
            diskUsedBytes: status.diskUsedBytes,
            diskTotalBytes: status.diskTotalBytes,
            backlogCount: status.backlogCount,
            backlogBytes: status.backlogBytes,
          }),
        })
        .where('id', '=', id)
        .execute();
    },
    /** The clock offset (agent − centre, ms) the agent reported in its last heartbeat; null when none yet. */
    async clockOffsetOf(id: string): Promise<number | null> {
      const r = await db.selectFrom('agent').select('clockOffsetMs').where('id', '=', id).executeTakeFirst();
      return r?.clockOffsetMs ?? null;
    },
    /** Counts one refused request of an agent (one row per agent, subject and code; the latest detail is kept). */
    async recordRefusal(r: { agentId: string; siteId: string; subject: RefusalSubject; code: string; at: Date; detail: unknown }): Promise<void> {
      const detail = JSON.stringify(r.detail);
      await db
        .insertInto('ingestRefusal')
        .values({ agentId: r.agentId, siteId: r.siteId, subject: r.subject, code: r.code, firstAt: r.at, lastAt: r.at, lastDetail: detail })
        .onConflict((oc) =>
          oc.constraint('ingest_refusal_identity_uq').doUpdateSet({ count: sql`ingest_refusal.count + 1`, lastAt: r.at, lastDetail: detail }),
        )
        .execute();
    },
    /** Tokens, newest first, with their site (the secret is never stored, only its hash, so never listed). */
    async listTokens(siteIds: readonly string[] | 'all', limit: number): Promise<EnrollmentTokenRecord[]> {
      let q = tokenSelect(db).orderBy('enrollmentToken.createdAt', 'desc').limit(limit);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('enrollmentToken.siteId', 'in', siteIds);
      }
      return q.execute();
    },
    async findToken(id: string, forUpdate = false): Promise<EnrollmentTokenRecord | undefined> {
      let q = tokenSelect(db).where('enrollmentToken.id', '=', id);
      if (forUpdate) q = q.forUpdate('enrollmentToken');
      return q.executeTakeFirst();
    },
    async revokeToken(id: string, at: Date, by: string) {
      await db.updateTable('enrollmentToken').set({ revokedAt: at, revokedBy: by }).where('id', '=', id).where('revokedAt', 'is', null).execute();
    },
    /** Agents (revoked ones too), newest first, with their site. */
    async listAgents(siteIds: readonly string[] | 'all'): Promise<AgentRecord[]> {
      let q = agentSelect(db).orderBy('site.code').orderBy('agent.createdAt', 'desc');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('agent.siteId', 'in', siteIds);
      }
      return q.execute();
    },
    async findAgent(id: string, forUpdate = false): Promise<AgentRecord | undefined> {
      let q = agentSelect(db).where('agent.id', '=', id);
      if (forUpdate) q = q.forUpdate('agent');
      return q.executeTakeFirst();
    },
    async revokeAgent(id: string, at: Date, by: string) {
      await db.updateTable('agent').set({ revokedAt: at, revokedBy: by }).where('id', '=', id).where('revokedAt', 'is', null).execute();
    },
    async listForSite(siteId: string) {
      return db
        .selectFrom('agent')
        .select(['id', 'hostname', 'version', 'clockOffsetMs', 'diskUsedBytes', 'diskTotalBytes', 'backlogCount', 'backlogBytes', 'lastContactAt', 'revokedAt'])
        .where('siteId', '=', siteId)
        .execute();
    },
  };
}
export type AgentRepository = ReturnType<typeof agentRepository>;
