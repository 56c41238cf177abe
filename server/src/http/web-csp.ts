import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';

/** SHA-256 sources of the inline `<script>` elements (no `src`) of an HTML page, as CSP `'sha256-…'` tokens. */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    if (/\ssrc\s*=/i.test(m[1] ?? '')) continue;
    out.push(`'sha256-${createHash('sha256').update(m[2] ?? '', 'utf8').digest('base64')}'`);
  }
  return [...new Set(out)];
}

/**
 * The web app's Content-Security-Policy: its own origin only. Scripts are the built modules plus SvelteKit's inline
 * start-up script (by hash); hls.js plays through Media Source (`blob:` media) and runs its transmuxer in a `blob:`
 * worker; Svelte sets inline styles (transitions, style attributes), so styles allow 'unsafe-inline'. No plug-ins, no
 * framing, no foreign form targets, no `<base>` elsewhere.
 */
export function webAppCsp(indexHtml: string | undefined): string {
  const hashes = indexHtml ? inlineScriptHashes(indexHtml) : [];
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.map((h) => ` ${h}`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** JSON answers of the API can carry personal data: never stored by the browser or a proxy unless a route says otherwise. */
export function apiNoStore(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.res.headers.get('content-type')?.startsWith('application/json') && !c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  };
}
