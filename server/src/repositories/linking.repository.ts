import type { UploadMode } from '@mamoru/contract/enums';
/**
 * The linking read (issue 4): what a case needs to know about a site's calls and footage for a window, in ONE SQL
 * statement each, with only the narrow columns the incident services use (docs/benchmarks.md, "Linking query").
 *
 * Footage comes back per camera window as a JSON array built in PostgreSQL: each segment as [start ms, end ms,
 * media at the centre?, media deleted by retention?], each reported gap as [id, start ms, end ms, reason, detail]. One JSON value per camera is
 * parsed by node in one JSON.parse, instead of ~60 wide rows of 15 typed columns (object keys of ~170 characters,
 * codec JSON, hashes) per camera, which is where most of the time of the full-record reads went.
 *
 * Index use: segments and gaps per camera through the GiST indexes `segment_no_overlap (camera_id, span)` and
 * `gap_camera_span_idx (camera_id, span)`; the site's cameras through `camera_site_key_uq (site_id, key)`; the calls
 * through `call_site_window_idx (site_id, tstzrange(start_at, end_at, '[]'))`. Tested with EXPLAIN in
 * server/test/linking-read.test.ts.
 */
import { type Expression, type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { GapReason } from '../db/schema.ts';
import { assertWindow } from '../domain/time-window.ts';
import type { GapRecord } from './segment.repository.ts';

/** One segment row overlapping a window: its own bounds (ms since the epoch, [start, end)) and whether its media is at the centre. */
export type FootageSpan = { start: number; end: number; stored: boolean; deleted: boolean };

/** Every segment row and reported gap of one camera that overlaps a window, oldest first. */
export type CameraFootage = { segments: FootageSpan[]; gaps: GapRecord[] };

/** One camera of the site with its footage in the window. */
export type SiteCameraFootage = CameraFootage & { id: string; key: string; uploadMode: UploadMode };

export type SiteWindowLinking = {
  /** The site's calls with `start_at < to AND end_at > from` (zero-length calls included), oldest first (then by id). */
  callIds: string[];
  /** Every camera of the site, by key, each with its footage in [from, to). */
  cameras: SiteCameraFootage[];
};

/** A camera window to read the footage of: [start, end). */
export type FootageWindow = { cameraId: string; start: Date; end: Date };

type SpanJson = [number, number, boolean, boolean];
type GapJson = [string, number, number, GapReason, string | null];
type CameraJson = [string, string, UploadMode, SpanJson[], GapJson[]];

/** Milliseconds since the epoch of a timestamptz, truncated as the pg driver truncates microseconds into a Date. */
const epochMs = (ts: RawBuilder<unknown>) => sql<number>`floor(extract(epoch FROM ${ts}) * 1000)::int8`;

const toFootage = (segments: SpanJson[], gaps: GapJson[], cameraId: string): CameraFootage => ({
  segments: segments.map(([start, end, stored, deleted]) => ({ start, end, stored, deleted })),
  gaps: gaps.map(([id, start, end, reason, detail]) => ({ id, cameraId, start: new Date(start), end: new Date(end), reason, detail })),
});

export function linkingRepository(db: Db) {
  /** JSON array of the segments of `camera` overlapping [from, to), oldest first (a scalar subquery). */
  const spansOf = (camera: Expression<string>, from: Expression<Date>, to: Expression<Date>) =>
    db
      .selectFrom('segment')
      .select(
        sql<SpanJson[]>`coalesce(json_agg(json_build_array(${epochMs(sql`lower(segment.span)`)}, ${epochMs(sql`upper(segment.span)`)}, segment.object_key IS NOT NULL, segment.deleted_at IS NOT NULL) ORDER BY lower(segment.span)), '[]'::json)`.as(
          'spans',
        ),
      )
      .where(sql<boolean>`segment.camera_id = ${camera}`)
      .where(sql<boolean>`segment.span && tstzrange(${from}, ${to}, '[)')`);

  /** JSON array of the reported gaps of `camera` overlapping [from, to), oldest first (a scalar subquery). */
  const gapsOf = (camera: Expression<string>, from: Expression<Date>, to: Expression<Date>) =>
    db
      .selectFrom('gap')
      .select(
        sql<GapJson[]>`coalesce(json_agg(json_build_array(gap.id::text, ${epochMs(sql`lower(gap.span)`)}, ${epochMs(sql`upper(gap.span)`)}, gap.reason, gap.detail) ORDER BY lower(gap.span), gap.id), '[]'::json)`.as(
          'gaps',
        ),
      )
      .where(sql<boolean>`gap.camera_id = ${camera}`)
      .where(sql<boolean>`gap.span && tstzrange(${from}, ${to}, '[)')`);

  return {
    /**
     * Filing a case: the site's calls overlapping [from, to) and every camera of the site with its segments and gaps
     * in [from, to), in one statement (one row of two JSON columns). A site without cameras or calls gives empty
     * lists; an unknown site too. No row limit: a case must not silently lose footage; the caller bounds the window.
     */
    async siteWindow(siteId: string, from: Date, to: Date): Promise<SiteWindowLinking> {
      const row = await this.siteWindowQuery(siteId, from, to).executeTakeFirstOrThrow();
      return {
        callIds: row.calls ?? [],
        cameras: (row.cameras ?? []).map(([id, key, uploadMode, spans, gaps]) => ({ id, key, uploadMode, ...toFootage(spans, gaps, id) })),
      };
    },
    /** The statement of siteWindow, for EXPLAIN in tests and benches. */
    siteWindowQuery(siteId: string, from: Date, to: Date) {
      assertWindow(from, to);
      const f = sql<Date>`${from}::timestamptz`;
      const t = sql<Date>`${to}::timestamptz`;
      const cam = sql<string>`camera.id`;
      return db.selectNoFrom((eb) => [
        eb
          .selectFrom('call')
          .select(sql<string[]>`coalesce(json_agg(call.id ORDER BY call.start_at, call.id), '[]'::json)`.as('ids'))
          .where('call.siteId', '=', siteId)
          .where(sql<boolean>`tstzrange(call.start_at, call.end_at, '[]') && tstzrange(${f}, ${t}, '()')`)
          .as('calls'),
        eb
          .selectFrom('camera')
          .select(
            sql<CameraJson[]>`coalesce(json_agg(json_build_array(camera.id, camera.key, camera.upload_mode, (${spansOf(cam, f, t)}), (${gapsOf(cam, f, t)})) ORDER BY camera.key), '[]'::json)`.as(
              'cameras',
            ),
          )
          .where('camera.siteId', '=', siteId)
          .as('cameras'),
      ]);
    },

    /**
     * The case's linked windows (the timeline, the detail view, a window linked by hand): the segments and gaps of
     * each camera window, in one statement, in the order given. Windows may differ per camera.
     */
    async windows(windows: readonly FootageWindow[]): Promise<CameraFootage[]> {
      if (windows.length === 0) return [];
      const rows = await this.windowsQuery(windows).execute();
      if (rows.length !== windows.length) throw new Error(`linking.windows: ${rows.length} rows for ${windows.length} windows`);
      return rows.map((r, i) => toFootage(r.spans ?? [], r.gaps ?? [], windows[i]!.cameraId));
    },
    /** The statement of windows, for EXPLAIN in tests and benches. */
    windowsQuery(windows: readonly FootageWindow[]) {
      for (const w of windows) assertWindow(w.start, w.end);
      const cameraIds = windows.map((w) => w.cameraId);
      const starts = windows.map((w) => w.start.toISOString());
      const ends = windows.map((w) => w.end.toISOString());
      const input = sql<{ cameraId: string; lo: Date; hi: Date; n: string }>`(
        SELECT * FROM unnest(${cameraIds}::uuid[], ${starts}::timestamptz[], ${ends}::timestamptz[]) WITH ORDINALITY AS u(camera_id, lo, hi, n))`;
      const cam = sql<string>`w.camera_id`;
      const lo = sql<Date>`w.lo`;
      const hi = sql<Date>`w.hi`;
      return db
        .selectFrom(input.as('w'))
        .select([spansOf(cam, lo, hi).as('spans'), gapsOf(cam, lo, hi).as('gaps')])
        .orderBy('w.n');
    },
  };
}
export type LinkingRepository = ReturnType<typeof linkingRepository>;
