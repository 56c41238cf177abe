import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A failure the caller can act on. Services throw these; the HTTP layer maps them to
 * `{ error: { code, message, requestId } }` with the given status.
 */
export class AppError extends Error {
  constructor(
    public readonly status: ContentfulStatusCode,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new AppError(400, code, message, details);
export const unauthorized = (code: string, message: string) => new AppError(401, code, message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const gone = (code: string, message: string) => new AppError(410, code, message);
export const tooLarge = (code: string, message: string) => new AppError(413, code, message);
export const unprocessable = (code: string, message: string, details?: unknown) => new AppError(422, code, message, details);
