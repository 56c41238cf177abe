import type { MiddlewareHandler } from 'hono';
import { badRequest } from '../domain/errors.ts';
import { isBadText } from '../domain/text.ts';
import type { AppEnv } from './app-env.ts';

export { findBadText, isBadText } from '../domain/text.ts';

export const badTextError = (where: string) => badRequest('invalid_text', `${where}: text must not contain NUL characters or lone surrogates`, { path: where });

const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not valid percent-encoded UTF-8: the route's own validation refuses it, or it is kept as sent
  }
};

/**
 * The text rule for what every request carries outside its validated inputs: the path, the query string and the
 * headers the centre reads as text (X-Mamoru-Purpose is percent-encoded). Bodies, and the params, queries and headers
 * each route declares, are checked after parsing by the validation hook (http/openapi.ts). 400 `invalid_text`.
 */
export function textGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = c.req.url;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url.slice(url.indexOf('/', url.indexOf('//') + 2)) : url.slice(url.indexOf('/', url.indexOf('//') + 2), q);
    if (rawPath.split('/').some((seg) => isBadText(decoded(seg)))) throw badTextError('path');
    if (q >= 0) {
      for (const part of url.slice(q + 1).split('&')) {
        if (isBadText(decoded(part.replaceAll('+', ' ')))) throw badTextError('query');
      }
    }
    const purpose = c.req.header('x-mamoru-purpose');
    if (purpose !== undefined && isBadText(decoded(purpose))) throw badTextError('header.x-mamoru-purpose');
    await next();
  };
}
