/** API errors as plain sentences: a known code has its sentence, anything else says what failed and to try again. */
import { ApiError } from './api.ts';
import type { Messages } from './i18n.ts';

export function errorText(m: Messages, e: unknown): string {
  const code = e instanceof ApiError ? e.code : 'network_error';
  return m.apiError[code] ?? m.apiErrorOther(code);
}
