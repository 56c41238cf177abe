import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { RecordingDeclaration } from '@mamoru/contract';
import type { DeriveStatus } from '../db/schema.ts';

/** A recording as a call version declared it (`RecordingDeclarationSchema` of @mamoru/contract) and where it is. */
export type RecordingRow = RecordingDeclaration & {
  id: string;
  callId: string;
  siteId: string;
  declaredInVersion: number;
  objectKey: string | null;
  mediaType: string | null;
  storedAt: Date | null;
  playable: { key: string; mediaType: string; codec: string; size: number; durationS: number } | null;
  waveform: { key: string; size: number; bucketMs: number } | null;
  derive: { status: DeriveStatus; error: string | null; attempts: number; jobId: string | null; updatedAt: Date | null };
};

const recordingSelect = (db: Db) =>
  db
    .selectFrom('recording')
    .innerJoin('call', 'call.id', 'recording.call_id')
    .select([
      'recording.id',
      'recording.call_id',
      'call.site_id',
      'recording.name',
      'recording.role',
      'recording.format',
      'recording.sample_rate',
      'recording.channels',
      'recording.duration_s',
      'recording.size',
      sql<string>`encode(recording.sha256, 'hex')`.as('sha256'),
      'recording.declared_in_version',
      'recording.object_key',
      'recording.media_type',
      'recording.stored_at',
      'recording.playable_key',
      'recording.playable_media_type',
      'recording.playable_codec',
      'recording.playable_size',
      'recording.playable_duration_s',
      'recording.waveform_key',
      'recording.waveform_size',
      'recording.waveform_bucket_ms',
      'recording.derive_status',
      'recording.derive_error',
      'recording.derive_attempts',
      'recording.derive_job_id',
      'recording.derive_updated_at',
    ]);
type Row = Awaited<ReturnType<ReturnType<typeof recordingSelect>['executeTakeFirstOrThrow']>>;

const toRecording = (r: Row): RecordingRow => ({
  id: r.id,
  callId: r.call_id,
  siteId: r.site_id,
  name: r.name,
  role: r.role,
  format: r.format,
  sampleRate: r.sample_rate,
  channels: r.channels,
  durationS: r.duration_s,
  size: Number(r.size),
  sha256: r.sha256,
  declaredInVersion: r.declared_in_version,
  objectKey: r.object_key,
  mediaType: r.media_type,
  storedAt: r.stored_at,
  playable:
    r.playable_key && r.playable_media_type && r.playable_codec && r.playable_size !== null && r.playable_duration_s !== null
      ? { key: r.playable_key, mediaType: r.playable_media_type, codec: r.playable_codec, size: Number(r.playable_size), durationS: r.playable_duration_s }
      : null,
  waveform: r.waveform_key && r.waveform_size !== null && r.waveform_bucket_ms !== null ? { key: r.waveform_key, size: Number(r.waveform_size), bucketMs: r.waveform_bucket_ms } : null,
  derive: { status: r.derive_status, error: r.derive_error, attempts: r.derive_attempts, jobId: r.derive_job_id, updatedAt: r.derive_updated_at },
});

export type Derivatives = {
  playable: { key: string; mediaType: string; codec: string; size: number; durationS: number };
  waveform: { key: string; size: number; bucketMs: number };
};

export function recordingRepository(db: Db) {
  return {
    async findById(id: string): Promise<RecordingRow | undefined> {
      const r = await recordingSelect(db).where('recording.id', '=', id).executeTakeFirst();
      return r && toRecording(r);
    },
    async listForCall(callId: string): Promise<RecordingRow[]> {
      const rows = await recordingSelect(db).where('recording.call_id', '=', callId).orderBy('recording.declared_in_version').orderBy('recording.name').execute();
      return rows.map(toRecording);
    },
    /** Every declaration of a file name in a call (more than one when the file changed between versions). */
    async findDeclared(callId: string, name: string): Promise<RecordingRow[]> {
      const rows = await recordingSelect(db).where('recording.call_id', '=', callId).where('recording.name', '=', name).execute();
      return rows.map(toRecording);
    },
    /** Points the row at its durably stored original; only once. False when another upload got there first. */
    async attachOriginal(id: string, objectKey: string, mediaType: string, storedAt: Date): Promise<boolean> {
      const res = await db
        .updateTable('recording')
        .set({ object_key: objectKey, media_type: mediaType, stored_at: storedAt, derive_status: 'pending', derive_updated_at: storedAt })
        .where('id', '=', id)
        .where('object_key', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async setDeriveJob(id: string, jobId: string, at: Date) {
      await db.updateTable('recording').set({ derive_job_id: jobId, derive_updated_at: at }).where('id', '=', id).execute();
    },
    async markDeriveRunning(id: string, jobId: string | null, at: Date) {
      await db
        .updateTable('recording')
        .set((eb) => ({ derive_status: 'running', derive_attempts: eb('derive_attempts', '+', 1), derive_updated_at: at, ...(jobId !== null && { derive_job_id: jobId }) }))
        .where('id', '=', id)
        .execute();
    },
    async markDerived(id: string, d: Derivatives, at: Date) {
      await db
        .updateTable('recording')
        .set({
          playable_key: d.playable.key,
          playable_media_type: d.playable.mediaType,
          playable_codec: d.playable.codec,
          playable_size: d.playable.size,
          playable_duration_s: d.playable.durationS,
          waveform_key: d.waveform.key,
          waveform_size: d.waveform.size,
          waveform_bucket_ms: d.waveform.bucketMs,
          derive_status: 'done',
          derive_error: null,
          derive_updated_at: at,
        })
        .where('id', '=', id)
        // Not onto a recording the retention job deleted meanwhile (its new objects are left to the orphan sweep).
        .where('deleted_at', 'is', null)
        .execute();
    },
    /** Records a failed attempt: `failed` when no retry follows, else back to `pending` with the error shown. */
    async markDeriveError(id: string, error: string, final: boolean, at: Date) {
      await db
        .updateTable('recording')
        .set({ derive_status: final ? 'failed' : 'pending', derive_error: error.slice(0, 2000), derive_updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    /** Which of these object keys a recording row points at: original, playable copy or waveform (orphan sweep owner of `calls/`). */
    async referencedObjectKeys(keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db
        .selectFrom('recording')
        .select(['object_key', 'playable_key', 'waveform_key'])
        .where((eb) => eb.or([eb('object_key', 'in', keys), eb('playable_key', 'in', keys), eb('waveform_key', 'in', keys)]))
        .execute();
      const wanted = new Set(keys);
      return new Set(rows.flatMap((r) => [r.object_key, r.playable_key, r.waveform_key]).filter((k): k is string => k !== null && wanted.has(k)));
    },
    /** Stored originals whose derivation has not finished and has not moved since `before`. */
    async listStalledDerivations(before: Date, limit: number): Promise<{ id: string; jobId: string | null }[]> {
      const rows = await db
        .selectFrom('recording')
        .select(['id', 'derive_job_id'])
        .where('derive_status', 'in', ['pending', 'running'])
        .where('derive_updated_at', '<', before)
        .orderBy('derive_updated_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, jobId: r.derive_job_id }));
    },
  };
}
export type RecordingRepository = ReturnType<typeof recordingRepository>;
