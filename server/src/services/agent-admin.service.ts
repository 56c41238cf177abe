import type { Clock } from '../adapters/clock.ts';
import { randomToken, sha256Hex } from '../adapters/crypto.ts';
import type { Principal } from '../domain/principal.ts';
import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { AgentRecord, EnrollmentTokenRecord } from '../repositories/agent.repository.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type TokenState = 'active' | 'used' | 'expired' | 'revoked';
export type EnrollmentTokenView = EnrollmentTokenRecord & { state: TokenState };

export function tokenState(t: Pick<EnrollmentTokenRecord, 'usedAt' | 'revokedAt' | 'expiresAt'>, now: Date): TokenState {
  if (t.usedAt) return 'used';
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt <= now) return 'expired';
  return 'active';
}

/** Who did it, as the token and agent rows record it (`created_by`, `revoked_by`). */
const actorName = (p: Principal) => (p.kind === 'user' ? `user:${p.login}` : p.kind === 'system' ? p.name : p.kind);

/**
 * Agents from the admin's side (role admin): enrollment tokens (issue, list, revoke before use) and agents
 * (list, revoke). A revoked agent's credential is refused at once (agent-auth checks `revoked_at` on every request).
 */
export function agentAdminService(deps: { tx: Transactor; agents: Repositories['agents']; sites: Repositories['sites']; audit: AuditService; clock: Clock }) {
  const { tx, agents, sites, audit, clock } = deps;
  return {
    async listTokens(p: Principal, opts: { siteId?: string | undefined; limit: number }): Promise<EnrollmentTokenView[]> {
      ensureCan(p, 'agents:manage');
      const rows = await agents.listTokens(opts.siteId ? [opts.siteId] : 'all', opts.limit);
      await audit.record(p, { action: 'agent.enrollment_token.list', siteId: opts.siteId ?? null, details: { count: rows.length } });
      const now = clock.now();
      return rows.map((t) => ({ ...t, state: tokenState(t, now) }));
    },

    /** A one-time token for a site's agent; the secret is answered once and only its hash is kept. */
    async issueToken(p: Principal, siteId: string, ttlSeconds: number) {
      ensureCan(p, 'agents:manage');
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 30 * 86400) throw badRequest('invalid_ttl', 'ttl must be 60 s to 30 days');
      const site = UUID.test(siteId) ? await sites.findById(siteId) : undefined;
      if (!site) throw notFound('site_not_found', 'site not found');
      const token = `mmr_enr_${randomToken()}`;
      const now = clock.now();
      const row = await tx(async (r) => {
        const t = await r.agents.createToken({ siteId: site.id, tokenHash: sha256Hex(token), expiresAt: new Date(now.getTime() + ttlSeconds * 1000), createdBy: actorName(p) });
        await audit.recordWithin(r, p, { action: 'agent.enrollment_token.issue', targetType: 'enrollment_token', targetId: t.id, siteId: site.id, details: { expiresAt: t.expiresAt.toISOString() } });
        return (await r.agents.findToken(t.id))!;
      });
      return { ...row, state: tokenState(row, now), token };
    },

    /** Revokes an unused token (idempotent); a used one is a 409: revoke its agent instead. */
    async revokeToken(p: Principal, id: string): Promise<EnrollmentTokenView> {
      ensureCan(p, 'agents:manage');
      const now = clock.now();
      return tx(async (r) => {
        const t = UUID.test(id) ? await r.agents.findToken(id, true) : undefined;
        if (!t) throw notFound('enrollment_token_not_found', 'enrollment token not found');
        if (t.usedAt) throw conflict('enrollment_token_used', 'this token was already used; revoke the agent it enrolled instead', { agentId: t.agentId });
        await r.agents.revokeToken(id, now, actorName(p));
        await audit.recordWithin(r, p, { action: 'agent.enrollment_token.revoke', targetType: 'enrollment_token', targetId: id, siteId: t.siteId, details: { alreadyRevoked: t.revokedAt !== null } });
        const after = (await r.agents.findToken(id))!;
        return { ...after, state: tokenState(after, now) };
      });
    },

    async listAgents(p: Principal, opts: { siteId?: string | undefined }): Promise<AgentRecord[]> {
      ensureCan(p, 'agents:manage');
      const rows = await agents.listAgents(opts.siteId ? [opts.siteId] : 'all');
      await audit.record(p, { action: 'agent.list', siteId: opts.siteId ?? null, details: { count: rows.length } });
      return rows;
    },

    /** Revokes an agent's credential (idempotent): its next request gets 401 agent_credential_invalid. */
    async revokeAgent(p: Principal, id: string): Promise<AgentRecord> {
      ensureCan(p, 'agents:manage');
      const now = clock.now();
      return tx(async (r) => {
        const a = UUID.test(id) ? await r.agents.findAgent(id, true) : undefined;
        if (!a) throw notFound('agent_not_found', 'agent not found');
        await r.agents.revokeAgent(id, now, actorName(p));
        await audit.recordWithin(r, p, { action: 'agent.revoke', targetType: 'agent', targetId: id, siteId: a.siteId, details: { hostname: a.hostname, alreadyRevoked: a.revokedAt !== null } });
        return (await r.agents.findAgent(id))!;
      });
    },
  };
}
export type AgentAdminService = ReturnType<typeof agentAdminService>;
