import { OpenAPIHono } from '@hono/zod-openapi';
import { ErrorBodySchema, IsoDateTime } from '@mamoru/contract';
import type { AppEnv } from './app-env.ts';

/** The one error shape (@mamoru/contract), named `Error` in the OpenAPI document. */
export const ErrorSchema = ErrorBodySchema.openapi('Error');

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

export const IsoDate = IsoDateTime.openapi({ type: 'string', format: 'date-time' });
