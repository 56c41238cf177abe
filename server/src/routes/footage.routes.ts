import { Readable } from 'node:stream';
import { SegmentMetaSchema } from '@mamoru/contract';
import { SEGMENT_STATES, type SegmentState } from '@mamoru/contract/enums';
import { createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.ts';
import { errorResponses, iso, IsoDate, json, router, sessionSecurity, Uuid } from '../http/openapi.ts';
import type { CameraView } from '../repositories/camera.repository.ts';
import type { GapRecord, SegmentRecord } from '../repositories/segment.repository.ts';
import type { PlaybackService } from '../services/playback.service.ts';
import { mediaResponse, withUnsatisfiableRangeLength } from '../http/media-response.ts';

const RangeQuery = z.object({ from: IsoDate, to: IsoDate });

const Camera = z
  .object({
    id: z.string(),
    siteId: z.string(),
    siteCode: z.string(),
    siteName: z.string(),
    timezone: z.string().openapi({ description: "the site's IANA time zone; viewers show times in it", example: 'Asia/Tokyo' }),
    key: z.string(),
    name: z.string(),
    place: z.string().nullable(),
    uploadMode: z.string(),
    health: z.string(),
    lastSegmentAt: z.string().nullable(),
  })
  .openapi('Camera');
const cameraJson = (r: CameraView) => ({
  id: r.id,
  siteId: r.siteId,
  siteCode: r.siteCode,
  siteName: r.siteName,
  timezone: r.timezone,
  key: r.key,
  name: r.name,
  place: r.place,
  uploadMode: r.uploadMode,
  health: r.health,
  lastSegmentAt: iso(r.lastSegmentAt),
});
/** The agent's facts about a segment come from the contract's `SegmentMetaSchema`, so a change there reaches the web's
 * generated types (and breaks its type check) as well as the agent's and the server's. */
const Segment = SegmentMetaSchema.pick({ sha256: true, durationMs: true, runId: true, clockOffsetMs: true }).extend({
  id: z.string(),
  start: z.string(),
  end: z.string(),
  byteSize: z.number(),
  stored: z.boolean(),
  state: z.enum(SEGMENT_STATES).openapi({
    description:
      '`stored`: media at the centre. `at_store`: only the metadata and edge hash are here (on-demand camera), the media is at the store until a case asks for it. `evicted`: metadata here, but the store reported the media evicted. `deleted`: the retention policy deleted the media (`deletedAt`).',
  }),
  deletedAt: z.string().nullable(),
  holdCount: z.number(),
});

/** Where a segment's media is (see the `state` description). */
function segmentState(s: SegmentRecord, gaps: readonly GapRecord[]): SegmentState {
  if (s.objectKey) return 'stored';
  if (s.deletedAt) return 'deleted';
  const evicted = gaps.some((g) => g.reason === 'evicted' && g.start.getTime() < s.end.getTime() && g.end.getTime() > s.start.getTime());
  return evicted ? 'evicted' : 'at_store';
}
const Gap = z.object({ id: z.string(), start: z.string(), end: z.string(), reason: z.string(), detail: z.string().nullable() });

/** Reads of footage by signed-in people (the session gate in app.ts sets the principal; the service scopes by site). */
export function footageRoutes(deps: { playback: PlaybackService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/cameras',
      summary: 'Cameras the caller may see',
      security: sessionSecurity,
      request: { query: z.object({ siteId: Uuid.optional() }) },
      responses: { 200: json(z.object({ cameras: z.array(Camera) })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const rows = await deps.playback.listCameras(c.get('principal'), c.req.valid('query').siteId);
      return c.json({ cameras: rows.map(cameraJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/cameras/{id}',
      summary: 'One camera the caller may see, with its site and time zone',
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid }) },
      responses: { 200: json(z.object({ camera: Camera })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json({ camera: cameraJson(await deps.playback.camera(c.get('principal'), c.req.valid('param').id)) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/cameras/{id}/timeline',
      summary: 'Segments and gaps of a camera in a UTC time range',
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid }), query: RangeQuery },
      responses: { 200: json(z.object({ cameraId: z.string(), camera: Camera, segments: z.array(Segment), gaps: z.array(Gap) })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { from, to } = c.req.valid('query');
      const t = await deps.playback.timeline(c.get('principal'), c.req.valid('param').id, from, to);
      return c.json(
        {
          cameraId: t.camera.id,
          camera: cameraJson(t.camera),
          segments: t.segments.map((s) => ({
            id: s.id,
            start: s.start.toISOString(),
            end: s.end.toISOString(),
            durationMs: s.durationMs,
            byteSize: s.byteSize,
            sha256: s.sha256,
            stored: s.objectKey !== null,
            state: segmentState(s, t.gaps),
            deletedAt: iso(s.deletedAt),
            runId: s.runId,
            clockOffsetMs: s.clockOffsetMs,
            holdCount: s.holdCount,
          })),
          gaps: t.gaps.map((g) => ({ id: g.id, start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason, detail: g.detail })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/cameras/{id}/playlist.m3u8',
      summary: 'HLS playlist for a camera and time range (program date time on every segment, discontinuity at gaps)',
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid }), query: RangeQuery },
      responses: { 200: { description: 'playlist', content: { 'application/vnd.apple.mpegurl': { schema: z.string() } } }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { from, to } = c.req.valid('query');
      const text = await deps.playback.playlist(c.get('principal'), c.req.valid('param').id, from, to);
      return c.body(text, 200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'private, no-store' });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/media/segments/{id}',
      summary: 'Segment bytes (`{id}` or `{id}.ts`), by signed link from a playlist or with a session (audited download); supports Range',
      description: '404 `media_not_at_centre`: only the metadata is here (the media is at the store). 410 `media_deleted`: the retention policy deleted the media.',
      request: { params: z.object({ id: z.string() }), query: z.object({ exp: z.coerce.number().int().optional(), sig: z.string().max(100).optional() }) },
      responses: { 200: { description: 'media' }, 206: { description: 'partial media' }, ...errorResponses(401, 403, 404, 410, 416) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
      const m = await deps.playback.media({ principal, exp: q.exp, sig: q.sig }, c.req.valid('param').id, c.req.header('range')).catch(withUnsatisfiableRangeLength(c));
      return mediaResponse(c, m);
    },
  );

  return app;
}
