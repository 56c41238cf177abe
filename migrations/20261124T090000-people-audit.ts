import { type Kysely, sql } from 'kysely';

// People, their sites, sessions, login throttling and the hash-chained audit log (issue "Incidents: people, roles, … audit").
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_user')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Stored normalized (trimmed, lowercase); the login form normalizes the same way.
    .addColumn('login', 'text', (c) => c.notNull().unique().check(sql`login ~ '^[a-z0-9][a-z0-9._@-]{2,63}$'`))
    .addColumn('display_name', 'text', (c) => c.notNull().check(sql`length(display_name) BETWEEN 1 AND 200`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('store_manager', 'security', 'hq', 'auditor', 'admin')`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0).check(sql`failed_attempts >= 0`))
    .addColumn('failure_window_started_at', 'timestamptz')
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_login_at', 'timestamptz')
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // Which sites a store_manager owns or a security officer is assigned to (the role says which of the two).
  await db.schema
    .createTable('user_site')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_site_pk', ['user_id', 'site_id'])
    .execute();
  await db.schema.createIndex('user_site_site_idx').on('user_site').column('site_id').execute();

  // The cookie carries a 256-bit random token; only its SHA-256 is stored.
  await db.schema
    .createTable('session')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('session_user_idx').on('session').column('user_id').execute();

  // Failed sign-ins per client address and per login name that matches no account (accounts keep theirs on app_user).
  await db.schema
    .createTable('login_throttle')
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope IN ('ip', 'login')`))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failure_window_started_at', 'timestamptz')
    .addColumn('locked_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_throttle_pk', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('login_throttle_updated_idx').on('login_throttle').column('updated_at').execute();

  // The audit log. `id` is the chain position (1, 2, 3, … without gaps), assigned under the chain head's row lock.
  await db.schema
    .createTable('audit_event')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull().check(sql`actor_type IN ('user', 'agent', 'system', 'anonymous')`))
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('actor_role', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('site_id', 'uuid')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('purpose', 'text')
    .addColumn('request_id', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome IN ('success', 'failure')`))
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('prev_hash', 'bytea', (c) => c.notNull().check(sql`octet_length(prev_hash) = 32`))
    .addColumn('hash', 'bytea', (c) => c.notNull().check(sql`octet_length(hash) = 32`))
    .execute();
  await db.schema.createIndex('audit_event_occurred_idx').on('audit_event').column('occurred_at').execute();
  await db.schema.createIndex('audit_event_actor_idx').on('audit_event').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_event_target_idx').on('audit_event').columns(['target_type', 'target_id', 'id']).execute();
  await db.schema.createIndex('audit_event_site_idx').on('audit_event').columns(['site_id', 'id']).execute();
  await db.schema.createIndex('audit_event_action_idx').on('audit_event').columns(['action', 'id']).execute();

  // The single chain head: the last id and hash. Appenders lock it (SELECT … FOR UPDATE), so the chain cannot fork;
  // it also exposes a truncated tail.
  await db.schema
    .createTable('audit_chain_head')
    .addColumn('id', 'smallint', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('last_id', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'bytea', (c) => c.notNull().check(sql`octet_length(last_hash) = 32`))
    .execute();
  await sql`INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))`.execute(db);

  // Append-only in normal operation: the application never updates or deletes events. (An owner can still disable
  // the trigger; the hash chain is what detects that.)
  await sql`
    CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`.execute(db);
  await sql`CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['audit_chain_head', 'audit_event', 'login_throttle', 'session', 'user_site', 'app_user']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
  await sql`DROP FUNCTION IF EXISTS audit_event_append_only()`.execute(db);
}
