import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DomainError, ErrorKind } from '../domain/errors.ts';

/** The one map from what went wrong (domain/errors.ts) to an HTTP status. */
const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  range_not_satisfiable: 416,
  unprocessable: 422,
  too_many_attempts: 429,
  unavailable: 503,
};

export const statusOf = (e: DomainError): ContentfulStatusCode => STATUS[e.kind];

/** `retry-after` seconds of a throttled request, when the error carries them. */
export function retryAfterOf(e: DomainError): number | undefined {
  const retry = e.kind === 'too_many_attempts' ? (e.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds : undefined;
  return typeof retry === 'number' ? retry : undefined;
}
