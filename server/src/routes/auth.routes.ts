import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '@mamoru/contract/enums';
import type { Clock } from '../adapters/clock.ts';
import type { Principal } from '../domain/principal.ts';
import type { HttpAuth } from '../http/auth.ts';
import { errorResponses, json, jsonBody, router, sessionSecurity, validationHook } from '../http/openapi.ts';
import { findBadText } from '../http/text-guard.ts';
import type { AuthService } from '../services/auth.service.ts';
import { ensureUser } from '../services/access.ts';


const Site = z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() });
export const Me = z
  .object({
    id: z.string(),
    login: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    capabilities: z.array(z.string()),
    sites: z.union([z.literal('all'), z.array(Site)]).openapi({ description: "sites whose footage this person may see: 'all' (hq) or a list (none for auditor and admin)" }),
  })
  .openapi('Me');
const LoginBody = z.object({
  login: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
});
const PasswordBody = z.object({ currentPassword: z.string().min(1).max(1024), newPassword: z.string().min(1).max(1024) });

/** Sign-in, sign-out and the caller's own account. The session lives in an HttpOnly, SameSite=Strict cookie. */
export function authRoutes(deps: { auth: AuthService; http: HttpAuth; clock: Clock }) {
  const app = router();
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: deps.http.cookieName });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in with login and password; sets the session cookie',
      description: 'An unknown login and a wrong password get the same 401. Repeated failures lock the account and the client address for a while (429 with Retry-After).',
      request: { body: jsonBody(LoginBody) },
      responses: { 200: json(z.object({ user: Me, expiresAt: z.string() })), ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => {
      const r = await deps.auth.login(c.req.valid('json'), deps.http.origin(c));
      deps.http.setSessionCookie(c, r.token, r.expiresAt, deps.clock.now());
      c.header('cache-control', 'no-store');
      return c.json({ user: r.user, expiresAt: r.expiresAt.toISOString() }, 200);
    },
    // A sign-in whose text the validation hook refuses (NUL, lone surrogate) still counts and is audited as a failure.
    async (result, c) => {
      const body = result.success && result.target === 'json' ? (result.data as unknown as z.infer<typeof LoginBody>) : undefined;
      if (body && findBadText(body)) await deps.auth.recordRefusedSignIn(body.login, deps.http.origin(c), 'invalid_text');
      // The hook's answer type is the route's success type; the refusal is the one error shape, as in every route.
      return validationHook(result as Parameters<typeof validationHook>[0], c) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/logout',
      summary: 'End the session (revoked at the centre) and clear the cookie; succeeds without a session too',
      responses: { 204: { description: 'signed out' }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const p = c.get('principal') as Principal | undefined;
      if (p?.kind === 'user') await deps.auth.logout(p);
      deps.http.clearSessionCookie(c);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/auth/me', summary: 'The signed-in person: role, capabilities, sites', security: sessionSecurity, responses: { 200: json(Me), ...errorResponses(401) } }),
    async (c) => {
      const p = c.get('principal');
      ensureUser(p);
      c.header('cache-control', 'no-store');
      return c.json(await deps.auth.me(p), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/password',
      summary: 'Change your own password; your other sessions end',
      security: sessionSecurity,
      request: { body: jsonBody(PasswordBody) },
      responses: { 204: { description: 'changed' }, ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => {
      const p = c.get('principal');
      ensureUser(p);
      const b = c.req.valid('json');
      await deps.auth.changePassword(p, b.currentPassword, b.newPassword);
      return c.body(null, 204);
    },
  );
  return app;
}
