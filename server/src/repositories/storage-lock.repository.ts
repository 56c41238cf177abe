import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/** An evidence hold whose state the storage does not reflect yet (placed, released or lapsed since the last sync). */
export type PendingHold = { id: string; incidentId: string | null; cameraId: string | null; start: Date | null; end: Date | null; callId: string | null };
/** A stored object and whether an active evidence hold covers it now. */
export type CoveredObject = { key: string; held: boolean };

/** The same rule as the retention job's: a hold counts while it is not released and has not lapsed. */
const activeHold = (now: Date) => sql<boolean>`h.released_at IS NULL AND (h.expires_at IS NULL OR h.expires_at > ${now})`;

/** Queries of the storage-lock service (issue 15): which objects an evidence hold covers, and which holds are pending. */
export function storageLockRepository(db: Db) {
  return {
    async pendingHolds(now: Date, limit: number): Promise<PendingHold[]> {
      const { rows } = await sql<PendingHold>`
        SELECT h.id, h.incident_id, h.camera_id, lower(h.span) AS start, upper(h.span) AS "end", h.call_id
        FROM evidence_hold h
        WHERE h.storage_synced_at IS NULL
           OR (h.released_at IS NOT NULL AND h.storage_synced_at < h.released_at)
           OR (h.expires_at IS NOT NULL AND h.expires_at <= ${now} AND h.storage_synced_at < h.expires_at)
        ORDER BY h.placed_at, h.id
        LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({ ...r, id: String(r.id) }));
    },
    async markSynced(ids: string[], at: Date): Promise<void> {
      if (ids.length) await db.updateTable('evidenceHold').set({ storageSyncedAt: at }).where('id', 'in', ids).execute();
    },
    /** Stored segments of a camera overlapping [start, end), each with whether any active hold covers it. */
    async segmentsCovered(cameraId: string, start: Date, end: Date, now: Date): Promise<CoveredObject[]> {
      const { rows } = await sql<CoveredObject>`
        SELECT s.object_key AS key,
               EXISTS (SELECT 1 FROM evidence_hold h WHERE h.camera_id = s.camera_id AND h.span && s.span AND ${activeHold(now)}) AS held
        FROM segment s
        WHERE s.camera_id = ${cameraId} AND s.span && tstzrange(${start}, ${end}, '[)') AND s.object_key IS NOT NULL`.execute(db);
      return rows;
    },
    /** Every stored object of a call's recordings (original, playable copy, waveform) and whether the call is held. */
    async recordingsCovered(callId: string, now: Date): Promise<CoveredObject[]> {
      const { rows } = await sql<{ keys: (string | null)[]; held: boolean }>`
        SELECT ARRAY[r.object_key, r.playable_key, r.waveform_key] AS keys,
               EXISTS (SELECT 1 FROM evidence_hold h WHERE h.call_id = r.call_id AND ${activeHold(now)}) AS held
        FROM recording r WHERE r.call_id = ${callId}`.execute(db);
      return rows.flatMap((r) => r.keys.filter((k): k is string => k !== null).map((key) => ({ key, held: r.held })));
    },
    /** The stored packs of a case, held while the case has any active hold (evidence handed out stays provable). */
    async packsCovered(incidentId: string, now: Date): Promise<CoveredObject[]> {
      const { rows } = await sql<CoveredObject>`
        SELECT p.object_key AS key,
               EXISTS (SELECT 1 FROM evidence_hold h WHERE h.incident_id = p.incident_id AND ${activeHold(now)}) AS held
        FROM evidence_pack p WHERE p.incident_id = ${incidentId} AND p.object_key IS NOT NULL`.execute(db);
      return rows;
    },
    async segmentHeld(cameraId: string, start: Date, end: Date, now: Date): Promise<boolean> {
      const { rows } = await sql<{ held: boolean }>`
        SELECT EXISTS (SELECT 1 FROM evidence_hold h WHERE h.camera_id = ${cameraId} AND h.span && tstzrange(${start}, ${end}, '[)') AND ${activeHold(now)}) AS held`.execute(db);
      return rows[0]?.held ?? false;
    },
    async call(callId: string, now: Date): Promise<{ endAt: Date | null; held: boolean } | undefined> {
      const { rows } = await sql<{ endAt: Date | null; held: boolean }>`
        SELECT c.end_at, EXISTS (SELECT 1 FROM evidence_hold h WHERE h.call_id = c.id AND ${activeHold(now)}) AS held
        FROM call c WHERE c.id = ${callId}`.execute(db);
      return rows[0];
    },
    async policyDays(): Promise<Map<string, number | null>> {
      const rows = await db.selectFrom('retentionPolicy').select(['class', 'retentionDays']).execute();
      return new Map(rows.map((r) => [r.class, r.retentionDays]));
    },
  };
}
export type StorageLockRepository = ReturnType<typeof storageLockRepository>;
