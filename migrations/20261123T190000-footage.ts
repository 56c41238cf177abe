import { type Kysely, sql } from 'kysely';

// Sites, agents, cameras, segments and gaps: the footage path (issue 2).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);
  await sql`CREATE EXTENSION IF NOT EXISTS pgcrypto`.execute(db).catch(() => undefined);

  await db.schema
    .createTable('site')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) => c.notNull().unique().check(sql`code ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('camera_notice', 'jsonb')
    .addColumn('pbx_notice_text', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('agent')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('credential_hash', 'text', (c) => c.notNull())
    .addColumn('hostname', 'text')
    .addColumn('version', 'text')
    .addColumn('clock_offset_ms', 'integer')
    .addColumn('disk_used_bytes', 'bigint')
    .addColumn('disk_total_bytes', 'bigint')
    .addColumn('backlog_count', 'integer')
    .addColumn('backlog_bytes', 'bigint')
    .addColumn('last_contact_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('agent_site_idx').on('agent').column('site_id').execute();

  await db.schema
    .createTable('enrollment_token')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('agent_id', 'uuid', (c) => c.references('agent.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('camera')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('key', 'text', (c) => c.notNull().check(sql`key ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('place', 'text')
    .addColumn('device', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('upload_mode', 'text', (c) => c.notNull().defaultTo('continuous').check(sql`upload_mode IN ('continuous', 'on-demand')`))
    .addColumn('health', 'text', (c) => c.notNull().defaultTo('unknown'))
    .addColumn('last_segment_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('camera_site_key_uq', ['site_id', 'key'])
    .execute();

  await db.schema
    .createTable('segment')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('camera_id', 'uuid', (c) => c.notNull().references('camera.id'))
    .addColumn('span', sql`tstzrange`, (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull().check(sql`duration_ms > 0`))
    .addColumn('byte_size', 'bigint', (c) => c.notNull().check(sql`byte_size > 0`))
    .addColumn('sha256', 'bytea', (c) => c.notNull().check(sql`octet_length(sha256) = 32`))
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('codec', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('run_id', 'uuid')
    .addColumn('clock_offset_ms', 'integer')
    .addColumn('object_key', 'text')
    .addColumn('retention_class', 'text', (c) => c.notNull().defaultTo('routine'))
    .addColumn('hold_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`hold_count >= 0`))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('stored_at', 'timestamptz')
    .addCheckConstraint('segment_span_bounded', sql`NOT isempty(span) AND NOT lower_inf(span) AND NOT upper_inf(span)`)
    .execute();
  // Segments of one camera never overlap; the constraint's GiST index also serves range queries.
  await sql`ALTER TABLE segment ADD CONSTRAINT segment_no_overlap EXCLUDE USING gist (camera_id WITH =, span WITH &&)`.execute(db);
  await sql`CREATE UNIQUE INDEX segment_object_key_uq ON segment (object_key) WHERE object_key IS NOT NULL`.execute(db);

  await db.schema
    .createTable('gap')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('camera_id', 'uuid', (c) => c.notNull().references('camera.id'))
    .addColumn('span', sql`tstzrange`, (c) => c.notNull())
    .addColumn('reason', 'text', (c) =>
      c.notNull().check(sql`reason IN ('camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'other')`),
    )
    .addColumn('detail', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('gap_span_bounded', sql`NOT isempty(span) AND NOT lower_inf(span) AND NOT upper_inf(span)`)
    .addUniqueConstraint('gap_identity_uq', ['camera_id', 'span', 'reason'])
    .execute();
  await sql`CREATE INDEX gap_camera_span_idx ON gap USING gist (camera_id, span)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['gap', 'segment', 'camera', 'enrollment_token', 'agent', 'site']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
