import type { MiddlewareHandler } from 'hono';
import { badRequest } from '../domain/errors.ts';
import type { AppEnv } from './app-env.ts';

/** A UTF-16 code unit of a surrogate pair without its other half: no Unicode text contains one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string holds a NUL or a lone surrogate (PostgreSQL text and jsonb cannot store either). */
export const isBadText = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);

/**
 * The path (`body.notes`, `query.q`, `codec.<key>`) of the first string, or object key, anywhere in `v` that holds a NUL
 * or a lone surrogate; undefined when there is none.
 */
export function findBadText(v: unknown, path: (string | number)[] = [], depth = 0): (string | number)[] | undefined {
  if (typeof v === 'string') return isBadText(v) ? path : undefined;
  if (v === null || typeof v !== 'object' || v instanceof Date || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findBadText(v[i], [...path, i], depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    if (isBadText(k)) return [...path, '(key)'];
    const bad = findBadText(x, [...path, k], depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

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
