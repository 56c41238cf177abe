import type { Db } from '../db/connect.ts';

export type AgentRow = { id: string; site_id: string; credential_hash: string; revoked_at: Date | null };

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
        .insertInto('enrollment_token')
        .values({ site_id: t.siteId, token_hash: t.tokenHash, expires_at: t.expiresAt, created_by: t.createdBy })
        .returning(['id', 'expires_at'])
        .executeTakeFirstOrThrow();
    },
    /**
     * Consumes a token and creates the agent in one transaction. The UPDATE ... WHERE used_at IS NULL makes a
     * token single-use even under concurrent enrollments.
     */
    async enroll(e: { tokenHash: string; now: Date; credentialHash: (agentId: string) => string; hostname: string | null; version: string | null }) {
      return db.transaction().execute(async (trx) => {
        const token = await trx
          .selectFrom('enrollment_token')
          .select(['id', 'site_id', 'expires_at', 'used_at'])
          .where('token_hash', '=', e.tokenHash)
          .forUpdate()
          .executeTakeFirst();
        if (!token) return { kind: 'unknown' as const };
        if (token.used_at) return { kind: 'used' as const };
        if (token.expires_at <= e.now) return { kind: 'expired' as const };
        const id = crypto.randomUUID();
        await trx
          .insertInto('agent')
          .values({ id, site_id: token.site_id, credential_hash: e.credentialHash(id), hostname: e.hostname, version: e.version, last_contact_at: e.now })
          .execute();
        await trx.updateTable('enrollment_token').set({ used_at: e.now, agent_id: id }).where('id', '=', token.id).execute();
        return { kind: 'ok' as const, agentId: id, siteId: token.site_id };
      });
    },
    async findById(id: string): Promise<AgentRow | undefined> {
      return db.selectFrom('agent').select(['id', 'site_id', 'credential_hash', 'revoked_at']).where('id', '=', id).executeTakeFirst();
    },
    async recordContact(id: string, at: Date, status?: AgentStatus) {
      await db
        .updateTable('agent')
        .set({
          last_contact_at: at,
          ...(status && {
            version: status.version,
            clock_offset_ms: status.clockOffsetMs,
            disk_used_bytes: status.diskUsedBytes,
            disk_total_bytes: status.diskTotalBytes,
            backlog_count: status.backlogCount,
            backlog_bytes: status.backlogBytes,
          }),
        })
        .where('id', '=', id)
        .execute();
    },
    async listForSite(siteId: string) {
      return db
        .selectFrom('agent')
        .select(['id', 'hostname', 'version', 'clock_offset_ms', 'disk_used_bytes', 'disk_total_bytes', 'backlog_count', 'backlog_bytes', 'last_contact_at', 'revoked_at'])
        .where('site_id', '=', siteId)
        .execute();
    },
  };
}
export type AgentRepository = ReturnType<typeof agentRepository>;
