/** Row counts of the centre's tables in one query: a refused request must leave every one of them as it was. */
import { sql } from 'kysely';
import type { Db } from '../../src/db/connect.ts';

/**
 * Tables a refused request may legitimately write to: the audit log (refusals and failed sign-ins are audited),
 * sign-in throttling, sessions (a sign-in that succeeds) and the count of agents' refused times (ingest_refusal, which
 * the stores page shows). Every other table must be unchanged.
 */
const EXPECTED_TO_MOVE = new Set(['audit_event', 'audit_chain_head', 'login_throttle', 'session', 'ingest_refusal', 'kysely_migration', 'kysely_migration_lock']);

export async function tableCounts(db: Db): Promise<Record<string, number>> {
  const tables = (await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`.execute(db)).rows.map((r) => r.name).filter((t) => !EXPECTED_TO_MOVE.has(t));
  const q = tables.map((t) => `(SELECT count(*) FROM "${t}")::int AS "${t}"`).join(', ');
  const r = await sql.raw<Record<string, number>>(`SELECT ${q}`).execute(db);
  return r.rows[0]!;
}
