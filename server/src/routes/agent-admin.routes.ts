import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, IdParam, iso, json, router, sessionSecurity as security } from '../http/openapi.ts';
import type { AgentRecord } from '../repositories/agent.repository.ts';
import type { AgentAdminService, EnrollmentTokenView } from '../services/agent-admin.service.ts';

const Id = IdParam;

const EnrollmentToken = z
  .object({
    id: z.string(),
    siteId: z.string(),
    siteCode: z.string(),
    siteName: z.string(),
    state: z.enum(['active', 'used', 'expired', 'revoked']),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    usedAt: z.string().nullable(),
    agentId: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('EnrollmentToken');
const tokenOut = (t: EnrollmentTokenView) => ({
  id: t.id,
  siteId: t.siteId,
  siteCode: t.siteCode,
  siteName: t.siteName,
  state: t.state,
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt.toISOString(),
  usedAt: iso(t.usedAt),
  agentId: t.agentId,
  revokedAt: iso(t.revokedAt),
  revokedBy: t.revokedBy,
});

const Agent = z
  .object({
    id: z.string(),
    siteId: z.string(),
    siteCode: z.string(),
    siteName: z.string(),
    hostname: z.string().nullable(),
    version: z.string().nullable(),
    lastContactAt: z.string().nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('Agent');
const agentOut = (a: AgentRecord) => ({ ...a, lastContactAt: iso(a.lastContactAt), createdAt: a.createdAt.toISOString(), revokedAt: iso(a.revokedAt) });

/** Enrollment tokens and agents (role admin). */
export function agentAdminRoutes(deps: { agents: AgentAdminService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/enrollment-tokens',
      summary: 'Enrollment tokens, newest first, with their state (the secret is never shown again)',
      security,
      request: { query: z.object({ siteId: z.string().uuid().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: { 200: json(z.object({ tokens: z.array(EnrollmentToken) })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json({ tokens: (await deps.agents.listTokens(c.get('principal'), c.req.valid('query'))).map(tokenOut) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/enrollment-tokens',
      summary: "Issue a one-time enrollment token for a site's agent; the token is in this answer only",
      security,
      request: { body: { content: { 'application/json': { schema: z.object({ siteId: z.string().uuid(), ttlSeconds: z.number().int().min(60).max(30 * 86400).default(86400) }) } }, required: true } },
      responses: { 201: json(EnrollmentToken.extend({ token: z.string() })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const t = await deps.agents.issueToken(c.get('principal'), b.siteId, b.ttlSeconds);
      return c.json({ ...tokenOut(t), token: t.token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/enrollment-tokens/{id}/revoke',
      summary: 'Revoke an unused enrollment token (idempotent); a used one answers 409 enrollment_token_used',
      security,
      request: { params: Id },
      responses: { 200: json(EnrollmentToken), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(tokenOut(await deps.agents.revokeToken(c.get('principal'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/agents',
      summary: 'Agents of every site (revoked ones too)',
      security,
      request: { query: z.object({ siteId: z.string().uuid().optional() }) },
      responses: { 200: json(z.object({ agents: z.array(Agent) })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json({ agents: (await deps.agents.listAgents(c.get('principal'), c.req.valid('query'))).map(agentOut) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/agents/{id}/revoke',
      summary: "Revoke an agent's credential (idempotent): its next request is refused",
      security,
      request: { params: Id },
      responses: { 200: json(Agent), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(agentOut(await deps.agents.revokeAgent(c.get('principal'), c.req.valid('param').id)), 200),
  );
  return app;
}
