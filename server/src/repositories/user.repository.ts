import type { Db } from '../db/connect.ts';
import type { Selectable } from 'kysely';
import type { AppUserTable, Role } from '../db/schema.ts';
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
  'displayName',
  'role',
  'active',
  'passwordHash',
  'failedAttempts',
  'failureWindowStartedAt',
  'lockedUntil',
  'lastLoginAt',
  'passwordChangedAt',
  'createdAt',
  'updatedAt',
] as const;

type Row = Pick<Selectable<AppUserTable>, (typeof COLUMNS)[number]>;

const toRecord = ({ failedAttempts, failureWindowStartedAt, lockedUntil, ...r }: Row): UserRecord => ({
  ...r,
  throttle: { failedAttempts, windowStartedAt: failureWindowStartedAt, lockedUntil },
});

export type UserSite = { siteId: string; code: string; name: string; timezone: string };

export function userRepository(db: Db) {
  return {
    /** Inserts a user; null when the login is taken. */
    async create(u: { login: string; displayName: string; passwordHash: string; role: Role; now: Date }): Promise<UserRecord | null> {
      const row = await db
        .insertInto('appUser')
        .values({ login: u.login, displayName: u.displayName, passwordHash: u.passwordHash, role: u.role, passwordChangedAt: u.now, createdAt: u.now, updatedAt: u.now })
        .onConflict((oc) => oc.column('login').doNothing())
        .returning(COLUMNS)
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },
    async findByLogin(login: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('appUser').select(COLUMNS).where('login', '=', login).executeTakeFirst();
      return r && toRecord(r);
    },
    async findById(id: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('appUser').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return r && toRecord(r);
    },
    /** The row locked for a read-modify-write (inside a transaction). */
    async findByIdForUpdate(id: string): Promise<UserRecord | undefined> {
      const r = await db.selectFrom('appUser').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
      return r && toRecord(r);
    },
    async list(): Promise<UserRecord[]> {
      const rows = await db.selectFrom('appUser').select(COLUMNS).orderBy('login').execute();
      return rows.map(toRecord);
    },
    async sitesOf(userId: string): Promise<UserSite[]> {
      return db
        .selectFrom('userSite')
        .innerJoin('site', 'site.id', 'userSite.siteId')
        .select(['site.id as siteId', 'site.code', 'site.name', 'site.timezone'])
        .where('userSite.userId', '=', userId)
        .orderBy('site.code')
        .execute();
    },
    async sitesOfMany(userIds: readonly string[]): Promise<Map<string, UserSite[]>> {
      const out = new Map<string, UserSite[]>();
      if (userIds.length === 0) return out;
      const rows = await db
        .selectFrom('userSite')
        .innerJoin('site', 'site.id', 'userSite.siteId')
        .select(['userSite.userId', 'site.id as siteId', 'site.code', 'site.name', 'site.timezone'])
        .where('userSite.userId', 'in', userIds)
        .orderBy('site.code')
        .execute();
      for (const { userId, ...s } of rows) out.set(userId, [...(out.get(userId) ?? []), s]);
      return out;
    },
    /** Replaces the user's site rows. */
    async setSites(userId: string, siteIds: readonly string[], now: Date) {
      await db.deleteFrom('userSite').where('userId', '=', userId).execute();
      if (siteIds.length) await db.insertInto('userSite').values(siteIds.map((siteId) => ({ userId, siteId, createdAt: now }))).execute();
    },
    async update(id: string, patch: { displayName?: string; role?: Role; active?: boolean }, now: Date) {
      await db
        .updateTable('appUser')
        .set({
          ...(patch.displayName !== undefined && { displayName: patch.displayName }),
          ...(patch.role !== undefined && { role: patch.role }),
          ...(patch.active !== undefined && { active: patch.active }),
          updatedAt: now,
        })
        .where('id', '=', id)
        .execute();
    },
    async setThrottle(id: string, s: ThrottleState) {
      await db
        .updateTable('appUser')
        .set({ failedAttempts: s.failedAttempts, failureWindowStartedAt: s.windowStartedAt, lockedUntil: s.lockedUntil })
        .where('id', '=', id)
        .execute();
    },
    async recordLogin(id: string, now: Date) {
      await db
        .updateTable('appUser')
        .set({ lastLoginAt: now, failedAttempts: 0, failureWindowStartedAt: null, lockedUntil: null })
        .where('id', '=', id)
        .execute();
    },
    async setPassword(id: string, passwordHash: string, now: Date) {
      await db.updateTable('appUser').set({ passwordHash, passwordChangedAt: now, updatedAt: now }).where('id', '=', id).execute();
    },
    /** Active admins, locked (inside a transaction) so two demotions cannot both pass a last-admin check. */
    async activeAdminIdsForUpdate(): Promise<string[]> {
      const rows = await db.selectFrom('appUser').select('id').where('role', '=', 'admin').where('active', '=', true).forUpdate().execute();
      return rows.map((r) => r.id);
    },
  };
}
export type UserRepository = ReturnType<typeof userRepository>;
