import { type Kysely, sql } from 'kysely';

/**
 * Evidence packs and police share links (issue 11, parts 1 and 3).
 *
 * - evidence_pack: one requested pack (a case, or a chosen part of it: `scope`), its purpose from the fixed list,
 *   the reference (e.g. the 捜査関係事項照会書 number) and the legal basis of giving the data to a third party; the
 *   build job's state; when ready, the ZIP's object key, size, the manifest's SHA-256 and its Ed25519 signature
 *   with the signing key's fingerprint, and where its videos lie inside the ZIP. `kind` is `evidence` or `disclosure` (a disclosure response uses the same
 *   format). Rows are never deleted: they are the record of what left the company.
 * - pack_share_link: a link for the police: the SHA-256 of a random token (the token itself is shown once), an
 *   expiry, a download limit and the count, an optional passcode (scrypt), revocation. Every use is audited.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('evidence_pack')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('incident_id', 'uuid', (c) => c.references('incident.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('evidence', 'disclosure')`))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose IN ('police_request', 'court', 'internal_investigation', 'insurer', 'data_subject_request')`))
    .addColumn('reference', 'text', (c) => c.notNull().check(sql`length(reference) BETWEEN 1 AND 200`))
    .addColumn('legal_basis', 'text', (c) => c.notNull().check(sql`length(legal_basis) BETWEEN 1 AND 2000`))
    .addColumn('scope', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued').check(sql`status IN ('queued', 'building', 'ready', 'failed')`))
    .addColumn('job_id', 'text')
    .addColumn('object_key', 'text')
    .addColumn('size', 'int8')
    .addColumn('file_count', 'integer')
    .addColumn('manifest_sha256', 'bytea')
    .addColumn('signature', 'bytea')
    .addColumn('key_fingerprint', 'text')
    // Where each MP4 and playable copy lies inside the stored ZIP (entries are stored, not compressed), so the share
    // page plays them with range reads of the ZIP: [{ path, kind, label, offset, size }].
    .addColumn('contents', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('app_user.id'))
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addCheckConstraint('evidence_pack_ready_has_object', sql`status <> 'ready' OR (object_key IS NOT NULL AND size IS NOT NULL AND manifest_sha256 IS NOT NULL AND signature IS NOT NULL)`)
    .execute();
  await sql`CREATE INDEX evidence_pack_incident_idx ON evidence_pack (incident_id, requested_at DESC)`.execute(db);

  await db.schema
    .createTable('pack_share_link')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('pack_id', 'uuid', (c) => c.notNull().references('evidence_pack.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('recipient', 'text', (c) => c.notNull().check(sql`length(recipient) BETWEEN 1 AND 200`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('max_downloads', 'integer', (c) => c.notNull().check(sql`max_downloads BETWEEN 1 AND 100`))
    .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('passcode_hash', 'text')
    .addColumn('created_by', 'uuid', (c) => c.notNull().references('app_user.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'uuid', (c) => c.references('app_user.id'))
    .addColumn('revoke_reason', 'text')
    .addCheckConstraint('pack_share_link_count', sql`download_count BETWEEN 0 AND max_downloads`)
    .execute();
  await sql`CREATE INDEX pack_share_link_pack_idx ON pack_share_link (pack_id, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pack_share_link').ifExists().execute();
  await db.schema.dropTable('evidence_pack').ifExists().execute();
}
