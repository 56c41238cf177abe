import type { Clock } from '../adapters/clock.ts';
import { hashSecret, randomToken, sha256Hex, verifySecret } from '../adapters/crypto.ts';
import { afterFailure, EMPTY_THROTTLE, lockedFor, type ThrottleRule, type ThrottleState } from '../domain/login-throttle.ts';
import { normalizeLogin, passwordProblem } from '../domain/password-policy.ts';
import { scrubText } from '../domain/text.ts';
import { type RequestOrigin, roleCapabilities, roleHasSites, siteScopeForRole, type UserPrincipal } from '../domain/principal.ts';
import { badRequest, forbidden, tooManyAttempts, unauthorized } from '../domain/errors.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import type { LoginThrottleRepository } from '../repositories/login-throttle.repository.ts';
import type { SessionRepository } from '../repositories/session.repository.ts';
import type { UserRecord, UserRepository } from '../repositories/user.repository.ts';
import type { AuditService } from './audit.service.ts';

export type AuthSettings = {
  /** Absolute session lifetime. */
  sessionTtlSeconds: number;
  /** A session unused for this long ends. */
  sessionIdleSeconds: number;
  /** Failed sign-ins per account (and per login name that matches no account). */
  account: ThrottleRule;
  /** Failed sign-ins per client address. */
  ip: ThrottleRule;
};

const TOKEN = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url

const tooMany = (seconds: number) =>
  tooManyAttempts('too_many_attempts', `too many failed sign-ins; try again in ${seconds} s`, seconds);
const invalidCredentials = () => unauthorized('invalid_credentials', 'login or password is wrong');

export type Me = {
  id: string;
  login: string;
  displayName: string;
  role: UserRecord['role'];
  capabilities: string[];
  /** Sites whose footage this person may see: 'all' (hq) or a list (store managers' own, security's assigned; none for auditor and admin). */
  sites: 'all' | { id: string; code: string; name: string; timezone: string }[];
};

/**
 * People's sign-in: passwords (scrypt), sessions in PostgreSQL, throttling per account and per client address.
 * An unknown login and a wrong password give the same answer, take about the same time and count the same way.
 */
export function authService(deps: { tx: Transactor; users: UserRepository; sessions: SessionRepository; throttle: LoginThrottleRepository; audit: AuditService; clock: Clock; settings: AuthSettings }) {
  const { tx, users, sessions, throttle, audit, clock, settings } = deps;
  let dummyHash: Promise<string> | undefined;
  const touchEveryMs = Math.min(60, settings.sessionIdleSeconds / 10) * 1000;

  async function me(userId: string, role: UserRecord['role']): Promise<Omit<Me, 'id' | 'login' | 'displayName' | 'role'>> {
    const sites = roleHasSites(role) ? (await users.sitesOf(userId)).map((s) => ({ id: s.siteId, code: s.code, name: s.name, timezone: s.timezone })) : [];
    return { capabilities: [...roleCapabilities(role)], sites: role === 'hq' ? 'all' : sites };
  }

  /** One failed attempt against an account (or unknown login) and the client address, with its audit event. */
  async function recordFailure(login: string, user: UserRecord | undefined, origin: RequestOrigin, reason: string) {
    const now = clock.now();
    return tx(async (r: Repositories) => {
      let next: ThrottleState;
      if (user) {
        const locked = (await r.users.findByIdForUpdate(user.id))!;
        next = afterFailure(locked.throttle, now, settings.account);
        await r.users.setThrottle(user.id, next);
      } else {
        next = afterFailure(await r.throttle.getForUpdate('login', login, now), now, settings.account);
        await r.throttle.put('login', login, next, now);
      }
      if (origin.ip) {
        const ipNext = afterFailure(await r.throttle.getForUpdate('ip', origin.ip, now), now, settings.ip);
        await r.throttle.put('ip', origin.ip, ipNext, now);
      }
      await audit.recordWithin(r, { kind: 'anonymous', label: login, origin }, {
        action: 'auth.login',
        outcome: 'failure',
        targetType: user ? 'user' : null,
        targetId: user?.id ?? null,
        details: { reason, ...(next.lockedUntil && { lockedUntil: next.lockedUntil.toISOString() }) },
      });
    });
  }

  async function refuseLocked(login: string, user: UserRecord | undefined, origin: RequestOrigin, reason: string, seconds: number): Promise<never> {
    await audit.record({ kind: 'anonymous', label: login, origin }, {
      action: 'auth.login',
      outcome: 'failure',
      targetType: user ? 'user' : null,
      targetId: user?.id ?? null,
      details: { reason, retryAfterSeconds: seconds },
    });
    throw tooMany(seconds);
  }

  return {
    async login(input: { login: string; password: string }, origin: RequestOrigin): Promise<{ token: string; sessionId: string; expiresAt: Date; user: Me }> {
      const login = normalizeLogin(input.login).slice(0, 200);
      const now = clock.now();
      if (origin.ip) {
        const wait = lockedFor(await throttle.get('ip', origin.ip), now);
        if (wait > 0) return refuseLocked(login, undefined, origin, 'ip_locked', wait);
      }
      const user = await users.findByLogin(login);
      const wait = lockedFor(user ? user.throttle : await throttle.get('login', login), now);
      if (wait > 0) return refuseLocked(login, user, origin, 'account_locked', wait);

      // Same work whether or not the account exists.
      dummyHash ??= hashSecret(randomToken());
      const ok = await verifySecret(input.password, user ? user.passwordHash : await dummyHash);
      if (!user || !ok || !user.active) {
        await recordFailure(login, user, origin, !user ? 'unknown_login' : !ok ? 'wrong_password' : 'inactive');
        // Keep the throttle table to the addresses and names that still carry state.
        const window = Math.max(settings.account.windowSeconds, settings.ip.windowSeconds) * 1000;
        await throttle.prune(new Date(now.getTime() - window), now);
        throw invalidCredentials();
      }

      const token = randomToken();
      const at = clock.now();
      const expiresAt = new Date(at.getTime() + settings.sessionTtlSeconds * 1000);
      const session = await tx(async (r) => {
        await r.users.recordLogin(user.id, at);
        const s = await r.sessions.create({ tokenHash: sha256Hex(token), userId: user.id, now: at, expiresAt, ip: origin.ip, userAgent: origin.userAgent });
        await audit.recordWithin(r, { kind: 'user', userId: user.id, login: user.login, role: user.role, siteIds: [], sessionId: s.id, origin }, {
          action: 'auth.login',
          targetType: 'session',
          targetId: s.id,
          details: { expiresAt: expiresAt.toISOString() },
        });
        return s;
      });
      return { token, sessionId: session.id, expiresAt, user: { id: user.id, login: user.login, displayName: user.displayName, role: user.role, ...(await me(user.id, user.role)) } };
    },

    /**
     * A sign-in refused before its password is checked because its text holds a NUL or a lone surrogate (the
     * HTTP layer answers 400 `invalid_text`): it still counts as a failed attempt against the (cleaned) login and the
     * client address, and is audited, like any other failed sign-in.
     */
    async recordRefusedSignIn(typedLogin: string, origin: RequestOrigin, reason: string): Promise<void> {
      const login = scrubText(normalizeLogin(typedLogin)).slice(0, 200);
      const user = login ? await users.findByLogin(login) : undefined;
      await recordFailure(login, user, origin, reason);
    },

    /** The session cookie's token → the person's principal with their role and site scope, or 401. */
    async authenticate(token: string | undefined, origin: RequestOrigin): Promise<UserPrincipal> {
      if (!token) throw unauthorized('authentication_required', 'sign in first');
      if (!TOKEN.test(token)) throw unauthorized('session_invalid', 'session is not valid; sign in again');
      const s = await sessions.findByTokenHash(sha256Hex(token));
      if (!s || s.revokedAt) throw unauthorized('session_invalid', 'session is not valid; sign in again');
      const now = clock.now();
      if (now.getTime() >= s.expiresAt.getTime() || now.getTime() - s.lastSeenAt.getTime() >= settings.sessionIdleSeconds * 1000) {
        throw unauthorized('session_expired', 'session expired; sign in again');
      }
      if (!s.active) throw unauthorized('session_invalid', 'session is not valid; sign in again');
      const assigned = roleHasSites(s.role) ? (await users.sitesOf(s.userId)).map((x) => x.siteId) : [];
      if (now.getTime() - s.lastSeenAt.getTime() >= touchEveryMs) await sessions.touch(s.id, now);
      return { kind: 'user', userId: s.userId, login: s.login, role: s.role, siteIds: siteScopeForRole(s.role, assigned), sessionId: s.id, origin };
    },

    async logout(p: UserPrincipal) {
      await tx(async (r) => {
        await r.sessions.revoke(p.sessionId, clock.now(), 'logout');
        await audit.recordWithin(r, p, { action: 'auth.logout', targetType: 'session', targetId: p.sessionId });
      });
    },

    async me(p: UserPrincipal): Promise<Me> {
      const u = await users.findById(p.userId);
      if (!u) throw unauthorized('session_invalid', 'session is not valid; sign in again');
      return { id: u.id, login: u.login, displayName: u.displayName, role: u.role, ...(await me(u.id, u.role)) };
    },

    /** A person changes their own password; every other session of theirs ends. */
    async changePassword(p: UserPrincipal, current: string, next: string) {
      const u = await users.findById(p.userId);
      if (!u) throw unauthorized('session_invalid', 'session is not valid; sign in again');
      const wait = lockedFor(u.throttle, clock.now());
      if (wait > 0) throw tooMany(wait);
      if (!(await verifySecret(current, u.passwordHash))) {
        const now = clock.now();
        await tx(async (r) => {
          const locked = (await r.users.findByIdForUpdate(u.id))!;
          await r.users.setThrottle(u.id, afterFailure(locked.throttle, now, settings.account));
          await audit.recordWithin(r, p, { action: 'auth.password_change', outcome: 'failure', targetType: 'user', targetId: u.id, details: { reason: 'wrong_current_password' } });
        });
        throw forbidden('current_password_wrong', 'the current password is wrong');
      }
      const problem = passwordProblem(next, u.login);
      if (problem) throw badRequest('weak_password', `new password: ${problem}`);
      if (next === current) throw badRequest('password_unchanged', 'the new password is the current one');
      const hash = await hashSecret(next);
      const now = clock.now();
      await tx(async (r) => {
        await r.users.setPassword(u.id, hash, now);
        await r.users.setThrottle(u.id, EMPTY_THROTTLE);
        const revoked = await r.sessions.revokeAllForUser(u.id, now, 'password_changed', p.sessionId);
        await audit.recordWithin(r, p, { action: 'auth.password_change', targetType: 'user', targetId: u.id, details: { otherSessionsRevoked: revoked } });
      });
    },
  };
}
export type AuthService = ReturnType<typeof authService>;
