import type { Clock } from '../adapters/clock.ts';
import { randomToken, safeEqual, sha256Hex } from '../adapters/crypto.ts';
import { badRequest, conflict, gone, notFound, unauthorized } from '../domain/errors.ts';
import type { AgentRepository } from '../repositories/agent.repository.ts';
import type { SiteRepository } from '../repositories/site.repository.ts';
import { NO_ORIGIN, type AgentPrincipal, type RequestOrigin } from '../domain/principal.ts';
import type { AuditService } from './audit.service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Enrollment tokens and agent credentials. Both are 256-bit random secrets, so a SHA-256 digest is enough to store
 * them (a slow hash guards guessable passwords, not random keys) and keeps per-request authentication cheap.
 */
export function agentAuthService(deps: { agents: AgentRepository; sites: SiteRepository; clock: Clock; audit: AuditService }) {
  const { agents, sites, clock, audit } = deps;
  return {
    async issueEnrollmentToken(siteCode: string, ttlSeconds: number, createdBy: string) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 30 * 86400) throw badRequest('invalid_ttl', 'ttl must be 60 s to 30 days');
      const site = await sites.findByCode(siteCode);
      if (!site) throw notFound('site_not_found', `no site with code ${siteCode}`);
      const token = `mmr_enr_${randomToken()}`;
      const row = await agents.createToken({ siteId: site.id, tokenHash: sha256Hex(token), expiresAt: new Date(clock.now().getTime() + ttlSeconds * 1000), createdBy });
      await audit.record({ kind: 'system', name: createdBy, origin: NO_ORIGIN }, {
        action: 'agent.enrollment_token.issue',
        targetType: 'enrollment_token',
        targetId: row.id,
        siteId: site.id,
        details: { expiresAt: row.expiresAt.toISOString() },
      });
      return { token, siteId: site.id, siteCode: site.code, expiresAt: row.expiresAt };
    },

    async enroll(token: string, hostname: string | null, version: string | null, origin: RequestOrigin = NO_ORIGIN) {
      const secret = randomToken();
      const result = await agents.enroll({ tokenHash: sha256Hex(token), now: clock.now(), credentialHash: () => sha256Hex(secret), hostname, version });
      if (result.kind !== 'ok') await audit.record({ kind: 'anonymous', label: hostname, origin }, { action: 'agent.enroll', outcome: 'failure', details: { reason: `token_${result.kind}` } });
      switch (result.kind) {
        case 'unknown':
          throw unauthorized('enrollment_token_invalid', 'enrollment token is not valid');
        case 'used':
          throw conflict('enrollment_token_used', 'enrollment token was already used');
        case 'expired':
          throw gone('enrollment_token_expired', 'enrollment token has expired');
        case 'ok': {
          const site = (await sites.findById(result.siteId))!;
          await audit.record({ kind: 'agent', agentId: result.agentId, siteId: site.id, origin }, { action: 'agent.enroll', targetType: 'agent', targetId: result.agentId, details: { hostname, version } });
          return { agentId: result.agentId, siteId: site.id, siteCode: site.code, timezone: site.timezone, credential: `${result.agentId}.${secret}` };
        }
      }
    },

    /** `Authorization: Bearer <agentId>.<secret>` → the agent's principal, bound to its site. */
    async authenticate(bearer: string | undefined, origin: RequestOrigin = NO_ORIGIN): Promise<AgentPrincipal> {
      if (!bearer) throw unauthorized('agent_credential_missing', 'agent credential required');
      const dot = bearer.indexOf('.');
      const agentId = bearer.slice(0, dot);
      const secret = bearer.slice(dot + 1);
      if (dot < 0 || !UUID.test(agentId) || secret.length < 20) throw unauthorized('agent_credential_invalid', 'agent credential is not valid');
      const agent = await agents.findById(agentId);
      if (!agent || agent.revokedAt || !safeEqual(agent.credentialHash, sha256Hex(secret))) {
        throw unauthorized('agent_credential_invalid', 'agent credential is not valid');
      }
      return { kind: 'agent', agentId: agent.id, siteId: agent.siteId, origin };
    },
  };
}
export type AgentAuthService = ReturnType<typeof agentAuthService>;
