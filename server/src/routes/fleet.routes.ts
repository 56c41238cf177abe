import { createRoute, z } from '@hono/zod-openapi';
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, GAP_REASONS, NOTICE_PLAYED, REFUSAL_SUBJECTS, UPLOAD_MODES } from '@mamoru/contract/enums';
import { errorResponses, iso, json, router, sessionSecurity as security } from '../http/openapi.ts';
import type { FleetService, FleetStore } from '../services/fleet.service.ts';

const Span = z.object({ start: z.string(), end: z.string() });

const FleetAgent = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  version: z.string().nullable(),
  lastContactAt: z.string().nullable(),
  clockOffsetMs: z.number().nullable(),
  diskUsedBytes: z.number().nullable(),
  diskTotalBytes: z.number().nullable(),
  backlogCount: z.number().nullable(),
  backlogBytes: z.number().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
const FleetCamera = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  place: z.string().nullable(),
  uploadMode: z.enum(UPLOAD_MODES),
  health: z.string(),
  lastSegmentAt: z.string().nullable(),
  segments: z.number().openapi({ description: 'segments in the window' }),
  coverage: z.object({
    from: z.string().openapi({ description: 'window start, or when the camera was registered if later' }),
    to: z.string(),
    coveredMs: z.number(),
    holeMs: z.number(),
    covered: z.array(Span),
    holes: z.array(Span).openapi({ description: 'no footage (before the last footage, or after it once "not yet" has passed)' }),
    notYet: Span.nullable().openapi({ description: 'after the last footage while it is still being cut or uploaded' }),
  }),
  gaps: z.array(z.object({ start: z.string(), end: z.string(), reason: z.enum(GAP_REASONS), detail: z.string().nullable() })).openapi({ description: 'gaps the agent reported' }),
});
const FleetProblem = z.object({
  code: z.enum(['no_agent', 'agent_silent', 'agent_never_seen', 'clock_offset', 'disk_nearly_full', 'backlog', 'camera_offline', 'coverage_holes']),
  severity: z.enum(['critical', 'warning']),
  agentId: z.string().optional(),
  cameraId: z.string().optional(),
  value: z.number().optional(),
});
const FleetCall = z.object({
  id: z.string(),
  startAt: z.string(),
  endAt: z.string(),
  direction: z.enum(CALL_DIRECTIONS),
  disposition: z.enum(CALL_DISPOSITIONS),
  durationS: z.number(),
  noticePlayed: z.enum(NOTICE_PLAYED),
});
const FleetStoreSchema = z
  .object({
    site: z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }),
    problems: z.array(FleetProblem),
    agents: z.array(FleetAgent),
    cameras: z.array(FleetCamera),
    refusals: z
      .array(z.object({ agentId: z.string(), subject: z.enum(REFUSAL_SUBJECTS), code: z.string(), count: z.number(), firstAt: z.string(), lastAt: z.string(), lastDetail: z.unknown() }))
      .openapi({ description: "requests of the store's agents refused in the window, counted per subject and code (time_out_of_bounds: the agent's clock or its footage times are outside the accepted range); lastDetail holds the latest refused values and the range" }),
    calls: z.object({ count: z.number(), recent: z.array(FleetCall) }).nullable().openapi({ description: 'null when the role may not read calls' }),
  })
  .openapi('FleetStore');
const Fleet = z.object({ from: z.string(), to: z.string(), stores: z.array(FleetStoreSchema) }).openapi('Fleet');

const out = (s: FleetStore) => ({
  site: s.site,
  problems: s.problems,
  agents: s.agents.map((a) => ({
    id: a.id,
    hostname: a.hostname,
    version: a.version,
    lastContactAt: iso(a.lastContactAt),
    clockOffsetMs: a.clockOffsetMs,
    diskUsedBytes: a.diskUsedBytes,
    diskTotalBytes: a.diskTotalBytes,
    backlogCount: a.backlogCount,
    backlogBytes: a.backlogBytes,
    revokedAt: iso(a.revokedAt),
    createdAt: a.createdAt.toISOString(),
  })),
  refusals: s.refusals.map((r) => ({ agentId: r.agentId, subject: r.subject, code: r.code, count: r.count, firstAt: r.firstAt.toISOString(), lastAt: r.lastAt.toISOString(), lastDetail: r.lastDetail })),
  cameras: s.cameras.map((c) => ({
    id: c.id,
    key: c.key,
    name: c.name,
    place: c.place,
    uploadMode: c.uploadMode,
    health: c.health,
    lastSegmentAt: iso(c.lastSegmentAt),
    segments: c.segments,
    coverage: {
      from: c.coverage.from.toISOString(),
      to: c.coverage.to.toISOString(),
      coveredMs: c.coverage.coveredMs,
      holeMs: c.coverage.holeMs,
      covered: c.coverage.covered.map((i) => ({ start: i.start.toISOString(), end: i.end.toISOString() })),
      holes: c.coverage.holes.map((i) => ({ start: i.start.toISOString(), end: i.end.toISOString() })),
      notYet: c.coverage.notYet && { start: c.coverage.notYet.start.toISOString(), end: c.coverage.notYet.end.toISOString() },
    },
    gaps: c.gaps.map((g) => ({ start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason, detail: g.detail })),
  })),
  calls: s.calls && {
    count: s.calls.count,
    recent: s.calls.recent.map((x) => ({ id: x.id, startAt: x.startAt.toISOString(), endAt: x.endAt.toISOString(), direction: x.direction, disposition: x.disposition, durationS: x.durationS, noticePlayed: x.noticePlayed })),
  },
});

/** The stores view (fleet): security for their sites, hq and admin for all. */
export function fleetRoutes(deps: { fleet: FleetService }) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/fleet',
      summary: "Each store in the caller's scope: agent status, camera coverage of the last hours with gaps, recent calls; stores with a problem first",
      security,
      request: {
        query: z.object({
          siteId: z.string().uuid().optional().openapi({ description: 'one store (404 site_not_found outside the scope)' }),
          hours: z.coerce.number().int().min(1).max(168).default(24),
        }),
      },
      responses: { 200: json(Fleet), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const r = await deps.fleet.stores(c.get('principal'), c.req.valid('query'));
      return c.json({ from: r.from.toISOString(), to: r.to.toISOString(), stores: r.stores.map(out) }, 200);
    },
  );
  return app;
}
