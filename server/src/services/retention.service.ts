import type { Clock } from '../adapters/clock.ts';
import { type ObjectStore, StorageRefusedError } from '../adapters/object-store.ts';
import type { HoldSyncResult, StorageLockService } from './storage-lock.service.ts';
import { NO_ORIGIN, type Principal, type SystemPrincipal } from '../domain/principal.ts';
import { RETENTION_CLASSES, RETENTION_DESCRIPTION, type RetentionClass } from '../domain/retention.ts';
import { badRequest } from '../domain/errors.ts';
import type { Transactor } from '../repositories/index.ts';
import type { ClaimedRecording, ClaimedSegment, RetentionPolicy, RetentionRepository } from '../repositories/retention.repository.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

/** Who deletes: audit events of the retention job carry actor system / `retention`. */
export const RETENTION_ACTOR: SystemPrincipal = { kind: 'system', name: 'retention', origin: NO_ORIGIN };

const DAY_MS = 86_400_000;

export type RetentionRunResult = {
  at: string;
  segments: { deleted: number; bytes: number; cutoff: string | null };
  recordings: { deleted: number; objects: number; bytes: number; cutoff: string | null };
  /** Objects whose removal failed after their rows were marked: the orphan sweep removes them later. */
  removalFailures: string[];
  /**
   * Objects the storage protects (Object Lock): found protected before deleting (the row was restored: it points
   * at the object again, audited as `retention.delete_refused`), or refused by the storage at the delete.
   */
  refused: { key: string; target: 'segment' | 'recording'; id: string; when: 'checked' | 'delete'; reason: string }[];
  /** The storage's legal holds brought in line with pending evidence holds before the run (null: no object lock). */
  holdSync: HoldSyncResult | null;
};

/**
 * The retention job (invariant 7, docs/design.md §7): deletes routine media past its period and marks the rows; media an
 * active evidence hold covers is never taken. Each batch is one transaction that takes the rows (SKIP LOCKED, only
 * rows that still have an object) and appends one audit event per deletion; the objects are removed after it
 * commits, so a row never points at a removed object, several workers never take the same row, and a crash between
 * the commit and the removal leaves an unreferenced object for the orphan sweep (invariant 2).
 */
export function retentionService(deps: {
  tx: Transactor;
  retention: RetentionRepository;
  store: ObjectStore;
  clock: Clock;
  audit: AuditService;
  batchSize?: number;
  log?: (line: Record<string, unknown>) => void;
  /** The storage's Object Lock: holds are synced first, and what it protects is never deleted (issue 15). */
  storageLock?: Pick<StorageLockService, 'syncHolds' | 'protection'> | undefined;
}) {
  const batchSize = deps.batchSize ?? 200;

  async function remove(key: string, result: RetentionRunResult, target: { type: 'segment' | 'recording'; id: string }) {
    try {
      await deps.store.remove(key);
    } catch (e) {
      if (e instanceof StorageRefusedError) {
        // Reported, not hidden: the bytes stay in the storage; the orphan sweep removes them once the lock ends.
        result.refused.push({ key, target: target.type, id: target.id, when: 'delete', reason: e.reason });
        deps.log?.({ level: 'error', msg: 'retention: the storage refused to delete an object (object lock)', key, target, reason: e.reason });
        return;
      }
      result.removalFailures.push(key);
      deps.log?.({ level: 'warn', msg: 'retention: object removal failed; the orphan sweep will remove it', key, error: (e as Error).message });
    }
  }

  /** The first key of `keys` the storage protects (legal hold, unexpired COMPLIANCE retention), with why. */
  async function protectedKey(keys: string[]): Promise<{ key: string; reason: string } | null> {
    if (!deps.storageLock) return null;
    for (const key of keys) {
      const p = await deps.storageLock.protection(key).catch(() => null);
      if (p?.protects) return { key, reason: p.detail?.legalHold ? 'S3 legal hold' : `${p.detail?.retention?.mode} retention until ${p.detail?.retention?.until.toISOString()}` };
    }
    return null;
  }

  return {
    async run(opts: { progress?: (p: Record<string, unknown>) => Promise<void> } = {}): Promise<RetentionRunResult> {
      const now = deps.clock.now();
      const policies = new Map((await deps.retention.listPolicies()).map((p) => [p.class, p.retentionDays]));
      const result: RetentionRunResult = {
        at: now.toISOString(),
        segments: { deleted: 0, bytes: 0, cutoff: null },
        recordings: { deleted: 0, objects: 0, bytes: 0, cutoff: null },
        removalFailures: [],
        refused: [],
        holdSync: deps.storageLock ? await deps.storageLock.syncHolds() : null,
      };

      const footageDays = policies.get('routine_footage');
      if (footageDays) {
        const cutoff = new Date(now.getTime() - footageDays * DAY_MS);
        result.segments.cutoff = cutoff.toISOString();
        const reason = `retention: routine_footage ${footageDays} days`;
        for (;;) {
          const claimed: ClaimedSegment[] = await deps.tx(async (r) => {
            // Lock the cameras first (hold writers wait, or we wait for their commit), then decide "not held" afresh.
            const cameraIds = await r.retention.expiredSegmentCameras({ cutoff, now, limit: batchSize });
            await r.retention.lockCameraFootage(cameraIds);
            const rows = await r.retention.claimExpiredSegments({ cutoff, now, limit: batchSize, reason, cameraIds });
            for (const s of rows) {
              await deps.audit.recordWithin(r, RETENTION_ACTOR, {
                action: 'retention.delete',
                targetType: 'segment',
                targetId: s.id,
                siteId: s.siteId,
                details: {
                  reason,
                  policy: 'routine_footage',
                  retentionDays: footageDays,
                  cutoff: cutoff.toISOString(),
                  cameraId: s.cameraId,
                  cameraKey: s.cameraKey,
                  start: s.start.toISOString(),
                  end: s.end.toISOString(),
                  sha256: s.sha256,
                  byteSize: s.byteSize,
                  objectKey: s.objectKey,
                },
              });
            }
            return rows;
          });
          const removed = [];
          for (const s of claimed) {
            const prot = await protectedKey([s.objectKey]);
            if (prot) {
              await deps.tx(async (r) => {
                await r.retention.restoreSegment(s.id, s.objectKey);
                await deps.audit.recordWithin(r, RETENTION_ACTOR, { action: 'retention.delete_refused', targetType: 'segment', targetId: s.id, siteId: s.siteId, details: { reason: prot.reason, objectKey: s.objectKey, policy: 'routine_footage' } });
              });
              result.refused.push({ key: prot.key, target: 'segment', id: s.id, when: 'checked', reason: prot.reason });
              deps.log?.({ level: 'warn', msg: 'retention: the storage protects an expired segment; kept', key: s.objectKey, reason: prot.reason });
              continue;
            }
            await remove(s.objectKey, result, { type: 'segment', id: s.id });
            removed.push(s);
          }
          result.segments.deleted += removed.length;
          result.segments.bytes += removed.reduce((n, s) => n + s.byteSize, 0);
          await opts.progress?.({ step: 'segments', deleted: result.segments.deleted });
          if (claimed.length < batchSize || removed.length === 0) break; // a batch all kept by the storage would come back
        }
      }

      const callDays = policies.get('routine_calls');
      if (callDays) {
        const cutoff = new Date(now.getTime() - callDays * DAY_MS);
        result.recordings.cutoff = cutoff.toISOString();
        const reason = `retention: routine_calls ${callDays} days`;
        for (;;) {
          const claimed: ClaimedRecording[] = await deps.tx(async (r) => {
            const callIds = await r.retention.expiredRecordingCalls({ cutoff, now, limit: batchSize });
            await r.retention.lockCallMedia(callIds);
            const rows = await r.retention.claimExpiredRecordings({ cutoff, now, limit: batchSize, reason, callIds });
            for (const rec of rows) {
              await deps.audit.recordWithin(r, RETENTION_ACTOR, {
                action: 'retention.delete',
                targetType: 'recording',
                targetId: rec.id,
                siteId: rec.siteId,
                details: {
                  reason,
                  policy: 'routine_calls',
                  retentionDays: callDays,
                  cutoff: cutoff.toISOString(),
                  callId: rec.callId,
                  name: rec.name,
                  callEndAt: rec.callEndAt.toISOString(),
                  sha256: rec.sha256,
                  size: rec.size,
                  objectKeys: rec.objectKeys,
                },
              });
            }
            return rows;
          });
          const removed = [];
          for (const rec of claimed) {
            const prot = await protectedKey(rec.objectKeys);
            if (prot) {
              await deps.tx(async (r) => {
                await r.retention.restoreRecording(rec.id, rec.keys);
                await deps.audit.recordWithin(r, RETENTION_ACTOR, { action: 'retention.delete_refused', targetType: 'recording', targetId: rec.id, siteId: rec.siteId, details: { reason: prot.reason, objectKeys: rec.objectKeys, policy: 'routine_calls' } });
              });
              result.refused.push({ key: prot.key, target: 'recording', id: rec.id, when: 'checked', reason: prot.reason });
              deps.log?.({ level: 'warn', msg: 'retention: the storage protects an expired recording; kept', keys: rec.objectKeys, reason: prot.reason });
              continue;
            }
            for (const key of rec.objectKeys) await remove(key, result, { type: 'recording', id: rec.id });
            removed.push(rec);
          }
          result.recordings.deleted += removed.length;
          result.recordings.objects += removed.reduce((n, r) => n + r.objectKeys.length, 0);
          result.recordings.bytes += removed.reduce((n, r) => n + r.size, 0);
          await opts.progress?.({ step: 'recordings', deleted: result.recordings.deleted });
          if (claimed.length < batchSize || removed.length === 0) break; // a batch all kept by the storage would come back
        }
      }
      return result;
    },
  };
}
export type RetentionService = ReturnType<typeof retentionService>;

export type PolicyView = RetentionPolicy & { description: string };

/** Reading (hq, auditor) and editing (hq) the retention policies; both audited. */
export function retentionPolicyService(deps: { tx: Transactor; retention: RetentionRepository; audit: AuditService; clock: Clock }) {
  const view = (rows: RetentionPolicy[]): PolicyView[] => rows.map((p) => ({ ...p, description: RETENTION_DESCRIPTION[p.class] }));
  return {
    async list(p: Principal): Promise<PolicyView[]> {
      ensureCan(p, 'retention:read');
      const rows = await deps.retention.listPolicies();
      await deps.audit.record(p, { action: 'retention.policy.view', targetType: 'retention_policy', details: { count: rows.length } });
      return view(rows);
    },

    /** Sets the period of the listed classes; one audit event names every change (from → to). */
    async update(p: Principal, changes: { class: RetentionClass; retentionDays: number | null }[]): Promise<PolicyView[]> {
      ensureCan(p, 'retention:manage');
      if (changes.length === 0) throw badRequest('no_changes', 'give at least one policy');
      const seen = new Set<string>();
      for (const c of changes) {
        if (!RETENTION_CLASSES.includes(c.class)) throw badRequest('unknown_retention_class', `unknown class ${c.class}`);
        if (seen.has(c.class)) throw badRequest('duplicate_class', `class ${c.class} is given twice`);
        seen.add(c.class);
        if (c.class === 'legal_hold' && c.retentionDays !== null) throw badRequest('legal_hold_not_finite', 'a legal hold lasts until it is released; it has no period');
        if (c.class !== 'legal_hold' && c.retentionDays === null) throw badRequest('retention_days_required', `${c.class} needs a period in days`);
      }
      const by = p.kind === 'user' ? p.login : p.kind === 'system' ? p.name : p.kind;
      return deps.tx(async (r) => {
        const before = new Map((await r.retention.lockPolicies()).map((x) => [x.class, x.retentionDays]));
        const now = deps.clock.now();
        const applied: { class: RetentionClass; from: number | null; to: number | null }[] = [];
        for (const c of changes) {
          const from = before.get(c.class) ?? null;
          if (from === c.retentionDays) continue;
          await r.retention.setPolicyDays(c.class, c.retentionDays, by, now);
          applied.push({ class: c.class, from, to: c.retentionDays });
        }
        await deps.audit.recordWithin(r, p, { action: 'retention.policy.update', targetType: 'retention_policy', targetId: changes.map((c) => c.class).join(','), details: { changes: applied, unchanged: changes.length - applied.length } });
        return view(await r.retention.listPolicies());
      });
    },
  };
}
export type RetentionPolicyService = ReturnType<typeof retentionPolicyService>;
