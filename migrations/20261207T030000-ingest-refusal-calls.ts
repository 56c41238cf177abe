import { type Kysely, sql } from 'kysely';

// Issue 12 item 2: the times inside call payloads and live calls are bounded like footage times; their refusals are
// counted under the subjects `call` and `call_live`.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE ingest_refusal DROP CONSTRAINT IF EXISTS ingest_refusal_subject_check`.execute(db);
  await sql`ALTER TABLE ingest_refusal ADD CONSTRAINT ingest_refusal_subject_check CHECK (subject IN ('segment', 'segment_meta', 'gap', 'heartbeat', 'call', 'call_live'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM ingest_refusal WHERE subject IN ('call', 'call_live')`.execute(db);
  await sql`ALTER TABLE ingest_refusal DROP CONSTRAINT IF EXISTS ingest_refusal_subject_check`.execute(db);
  await sql`ALTER TABLE ingest_refusal ADD CONSTRAINT ingest_refusal_subject_check CHECK (subject IN ('segment', 'segment_meta', 'gap', 'heartbeat'))`.execute(db);
}
