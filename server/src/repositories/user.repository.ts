import type { Db } from '../db/connect.ts';
import type { Role } from '../db/schema.ts';
import type { ThrottleState } from '../domain/login-throttle.ts';

export type UserRecord = {
  id: string;
  login: string;
  displayName: string;
  role: Role;
  active: boolean;
  passwordHash: string;
  throttle: ThrottleState;
  lastLoginAt: Date | null;
  passwordChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = [
  'id',
  'login',
  'display_name',
  'role',
  'active',
  'password_hash',
  'failed_attempts',
  'failure_window_started_at',
  'locked_until',
  'last_login_at',
  'password_changed_at',
  'created_at',
  'updated_at',
] as const;

type Row = {
  id: string;
  login: string;
  display_name: string;
  role: Role;
  active: boolean;
  password_hash: string;
  failed_attempts: number;
  failure_window_started_at: Date | null;
  locked_until: Date | null;
  last_login_at: Date | null;
  password_changed_at: Date;
  created_at: Date;
  updated_at: Date;
};

const toRecord = (r: Row): UserRecord => ({
  id: r.id,
  login: r.login,
  displayName: r.display_name,
  role: r.role,
  active: r.active,
  passwordHash: r.password_hash,
  throttle: { failedAttempts: r.failed_attempts, windowStartedAt: r.failure_window_started_at, lockedUntil: r.locked_until },
  lastLoginAt: r.last_login_at,
  passwordChangedAt: r.password_changed_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type UserSite = { siteId: string; code: string; name: string; timezone: string };

export function userRepository(db: Db) {
  return {
    /** Inserts a user; null when the login is taken. */
    async create(u: { login: string; displayName: string; passwordHash: string; role: Role; now: Date }): Promise<UserRecord | null> {
      const row = await db
        .insertInto('app_user')
        .values({ login: u.login, display_name: u.displayName, password_hash: u.passwordHash, role: u.role, password_changed_at: u.now, created_at: u.now, updated_at: u.now })
        .onConflict((oc) => oc.column('login').doNothing())
        .returning(COLUMNS)
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },
    async findByLogin(login: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('app_user').select(COLUMNS).where('login', '=', login).executeTakeFirst();
      return r && toRecord(r);
    },
    async findById(id: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('app_user').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return r && toRecord(r);
    },
    /** The row locked for a read-modify-write (inside a transaction). */
    async findByIdForUpdate(id: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('app_user').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
      return r && toRecord(r);
    },
    async list(): Promise<UserRecord[]> {
      const rows = await db.selectFrom('app_user').select(COLUMNS).orderBy('login').execute();
      return rows.map(toRecord);
    },
    async sitesOf(userId: string): Promise<UserSite[]> {
      return db
        .selectFrom('user_site')
        .innerJoin('site', 'site.id', 'user_site.site_id')
        .select(['site.id as siteId', 'site.code', 'site.name', 'site.timezone'])
        .where('user_site.user_id', '=', userId)
        .orderBy('site.code')
        .execute();
    },
    async sitesOfMany(userIds: readonly string[]): Promise<Map<string, UserSite[]>> {
      const out = new Map<string, UserSite[]>();
      if (userIds.length === 0) return out;
      const rows = await db
        .selectFrom('user_site')
        .innerJoin('site', 'site.id', 'user_site.site_id')
        .select(['user_site.user_id', 'site.id as siteId', 'site.code', 'site.name', 'site.timezone'])
        .where('user_site.user_id', 'in', userIds)
        .orderBy('site.code')
        .execute();
      for (const { user_id, ...s } of rows) out.set(user_id, [...(out.get(user_id) ?? []), s]);
      return out;
    },
    /** Replaces the user's site rows. */
    async setSites(userId: string, siteIds: readonly string[], now: Date) {
      await db.deleteFrom('user_site').where('user_id', '=', userId).execute();
      if (siteIds.length) await db.insertInto('user_site').values(siteIds.map((site_id) => ({ user_id: userId, site_id, created_at: now }))).execute();
    },
    async update(id: string, patch: { displayName?: string; role?: Role; active?: boolean }, now: Date) {
      await db
        .updateTable('app_user')
        .set({
          ...(patch.displayName !== undefined && { display_name: patch.displayName }),
          ...(patch.role !== undefined && { role: patch.role }),
          ...(patch.active !== undefined && { active: patch.active }),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
    },
    async setThrottle(id: string, s: ThrottleState) {
      await db
        .updateTable('app_user')
        .set({ failed_attempts: s.failedAttempts, failure_window_started_at: s.windowStartedAt, locked_until: s.lockedUntil })
        .where('id', '=', id)
        .execute();
    },
    async recordLogin(id: string, now: Date) {
      await db
        .updateTable('app_user')
        .set({ last_login_at: now, failed_attempts: 0, failure_window_started_at: null, locked_until: null })
        .where('id', '=', id)
        .execute();
    },
    async setPassword(id: string, passwordHash: string, now: Date) {
      await db.updateTable('app_user').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now }).where('id', '=', id).execute();
    },
    /** Active admins, locked (inside a transaction) so two demotions cannot both pass a last-admin check. */
    async activeAdminIdsForUpdate(): Promise<string[]> {
      const rows = await db.selectFrom('app_user').select('id').where('role', '=', 'admin').where('active', '=', true).forUpdate().execute();
      return rows.map((r) => r.id);
    },
  };
}
export type UserRepository = ReturnType<typeof userRepository>;
