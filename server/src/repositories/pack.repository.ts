/** Evidence packs, their share links, and the narrow reads a build needs (stored segments with arrival times, site notices). */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { PackKind, PackPurpose, PackStatus } from '../domain/pack.ts';

/** Where a playable file lies inside the stored ZIP. */
export type PackContentEntry = { path: string; kind: 'video' | 'audio'; label: string; offset: number; size: number; mediaType: string };

/** What part of the case a pack covers (null lists: everything linked). */
export type PackScope = { cameraWindowIds: string[] | null; callIds: string[] | null; from: string | null; to: string | null };

export type PackRow = {
  id: string;
  siteId: string;
  incidentId: string | null;
  kind: PackKind;
  purpose: PackPurpose;
  reference: string;
  legalBasis: string;
  scope: PackScope;
  status: PackStatus;
  jobId: string | null;
  objectKey: string | null;
  size: number | null;
  fileCount: number | null;
  manifestSha256: string | null;
  signature: string | null;
  keyFingerprint: string | null;
  contents: PackContentEntry[];
  error: string | null;
  requestedBy: string;
  requestedByLogin: string | null;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  downloadCount: number;
};

export type ShareLinkRow = {
  id: string;
  packId: string;
  recipient: string;
  expiresAt: Date;
  maxDownloads: number;
  downloadCount: number;
  passcodeHash: string | null;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokeReason: string | null;
};

/** A stored segment as a pack needs it: bounds, edge hash, clock offset, arrival times. */
export type PackSegmentRow = {
  id: string;
  start: Date;
  end: Date;
  byteSize: number;
  sha256: string;
  clockOffsetMs: number | null;
  objectKey: string | null;
  receivedAt: Date;
  storedAt: Date | null;
  deletedAt: Date | null;
};

const packSelect = (db: Db) =>
  db
    .selectFrom('evidencePack as p')
    .leftJoin('appUser as u', 'u.id', 'p.requestedBy')
    .select([
      'p.id',
      'p.siteId',
      'p.incidentId',
      'p.kind',
      'p.purpose',
      'p.reference',
      'p.legalBasis',
      'p.scope',
      'p.status',
      'p.jobId',
      'p.objectKey',
      'p.size',
      'p.fileCount',
      'p.manifestSha256',
      'p.signature',
      'p.keyFingerprint',
      'p.contents',
      'p.error',
      'p.requestedBy',
      'u.login as requestedByLogin',
      'p.requestedAt',
      'p.startedAt',
      'p.finishedAt',
      'p.downloadCount',
    ]);

type PackDbRow = Awaited<ReturnType<ReturnType<typeof packSelect>['executeTakeFirstOrThrow']>>;

const toPack = (r: PackDbRow): PackRow => ({
  id: r.id,
  siteId: r.siteId,
  incidentId: r.incidentId,
  kind: r.kind,
  purpose: r.purpose,
  reference: r.reference,
  legalBasis: r.legalBasis,
  scope: r.scope as PackScope,
  status: r.status,
  jobId: r.jobId,
  objectKey: r.objectKey,
  size: r.size === null ? null : Number(r.size),
  fileCount: r.fileCount,
  manifestSha256: r.manifestSha256?.toString('hex') ?? null,
  signature: r.signature?.toString('base64') ?? null,
  keyFingerprint: r.keyFingerprint,
  contents: (r.contents as PackContentEntry[] | null) ?? [],
  error: r.error,
  requestedBy: r.requestedBy,
  requestedByLogin: r.requestedByLogin ?? null,
  requestedAt: r.requestedAt,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  downloadCount: r.downloadCount,
});

const LINK_COLUMNS = ['id', 'packId', 'recipient', 'expiresAt', 'maxDownloads', 'downloadCount', 'passcodeHash', 'createdBy', 'createdAt', 'revokedAt', 'revokedBy', 'revokeReason'] as const;
type LinkDbRow = {
  id: string;
  packId: string;
  recipient: string;
  expiresAt: Date;
  maxDownloads: number;
  downloadCount: number;
  passcodeHash: string | null;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokeReason: string | null;
};
const toLink = (r: LinkDbRow): ShareLinkRow => ({
  id: r.id,
  packId: r.packId,
  recipient: r.recipient,
  expiresAt: r.expiresAt,
  maxDownloads: r.maxDownloads,
  downloadCount: r.downloadCount,
  passcodeHash: r.passcodeHash,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
  revokedAt: r.revokedAt,
  revokedBy: r.revokedBy,
  revokeReason: r.revokeReason,
});

export function packRepository(db: Db) {
  return {
    async insert(p: { siteId: string; incidentId: string | null; kind: PackKind; purpose: PackPurpose; reference: string; legalBasis: string; scope: PackScope; requestedBy: string; requestedAt: Date }): Promise<string> {
      const r = await db
        .insertInto('evidencePack')
        .values({ siteId: p.siteId, incidentId: p.incidentId, kind: p.kind, purpose: p.purpose, reference: p.reference, legalBasis: p.legalBasis, scope: JSON.stringify(p.scope), requestedBy: p.requestedBy, requestedAt: p.requestedAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      return r.id;
    },
    async findById(id: string): Promise<PackRow | undefined> {
      const r = await packSelect(db).where('p.id', '=', id).executeTakeFirst();
      return r && toPack(r);
    },
    /** A pack of a site the caller reads ('all' for hq). */
    async findInSites(id: string, siteIds: readonly string[] | 'all'): Promise<PackRow | undefined> {
      if (siteIds !== 'all' && siteIds.length === 0) return undefined;
      let q = packSelect(db).where('p.id', '=', id);
      if (siteIds !== 'all') q = q.where('p.siteId', 'in', siteIds);
      const r = await q.executeTakeFirst();
      return r && toPack(r);
    },
    async listForIncident(incidentId: string): Promise<PackRow[]> {
      const rows = await packSelect(db).where('p.incidentId', '=', incidentId).orderBy('p.requestedAt', 'desc').orderBy('p.id').execute();
      return rows.map(toPack);
    },
    async setJob(id: string, jobId: string) {
      await db.updateTable('evidencePack').set({ jobId: jobId }).where('id', '=', id).execute();
    },
    /** queued/failed → building (a retry after a failure builds again); a ready pack is never rebuilt. */
    async markBuilding(id: string, at: Date): Promise<boolean> {
      const r = await db.updateTable('evidencePack').set({ status: 'building', startedAt: at, error: null }).where('id', '=', id).where('status', '<>', 'ready').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async markReady(id: string, v: { objectKey: string; size: number; fileCount: number; manifestSha256: string; signature: string; keyFingerprint: string; contents: PackContentEntry[]; at: Date }) {
      await db
        .updateTable('evidencePack')
        .set({
          status: 'ready',
          objectKey: v.objectKey,
          size: v.size,
          fileCount: v.fileCount,
          manifestSha256: Buffer.from(v.manifestSha256, 'hex'),
          signature: Buffer.from(v.signature, 'base64'),
          keyFingerprint: v.keyFingerprint,
          contents: JSON.stringify(v.contents),
          finishedAt: v.at,
          error: null,
        })
        .where('id', '=', id)
        .execute();
    },
    async markFailed(id: string, error: string, at: Date) {
      await db.updateTable('evidencePack').set({ status: 'failed', error: error.slice(0, 2000), finishedAt: at }).where('id', '=', id).where('status', '<>', 'ready').execute();
    },
    async countDownload(id: string) {
      await db.updateTable('evidencePack').set({ downloadCount: sql`download_count + 1` }).where('id', '=', id).execute();
    },

    /** Stored segments of a camera overlapping [from, to), oldest first, with arrival times. */
    async segmentsForWindow(cameraId: string, from: Date, to: Date): Promise<PackSegmentRow[]> {
      const rows = await db
        .selectFrom('segment')
        .select([
          sql<string>`segment.id::text`.as('id'),
          sql<Date>`lower(segment.span)`.as('start'),
          sql<Date>`upper(segment.span)`.as('end'),
          'byteSize',
          'sha256',
          'clockOffsetMs',
          'objectKey',
          'receivedAt',
          'storedAt',
          'deletedAt',
        ])
        .where('cameraId', '=', cameraId)
        .where(sql<boolean>`segment.span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy(sql`lower(segment.span)`)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        start: new Date(r.start),
        end: new Date(r.end),
        byteSize: Number(r.byteSize),
        sha256: r.sha256.toString('hex'),
        clockOffsetMs: r.clockOffsetMs,
        objectKey: r.objectKey,
        receivedAt: r.receivedAt,
        storedAt: r.storedAt,
        deletedAt: r.deletedAt,
      }));
    },
    /** The site's notices and its agent's latest clock offset, for the report. */
    async siteFacts(siteId: string): Promise<{ code: string; name: string; timezone: string; cameraNotice: unknown; pbxNoticeText: string | null; agentClockOffsetMs: number | null }> {
      const s = await db.selectFrom('site').select(['code', 'name', 'timezone', 'cameraNotice', 'pbxNoticeText']).where('id', '=', siteId).executeTakeFirstOrThrow();
      const a = await db.selectFrom('agent').select('clockOffsetMs').where('siteId', '=', siteId).where('revokedAt', 'is', null).orderBy('lastContactAt', (ob) => ob.desc().nullsLast()).executeTakeFirst();
      return { code: s.code, name: s.name, timezone: s.timezone, cameraNotice: s.cameraNotice, pbxNoticeText: s.pbxNoticeText, agentClockOffsetMs: a?.clockOffsetMs ?? null };
    },

    // ---- share links ----------------------------------------------------------------------------------------
    async insertLink(l: { packId: string; tokenHash: string; recipient: string; expiresAt: Date; maxDownloads: number; passcodeHash: string | null; createdBy: string; createdAt: Date }): Promise<ShareLinkRow> {
      const r = await db
        .insertInto('packShareLink')
        .values({ packId: l.packId, tokenHash: l.tokenHash, recipient: l.recipient, expiresAt: l.expiresAt, maxDownloads: l.maxDownloads, passcodeHash: l.passcodeHash, createdBy: l.createdBy, createdAt: l.createdAt })
        .returning(LINK_COLUMNS)
        .executeTakeFirstOrThrow();
      return toLink(r);
    },
    async findLinkByTokenHash(tokenHash: string): Promise<ShareLinkRow | undefined> {
      const r = await db.selectFrom('packShareLink').select(LINK_COLUMNS).where('tokenHash', '=', tokenHash).executeTakeFirst();
      return r && toLink(r);
    },
    async listLinks(packId: string): Promise<ShareLinkRow[]> {
      const rows = await db.selectFrom('packShareLink').select(LINK_COLUMNS).where('packId', '=', packId).orderBy('createdAt').orderBy('id').execute();
      return rows.map(toLink);
    },
    async revokeLink(packId: string, linkId: string, by: string, at: Date, reason: string): Promise<ShareLinkRow | undefined> {
      const r = await db
        .updateTable('packShareLink')
        .set({ revokedAt: at, revokedBy: by, revokeReason: reason })
        .where('id', '=', linkId)
        .where('packId', '=', packId)
        .where('revokedAt', 'is', null)
        .returning(LINK_COLUMNS)
        .executeTakeFirst();
      return r && toLink(r);
    },
    /** Takes one download of a link if it is live (not revoked, not expired, under its limit): one statement, so concurrent downloads never exceed the limit. */
    async claimDownload(linkId: string, now: Date): Promise<ShareLinkRow | undefined> {
      const r = await db
        .updateTable('packShareLink')
        .set({ downloadCount: sql`download_count + 1` })
        .where('id', '=', linkId)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', now)
        .where(sql<boolean>`download_count < max_downloads`)
        .returning(LINK_COLUMNS)
        .executeTakeFirst();
      return r && toLink(r);
    },
  };
}
export type PackRepository = ReturnType<typeof packRepository>;
