import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './app-env.ts';

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: 'error', content: { 'application/json': { schema: ErrorSchema } } }]));

/** A router whose validation failures answer 400 `invalid_request` in the one error shape. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(
          {
            error: {
              code: 'invalid_request',
              message: result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
              requestId: c.get('requestId') ?? '',
              details: result.error.issues.map((i) => ({ path: i.path, message: i.message })),
            },
          },
          400,
        );
      }
    },
  });
}

export const IsoDate = z.string().datetime({ offset: true }).transform((s) => new Date(s)).openapi({ type: 'string', format: 'date-time' });
