import { createRoute, z } from '@hono/zod-openapi';
import {
  AGENT_ROUTES,
  CameraBodySchema,
  CameraKeySchema,
  CameraResponseSchema,
  EnrollBodySchema,
  EnrollResponseSchema,
  GapBodySchema,
  GapResponseSchema,
  HeartbeatBodySchema,
  HeartbeatResponseSchema,
  SegmentHeadersSchema,
  SegmentMetaSchema,
  SegmentPutResponseSchema,
  SegmentStateResponseSchema,
} from '@mamoru/contract';
import type { AgentAuthService } from '../services/agent-auth.service.ts';
import type { IngestService } from '../services/ingest.service.ts';
import type { HttpAuth } from '../http/auth.ts';
import { agentSecurity, errorResponses, IsoDate, json, jsonBody, router } from '../http/openapi.ts';
import type { Clock } from '../adapters/clock.ts';


export function agentRoutes(deps: { auth: AgentAuthService; ingest: IngestService; http: Pick<HttpAuth, 'agent' | 'origin'>; clock: Clock }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: AGENT_ROUTES.enroll,
      summary: 'Exchange a one-time enrollment token for an agent credential bound to the token\'s site',
      request: { body: jsonBody(EnrollBodySchema) },
      responses: {
        201: json(EnrollResponseSchema),
        ...errorResponses(400, 401, 409, 410),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await deps.auth.enroll(b.token, b.hostname, b.version, deps.http.origin(c)), 201);
    },
  );

  // Everything below needs the agent credential.
  app.use('/cameras/*', deps.http.agent);
  app.use('/segments/*', deps.http.agent);
  app.use('/gaps', deps.http.agent);
  app.use('/heartbeat', deps.http.agent);
  app.openAPIRegistry.registerComponent('securitySchemes', 'agentCredential', { type: 'http', scheme: 'bearer' });

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.camera,
      summary: 'Register or update one of this site\'s cameras (stream credentials never leave the agent)',
      security: agentSecurity,
      request: { params: z.object({ key: CameraKeySchema }), body: jsonBody(CameraBodySchema) },
      responses: { 200: json(CameraResponseSchema), ...errorResponses(400, 401) },
    }),
    async (c) => c.json(await deps.ingest.registerCamera(c.get('agent'), { key: c.req.valid('param').key, ...c.req.valid('json') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.segment,
      summary: 'Upload one closed segment; the body streams to S3 and is verified against the edge SHA-256',
      description: 'Idempotent: the same segment again answers 200 with the stored id. `start` is the real UTC start (ISO 8601).',
      security: agentSecurity,
      request: {
        params: z.object({ cameraKey: CameraKeySchema, start: IsoDate }),
        headers: SegmentHeadersSchema,
        body: { content: { 'video/mp2t': { schema: z.any().openapi({ type: 'string', format: 'binary' }) } }, required: true },
      },
      responses: {
        200: json(SegmentPutResponseSchema, 'already stored'),
        201: json(SegmentPutResponseSchema, 'stored'),
        ...errorResponses(400, 401, 404, 409, 410, 413, 422),
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const h = c.req.valid('header');
      const result = await deps.ingest.ingestSegment(
        c.get('agent'),
        {
          cameraKey: p.cameraKey,
          start: p.start,
          durationMs: h['x-segment-duration-ms'],
          size: h['x-segment-size'],
          sha256: h['x-segment-sha256'],
          mediaType: h['content-type'].split(';')[0]!.trim(),
          codec: h['x-segment-codec'] ?? {},
          runId: h['x-segment-run'] ?? null,
          clockOffsetMs: h['x-clock-offset-ms'] ?? null,
        },
        c.env.incoming,
        h['content-length'],
      );
      return result.status === 'created' ? c.json({ status: 'created' as const, segmentId: result.segmentId }, 201) : c.json({ status: 'exists' as const, segmentId: result.segmentId }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: AGENT_ROUTES.segment,
      summary: 'The segment the centre holds with this identity (camera + start): hash, size, duration and where its media is',
      description: 'The agent asks before it quarantines a segment refused with 409: the very same segment held here means it was delivered.',
      security: agentSecurity,
      request: { params: z.object({ cameraKey: CameraKeySchema, start: IsoDate }) },
      responses: { 200: json(SegmentStateResponseSchema), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await deps.ingest.segmentState(c.get('agent'), p.cameraKey, p.start), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.segmentMeta,
      summary: 'On-demand cameras: record a closed segment\'s facts and edge SHA-256 without its media',
      description:
        'The row has no object until the media is PUT to `/segments/{cameraKey}/{start}` (when a case asks for it); the media then attaches to this row only if its hash, size and duration match. Idempotent: the same metadata again answers 200. Same validation and error codes as the media route.',
      security: agentSecurity,
      request: {
        params: z.object({ cameraKey: CameraKeySchema, start: IsoDate }),
        body: jsonBody(SegmentMetaSchema),
      },
      responses: {
        200: json(SegmentPutResponseSchema, 'already recorded'),
        201: json(SegmentPutResponseSchema, 'recorded (media still at the store)'),
        ...errorResponses(400, 401, 404, 409, 413, 422),
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const b = c.req.valid('json');
      const result = await deps.ingest.ingestSegmentMeta(c.get('agent'), {
        cameraKey: p.cameraKey,
        start: p.start,
        durationMs: b.durationMs,
        size: b.size,
        sha256: b.sha256,
        mediaType: b.mediaType.split(';')[0]!.trim(),
        codec: b.codec,
        runId: b.runId,
        clockOffsetMs: b.clockOffsetMs,
      });
      return result.status === 'created' ? c.json({ status: 'created' as const, segmentId: result.segmentId }, 201) : c.json({ status: 'exists' as const, segmentId: result.segmentId }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: AGENT_ROUTES.gaps,
      summary: 'Report a stretch with no footage and why (gaps are shown, never hidden)',
      security: agentSecurity,
      request: { body: jsonBody(GapBodySchema) },
      responses: { 200: json(GapResponseSchema), 201: json(GapResponseSchema), ...errorResponses(400, 401, 404, 422) },
    }),
    async (c) => {
      const r = await deps.ingest.reportGap(c.get('agent'), c.req.valid('json'));
      return r.created ? c.json(r, 201) : c.json(r, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: AGENT_ROUTES.heartbeat,
      summary: 'Agent status; the answer carries server receive/send times for an NTP-style offset, and commands',
      security: agentSecurity,
      request: { body: jsonBody(HeartbeatBodySchema) },
      responses: { 200: json(HeartbeatResponseSchema), ...errorResponses(400, 401, 422) },
    }),
    async (c) => {
      const receivedAtMs = deps.clock.now().getTime();
      const b = c.req.valid('json');
      const r = await deps.ingest.heartbeat(c.get('agent'), b);
      return c.json({ receivedAtMs, sentAtMs: deps.clock.now().getTime(), commands: r.commands }, 200);
    },
  );

  return app;
}
