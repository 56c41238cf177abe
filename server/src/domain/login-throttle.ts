/**
 * Sign-in throttling, pure: the same rules for an account, a login name that matches no account, and a client
 * address, so an unknown login behaves exactly like a known one with a wrong password.
 */

export type ThrottleState = { failedAttempts: number; windowStartedAt: Date | null; lockedUntil: Date | null };
export type ThrottleRule = { maxFailures: number; windowSeconds: number; lockSeconds: number };

export const EMPTY_THROTTLE: ThrottleState = { failedAttempts: 0, windowStartedAt: null, lockedUntil: null };

/** Seconds until the lock ends, or 0 when not locked. */
export function lockedFor(s: ThrottleState, now: Date): number {
  if (!s.lockedUntil || s.lockedUntil.getTime() <= now.getTime()) return 0;
  return Math.ceil((s.lockedUntil.getTime() - now.getTime()) / 1000);
}

/**
 * One more failure. Failures count inside a window that opens with the first of them; the failure that reaches
 * `maxFailures` locks for `lockSeconds` and starts the count again.
 */
export function afterFailure(s: ThrottleState, now: Date, rule: ThrottleRule): ThrottleState {
  const windowOpen = s.windowStartedAt !== null && now.getTime() - s.windowStartedAt.getTime() < rule.windowSeconds * 1000;
  const failedAttempts = (windowOpen ? s.failedAttempts : 0) + 1;
  const windowStartedAt = windowOpen ? s.windowStartedAt : now;
  if (failedAttempts >= rule.maxFailures) {
    return { failedAttempts: 0, windowStartedAt: null, lockedUntil: new Date(now.getTime() + rule.lockSeconds * 1000) };
  }
  return { failedAttempts, windowStartedAt, lockedUntil: lockedFor(s, now) > 0 ? s.lockedUntil : null };
}

export const afterSuccess = (): ThrottleState => EMPTY_THROTTLE;
