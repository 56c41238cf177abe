import { createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../http/app-env.ts';
import { errorResponses, iso, json, router, sessionSecurity } from '../../http/openapi.ts';
import type { CallQueryService } from '../../services/call-query.service.ts';
import { mediaResponse, withUnsatisfiableRangeLength } from '../../http/media-response.ts';
import { CallSummary, CallDetail, currentFacts, summary, leg, version, link, SearchQuery } from './schemas.ts';

/** Reads of calls and recording media (signed link or session); the session gate in app.ts sets the principal. */
export function callRoutes(deps: { calls: CallQueryService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/calls',
      summary: 'Search calls the caller may see, newest first, by cursor',
      security: sessionSecurity,
      request: { query: SearchQuery },
      responses: { 200: json(z.object({ calls: z.array(CallSummary), nextCursor: z.string().nullable() })), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const r = await deps.calls.search(c.get('principal'), { ...q, siteIds: q.site });
      return c.json({ calls: r.calls.map(summary), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/calls/{id}',
      summary: 'One call: current facts, legs with raw PBX lines, every version, recordings with signed links and derivation state',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: json(CallDetail), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const d = await deps.calls.detail(c.get('principal'), c.req.valid('param').id);
      return c.json(
        {
          ...summary(d.call),
          ...currentFacts(d.versions, d.call.currentVersion),
          site: { id: d.site.id, code: d.site.code, name: d.site.name, timezone: d.site.timezone },
          retentionClass: d.call.retentionClass,
          holdCount: d.call.holdCount,
          legs: d.legs.map(leg),
          versions: d.versions.map(version),
          recordings: d.recordings.map((r) => ({
            id: r.id,
            name: r.name,
            role: r.role,
            format: r.format,
            sampleRate: r.sampleRate,
            channels: r.channels,
            durationS: r.durationS,
            size: r.size,
            sha256: r.sha256,
            declaredInVersion: r.declaredInVersion,
            stored: r.objectKey !== null,
            storedAt: iso(r.storedAt),
            mediaType: r.mediaType,
            original: link(r.originalLink),
            playable: r.playable && r.playableLink && { ...link(r.playableLink)!, mediaType: r.playable.mediaType, codec: r.playable.codec, size: r.playable.size, durationS: r.playable.durationS },
            waveform: r.waveform && r.waveformLink && { ...link(r.waveformLink)!, bucketMs: r.waveform.bucketMs, size: r.waveform.size },
            derive: { status: r.derive.status, error: r.derive.error, attempts: r.derive.attempts, jobId: r.derive.jobId, updatedAt: iso(r.derive.updatedAt) },
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/media/recordings/{id}/{kind}',
      summary: "A recording's original, playable copy or waveform JSON, by signed link or with a bearer token; supports Range",
      request: {
        params: z.object({ id: z.string().max(64), kind: z.enum(['original', 'playable', 'waveform']) }),
        query: z.object({ exp: z.coerce.number().int().optional(), sig: z.string().max(100).optional() }),
      },
      responses: { 200: { description: 'media' }, 206: { description: 'partial media' }, ...errorResponses(400, 401, 403, 404, 416) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const p = c.req.valid('param');
      const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
      const m = await deps.calls.media({ principal, exp: q.exp, sig: q.sig }, p.id, p.kind, c.req.header('range')).catch(withUnsatisfiableRangeLength(c));
      return mediaResponse(c, m);
    },
  );

  return app;
}
