import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { GapReason } from '../db/schema.ts';
import { assertWindow } from '../domain/time-window.ts';

export type SegmentRecord = {
  id: string;
  cameraId: string;
  start: Date;
  end: Date;
  durationMs: number;
  byteSize: number;
  sha256: string;
  mediaType: string;
  codec: unknown;
  runId: string | null;
  clockOffsetMs: number | null;
  objectKey: string | null;
  retentionClass: string;
  holdCount: number;
  /** When the retention job deleted the media (objectKey is then null); null otherwise. */
  deletedAt: Date | null;
};

/** Advisory-lock namespaces (the first key of pg_advisory_xact_lock(int4, int4)); the second is hashtext(camera id). */
export const INGEST_LOCK = 7_201;

export type GapRecord = { id: string; cameraId: string; start: Date; end: Date; reason: GapReason; detail: string | null };

export type NewSegment = {
  cameraId: string;
  start: Date;
  end: Date;
  durationMs: number;
  byteSize: number;
  sha256: Buffer;
  mediaType: string;
  codec: unknown;
  runId: string | null;
  clockOffsetMs: number | null;
  objectKey: string | null;
  storedAt: Date | null;
};

const segmentSelect = (db: Db) =>
  db
    .selectFrom('segment')
    .select([
      'segment.id',
      'segment.cameraId',
      sql<Date>`lower(segment.span)`.as('start'),
      sql<Date>`upper(segment.span)`.as('end'),
      'segment.durationMs',
      'segment.byteSize',
      sql<string>`encode(segment.sha256, 'hex')`.as('sha256'),
      'segment.mediaType',
      'segment.codec',
      'segment.runId',
      'segment.clockOffsetMs',
      'segment.objectKey',
      'segment.retentionClass',
      'segment.holdCount',
      'segment.deletedAt',
    ]);

type SegmentSelectRow = Awaited<ReturnType<ReturnType<typeof segmentSelect>['executeTakeFirstOrThrow']>>;

/** pg returns int8 as a string; a segment's size fits a number exactly. */
const toRecord = (r: SegmentSelectRow): SegmentRecord => ({ ...r, byteSize: Number(r.byteSize) });

const GAP_COLUMNS = ['id', 'cameraId', sql<Date>`lower(span)`.as('start'), sql<Date>`upper(span)`.as('end'), 'reason', 'detail'] as const;

export function segmentRepository(db: Db) {
  return {
    /** Inserts a segment; returns null when it would overlap another segment of the camera. */
    async insert(s: NewSegment): Promise<SegmentRecord | null> {
      try {
        const row = await db
          .insertInto('segment')
          .values({
            cameraId: s.cameraId,
            span: sql`tstzrange(${s.start}, ${s.end}, '[)')` ,
            durationMs: s.durationMs,
            byteSize: s.byteSize,
            sha256: s.sha256,
            mediaType: s.mediaType,
            codec: JSON.stringify(s.codec),
            runId: s.runId,
            clockOffsetMs: s.clockOffsetMs,
            objectKey: s.objectKey,
            storedAt: s.storedAt,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return (await this.findById(String(row.id)))!;
      } catch (e) {
        if ((e as { code?: string }).code === '23P01') return null; // exclusion: overlap
        throw e;
      }
    },
    async findById(id: string): Promise<SegmentRecord | undefined> {
      const r = await segmentSelect(db).where('segment.id', '=', id).executeTakeFirst();
      return r && toRecord(r);
    },
    /** The segment of a camera that starts exactly at `start` (the idempotency identity). */
    async findByStart(cameraId: string, start: Date): Promise<SegmentRecord | undefined> {
      const r = await segmentSelect(db).where('segment.cameraId', '=', cameraId).where(sql<boolean>`lower(segment.span) = ${start}`).executeTakeFirst();
      return r && toRecord(r);
    },
    /**
     * The row a new segment [start, end) of a camera meets, in one statement: the row with exactly this start (the
     * idempotency identity) if there is one, otherwise any row overlapping the span, otherwise nothing.
     */
    async identityAt(cameraId: string, start: Date, end: Date): Promise<SegmentRecord | undefined> {
      const r = await segmentSelect(db)
        .where('segment.cameraId', '=', cameraId)
        .where(sql<boolean>`(lower(segment.span) = ${start} OR segment.span && tstzrange(${start}, ${end}, '[)'))`)
        .orderBy(sql`lower(segment.span) = ${start}`, 'desc')
        .orderBy(sql`lower(segment.span)`)
        .limit(1)
        .executeTakeFirst();
      return r && toRecord(r);
    },
    /**
     * Serializes segment writes of one camera until the surrounding transaction ends (a transaction-level advisory
     * lock, namespace INGEST_LOCK): the read that decides "same segment, overlap or new" and the write that follows
     * cannot interleave with another upload of the same camera. Run it inside a transaction.
     */
    async lockCameraIngest(cameraId: string): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(${INGEST_LOCK}, hashtext(${cameraId}))`.execute(db);
    },
    /**
     * Attaches media to a metadata-only row: only when it has none yet, was not deleted by retention, and the edge
     * hash and size are the ones the row already holds.
     */
    async attachObject(id: string, objectKey: string, storedAt: Date, expect: { sha256: string; byteSize: number }): Promise<boolean> {
      const res = await db
        .updateTable('segment')
        .set({ objectKey, storedAt })
        .where('id', '=', id)
        .where('objectKey', 'is', null)
        .where('deletedAt', 'is', null)
        .where('sha256', '=', Buffer.from(expect.sha256, 'hex'))
        .where('byteSize', '=', String(expect.byteSize))
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async listInRange(cameraId: string, from: Date, to: Date, limit = 10_000): Promise<SegmentRecord[]> {
      const rows = await segmentSelect(db)
        .where('segment.cameraId', '=', cameraId)
        .where(sql<boolean>`segment.span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy(sql`lower(segment.span)`)
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },
    async insertGap(g: { cameraId: string; start: Date; end: Date; reason: GapReason; detail: string | null }): Promise<{ created: boolean; gap: GapRecord }> {
      const inserted = await db
        .insertInto('gap')
        .values({ cameraId: g.cameraId, span: sql`tstzrange(${g.start}, ${g.end}, '[)')` , reason: g.reason, detail: g.detail })
        .onConflict((oc) => oc.constraint('gap_identity_uq').doNothing())
        .returning('id')
        .executeTakeFirst();
      const gap = await db
        .selectFrom('gap')
        .select(GAP_COLUMNS)
        .where('cameraId', '=', g.cameraId)
        .where(sql<boolean>`span = tstzrange(${g.start}, ${g.end}, '[)')`)
        .where('reason', '=', g.reason)
        .executeTakeFirstOrThrow();
      return { created: Boolean(inserted), gap };
    },
    async listGapsInRange(cameraId: string, from: Date, to: Date): Promise<GapRecord[]> {
      return db
        .selectFrom('gap')
        .select(GAP_COLUMNS)
        .where('cameraId', '=', cameraId)
        .where(sql<boolean>`span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy(sql`lower(span)`)
        .execute();
    },
    /** Which of these object keys a segment row points at (for the orphan sweep). */
    async referencedObjectKeys(keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db.selectFrom('segment').select('objectKey').where('objectKey', 'in', keys).execute();
      return new Set(rows.map((r) => r.objectKey!));
    },
  };
}
export type SegmentRepository = ReturnType<typeof segmentRepository>;
