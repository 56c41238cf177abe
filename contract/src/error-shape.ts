/**
 * The one error shape every API answers with: `{ error: { code, message, requestId, details? } }`. `code` is
 * stable and machine-readable (e.g. `invalid_request`, `camera_not_found`); `message` is for people. No
 * dependencies (the web imports it); the zod schema is in errors.ts.
 */
export type ErrorBody = { error: { code: string; message: string; requestId: string; details?: unknown } };

/** `error.code`, `error.message` and `error.details` of an answer in the error shape; nulls when it is not. */
export function errorOf(body: unknown): { code: string | null; message: string | null; details: unknown } {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null | undefined)?.error;
  return { code: typeof e?.code === 'string' ? e.code : null, message: typeof e?.message === 'string' ? e.message : null, details: e?.details };
}
