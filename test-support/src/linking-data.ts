/**
 * Realistic footage and call rows for the linking query (issue 4), generated inside PostgreSQL with
 * generate_series: sites, their cameras, one segment per camera every `segmentSeconds` (arriving in time order, as
 * agents upload them), and calls spread over the sites and the same period, with one mixed recording per answered
 * call. Used by bench/linking.ts (10 million segments) and server/test/linking-read.test.ts (a few thousand).
 *
 * The database must be migrated. Everything is written through one pinned connection (a temp table maps camera and
 * site ordinals to ids), in statements of about `chunkRows` rows, each its own transaction.
 */
import { type Kysely, sql } from 'kysely';

export type LinkingDataOptions = {
  /** Site code prefix (lower case letters, digits, '-'). */
  prefix: string;
  sites: number;
  camerasPerSite: number;
  segmentsPerCamera: number;
  /** Nominal segment length; the real duration is up to 0.8 s shorter (keyframe boundaries). Default 60. */
  segmentSeconds?: number;
  calls: number;
  /** Start of the generated period (UTC). */
  start: Date;
  /** Every tenth camera is on-demand: its segments have no object key yet. Default true. */
  onDemandCameras?: boolean;
  /**
   * Drop the exclusion constraint `segment_no_overlap` for the segment load and add it back afterwards with the
   * definition read from the catalogue (one index build instead of millions of GiST insertions). Default false.
   */
  deferExclusion?: boolean;
  /** Rows per INSERT statement. Default 1,000,000. */
  chunkRows?: number;
  log?: (msg: string) => void;
};

export type LinkingData = {
  siteIds: string[];
  cameras: number;
  segments: number;
  calls: number;
  recordings: number;
  /** The generated period: segments cover [from, to); calls start in it. */
  from: Date;
  to: Date;
  /** Milliseconds per step. */
  timings: Record<string, number>;
};

const SEGMENT_CONSTRAINT = 'segment_no_overlap';

export async function generateLinkingData(db: Kysely<any>, o: LinkingDataOptions): Promise<LinkingData> {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(o.prefix)) throw new Error(`bad prefix ${o.prefix}`);
  const segSec = o.segmentSeconds ?? 60;
  const chunk = o.chunkRows ?? 1_000_000;
  const log = o.log ?? (() => undefined);
  const onDemand = o.onDemandCameras ?? true;
  const periodSec = o.segmentsPerCamera * segSec;
  const from = o.start;
  const to = new Date(from.getTime() + periodSec * 1000);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    timings[name] = Math.round(performance.now() - t0);
    log(`${name}: ${(timings[name]! / 1000).toFixed(1)} s`);
    return r;
  };

  return db.connection().execute(async (conn) => {
    await sql`SET TIME ZONE 'UTC'`.execute(conn);

    const siteIds = await timed('sites+cameras', async () => {
      const sites = await sql<{ id: string }>`
        INSERT INTO site (code, name, timezone, address)
        SELECT ${o.prefix} || '-' || lpad(i::text, 5, '0'), '店舗 ' || i, 'Asia/Tokyo', '東京都 ' || i
        FROM generate_series(1, ${o.sites}::int) AS i
        ORDER BY i
        RETURNING id`.execute(conn);
      await sql`
        CREATE TEMP TABLE linking_site_n ON COMMIT PRESERVE ROWS AS
        SELECT (row_number() OVER (ORDER BY code) - 1)::int AS n, id FROM site WHERE code LIKE ${o.prefix + '-%'}`.execute(conn);
      await sql`
        INSERT INTO camera (site_id, key, name, place, upload_mode, device, health)
        SELECT s.id, 'cam' || lpad(j::text, 2, '0'), 'カメラ ' || j, CASE WHEN j = 1 THEN 'レジ1' ELSE '売場' || j END,
               CASE WHEN ${onDemand}::boolean AND j % 10 = 0 THEN 'on-demand' ELSE 'continuous' END,
               jsonb_build_object('xaddr', 'http://192.168.1.' || (100 + j) || '/onvif/device_service', 'profile', 'main'), 'ok'
        FROM linking_site_n s CROSS JOIN generate_series(1, ${o.camerasPerSite}::int) AS j`.execute(conn);
      await sql`
        CREATE TEMP TABLE linking_camera_n ON COMMIT PRESERVE ROWS AS
        SELECT (row_number() OVER (ORDER BY s.n, c.key) - 1)::int AS n, c.id, c.site_id, c.upload_mode = 'continuous' AS continuous
        FROM camera c JOIN linking_site_n s ON s.id = c.site_id`.execute(conn);
      await sql`CREATE UNIQUE INDEX ON linking_camera_n (n)`.execute(conn);
      await sql`ANALYZE linking_site_n`.execute(conn);
      await sql`ANALYZE linking_camera_n`.execute(conn);
      return sites.rows.map((r) => r.id);
    });
    const cameras = o.sites * o.camerasPerSite;

    let exclusionDef: string | undefined;
    if (o.deferExclusion) {
      const r = await sql<{ def: string }>`
        SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'segment'::regclass AND conname = ${SEGMENT_CONSTRAINT}`.execute(conn);
      exclusionDef = r.rows[0]?.def;
      if (!exclusionDef) throw new Error(`constraint ${SEGMENT_CONSTRAINT} not found`);
      await sql`ALTER TABLE segment DROP CONSTRAINT ${sql.id(SEGMENT_CONSTRAINT)}`.execute(conn);
      log(`dropped ${SEGMENT_CONSTRAINT} for the load: ${exclusionDef}`);
    }

    // Row k is segment i = k / cameras of camera n = k % cameras: all cameras' first segments, then their second...
    // Camera n's segments start at (n mod segSec) seconds plus a few milliseconds into each slot.
    const totalSegments = cameras * o.segmentsPerCamera;
    await timed('segments', async () => {
      for (let k0 = 0; k0 < totalSegments; k0 += chunk) {
        const k1 = Math.min(totalSegments, k0 + chunk) - 1;
        const t0 = performance.now();
        await sql`
          INSERT INTO segment (camera_id, span, duration_ms, byte_size, sha256, media_type, codec, run_id, clock_offset_ms, object_key, stored_at, received_at)
          SELECT c.id,
                 tstzrange(g.s, g.s + g.d * interval '1 millisecond', '[)'),
                 g.d,
                 15000000 + (random() * 15000000)::bigint,
                 sha256(int8send(g.k)),
                 'video/mp2t',
                 '{"video":"h264","profile":"main","width":1920,"height":1080,"fps":15}'::jsonb,
                 md5(c.id::text || (g.i * ${segSec}::int / 86400)::text)::uuid,
                 (random() * 40)::int - 20,
                 CASE WHEN c.continuous THEN
                   'segments/' || c.site_id || '/' || c.id || '/' || to_char(g.s, 'YYYY/MM/DD') || '/'
                   || to_char(g.s, 'YYYY-MM-DD"T"HH24MISSMS"Z"') || '-' || gen_random_uuid() || '.ts' END,
                 CASE WHEN c.continuous THEN g.s + (g.d + 2500) * interval '1 millisecond' END,
                 g.s + (g.d + 1500) * interval '1 millisecond'
          FROM (
            SELECT k, k / ${cameras}::int AS i, (k % ${cameras}::int)::int AS n,
                   ${from}::timestamptz + ((k / ${cameras}::int) * ${segSec}::int + (k % ${cameras}::int) % ${segSec}::int) * interval '1 second'
                     + ((k % ${cameras}::int) * 7 % 1000) * interval '1 millisecond' AS s,
                   ${segSec * 1000}::int - (random() * 800)::int AS d
            FROM generate_series(${k0}::bigint, ${k1}::bigint) AS k
          ) AS g
          JOIN linking_camera_n c ON c.n = g.n`.execute(conn);
        log(`  segments ${(k1 + 1).toLocaleString('en')} / ${totalSegments.toLocaleString('en')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    });

    if (exclusionDef) {
      await timed('segment exclusion constraint re-added', async () => {
        await sql`ALTER TABLE segment ADD CONSTRAINT ${sql.id(SEGMENT_CONSTRAINT)} ${sql.raw(exclusionDef!)}`.execute(conn);
      });
    }

    // Calls: sites round-robin, starts uniform over the period; 80 % answered with talk time exponential (mean 3 min)
    // and 0.5 % of those held for 30 min to 2 h (長時間拘束); unanswered calls ring 2 to 30 s.
    await timed('calls', async () => {
      for (let k0 = 1; k0 <= o.calls; k0 += chunk) {
        const k1 = Math.min(o.calls, k0 + chunk - 1);
        await sql`
          INSERT INTO call (site_id, call_key, pbx_id, linked_id, adapter, current_version, direction, disposition,
                            caller_number, caller_e164, called_number, called_e164, operator_extension, operator_name, operator_source,
                            start_at, answer_at, end_at, duration_s, talk_s, zone, zone_source, raw_start, raw_answer, raw_end,
                            notice_played, notice_method, notice_at)
          SELECT site_id, 'main-pbx:' || epoch || '.' || k, 'main-pbx', epoch || '.' || k, 'asterisk-files', 1,
                 CASE WHEN r_dir < 0.9 THEN 'inbound' ELSE 'outbound' END,
                 disposition,
                 '0' || national, '+81' || national, '0501234567', '+81501234567',
                 CASE WHEN answered THEN (201 + k % 8)::text END, CASE WHEN answered THEN '担当' || (201 + k % 8) END,
                 CASE WHEN answered THEN 'dstchannel' END,
                 start_at, CASE WHEN answered THEN start_at + ring_s * interval '1 second' END,
                 start_at + (ring_s + coalesce(talk_s, 0)) * interval '1 second',
                 ring_s + coalesce(talk_s, 0), talk_s, 'Asia/Tokyo', 'uniqueid',
                 to_char(start_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI:SS'),
                 CASE WHEN answered THEN to_char((start_at + ring_s * interval '1 second') AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI:SS') END,
                 to_char((start_at + (ring_s + coalesce(talk_s, 0)) * interval '1 second') AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI:SS'),
                 CASE WHEN r_dir < 0.98 THEN 'yes' ELSE 'unknown' END, 'cdr_variable', start_at + interval '500 milliseconds'
          FROM (
            SELECT k, site_id, start_at, r_dir, national, disposition, disposition = 'answered' AS answered,
                   extract(epoch FROM start_at)::bigint AS epoch,
                   CASE WHEN disposition = 'answered' THEN 2 + floor(r_ring * 15) ELSE 2 + floor(r_ring * 28) END AS ring_s,
                   CASE WHEN disposition <> 'answered' THEN NULL
                        WHEN r_talk < 0.005 THEN 1800 + floor(r_len * 5400)
                        ELSE 5 + floor(-ln(1 - r_len) * 180) END AS talk_s
            FROM (
              SELECT k, s.id AS site_id,
                     date_trunc('second', ${from}::timestamptz + random() * ${periodSec}::int * interval '1 second') AS start_at,
                     random() AS r_dir, random() AS r_ring, random() AS r_talk, random() AS r_len,
                     CASE WHEN random() < 0.5 THEN '90' ELSE '3' END || lpad(floor(random() * 1e8)::bigint::text, 8, '0') AS national,
                     CASE WHEN r < 0.80 THEN 'answered' WHEN r < 0.88 THEN 'no_answer' WHEN r < 0.95 THEN 'busy' ELSE 'failed' END AS disposition
              FROM (SELECT k, random() AS r FROM generate_series(${k0}::int, ${k1}::int) AS k) AS g
              JOIN linking_site_n s ON s.n = g.k % ${o.sites}::int
            ) AS a
          ) AS b`.execute(conn);
        log(`  calls ${k1.toLocaleString('en')} / ${o.calls.toLocaleString('en')}`);
      }
    });

    const recordings = await timed('recordings', async () => {
      const r = await sql`
        INSERT INTO recording (call_id, name, role, format, sample_rate, channels, duration_s, size, sha256, declared_in_version,
                               object_key, media_type, stored_at, playable_key, playable_media_type, playable_codec, playable_size,
                               playable_duration_s, derive_status, derive_attempts, derive_updated_at)
        SELECT c.id, 'in-' || c.called_number || '-' || c.caller_number || '-' || to_char(c.start_at AT TIME ZONE 'Asia/Tokyo', 'YYYYMMDD-HH24MISS') || '-' || c.linked_id || '.wav',
               'mixed', 'wav', 8000, 1, c.talk_s, 44 + (c.talk_s * 16000)::bigint, sha256(uuid_send(c.id)), 1,
               'calls/' || c.site_id || '/' || c.id || '/' || gen_random_uuid() || '/original-' || gen_random_uuid() || '.wav', 'audio/wav',
               c.end_at + interval '20 seconds',
               'calls/' || c.site_id || '/' || c.id || '/playable-' || gen_random_uuid() || '.m4a', 'audio/mp4', 'aac', (c.talk_s * 4000)::bigint + 1000,
               c.talk_s, 'done', 1, c.end_at + interval '40 seconds'
        FROM call c JOIN linking_site_n s ON s.id = c.site_id
        WHERE c.disposition = 'answered'`.execute(conn);
      return Number(r.numAffectedRows ?? 0);
    });

    await timed('vacuum analyze', async () => {
      for (const t of ['site', 'camera', 'segment', 'call', 'recording']) await sql`VACUUM (ANALYZE) ${sql.id(t)}`.execute(conn);
    });
    await sql`DROP TABLE linking_camera_n, linking_site_n`.execute(conn);

    return { siteIds, cameras, segments: totalSegments, calls: o.calls, recordings, from, to, timings };
  });
}
