import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import { PACK_KINDS, PACK_PURPOSES, PACK_STATUSES, PURPOSE_LABELS } from '../domain/pack.ts';
import { errorResponses, IsoDate, router } from '../http/openapi.ts';
import type { PackRow, ShareLinkRow } from '../repositories/pack.repository.ts';
import type { EvidencePackService, ShareLinkState } from '../services/evidence-pack.service.ts';
import type { PackProgress } from '../services/pack-builder.ts';

const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const security = [{ session: [] }];
const Uuid = z.string().uuid();
const iso = (d: Date | null) => d?.toISOString() ?? null;

const Progress = z.object({ phase: z.string(), percent: z.number(), bytesDone: z.number(), bytesTotal: z.number(), detail: z.string().optional() }).nullable();

const Pack = z
  .object({
    id: z.string(),
    incidentId: z.string().nullable(),
    siteId: z.string(),
    kind: z.enum(PACK_KINDS),
    purpose: z.enum(PACK_PURPOSES),
    purposeLabel: z.object({ ja: z.string(), en: z.string() }),
    reference: z.string(),
    legalBasis: z.string(),
    scope: z.object({ cameraWindowIds: z.array(z.string()).nullable(), callIds: z.array(z.string()).nullable(), from: z.string().nullable(), to: z.string().nullable() }),
    status: z.enum(PACK_STATUSES),
    progress: Progress,
    size: z.number().nullable(),
    fileCount: z.number().nullable(),
    manifestSha256: z.string().nullable(),
    signature: z.string().nullable().openapi({ description: 'base64 Ed25519 signature over manifest.json' }),
    keyFingerprint: z.string().nullable(),
    contents: z.array(z.object({ path: z.string(), kind: z.enum(['video', 'audio']), label: z.string(), size: z.number() })),
    error: z.string().nullable(),
    requestedBy: z.object({ id: z.string(), login: z.string().nullable() }),
    requestedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    downloadCount: z.number(),
    downloadUrl: z.string().nullable(),
  })
  .openapi('EvidencePack');

const packJson = (p: PackRow, progress: PackProgress | null) => ({
  id: p.id,
  incidentId: p.incidentId,
  siteId: p.siteId,
  kind: p.kind,
  purpose: p.purpose,
  purposeLabel: PURPOSE_LABELS[p.purpose],
  reference: p.reference,
  legalBasis: p.legalBasis,
  scope: p.scope,
  status: p.status,
  progress,
  size: p.size,
  fileCount: p.fileCount,
  manifestSha256: p.manifestSha256,
  signature: p.signature,
  keyFingerprint: p.keyFingerprint,
  contents: p.contents.map((c) => ({ path: c.path, kind: c.kind, label: c.label, size: c.size })),
  error: p.error,
  requestedBy: { id: p.requestedBy, login: p.requestedByLogin },
  requestedAt: p.requestedAt.toISOString(),
  startedAt: iso(p.startedAt),
  finishedAt: iso(p.finishedAt),
  downloadCount: p.downloadCount,
  downloadUrl: p.status === 'ready' ? `/api/v1/packs/${p.id}/download` : null,
});

const ShareLink = z
  .object({
    id: z.string(),
    recipient: z.string(),
    state: z.enum(['live', 'expired', 'used_up', 'revoked']),
    expiresAt: z.string(),
    maxDownloads: z.number(),
    downloadCount: z.number(),
    passcode: z.boolean(),
    createdBy: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    revokeReason: z.string().nullable(),
  })
  .openapi('PackShareLink');

const linkJson = (l: ShareLinkRow & { state: ShareLinkState }) => ({
  id: l.id,
  recipient: l.recipient,
  state: l.state,
  expiresAt: l.expiresAt.toISOString(),
  maxDownloads: l.maxDownloads,
  downloadCount: l.downloadCount,
  passcode: l.passcodeHash !== null,
  createdBy: l.createdBy,
  createdAt: l.createdAt.toISOString(),
  revokedAt: iso(l.revokedAt),
  revokeReason: l.revokeReason,
});

const PackRequestBody = z
  .object({
    purpose: z.enum(PACK_PURPOSES),
    reference: z.string().max(200),
    legalBasis: z.string().max(2000),
    cameraWindowIds: z.array(Uuid).max(200).optional(),
    callIds: z.array(Uuid).max(500).optional(),
    from: IsoDate.optional(),
    to: IsoDate.optional(),
  })
  .strict();

const ShareLinkBody = z
  .object({
    recipient: z.string().max(200),
    expiresInHours: z.number().positive().max(720),
    maxDownloads: z.number().int().min(1).max(100),
    passcode: z.string().max(100).optional(),
  })
  .strict();

/** Evidence packs (hq): request, progress, download, the signing key, police share links. */
export function packRoutes(deps: { packs: EvidencePackService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/packs',
      summary: 'Request an evidence pack of a case (or chosen windows, calls or a time range of it); a job builds it',
      security,
      request: { params: z.object({ id: z.string().max(64) }), ...body(PackRequestBody) },
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
      security,
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
      security,
      responses: { 200: json(z.object({ algorithm: z.literal('Ed25519'), fingerprintSha256: z.string(), publicKeyPem: z.string() })), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await deps.packs.signingKey(c.get('principal')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/packs/{id}',
      summary: 'An evidence pack: status, build progress, manifest hash and signature, share links',
      security,
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
      security,
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
      security,
      request: { params: z.object({ id: z.string().max(64) }), ...body(ShareLinkBody) },
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
      security,
      request: { params: z.object({ id: z.string().max(64), linkId: z.string().max(64) }), ...body(z.object({ reason: z.string().max(500) }).strict()) },
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
