import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import { DISCLOSURE_STATUSES } from '../../domain/disclosure.ts';
import { errorResponses, router } from '../../http/openapi.ts';
import type { DisclosureService } from '../../services/disclosure.service.ts';
import { json, body, security, Uuid, Id, Request, Detail, requestJson, detailJson, CreateBody, DecisionBody } from './schemas.ts';

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
