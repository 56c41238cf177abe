import { type Kysely, sql } from 'kysely';

/**
 * The linking query (issue 4): the calls of a site that overlap a window, `start_at < to AND end_at > from`.
 * No b-tree bounds both ends (call_site_start_idx stops at `to` but must then walk back through all of the
 * site's older calls, since a call may last hours), so index the call's time as a range, beside its site:
 * `tstzrange(start_at, end_at, '[]') && tstzrange(from, to, '()')` is the same predicate. btree_gist (from the
 * footage migration) supplies the uuid operator class.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX call_site_window_idx ON call USING gist (site_id, tstzrange(start_at, end_at, '[]'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS call_site_window_idx`.execute(db);
}
