import { createRoute, z } from '@hono/zod-openapi';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, RETENTION_CLASSES } from '../domain/retention.ts';
import { errorResponses, router } from '../http/openapi.ts';
import type { PolicyView, RetentionPolicyService } from '../services/retention.service.ts';

const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const security = [{ session: [] }];

const Policy = z
  .object({
    class: z.enum(RETENTION_CLASSES),
    retentionDays: z.number().nullable().openapi({ description: 'null: until released (legal hold)' }),
    description: z.string(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .openapi('RetentionPolicy');
const Policies = z.object({ policies: z.array(Policy) });
const out = (rows: PolicyView[]) => ({ policies: rows.map((p) => ({ ...p, updatedAt: p.updatedAt.toISOString() })) });

const PutBody = z.object({
  policies: z
    .array(z.object({ class: z.enum(RETENTION_CLASSES), retentionDays: z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).nullable() }))
    .min(1)
    .max(RETENTION_CLASSES.length),
});

/** Retention policies: read by hq and the auditor, edited by hq (docs/design.md §6, §7). */
export function retentionRoutes(deps: { policies: RetentionPolicyService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/retention/policies',
      summary: 'Retention period of each class (routine footage, routine calls, incident evidence, legal hold)',
      security,
      responses: { 200: json(Policies), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(out(await deps.policies.list(c.get('principal'))), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/retention/policies',
      summary: 'Set the period of one or more classes (hq only; audited with the old and new values)',
      description: '`legal_hold` has no period (400 `legal_hold_not_finite`); the others need one (400 `retention_days_required`). Answers every policy.',
      security,
      request: { body: { content: { 'application/json': { schema: PutBody } }, required: true } },
      responses: { 200: json(Policies), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(out(await deps.policies.update(c.get('principal'), c.req.valid('json').policies)), 200),
  );

  return app;
}
