import type { Kysely } from 'kysely';

// Issue 15: an evidence hold is mirrored in the storage as an S3 legal hold on the objects it covers. This column says
// when the storage last reflected the hold's state; a hold placed, released or lapsed after that is pending and the
// storage-lock sync (after each hold change, and at every retention run) brings the objects' legal holds in line.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('evidence_hold').addColumn('storage_synced_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('evidence_hold').dropColumn('storage_synced_at').execute();
}
