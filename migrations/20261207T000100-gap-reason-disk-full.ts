import { type Kysely, sql } from 'kysely';

// Issue 13 item 4: when the store's disk is full and recording cannot continue, the agent says so with its own gap
// reason, `disk_full` (@mamoru/contract GAP_REASONS), instead of a `recorder_restart` with "No space left on device".
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE gap DROP CONSTRAINT IF EXISTS gap_reason_check`.execute(db);
  await sql`ALTER TABLE gap ADD CONSTRAINT gap_reason_check CHECK (reason IN ('camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'disk_full', 'other'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE gap DROP CONSTRAINT IF EXISTS gap_reason_check`.execute(db);
  await sql`ALTER TABLE gap ADD CONSTRAINT gap_reason_check CHECK (reason IN ('camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'other'))`.execute(db);
}
