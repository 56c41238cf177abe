import type { Db } from '../db/connect.ts';

export type SiteRow = { id: string; code: string; name: string; timezone: string };

export function siteRepository(db: Db) {
  return {
    async create(s: { code: string; name: string; timezone: string; address?: string | null }): Promise<SiteRow> {
      return db
        .insertInto('site')
        .values({ code: s.code, name: s.name, timezone: s.timezone, address: s.address ?? null })
        .returning(['id', 'code', 'name', 'timezone'])
        .executeTakeFirstOrThrow();
    },
    async findByCode(code: string): Promise<SiteRow | undefined> {
      return db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).where('code', '=', code).executeTakeFirst();
    },
    async findById(id: string): Promise<SiteRow | undefined> {
      return db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).where('id', '=', id).executeTakeFirst();
    },
    async list(): Promise<SiteRow[]> {
      return db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).orderBy('code').execute();
    },
    /** Sites inside a scope ('all' or a list of ids). */
    async listInSites(siteIds: readonly string[] | 'all'): Promise<SiteRow[]> {
      let q = db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).orderBy('code');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('id', 'in', siteIds);
      }
      return q.execute();
    },
    async findByCodes(codes: readonly string[]): Promise<SiteRow[]> {
      if (codes.length === 0) return [];
      return db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).where('code', 'in', codes).execute();
    },
    async findByIds(ids: readonly string[]): Promise<SiteRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('site').select(['id', 'code', 'name', 'timezone']).where('id', 'in', ids).execute();
    },
  };
}
export type SiteRepository = ReturnType<typeof siteRepository>;
