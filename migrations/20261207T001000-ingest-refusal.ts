import { type Kysely, sql } from 'kysely';

// Issue 12 item 2: times an agent sends are bounded against the centre's clock; each refusal is counted here, one
// row per agent, subject (segment, segment_meta, gap, heartbeat) and code, with the latest refused values, so the
// stores view can show an agent whose clock is wrong without a row per refused request.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ingest_refusal')
    .addColumn('id', 'int8', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('agent_id', 'uuid', (c) => c.notNull().references('agent.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull().check(sql`subject IN ('segment', 'segment_meta', 'gap', 'heartbeat')`))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('count', 'int8', (c) => c.notNull().defaultTo(1))
    .addColumn('first_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_detail', 'jsonb', (c) => c.notNull())
    .addUniqueConstraint('ingest_refusal_identity_uq', ['agent_id', 'subject', 'code'])
    .execute();
  await sql`CREATE INDEX ingest_refusal_site_idx ON ingest_refusal (site_id, last_at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ingest_refusal').execute();
}
