/** Request and response schemas of the packs routes, and the mappers from repository rows to them. */
import { z } from '@hono/zod-openapi';
import { PACK_KINDS, PACK_PURPOSES, PACK_STATUSES, PURPOSE_LABELS } from '../../domain/pack.ts';
import { iso, IsoDate, json, Uuid } from '../../http/openapi.ts';
import type { PackRow, ShareLinkRow } from '../../repositories/pack.repository.ts';
import type { ShareLinkState } from '../../services/evidence-pack.service.ts';
import type { PackProgress } from '../../services/pack-builder.ts';

const Progress = z.object({ phase: z.string(), percent: z.number(), bytesDone: z.number(), bytesTotal: z.number(), detail: z.string().optional() }).nullable();

export const Pack = z
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

export const packJson = (p: PackRow, progress: PackProgress | null) => ({
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

export const ShareLink = z
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

export const linkJson = (l: ShareLinkRow & { state: ShareLinkState }) => ({
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

export const PackRequestBody = z
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

export const ShareLinkBody = z
  .object({
    recipient: z.string().max(200),
    expiresInHours: z.number().positive().max(720),
    maxDownloads: z.number().int().min(1).max(100),
    passcode: z.string().max(100).optional(),
  })
  .strict();
