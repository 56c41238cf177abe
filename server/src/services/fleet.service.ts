import type { Clock } from '../adapters/clock.ts';
import { compareStores, coverageOf, FLEET_THRESHOLDS, type Coverage, type FleetProblem, type FleetThresholds, storeProblems } from '../domain/fleet.ts';
import { can, listableSites, type Principal } from '../domain/principal.ts';
import { notFound } from '../domain/errors.ts';
import type { FleetAgentRow, FleetCallRow, FleetCameraRow, FleetGapRow, FleetRefusalRow, FleetRepository } from '../repositories/fleet.repository.ts';
import type { SiteRepository, SiteRow } from '../repositories/site.repository.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

export type FleetStore = {
  site: SiteRow;
  problems: FleetProblem[];
  agents: FleetAgentRow[];
  cameras: (FleetCameraRow & { coverage: Coverage; segments: number; gaps: FleetGapRow[] })[];
  /** Requests of the store's agents the centre refused in the window (e.g. a wrong clock: time_out_of_bounds). */
  refusals: FleetRefusalRow[];
  /** Calls that started in the window: null when the role may not read calls (admin). */
  calls: { count: number; recent: FleetCallRow[] } | null;
};

const RECENT_CALLS = 5;

/**
 * The stores view (security for their sites, hq and admin for all): each store's agent status, each camera's
 * coverage of the last hours with holes and reported gaps, and recent calls; stores with a problem first.
 * Metadata only: no media, no phone numbers.
 */
export function fleetService(deps: { fleet: FleetRepository; sites: SiteRepository; audit: AuditService; clock: Clock; thresholds?: FleetThresholds }) {
  const { fleet, sites, audit, clock } = deps;
  const t = deps.thresholds ?? FLEET_THRESHOLDS;
  return {
    async stores(p: Principal, opts: { siteId?: string | undefined; hours: number }): Promise<{ from: Date; to: Date; stores: FleetStore[] }> {
      ensureCan(p, 'fleet:read');
      let inScope = await sites.listInSites(listableSites(p));
      if (opts.siteId) {
        inScope = inScope.filter((s) => s.id === opts.siteId);
        if (inScope.length === 0) throw notFound('site_not_found', 'site not found');
      }
      const to = clock.now();
      const from = new Date(to.getTime() - opts.hours * 3600_000);
      const ids = inScope.map((s) => s.id);
      const [agents, cameras, refusals] = await Promise.all([fleet.agents(ids), fleet.cameras(ids), fleet.refusals(ids, from)]);
      const camIds = cameras.map((c) => c.id);
      const [islands, gaps, calls] = await Promise.all([
        fleet.footageIslands(camIds, from, to),
        fleet.gaps(camIds, from, to),
        can(p, 'calls:read') ? fleet.recentCalls(ids, from, to, RECENT_CALLS) : Promise.resolve(null),
      ]);
      const stores = inScope.map((site): FleetStore => {
        const siteAgents = agents.filter((a) => a.siteId === site.id);
        const siteCameras = cameras
          .filter((c) => c.siteId === site.id)
          .map((c) => {
            const own = islands.filter((i) => i.cameraId === c.id);
            return {
              ...c,
              coverage: coverageOf(own, { start: from, end: to }, { createdAt: c.createdAt, notYetMs: t.notYetMs }),
              segments: own.reduce((n, i) => n + i.segments, 0),
              gaps: gaps.filter((g) => g.cameraId === c.id),
            };
          });
        const siteCalls = calls?.filter((x) => x.siteId === site.id) ?? null;
        return {
          site,
          problems: storeProblems(siteAgents, siteCameras, to, t),
          agents: siteAgents,
          cameras: siteCameras,
          refusals: refusals.filter((r) => r.siteId === site.id),
          calls: siteCalls && { count: siteCalls[0]?.siteCount ?? 0, recent: siteCalls },
        };
      });
      stores.sort((a, b) => compareStores({ code: a.site.code, problems: a.problems }, { code: b.site.code, problems: b.problems }));
      await audit.record(p, { action: 'fleet.view', siteId: opts.siteId ?? null, details: { sites: stores.length, hours: opts.hours, withProblems: stores.filter((s) => s.problems.length).length } });
      return { from, to, stores };
    },
  };
}
export type FleetService = ReturnType<typeof fleetService>;
