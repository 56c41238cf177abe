import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import { DECISION_LABELS, DISCLOSURE_DECISIONS, DISCLOSURE_STATUSES, IDENTITY_CHECK_LABELS, IDENTITY_CHECKS } from '../domain/disclosure.ts';
import { errorResponses, IsoDate, router } from '../http/openapi.ts';
import type { DisclosureItemRow, DisclosureRequestRow } from '../repositories/disclosure.repository.ts';
import type { DisclosureDetail, DisclosureService } from '../services/disclosure.service.ts';

const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const security = [{ session: [] }];
const Uuid = z.string().uuid();
const Id = z.object({ id: Uuid });
const iso = (d: Date | null) => d?.toISOString() ?? null;
const DateOnly = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).openapi({ example: '2026-12-01', description: 'a calendar date (YYYY-MM-DD)' });

// ---- schemas --------------------------------------------------------------------------------------------------

const Request = z
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
      .object({ id: z.string(), name: z.string(), role: z.enum(['mixed', 'caller', 'operator', 'stereo']), format: z.string(), durationS: z.number().nullable(), channels: z.number().nullable(), size: z.number(), sha256: z.string(), stored: z.boolean() })
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

const Detail = Request.extend({
  items: z.array(Item),
  counts: z.object({ items: z.number(), undecided: z.number(), disclose: z.number(), discloseMasked: z.number(), withhold: z.number() }),
}).openapi('DisclosureDetail');

const requestJson = (d: DisclosureRequestRow) => ({
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

const detailJson = (d: DisclosureDetail) => ({ ...requestJson(d), items: d.items.map(itemJson), counts: d.counts });

const CreateBody = z
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

const DecisionBody = z
  .object({
    decision: z.enum(DISCLOSURE_DECISIONS),
    withholdReason: z.string().max(2000).optional(),
    masking: z.unknown().optional().openapi({ description: 'with disclose_masked only; checked against the item kind (400 invalid_masking)' }),
  })
  .strict();

/** Disclosure requests (開示請求): hq only, every read and change audited. */
export function disclosureRoutes(deps: { disclosures: DisclosureService }) {
  const app = router();
  const s = deps.disclosures;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/disclosures',
      summary: 'Disclosure requests, newest first',
      security,
      request: { query: z.object({ status: z.enum(DISCLOSURE_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(200).optional() }) },
      responses: { 200: json(z.object({ requests: z.array(Request), nextCursor: z.string().nullable() })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const r = await s.list(c.get('principal'), q);
      return c.json({ requests: r.requests.map(requestJson), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/disclosures',
      summary: "Record a disclosure request; the requester's calls and their footage are found at once",
      description:
        'Calls whose caller or called number is the requester number (national or +81 form, digits compared exactly) started in [searchFrom, searchTo) (default: 3 years before receipt up to now), at every site; per call each stored recording and each camera of its site with stored footage in the call widened by the linking margins. 400 `invalid_number`, `invalid_date`, `invalid_deadline`, `invalid_window`.',
      security,
      request: body(CreateBody),
      responses: { 201: json(Detail, 'recorded'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(detailJson(await s.create(c.get('principal'), c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/disclosures/{id}',
      summary: 'A disclosure request with its items and their decisions',
      security,
      request: { params: Id },
      responses: { 200: json(Detail), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(detailJson(await s.get(c.get('principal'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/disclosures/{id}/search',
      summary: 'Search again (calls that arrived since); earlier items and decisions stay',
      security,
      request: { params: Id },
      responses: { 200: json(Detail.extend({ added: z.number() })), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await s.search(c.get('principal'), c.req.valid('param').id);
      return c.json({ ...detailJson(r), added: r.added }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/disclosures/{id}/items/{itemId}/decision',
      summary: 'Decide one item: disclose, disclose masked (with its masking) or withhold (with a reason)',
      description:
        'Recording masking `{ muteRanges: [{fromS,toS}] }` (a stereo recording always has its operator channel muted; a mono one needs ranges; an operator-only recording cannot be disclosed masked: 400 `nothing_left_after_masking`). Camera masking `{ regions: [{x,y,w,h,fromS,toS}], style: blur|fill, blurFaces, keepFaces }` (the masked copy has no audio). A decision after the response was built sends the request back to open. 409 `disclosure_sent`, `response_building`.',
      security,
      request: { params: z.object({ id: Uuid, itemId: Uuid }), ...body(DecisionBody) },
      responses: { 200: json(Detail), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(detailJson(await s.decide(c.get('principal'), p.id, p.itemId, c.req.valid('json'))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/disclosures/{id}/response',
      summary: 'Build the response package (a job); every item must be decided',
      description: '409 `undecided_items` (details.itemIds), `response_building`, `disclosure_sent`; 503 `queue_unavailable`. Progress: GET /disclosures/{id} (`response.progress`).',
      security,
      request: { params: Id },
      responses: { 202: json(z.object({ jobId: z.string(), status: z.enum(DISCLOSURE_STATUSES) }), 'queued'), ...errorResponses(401, 403, 404, 409, 503) },
    }),
    async (c) => c.json(await s.requestResponse(c.get('principal'), c.req.valid('param').id), 202),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/disclosures/{id}/response',
      summary: 'Download the response package (ZIP; audited)',
      security,
      request: { params: Id },
      responses: { 200: { description: 'the ZIP', content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await s.download(c.get('principal'), c.req.valid('param').id);
      return c.body(Readable.toWeb(r.body) as ReadableStream, 200, {
        'content-type': 'application/zip',
        'content-length': String(r.size),
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(r.fileName)}`,
        'x-content-sha256': r.sha256,
        'cache-control': 'private, no-store',
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/disclosures/{id}/sent',
      summary: 'Record that the response was given to the requester, and how',
      security,
      request: { params: Id, ...body(z.object({ method: z.string().trim().min(1).max(500) }).strict()) },
      responses: { 200: json(Detail), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(detailJson(await s.markSent(c.get('principal'), c.req.valid('param').id, c.req.valid('json'))), 200),
  );

  return app;
}
