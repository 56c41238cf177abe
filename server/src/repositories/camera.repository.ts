import type { UploadMode } from '@mamoru/contract/enums';
import type { Db } from '../db/connect.ts';

export type CameraRow = {
  id: string;
  siteId: string;
  key: string;
  name: string;
  place: string | null;
  uploadMode: UploadMode;
  health: string;
  device: unknown;
  lastSegmentAt: Date | null;
};

const COLUMNS = ['id', 'siteId', 'key', 'name', 'place', 'uploadMode', 'health', 'device', 'lastSegmentAt'] as const;

/** A camera as people see it: with its site's name, code and IANA time zone (the viewer shows site-local time). */
export type CameraView = CameraRow & { siteCode: string; siteName: string; timezone: string };

const viewSelect = (db: Db) =>
  db
    .selectFrom('camera')
    .innerJoin('site', 'site.id', 'camera.siteId')
    .select(COLUMNS.map((c) => `camera.${c}` as const))
    .select(['site.code as siteCode', 'site.name as siteName', 'site.timezone as timezone']);

export function cameraRepository(db: Db) {
  return {
    async upsert(c: { siteId: string; key: string; name: string; place: string | null; uploadMode: UploadMode; device: unknown; health: string }): Promise<CameraRow> {
      return db
        .insertInto('camera')
        .values({ siteId: c.siteId, key: c.key, name: c.name, place: c.place, uploadMode: c.uploadMode, device: JSON.stringify(c.device), health: c.health })
        .onConflict((oc) =>
          oc.columns(['siteId', 'key']).doUpdateSet({ name: c.name, place: c.place, uploadMode: c.uploadMode, device: JSON.stringify(c.device), health: c.health }),
        )
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
    },
    async findBySiteAndKey(siteId: string, key: string): Promise<CameraRow | undefined> {
      return db.selectFrom('camera').select(COLUMNS).where('siteId', '=', siteId).where('key', '=', key).executeTakeFirst();
    },
    /** Scoped lookup: a camera outside `siteIds` is as missing as one that does not exist. */
    async findInSites(id: string, siteIds: readonly string[] | 'all'): Promise<CameraView | undefined> {
      let q = viewSelect(db).where('camera.id', '=', id);
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return undefined;
        q = q.where('camera.siteId', 'in', siteIds);
      }
      return q.executeTakeFirst();
    },
    async listInSites(siteIds: readonly string[] | 'all', siteId?: string): Promise<CameraView[]> {
      let q = viewSelect(db).orderBy('site.code').orderBy('camera.key');
      if (siteIds !== 'all') {
        if (siteIds.length === 0) return [];
        q = q.where('camera.siteId', 'in', siteIds);
      }
      if (siteId) q = q.where('camera.siteId', '=', siteId);
      return q.execute();
    },
    async setHealth(id: string, health: string) {
      await db.updateTable('camera').set({ health }).where('id', '=', id).execute();
    },
    async touchLastSegment(id: string, at: Date) {
      await db
        .updateTable('camera')
        .set({ lastSegmentAt: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('lastSegmentAt', 'is', null), eb('lastSegmentAt', '<', at)]))
        .execute();
    },
  };
}
export type CameraRepository = ReturnType<typeof cameraRepository>;
