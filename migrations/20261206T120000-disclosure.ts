import { type Kysely, sql } from 'kysely';

/**
 * Disclosure requests (個人情報保護法 開示請求; issue 11 part 4, DESIGN.md §3 and §5): a data subject asks for their
 * own recordings. `hq` records the request; the centre finds the requester's calls (by number, across sites) and the
 * footage of each call's site around it; HQ decides per item (disclose, disclose masked, withhold with a reason); a
 * job builds the response package (the evidence-pack format, marked as a disclosure, its masking in the manifest).
 *
 * - disclosure_request: who asked, when it was received, how identity was checked, the internal deadline, and the
 *   response (its job, ZIP object, SHA-256 and size, when built, when sent and how).
 * - disclosure_item: one recording or one camera window found for the request, with HQ's decision and its masking
 *   (JSON: muted ranges of a recording; blurred regions, times, faces of a camera window).
 * The audit log records every view and change (disclosure.*); these rows keep the current state for the workflow.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // References `DR-<year>-<nnnn>`: one counter for the whole company (HQ answers every request).
  await sql`CREATE SEQUENCE disclosure_reference_seq`.execute(db);
  await db.schema
    .createTable('disclosure_request')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('requester_name', 'text', (c) => c.notNull().check(sql`length(requester_name) BETWEEN 1 AND 200`))
    .addColumn('requester_number', 'text', (c) => c.notNull().check(sql`length(requester_number) BETWEEN 3 AND 40`))
    // Digits of the number as given; calls match on caller_digits/called_digits (docs/api-calls.md §5).
    .addColumn('requester_digits', 'text', (c) => c.notNull().check(sql`requester_digits ~ '^[0-9]{6,20}$'`))
    .addColumn('received_on', 'date', (c) => c.notNull())
    .addColumn('identity_check', 'text', (c) =>
      c.notNull().check(sql`identity_check IN ('photo_id_in_person', 'id_copy_by_mail', 'callback_to_number', 'my_number_card_online', 'other')`),
    )
    .addColumn('identity_note', 'text', (c) => c.notNull().defaultTo('').check(sql`length(identity_note) <= 2000`))
    .addColumn('deadline', 'date', (c) => c.notNull())
    .addColumn('search_from', 'timestamptz', (c) => c.notNull())
    .addColumn('search_to', 'timestamptz', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull().defaultTo('').check(sql`length(note) <= 5000`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('open', 'building', 'ready', 'sent', 'failed')`))
    .addColumn('response_job_id', 'text')
    .addColumn('response_object_key', 'text')
    .addColumn('response_sha256', 'bytea')
    .addColumn('response_size', 'int8')
    .addColumn('response_manifest_sha256', 'bytea')
    .addColumn('response_built_at', 'timestamptz')
    .addColumn('response_error', 'text')
    .addColumn('response_progress', 'jsonb')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('sent_method', 'text')
    .addColumn('sent_by', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('disclosure_search_ordered', sql`search_to > search_from`)
    .addCheckConstraint('disclosure_deadline_after_receipt', sql`deadline >= received_on`)
    .addCheckConstraint('disclosure_ready_has_object', sql`status NOT IN ('ready', 'sent') OR (response_object_key IS NOT NULL AND response_sha256 IS NOT NULL)`)
    .addCheckConstraint('disclosure_sent_fields', sql`(status = 'sent') = (sent_at IS NOT NULL)`)
    .execute();
  await sql`CREATE INDEX disclosure_request_created_idx ON disclosure_request (created_at DESC, id DESC)`.execute(db);

  await db.schema
    .createTable('disclosure_item')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('disclosure_request.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('recording', 'camera_window')`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id'))
    .addColumn('call_id', 'uuid', (c) => c.notNull().references('call.id'))
    .addColumn('recording_id', 'uuid', (c) => c.references('recording.id'))
    .addColumn('camera_id', 'uuid', (c) => c.references('camera.id'))
    .addColumn('window_start', 'timestamptz')
    .addColumn('window_end', 'timestamptz')
    .addColumn('decision', 'text', (c) => c.check(sql`decision IN ('disclose', 'disclose_masked', 'withhold')`))
    .addColumn('withhold_reason', 'text', (c) => c.check(sql`length(withhold_reason) BETWEEN 1 AND 2000`))
    .addColumn('masking', 'jsonb')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('found_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('disclosure_item_kind_fields', sql`(kind = 'recording' AND recording_id IS NOT NULL AND camera_id IS NULL AND window_start IS NULL)
      OR (kind = 'camera_window' AND recording_id IS NULL AND camera_id IS NOT NULL AND window_start IS NOT NULL AND window_end > window_start)`)
    .addCheckConstraint('disclosure_item_withhold_reason', sql`(decision = 'withhold') = (withhold_reason IS NOT NULL)`)
    .addCheckConstraint('disclosure_item_masked_has_masking', sql`decision IS DISTINCT FROM 'disclose_masked' OR masking IS NOT NULL`)
    .addCheckConstraint('disclosure_item_decided_fields', sql`(decision IS NULL) = (decided_at IS NULL)`)
    .execute();
  await sql`CREATE UNIQUE INDEX disclosure_item_recording_uq ON disclosure_item (request_id, recording_id) WHERE recording_id IS NOT NULL`.execute(db);
  await sql`CREATE UNIQUE INDEX disclosure_item_window_uq ON disclosure_item (request_id, call_id, camera_id) WHERE camera_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX disclosure_item_request_idx ON disclosure_item (request_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('disclosure_item').ifExists().execute();
  await db.schema.dropTable('disclosure_request').ifExists().execute();
  await sql`DROP SEQUENCE IF EXISTS disclosure_reference_seq`.execute(db);
}
