import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import { signPath, verifyPathSignature } from '../adapters/crypto.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { buildPlaylist, SEGMENT_EXTENSION } from '../domain/hls.ts';
import { type Principal, readableSites } from '../domain/principal.ts';
import { badRequest, forbidden, gone, notFound, rangeNotSatisfiable } from '../domain/errors.ts';
import type { CameraRepository } from '../repositories/camera.repository.ts';
import type { SegmentRepository } from '../repositories/segment.repository.ts';
import { auditRefusedRead, ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

export const MAX_RANGE_MS = 7 * 24 * 3600 * 1000;
/** More segments than this in one request is refused (never silently cut): 7 days of 30 s segments fit. */
export const MAX_SEGMENTS_PER_REQUEST = 20_000;

export type ByteRange = { start: number; end: number }; // inclusive

/** Parses one `bytes=` range against a size; null = whole object; throws 416 when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const unsatisfiable = (message: string) => rangeNotSatisfiable(message, size);
  if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable('unsupported Range header');
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw unsatisfiable('empty suffix range');
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || start > end) throw unsatisfiable(`range outside 0-${size - 1}`);
  return { start, end };
}

export function playbackService(deps: { cameras: CameraRepository; segments: SegmentRepository; store: ObjectStore; clock: Clock; mediaSecret: string; mediaTtlSeconds: number; audit: AuditService }) {
  const { cameras, segments, store, clock, audit } = deps;

  function checkRange(from: Date, to: Date) {
    if (to.getTime() <= from.getTime()) throw badRequest('invalid_range', '`to` must be after `from`');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw badRequest('range_too_long', 'at most 7 days per request');
  }

  /** Role first (403), then the site scope: a camera of another site is as missing as one that does not exist (404). */
  async function scopedCamera(p: Principal, cameraId: string) {
    ensureCan(p, 'footage:read');
    const cam = await cameras.findInSites(cameraId, readableSites(p));
    if (!cam) {
      const any = await cameras.findInSites(cameraId, 'all');
      await auditRefusedRead(audit, p, { what: 'camera', targetType: 'camera', targetId: cameraId, siteId: any?.siteId });
      throw notFound('camera_not_found', 'camera not found');
    }
    return cam;
  }

  /** Segments and gaps of a scoped camera; refuses a range with too many segments rather than cutting it short. */
  async function footageIn(cameraId: string, from: Date, to: Date) {
    const [segs, gaps] = await Promise.all([segments.listInRange(cameraId, from, to, MAX_SEGMENTS_PER_REQUEST + 1), segments.listGapsInRange(cameraId, from, to)]);
    if (segs.length > MAX_SEGMENTS_PER_REQUEST) throw badRequest('range_too_dense', `more than ${MAX_SEGMENTS_PER_REQUEST} segments in this range; ask for a shorter one`);
    return { segs, gaps };
  }

  function mediaPath(segmentId: string) {
    return `/api/v1/media/segments/${segmentId}`;
  }

  return {
    async listCameras(p: Principal, siteId?: string) {
      ensureCan(p, 'footage:read');
      const rows = await cameras.listInSites(readableSites(p), siteId);
      await audit.record(p, { action: 'camera.list', siteId: siteId ?? null, details: { count: rows.length } });
      return rows;
    },
    async camera(p: Principal, cameraId: string) {
      const cam = await scopedCamera(p, cameraId);
      await audit.record(p, { action: 'camera.view', targetType: 'camera', targetId: cam.id, siteId: cam.siteId });
      return cam;
    },
    async timeline(p: Principal, cameraId: string, from: Date, to: Date) {
      checkRange(from, to);
      const cam = await scopedCamera(p, cameraId);
      const { segs, gaps } = await footageIn(cam.id, from, to);
      await audit.record(p, { action: 'footage.timeline', targetType: 'camera', targetId: cam.id, siteId: cam.siteId, details: { from: from.toISOString(), to: to.toISOString(), segments: segs.length, gaps: gaps.length } });
      return { camera: cam, segments: segs, gaps };
    },
    /** The HLS playlist for a camera and range; segment URIs are signed, expiring links. */
    async playlist(p: Principal, cameraId: string, from: Date, to: Date): Promise<string> {
      checkRange(from, to);
      const cam = await scopedCamera(p, cameraId);
      const { segs, gaps } = await footageIn(cam.id, from, to);
      const playable = segs.filter((s) => s.objectKey);
      if (playable.length === 0) throw notFound('no_footage', segs.length > 0 ? `no footage at the centre in this range (${segs.length} segments known, their media is not here)` : 'no stored footage in this range');
      const exp = Math.floor(clock.now().getTime() / 1000) + deps.mediaTtlSeconds;
      // The playback event covers the signed links it hands out: who, which camera and range, until when.
      await audit.record(p, {
        action: 'footage.playlist',
        targetType: 'camera',
        targetId: cam.id,
        siteId: cam.siteId,
        details: { from: from.toISOString(), to: to.toISOString(), segments: playable.length, firstSegmentId: playable[0]!.id, lastSegmentId: playable[playable.length - 1]!.id, linksExpireAt: new Date(exp * 1000).toISOString() },
      });
      // The signature covers the segment's canonical path; the extension only tells players what the file is.
      // Segments whose media is not here break the playlist like gaps do, and say why.
      const absent = segs.filter((s) => !s.objectKey).map((s) => ({ start: s.start, end: s.end, reason: s.deletedAt ? 'deleted_by_retention' : 'at_the_store' }));
      return buildPlaylist(playable, (s) => {
        const path = mediaPath(s.id);
        const ext = SEGMENT_EXTENSION[s.mediaType];
        return `${path}${ext ? `.${ext}` : ''}?exp=${exp}&sig=${signPath(deps.mediaSecret, path, exp)}`;
      }, [...gaps, ...absent]);
    },
    /**
     * Media bytes with Range support, by a signed link from a playlist (the playlist fetch was the audited playback)
     * or by a signed-in person who can read the camera (audited as a download). `segmentFile` is the id, optionally
     * with the extension of its media type (`17` or `17.ts`).
     */
    async media(access: { principal?: Principal; exp?: number; sig?: string }, segmentFile: string, rangeHeader: string | undefined) {
      const signed = access.sig !== undefined || access.exp !== undefined;
      if (!signed && !access.principal) throw forbidden('media_link_invalid', 'media link is invalid or expired (or sign in)');
      if (!signed) ensureCan(access.principal!, 'footage:read');
      const file = /^(\d{1,18})(?:\.([a-z0-9]{1,4}))?$/.exec(segmentFile);
      if (!file) throw notFound('segment_not_found', 'segment not found');
      const segmentId = file[1]!;
      if (signed) {
        const ok = access.sig !== undefined && access.exp !== undefined && verifyPathSignature(deps.mediaSecret, mediaPath(segmentId), access.exp, access.sig, Math.floor(clock.now().getTime() / 1000));
        if (!ok) throw forbidden('media_link_invalid', 'media link is invalid or expired');
      }
      const seg = await segments.findById(segmentId);
      if (!seg || (file[2] !== undefined && SEGMENT_EXTENSION[seg.mediaType] !== file[2])) throw notFound('segment_not_found', 'segment not found');
      // Another site's segment answers exactly like a missing one.
      const cam = signed ? undefined : await cameras.findInSites(seg.cameraId, readableSites(access.principal!));
      if (!signed && !cam) {
        const any = await cameras.findInSites(seg.cameraId, 'all');
        await auditRefusedRead(audit, access.principal!, { what: 'segment media', targetType: 'segment', targetId: segmentId, siteId: any?.siteId });
        throw notFound('segment_not_found', 'segment not found');
      }
      if (!seg.objectKey) {
        if (seg.deletedAt) throw gone('media_deleted', 'this segment\'s media was deleted by the retention policy');
        throw notFound('media_not_at_centre', 'this segment is still at the store');
      }
      const range = parseRange(rangeHeader, seg.byteSize);
      if (cam) {
        await audit.record(access.principal!, {
          action: 'media.download',
          targetType: 'segment',
          targetId: seg.id,
          siteId: cam.siteId,
          details: { cameraId: cam.id, sha256: seg.sha256, ...(range && { range: `${range.start}-${range.end}` }) },
        });
      }
      const stream: Readable = range ? await store.read(seg.objectKey, range.start, range.end - range.start + 1) : await store.read(seg.objectKey);
      return { stream, size: seg.byteSize, range, mediaType: seg.mediaType, sha256: seg.sha256 };
    },
  };
}
export type PlaybackService = ReturnType<typeof playbackService>;
