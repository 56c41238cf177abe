import type { Db } from '../db/connect.ts';

export type SiteRow = { id: string; code: string; name: string; timezone: string };

/** The camera signage notice: what the sign says, where it is posted, since when (a calendar day). */
export type CameraNotice = { text: string; place: string | null; since: string | null };
export type SiteDetail = SiteRow & { address: string | null; cameraNotice: CameraNotice | null; pbxNoticeText: string | null; createdAt: Date };
export type SitePatch = { name?: string; timezone?: string; address?: string | null; cameraNotice?: CameraNotice | null; pbxNoticeText?: string | null };

const detailColumns = ['id', 'code', 'name', 'timezone', 'address', 'cameraNotice', 'pbxNoticeText', 'createdAt'] as const;
type DetailRow = Omit<SiteDetail, 'cameraNotice'> & { cameraNotice: unknown };
/** jsonb comes back untyped: the notice is what the service wrote (CameraNotice or null). */
const toDetail = (r: DetailRow): SiteDetail => ({ ...r, cameraNotice: (r.cameraNotice as CameraNotice | null) ?? null });

export function siteRepository(db: Db) {
  return {
    /** Everything about sites (for the admin page), in a scope. */
    async listDetails(siteIds: readonly string[] | 'all'): Promise<SiteDetail[]> {
      let q = db.selectFrom('site').select(detailColumns).orderBy('code');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('id', 'in', siteIds);
      }
      return (await q.execute()).map(toDetail);
    },
    async findDetail(id: string, forUpdate = false): Promise<SiteDetail | undefined> {
      let q = db.selectFrom('site').select(detailColumns).where('id', '=', id);
      if (forUpdate) q = q.forUpdate();
      const r = await q.executeTakeFirst();
      return r && toDetail(r);
    },
    async createDetail(s: { code: string; name: string; timezone: string; address: string | null; cameraNotice: CameraNotice | null; pbxNoticeText: string | null }): Promise<SiteDetail | undefined> {
      const r = await db
        .insertInto('site')
        .values({ code: s.code, name: s.name, timezone: s.timezone, address: s.address, cameraNotice: s.cameraNotice === null ? null : JSON.stringify(s.cameraNotice), pbxNoticeText: s.pbxNoticeText })
        .onConflict((oc) => oc.column('code').doNothing())
        .returning(detailColumns)
        .executeTakeFirst();
      return r && toDetail(r);
    },
    async update(id: string, p: SitePatch) {
      await db
        .updateTable('site')
        .set({
          ...(p.name !== undefined && { name: p.name }),
          ...(p.timezone !== undefined && { timezone: p.timezone }),
          ...(p.address !== undefined && { address: p.address }),
          ...(p.cameraNotice !== undefined && { cameraNotice: p.cameraNotice === null ? null : JSON.stringify(p.cameraNotice) }),
          ...(p.pbxNoticeText !== undefined && { pbxNoticeText: p.pbxNoticeText }),
        })
        .where('id', '=', id)
        .execute();
    },
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
