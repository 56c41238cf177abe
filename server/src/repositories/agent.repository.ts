import type { Db } from '../db/connect.ts';

export type AgentRow = { id: string; siteId: string; credentialHash: string; revokedAt: Date | null };

export type AgentStatus = {
  version: string;
  clockOffsetMs: number | null;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  backlogCount: number | null;
  backlogBytes: number | null;
};

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
          .select(['id', 'siteId', 'expiresAt', 'usedAt'])
          .where('tokenHash', '=', e.tokenHash)
          .forUpdate()
          .executeTakeFirst();
        if (!token) return { kind: 'unknown' as const };
        if (token.usedAt) return { kind: 'used' as const };
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
