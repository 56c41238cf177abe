import type { Db } from '../db/connect.ts';
import { EMPTY_THROTTLE, type ThrottleState } from '../domain/login-throttle.ts';

export type ThrottleScope = 'ip' | 'login';

export function loginThrottleRepository(db: Db) {
  const select = (scope: ThrottleScope, key: string) =>
    db.selectFrom('loginThrottle').select(['failedAttempts', 'failureWindowStartedAt', 'lockedUntil']).where('scope', '=', scope).where('key', '=', key);
  const toState = (r: { failedAttempts: number; failureWindowStartedAt: Date | null; lockedUntil: Date | null } | undefined): ThrottleState =>
    r ? { failedAttempts: r.failedAttempts, windowStartedAt: r.failureWindowStartedAt, lockedUntil: r.lockedUntil } : EMPTY_THROTTLE;
  return {
    async get(scope: ThrottleScope, key: string): Promise<ThrottleState> {
      return toState(await select(scope, key).executeTakeFirst());
    },
    /** Creates the row if needed and locks it (inside a transaction). */
    async getForUpdate(scope: ThrottleScope, key: string, now: Date): Promise<ThrottleState> {
      await db.insertInto('loginThrottle').values({ scope, key, updatedAt: now }).onConflict((oc) => oc.columns(['scope', 'key']).doNothing()).execute();
      return toState(await select(scope, key).forUpdate().executeTakeFirst());
    },
    async put(scope: ThrottleScope, key: string, s: ThrottleState, now: Date) {
      await db
        .updateTable('loginThrottle')
        .set({ failedAttempts: s.failedAttempts, failureWindowStartedAt: s.windowStartedAt, lockedUntil: s.lockedUntil, updatedAt: now })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .execute();
    },
    /** Drops rows that carry no state any more: last failure before `staleBefore` and no lock running at `now`. */
    async prune(staleBefore: Date, now: Date) {
      await db
        .deleteFrom('loginThrottle')
        .where('updatedAt', '<', staleBefore)
        .where((eb) => eb.or([eb('lockedUntil', 'is', null), eb('lockedUntil', '<', now)]))
        .execute();
    },
  };
}
export type LoginThrottleRepository = ReturnType<typeof loginThrottleRepository>;
