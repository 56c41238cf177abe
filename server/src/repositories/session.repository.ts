import type { Db } from '../db/connect.ts';
import type { Role } from '../db/schema.ts';

export type SessionWithUser = {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
  login: string;
  displayName: string;
  role: Role;
  active: boolean;
};

export function sessionRepository(db: Db) {
  return {
    async create(s: { tokenHash: string; userId: string; now: Date; expiresAt: Date; ip: string | null; userAgent: string | null }) {
      return db
        .insertInto('session')
        .values({ tokenHash: s.tokenHash, userId: s.userId, createdAt: s.now, expiresAt: s.expiresAt, lastSeenAt: s.now, ip: s.ip, userAgent: s.userAgent })
        .returning(['id', 'expiresAt'])
        .executeTakeFirstOrThrow();
    },
    async findByTokenHash(tokenHash: string): Promise<SessionWithUser | undefined> {
      return db
        .selectFrom('session')
        .innerJoin('appUser', 'appUser.id', 'session.userId')
        .select([
          'session.id',
          'session.userId',
          'session.createdAt',
          'session.expiresAt',
          'session.lastSeenAt',
          'session.revokedAt',
          'appUser.login',
          'appUser.displayName',
          'appUser.role',
          'appUser.active',
        ])
        .where('session.tokenHash', '=', tokenHash)
        .executeTakeFirst();
    },
    async touch(id: string, now: Date) {
      await db.updateTable('session').set({ lastSeenAt: now }).where('id', '=', id).where('lastSeenAt', '<', now).execute();
    },
    /** Revokes one session; false when it was already revoked. */
    async revoke(id: string, now: Date, reason: string): Promise<boolean> {
      const r = await db.updateTable('session').set({ revokedAt: now, revokedReason: reason }).where('id', '=', id).where('revokedAt', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Revokes every live session of a user (optionally but one); returns how many. */
    async revokeAllForUser(userId: string, now: Date, reason: string, exceptId?: string): Promise<number> {
      let q = db.updateTable('session').set({ revokedAt: now, revokedReason: reason }).where('userId', '=', userId).where('revokedAt', 'is', null).where('expiresAt', '>', now);
      if (exceptId) q = q.where('id', '!=', exceptId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}
export type SessionRepository = ReturnType<typeof sessionRepository>;
