/**
 * Connections to the real services started by scripts/services.sh, isolated per test file. S3 is Ceph radosgw with
 * Object Lock (scripts/rgw.sh, memstore, fixed test keys); TEST_S3_* point the tests elsewhere (e.g. s3rver on :9000).
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

export const TEST_ENV = {
  adminDatabaseUrl: process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://mamoru:mamoru@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15',
  s3Endpoint: process.env.TEST_S3_ENDPOINT ?? `http://127.0.0.1:${process.env.MAMORU_RGW_PORT ?? 17480}`,
  s3AccessKey: process.env.TEST_S3_ACCESS_KEY ?? 'MAMORU-RGW-TEST',
  s3SecretKey: process.env.TEST_S3_SECRET_KEY ?? 'mamoru-rgw-test-secret',
};

export const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

/** Creates an empty database; returns its URL and a drop function. */
export async function createTestDatabase(prefix = 't'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: TEST_ENV.adminDatabaseUrl, max: 1 }) }) });
  await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin);
  const url = new URL(TEST_ENV.adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      // A pool's end() can resolve while its sockets are still closing; FORCE would then kill those backends and the
      // closing clients would raise an unhandled 'error'. Wait (briefly) for the database's sessions to go first.
      for (let i = 0; i < 50; i++) {
        const r = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ${name}`.execute(admin).catch(() => undefined);
        if (!r || Number(r.rows[0]?.n ?? 0) === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin).catch(() => undefined);
      await admin.destroy();
    },
  };
}
