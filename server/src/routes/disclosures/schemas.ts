/** Request and response schemas of the disclosures routes, and the mappers from repository rows to them. */
import { RECORDING_ROLES } from '@mamoru/contract/enums';
import { z } from '@hono/zod-openapi';
import { DECISION_LABELS, DISCLOSURE_DECISIONS, DISCLOSURE_STATUSES, IDENTITY_CHECK_LABELS, IDENTITY_CHECKS } from '../../domain/disclosure.ts';
import { IsoDate } from '../../http/openapi.ts';
import type { DisclosureItemRow, DisclosureRequestRow } from '../../repositories/disclosure.repository.ts';
import type { DisclosureDetail } from '../../services/disclosure.service.ts';

export const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const security = [{ session: [] }];
export const Uuid = z.string().uuid();
export const Id = z.object({ id: Uuid });
const iso = (d: Date | null) => d?.toISOString() ?? null;
const DateOnly = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).openapi({ example: '2026-12-01', description: 'a calendar date (YYYY-MM-DD)' });

// ---- schemas --------------------------------------------------------------------------------------------------

export const Request = z
  .object({
    id: z.string(),
    reference: z.string().openapi({ example: 'DR-2026-0001' }),
    requesterName: z.string(),
    requesterNumber: z.string(),
    receivedOn: z.string(),
    identityCheck: z.enum(IDENTITY_CHECKS),
    identityCheckLabel: z.string().openapi({ example: '窓口で写真付き本人確認書類を確認' }),
    identityNote: z.string(),
    deadline: z.string(),
    search: z.object({ from: z.string(), to: z.string() }),
    note: z.string(),
    status: z.enum(DISCLOSURE_STATUSES),
    response: z.object({
      jobId: z.string().nullable(),
      sha256: z.string().nullable(),
      size: z.number().nullable(),
      manifestSha256: z.string().nullable(),
      builtAt: z.string().nullable(),
      error: z.string().nullable(),
      progress: z.record(z.string(), z.unknown()).nullable(),
    }),
    sent: z.object({ at: z.string(), method: z.string().nullable(), by: z.string().nullable() }).nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('DisclosureRequest');

const Item = z
  .object({
    id: z.string(),
    kind: z.enum(['recording', 'camera_window']),
    site: z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }),
    call: z.object({ id: z.string(), start: z.string(), end: z.string(), direction: z.string(), callerNumber: z.string().nullable(), calledNumber: z.string().nullable(), operatorExtension: z.string().nullable() }),
    recording: z
      .object({ id: z.string(), name: z.string(), role: z.enum(RECORDING_ROLES), format: z.string(), durationS: z.number().nullable(), channels: z.number().nullable(), size: z.number(), sha256: z.string(), stored: z.boolean() })
      .nullable(),
    camera: z.object({ id: z.string(), key: z.string(), name: z.string(), place: z.string().nullable() }).nullable(),
    window: z.object({ from: z.string(), to: z.string() }).nullable(),
    decision: z.enum(DISCLOSURE_DECISIONS).nullable(),
    decisionLabel: z.string().nullable(),
    withholdReason: z.string().nullable(),
    masking: z.unknown().nullable().openapi({ description: 'recording: { muteRanges }; camera window: { regions, style, blurFaces, keepFaces } (times in seconds from the item start, rectangles as fractions of the frame)' }),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
  })
  .openapi('DisclosureItem');

export const Detail = Request.extend({
  items: z.array(Item),
  counts: z.object({ items: z.number(), undecided: z.number(), disclose: z.number(), discloseMasked: z.number(), withhold: z.number() }),
}).openapi('DisclosureDetail');

export const requestJson = (d: DisclosureRequestRow) => ({
  id: d.id,
  reference: d.reference,
  requesterName: d.requesterName,
  requesterNumber: d.requesterNumber,
  receivedOn: d.receivedOn,
  identityCheck: d.identityCheck,
  identityCheckLabel: IDENTITY_CHECK_LABELS[d.identityCheck].ja,
  identityNote: d.identityNote,
  deadline: d.deadline,
  search: { from: d.searchFrom.toISOString(), to: d.searchTo.toISOString() },
  note: d.note,
  status: d.status,
  response: { jobId: d.response.jobId, sha256: d.response.sha256, size: d.response.size, manifestSha256: d.response.manifestSha256, builtAt: iso(d.response.builtAt), error: d.response.error, progress: d.response.progress },
  sent: d.sent ? { at: d.sent.at.toISOString(), method: d.sent.method, by: d.sent.by } : null,
  createdBy: d.createdBy,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

const itemJson = (i: DisclosureItemRow) => ({
  id: i.id,
  kind: i.kind,
  site: i.site,
  call: { ...i.call, start: i.call.start.toISOString(), end: i.call.end.toISOString() },
  recording: i.recording,
  camera: i.camera,
  window: i.window ? { from: i.window.start.toISOString(), to: i.window.end.toISOString() } : null,
  decision: i.decision,
  decisionLabel: i.decision ? DECISION_LABELS[i.decision].ja : null,
  withholdReason: i.withholdReason,
  masking: i.masking ?? null,
  decidedBy: i.decidedBy,
  decidedAt: iso(i.decidedAt),
});

export const detailJson = (d: DisclosureDetail) => ({ ...requestJson(d), items: d.items.map(itemJson), counts: d.counts });

export const CreateBody = z
  .object({
    requesterName: z.string().trim().min(1).max(200),
    requesterNumber: z.string().trim().min(3).max(40),
    receivedOn: DateOnly,
    identityCheck: z.enum(IDENTITY_CHECKS),
    identityNote: z.string().max(2000).optional(),
    deadline: DateOnly,
    searchFrom: IsoDate.optional(),
    searchTo: IsoDate.optional(),
    note: z.string().max(5000).optional(),
  })
  .strict();

export const DecisionBody = z
  .object({
    decision: z.enum(DISCLOSURE_DECISIONS),
    withholdReason: z.string().max(2000).optional(),
    masking: z.unknown().optional().openapi({ description: 'with disclose_masked only; checked against the item kind (400 invalid_masking)' }),
  })
  .strict();
