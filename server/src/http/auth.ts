import type { MiddlewareHandler } from 'hono';
import { safeEqual } from '../adapters/crypto.ts';
import type { AgentAuthService } from '../services/agent-auth.service.ts';
import type { AppEnv } from './app-env.ts';
import { unauthorized } from './errors.ts';

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export function agentAuth(auth: AgentAuthService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('agent', await auth.authenticate(bearer(c.req.header('authorization'))));
    await next();
  };
}

/** Read APIs accept the operator's admin token until people's accounts land (issue 4). */
export function adminTokenAuth(adminToken: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const t = bearer(c.req.header('authorization'));
    if (!t) throw unauthorized('authentication_required', 'sign in or send a bearer token');
    if (!safeEqual(t, adminToken)) throw unauthorized('token_invalid', 'bearer token is not valid');
    c.set('principal', { kind: 'admin-token' });
    await next();
  };
}
