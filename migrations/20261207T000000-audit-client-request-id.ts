import type { Kysely } from 'kysely';

// Issue 12 item 5: the audit log's `request_id` is the centre's own (one per request); a client's X-Request-Id is kept
// beside it, marked as the client's, and covered by the event hash when present (domain/audit-chain.ts).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_event').addColumn('client_request_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_event').dropColumn('client_request_id').execute();
}
