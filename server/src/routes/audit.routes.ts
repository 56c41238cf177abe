import { createRoute, z } from '@hono/zod-openapi';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES } from '@mamoru/contract/enums';
import type { ChainedEvent } from '../domain/audit-chain.ts';
import { errorResponses, IsoDate, json, router, sessionSecurity } from '../http/openapi.ts';
import type { AuditService } from '../services/audit.service.ts';


const Event = z
  .object({
    id: z.string(),
    occurredAt: z.string(),
    actorType: z.enum(AUDIT_ACTOR_TYPES),
    actorId: z.string().nullable(),
    actorLabel: z.string().nullable(),
    actorRole: z.string().nullable(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    siteId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    purpose: z.string().nullable(),
    requestId: z.string().nullable().openapi({ description: "the centre's own id of the request" }),
    clientRequestId: z.string().nullable().openapi({ description: "the X-Request-Id the client sent, if any (the client's claim, not the centre's id)" }),
    outcome: z.enum(AUDIT_OUTCOMES),
    details: z.unknown(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent');
const out = (e: ChainedEvent) => ({ ...e, clientRequestId: e.clientRequestId ?? null, occurredAt: e.occurredAt.toISOString() });

const EventsQuery = z.object({
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  actorId: z.string().max(200).optional(),
  actor: z.string().max(200).optional().openapi({ description: "the actor's id or label (a person's login)" }),
  action: z.string().max(100).optional().openapi({ description: 'exact action, or a prefix like `auth.*`' }),
  targetType: z.string().max(100).optional(),
  targetId: z.string().max(200).optional(),
  siteId: z.string().uuid().optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  cursor: z.string().regex(/^\d{1,18}$/).optional().openapi({ description: '`nextCursor` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const Verify = z
  .object({
    ok: z.boolean(),
    checked: z.number(),
    lastGood: z.object({ id: z.string(), hash: z.string() }),
    head: z.object({ lastId: z.string(), lastHash: z.string() }),
    firstBroken: z.object({ id: z.string(), reason: z.string(), expectedId: z.string().optional(), detail: z.string() }).optional(),
  })
  .openapi('AuditVerification');

/** The audit log for the auditor: events (newest first) and the chain check. */
export function auditRoutes(deps: { audit: AuditService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/events',
      summary: 'Audit events, newest first, filtered and paginated (role auditor)',
      security: sessionSecurity,
      request: { query: EventsQuery },
      responses: { 200: json(z.object({ events: z.array(Event), nextCursor: z.string().nullable() })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { cursor, limit, ...filter } = c.req.valid('query');
      const r = await deps.audit.list(c.get('principal'), { ...filter, ...(cursor && { beforeId: cursor }) }, limit);
      return c.json({ events: r.events.map(out), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/verify',
      summary: 'Walk the hash chain and report the first broken link (role auditor)',
      security: sessionSecurity,
      responses: { 200: json(Verify), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await deps.audit.verify(c.get('principal')), 200),
  );
  return app;
}
