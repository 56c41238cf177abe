import { type Kysely, sql } from 'kysely';

// Phone calls (issue "Phone calls", part 2): call, every version an agent sent, the raw PBX lines, recordings and
// their derivatives. `call` holds the current (highest) version's facts, denormalised for search.
export async function up(db: Kysely<any>): Promise<void> {
  // pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);

  await db.schema
    .createTable('call')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('call_key', 'text', (c) => c.notNull().check(sql`length(call_key) BETWEEN 3 AND 300`))
    .addColumn('pbx_id', 'text', (c) => c.notNull())
    .addColumn('linked_id', 'text', (c) => c.notNull())
    .addColumn('adapter', 'text', (c) => c.notNull())
    .addColumn('current_version', 'integer', (c) => c.notNull().check(sql`current_version >= 1`))
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction IN ('inbound', 'outbound', 'internal', 'unknown')`))
    .addColumn('disposition', 'text', (c) =>
      c.notNull().check(sql`disposition IN ('answered', 'no_answer', 'busy', 'failed', 'congestion', 'unknown')`),
    )
    .addColumn('caller_number', 'text')
    .addColumn('caller_name', 'text')
    .addColumn('caller_e164', 'text')
    .addColumn('called_number', 'text')
    .addColumn('called_e164', 'text')
    // Digits of the raw number and of the E.164 form, space separated: one trigram index answers a partial number
    // in either form ("0312345678", "+81 3-1234-5678", "345678").
    .addColumn('caller_digits', 'text', (c) =>
      c.generatedAlwaysAs(sql`regexp_replace(coalesce(caller_number, ''), '[^0-9]', '', 'g') || ' ' || regexp_replace(coalesce(caller_e164, ''), '[^0-9]', '', 'g')`).stored().notNull(),
    )
    .addColumn('called_digits', 'text', (c) =>
      c.generatedAlwaysAs(sql`regexp_replace(coalesce(called_number, ''), '[^0-9]', '', 'g') || ' ' || regexp_replace(coalesce(called_e164, ''), '[^0-9]', '', 'g')`).stored().notNull(),
    )
    .addColumn('operator_extension', 'text')
    .addColumn('operator_name', 'text')
    .addColumn('operator_source', 'text')
    .addColumn('start_at', 'timestamptz', (c) => c.notNull())
    .addColumn('answer_at', 'timestamptz')
    .addColumn('end_at', 'timestamptz', (c) => c.notNull())
    .addColumn('duration_s', 'double precision', (c) => c.notNull())
    .addColumn('talk_s', 'double precision')
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('zone_source', 'text', (c) => c.notNull())
    .addColumn('raw_start', 'text')
    .addColumn('raw_answer', 'text')
    .addColumn('raw_end', 'text')
    .addColumn('notice_played', 'text', (c) => c.notNull().check(sql`notice_played IN ('yes', 'no', 'unknown')`))
    .addColumn('notice_method', 'text')
    .addColumn('notice_at', 'timestamptz')
    .addColumn('flags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('retention_class', 'text', (c) => c.notNull().defaultTo('routine'))
    .addColumn('hold_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`hold_count >= 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('call_site_key_uq', ['site_id', 'call_key'])
    .addCheckConstraint('call_times_ordered', sql`end_at >= start_at`)
    .execute();

  // Search, newest first with keyset pagination on (start_at, id).
  await sql`CREATE INDEX call_site_start_idx ON call (site_id, start_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX call_start_idx ON call (start_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX call_caller_digits_trgm ON call USING gin (caller_digits gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX call_called_digits_trgm ON call USING gin (called_digits gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX call_site_operator_idx ON call (site_id, operator_extension, start_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX call_site_direction_idx ON call (site_id, direction, start_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX call_site_disposition_idx ON call (site_id, disposition, start_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX call_site_notice_idx ON call (site_id, notice_played, start_at DESC, id DESC)`.execute(db);

  await db.schema
    .createTable('call_version')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('call.id'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('payload_sha256', 'bytea', (c) => c.notNull().check(sql`octet_length(payload_sha256) = 32`))
    .addColumn('agent_id', 'uuid', (c) => c.references('agent.id'))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('call_version_uq', ['call_id', 'version'])
    .execute();

  await db.schema
    .createTable('call_leg')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('call.id'))
    .addColumn('call_version_id', 'bigint', (c) => c.notNull().references('call_version.id'))
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('unique_id', 'text')
    .addColumn('linked_id', 'text')
    .addColumn('sequence', 'integer')
    .addColumn('src', 'text')
    .addColumn('dst', 'text')
    .addColumn('channel', 'text')
    .addColumn('dst_channel', 'text')
    .addColumn('last_app', 'text')
    .addColumn('disposition', 'text')
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('source_file', 'text', (c) => c.notNull())
    .addColumn('source_offset', 'bigint')
    .addUniqueConstraint('call_leg_version_ordinal_uq', ['call_version_id', 'ordinal'])
    .execute();
  await db.schema.createIndex('call_leg_call_idx').on('call_leg').column('call_id').execute();

  await db.schema
    .createTable('recording')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('call.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('mixed', 'caller', 'operator', 'stereo')`))
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('sample_rate', 'integer')
    .addColumn('channels', 'integer')
    .addColumn('duration_s', 'double precision')
    .addColumn('size', 'bigint', (c) => c.notNull().check(sql`size > 0`))
    .addColumn('sha256', 'bytea', (c) => c.notNull().check(sql`octet_length(sha256) = 32`))
    .addColumn('declared_in_version', 'integer', (c) => c.notNull())
    // The original, byte for byte. Null until the agent has sent it.
    .addColumn('object_key', 'text')
    .addColumn('media_type', 'text')
    .addColumn('stored_at', 'timestamptz')
    // Browser-playable copy and waveform summary, made by the worker (job recording.derive).
    .addColumn('playable_key', 'text')
    .addColumn('playable_media_type', 'text')
    .addColumn('playable_codec', 'text')
    .addColumn('playable_size', 'bigint')
    .addColumn('playable_duration_s', 'double precision')
    .addColumn('waveform_key', 'text')
    .addColumn('waveform_size', 'bigint')
    .addColumn('waveform_bucket_ms', 'integer')
    .addColumn('derive_status', 'text', (c) =>
      c.notNull().defaultTo('awaiting_original').check(sql`derive_status IN ('awaiting_original', 'pending', 'running', 'done', 'failed')`),
    )
    .addColumn('derive_error', 'text')
    .addColumn('derive_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('derive_job_id', 'text')
    .addColumn('derive_updated_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A later version may declare a file of the same name with other bytes (it grew): both are kept.
    .addUniqueConstraint('recording_identity_uq', ['call_id', 'name', 'sha256'])
    .execute();
  // Object keys are looked up by the orphan sweep (invariant 2): originals, playable copies and waveforms.
  await sql`CREATE UNIQUE INDEX recording_object_key_uq ON recording (object_key) WHERE object_key IS NOT NULL`.execute(db);
  await sql`CREATE UNIQUE INDEX recording_playable_key_uq ON recording (playable_key) WHERE playable_key IS NOT NULL`.execute(db);
  await sql`CREATE UNIQUE INDEX recording_waveform_key_uq ON recording (waveform_key) WHERE waveform_key IS NOT NULL`.execute(db);
  await sql`CREATE INDEX recording_derive_todo_idx ON recording (derive_updated_at) WHERE derive_status IN ('pending', 'running')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['recording', 'call_leg', 'call_version', 'call']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
