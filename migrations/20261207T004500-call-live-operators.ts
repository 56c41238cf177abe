import { type Kysely, sql } from 'kysely';

// Issue 14: every operator a call rang (searchable), how its direction was decided, the operator's own pickup time,
// and live calls from the PBX's manager interface (AMI) shown before any CDR row exists. A live-only call has
// current_version 0 and a live_state; the first sealed version replaces its facts and clears live_state.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('call')
    .addColumn('direction_source', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('pickup_at', 'timestamptz')
    .addColumn('operator_talk_s', 'double precision')
    .addColumn('operator_extensions', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('live_state', 'text', (c) => c.check(sql`live_state IN ('in_progress', 'ended')`))
    .addColumn('live_seq', 'bigint')
    .addColumn('live_updated_at', 'timestamptz')
    .execute();
  await sql`UPDATE call SET operator_extensions = ARRAY[operator_extension] WHERE operator_extension IS NOT NULL`.execute(db);
  await sql`ALTER TABLE call DROP CONSTRAINT IF EXISTS call_current_version_check`.execute(db);
  await sql`ALTER TABLE call ADD CONSTRAINT call_current_version_check CHECK (current_version >= 0)`.execute(db);
  await sql`ALTER TABLE call ADD CONSTRAINT call_live_only_check CHECK (current_version >= 1 OR live_state IS NOT NULL)`.execute(db);
  await sql`CREATE INDEX call_operator_extensions_gin ON call USING gin (operator_extensions)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM call WHERE current_version = 0`.execute(db);
  await sql`DROP INDEX IF EXISTS call_operator_extensions_gin`.execute(db);
  await sql`ALTER TABLE call DROP CONSTRAINT IF EXISTS call_live_only_check`.execute(db);
  await sql`ALTER TABLE call DROP CONSTRAINT IF EXISTS call_current_version_check`.execute(db);
  await sql`ALTER TABLE call ADD CONSTRAINT call_current_version_check CHECK (current_version >= 1)`.execute(db);
  for (const c of ['direction_source', 'pickup_at', 'operator_talk_s', 'operator_extensions', 'live_state', 'live_seq', 'live_updated_at']) {
    await db.schema.alterTable('call').dropColumn(c).execute();
  }
}
