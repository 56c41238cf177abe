/**
 * Evidence packs of cases (issue 11, parts 1 and 3): hq requests a pack of a case (or a chosen part of it) with a
 * purpose from the fixed list, a reference and the legal basis; a job builds it (pack-builder.ts); hq reads its
 * progress, downloads it and gives the police a share link. Every request, build, download and share-link use is
 * audited. The people side (`evidencePackService`) and the worker side (`packBuildService`) share this file.
 */
import type { StorageLockService } from './storage-lock.service.ts';
import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import { hashSecret, randomToken, sha256Hex, signPath, verifyPathSignature, verifySecret } from '../adapters/crypto.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { SigningKeyStore } from '../adapters/signing-key.ts';
import { type CustodyEvent, type PackPurpose, PURPOSE_LABELS } from '../domain/pack.ts';
import { NO_ORIGIN, type Principal, readableSites, type RequestOrigin, type SystemPrincipal } from '../domain/principal.ts';
import { badRequest, conflict, forbidden, gone, notFound } from '../domain/errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { CallRepository } from '../repositories/call.repository.ts';
import type { IncidentRepository, IncidentRow } from '../repositories/incident.repository.ts';
import type { LinkingRepository } from '../repositories/linking.repository.ts';
import type { PackContentEntry, PackRepository, PackRow, PackScope, ShareLinkRow } from '../repositories/pack.repository.ts';
import type { RecordingRepository } from '../repositories/recording.repository.ts';
import { auditRefusedRead, ensureCan, ensureUser } from './access.ts';
import type { AuditService } from './audit.service.ts';
import { isUuid, scopedIncident } from './incident-support.ts';
import { parseRange } from './playback.service.ts';
import { type PackBuilder, type PackBuildInput, PackSourceError, type PackProgress } from './pack-builder.ts';

export type PackRequest = {
  purpose: PackPurpose;
  reference: string;
  legalBasis: string;
  /** Only these linked camera windows / calls (default: all linked). */
  cameraWindowIds?: string[] | undefined;
  callIds?: string[] | undefined;
  /** Narrow every camera window to [from, to) (default: each window whole). */
  from?: Date | undefined;
  to?: Date | undefined;
};

export type ShareLinkRequest = { recipient: string; expiresInHours: number; maxDownloads: number; passcode?: string | undefined };

/** The state of a share link as a recipient meets it. */
export type ShareLinkState = 'live' | 'expired' | 'used_up' | 'revoked';

export function shareLinkState(l: ShareLinkRow, now: Date): ShareLinkState {
  if (l.revokedAt) return 'revoked';
  if (l.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (l.downloadCount >= l.maxDownloads) return 'used_up';
  return 'live';
}

const PACK_BUILDER: SystemPrincipal = { kind: 'system', name: 'pack-builder', origin: NO_ORIGIN };
/** A passcode-checked share page hands out grants for its download and players that last this long. */
const GRANT_TTL_SECONDS = 3600;
const MAX_SHARE_HOURS = 30 * 24;

export const packObjectKey = (p: { id: string; siteId: string }, at: Date) => `packs/${p.siteId}/${at.toISOString().slice(0, 10)}/${p.id}.zip`;

// ---- the people's side -------------------------------------------------------------------------------------------

export function evidencePackService(deps: {
  packs: PackRepository;
  incidents: IncidentRepository;
  audit: AuditService;
  jobs: Pick<JobQueue, 'enqueue' | 'get'>;
  store: ObjectStore;
  signingKey: SigningKeyStore;
  clock: Clock;
  /** HMAC key for the share page's short-lived grants. */
  grantSecret: string;
}) {
  const { packs, incidents, audit, clock } = deps;

  async function scopedPack(p: Principal, id: string): Promise<PackRow> {
    ensureCan(p, 'packs:manage');
    const row = isUuid(id) ? await packs.findInSites(id, readableSites(p)) : undefined;
    if (!row) {
      const any = isUuid(id) ? await packs.findInSites(id, 'all') : undefined;
      await auditRefusedRead(audit, p, { what: 'pack', targetType: 'pack', targetId: id, siteId: any?.siteId });
      throw notFound('pack_not_found', 'pack not found');
    }
    return row;
  }

  async function progressOf(pack: PackRow): Promise<PackProgress | null> {
    if (pack.status === 'ready') return { phase: 'done', percent: 100, bytesDone: 0, bytesTotal: 0 };
    if (!pack.jobId || pack.status === 'failed') return null;
    const job = await deps.jobs.get(pack.jobId);
    const pr = job?.progress;
    return pr && typeof pr === 'object' ? (pr as PackProgress) : null;
  }

  /** What a share link's page, download and players need: the link live, the pack ready. */
  async function liveLink(token: string, origin: RequestOrigin, action: string) {
    const now = clock.now();
    const link = token.length >= 20 && token.length <= 100 ? await packs.findLinkByTokenHash(sha256Hex(token)) : undefined;
    const actor = { kind: 'anonymous' as const, label: link ? `share-link ${link.id}` : 'share-link (unknown token)', origin };
    if (!link) {
      await audit.record(actor, { action, outcome: 'failure', details: { reason: 'unknown_token' } });
      throw notFound('share_link_not_found', 'this link does not exist');
    }
    const pack = (await packs.findById(link.packId))!;
    const state = shareLinkState(link, now);
    const base = { targetType: 'pack', targetId: pack.id, siteId: pack.siteId };
    if (state !== 'live' || pack.status !== 'ready') {
      const reason = state === 'live' ? 'pack_not_ready' : state;
      await audit.record(actor, { action, outcome: 'failure', ...base, details: { linkId: link.id, reason } });
      throw gone(`share_link_${reason}`, { expired: 'this link has expired', used_up: 'this link has been used up', revoked: 'this link was revoked', pack_not_ready: 'the pack is not available' }[reason]);
    }
    return { link, pack, actor, base, now };
  }

  function grantFor(linkId: string, now: Date) {
    const exp = Math.floor(now.getTime() / 1000) + GRANT_TTL_SECONDS;
    return { exp, sig: signPath(deps.grantSecret, `/share/${linkId}`, exp) };
  }

  function checkGrant(link: ShareLinkRow, now: Date, g: { exp?: string | undefined; sig?: string | undefined }) {
    if (!link.passcodeHash) return true;
    return !!g.exp && !!g.sig && verifyPathSignature(deps.grantSecret, `/share/${link.id}`, Number(g.exp), g.sig, Math.floor(now.getTime() / 1000));
  }

  return {
    /** hq asks for a pack of a case (or part of it); the build job is enqueued. */
    async request(p: Principal, incidentId: string, r: PackRequest) {
      ensureCan(p, 'packs:manage');
      ensureUser(p);
      const i = await scopedIncident(incidents, p, incidentId, false, audit);
      const reference = r.reference.trim();
      const legalBasis = r.legalBasis.trim();
      if (!reference) throw badRequest('reference_required', 'a reference (e.g. the written inquiry number) is required');
      if (!legalBasis) throw badRequest('legal_basis_required', 'the legal basis of giving the data to a third party is required');
      if (r.from && r.to && r.to.getTime() <= r.from.getTime()) throw badRequest('invalid_range', '`to` must be after `from`');
      const windows = await incidents.listWindows(i.id);
      const calls = await incidents.listCallLinks(i.id);
      for (const id of r.cameraWindowIds ?? []) if (!windows.some((w) => w.id === id)) throw badRequest('window_not_linked', `camera window ${id} is not linked to this case`);
      for (const id of r.callIds ?? []) if (!calls.some((c) => c.callId === id)) throw badRequest('call_not_linked', `call ${id} is not linked to this case`);
      const chosenWindows = windows.filter((w) => !r.cameraWindowIds || r.cameraWindowIds.includes(w.id)).filter((w) => (!r.from || w.end > r.from) && (!r.to || w.start < r.to));
      const chosenCalls = calls.filter((c) => !r.callIds || r.callIds.includes(c.callId));
      if (chosenWindows.length === 0 && chosenCalls.length === 0) throw badRequest('pack_empty', 'nothing of the case is chosen');
      const scope: PackScope = { cameraWindowIds: r.cameraWindowIds ?? null, callIds: r.callIds ?? null, from: r.from?.toISOString() ?? null, to: r.to?.toISOString() ?? null };
      const now = clock.now();
      const id = await packs.insert({ siteId: i.siteId, incidentId: i.id, kind: 'evidence', purpose: r.purpose, reference, legalBasis, scope, requestedBy: p.userId, requestedAt: now });
      await audit.record(p, {
        action: 'pack.request',
        targetType: 'pack',
        targetId: id,
        siteId: i.siteId,
        details: { caseNumber: i.caseNumber, purpose: r.purpose, reference, legalBasis, scope, windows: chosenWindows.length, calls: chosenCalls.length },
      });
      const jobId = await deps.jobs.enqueue('pack.build', { packId: id });
      await packs.setJob(id, jobId);
      const pack = (await packs.findById(id))!;
      return { pack, progress: null };
    },

    async listForIncident(p: Principal, incidentId: string) {
      ensureCan(p, 'packs:manage');
      const i = await scopedIncident(incidents, p, incidentId, false, audit);
      const rows = await packs.listForIncident(i.id);
      await audit.record(p, { action: 'pack.list', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, count: rows.length } });
      return Promise.all(rows.map(async (pack) => ({ pack, progress: await progressOf(pack) })));
    },

    /** The pack with its build progress (while building) and its share links. */
    async get(p: Principal, id: string) {
      const pack = await scopedPack(p, id);
      const [progress, links] = await Promise.all([progressOf(pack), packs.listLinks(pack.id)]);
      await audit.record(p, { action: 'pack.view', targetType: 'pack', targetId: pack.id, siteId: pack.siteId, details: { status: pack.status } });
      return { pack, progress, links: links.map((l) => ({ ...l, state: shareLinkState(l, clock.now()) })) };
    },

    /** hq downloads the ZIP; audited before the bytes go. */
    async download(p: Principal, id: string): Promise<{ pack: PackRow; body: Readable; size: number; fileName: string }> {
      const pack = await scopedPack(p, id);
      if (pack.status !== 'ready' || !pack.objectKey || pack.size === null) throw conflict('pack_not_ready', `the pack is ${pack.status}`);
      await packs.countDownload(pack.id);
      await audit.record(p, { action: 'pack.download', targetType: 'pack', targetId: pack.id, siteId: pack.siteId, details: { size: pack.size, manifestSha256: pack.manifestSha256, via: 'api' } });
      return { pack, body: await deps.store.read(pack.objectKey), size: pack.size, fileName: `evidence-${pack.id}.zip` };
    },

    /** The centre's signing key: its fingerprint (what HQ tells a recipient out of band) and public key. */
    async signingKey(p: Principal) {
      ensureCan(p, 'packs:manage');
      const k = await deps.signingKey.get();
      await audit.record(p, { action: 'pack.signing_key.view', details: { fingerprint: k.fingerprint } });
      return { algorithm: 'Ed25519' as const, fingerprintSha256: k.fingerprint, publicKeyPem: k.publicKeyPem };
    },

    // ---- share links (hq) ------------------------------------------------------------------------------------
    async createShareLink(p: Principal, packId: string, r: ShareLinkRequest) {
      ensureUser(p);
      const pack = await scopedPack(p, packId);
      if (pack.status !== 'ready') throw conflict('pack_not_ready', `the pack is ${pack.status}`);
      const recipient = r.recipient.trim();
      if (!recipient) throw badRequest('recipient_required', 'who the link is for is required');
      if (!(r.expiresInHours > 0 && r.expiresInHours <= MAX_SHARE_HOURS)) throw badRequest('invalid_expiry', `expiry must be within ${MAX_SHARE_HOURS} hours`);
      if (r.passcode !== undefined && (r.passcode.length < 6 || r.passcode.length > 100)) throw badRequest('invalid_passcode', 'a passcode has 6 to 100 characters');
      const now = clock.now();
      const token = randomToken(32);
      const link = await packs.insertLink({
        packId: pack.id,
        tokenHash: sha256Hex(token),
        recipient,
        expiresAt: new Date(now.getTime() + Math.round(r.expiresInHours * 3600_000)),
        maxDownloads: r.maxDownloads,
        passcodeHash: r.passcode ? await hashSecret(r.passcode) : null,
        createdBy: p.userId,
        createdAt: now,
      });
      await audit.record(p, {
        action: 'pack.share.create',
        targetType: 'pack',
        targetId: pack.id,
        siteId: pack.siteId,
        details: { linkId: link.id, recipient, expiresAt: link.expiresAt.toISOString(), maxDownloads: link.maxDownloads, passcode: link.passcodeHash !== null },
      });
      return { link: { ...link, state: shareLinkState(link, now) }, token, path: `/share/${token}` };
    },

    async revokeShareLink(p: Principal, packId: string, linkId: string, reason: string) {
      ensureUser(p);
      const pack = await scopedPack(p, packId);
      if (!reason.trim()) throw badRequest('reason_required', 'a reason is required');
      const now = clock.now();
      const link = isUuid(linkId) ? await packs.revokeLink(pack.id, linkId, p.userId, now, reason.trim()) : undefined;
      if (!link) {
        const existing = (await packs.listLinks(pack.id)).find((l) => l.id === linkId);
        if (!existing) throw notFound('share_link_not_found', 'share link not found');
        throw conflict('share_link_revoked', 'the link was already revoked');
      }
      await audit.record(p, { action: 'pack.share.revoke', targetType: 'pack', targetId: pack.id, siteId: pack.siteId, details: { linkId: link.id, reason: reason.trim() } });
      return { ...link, state: shareLinkState(link, now) };
    },

    // ---- share links (the recipient: no account) --------------------------------------------------------------
    /**
     * Opening the link's page (GET, or POST with the passcode). A link with a passcode shows only the passcode form
     * until it is given; a wrong one is 403 and audited.
     */
    async openShare(token: string, origin: RequestOrigin, passcode?: string | undefined) {
      const { link, pack, actor, base, now } = await liveLink(token, origin, 'pack.share.open');
      const incident = pack.incidentId ? await incidents.findInSites(pack.incidentId, 'all') : undefined;
      const view = { link, pack, caseNumber: incident?.caseNumber ?? null, siteName: incident?.siteName ?? null };
      if (link.passcodeHash) {
        if (passcode === undefined) {
          await audit.record(actor, { action: 'pack.share.open', ...base, details: { linkId: link.id, unlocked: false } });
          return { ...view, unlocked: false as const };
        }
        if (!(await verifySecret(passcode, link.passcodeHash))) {
          await audit.record(actor, { action: 'pack.share.passcode', outcome: 'failure', ...base, details: { linkId: link.id, reason: 'wrong_passcode' } });
          throw forbidden('wrong_passcode', 'the passcode is not correct');
        }
      }
      await audit.record(actor, { action: 'pack.share.open', ...base, details: { linkId: link.id, unlocked: true } });
      return { ...view, unlocked: true as const, grant: link.passcodeHash ? grantFor(link.id, now) : null };
    },

    /** One download through a link: counted atomically against its limit, audited, streamed from S3. */
    async shareDownload(token: string, origin: RequestOrigin, g: { exp?: string | undefined; sig?: string | undefined }) {
      const { link, pack, actor, base, now } = await liveLink(token, origin, 'pack.share.download');
      if (!checkGrant(link, now, g)) {
        await audit.record(actor, { action: 'pack.share.download', outcome: 'failure', ...base, details: { linkId: link.id, reason: 'passcode_required' } });
        throw forbidden('passcode_required', 'open the link and give the passcode first');
      }
      const claimed = await packs.claimDownload(link.id, now);
      if (!claimed) {
        await audit.record(actor, { action: 'pack.share.download', outcome: 'failure', ...base, details: { linkId: link.id, reason: 'used_up' } });
        throw gone('share_link_used_up', 'this link has been used up');
      }
      await packs.countDownload(pack.id);
      await audit.record(actor, { action: 'pack.share.download', ...base, details: { linkId: link.id, download: claimed.downloadCount, of: claimed.maxDownloads, size: pack.size } });
      return { body: await deps.store.read(pack.objectKey!), size: pack.size!, fileName: `evidence-${pack.id}.zip` };
    },

    /** One of the pack's MP4s or audio copies, played in the browser by range reads of the stored ZIP (does not count as a download). */
    async sharePlay(token: string, origin: RequestOrigin, index: number, rangeHeader: string | undefined, g: { exp?: string | undefined; sig?: string | undefined }) {
      const { link, pack, actor, base, now } = await liveLink(token, origin, 'pack.share.play');
      if (!checkGrant(link, now, g)) {
        await audit.record(actor, { action: 'pack.share.play', outcome: 'failure', ...base, details: { linkId: link.id, reason: 'passcode_required' } });
        throw forbidden('passcode_required', 'open the link and give the passcode first');
      }
      const entry: PackContentEntry | undefined = pack.contents[index];
      if (!entry) throw notFound('media_not_found', 'no such file in the pack');
      const range = parseRange(rangeHeader, entry.size);
      const start = range?.start ?? 0;
      const end = range?.end ?? entry.size - 1;
      // One event per playback, not per range request of the same one.
      if (start === 0) await audit.record(actor, { action: 'pack.share.play', ...base, details: { linkId: link.id, path: entry.path } });
      return { entry, range, body: await deps.store.read(pack.objectKey!, entry.offset + start, end - start + 1) };
    },
  };
}
export type EvidencePackService = ReturnType<typeof evidencePackService>;

// ---- the worker's side -------------------------------------------------------------------------------------------

/** Builds a requested pack: gathers the case's chosen windows and calls, runs the builder, records the result. Idempotent: a ready pack is left alone. */
export function packBuildService(deps: {
  packs: PackRepository;
  incidents: IncidentRepository;
  calls: CallRepository;
  recordings: RecordingRepository;
  linking: LinkingRepository;
  users: { findById(id: string): Promise<{ id: string; login: string; displayName: string } | undefined> };
  builder: PackBuilder;
  audit: AuditService;
  clock: Clock;
  /** Holds the stored pack in the storage (S3 legal hold) while its case has an active hold (issue 15). */
  storageLock?: Pick<StorageLockService, 'packStored'> | undefined;
}) {
  const { packs, incidents, clock } = deps;

  async function gather(pack: PackRow, i: IncidentRow, builtAt: Date): Promise<PackBuildInput> {
    const scope = pack.scope;
    const from = scope.from ? new Date(scope.from) : null;
    const to = scope.to ? new Date(scope.to) : null;
    const windows = (await incidents.listWindows(i.id))
      .filter((w) => !scope.cameraWindowIds || scope.cameraWindowIds.includes(w.id))
      .map((w) => ({ ...w, start: from && from > w.start ? from : w.start, end: to && to < w.end ? to : w.end }))
      .filter((w) => w.end > w.start);
    const footage = await deps.linking.windows(windows.map((w) => ({ cameraId: w.cameraId, start: w.start, end: w.end })));
    const cameraWindows: PackBuildInput['cameraWindows'] = [];
    for (const [n, w] of windows.entries()) {
      const segs = await packs.segmentsForWindow(w.cameraId, w.start, w.end);
      const stored = segs.filter((s) => s.objectKey !== null);
      // Time with no stored media: reported gaps, and stretches between stored segments (at the store, or missing).
      const gaps: PackBuildInput['cameraWindows'][number]['gaps'] = footage[n]!.gaps.map((g) => ({ from: g.start, to: g.end, reason: g.reason, detail: g.detail }));
      let cursor = w.start.getTime();
      for (const s of [...stored, null]) {
        const next = s ? s.start.getTime() : w.end.getTime();
        if (next - cursor > 500 && !gaps.some((g) => g.from.getTime() <= cursor && g.to.getTime() >= next)) gaps.push({ from: new Date(cursor), to: new Date(next), reason: 'missing', detail: 'no stored footage at the centre' });
        if (s) cursor = Math.max(cursor, s.end.getTime());
      }
      gaps.sort((a, b) => a.from.getTime() - b.from.getTime());
      cameraWindows.push({
        camera: { id: w.cameraId, key: w.camera.key, name: w.camera.name, place: w.camera.place },
        from: w.start,
        to: w.end,
        segments: stored.map((s) => ({ id: s.id, objectKey: s.objectKey!, start: s.start, end: s.end, byteSize: s.byteSize, sha256: s.sha256, clockOffsetMs: s.clockOffsetMs, receivedAt: s.receivedAt, storedAt: s.storedAt })),
        gaps,
      });
    }
    const links = (await incidents.listCallLinks(i.id)).filter((l) => !scope.callIds || scope.callIds.includes(l.callId));
    const callRows = await deps.calls.listByIds(links.map((l) => l.callId));
    const calls: PackBuildInput['calls'] = [];
    for (const c of callRows) {
      const recs = (await deps.recordings.listForCall(c.id)).filter((r) => r.objectKey);
      calls.push({
        id: c.id,
        pbxCallId: `${c.pbxId}-${c.linkedId}`,
        direction: c.direction,
        start: c.startAt,
        end: c.endAt,
        callerNumber: c.caller.number,
        callerName: c.caller.name,
        operator: c.operator ? `${c.operator.extension}${c.operator.name ? ` ${c.operator.name}` : ''}` : null,
        notice: { played: c.notice.played, method: c.notice.method },
        recordings: recs.map((r) => ({
          id: r.id,
          name: r.name,
          role: r.role,
          objectKey: r.objectKey!,
          size: r.size,
          sha256: r.sha256,
          playable: r.playable ? { objectKey: r.playable.key, size: r.playable.size, extension: r.playable.mediaType === 'audio/mp4' ? 'm4a' : 'bin' } : null,
        })),
      });
    }
    const bookmarks = (await incidents.listBookmarks(i.id)).map((b) => {
      const w = windows.find((x) => x.cameraId === b.cameraId);
      const target = b.cameraId ? (w ? `カメラ ${w.camera.name}` : 'カメラ') : b.callId ? '通話' : null;
      return { at: b.at, target, note: b.note, by: b.createdByLabel };
    });
    const events = await incidents.listEvents(i.id);
    const custody: CustodyEvent[] = [
      ...events.map((e) => ({ at: e.at.toISOString(), action: e.action, actor: e.actorLabel ?? e.actorId, detail: e.changes ? JSON.stringify(e.changes).slice(0, 300) : null })),
      { at: pack.requestedAt.toISOString(), action: 'pack.request', actor: pack.requestedByLogin, detail: `${PURPOSE_LABELS[pack.purpose].ja} / ${pack.reference}` },
    ].sort((a, b) => a.at.localeCompare(b.at));
    const user = await deps.users.findById(pack.requestedBy);
    const site = await packs.siteFacts(i.siteId);
    return {
      packId: pack.id,
      kind: pack.kind,
      objectKey: packObjectKey(pack, builtAt),
      builtAt,
      builtBy: { id: pack.requestedBy, login: user?.login ?? pack.requestedByLogin ?? 'unknown', name: user?.displayName ?? null },
      purpose: pack.purpose,
      reference: pack.reference,
      legalBasis: pack.legalBasis,
      case: { id: i.id, caseNumber: i.caseNumber, title: i.title, category: i.category, severity: i.severity, status: i.status, narrative: i.narrative, window: { from: i.windowStart, to: i.windowEnd } },
      site,
      cameraWindows,
      calls,
      bookmarks,
      custody,
    };
  }

  return {
    async build(packId: string, o: { attempt: number; maxAttempts: number; progress: (p: PackProgress) => Promise<void> }) {
      const pack = await packs.findById(packId);
      if (!pack) throw new PackSourceError(`pack ${packId} does not exist`);
      if (pack.status === 'ready') return { status: 'already_ready' as const, packId };
      const i = pack.incidentId ? await incidents.findInSites(pack.incidentId, 'all') : undefined;
      if (!i) throw new PackSourceError(`pack ${packId} has no case`);
      const builtAt = clock.now();
      await packs.markBuilding(pack.id, builtAt);
      try {
        const input = await gather(pack, i, builtAt);
        const r = await deps.builder.build(input, o.progress);
        await packs.markReady(pack.id, { objectKey: r.objectKey, size: r.size, fileCount: r.fileCount, manifestSha256: r.manifestSha256, signature: r.signature, keyFingerprint: r.keyFingerprint, contents: r.contents, at: clock.now() });
        await deps.storageLock?.packStored({ key: r.objectKey, incidentId: i.id });
        await deps.audit.record(PACK_BUILDER, {
          action: 'pack.build',
          targetType: 'pack',
          targetId: pack.id,
          siteId: pack.siteId,
          details: { caseNumber: i.caseNumber, size: r.size, files: r.fileCount, manifestSha256: r.manifestSha256, keyFingerprint: r.keyFingerprint, videos: r.manifest.videos.length, calls: r.manifest.calls.length },
        });
        return { status: 'ready' as const, packId, size: r.size, manifestSha256: r.manifestSha256 };
      } catch (e) {
        const final = e instanceof PackSourceError || o.attempt >= o.maxAttempts;
        if (final) {
          await packs.markFailed(pack.id, (e as Error).message, clock.now());
          await deps.audit.record(PACK_BUILDER, { action: 'pack.build', outcome: 'failure', targetType: 'pack', targetId: pack.id, siteId: pack.siteId, details: { caseNumber: i.caseNumber, error: (e as Error).message } });
        }
        throw e;
      }
    },
  };
}
export type PackBuildService = ReturnType<typeof packBuildService>;
