import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { Db } from '../db/connect.ts';

export type Check = { ok: boolean; ms: number; error?: string };

async function timed(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  const t0 = performance.now();
  try {
    await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), timeoutMs).unref())]);
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { ok: false, ms: Math.round(performance.now() - t0), error: (e as Error).message };
  }
}

export function healthService(deps: { db: Db; redis: Redis; store: ObjectStore }) {
  return {
    async check() {
      const [postgres, redis, s3] = await Promise.all([
        timed(() => sql`select 1`.execute(deps.db)),
        timed(() => deps.redis.ping()),
        timed(() => deps.store.ping()),
      ]);
      return { ok: postgres.ok && redis.ok && s3.ok, checks: { postgres, redis, s3 } };
    },
  };
}
export type HealthService = ReturnType<typeof healthService>;
