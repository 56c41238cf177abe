import { type Kysely, sql } from 'kysely';

/**
 * Incidents (cases), issue 4 part 2: the case, its linked calls and camera windows, notes, bookmarks and its change
 * history. Holds and agent commands live in the shared tables of 20261124T100000 (evidence_hold, agent_command);
 * this migration only ties their incident_id to the case.
 *
 * - incident.case_number: `<SITE CODE>-<year>-<nnnn>` per site and year (in the site's time zone), from
 *   incident_sequence (one row per site and year, bumped with INSERT … ON CONFLICT DO UPDATE … RETURNING, so two
 *   filings at once never share a number).
 * - category and severity are stored as codes; the API adds the Japanese labels (server/src/domain/incident.ts).
 * - incident_event is the case's own change history (who, what, before/after); the hash-chained audit log records
 *   the same changes (and every view) for the auditor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('incident_sequence')
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('year', 'integer', (c) => c.notNull().check(sql`year BETWEEN 2000 AND 9999`))
    .addColumn('last_value', 'integer', (c) => c.notNull().check(sql`last_value >= 1`))
    .addPrimaryKeyConstraint('incident_sequence_pk', ['site_id', 'year'])
    .execute();

  await db.schema
    .createTable('incident')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('case_number', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull().check(sql`length(title) BETWEEN 1 AND 200`))
    .addColumn('category', 'text', (c) =>
      c.notNull().check(sql`category IN ('verbal_abuse', 'threat', 'excessive_demand', 'prolonged_detention', 'violence', 'other')`),
    )
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity IN ('low', 'medium', 'high', 'critical')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('draft', 'open', 'under_review', 'referred_to_police', 'closed')`))
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('window_end', 'timestamptz', (c) => c.notNull())
    .addColumn('margin_before_s', 'integer', (c) => c.notNull().check(sql`margin_before_s >= 0`))
    .addColumn('margin_after_s', 'integer', (c) => c.notNull().check(sql`margin_after_s >= 0`))
    .addColumn('narrative', 'text', (c) => c.notNull().defaultTo('').check(sql`length(narrative) <= 20000`))
    .addColumn('involved_staff', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('reporter_id', 'uuid', (c) => c.references('app_user.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('legal_hold', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('legal_hold_reason', 'text')
    .addColumn('legal_hold_by', 'text')
    .addColumn('legal_hold_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('closed_by', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('incident_window_ordered', sql`window_end > window_start`)
    .addCheckConstraint('incident_legal_hold_fields', sql`NOT legal_hold OR (legal_hold_reason IS NOT NULL AND legal_hold_by IS NOT NULL AND legal_hold_at IS NOT NULL)`)
    .addCheckConstraint('incident_closed_fields', sql`(status = 'closed') = (closed_at IS NOT NULL)`)
    .execute();
  await sql`CREATE INDEX incident_site_created_idx ON incident (site_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX incident_created_idx ON incident (created_at DESC, id DESC)`.execute(db);

  await db.schema
    .createTable('incident_call')
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incident.id'))
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('call.id'))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('filed_from', 'window', 'manual')`))
    .addColumn('linked_by', 'text', (c) => c.notNull())
    .addColumn('linked_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_call_pk', ['incident_id', 'call_id'])
    .execute();
  await db.schema.createIndex('incident_call_call_idx').on('incident_call').column('call_id').execute();

  await db.schema
    .createTable('incident_camera_window')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incident.id'))
    .addColumn('camera_id', 'uuid', (c) => c.notNull().references('camera.id'))
    .addColumn('span', sql`tstzrange`, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('filed', 'manual')`))
    .addColumn('preserve_command_id', 'uuid', (c) => c.references('agent_command.id'))
    .addColumn('linked_by', 'text', (c) => c.notNull())
    .addColumn('linked_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('incident_camera_window_span_bounded', sql`NOT isempty(span) AND NOT lower_inf(span) AND NOT upper_inf(span)`)
    .addUniqueConstraint('incident_camera_window_uq', ['incident_id', 'camera_id', 'span'])
    .execute();
  await db.schema.createIndex('incident_camera_window_incident_idx').on('incident_camera_window').column('incident_id').execute();
  await sql`CREATE INDEX incident_camera_window_camera_span_idx ON incident_camera_window USING gist (camera_id, span)`.execute(db);

  await db.schema
    .createTable('incident_note')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incident.id'))
    .addColumn('body', 'text', (c) => c.notNull().check(sql`length(body) BETWEEN 1 AND 10000`))
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('author_label', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('incident_note_incident_idx').on('incident_note').columns(['incident_id', 'created_at']).execute();

  await db.schema
    .createTable('incident_bookmark')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incident.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('camera_id', 'uuid', (c) => c.references('camera.id'))
    .addColumn('call_id', 'uuid', (c) => c.references('call.id'))
    .addColumn('note', 'text', (c) => c.notNull().defaultTo('').check(sql`length(note) <= 2000`))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_label', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('incident_bookmark_target', sql`camera_id IS NULL OR call_id IS NULL`)
    .execute();
  await db.schema.createIndex('incident_bookmark_incident_idx').on('incident_bookmark').columns(['incident_id', 'at']).execute();

  await db.schema
    .createTable('incident_event')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incident.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('changes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('incident_event_incident_idx').on('incident_event').columns(['incident_id', 'id']).execute();

  // The shared preservation tables (20261124T100000) name the case a hold or a command is for.
  await sql`ALTER TABLE evidence_hold ADD CONSTRAINT evidence_hold_incident_fk FOREIGN KEY (incident_id) REFERENCES incident (id)`.execute(db);
  await sql`ALTER TABLE agent_command ADD CONSTRAINT agent_command_incident_fk FOREIGN KEY (incident_id) REFERENCES incident (id)`.execute(db);
  await db.schema.createIndex('agent_command_incident_idx').on('agent_command').column('incident_id').execute();

  // Repeat-caller matches: the same caller number (E.164, or the raw number's digits) at other sites.
  await sql`CREATE INDEX call_caller_e164_idx ON call (caller_e164) WHERE caller_e164 IS NOT NULL`.execute(db);
  await sql`CREATE INDEX call_caller_raw_digits_idx ON call ((regexp_replace(coalesce(caller_number, ''), '[^0-9]', '', 'g')))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS call_caller_raw_digits_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS call_caller_e164_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS agent_command_incident_idx`.execute(db);
  await sql`ALTER TABLE agent_command DROP CONSTRAINT IF EXISTS agent_command_incident_fk`.execute(db);
  await sql`ALTER TABLE evidence_hold DROP CONSTRAINT IF EXISTS evidence_hold_incident_fk`.execute(db);
  for (const t of ['incident_event', 'incident_bookmark', 'incident_note', 'incident_camera_window', 'incident_call', 'incident', 'incident_sequence']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
