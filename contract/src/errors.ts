/** The error shape (error-shape.ts) as a zod schema, for the centre's OpenAPI document and for tests. */
import { z } from 'zod';
import type { ErrorBody } from './error-shape.ts';

export * from './error-shape.ts';

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string(), details: z.unknown().optional() }),
}) satisfies z.ZodType<ErrorBody>;
