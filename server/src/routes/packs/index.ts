import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, json, jsonBody, router, sessionSecurity } from '../../http/openapi.ts';
import type { EvidencePackService } from '../../services/evidence-pack.service.ts';
import { Pack, packJson, ShareLink, linkJson, PackRequestBody, ShareLinkBody } from './schemas.ts';

/** Evidence packs (hq): request, progress, download, the signing key, police share links. */
export function packRoutes(deps: { packs: EvidencePackService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/packs',
      summary: 'Request an evidence pack of a case (or chosen windows, calls or a time range of it); a job builds it',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }), body: jsonBody(PackRequestBody) },
      responses: { 202: json(z.object({ pack: Pack }), 'queued'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const r = await deps.packs.request(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      return c.json({ pack: packJson(r.pack, r.progress) }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/packs',
      summary: "A case's evidence packs, newest first, with build progress",
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: json(z.object({ packs: z.array(Pack) })), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const rows = await deps.packs.listForIncident(c.get('principal'), c.req.valid('param').id);
      return c.json({ packs: rows.map((r) => packJson(r.pack, r.progress)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/pack-signing-key',
      summary: "The centre's Ed25519 evidence-signing key: fingerprint (tell recipients out of band) and public key",
      security: sessionSecurity,
      responses: { 200: json(z.object({ algorithm: z.literal('Ed25519'), fingerprintSha256: z.string(), publicKeyPem: z.string() })), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await deps.packs.signingKey(c.get('principal')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/packs/{id}',
      summary: 'An evidence pack: status, build progress, manifest hash and signature, share links',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: json(z.object({ pack: Pack, shareLinks: z.array(ShareLink) })), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const r = await deps.packs.get(c.get('principal'), c.req.valid('param').id);
      return c.json({ pack: packJson(r.pack, r.progress), shareLinks: r.links.map(linkJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/packs/{id}/download',
      summary: 'Download a ready pack (ZIP); audited',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: { description: 'the ZIP', content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const d = await deps.packs.download(c.get('principal'), c.req.valid('param').id);
      return c.body(Readable.toWeb(d.body) as ReadableStream, 200, {
        'content-type': 'application/zip',
        'content-length': String(d.size),
        'content-disposition': `attachment; filename="${d.fileName}"`,
        'cache-control': 'no-store',
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/packs/{id}/share-links',
      summary: 'A share link for the police: random token (shown once), expiry, download limit, optional passcode',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }), body: jsonBody(ShareLinkBody) },
      responses: { 201: json(z.object({ link: ShareLink, token: z.string(), path: z.string() }), 'created'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await deps.packs.createShareLink(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      return c.json({ link: linkJson(r.link), token: r.token, path: r.path }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/packs/{id}/share-links/{linkId}/revoke',
      summary: 'Revoke a share link (it then answers 410)',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64), linkId: z.string().max(64) }), body: jsonBody(z.object({ reason: z.string().max(500) }).strict()) },
      responses: { 200: json(z.object({ link: ShareLink })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const link = await deps.packs.revokeShareLink(c.get('principal'), p.id, p.linkId, c.req.valid('json').reason);
      return c.json({ link: linkJson(link) }, 200);
    },
  );

  return app;
}
