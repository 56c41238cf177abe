import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
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
}) {
  const batchSize = deps.batchSize ?? 200;

  async function remove(key: string, failures: string[]) {
    try {
      await deps.store.remove(key);
    } catch (e) {
      failures.push(key);
      deps.log?.({ level: 'warn', msg: 'retention: object removal failed; the orphan sweep will remove it', key, error: (e as Error).message });
    }
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
          for (const s of claimed) await remove(s.objectKey, result.removalFailures);
          result.segments.deleted += claimed.length;
          result.segments.bytes += claimed.reduce((n, s) => n + s.byteSize, 0);
          await opts.progress?.({ step: 'segments', deleted: result.segments.deleted });
          if (claimed.length < batchSize) break;
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
          for (const rec of claimed) for (const key of rec.objectKeys) await remove(key, result.removalFailures);
          result.recordings.deleted += claimed.length;
          result.recordings.objects += claimed.reduce((n, r) => n + r.objectKeys.length, 0);
          result.recordings.bytes += claimed.reduce((n, r) => n + r.size, 0);
          await opts.progress?.({ step: 'recordings', deleted: result.recordings.deleted });
          if (claimed.length < batchSize) break;
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
