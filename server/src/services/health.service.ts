import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { ObjectStore, StoreCapabilities } from '../adapters/object-store.ts';
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

/** What the storage enforces on its own (issue 15); said at start and in the health answer. */
export function storageReport(caps: StoreCapabilities) {
  const storage = caps.objectLock && caps.versioning;
  return {
    ...caps,
    evidenceProtection: storage ? ('storage' as const) : ('application_only' as const),
    warning: storage
      ? null
      : 'the S3 bucket has no Object Lock: held evidence is protected by the centre\'s own rules only; anyone holding the S3 credentials can delete it (create the bucket with object lock: docs/retention.md)',
  };
}

export function healthService(deps: { db: Db; redis: Redis; store: ObjectStore }) {
  return {
    async check() {
      const [postgres, redis, s3] = await Promise.all([
        timed(() => sql`select 1`.execute(deps.db)),
        timed(() => deps.redis.ping()),
        timed(() => deps.store.ping()),
      ]);
      const caps = s3.ok ? await deps.store.capabilities().catch(() => null) : null;
      return { ok: postgres.ok && redis.ok && s3.ok, checks: { postgres, redis, s3 }, storage: caps ? storageReport(caps) : null };
    },
  };
}
export type HealthService = ReturnType<typeof healthService>;
