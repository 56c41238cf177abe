import { type Kysely, sql } from 'kysely';

// Admin pages (issue 10 item 6): an enrollment token can be revoked before it is used; who revoked it is kept.
// The site notices (camera signage, PBX recording notice) already have their columns (site.camera_notice jsonb
// {text, place, since}, site.pbx_notice_text) since 20261123T190000-footage; nothing to add for them.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('enrollment_token')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .execute();
  await db.schema.alterTable('agent').addColumn('revoked_by', 'text').execute();
  await sql`CREATE INDEX enrollment_token_site_idx ON enrollment_token (site_id, created_at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS enrollment_token_site_idx`.execute(db);
  await db.schema.alterTable('agent').dropColumn('revoked_by').execute();
  await db.schema.alterTable('enrollment_token').dropColumn('revoked_at').dropColumn('revoked_by').execute();
}
