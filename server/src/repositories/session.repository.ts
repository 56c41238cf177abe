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
        .values({ token_hash: s.tokenHash, user_id: s.userId, created_at: s.now, expires_at: s.expiresAt, last_seen_at: s.now, ip: s.ip, user_agent: s.userAgent })
        .returning(['id', 'expires_at'])
        .executeTakeFirstOrThrow();
    },
    async findByTokenHash(tokenHash: string): Promise<SessionWithUser | undefined> {
      return db
        .selectFrom('session')
        .innerJoin('app_user', 'app_user.id', 'session.user_id')
        .select([
          'session.id',
          'session.user_id as userId',
          'session.created_at as createdAt',
          'session.expires_at as expiresAt',
          'session.last_seen_at as lastSeenAt',
          'session.revoked_at as revokedAt',
          'app_user.login',
          'app_user.display_name as displayName',
          'app_user.role',
          'app_user.active',
        ])
        .where('session.token_hash', '=', tokenHash)
        .executeTakeFirst();
    },
    async touch(id: string, now: Date) {
      await db.updateTable('session').set({ last_seen_at: now }).where('id', '=', id).where('last_seen_at', '<', now).execute();
    },
    /** Revokes one session; false when it was already revoked. */
    async revoke(id: string, now: Date, reason: string): Promise<boolean> {
      const r = await db.updateTable('session').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Revokes every live session of a user (optionally but one); returns how many. */
    async revokeAllForUser(userId: string, now: Date, reason: string, exceptId?: string): Promise<number> {
      let q = db.updateTable('session').set({ revoked_at: now, revoked_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now);
      if (exceptId) q = q.where('id', '!=', exceptId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}
export type SessionRepository = ReturnType<typeof sessionRepository>;
