/**
 * Text the centre stores must be Unicode text: PostgreSQL `text` and `jsonb` hold neither NUL nor a lone surrogate
 * (a UTF-16 half without its pair). Requests carrying them are refused (http/text-guard.ts); what is recorded anyway
 * (the audit label of a refused sign-in) has them replaced.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Whether a string holds a NUL or a lone surrogate. */
export const isBadText = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);

/** The string with each NUL and lone surrogate replaced by U+FFFD. */
export const scrubText = (s: string) => s.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');

/**
 * The path (`['notes']`, `['codec', 'profile']`) of the first string, or object key (`'(key)'`), anywhere in `v` that
 * holds a NUL or a lone surrogate; undefined when there is none.
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
