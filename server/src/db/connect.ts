import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/**
 * Tables and columns are snake_case in PostgreSQL and camelCase in TypeScript (`schema.ts`): the plugin renames the
 * identifiers of every built query and the keys of every result row, so repositories return rows as they are.
 * What it does not touch: the text of raw `sql` templates (write `segment.camera_id` there) and the keys inside
 * JSON values (`maintainNestedObjectKeys`: a jsonb column such as `camera.device` or `audit_event.details` comes
 * back exactly as it was stored). Migrations run without it (`migrate.ts`).
 */
export const camelCase = () => new CamelCasePlugin({ maintainNestedObjectKeys: true });

/**
 * `onIdleError` hears about pooled connections that die while idle (PostgreSQL restarted, connection terminated):
 * pg drops them and the next query opens a new one. Without a listener pg's pool would throw the error as an
 * uncaught exception and take the process down.
 */
export function createDb(databaseUrl: string, max = 10, onIdleError: (e: Error) => void = defaultIdleError): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on('error', onIdleError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [camelCase()] });
}

function defaultIdleError(e: Error) {
  console.error(JSON.stringify({ t: new Date().toISOString(), level: 'warn', msg: 'idle database connection lost', error: e.message }));
}
