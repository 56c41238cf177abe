import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import { signPath, verifyPathSignature } from '../adapters/crypto.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { CallDirection, CallDisposition, NoticePlayed } from '../db/schema.ts';
import { type Principal, readableSites } from '../domain/principal.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { CallRepository, CallRow } from '../repositories/call.repository.ts';
import type { RecordingRepository, RecordingRow } from '../repositories/recording.repository.ts';
import type { SiteRepository } from '../repositories/site.repository.ts';
import { auditRefusedRead, ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';
import { parseRange } from './playback.service.ts';

export type MediaKind = 'original' | 'playable' | 'waveform';

export type CallFilter = {
  siteIds?: string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  number?: string | undefined;
  caller?: string | undefined;
  called?: string | undefined;
  operator?: string | undefined;
  direction?: CallDirection | undefined;
  disposition?: CallDisposition | undefined;
  notice?: NoticePlayed | undefined;
  cursor?: string | undefined;
  limit: number;
};

/** Digits of a phone number query; the same digits are indexed for the raw and the E.164 form. */
export function numberDigits(field: string, q: string | undefined): string | undefined {
  if (q === undefined) return undefined;
  if (!/^[0-9+\-().\s]*$/.test(q)) throw badRequest('invalid_number', `${field} may contain only digits, spaces, + - ( ) .`);
  const digits = q.replace(/[^0-9]/g, '');
  if (digits.length < 3) throw badRequest('number_too_short', `${field} needs at least 3 digits`);
  return digits;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: { startAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([c.startAt.toISOString(), c.id])).toString('base64url');
}

export function decodeCursor(s: string): { startAt: Date; id: string } {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && UUID.test(v[1])) {
      const startAt = new Date(v[0]);
      if (!Number.isNaN(startAt.getTime())) return { startAt, id: v[1] };
    }
  } catch {
    /* fall through */
  }
  throw badRequest('invalid_cursor', 'cursor is not one this server issued');
}

/** Reads of calls, always inside the principal's site scope, and their media by signed link or bearer. */
export function callQueryService(deps: { calls: CallRepository; recordings: RecordingRepository; sites: SiteRepository; store: ObjectStore; clock: Clock; mediaSecret: string; mediaTtlSeconds: number; audit: AuditService }) {
  const { calls, recordings, sites, store, clock, audit } = deps;

  const mediaPath = (recordingId: string, kind: MediaKind) => `/api/v1/media/recordings/${recordingId}/${kind}`;
  function signedLink(recordingId: string, kind: MediaKind) {
    const exp = Math.floor(clock.now().getTime() / 1000) + deps.mediaTtlSeconds;
    const p = mediaPath(recordingId, kind);
    return { url: `${p}?exp=${exp}&sig=${signPath(deps.mediaSecret, p, exp)}`, expiresAt: new Date(exp * 1000) };
  }

  /** Role first (403), then the site scope: another site's call is as missing as one that does not exist (404). */
  async function scopedCall(p: Principal, id: string): Promise<CallRow> {
    ensureCan(p, 'calls:read');
    if (!UUID.test(id)) throw notFound('call_not_found', 'call not found');
    const call = await calls.findInSites(id, readableSites(p));
    if (!call) {
      const any = await calls.findInSites(id, 'all');
      await auditRefusedRead(audit, p, { what: 'call', targetType: 'call', targetId: id, siteId: any?.siteId });
      throw notFound('call_not_found', 'call not found');
    }
    return call;
  }

  function recordingView(r: RecordingRow) {
    return {
      ...r,
      originalLink: r.objectKey ? signedLink(r.id, 'original') : null,
      playableLink: r.playable ? signedLink(r.id, 'playable') : null,
      waveformLink: r.waveform ? signedLink(r.id, 'waveform') : null,
    };
  }

  return {
    async search(p: Principal, f: CallFilter) {
      ensureCan(p, 'calls:read');
      if (f.from && f.to && f.to.getTime() <= f.from.getTime()) throw badRequest('invalid_range', '`to` must be after `from`');
      const scope = readableSites(p);
      let siteIds: readonly string[] | 'all' = scope;
      if (f.siteIds?.length) siteIds = scope === 'all' ? f.siteIds : f.siteIds.filter((s) => scope.includes(s));
      const rows = await calls.search({
        siteIds,
        from: f.from,
        to: f.to,
        numberDigits: numberDigits('number', f.number),
        callerDigits: numberDigits('caller', f.caller),
        calledDigits: numberDigits('called', f.called),
        operator: f.operator,
        direction: f.direction,
        disposition: f.disposition,
        notice: f.notice,
        after: f.cursor ? decodeCursor(f.cursor) : undefined,
        limit: f.limit + 1,
      });
      const page = rows.slice(0, f.limit);
      const last = page.at(-1);
      const { cursor: _cursor, ...filter } = f;
      await audit.record(p, { action: 'call.search', details: { filter, count: page.length } });
      return { calls: page, nextCursor: rows.length > f.limit && last ? encodeCursor({ startAt: last.startAt, id: last.id }) : null };
    },

    async detail(p: Principal, id: string) {
      const call = await scopedCall(p, id);
      const [site, versions, recs] = await Promise.all([sites.findById(call.siteId), calls.listVersions(call.id), recordings.listForCall(call.id)]);
      const current = versions.find((v) => v.version === call.currentVersion);
      const legs = current ? await calls.listLegs(current.id) : [];
      const views = recs.map(recordingView);
      // The view event covers the signed recording links it hands out.
      await audit.record(p, {
        action: 'call.view',
        targetType: 'call',
        targetId: call.id,
        siteId: call.siteId,
        details: { recordings: views.length, linksExpireAt: new Date((Math.floor(clock.now().getTime() / 1000) + deps.mediaTtlSeconds) * 1000).toISOString() },
      });
      return { call, site: site!, versions, legs, recordings: views };
    },

    /**
     * Media bytes with Range support, by a signed link (the call view that issued it was audited) or by a signed-in
     * person who can read the call's site (audited as a download).
     */
    async media(access: { principal?: Principal | undefined; exp?: number | undefined; sig?: string | undefined }, recordingId: string, kind: MediaKind, rangeHeader: string | undefined) {
      const signed = access.sig !== undefined || access.exp !== undefined;
      if (!signed && !access.principal) throw forbidden('media_link_invalid', 'media link is invalid or expired (or sign in)');
      if (!signed) ensureCan(access.principal!, 'calls:read');
      if (!UUID.test(recordingId)) throw notFound('recording_not_found', 'recording not found');
      if (signed) {
        const ok = access.sig !== undefined && access.exp !== undefined && verifyPathSignature(deps.mediaSecret, mediaPath(recordingId, kind), access.exp, access.sig, Math.floor(clock.now().getTime() / 1000));
        if (!ok) throw forbidden('media_link_invalid', 'media link is invalid or expired');
      }
      const rec = await recordings.findById(recordingId);
      if (!rec) throw notFound('recording_not_found', 'recording not found');
      // Another site's recording answers exactly like a missing one.
      const call = signed ? undefined : await calls.findInSites(rec.callId, readableSites(access.principal!));
      if (!signed && !call) {
        const any = await calls.findInSites(rec.callId, 'all');
        await auditRefusedRead(audit, access.principal!, { what: `recording ${kind}`, targetType: 'recording', targetId: recordingId, siteId: any?.siteId });
        throw notFound('recording_not_found', 'recording not found');
      }
      let object: { key: string; size: number; mediaType: string; sha256: string | null; filename: string };
      if (kind === 'original') {
        if (!rec.objectKey) throw notFound('media_not_at_centre', 'the original is still at the store');
        object = { key: rec.objectKey, size: rec.size, mediaType: rec.mediaType ?? 'application/octet-stream', sha256: rec.sha256, filename: rec.name };
      } else if (kind === 'playable') {
        if (!rec.playable) throw notFound('playable_not_ready', `playable copy is not ready (derivation ${rec.derive.status})`);
        object = { key: rec.playable.key, size: rec.playable.size, mediaType: rec.playable.mediaType, sha256: null, filename: `${rec.name.replace(/\.[^.]*$/, '')}.m4a` };
      } else {
        if (!rec.waveform) throw notFound('waveform_not_ready', `waveform is not ready (derivation ${rec.derive.status})`);
        object = { key: rec.waveform.key, size: rec.waveform.size, mediaType: 'application/json', sha256: null, filename: `${rec.name}.waveform.json` };
      }
      const range = parseRange(rangeHeader, object.size);
      if (call) {
        await audit.record(access.principal!, {
          action: 'media.download',
          targetType: 'recording',
          targetId: rec.id,
          siteId: call.siteId,
          details: { kind, callId: call.id, ...(object.sha256 && { sha256: object.sha256 }), ...(range && { range: `${range.start}-${range.end}` }) },
        });
      }
      const stream: Readable = range ? await store.read(object.key, range.start, range.end - range.start + 1) : await store.read(object.key);
      return { stream, range, ...object };
    },
  };
}
export type CallQueryService = ReturnType<typeof callQueryService>;
