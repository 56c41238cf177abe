import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ErrorBodySchema, IsoDateTime } from '@mamoru/contract';
import type { AppEnv } from './app-env.ts';
import { findBadText } from './text-guard.ts';

/** The one error shape (@mamoru/contract's `ErrorBodySchema`, the `Error` component of the OpenAPI document). */
export const ErrorSchema = ErrorBodySchema;

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: 'error', content: { 'application/json': { schema: ErrorSchema } } }]));

/**
 * A router whose validation failures answer 400 `invalid_request` in the one error shape, and whose validated inputs
 * (body, query, params, headers) are refused with 400 `invalid_text` when any string or key in them holds a NUL or a
 * lone surrogate: once here, for every route.
 */
export function router() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** The validation hook of every route (a route with a hook of its own calls this one too). */
export function validationHook(result: { success: true; data: unknown; target: string } | { success: false; error: z.ZodError; target: string }, c: Context<AppEnv>) {
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
  const bad = findBadText(result.data);
  if (bad) {
    const where = [result.target, ...bad].join('.');
    return c.json({ error: { code: 'invalid_text', message: `${where}: text must not contain NUL characters or lone surrogates`, requestId: c.get('requestId') ?? '', details: [{ path: [result.target, ...bad], message: 'NUL or lone surrogate' }] } }, 400);
  }
  return undefined;
}

/** An ISO 8601 date-time with an offset, parsed to a Date. */
export const IsoDate = IsoDateTime;

// ---- route-building helpers (one home; every route file uses these) ----------------------------------------------

/** A JSON response of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });

/** A required JSON request body of `schema` (for `request: { body: jsonBody(X) }`). */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true as const });

/** Routes for people: the session cookie (or bearer session token). */
export const sessionSecurity = [{ session: [] }];
/** Routes for store agents: the agent credential. */
export const agentSecurity = [{ agentCredential: [] }];

export const Uuid = z.string().uuid();
/** `/…/{id}` path parameters. */
export const IdParam = z.object({ id: Uuid });

/** A nullable instant as ISO 8601 UTC (`null` stays `null`). */
export function iso(d: Date): string;
export function iso(d: Date | null): string | null;
export function iso(d: Date | null): string | null {
  return d?.toISOString() ?? null;
}
