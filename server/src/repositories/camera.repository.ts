import type { Db } from '../db/connect.ts';

export type CameraRow = {
  id: string;
  site_id: string;
  key: string;
  name: string;
  place: string | null;
  upload_mode: 'continuous' | 'on-demand';
  health: string;
  device: unknown;
  last_segment_at: Date | null;
};

const COLUMNS = ['id', 'site_id', 'key', 'name', 'place', 'upload_mode', 'health', 'device', 'last_segment_at'] as const;

/** A camera as people see it: with its site's name, code and IANA time zone (the viewer shows site-local time). */
export type CameraView = CameraRow & { site_code: string; site_name: string; timezone: string };

const viewSelect = (db: Db) =>
  db
    .selectFrom('camera')
    .innerJoin('site', 'site.id', 'camera.site_id')
    .select(COLUMNS.map((c) => `camera.${c}` as const))
    .select(['site.code as site_code', 'site.name as site_name', 'site.timezone as timezone']);

export function cameraRepository(db: Db) {
  return {
    async upsert(c: { siteId: string; key: string; name: string; place: string | null; uploadMode: 'continuous' | 'on-demand'; device: unknown; health: string }): Promise<CameraRow> {
      return db
        .insertInto('camera')
        .values({ site_id: c.siteId, key: c.key, name: c.name, place: c.place, upload_mode: c.uploadMode, device: JSON.stringify(c.device), health: c.health })
        .onConflict((oc) =>
          oc.columns(['site_id', 'key']).doUpdateSet({ name: c.name, place: c.place, upload_mode: c.uploadMode, device: JSON.stringify(c.device), health: c.health }),
        )
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
    },
    async findBySiteAndKey(siteId: string, key: string): Promise<CameraRow | undefined> {
      return db.selectFrom('camera').select(COLUMNS).where('site_id', '=', siteId).where('key', '=', key).executeTakeFirst();
    },
    /** Scoped lookup: a camera outside `siteIds` is as missing as one that does not exist. */
    async findInSites(id: string, siteIds: readonly string[] | 'all'): Promise<CameraView | undefined> {
      let q = viewSelect(db).where('camera.id', '=', id);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return undefined;
        q = q.where('camera.site_id', 'in', siteIds);
      }
      return q.executeTakeFirst();
    },
    async listInSites(siteIds: readonly string[] | 'all', siteId?: string): Promise<CameraView[]> {
      let q = viewSelect(db).orderBy('site.code').orderBy('camera.key');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('camera.site_id', 'in', siteIds);
      }
      if (siteId) q = q.where('camera.site_id', '=', siteId);
      return q.execute();
    },
    async setHealth(id: string, health: string) {
      await db.updateTable('camera').set({ health }).where('id', '=', id).execute();
    },
    async touchLastSegment(id: string, at: Date) {
      await db
        .updateTable('camera')
        .set({ last_segment_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_segment_at', 'is', null), eb('last_segment_at', '<', at)]))
        .execute();
    },
  };
}
export type CameraRepository = ReturnType<typeof cameraRepository>;
