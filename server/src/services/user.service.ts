import type { Clock } from '../adapters/clock.ts';
import { hashSecret } from '../adapters/crypto.ts';
import { EMPTY_THROTTLE } from '../domain/login-throttle.ts';
import { LOGIN_PATTERN, normalizeLogin, passwordProblem } from '../domain/password-policy.ts';
import { type Principal, type Role, ROLES, roleHasSites } from '../domain/principal.ts';
import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import type { SiteRepository } from '../repositories/site.repository.ts';
import type { UserRecord, UserRepository, UserSite } from '../repositories/user.repository.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

export type UserView = {
  id: string;
  login: string;
  displayName: string;
  role: Role;
  active: boolean;
  sites: { id: string; code: string; name: string }[];
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
};

const view = (u: UserRecord, sites: UserSite[], now: Date): UserView => ({
  id: u.id,
  login: u.login,
  displayName: u.displayName,
  role: u.role,
  active: u.active,
  sites: sites.map((s) => ({ id: s.siteId, code: s.code, name: s.name })),
  lockedUntil: u.throttle.lockedUntil && u.throttle.lockedUntil > now ? u.throttle.lockedUntil : null,
  lastLoginAt: u.lastLoginAt,
  createdAt: u.createdAt,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** People, roles and site assignments (admin only; the command line acts as the system). Every change is audited. */
export function userService(deps: { tx: Transactor; users: UserRepository; sites: SiteRepository; audit: AuditService; clock: Clock }) {
  const { tx, users, sites, audit, clock } = deps;

  async function resolveSites(role: Role, siteIds: readonly string[]) {
    const unique = [...new Set(siteIds)];
    if (unique.length && !roleHasSites(role)) throw badRequest('sites_not_applicable', `role ${role} is not bound to sites (hq sees all; auditor and admin see no footage)`);
    const found = await sites.findByIds(unique.filter((id) => UUID.test(id)));
    const missing = unique.filter((id) => !found.some((s) => s.id === id));
    if (missing.length) throw badRequest('site_not_found', `no site with id ${missing.join(', ')}`, { missing });
    return found;
  }

  async function existing(r: Repositories | { users: UserRepository }, id: string, lock = false) {
    const u = UUID.test(id) ? await (lock ? r.users.findByIdForUpdate(id) : r.users.findById(id)) : undefined;
    if (!u) throw notFound('user_not_found', 'user not found');
    return u;
  }

  async function load(id: string) {
    const u = (await users.findById(id))!;
    return view(u, await users.sitesOf(id), clock.now());
  }

  return {
    async list(p: Principal): Promise<UserView[]> {
      ensureCan(p, 'users:manage');
      const all = await users.list();
      const bySite = await users.sitesOfMany(all.map((u) => u.id));
      const now = clock.now();
      await audit.record(p, { action: 'user.list', details: { count: all.length } });
      return all.map((u) => view(u, bySite.get(u.id) ?? [], now));
    },

    async get(p: Principal, id: string): Promise<UserView> {
      ensureCan(p, 'users:manage');
      await existing({ users }, id);
      const v = await load(id);
      await audit.record(p, { action: 'user.view', targetType: 'user', targetId: id });
      return v;
    },

    async create(p: Principal, input: { login: string; displayName: string; role: Role; password: string; siteIds?: readonly string[] }): Promise<UserView> {
      ensureCan(p, 'users:manage');
      const login = normalizeLogin(input.login);
      if (!LOGIN_PATTERN.test(login)) throw badRequest('invalid_login', 'login: 3–64 of a-z 0-9 . _ @ -, starting with a letter or digit');
      if (!ROLES.includes(input.role)) throw badRequest('invalid_role', `role must be one of ${ROLES.join(', ')}`);
      const displayName = input.displayName.trim();
      if (!displayName || displayName.length > 200) throw badRequest('invalid_display_name', 'display name: 1–200 characters');
      const problem = passwordProblem(input.password, login);
      if (problem) throw badRequest('weak_password', `password: ${problem}`);
      const siteRows = await resolveSites(input.role, input.siteIds ?? []);
      const passwordHash = await hashSecret(input.password);
      const now = clock.now();
      const id = await tx(async (r) => {
        const u = await r.users.create({ login, displayName, passwordHash, role: input.role, now });
        if (!u) throw conflict('login_taken', `login ${login} is taken`);
        await r.users.setSites(u.id, siteRows.map((s) => s.id), now);
        await audit.recordWithin(r, p, { action: 'user.create', targetType: 'user', targetId: u.id, details: { login, role: input.role, displayName, sites: siteRows.map((s) => s.code).sort() } });
        return u.id;
      });
      return load(id);
    },

    /** Display name, role, active. A role or activity change ends the person's sessions. */
    async update(p: Principal, id: string, patch: { displayName?: string; role?: Role; active?: boolean }): Promise<UserView> {
      ensureCan(p, 'users:manage');
      if (patch.role !== undefined && !ROLES.includes(patch.role)) throw badRequest('invalid_role', `role must be one of ${ROLES.join(', ')}`);
      const displayName = patch.displayName?.trim();
      if (displayName !== undefined && (!displayName || displayName.length > 200)) throw badRequest('invalid_display_name', 'display name: 1–200 characters');
      const now = clock.now();
      await tx(async (r) => {
        const u = await existing(r, id, true);
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        if (displayName !== undefined && displayName !== u.displayName) changes.displayName = { from: u.displayName, to: displayName };
        if (patch.role !== undefined && patch.role !== u.role) changes.role = { from: u.role, to: patch.role };
        if (patch.active !== undefined && patch.active !== u.active) changes.active = { from: u.active, to: patch.active };
        const losesAdmin = u.role === 'admin' && u.active && (changes.role || changes.active);
        if (losesAdmin) {
          const admins = await r.users.activeAdminIdsForUpdate();
          if (admins.length <= 1) throw conflict('last_admin', 'this is the last active admin; make another admin first');
        }
        await r.users.update(id, { displayName, role: patch.role, active: patch.active }, now);
        let sessionsRevoked = 0;
        let sitesCleared: string[] = [];
        if (changes.role && !roleHasSites(patch.role!)) {
          sitesCleared = (await r.users.sitesOf(id)).map((s) => s.code);
          await r.users.setSites(id, [], now);
        }
        if (changes.role || changes.active) sessionsRevoked = await r.sessions.revokeAllForUser(id, now, changes.active ? 'deactivated' : 'role_changed');
        await audit.recordWithin(r, p, { action: 'user.update', targetType: 'user', targetId: id, details: { changes, sessionsRevoked, ...(sitesCleared.length && { sitesCleared }) } });
      });
      return load(id);
    },

    /** Replaces the sites a store manager owns or a security officer is assigned to. */
    async setSites(p: Principal, id: string, siteIds: readonly string[], mode: 'replace' | 'add' = 'replace'): Promise<UserView> {
      ensureCan(p, 'users:manage');
      const u = await existing({ users }, id);
      if (!roleHasSites(u.role)) throw badRequest('sites_not_applicable', `role ${u.role} is not bound to sites (hq sees all; auditor and admin see no footage)`);
      const rows = await resolveSites(u.role, siteIds);
      const now = clock.now();
      await tx(async (r) => {
        const before = await r.users.sitesOf(id);
        const next = mode === 'add' ? [...new Set([...before.map((s) => s.siteId), ...rows.map((s) => s.id)])] : rows.map((s) => s.id);
        await r.users.setSites(id, next, now);
        const after = await r.users.sitesOf(id);
        await audit.recordWithin(r, p, { action: 'user.sites', targetType: 'user', targetId: id, details: { from: before.map((s) => s.code), to: after.map((s) => s.code) } });
      });
      return load(id);
    },

    /** Sets a new password, lifts any lock and ends every session of the person. */
    async resetPassword(p: Principal, id: string, password: string) {
      ensureCan(p, 'users:manage');
      const u = await existing({ users }, id);
      const problem = passwordProblem(password, u.login);
      if (problem) throw badRequest('weak_password', `password: ${problem}`);
      const hash = await hashSecret(password);
      const now = clock.now();
      await tx(async (r) => {
        await r.users.setPassword(id, hash, now);
        await r.users.setThrottle(id, EMPTY_THROTTLE);
        const sessionsRevoked = await r.sessions.revokeAllForUser(id, now, 'password_reset');
        await audit.recordWithin(r, p, { action: 'user.password_reset', targetType: 'user', targetId: id, details: { sessionsRevoked } });
      });
    },

    async unlock(p: Principal, id: string): Promise<UserView> {
      ensureCan(p, 'users:manage');
      await tx(async (r) => {
        const u = await existing(r, id, true);
        await r.users.setThrottle(id, EMPTY_THROTTLE);
        await audit.recordWithin(r, p, { action: 'user.unlock', targetType: 'user', targetId: id, details: { wasLockedUntil: u.throttle.lockedUntil?.toISOString() ?? null } });
      });
      return load(id);
    },

    /** For the command line: a user by login name. */
    async findByLogin(login: string) {
      return users.findByLogin(normalizeLogin(login));
    },
  };
}
export type UserService = ReturnType<typeof userService>;
