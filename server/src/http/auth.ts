import type { Context, MiddlewareHandler } from 'hono';
import { AGENT_API_BASE, agentPaths } from '@mamoru/contract/paths';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../adapters/crypto.ts';
import type { RequestOrigin } from '../domain/principal.ts';
import type { AgentAuthService } from '../services/agent-auth.service.ts';
import type { AuthService } from '../services/auth.service.ts';
import type { AppEnv } from './app-env.ts';
import { DomainError, forbidden, unauthorized } from '../domain/errors.ts';

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export type HttpAuthSettings = {
  /** Secure cookies (set when the centre is reached over TLS, i.e. behind the reverse proxy). */
  cookieSecure: boolean;
  /** How many reverse proxies append to X-Forwarded-For in front of the server (0: use the socket address). */
  trustProxyHops: number;
  /** Legacy operator bearer (ADMIN_TOKEN); undefined = people's sessions only. */
  adminToken?: string | undefined;
};

/** `__Host-` pins a secure cookie to this origin and path `/` (no Domain); plain HTTP cannot use the prefix. */
export const sessionCookieName = (secure: boolean) => (secure ? '__Host-mamoru_session' : 'mamoru_session');

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function stripMapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** Who is calling from where: client address (socket, or X-Forwarded-For through trusted proxies), agent string, request id, purpose. */
export function requestOrigin(c: Context<AppEnv>, trustProxyHops: number): RequestOrigin {
  let ip = (c.env as AppEnv['Bindings'] | undefined)?.incoming?.socket?.remoteAddress ?? null;
  if (trustProxyHops > 0) {
    const hops = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const client = hops[hops.length - trustProxyHops];
    if (client) ip = client;
  }
  let purpose: string | null = c.req.header('x-mamoru-purpose') ?? null;
  if (purpose !== null) {
    try {
      purpose = decodeURIComponent(purpose);
    } catch {
      // not percent-encoded: keep as sent
    }
    purpose = purpose.trim().slice(0, 500) || null;
  }
  return {
    ip: ip ? stripMapped(ip) : null,
    userAgent: c.req.header('user-agent')?.slice(0, 500) ?? null,
    requestId: c.get('requestId') ?? null,
    clientRequestId: c.get('clientRequestId') ?? null,
    purpose,
  };
}

export type PathClass = 'public' | 'agent' | 'optional-session' | 'session';

/** `/api/v1/cameras/:id/playlist.m3u8` → a RegExp for request paths; `*` matches the rest. */
export function routePattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

/** Whether a request matches one of the app's routes (method and path); HEAD counts as GET. */
export function routeMatcher(routes: readonly { method: string; path: string }[]) {
  const compiled = routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, re: routePattern(r.path) }));
  return (method: string, path: string) => {
    const m = method === 'HEAD' ? 'GET' : method;
    return compiled.some((r) => r.method === m && r.re.test(path));
  };
}

/**
 * Authentication for everything under /api/v1, secure by default: a path is public, agent-authenticated (the agent
 * router checks its credential) or takes an optional session only when listed here; every other path, including
 * any route added later, needs a signed-in person. What each role may then do is decided in the services.
 */
export function classifyPath(path: string): PathClass {
  if (/^\/api\/v1\/(health|time|openapi\.json)$/.test(path) || path === '/api/v1/auth/login' || path === agentPaths.enroll()) return 'public';
  if (path.startsWith(`${AGENT_API_BASE}/`)) return 'agent';
  if (path === '/api/v1/auth/logout' || path.startsWith('/api/v1/media/')) return 'optional-session';
  return 'session';
}

/**
 * `isRoute` tells the gate whether a request matches a route at all: an unknown path gets the plain 404 (as the
 * public OpenAPI document already lists every route, hiding them behind a 401 would protect nothing).
 */
export function httpAuth(settings: HttpAuthSettings, deps: { auth: AuthService; agentAuth: AgentAuthService; isRoute: (method: string, path: string) => boolean }) {
  const cookieName = sessionCookieName(settings.cookieSecure);
  const origin = (c: Context<AppEnv>) => requestOrigin(c, settings.trustProxyHops);

  /** A browser marks requests another site started; a session must not act on those (SameSite is the first guard). */
  const refuseCrossSite = (c: Context<AppEnv>) => {
    if (UNSAFE.has(c.req.method) && c.req.header('sec-fetch-site') === 'cross-site') throw forbidden('cross_site_request', 'requests from another site are refused');
  };

  const gate: MiddlewareHandler<AppEnv> = async (c, next) => {
    const kind = classifyPath(c.req.path);
    if (!deps.isRoute(c.req.method, c.req.path)) return next(); // → 404 route_not_found
    if (kind === 'public' || kind === 'agent') {
      if (c.req.path === '/api/v1/auth/login') refuseCrossSite(c);
      return next();
    }
    const token = getCookie(c, cookieName);
    const bearerToken = bearer(c.req.header('authorization'));
    if (!token && bearerToken && settings.adminToken) {
      // The legacy operator token (no cookie sent): footage of every site, audited as `admin-token`.
      if (!safeEqual(bearerToken, settings.adminToken)) {
        if (kind === 'optional-session') return next(); // a signed media link or a logout needs no bearer
        throw unauthorized('token_invalid', 'bearer token is not valid');
      }
      c.set('principal', { kind: 'operator-token', origin: origin(c) });
      return next();
    }
    if (kind === 'optional-session' && !token) return next();
    refuseCrossSite(c);
    try {
      c.set('principal', await deps.auth.authenticate(token, origin(c)));
    } catch (e) {
      if (token) deleteCookie(c, cookieName, { path: '/', secure: settings.cookieSecure });
      // An expired session must not break a signed media link or a logout: they go on without a principal.
      if (kind === 'optional-session' && e instanceof DomainError && e.kind === 'unauthenticated') return next();
      throw e;
    }
    return next();
  };

  const agent: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('agent', await deps.agentAuth.authenticate(bearer(c.req.header('authorization')), origin(c)));
    await next();
  };

  return {
    gate,
    agent,
    origin,
    cookieName,
    setSessionCookie(c: Context<AppEnv>, token: string, expiresAt: Date, now: Date) {
      setCookie(c, cookieName, token, {
        httpOnly: true,
        secure: settings.cookieSecure,
        sameSite: 'Strict',
        path: '/',
        maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
      });
    },
    clearSessionCookie(c: Context<AppEnv>) {
      deleteCookie(c, cookieName, { path: '/', secure: settings.cookieSecure, httpOnly: true, sameSite: 'Strict' });
    },
  };
}
export type HttpAuth = ReturnType<typeof httpAuth>;
