import { type Kysely, sql } from 'kysely';

/**
 * Retention (issue 4, part 4; DESIGN.md §7 保存期間): one policy row per retention class, and deletion marks on the
 * media rows. The retention job (`retention.run`) deletes expired media objects and keeps the rows: the edge hash,
 * times and size stay, `object_key` (and a recording's derivative keys) become NULL, `deleted_at` and
 * `deletion_reason` say when and why. Anything under an active evidence_hold is never deleted.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('retention_policy')
    .addColumn('class', 'text', (c) => c.primaryKey().check(sql`class IN ('routine_footage', 'routine_calls', 'incident_evidence', 'legal_hold')`))
    // Days after capture (footage: segment end; calls: call end) or, for incident evidence, after the case closed.
    // A legal hold has no period: it lasts until hq releases it.
    .addColumn('retention_days', 'integer', (c) => c.check(sql`retention_days BETWEEN 1 AND 36500`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addCheckConstraint('retention_policy_legal_hold_open_ended', sql`(class = 'legal_hold') = (retention_days IS NULL)`)
    .execute();
  await sql`
    INSERT INTO retention_policy (class, retention_days, updated_by) VALUES
      ('routine_footage', 30, 'default'),
      ('routine_calls', 365, 'default'),
      ('incident_evidence', 1095, 'default'),
      ('legal_hold', NULL, 'default')`.execute(db);

  await db.schema.alterTable('segment').addColumn('deleted_at', 'timestamptz').addColumn('deletion_reason', 'text').execute();
  await sql`ALTER TABLE segment ADD CONSTRAINT segment_deleted_has_no_object CHECK (deleted_at IS NULL OR object_key IS NULL)`.execute(db);
  await sql`ALTER TABLE segment ADD CONSTRAINT segment_deletion_reason CHECK ((deleted_at IS NULL) = (deletion_reason IS NULL))`.execute(db);
  // The job walks stored segments oldest first by capture end.
  await sql`CREATE INDEX segment_retention_idx ON segment (upper(span)) WHERE object_key IS NOT NULL`.execute(db);

  await db.schema.alterTable('recording').addColumn('deleted_at', 'timestamptz').addColumn('deletion_reason', 'text').execute();
  await sql`ALTER TABLE recording ADD CONSTRAINT recording_deleted_has_no_objects CHECK (deleted_at IS NULL OR (object_key IS NULL AND playable_key IS NULL AND waveform_key IS NULL))`.execute(db);
  await sql`ALTER TABLE recording ADD CONSTRAINT recording_deletion_reason CHECK ((deleted_at IS NULL) = (deletion_reason IS NULL))`.execute(db);
  // Recordings expire by their call's end; recording_identity_uq (call_id, …) joins them to the call.
  await sql`CREATE INDEX call_end_idx ON call (end_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS call_end_idx`.execute(db);
  await sql`ALTER TABLE recording DROP CONSTRAINT IF EXISTS recording_deletion_reason, DROP CONSTRAINT IF EXISTS recording_deleted_has_no_objects, DROP COLUMN IF EXISTS deletion_reason, DROP COLUMN IF EXISTS deleted_at`.execute(db);
  await sql`DROP INDEX IF EXISTS segment_retention_idx`.execute(db);
  await sql`ALTER TABLE segment DROP CONSTRAINT IF EXISTS segment_deletion_reason, DROP CONSTRAINT IF EXISTS segment_deleted_has_no_object, DROP COLUMN IF EXISTS deletion_reason, DROP COLUMN IF EXISTS deleted_at`.execute(db);
  await db.schema.dropTable('retention_policy').ifExists().execute();
}
