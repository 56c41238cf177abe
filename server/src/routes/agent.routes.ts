import { createRoute, z } from '@hono/zod-openapi';
import type { AgentAuthService } from '../services/agent-auth.service.ts';
import type { IngestService } from '../services/ingest.service.ts';
import type { HttpAuth } from '../http/auth.ts';
import { badRequest } from '../domain/errors.ts';
import { errorResponses, IsoDate, router } from '../http/openapi.ts';
import type { Clock } from '../adapters/clock.ts';

const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const security = [{ agentCredential: [] }];

const EnrollBody = z.object({ token: z.string().min(10).max(200), hostname: z.string().max(255).nullable().default(null), version: z.string().max(64).nullable().default(null) });
const CameraKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
const CameraBody = z.object({
  name: z.string().min(1).max(200),
  place: z.string().max(200).nullable().default(null),
  uploadMode: z.enum(['continuous', 'on-demand']).default('continuous'),
  device: z.record(z.string(), z.unknown()).default({}),
  health: z.enum(['recording', 'offline', 'starting', 'unknown']).default('unknown'),
});
const SegmentHeaders = z.object({
  'x-segment-sha256': z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256'),
  'x-segment-size': z.coerce.number().int().positive(),
  'x-segment-duration-ms': z.coerce.number().int().positive().max(3_600_000),
  'x-segment-run': z.string().uuid().optional(),
  'x-segment-codec': z.string().max(2000).optional(),
  'x-clock-offset-ms': z.coerce.number().int().min(-86_400_000).max(86_400_000).optional(),
  'content-type': z.string(),
  'content-length': z.coerce.number().int().nonnegative().optional(),
});
const SegmentMetaBody = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256'),
  size: z.number().int().positive(),
  durationMs: z.number().int().positive().max(3_600_000),
  mediaType: z.string().min(1).max(100),
  codec: z.record(z.string(), z.unknown()).default({}),
  runId: z.string().uuid().nullable().default(null),
  clockOffsetMs: z.number().int().min(-86_400_000).max(86_400_000).nullable().default(null),
});
const GapBody = z.object({
  cameraKey: CameraKey,
  start: IsoDate,
  end: IsoDate,
  reason: z.enum(['camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'other']),
  detail: z.string().max(2000).nullable().default(null),
});
/** `AgentCommand` of edge-agent/src/contracts.ts: delivered at least once; acknowledged at /agent/commands/{id}/ack. */
const AgentCommand = z
  .object({
    id: z.string().uuid(),
    kind: z.literal('preserve_window'),
    cameraKey: z.string(),
    from: z.string().openapi({ description: 'ISO 8601 UTC' }),
    to: z.string(),
    incidentId: z.string().uuid().nullable(),
  })
  .openapi('AgentCommand', { description: 'preserve_window: hold every local segment of the camera overlapping [from, to) and upload it ahead of everything else' });
const HeartbeatBody = z.object({
  version: z.string().max(64),
  sentAtMs: z.number().int().positive(),
  clockOffsetMs: z.number().int().nullable().default(null),
  diskUsedBytes: z.number().int().nonnegative().nullable().default(null),
  diskTotalBytes: z.number().int().nonnegative().nullable().default(null),
  backlogCount: z.number().int().nonnegative().nullable().default(null),
  backlogBytes: z.number().int().nonnegative().nullable().default(null),
  cameras: z.array(z.object({ key: CameraKey, health: z.string().max(32) })).max(256).default([]),
});

export function agentRoutes(deps: { auth: AgentAuthService; ingest: IngestService; http: Pick<HttpAuth, 'agent' | 'origin'>; clock: Clock }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/enroll',
      summary: 'Exchange a one-time enrollment token for an agent credential bound to the token\'s site',
      request: { body: { content: { 'application/json': { schema: EnrollBody } }, required: true } },
      responses: {
        201: json(z.object({ agentId: z.string(), siteId: z.string(), siteCode: z.string(), timezone: z.string(), credential: z.string() })),
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
      path: '/cameras/{key}',
      summary: 'Register or update one of this site\'s cameras (stream credentials never leave the agent)',
      security,
      request: { params: z.object({ key: CameraKey }), body: { content: { 'application/json': { schema: CameraBody } }, required: true } },
      responses: { 200: json(z.object({ cameraId: z.string(), key: z.string(), uploadMode: z.string() })), ...errorResponses(400, 401) },
    }),
    async (c) => c.json(await deps.ingest.registerCamera(c.get('agent'), { key: c.req.valid('param').key, ...c.req.valid('json') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/segments/{cameraKey}/{start}',
      summary: 'Upload one closed segment; the body streams to S3 and is verified against the edge SHA-256',
      description: 'Idempotent: the same segment again answers 200 with the stored id. `start` is the real UTC start (ISO 8601).',
      security,
      request: {
        params: z.object({ cameraKey: CameraKey, start: IsoDate }),
        headers: SegmentHeaders,
        body: { content: { 'video/mp2t': { schema: z.any().openapi({ type: 'string', format: 'binary' }) } }, required: true },
      },
      responses: {
        200: json(z.object({ status: z.literal('exists'), segmentId: z.string() }), 'already stored'),
        201: json(z.object({ status: z.literal('created'), segmentId: z.string() }), 'stored'),
        ...errorResponses(400, 401, 404, 409, 410, 413),
      },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const h = c.req.valid('header');
      let codec: Record<string, unknown> = {};
      if (h['x-segment-codec']) {
        try {
          codec = JSON.parse(h['x-segment-codec']) as Record<string, unknown>;
        } catch {
          c.env.incoming.resume();
          throw badRequest('invalid_request', 'x-segment-codec must be JSON');
        }
      }
      const result = await deps.ingest.ingestSegment(
        c.get('agent'),
        {
          cameraKey: p.cameraKey,
          start: p.start,
          durationMs: h['x-segment-duration-ms'],
          size: h['x-segment-size'],
          sha256: h['x-segment-sha256'],
          mediaType: h['content-type'].split(';')[0]!.trim(),
          codec,
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
      method: 'put',
      path: '/segments/{cameraKey}/{start}/meta',
      summary: 'On-demand cameras: record a closed segment\'s facts and edge SHA-256 without its media',
      description:
        'The row has no object until the media is PUT to `/segments/{cameraKey}/{start}` (when a case asks for it); the media then attaches to this row only if its hash, size and duration match. Idempotent: the same metadata again answers 200. Same validation and error codes as the media route.',
      security,
      request: {
        params: z.object({ cameraKey: CameraKey, start: IsoDate }),
        body: { content: { 'application/json': { schema: SegmentMetaBody } }, required: true },
      },
      responses: {
        200: json(z.object({ status: z.literal('exists'), segmentId: z.string() }), 'already recorded'),
        201: json(z.object({ status: z.literal('created'), segmentId: z.string() }), 'recorded (media still at the store)'),
        ...errorResponses(400, 401, 404, 409, 413),
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
      path: '/gaps',
      summary: 'Report a stretch with no footage and why (gaps are shown, never hidden)',
      security,
      request: { body: { content: { 'application/json': { schema: GapBody } }, required: true } },
      responses: { 200: json(z.object({ created: z.boolean(), gapId: z.string() })), 201: json(z.object({ created: z.boolean(), gapId: z.string() })), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const r = await deps.ingest.reportGap(c.get('agent'), c.req.valid('json'));
      return r.created ? c.json(r, 201) : c.json(r, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/heartbeat',
      summary: 'Agent status; the answer carries server receive/send times for an NTP-style offset, and commands',
      security,
      request: { body: { content: { 'application/json': { schema: HeartbeatBody } }, required: true } },
      responses: { 200: json(z.object({ receivedAtMs: z.number(), sentAtMs: z.number(), commands: z.array(AgentCommand) })), ...errorResponses(400, 401) },
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
