import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, iso, router, sessionSecurity } from '../http/openapi.ts';
import type { JobStatusService } from '../services/job-status.service.ts';

const Job = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.string(),
    payload: z.unknown(),
    progress: z.unknown(),
    attemptsMade: z.number(),
    maxAttempts: z.number(),
    failedReason: z.string().nullable(),
    result: z.unknown(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Job');

/** Background job state (operators: principals that read every site). The session gate in app.ts sets the principal. */
export function jobRoutes(deps: { jobs: JobStatusService }) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}',
      summary: 'State, progress, attempts and failure reason of a background job',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().min(1).max(200) }) },
      responses: { 200: { description: 'job', content: { 'application/json': { schema: Job } } }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const j = await deps.jobs.get(c.get('principal'), c.req.valid('param').id);
      return c.json({ ...j, createdAt: j.createdAt.toISOString(), startedAt: iso(j.startedAt), finishedAt: iso(j.finishedAt) }, 200);
    },
  );
  return app;
}
