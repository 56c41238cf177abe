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
    .innerJoin('call', 'call.id', 'recording.callId')
    .select([
      'recording.id',
      'recording.callId',
      'call.siteId',
      'recording.name',
      'recording.role',
      'recording.format',
      'recording.sampleRate',
      'recording.channels',
      'recording.durationS',
      'recording.size',
      sql<string>`encode(recording.sha256, 'hex')`.as('sha256'),
      'recording.declaredInVersion',
      'recording.objectKey',
      'recording.mediaType',
      'recording.storedAt',
      'recording.playableKey',
      'recording.playableMediaType',
      'recording.playableCodec',
      'recording.playableSize',
      'recording.playableDurationS',
      'recording.waveformKey',
      'recording.waveformSize',
      'recording.waveformBucketMs',
      'recording.deriveStatus',
      'recording.deriveError',
      'recording.deriveAttempts',
      'recording.deriveJobId',
      'recording.deriveUpdatedAt',
    ]);
type Row = Awaited<ReturnType<ReturnType<typeof recordingSelect>['executeTakeFirstOrThrow']>>;

const toRecording = (r: Row): RecordingRow => ({
  id: r.id,
  callId: r.callId,
  siteId: r.siteId,
  name: r.name,
  role: r.role,
  format: r.format,
  sampleRate: r.sampleRate,
  channels: r.channels,
  durationS: r.durationS,
  size: Number(r.size),
  sha256: r.sha256,
  declaredInVersion: r.declaredInVersion,
  objectKey: r.objectKey,
  mediaType: r.mediaType,
  storedAt: r.storedAt,
  playable:
    r.playableKey && r.playableMediaType && r.playableCodec && r.playableSize !== null && r.playableDurationS !== null
      ? { key: r.playableKey, mediaType: r.playableMediaType, codec: r.playableCodec, size: Number(r.playableSize), durationS: r.playableDurationS }
      : null,
  waveform: r.waveformKey && r.waveformSize !== null && r.waveformBucketMs !== null ? { key: r.waveformKey, size: Number(r.waveformSize), bucketMs: r.waveformBucketMs } : null,
  derive: { status: r.deriveStatus, error: r.deriveError, attempts: r.deriveAttempts, jobId: r.deriveJobId, updatedAt: r.deriveUpdatedAt },
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
      const rows = await recordingSelect(db).where('recording.callId', '=', callId).orderBy('recording.declaredInVersion').orderBy('recording.name').execute();
      return rows.map(toRecording);
    },
    /** Every declaration of a file name in a call (more than one when the file changed between versions). */
    async findDeclared(callId: string, name: string): Promise<RecordingRow[]> {
      const rows = await recordingSelect(db).where('recording.callId', '=', callId).where('recording.name', '=', name).execute();
      return rows.map(toRecording);
    },
    /** Points the row at its durably stored original; only once. False when another upload got there first. */
    async attachOriginal(id: string, objectKey: string, mediaType: string, storedAt: Date): Promise<boolean> {
      const res = await db
        .updateTable('recording')
        .set({ objectKey, mediaType, storedAt, deriveStatus: 'pending', deriveUpdatedAt: storedAt })
        .where('id', '=', id)
        .where('objectKey', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async setDeriveJob(id: string, jobId: string, at: Date) {
      await db.updateTable('recording').set({ deriveJobId: jobId, deriveUpdatedAt: at }).where('id', '=', id).execute();
    },
    async markDeriveRunning(id: string, jobId: string | null, at: Date) {
      await db
        .updateTable('recording')
        .set((eb) => ({ deriveStatus: 'running', deriveAttempts: eb('deriveAttempts', '+', 1), deriveUpdatedAt: at, ...(jobId !== null && { deriveJobId: jobId }) }))
        .where('id', '=', id)
        .execute();
    },
    async markDerived(id: string, d: Derivatives, at: Date) {
      await db
        .updateTable('recording')
        .set({
          playableKey: d.playable.key,
          playableMediaType: d.playable.mediaType,
          playableCodec: d.playable.codec,
          playableSize: d.playable.size,
          playableDurationS: d.playable.durationS,
          waveformKey: d.waveform.key,
          waveformSize: d.waveform.size,
          waveformBucketMs: d.waveform.bucketMs,
          deriveStatus: 'done',
          deriveError: null,
          deriveUpdatedAt: at,
        })
        .where('id', '=', id)
        // Not onto a recording the retention job deleted meanwhile (its new objects are left to the orphan sweep).
        .where('deletedAt', 'is', null)
        .execute();
    },
    /** Records a failed attempt: `failed` when no retry follows, else back to `pending` with the error shown. */
    async markDeriveError(id: string, error: string, final: boolean, at: Date) {
      await db
        .updateTable('recording')
        .set({ deriveStatus: final ? 'failed' : 'pending', deriveError: error.slice(0, 2000), deriveUpdatedAt: at })
        .where('id', '=', id)
        .execute();
    },
    /** Which of these object keys a recording row points at: original, playable copy or waveform (orphan sweep owner of `calls/`). */
    async referencedObjectKeys(keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db
        .selectFrom('recording')
        .select(['objectKey', 'playableKey', 'waveformKey'])
        .where((eb) => eb.or([eb('objectKey', 'in', keys), eb('playableKey', 'in', keys), eb('waveformKey', 'in', keys)]))
        .execute();
      const wanted = new Set(keys);
      return new Set(rows.flatMap((r) => [r.objectKey, r.playableKey, r.waveformKey]).filter((k): k is string => k !== null && wanted.has(k)));
    },
    /** Stored originals whose derivation has not finished and has not moved since `before`. */
    async listStalledDerivations(before: Date, limit: number): Promise<{ id: string; jobId: string | null }[]> {
      const rows = await db
        .selectFrom('recording')
        .select(['id', 'deriveJobId'])
        .where('deriveStatus', 'in', ['pending', 'running'])
        .where('deriveUpdatedAt', '<', before)
        .orderBy('deriveUpdatedAt')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, jobId: r.deriveJobId }));
    },
  };
}
export type RecordingRepository = ReturnType<typeof recordingRepository>;
