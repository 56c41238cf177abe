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
    .selectFrom('evidence_pack as p')
    .leftJoin('app_user as u', 'u.id', 'p.requested_by')
    .select([
      'p.id',
      'p.site_id',
      'p.incident_id',
      'p.kind',
      'p.purpose',
      'p.reference',
      'p.legal_basis',
      'p.scope',
      'p.status',
      'p.job_id',
      'p.object_key',
      'p.size',
      'p.file_count',
      'p.manifest_sha256',
      'p.signature',
      'p.key_fingerprint',
      'p.contents',
      'p.error',
      'p.requested_by',
      'u.login as requested_by_login',
      'p.requested_at',
      'p.started_at',
      'p.finished_at',
      'p.download_count',
    ]);

type PackDbRow = Awaited<ReturnType<ReturnType<typeof packSelect>['executeTakeFirstOrThrow']>>;

const toPack = (r: PackDbRow): PackRow => ({
  id: r.id,
  siteId: r.site_id,
  incidentId: r.incident_id,
  kind: r.kind,
  purpose: r.purpose,
  reference: r.reference,
  legalBasis: r.legal_basis,
  scope: r.scope as PackScope,
  status: r.status,
  jobId: r.job_id,
  objectKey: r.object_key,
  size: r.size === null ? null : Number(r.size),
  fileCount: r.file_count,
  manifestSha256: r.manifest_sha256?.toString('hex') ?? null,
  signature: r.signature?.toString('base64') ?? null,
  keyFingerprint: r.key_fingerprint,
  contents: (r.contents as PackContentEntry[] | null) ?? [],
  error: r.error,
  requestedBy: r.requested_by,
  requestedByLogin: r.requested_by_login ?? null,
  requestedAt: r.requested_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  downloadCount: r.download_count,
});

const LINK_COLUMNS = ['id', 'pack_id', 'recipient', 'expires_at', 'max_downloads', 'download_count', 'passcode_hash', 'created_by', 'created_at', 'revoked_at', 'revoked_by', 'revoke_reason'] as const;
type LinkDbRow = {
  id: string;
  pack_id: string;
  recipient: string;
  expires_at: Date;
  max_downloads: number;
  download_count: number;
  passcode_hash: string | null;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
};
const toLink = (r: LinkDbRow): ShareLinkRow => ({
  id: r.id,
  packId: r.pack_id,
  recipient: r.recipient,
  expiresAt: r.expires_at,
  maxDownloads: r.max_downloads,
  downloadCount: r.download_count,
  passcodeHash: r.passcode_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  revokeReason: r.revoke_reason,
});

export function packRepository(db: Db) {
  return {
    async insert(p: { siteId: string; incidentId: string | null; kind: PackKind; purpose: PackPurpose; reference: string; legalBasis: string; scope: PackScope; requestedBy: string; requestedAt: Date }): Promise<string> {
      const r = await db
        .insertInto('evidence_pack')
        .values({ site_id: p.siteId, incident_id: p.incidentId, kind: p.kind, purpose: p.purpose, reference: p.reference, legal_basis: p.legalBasis, scope: JSON.stringify(p.scope), requested_by: p.requestedBy, requested_at: p.requestedAt })
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
      if (siteIds !== 'all') q = q.where('p.site_id', 'in', siteIds);
      const r = await q.executeTakeFirst();
      return r && toPack(r);
    },
    async listForIncident(incidentId: string): Promise<PackRow[]> {
      const rows = await packSelect(db).where('p.incident_id', '=', incidentId).orderBy('p.requested_at', 'desc').orderBy('p.id').execute();
      return rows.map(toPack);
    },
    async setJob(id: string, jobId: string) {
      await db.updateTable('evidence_pack').set({ job_id: jobId }).where('id', '=', id).execute();
    },
    /** queued/failed → building (a retry after a failure builds again); a ready pack is never rebuilt. */
    async markBuilding(id: string, at: Date): Promise<boolean> {
      const r = await db.updateTable('evidence_pack').set({ status: 'building', started_at: at, error: null }).where('id', '=', id).where('status', '<>', 'ready').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async markReady(id: string, v: { objectKey: string; size: number; fileCount: number; manifestSha256: string; signature: string; keyFingerprint: string; contents: PackContentEntry[]; at: Date }) {
      await db
        .updateTable('evidence_pack')
        .set({
          status: 'ready',
          object_key: v.objectKey,
          size: v.size,
          file_count: v.fileCount,
          manifest_sha256: Buffer.from(v.manifestSha256, 'hex'),
          signature: Buffer.from(v.signature, 'base64'),
          key_fingerprint: v.keyFingerprint,
          contents: JSON.stringify(v.contents),
          finished_at: v.at,
          error: null,
        })
        .where('id', '=', id)
        .execute();
    },
    async markFailed(id: string, error: string, at: Date) {
      await db.updateTable('evidence_pack').set({ status: 'failed', error: error.slice(0, 2000), finished_at: at }).where('id', '=', id).where('status', '<>', 'ready').execute();
    },
    async countDownload(id: string) {
      await db.updateTable('evidence_pack').set({ download_count: sql`download_count + 1` }).where('id', '=', id).execute();
    },

    /** Stored segments of a camera overlapping [from, to), oldest first, with arrival times. */
    async segmentsForWindow(cameraId: string, from: Date, to: Date): Promise<PackSegmentRow[]> {
      const rows = await db
        .selectFrom('segment')
        .select([
          sql<string>`segment.id::text`.as('id'),
          sql<Date>`lower(segment.span)`.as('start'),
          sql<Date>`upper(segment.span)`.as('end'),
          'byte_size',
          'sha256',
          'clock_offset_ms',
          'object_key',
          'received_at',
          'stored_at',
          'deleted_at',
        ])
        .where('camera_id', '=', cameraId)
        .where(sql<boolean>`segment.span && tstzrange(${from}, ${to}, '[)')`)
        .orderBy(sql`lower(segment.span)`)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        start: new Date(r.start),
        end: new Date(r.end),
        byteSize: Number(r.byte_size),
        sha256: r.sha256.toString('hex'),
        clockOffsetMs: r.clock_offset_ms,
        objectKey: r.object_key,
        receivedAt: r.received_at,
        storedAt: r.stored_at,
        deletedAt: r.deleted_at,
      }));
    },
    /** The site's notices and its agent's latest clock offset, for the report. */
    async siteFacts(siteId: string): Promise<{ code: string; name: string; timezone: string; cameraNotice: unknown; pbxNoticeText: string | null; agentClockOffsetMs: number | null }> {
      const s = await db.selectFrom('site').select(['code', 'name', 'timezone', 'camera_notice', 'pbx_notice_text']).where('id', '=', siteId).executeTakeFirstOrThrow();
      const a = await db.selectFrom('agent').select('clock_offset_ms').where('site_id', '=', siteId).where('revoked_at', 'is', null).orderBy('last_contact_at', sql`desc nulls last`).executeTakeFirst();
      return { code: s.code, name: s.name, timezone: s.timezone, cameraNotice: s.camera_notice, pbxNoticeText: s.pbx_notice_text, agentClockOffsetMs: a?.clock_offset_ms ?? null };
    },

    // ---- share links ----------------------------------------------------------------------------------------
    async insertLink(l: { packId: string; tokenHash: string; recipient: string; expiresAt: Date; maxDownloads: number; passcodeHash: string | null; createdBy: string; createdAt: Date }): Promise<ShareLinkRow> {
      const r = await db
        .insertInto('pack_share_link')
        .values({ pack_id: l.packId, token_hash: l.tokenHash, recipient: l.recipient, expires_at: l.expiresAt, max_downloads: l.maxDownloads, passcode_hash: l.passcodeHash, created_by: l.createdBy, created_at: l.createdAt })
        .returning(LINK_COLUMNS)
        .executeTakeFirstOrThrow();
      return toLink(r);
    },
    async findLinkByTokenHash(tokenHash: string): Promise<ShareLinkRow | undefined> {
      const r = await db.selectFrom('pack_share_link').select(LINK_COLUMNS).where('token_hash', '=', tokenHash).executeTakeFirst();
      return r && toLink(r);
    },
    async listLinks(packId: string): Promise<ShareLinkRow[]> {
      const rows = await db.selectFrom('pack_share_link').select(LINK_COLUMNS).where('pack_id', '=', packId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toLink);
    },
    async revokeLink(packId: string, linkId: string, by: string, at: Date, reason: string): Promise<ShareLinkRow | undefined> {
      const r = await db
        .updateTable('pack_share_link')
        .set({ revoked_at: at, revoked_by: by, revoke_reason: reason })
        .where('id', '=', linkId)
        .where('pack_id', '=', packId)
        .where('revoked_at', 'is', null)
        .returning(LINK_COLUMNS)
        .executeTakeFirst();
      return r && toLink(r);
    },
    /** Takes one download of a link if it is live (not revoked, not expired, under its limit): one statement, so concurrent downloads never exceed the limit. */
    async claimDownload(linkId: string, now: Date): Promise<ShareLinkRow | undefined> {
      const r = await db
        .updateTable('pack_share_link')
        .set({ download_count: sql`download_count + 1` })
        .where('id', '=', linkId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where(sql<boolean>`download_count < max_downloads`)
        .returning(LINK_COLUMNS)
        .executeTakeFirst();
      return r && toLink(r);
    },
  };
}
export type PackRepository = ReturnType<typeof packRepository>;
