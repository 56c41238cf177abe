/**
 * The stores view (fleet): which parts of a camera's last hours are covered by footage, which are holes, and what is
 * wrong with a store. Pure functions: the repository hands in merged footage intervals, agent and camera rows.
 */

export type Interval = { start: Date; end: Date };

export type FleetThresholds = {
  /** An agent whose last contact is older than this is silent (heartbeats come every 30 s by default). */
  agentSilentMs: number;
  /** |clock offset| above this makes footage times doubtful. */
  clockOffsetMs: number;
  /** Disk used / total above this. */
  diskRatio: number;
  /** Items waiting to upload above this. */
  backlogCount: number;
  /** After the last footage, this long counts as "not yet" (still being cut or uploaded), not as a hole. */
  notYetMs: number;
  /** Uncovered time in the window (not counting "not yet") from which a camera is reported. */
  holeReportMs: number;
};

export const FLEET_THRESHOLDS: FleetThresholds = {
  agentSilentMs: 5 * 60_000,
  clockOffsetMs: 2_000,
  diskRatio: 0.9,
  backlogCount: 100,
  notYetMs: 3 * 60_000,
  holeReportMs: 60_000,
};

export type Coverage = {
  /** The window judged: from max(window start, camera created) to now. */
  from: Date;
  to: Date;
  covered: Interval[];
  /** Parts of the window with no footage, before the last footage (or after it, once "not yet" has passed). */
  holes: Interval[];
  /** After the last footage, up to now, while that is shorter than `notYetMs`; null otherwise. */
  notYet: Interval | null;
  coveredMs: number;
  holeMs: number;
};

const ms = (i: Interval) => i.end.getTime() - i.start.getTime();

/**
 * Coverage of [from, to) from merged footage intervals (sorted, non-overlapping; clipped here). A camera created
 * inside the window is judged from its creation. The stretch after the last footage is "not yet" while it is short.
 */
export function coverageOf(intervals: readonly Interval[], window: Interval, opts: { createdAt?: Date | null; notYetMs: number }): Coverage {
  const from = new Date(Math.max(window.start.getTime(), opts.createdAt?.getTime() ?? -Infinity));
  const to = window.end;
  const covered: Interval[] = [];
  for (const i of intervals) {
    const s = Math.max(i.start.getTime(), from.getTime());
    const e = Math.min(i.end.getTime(), to.getTime());
    if (e <= s) continue;
    const last = covered[covered.length - 1];
    if (last && s <= last.end.getTime()) last.end = new Date(Math.max(e, last.end.getTime()));
    else covered.push({ start: new Date(s), end: new Date(e) });
  }
  const holes: Interval[] = [];
  let cursor = from.getTime();
  for (const c of covered) {
    if (c.start.getTime() > cursor) holes.push({ start: new Date(cursor), end: c.start });
    cursor = c.end.getTime();
  }
  let notYet: Interval | null = null;
  if (cursor < to.getTime()) {
    const tail = { start: new Date(cursor), end: to };
    if (ms(tail) <= opts.notYetMs) notYet = tail;
    else holes.push(tail);
  }
  return { from, to, covered, holes, notYet, coveredMs: covered.reduce((n, i) => n + ms(i), 0), holeMs: holes.reduce((n, i) => n + ms(i), 0) };
}

export type FleetAgent = {
  id: string;
  revokedAt: Date | null;
  lastContactAt: Date | null;
  clockOffsetMs: number | null;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  backlogCount: number | null;
};
export type FleetCamera = { id: string; key: string; health: string; uploadMode: string; coverage: Coverage };

export type ProblemCode =
  | 'no_agent'
  | 'agent_silent'
  | 'agent_never_seen'
  | 'clock_offset'
  | 'disk_nearly_full'
  | 'backlog'
  | 'camera_offline'
  | 'coverage_holes';
export type FleetProblem = { code: ProblemCode; severity: 'critical' | 'warning'; agentId?: string; cameraId?: string; value?: number };

/** What is wrong with a store, worst first. Revoked agents are history, not the store's agent. */
export function storeProblems(agents: readonly FleetAgent[], cameras: readonly FleetCamera[], now: Date, t: FleetThresholds = FLEET_THRESHOLDS): FleetProblem[] {
  const out: FleetProblem[] = [];
  const live = agents.filter((a) => !a.revokedAt);
  if (live.length === 0) out.push({ code: 'no_agent', severity: 'critical' });
  for (const a of live) {
    if (!a.lastContactAt) out.push({ code: 'agent_never_seen', severity: 'critical', agentId: a.id });
    else if (now.getTime() - a.lastContactAt.getTime() > t.agentSilentMs) out.push({ code: 'agent_silent', severity: 'critical', agentId: a.id, value: now.getTime() - a.lastContactAt.getTime() });
    if (a.clockOffsetMs !== null && Math.abs(a.clockOffsetMs) > t.clockOffsetMs) out.push({ code: 'clock_offset', severity: 'warning', agentId: a.id, value: a.clockOffsetMs });
    if (a.diskUsedBytes !== null && a.diskTotalBytes && a.diskUsedBytes / a.diskTotalBytes > t.diskRatio) out.push({ code: 'disk_nearly_full', severity: 'warning', agentId: a.id, value: a.diskUsedBytes / a.diskTotalBytes });
    if (a.backlogCount !== null && a.backlogCount > t.backlogCount) out.push({ code: 'backlog', severity: 'warning', agentId: a.id, value: a.backlogCount });
  }
  for (const c of cameras) {
    if (c.health === 'offline') out.push({ code: 'camera_offline', severity: 'critical', cameraId: c.id });
    if (c.coverage.holeMs >= t.holeReportMs) out.push({ code: 'coverage_holes', severity: 'warning', cameraId: c.id, value: c.coverage.holeMs });
  }
  const rank = (p: FleetProblem) => (p.severity === 'critical' ? 0 : 1);
  return out.sort((a, b) => rank(a) - rank(b));
}

/** Stores with a problem first: critical before warning, then more problems first, then by code. */
export function compareStores(a: { code: string; problems: readonly FleetProblem[] }, b: { code: string; problems: readonly FleetProblem[] }): number {
  const worst = (s: { problems: readonly FleetProblem[] }) => (s.problems.some((p) => p.severity === 'critical') ? 0 : s.problems.length ? 1 : 2);
  return worst(a) - worst(b) || b.problems.length - a.problems.length || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}
