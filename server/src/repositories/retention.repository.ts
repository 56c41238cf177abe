import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { RetentionClass } from '../db/schema.ts';
import { CALL_MEDIA_LOCK, CAMERA_FOOTAGE_LOCK, lockTargets } from './footage-locks.ts';

export type RetentionPolicy = { class: RetentionClass; retentionDays: number | null; updatedAt: Date; updatedBy: string };

/** A segment whose media the retention job just took: the row no longer points at `objectKey`. */
export type ClaimedSegment = { id: string; cameraId: string; cameraKey: string; siteId: string; objectKey: string; sha256: string; byteSize: number; start: Date; end: Date };
/** A recording whose original and derivatives the retention job just took. */
export type ClaimedRecording = { id: string; callId: string; siteId: string; name: string; callEndAt: Date; sha256: string; size: number; objectKeys: string[]; keys: { object: string | null; playable: string | null; waveform: string | null } };

const POLICY_COLUMNS = ['class', 'retentionDays', 'updatedAt', 'updatedBy'] as const;

/** An evidence hold counts while it is not released and has not lapsed. */
const activeHold = (now: Date) => sql<boolean>`h.released_at IS NULL AND (h.expires_at IS NULL OR h.expires_at > ${now})`;

export function retentionRepository(db: Db) {
  return {
    async listPolicies(): Promise<RetentionPolicy[]> {
      return db.selectFrom('retentionPolicy').select(POLICY_COLUMNS).orderBy('class').execute();
    },
    /** Days of one class (null: until released). Used by the job and by case closing (incident_evidence). */
    async policyDays(cls: RetentionClass): Promise<number | null> {
      const r = await db.selectFrom('retentionPolicy').select('retentionDays').where('class', '=', cls).executeTakeFirstOrThrow();
      return r.retentionDays;
    },
    /** Locks every policy row until the surrounding transaction ends (edits are serialized). */
    async lockPolicies(): Promise<RetentionPolicy[]> {
      return db.selectFrom('retentionPolicy').select(POLICY_COLUMNS).orderBy('class').forUpdate().execute();
    },
    async setPolicyDays(cls: RetentionClass, days: number | null, by: string, at: Date) {
      await db.updateTable('retentionPolicy').set({ retentionDays: days, updatedBy: by, updatedAt: at }).where('class', '=', cls).execute();
    },

    /** The cameras of the next `limit` segments the job would take (oldest first): the ones to lock before taking. */
    async expiredSegmentCameras(p: { cutoff: Date; now: Date; limit: number }): Promise<string[]> {
      const { rows } = await sql<{ cameraId: string }>`
        SELECT DISTINCT c.camera_id FROM (
          SELECT s.camera_id FROM segment s
          WHERE s.object_key IS NOT NULL AND s.retention_class = 'routine' AND upper(s.span) < ${p.cutoff}
            AND NOT EXISTS (SELECT 1 FROM evidence_hold h WHERE h.camera_id = s.camera_id AND h.span && s.span AND ${activeHold(p.now)})
          ORDER BY upper(s.span), s.id
          LIMIT ${p.limit}
        ) c`.execute(db);
      return rows.map((r) => r.cameraId);
    },
    /** Excludes hold writers of these cameras until the transaction ends (footage-locks.ts). */
    async lockCameraFootage(cameraIds: readonly string[]): Promise<void> {
      await lockTargets(db, cameraIds.map((id) => ({ ns: CAMERA_FOOTAGE_LOCK, id })), 'exclusive');
    },
    /** The calls of the next `limit` recordings the job would take. */
    async expiredRecordingCalls(p: { cutoff: Date; now: Date; limit: number }): Promise<string[]> {
      const { rows } = await sql<{ callId: string }>`
        SELECT DISTINCT c.call_id FROM (
          SELECT r.call_id FROM recording r JOIN call ON call.id = r.call_id
          WHERE (r.object_key IS NOT NULL OR r.playable_key IS NOT NULL OR r.waveform_key IS NOT NULL)
            AND call.retention_class = 'routine' AND call.end_at < ${p.cutoff} AND r.derive_status <> 'running'
            AND NOT EXISTS (SELECT 1 FROM evidence_hold h WHERE h.call_id = r.call_id AND ${activeHold(p.now)})
          ORDER BY call.end_at, r.id
          LIMIT ${p.limit}
        ) c`.execute(db);
      return rows.map((r) => r.callId);
    },
    /** Excludes hold writers of these calls until the transaction ends. */
    async lockCallMedia(callIds: readonly string[]): Promise<void> {
      await lockTargets(db, callIds.map((id) => ({ ns: CALL_MEDIA_LOCK, id })), 'exclusive');
    },

    /**
     * Takes up to `limit` routine segments whose media ended before `cutoff` and that no active hold of their camera
     * overlaps: in one statement their rows stop pointing at the object and are marked deleted. Rows another worker
     * is taking are skipped (SKIP LOCKED), and a row is taken only while it still has an object, so each object is
     * handed to exactly one caller. Run it in the transaction that records the deletions.
     */
    async claimExpiredSegments(p: { cutoff: Date; now: Date; limit: number; reason: string; cameraIds: readonly string[] }): Promise<ClaimedSegment[]> {
      if (p.cameraIds.length === 0) return [];
      const { rows } = await sql<{ id: string; cameraId: string; cameraKey: string; siteId: string; objectKey: string; sha256: string; byteSize: string; start: Date; end: Date }>`
        WITH c AS (
          SELECT s.id, s.object_key
          FROM segment s
          WHERE s.object_key IS NOT NULL
            AND s.camera_id = ANY(${[...p.cameraIds]}::uuid[])
            AND s.retention_class = 'routine'
            AND upper(s.span) < ${p.cutoff}
            AND NOT EXISTS (SELECT 1 FROM evidence_hold h WHERE h.camera_id = s.camera_id AND h.span && s.span AND ${activeHold(p.now)})
          ORDER BY upper(s.span), s.id
          LIMIT ${p.limit}
          FOR UPDATE OF s SKIP LOCKED
        )
        UPDATE segment s
        SET object_key = NULL, deleted_at = ${p.now}, deletion_reason = ${p.reason}
        FROM c, camera cam
        WHERE s.id = c.id AND cam.id = s.camera_id AND s.object_key IS NOT NULL
        RETURNING s.id, s.camera_id, cam.key AS camera_key, cam.site_id, c.object_key, encode(s.sha256, 'hex') AS sha256, s.byte_size, lower(s.span) AS start, upper(s.span) AS "end"`.execute(db);
      return rows.map((r) => ({ id: String(r.id), cameraId: r.cameraId, cameraKey: r.cameraKey, siteId: r.siteId, objectKey: r.objectKey, sha256: r.sha256, byteSize: Number(r.byteSize), start: r.start, end: r.end }));
    },

    /**
     * The same for call recordings: routine calls that ended before `cutoff`, whose call has no active hold. The
     * original, the playable copy and the waveform go together; a derivation in progress is left for the next run.
     */
    async claimExpiredRecordings(p: { cutoff: Date; now: Date; limit: number; reason: string; callIds: readonly string[] }): Promise<ClaimedRecording[]> {
      if (p.callIds.length === 0) return [];
      const { rows } = await sql<{ id: string; callId: string; siteId: string; name: string; endAt: Date; sha256: string; size: string; objectKey: string | null; playableKey: string | null; waveformKey: string | null }>`
        WITH c AS (
          SELECT r.id, r.object_key, r.playable_key, r.waveform_key
          FROM recording r
          JOIN call ON call.id = r.call_id
          WHERE (r.object_key IS NOT NULL OR r.playable_key IS NOT NULL OR r.waveform_key IS NOT NULL)
            AND r.call_id = ANY(${[...p.callIds]}::uuid[])
            AND call.retention_class = 'routine'
            AND call.end_at < ${p.cutoff}
            AND r.derive_status <> 'running'
            AND NOT EXISTS (SELECT 1 FROM evidence_hold h WHERE h.call_id = r.call_id AND ${activeHold(p.now)})
          ORDER BY call.end_at, r.id
          LIMIT ${p.limit}
          FOR UPDATE OF r SKIP LOCKED
        )
        UPDATE recording r
        SET object_key = NULL, playable_key = NULL, waveform_key = NULL, deleted_at = ${p.now}, deletion_reason = ${p.reason},
            derive_status = CASE WHEN r.derive_status = 'pending' THEN 'failed' ELSE r.derive_status END,
            derive_error = CASE WHEN r.derive_status = 'pending' THEN 'original deleted by retention before it was derived' ELSE r.derive_error END
        FROM c, call
        WHERE r.id = c.id AND call.id = r.call_id AND r.derive_status <> 'running'
          AND (r.object_key IS NOT NULL OR r.playable_key IS NOT NULL OR r.waveform_key IS NOT NULL)
        RETURNING r.id, r.call_id, call.site_id, r.name, call.end_at, encode(r.sha256, 'hex') AS sha256, r.size, c.object_key, c.playable_key, c.waveform_key`.execute(db);
      return rows.map((r) => ({
        id: r.id,
        callId: r.callId,
        siteId: r.siteId,
        name: r.name,
        callEndAt: r.endAt,
        sha256: r.sha256,
        size: Number(r.size),
        objectKeys: [r.objectKey, r.playableKey, r.waveformKey].filter((k): k is string => k !== null),
        keys: { object: r.objectKey, playable: r.playableKey, waveform: r.waveformKey },
      }));
    },

    /**
     * Undoes a claim whose objects the storage protects (an S3 legal hold the job found before deleting): the row
     * points at its object again and is no longer marked deleted. Run it in a transaction with the audit event.
     */
    async restoreSegment(id: string, objectKey: string): Promise<void> {
      await db.updateTable('segment').set({ objectKey, deletedAt: null, deletionReason: null }).where('id', '=', id).where('objectKey', 'is', null).execute();
    },
    async restoreRecording(id: string, keys: { object: string | null; playable: string | null; waveform: string | null }): Promise<void> {
      await db
        .updateTable('recording')
        .set({ objectKey: keys.object, playableKey: keys.playable, waveformKey: keys.waveform, deletedAt: null, deletionReason: null })
        .where('id', '=', id)
        .where('objectKey', 'is', null)
        .execute();
    },
  };
}
export type RetentionRepository = ReturnType<typeof retentionRepository>;
