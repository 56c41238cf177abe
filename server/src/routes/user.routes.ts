import { createRoute, z } from '@hono/zod-openapi';
import { ROLES } from '../domain/principal.ts';
import { errorResponses, IdParam, iso, json, jsonBody, router, sessionSecurity } from '../http/openapi.ts';
import type { UserService, UserView } from '../services/user.service.ts';

const Role = z.enum(ROLES);

const User = z
  .object({
    id: z.string(),
    login: z.string(),
    displayName: z.string(),
    role: Role,
    active: z.boolean(),
    sites: z.array(z.object({ id: z.string(), code: z.string(), name: z.string() })),
    lockedUntil: z.string().nullable(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('User');
const out = (u: UserView) => ({ ...u, lockedUntil: iso(u.lockedUntil), lastLoginAt: iso(u.lastLoginAt), createdAt: u.createdAt.toISOString() });

const CreateBody = z.object({
  login: z.string().min(1).max(64),
  displayName: z.string().min(1).max(200),
  role: Role,
  password: z.string().min(1).max(1024),
  siteIds: z.array(z.string().uuid()).max(1000).default([]),
});
const PatchBody = z
  .object({ displayName: z.string().min(1).max(200).optional(), role: Role.optional(), active: z.boolean().optional() })
  .refine((b) => b.displayName !== undefined || b.role !== undefined || b.active !== undefined, 'nothing to change');
const SitesBody = z.object({ siteIds: z.array(z.string().uuid()).max(1000) });
const PasswordBody = z.object({ password: z.string().min(1).max(1024) });

/** People and their access (role admin). */
export function userRoutes(deps: { users: UserService }) {
  const app = router();

  app.openapi(
    createRoute({ method: 'get', path: '/users', summary: 'Every person with role, sites and lock state', security: sessionSecurity, responses: { 200: json(z.object({ users: z.array(User) })), ...errorResponses(401, 403) } }),
    async (c) => c.json({ users: (await deps.users.list(c.get('principal'))).map(out) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      summary: 'Create a person; store managers and security get their sites here or later',
      security: sessionSecurity,
      request: { body: jsonBody(CreateBody) },
      responses: { 201: json(User), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(out(await deps.users.create(c.get('principal'), c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/users/{id}', summary: 'One person', security: sessionSecurity, request: { params: IdParam }, responses: { 200: json(User), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => c.json(out(await deps.users.get(c.get('principal'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/users/{id}',
      summary: 'Change display name, role or active; a role or active change ends their sessions',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(PatchBody) },
      responses: { 200: json(User), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(out(await deps.users.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/users/{id}/sites',
      summary: "Set the sites a store manager owns or a security officer is assigned to (replaces the list)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(SitesBody) },
      responses: { 200: json(User), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(out(await deps.users.setSites(c.get('principal'), c.req.valid('param').id, c.req.valid('json').siteIds)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users/{id}/password',
      summary: 'Set a new password for a person; lifts a lock and ends their sessions',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(PasswordBody) },
      responses: { 204: { description: 'set' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      await deps.users.resetPassword(c.get('principal'), c.req.valid('param').id, c.req.valid('json').password);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/users/{id}/unlock', summary: 'Lift a sign-in lock', security: sessionSecurity, request: { params: IdParam }, responses: { 200: json(User), ...errorResponses(400, 401, 403, 404) } }),
    async (c) => c.json(out(await deps.users.unlock(c.get('principal'), c.req.valid('param').id)), 200),
  );
  return app;
}
