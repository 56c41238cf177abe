import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, json, router, sessionSecurity as security } from '../http/openapi.ts';
import type { SiteDetail } from '../repositories/site.repository.ts';
import type { SiteService } from '../services/site.service.ts';

const Site = z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }).openapi('Site');

/** Text a person typed: no NUL, no lone surrogate (PostgreSQL cannot store them; invariant 9). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = (max: number) => z.string().max(max).refine((s) => !s.includes('\u0000') && !LONE_SURROGATE.test(s), 'text with NUL or a lone surrogate');
const CameraNotice = z
  .object({
    text: text(2000).pipe(z.string().trim().min(1)),
    place: text(200).nullable().default(null).openapi({ description: 'where the sign is posted, e.g. 入口・レジ上' }),
    since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable().default(null).openapi({ description: 'posted since (calendar day)' }),
  })
  .openapi('CameraNotice');
const SiteDetailSchema = Site.extend({
  address: z.string().nullable(),
  cameraNotice: CameraNotice.nullable().openapi({ description: 'the camera signage notice (事前告知); null = not recorded' }),
  pbxNoticeText: z.string().nullable().openapi({ description: 'what the PBX recording notice says; null = not recorded' }),
  createdAt: z.string(),
}).openapi('SiteDetail');
/** A listed site: the detail fields are present only with `detail=1`. */
const SiteListed = Site.extend({
  address: z.string().nullable().optional(),
  cameraNotice: CameraNotice.nullable().optional(),
  pbxNoticeText: z.string().nullable().optional(),
  createdAt: z.string().optional(),
}).openapi('SiteListed');
const detailOut = (s: SiteDetail) => ({ ...s, createdAt: s.createdAt.toISOString() });

const Zone = z.string().min(1).max(64);
const Name = text(200).pipe(z.string().trim().min(1));
const CreateBody = z.object({
  code: z.string().min(1).max(63),
  name: Name,
  timezone: Zone,
  address: text(500).nullable().default(null),
  cameraNotice: CameraNotice.nullable().default(null),
  pbxNoticeText: text(2000).nullable().default(null),
});
const PatchBody = z
  .object({ name: Name.optional(), timezone: Zone.optional(), address: text(500).nullable().optional(), cameraNotice: CameraNotice.nullable().optional(), pbxNoticeText: text(2000).nullable().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change');

export function siteRoutes(deps: { sites: SiteService }) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/sites',
      summary: "Sites the caller may name: their own (store managers, security), or all (hq, admin, auditor)",
      security,
      request: { query: z.object({ detail: z.enum(['1']).optional().openapi({ description: '`1`: address and notices too (role admin)' }) }) },
      responses: { 200: json(z.object({ sites: z.array(SiteListed) })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const p = c.get('principal');
      if (c.req.valid('query').detail) return c.json({ sites: (await deps.sites.listDetails(p)).map(detailOut) }, 200);
      return c.json({ sites: await deps.sites.list(p) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sites',
      summary: 'Create a site with its notices (role admin); an existing code is 409 site_code_taken',
      security,
      request: { body: { content: { 'application/json': { schema: CreateBody } }, required: true } },
      responses: { 201: json(SiteDetailSchema), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(detailOut(await deps.sites.createNew(c.get('principal'), c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sites/{id}',
      summary: "One site with address and notices, in the caller's scope (404 outside it)",
      security,
      request: { params: z.object({ id: z.string().uuid() }) },
      responses: { 200: json(SiteDetailSchema), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(detailOut(await deps.sites.get(c.get('principal'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/sites/{id}',
      summary: 'Change name, zone, address, camera signage notice or PBX recording-notice text (role admin); the code stays',
      security,
      request: { params: z.object({ id: z.string().uuid() }), body: { content: { 'application/json': { schema: PatchBody } }, required: true } },
      responses: { 200: json(SiteDetailSchema), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(detailOut(await deps.sites.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );
  return app;
}
