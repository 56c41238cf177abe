import type { RefusalSubject, UploadMode } from '@mamoru/contract/enums';
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
  uploadMode: UploadMode;
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

/** Requests of an agent the centre refused (times out of bounds), counted per subject and code. */
export type FleetRefusalRow = { agentId: string; siteId: string; subject: RefusalSubject; code: string; count: number; firstAt: Date; lastAt: Date; lastDetail: unknown };

const num = (v: string | number | null) => (v === null ? null : Number(v));

/** The stores view's reads: a few set-wise statements over every site in scope, never one per camera. */
export function fleetRepository(db: Db) {
  return {
    async agents(siteIds: readonly string[]): Promise<FleetAgentRow[]> {
      if (siteIds.length === 0) return [];
      const rows = await db
        .selectFrom('agent')
        .select(['id', 'siteId', 'hostname', 'version', 'clockOffsetMs', 'diskUsedBytes', 'diskTotalBytes', 'backlogCount', 'backlogBytes', 'lastContactAt', 'revokedAt', 'createdAt'])
        .where('siteId', 'in', siteIds)
        .orderBy('createdAt', 'desc')
        .execute();
      // int8 columns come back as strings.
      return rows.map((r) => ({ ...r, diskUsedBytes: num(r.diskUsedBytes), diskTotalBytes: num(r.diskTotalBytes), backlogBytes: num(r.backlogBytes) }));
    },
    /** Refusals of these sites' agents last seen at or after `since`, latest first. */
    async refusals(siteIds: readonly string[], since: Date): Promise<FleetRefusalRow[]> {
      if (siteIds.length === 0) return [];
      const rows = await db
        .selectFrom('ingestRefusal')
        .select(['agentId', 'siteId', 'subject', 'code', 'count', 'firstAt', 'lastAt', 'lastDetail'])
        .where('siteId', 'in', siteIds)
        .where('lastAt', '>=', since)
        .orderBy('lastAt', 'desc')
        .execute();
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },
    async cameras(siteIds: readonly string[]): Promise<FleetCameraRow[]> {
      if (siteIds.length === 0) return [];
      return db
        .selectFrom('camera')
        .select(['id', 'siteId', 'key', 'name', 'place', 'uploadMode', 'health', 'lastSegmentAt', 'createdAt'])
        .where('siteId', 'in', siteIds)
        .orderBy('key')
        .execute();
    },
    /**
     * Footage of each camera in [from, to) merged into islands: segments closer than `joinMs` to the previous one
     * join it (a recorder's segments follow each other within milliseconds). Returns a few rows per camera
     * however many segments there are.
     */
    async footageIslands(cameraIds: readonly string[], from: Date, to: Date, joinMs = 1000): Promise<FootageIsland[]> {
      if (cameraIds.length === 0) return [];
      // The CamelCasePlugin renames the answer's columns (camera_id → cameraId); the SQL text stays as written.
      const r = await sql<FootageIsland>`
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
      return r.rows;
    },
    async gaps(cameraIds: readonly string[], from: Date, to: Date): Promise<FleetGapRow[]> {
      if (cameraIds.length === 0) return [];
      return db
        .selectFrom('gap')
        .select(['cameraId', sql<Date>`lower(span)`.as('start'), sql<Date>`upper(span)`.as('end'), 'reason', 'detail'])
        .where('cameraId', 'in', cameraIds)
        .where(sql<boolean>`span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy('cameraId')
        .orderBy(sql`lower(span)`)
        .execute();
    },
    /** The latest `perSite` calls of each site that started in [from, to), with each site's count in the window. */
    async recentCalls(siteIds: readonly string[], from: Date, to: Date, perSite: number): Promise<FleetCallRow[]> {
      if (siteIds.length === 0) return [];
      const r = await sql<FleetCallRow>`
        SELECT id, site_id, start_at, end_at, direction, disposition, duration_s, notice_played, n AS site_count
        FROM (
          SELECT id, site_id, start_at, end_at, direction, disposition, duration_s, notice_played,
                 row_number() OVER (PARTITION BY site_id ORDER BY start_at DESC, id DESC) AS rn,
                 count(*) OVER (PARTITION BY site_id)::int AS n
          FROM call
          WHERE site_id = ANY(${[...siteIds]}::uuid[]) AND start_at >= ${from} AND start_at < ${to}
        ) x
        WHERE rn <= ${perSite}
        ORDER BY site_id, start_at DESC, id DESC`.execute(db);
      return r.rows;
    },
  };
}
export type FleetRepository = ReturnType<typeof fleetRepository>;
