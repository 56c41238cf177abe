import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/**
 * `onIdleError` hears about pooled connections that die while idle (PostgreSQL restarted, connection terminated):
 * pg drops them and the next query opens a new one. Without a listener pg's pool would throw the error as an
 * uncaught exception and take the process down.
 */
export function createDb(databaseUrl: string, max = 10, onIdleError: (e: Error) => void = defaultIdleError): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on('error', onIdleError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function defaultIdleError(e: Error) {
  console.error(JSON.stringify({ t: new Date().toISOString(), level: 'warn', msg: 'idle database connection lost', error: e.message }));
}
