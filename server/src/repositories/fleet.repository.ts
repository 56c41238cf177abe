import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { CallDirection, CallDisposition, GapReason, NoticePlayed } from '../db/schema.ts';

export type FleetAgentRow = {
  id: string;
  siteId: string;
  hostname: string | null;
  version: string | null;
  clockOffsetMs: number | null;
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  backlogCount: number | null;
  backlogBytes: number | null;
  lastContactAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
};
export type FleetCameraRow = {
  id: string;
  siteId: string;
  key: string;
  name: string;
  place: string | null;
  uploadMode: 'continuous' | 'on-demand';
  health: string;
  lastSegmentAt: Date | null;
  createdAt: Date;
};
export type FootageIsland = { cameraId: string; start: Date; end: Date; segments: number };
export type FleetGapRow = { cameraId: string; start: Date; end: Date; reason: GapReason; detail: string | null };
export type FleetCallRow = {
  id: string;
  siteId: string;
  startAt: Date;
  endAt: Date;
  direction: CallDirection;
  disposition: CallDisposition;
  durationS: number;
  noticePlayed: NoticePlayed;
  /** Calls of the site in the window (the same on each of its rows). */
  siteCount: number;
};

const num = (v: string | number | null) => (v === null ? null : Number(v));

/** The stores view's reads: a few set-wise statements over every site in scope, never one per camera. */
export function fleetRepository(db: Db) {
  return {
    async agents(siteIds: readonly string[]): Promise<FleetAgentRow[]> {
      if (siteIds.length === 0) return [];
      const rows = await db
        .selectFrom('agent')
        .select(['id', 'site_id', 'hostname', 'version', 'clock_offset_ms', 'disk_used_bytes', 'disk_total_bytes', 'backlog_count', 'backlog_bytes', 'last_contact_at', 'revoked_at', 'created_at'])
        .where('site_id', 'in', siteIds)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        siteId: r.site_id,
        hostname: r.hostname,
        version: r.version,
        clockOffsetMs: r.clock_offset_ms,
        diskUsedBytes: num(r.disk_used_bytes),
        diskTotalBytes: num(r.disk_total_bytes),
        backlogCount: r.backlog_count,
        backlogBytes: num(r.backlog_bytes),
        lastContactAt: r.last_contact_at,
        revokedAt: r.revoked_at,
        createdAt: r.created_at,
      }));
    },
    async cameras(siteIds: readonly string[]): Promise<FleetCameraRow[]> {
      if (siteIds.length === 0) return [];
      const rows = await db
        .selectFrom('camera')
        .select(['id', 'site_id', 'key', 'name', 'place', 'upload_mode', 'health', 'last_segment_at', 'created_at'])
        .where('site_id', 'in', siteIds)
        .orderBy('key')
        .execute();
      return rows.map((r) => ({ id: r.id, siteId: r.site_id, key: r.key, name: r.name, place: r.place, uploadMode: r.upload_mode, health: r.health, lastSegmentAt: r.last_segment_at, createdAt: r.created_at }));
    },
    /**
     * Footage of each camera in [from, to) merged into islands: segments closer than `joinMs` to the previous one
     * join it (a recorder's segments follow each other within milliseconds). Returns a few rows per camera
     * however many segments there are.
     */
    async footageIslands(cameraIds: readonly string[], from: Date, to: Date, joinMs = 1000): Promise<FootageIsland[]> {
      if (cameraIds.length === 0) return [];
      const r = await sql<{ camera_id: string; start: Date; end: Date; segments: number }>`
        SELECT camera_id, min(s) AS start, max(e) AS "end", count(*)::int AS segments
        FROM (
          SELECT camera_id, s, e, sum(brk) OVER (PARTITION BY camera_id ORDER BY s) AS grp
          FROM (
            SELECT camera_id, lower(span) AS s, upper(span) AS e,
                   CASE WHEN lower(span) - lag(upper(span)) OVER (PARTITION BY camera_id ORDER BY lower(span)) <= ${`${joinMs} milliseconds`}::interval
                        THEN 0 ELSE 1 END AS brk
            FROM segment
            WHERE camera_id = ANY(${[...cameraIds]}::uuid[]) AND span && tstzrange(${from}, ${to}, '[)')
          ) a
        ) b
        GROUP BY camera_id, grp
        ORDER BY camera_id, start`.execute(db);
      return r.rows.map((x) => ({ cameraId: x.camera_id, start: x.start, end: x.end, segments: x.segments }));
    },
    async gaps(cameraIds: readonly string[], from: Date, to: Date): Promise<FleetGapRow[]> {
      if (cameraIds.length === 0) return [];
      const rows = await db
        .selectFrom('gap')
        .select(['camera_id', sql<Date>`lower(span)`.as('start'), sql<Date>`upper(span)`.as('end'), 'reason', 'detail'])
        .where('camera_id', 'in', cameraIds)
        .where(sql<boolean>`span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy('camera_id')
        .orderBy(sql`lower(span)`)
        .execute();
      return rows.map((g) => ({ cameraId: g.camera_id, start: g.start, end: g.end, reason: g.reason, detail: g.detail }));
    },
    /** The latest `perSite` calls of each site that started in [from, to), with each site's count in the window. */
    async recentCalls(siteIds: readonly string[], from: Date, to: Date, perSite: number): Promise<FleetCallRow[]> {
      if (siteIds.length === 0) return [];
      const r = await sql<{ id: string; site_id: string; start_at: Date; end_at: Date; direction: CallDirection; disposition: CallDisposition; duration_s: number; notice_played: NoticePlayed; n: number }>`
        SELECT id, site_id, start_at, end_at, direction, disposition, duration_s, notice_played, n
        FROM (
          SELECT id, site_id, start_at, end_at, direction, disposition, duration_s, notice_played,
                 row_number() OVER (PARTITION BY site_id ORDER BY start_at DESC, id DESC) AS rn,
                 count(*) OVER (PARTITION BY site_id)::int AS n
          FROM call
          WHERE site_id = ANY(${[...siteIds]}::uuid[]) AND start_at >= ${from} AND start_at < ${to}
        ) x
        WHERE rn <= ${perSite}
        ORDER BY site_id, start_at DESC, id DESC`.execute(db);
      return r.rows.map((c) => ({ id: c.id, siteId: c.site_id, startAt: c.start_at, endAt: c.end_at, direction: c.direction, disposition: c.disposition, durationS: c.duration_s, noticePlayed: c.notice_played, siteCount: c.n }));
    },
  };
}
export type FleetRepository = ReturnType<typeof fleetRepository>;
