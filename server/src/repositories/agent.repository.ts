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
    .selectFrom('enrollment_token')
    .innerJoin('site', 'site.id', 'enrollment_token.site_id')
    .select([
      'enrollment_token.id',
      'enrollment_token.site_id',
      'site.code as site_code',
      'site.name as site_name',
      'enrollment_token.created_by',
      'enrollment_token.created_at',
      'enrollment_token.expires_at',
      'enrollment_token.used_at',
      'enrollment_token.agent_id',
      'enrollment_token.revoked_at',
      'enrollment_token.revoked_by',
    ]);
const toToken = (r: Awaited<ReturnType<ReturnType<typeof tokenSelect>['executeTakeFirstOrThrow']>>): EnrollmentTokenRecord => ({
  id: r.id,
  siteId: r.site_id,
  siteCode: r.site_code,
  siteName: r.site_name,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  agentId: r.agent_id,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});

const agentSelect = (db: Db) =>
  db
    .selectFrom('agent')
    .innerJoin('site', 'site.id', 'agent.site_id')
    .select(['agent.id', 'agent.site_id', 'site.code as site_code', 'site.name as site_name', 'agent.hostname', 'agent.version', 'agent.last_contact_at', 'agent.created_at', 'agent.revoked_at', 'agent.revoked_by']);
const toAgent = (r: Awaited<ReturnType<ReturnType<typeof agentSelect>['executeTakeFirstOrThrow']>>): AgentRecord => ({
  id: r.id,
  siteId: r.site_id,
  siteCode: r.site_code,
  siteName: r.site_name,
  hostname: r.hostname,
  version: r.version,
  lastContactAt: r.last_contact_at,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});

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
          .select(['id', 'site_id', 'expires_at', 'used_at', 'revoked_at'])
          .where('token_hash', '=', e.tokenHash)
          .forUpdate()
          .executeTakeFirst();
        if (!token) return { kind: 'unknown' as const };
        if (token.used_at) return { kind: 'used' as const };
        if (token.revoked_at) return { kind: 'revoked' as const };
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
    /** Tokens, newest first, with their site (the secret is never stored, only its hash, so never listed). */
    async listTokens(siteIds: readonly string[] | 'all', limit: number): Promise<EnrollmentTokenRecord[]> {
      let q = tokenSelect(db).orderBy('enrollment_token.created_at', 'desc').limit(limit);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('enrollment_token.site_id', 'in', siteIds);
      }
      return (await q.execute()).map(toToken);
    },
    async findToken(id: string, forUpdate = false): Promise<EnrollmentTokenRecord | undefined> {
      let q = tokenSelect(db).where('enrollment_token.id', '=', id);
      if (forUpdate) q = q.forUpdate('enrollment_token');
      const r = await q.executeTakeFirst();
      return r && toToken(r);
    },
    async revokeToken(id: string, at: Date, by: string) {
      await db.updateTable('enrollment_token').set({ revoked_at: at, revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    },
    /** Agents (revoked ones too), newest first, with their site. */
    async listAgents(siteIds: readonly string[] | 'all'): Promise<AgentRecord[]> {
      let q = agentSelect(db).orderBy('site.code').orderBy('agent.created_at', 'desc');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('agent.site_id', 'in', siteIds);
      }
      return (await q.execute()).map(toAgent);
    },
    async findAgent(id: string, forUpdate = false): Promise<AgentRecord | undefined> {
      let q = agentSelect(db).where('agent.id', '=', id);
      if (forUpdate) q = q.forUpdate('agent');
      const r = await q.executeTakeFirst();
      return r && toAgent(r);
    },
    async revokeAgent(id: string, at: Date, by: string) {
      await db.updateTable('agent').set({ revoked_at: at, revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null).execute();
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
