/**
 * A failure the caller can act on: services, the CLI and the routes' own input checks throw these. `kind` says what
 * went wrong in the caller's terms; the HTTP layer (http/errors.ts) is the one place that turns a kind into a status
 * and `{ error: { code, message, requestId, details? } }`. `code` is the stable machine-readable reason.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'too_large'
  | 'range_not_satisfiable'
  | 'unprocessable'
  | 'too_many_attempts'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    public readonly kind: ErrorKind,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The input is malformed or breaks a rule. */
export const badRequest = (code: string, message: string, details?: unknown) => new DomainError('invalid', code, message, details);
/** No valid credential (session, agent credential, token). */
export const unauthorized = (code: string, message: string) => new DomainError('unauthenticated', code, message);
export const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);
export const notFound = (code: string, message: string) => new DomainError('not_found', code, message);
export const conflict = (code: string, message: string, details?: unknown) => new DomainError('conflict', code, message, details);
/** It existed and is gone for good (a used token, media deleted by retention). */
export const gone = (code: string, message: string) => new DomainError('gone', code, message);
export const tooLarge = (code: string, message: string) => new DomainError('too_large', code, message);
export const unprocessable = (code: string, message: string, details?: unknown) => new DomainError('unprocessable', code, message, details);
/** A byte range outside the object; `size` is its current length. */
export const rangeNotSatisfiable = (message: string, size: number) => new DomainError('range_not_satisfiable', 'range_not_satisfiable', message, { size });
/** Throttled; the caller may retry after `retryAfterSeconds`. */
export const tooManyAttempts = (code: string, message: string, retryAfterSeconds: number) => new DomainError('too_many_attempts', code, message, { retryAfterSeconds });
/** A service the request needs (the job queue) is down; retrying later may work. */
export const unavailable = (code: string, message: string) => new DomainError('unavailable', code, message);
