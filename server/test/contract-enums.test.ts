/**
 * The database keeps the contract's enums too (CHECK constraints written by the migrations). After migrating a fresh
 * database, every enum column's allowed values are exactly the contract's, so a value added in one place and not
 * the other fails here rather than as a 500 on the first insert.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as E from '@mamoru/contract/enums';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase } from '../../test-support/src/env.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

const COLUMNS: Record<string, readonly string[]> = {
  'gap.reason': E.GAP_REASONS,
  'camera.upload_mode': E.UPLOAD_MODES,
  'call.direction': E.CALL_DIRECTIONS,
  'call.disposition': E.CALL_DISPOSITIONS,
  'call.notice_played': E.NOTICE_PLAYED,
  'call.live_state': E.LIVE_CALL_STATES,
  'recording.role': E.RECORDING_ROLES,
  'recording.derive_status': E.DERIVE_STATUSES,
  'app_user.role': E.ROLES,
  'agent_command.kind': E.AGENT_COMMAND_KINDS,
  'agent_command.status': E.COMMAND_STATUSES,
  'incident.category': E.INCIDENT_CATEGORIES,
  'incident.severity': E.INCIDENT_SEVERITIES,
  'incident.status': E.INCIDENT_STATUSES,
  'evidence_hold.kind': E.HOLD_KINDS,
  'incident_call.source': E.CALL_LINK_SOURCES,
  'incident_camera_window.source': E.WINDOW_LINK_SOURCES,
  'retention_policy.class': E.RETENTION_CLASSES,
  'audit_event.actor_type': E.AUDIT_ACTOR_TYPES,
  'audit_event.outcome': E.AUDIT_OUTCOMES,
};

let db: Kysely<any>;
let drop: () => Promise<void>;
/** `table.column` → the values its CHECK constraint allows. */
const allowed = new Map<string, string[]>();

before(async () => {
  const t = await createTestDatabase('contract_enums');
  drop = t.drop;
  db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 2 }) }) });
  await migrateToLatest(db);
  const r = await sql<{ tbl: string; def: string }>`
    SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace`.execute(db);
  for (const { tbl, def } of r.rows) {
    // `CHECK ((col = ANY (ARRAY['a'::text, 'b'::text])))` or, for one value, `CHECK ((col = 'a'::text))`.
    const m = /^CHECK \(\(([a-z_]+) = (?:ANY \(ARRAY\[(.*)\]\)|('[^']*'::text))\)\)$/.exec(def);
    if (!m) continue;
    const list = m[2] ?? m[3]!;
    allowed.set(`${tbl}.${m[1]}`, [...list.matchAll(/'([^']*)'::text/g)].map((x) => x[1]!));
  }
});

after(async () => {
  await db?.destroy();
  await drop?.();
});

for (const [column, values] of Object.entries(COLUMNS)) {
  test(`${column} allows exactly the contract's values`, () => {
    const inDb = allowed.get(column);
    assert.ok(inDb, `no CHECK constraint listing the values of ${column}`);
    assert.deepEqual([...inDb].sort(), [...values].sort());
  });
}
