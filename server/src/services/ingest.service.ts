import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { storeVerified } from './verified-upload.ts';
import type { GapReason } from '../db/schema.ts';
import type { AgentPrincipal } from '../domain/principal.ts';
import { badRequest, conflict, gone, notFound, tooLarge, unprocessable } from '../domain/errors.ts';
import { heartbeatTimeViolation } from '../domain/time-bounds.ts';
import { timeRefusals } from './time-refusal.ts';
import type { AgentRepository, AgentStatus } from '../repositories/agent.repository.ts';
import type { CameraRepository } from '../repositories/camera.repository.ts';
import type { SegmentRecord, SegmentRepository } from '../repositories/segment.repository.ts';
import type { Transactor } from '../repositories/index.ts';
import { AGENT_ERROR_CODES, type AgentCommand, type PutStatus, type UploadMode } from '@mamoru/contract';
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
  tx: Transactor;
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
  storageLock?: Pick<StorageLockService, 'segmentPutLock' | 'segmentStored'>;
}) {
  const { cameras, segments, agents, store, clock } = deps;

  async function cameraOf(agent: AgentPrincipal, key: string) {
    const cam = await cameras.findBySiteAndKey(agent.siteId, key);
    if (!cam) throw notFound('camera_not_found', `no camera '${key}' at this agent's site`);
    return cam;
  }

  // Times the agent sent, bounded against the centre's clock (issue 12 item 2): counted, audited, answered 422.
  const timeChecks = timeRefusals({ agents, audit: deps.audit, clock });
  const refuseTime = timeChecks.refuse;
  const checkFootageTimes = timeChecks.check;

  const segmentTimes = (meta: SegmentMeta) => [
    { field: 'start', ms: meta.start.getTime() },
    { field: 'end', ms: meta.start.getTime() + meta.durationMs },
  ];

  /** Checks that need no database: size limit and media type (the same for the media and the metadata route). */
  function checkMeta(meta: SegmentMeta) {
    if (meta.size > deps.maxSegmentBytes) throw tooLarge('segment_too_large', `segment exceeds ${deps.maxSegmentBytes} bytes`);
    if (!EXT[meta.mediaType]) throw badRequest('unsupported_media_type', `media type ${meta.mediaType} is not accepted`);
  }

  const expired = () => gone('segment_expired', 'this segment\'s media was deleted by the retention policy; it is not stored again');

  /**
   * What a new segment meets at the centre, decided from ONE read (identityAt): the row with its identity (camera +
   * real start) must be the same segment (hash, size, duration), anything else there is a conflict; without one, a
   * row overlapping the span is an overlap. `attach`: the same segment is recorded without media (on-demand).
   */
  function decide(row: SegmentRecord | undefined, meta: SegmentMeta): { kind: 'new' } | { kind: 'exists' | 'attach' | 'expired'; row: SegmentRecord } {
    if (!row) return { kind: 'new' };
    if (row.start.getTime() !== meta.start.getTime()) throw conflict('segment_overlap', 'segment overlaps a stored segment of this camera');
    if (row.sha256 !== meta.sha256 || row.durationMs !== meta.durationMs || row.byteSize !== meta.size) {
      throw conflict('segment_conflict', 'a different segment with this start is already stored');
    }
    if (row.objectKey) return { kind: 'exists', row };
    if (row.deletedAt) return { kind: 'expired', row };
    return { kind: 'attach', row };
  }

  const newRow = (cameraId: string, meta: SegmentMeta, end: Date, objectKey: string | null, storedAt: Date | null) => ({
    cameraId,
    start: meta.start,
    end,
    durationMs: meta.durationMs,
    byteSize: meta.size,
    sha256: Buffer.from(meta.sha256, 'hex'),
    mediaType: meta.mediaType,
    codec: meta.codec,
    runId: meta.runId,
    clockOffsetMs: meta.clockOffsetMs,
    objectKey,
    storedAt,
  });

  /**
   * Decides and writes under the camera's ingest lock, in one transaction: concurrent uploads of the same camera
   * take turns between the read and the write, so ten identical uploads at once give one row, one 201 and nine 200s
   * (issue 12 item 3). `objectKey`: the media this request stored (null on the metadata route).
   */
  async function writeUnderLock(cameraId: string, meta: SegmentMeta, end: Date, objectKey: string | null, now: Date): Promise<IngestResult> {
    return deps.tx(async (r) => {
      await r.segments.lockCameraIngest(cameraId);
      const d = decide(await r.segments.identityAt(cameraId, meta.start, end), meta);
      if (d.kind !== 'new' && objectKey === null) return { status: 'exists' as const, segmentId: d.row.id }; // metadata route
      if (d.kind === 'exists') return { status: 'exists' as const, segmentId: d.row.id };
      if (d.kind === 'expired') throw expired();
      if (d.kind === 'attach') {
        if (await r.segments.attachObject(d.row.id, objectKey!, now, { sha256: meta.sha256, byteSize: meta.size })) return { status: 'created' as const, segmentId: d.row.id };
        throw conflict('segment_conflict', 'the stored segment with this start changed while uploading');
      }
      const row = await r.segments.insert(newRow(cameraId, meta, end, objectKey, objectKey ? now : null));
      // Every writer takes the lock, so an exclusion violation here means a writer outside this path: an overlap.
      if (!row) throw conflict('segment_overlap', 'segment overlaps a stored segment of this camera');
      return { status: 'created' as const, segmentId: row.id };
    });
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
        await checkFootageTimes(agent, 'segment', segmentTimes(meta), meta.clockOffsetMs, { cameraKey: meta.cameraKey, sha256: meta.sha256 });
        const cam = await cameraOf(agent, meta.cameraKey);
        const end = new Date(meta.start.getTime() + meta.durationMs);

        // A cheap first look (one read, no lock) so a repeat upload is answered without storing its bytes again.
        const first = decide(await segments.identityAt(cam.id, meta.start, end), meta);
        if (first.kind === 'exists') {
          drain();
          return { status: 'exists', segmentId: first.row.id };
        }
        if (first.kind === 'expired') throw expired();

        const key = objectKeyFor(agent.siteId, cam.id, meta.start, ext);
        // Retention by policy travels on the PUT (Object Lock headers) where the bucket has object lock.
        const lock = (await deps.storageLock?.segmentPutLock(end)) ?? {};
        const stored = await storeVerified(store, key, body, { size: meta.size, sha256: meta.sha256, mediaType: meta.mediaType }, lock);
        // The object is durably stored (S3 answered the PUT); only now may a row point at it.
        let result: IngestResult;
        try {
          result = await writeUnderLock(cam.id, meta, end, key, clock.now());
        } catch (e) {
          await store.remove(key, stored).catch(() => undefined); // the orphan sweep removes it if this fails
          throw e;
        }
        if (result.status === 'exists') {
          // Another upload of the same segment got there first: keep what the row says, drop our copy.
          await store.remove(key, stored).catch(() => undefined);
          return result;
        }
        await cameras.touchLastSegment(cam.id, end);
        // Object Lock for the stored media (retention by policy, legal hold when held), once the row points at it.
        await deps.storageLock?.segmentStored({ key, versionId: stored.versionId, cameraId: cam.id, start: meta.start, end, retained: lock.retainUntil !== undefined });
        return result;
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
      await checkFootageTimes(agent, 'segment_meta', segmentTimes(meta), meta.clockOffsetMs, { cameraKey: meta.cameraKey, sha256: meta.sha256 });
      const cam = await cameraOf(agent, meta.cameraKey);
      const end = new Date(meta.start.getTime() + meta.durationMs);
      const first = decide(await segments.identityAt(cam.id, meta.start, end), meta);
      if (first.kind !== 'new') return { status: 'exists', segmentId: first.row.id };
      const result = await writeUnderLock(cam.id, meta, end, null, clock.now());
      if (result.status === 'created') await cameras.touchLastSegment(cam.id, end);
      return result;
    },

    /** The segment with this identity at the agent's own site (what the agent re-checks before it quarantines). */
    async segmentState(agent: AgentPrincipal, cameraKey: string, start: Date) {
      const cam = await cameraOf(agent, cameraKey);
      const row = await segments.findByStart(cam.id, start);
      if (!row) throw notFound('segment_not_found', 'the centre holds no segment of this camera with this start');
      const media = row.objectKey ? ('stored' as const) : row.deletedAt ? ('deleted' as const) : ('at_store' as const);
      return { segmentId: row.id, sha256: row.sha256, size: row.byteSize, durationMs: row.durationMs, media };
    },

    async reportGap(agent: AgentPrincipal, g: { cameraKey: string; start: Date; end: Date; reason: GapReason; detail: string | null }) {
      if (g.end.getTime() <= g.start.getTime()) throw badRequest('invalid_range', 'gap end must be after its start');
      const times = [{ field: 'start', ms: g.start.getTime() }, { field: 'end', ms: g.end.getTime() }];
      await checkFootageTimes(agent, 'gap', times, null, { cameraKey: g.cameraKey, reason: g.reason });
      const cam = await cameraOf(agent, g.cameraKey);
      const { created, gap } = await segments.insertGap({ cameraId: cam.id, start: g.start, end: g.end, reason: g.reason, detail: g.detail });
      return { created, gapId: gap.id };
    },

    async heartbeat(agent: AgentPrincipal, status: AgentStatus & { sentAtMs: number; cameras?: { key: string; health: string }[] }) {
      const now = clock.now();
      const late = heartbeatTimeViolation(status.sentAtMs, now.getTime());
      if (late) await refuseTime(agent, 'heartbeat', late, { version: status.version });
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
