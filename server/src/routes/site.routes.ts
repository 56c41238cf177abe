import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, router, sessionSecurity } from '../http/openapi.ts';
import type { SiteService } from '../services/site.service.ts';

const Site = z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }).openapi('Site');

export function siteRoutes(deps: { sites: SiteService }) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/sites',
      summary: "Sites the caller may name: their own (store managers, security), or all (hq, admin, auditor)",
      security: sessionSecurity,
      responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({ sites: z.array(Site) }) } } }, ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ sites: await deps.sites.list(c.get('principal')) }, 200),
  );
  return app;
}
