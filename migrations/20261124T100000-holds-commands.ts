import { type Kysely, sql } from 'kysely';

/**
 * Preservation (issue 4): evidence holds and commands to agents.
 * - evidence_hold is the one source of truth for "held": a camera window (camera_id + span) or a call. Media that
 *   overlaps an active hold never expires and is never evicted, including footage that reaches the centre after
 *   the hold was placed (on-demand cameras). `kind` 'incident' holds come from linking a case; 'legal' holds are
 *   placed and released only by hq, with a reason. `expires_at` lets an incident hold lapse (case closed + the
 *   incident evidence retention period); a legal hold has none.
 * - agent_command carries work for an agent behind NAT: delivered in heartbeat answers, acknowledged by the agent.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('evidence_hold')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('incident_id', 'uuid')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('incident', 'legal')`))
    .addColumn('camera_id', 'uuid', (c) => c.references('camera.id'))
    .addColumn('span', sql`tstzrange`)
    .addColumn('call_id', 'uuid', (c) => c.references('call.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('placed_by', 'text', (c) => c.notNull())
    .addColumn('placed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('released_at', 'timestamptz')
    .addColumn('released_by', 'text')
    .addColumn('release_reason', 'text')
    .addCheckConstraint(
      'evidence_hold_target',
      sql`(camera_id IS NOT NULL AND span IS NOT NULL AND call_id IS NULL AND NOT isempty(span) AND NOT lower_inf(span) AND NOT upper_inf(span))
          OR (call_id IS NOT NULL AND camera_id IS NULL AND span IS NULL)`,
    )
    .addCheckConstraint('evidence_hold_release', sql`(released_at IS NULL) = (released_by IS NULL)`)
    .execute();
  await sql`CREATE INDEX evidence_hold_camera_active_idx ON evidence_hold USING gist (camera_id, span) WHERE released_at IS NULL AND camera_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX evidence_hold_call_active_idx ON evidence_hold (call_id) WHERE released_at IS NULL AND call_id IS NOT NULL`.execute(db);
  await db.schema.createIndex('evidence_hold_incident_idx').on('evidence_hold').column('incident_id').execute();

  await db.schema
    .createTable('agent_command')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('preserve_window')`))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('incident_id', 'uuid')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status IN ('pending', 'delivered', 'done', 'failed')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('detail', 'text')
    .execute();
  await sql`CREATE INDEX agent_command_open_idx ON agent_command (site_id, created_at) WHERE status IN ('pending', 'delivered')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('agent_command').ifExists().execute();
  await db.schema.dropTable('evidence_hold').ifExists().execute();
}
