import type { Db } from '../db/connect.ts';
import { EMPTY_THROTTLE, type ThrottleState } from '../domain/login-throttle.ts';

export type ThrottleScope = 'ip' | 'login';

export function loginThrottleRepository(db: Db) {
  const select = (scope: ThrottleScope, key: string) =>
    db.selectFrom('login_throttle').select(['failed_attempts', 'failure_window_started_at', 'locked_until']).where('scope', '=', scope).where('key', '=', key);
  const toState = (r: { failed_attempts: number; failure_window_started_at: Date | null; locked_until: Date | null } | undefined): ThrottleState =>
    r ? { failedAttempts: r.failed_attempts, windowStartedAt: r.failure_window_started_at, lockedUntil: r.locked_until } : EMPTY_THROTTLE;
  return {
    async get(scope: ThrottleScope, key: string): Promise<ThrottleState> {
      return toState(await select(scope, key).executeTakeFirst());
    },
    /** Creates the row if needed and locks it (inside a transaction). */
    async getForUpdate(scope: ThrottleScope, key: string, now: Date): Promise<ThrottleState> {
      await db.insertInto('login_throttle').values({ scope, key, updated_at: now }).onConflict((oc) => oc.columns(['scope', 'key']).doNothing()).execute();
      return toState(await select(scope, key).forUpdate().executeTakeFirst());
    },
    async put(scope: ThrottleScope, key: string, s: ThrottleState, now: Date) {
      await db
        .updateTable('login_throttle')
        .set({ failed_attempts: s.failedAttempts, failure_window_started_at: s.windowStartedAt, locked_until: s.lockedUntil, updated_at: now })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .execute();
    },
    /** Drops rows that carry no state any more: last failure before `staleBefore` and no lock running at `now`. */
    async prune(staleBefore: Date, now: Date) {
      await db
        .deleteFrom('login_throttle')
        .where('updated_at', '<', staleBefore)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .execute();
    },
  };
}
export type LoginThrottleRepository = ReturnType<typeof loginThrottleRepository>;
