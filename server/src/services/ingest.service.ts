import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { storeVerified } from './verified-upload.ts';
import type { GapReason } from '../db/schema.ts';
import type { AgentPrincipal } from '../domain/principal.ts';
import { badRequest, conflict, gone, notFound, tooLarge } from '../domain/errors.ts';
import type { AgentRepository, AgentStatus } from '../repositories/agent.repository.ts';
import type { CameraRepository } from '../repositories/camera.repository.ts';
import type { SegmentRepository } from '../repositories/segment.repository.ts';
import type { AgentCommand, PutStatus, UploadMode } from '@mamoru/contract';
import type { AgentCommandService } from './agent-command.service.ts';
import type { AuditService } from './audit.service.ts';
import type { StorageLockService } from './storage-lock.service.ts';

export type SegmentMeta = {
  cameraKey: string;
  start: Date;
  durationMs: number;
  size: number;
  sha256: string; // lowercase hex, computed at the edge when the file closed
  mediaType: string;
  codec: Record<string, unknown>;
  runId: string | null;
  clockOffsetMs: number | null;
};

export type IngestResult = { status: PutStatus; segmentId: string };


function objectKeyFor(siteId: string, cameraId: string, start: Date, ext: string) {
  const iso = start.toISOString();
  const day = iso.slice(0, 10).replaceAll('-', '/');
  return `segments/${siteId}/${cameraId}/${day}/${iso.replace(/[:.]/g, '')}-${randomUUID()}.${ext}`;
}

const EXT: Record<string, string> = { 'video/mp2t': 'ts', 'video/mp4': 'mp4', 'video/iso.segment': 'm4s' };

export function ingestService(deps: {
  cameras: CameraRepository;
  segments: SegmentRepository;
  agents: AgentRepository;
  store: ObjectStore;
  clock: Clock;
  maxSegmentBytes: number;
  audit: AuditService;
  /** Open commands for the agent's site, carried on heartbeat answers. */
  commands: Pick<AgentCommandService, 'deliver'>;
  /** Object Lock for the stored media (retention by policy, legal hold when held); absent: app-level rules only. */
  storageLock?: Pick<StorageLockService, 'segmentStored'>;
}) {
  const { cameras, segments, agents, store, clock } = deps;

  async function cameraOf(agent: AgentPrincipal, key: string) {
    const cam = await cameras.findBySiteAndKey(agent.siteId, key);
    if (!cam) throw notFound('camera_not_found', `no camera '${key}' at this agent's site`);
    return cam;
  }

  /** Checks that need no database: size limit and media type (the same for the media and the metadata route). */
  function checkMeta(meta: SegmentMeta) {
    if (meta.size > deps.maxSegmentBytes) throw tooLarge('segment_too_large', `segment exceeds ${deps.maxSegmentBytes} bytes`);
    if (!EXT[meta.mediaType]) throw badRequest('unsupported_media_type', `media type ${meta.mediaType} is not accepted`);
  }

  /**
   * The row with this segment's identity (camera + real start), if any. It must be the same segment (hash, size,
   * duration): anything else is a conflict. Without one, a row overlapping the span is an overlap.
   */
  async function sameStart(cameraId: string, meta: SegmentMeta, end: Date) {
    const existing = await segments.findByStart(cameraId, meta.start);
    if (existing) {
      if (existing.sha256 !== meta.sha256 || existing.durationMs !== meta.durationMs || existing.byteSize !== meta.size) {
        throw conflict('segment_conflict', 'a different segment with this start is already stored');
      }
      return existing;
    }
    const overlapping = await segments.listInRange(cameraId, meta.start, end, 1);
    if (overlapping.length > 0) throw conflict('segment_overlap', 'segment overlaps a stored segment of this camera');
    return undefined;
  }

  return {
    async registerCamera(agent: AgentPrincipal, c: { key: string; name: string; place: string | null; uploadMode: UploadMode; device: Record<string, unknown>; health: string }) {
      const before = await cameras.findBySiteAndKey(agent.siteId, c.key);
      const row = await cameras.upsert({ siteId: agent.siteId, ...c });
      // Registration is a change of the site's camera set: audited when something other than health changed.
      const fields = (x: { name: string; place: string | null; uploadMode: string; device: unknown }) => JSON.stringify([x.name, x.place, x.uploadMode, x.device]);
      if (!before || fields(before) !== fields(row)) {
        await deps.audit.record(agent, {
          action: before ? 'camera.update' : 'camera.register',
          targetType: 'camera',
          targetId: row.id,
          details: { key: row.key, name: row.name, place: row.place, uploadMode: row.uploadMode },
        });
      }
      return { cameraId: row.id, key: row.key, uploadMode: row.uploadMode };
    },

    /**
     * Streams a segment into S3 while hashing it. Nothing is indexed unless size and SHA-256 match what the edge
     * declared; on any failure the object is removed (and the orphan sweep catches a crash in between). A
     * metadata-only row (on-demand camera) gets the media attached only when hash, size and duration match it.
     */
    async ingestSegment(agent: AgentPrincipal, meta: SegmentMeta, body: Readable, contentLength: number | undefined): Promise<IngestResult> {
      const drain = () => body.resume();
      try {
        checkMeta(meta);
        if (contentLength !== undefined && contentLength !== meta.size) throw badRequest('size_mismatch', `declared size ${meta.size} but body is ${contentLength} bytes`);
        const ext = EXT[meta.mediaType]!;
        const cam = await cameraOf(agent, meta.cameraKey);
        const end = new Date(meta.start.getTime() + meta.durationMs);

        const existing = await sameStart(cam.id, meta, end);
        if (existing?.objectKey) {
          drain();
          return { status: 'exists', segmentId: existing.id };
        }
        if (existing?.deletedAt) throw gone('segment_expired', 'this segment\'s media was deleted by the retention policy; it is not stored again');

        const key = objectKeyFor(agent.siteId, cam.id, meta.start, ext);
        const stored = await storeVerified(store, key, body, { size: meta.size, sha256: meta.sha256, mediaType: meta.mediaType });
        // The object is durably stored (S3 answered the PUT); only now may a row point at it.
        const now = clock.now();
        const protect = () => deps.storageLock?.segmentStored({ key, versionId: stored.versionId, cameraId: cam.id, start: meta.start, end });
        if (existing) {
          if (await segments.attachObject(existing.id, key, now, { sha256: meta.sha256, byteSize: meta.size })) {
            await protect();
            return { status: 'created', segmentId: existing.id };
          }
          // Another upload attached first (or retention got there): keep what the row says, drop our copy.
          await store.remove(key, stored);
          const again = await segments.findById(existing.id);
          if (again?.objectKey) return { status: 'exists', segmentId: existing.id };
          if (again?.deletedAt) throw gone('segment_expired', 'this segment\'s media was deleted by the retention policy; it is not stored again');
          throw conflict('segment_conflict', 'the stored segment with this start changed while uploading');
        }
        const row = await segments.insert({
          cameraId: cam.id,
          start: meta.start,
          end,
          durationMs: meta.durationMs,
          byteSize: meta.size,
          sha256: Buffer.from(meta.sha256, 'hex'),
          mediaType: meta.mediaType,
          codec: meta.codec,
          runId: meta.runId,
          clockOffsetMs: meta.clockOffsetMs,
          objectKey: key,
          storedAt: now,
        });
        if (!row) {
          // Another request created the row meanwhile: the same segment (metadata only, or stored) or an overlap.
          const raced = await segments.findByStart(cam.id, meta.start);
          const same = raced && raced.sha256 === meta.sha256 && raced.byteSize === meta.size && raced.durationMs === meta.durationMs;
          if (same && !raced.objectKey && (await segments.attachObject(raced.id, key, now, { sha256: meta.sha256, byteSize: meta.size }))) {
            await cameras.touchLastSegment(cam.id, end);
            await protect();
            return { status: 'created', segmentId: raced.id };
          }
          await store.remove(key, stored);
          if (same && raced.objectKey) return { status: 'exists', segmentId: raced.id };
          if (raced && !same) throw conflict('segment_conflict', 'a different segment with this start is already stored');
          throw conflict('segment_overlap', 'segment overlaps a stored segment of this camera');
        }
        await cameras.touchLastSegment(cam.id, end);
        await protect();
        return { status: 'created', segmentId: row.id };
      } catch (e) {
        drain();
        throw e;
      }
    },

    /**
     * On-demand cameras: the segment's facts and edge hash without its media. The row has no object (the media stays
     * at the store until a case asks for it, then `ingestSegment` attaches it). Same validation, identity and
     * answers as the media route; idempotent.
     */
    async ingestSegmentMeta(agent: AgentPrincipal, meta: SegmentMeta): Promise<IngestResult> {
      checkMeta(meta);
      const cam = await cameraOf(agent, meta.cameraKey);
      const end = new Date(meta.start.getTime() + meta.durationMs);
      const existing = await sameStart(cam.id, meta, end);
      if (existing) return { status: 'exists', segmentId: existing.id };
      const row = await segments.insert({
        cameraId: cam.id,
        start: meta.start,
        end,
        durationMs: meta.durationMs,
        byteSize: meta.size,
        sha256: Buffer.from(meta.sha256, 'hex'),
        mediaType: meta.mediaType,
        codec: meta.codec,
        runId: meta.runId,
        clockOffsetMs: meta.clockOffsetMs,
        objectKey: null,
        storedAt: null,
      });
      if (!row) {
        const raced = await sameStart(cam.id, meta, end);
        if (raced) return { status: 'exists', segmentId: raced.id };
        throw conflict('segment_overlap', 'segment overlaps a stored segment of this camera');
      }
      await cameras.touchLastSegment(cam.id, end);
      return { status: 'created', segmentId: row.id };
    },

    async reportGap(agent: AgentPrincipal, g: { cameraKey: string; start: Date; end: Date; reason: GapReason; detail: string | null }) {
      if (g.end.getTime() <= g.start.getTime()) throw badRequest('invalid_range', 'gap end must be after its start');
      const cam = await cameraOf(agent, g.cameraKey);
      const { created, gap } = await segments.insertGap({ cameraId: cam.id, start: g.start, end: g.end, reason: g.reason, detail: g.detail });
      return { created, gapId: gap.id };
    },

    async heartbeat(agent: AgentPrincipal, status: AgentStatus & { cameras?: { key: string; health: string }[] }) {
      const now = clock.now();
      await agents.recordContact(agent.agentId, now, status);
      for (const c of status.cameras ?? []) {
        const cam = await cameras.findBySiteAndKey(agent.siteId, c.key);
        if (cam) await cameras.setHealth(cam.id, c.health);
      }
      // The status is recorded first: a failure to hand out commands must not lose the agent's report.
      const commands: AgentCommand[] = await deps.commands.deliver(agent);
      return { commands };
    },
  };
}
export type IngestService = ReturnType<typeof ingestService>;
