import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../http/openapi.ts';
import type { HealthService } from '../services/health.service.ts';
import type { Clock } from '../adapters/clock.ts';

export function systemRoutes(deps: { health: HealthService; clock: Clock }) {
  const app = router();
  const Check = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });
  const Storage = z.object({
    objectLock: z.boolean(),
    versioning: z.boolean(),
    encryption: z.boolean(),
    evidenceProtection: z.enum(['storage', 'application_only']).openapi({ description: '`storage`: the bucket has Object Lock, held evidence carries S3 legal holds that no credential can delete through; `application_only`: only the centre\'s own rules protect it' }),
    warning: z.string().nullable(),
  });
  const Health = z.object({ ok: z.boolean(), checks: z.object({ postgres: Check, redis: Check, s3: Check }), storage: Storage.nullable() });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      summary: 'PostgreSQL, Redis and S3 reachability, and whether the storage itself protects evidence (Object Lock)',
      responses: { 200: { description: 'healthy', content: { 'application/json': { schema: Health } } }, 503: { description: 'unhealthy', content: { 'application/json': { schema: Health } } } },
    }),
    async (c) => {
      const h = await deps.health.check();
      return h.ok ? c.json(h, 200) : c.json(h, 503);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/time', summary: 'Server time (ms since epoch), for clock-offset checks', responses: { 200: { description: 'time', content: { 'application/json': { schema: z.object({ nowMs: z.number() }) } } } } }),
    (c) => c.json({ nowMs: deps.clock.now().getTime() }, 200),
  );
  return app;
}
