import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore, PutLock, StorageProtection } from '../adapters/object-store.ts';
import type { CoveredObject, StorageLockRepository } from '../repositories/storage-lock.repository.ts';

const DAY_MS = 86_400_000;

export type HoldSyncResult = { holds: number; held: number; released: number; failures: { key: string; error: string }[] };

/**
 * Mirrors our retention rules in the storage's Object Lock (issue 15, docs/design.md §6 "Evidence the storage
 * refuses to delete"), so that even the centre's own S3 credentials cannot delete evidence:
 * - every evidence hold (incident link, legal hold) puts an S3 legal hold on the objects it covers; an object loses it
 *   only when no active hold covers it any more (the last one released or lapsed);
 * - routine media gets GOVERNANCE retention until its capture end + its class's period, which refuses plain deletes
 *   and which the retention job (and only code that asks for it) bypasses when the policy says the media goes;
 * - evidence packs are stored under a legal hold while their case has an active hold.
 * Without object lock (s3rver, a MinIO bucket without it) every call is a no-op and the app-level rules alone hold.
 * Failures are logged and answered, never thrown into the request that stored the media: the hold rows stay pending
 * and the next sync (each hold change, each retention run) retries them.
 */
export function storageLockService(deps: { repo: StorageLockRepository; store: ObjectStore; clock: Clock; log?: (line: Record<string, unknown>) => void }) {
  const { repo, store, clock } = deps;
  const enabled = async () => (await store.capabilities()).objectLock;
  const warn = (msg: string, extra: Record<string, unknown>) => deps.log?.({ level: 'warn', msg, ...extra });

  async function apply(objects: CoveredObject[], result: HoldSyncResult) {
    for (const o of objects) {
      try {
        if (await store.setLegalHold(o.key, o.held)) o.held ? result.held++ : result.released++;
      } catch (e) {
        result.failures.push({ key: o.key, error: (e as Error).message });
      }
    }
  }

  async function retainUntil(cls: 'routine_footage' | 'routine_calls', end: Date): Promise<Date | null> {
    const days = (await repo.policyDays()).get(cls);
    return days ? new Date(end.getTime() + days * DAY_MS) : null;
  }

  return {
    /**
     * Before a segment is stored: the retention its object gets by policy, to travel on the PUT itself (no second S3
     * request). A legal hold is decided after the row exists (segmentStored), so a hold filed during the upload is
     * not missed; failures leave it to segmentStored.
     */
    async segmentPutLock(end: Date): Promise<PutLock> {
      if (!(await enabled())) return {};
      try {
        const until = await retainUntil('routine_footage', end);
        return until && until > clock.now() ? { retainUntil: until } : {};
      } catch (e) {
        warn('storage lock: could not read the retention policy before an upload', { error: (e as Error).message });
        return {};
      }
    },

    /**
     * After a segment's object is stored and its row points at it: retention by policy (unless `retained`: it was set
     * on the PUT), legal hold if held.
     */
    async segmentStored(s: { key: string; versionId?: string | null; cameraId: string; start: Date; end: Date; retained?: boolean }): Promise<void> {
      if (!(await enabled())) return;
      try {
        const until = s.retained ? null : await retainUntil('routine_footage', s.end);
        if (until && until > clock.now()) await store.setRetention(s.key, until, s.versionId);
        if (await repo.segmentHeld(s.cameraId, s.start, s.end, clock.now())) await store.setLegalHold(s.key, true, s.versionId);
      } catch (e) {
        warn('storage lock: could not protect a stored segment', { key: s.key, error: (e as Error).message });
      }
    },

    /** After a call's recording objects (original, or the derived copies) are stored. */
    async recordingStored(r: { keys: { key: string; versionId?: string | null }[]; callId: string }): Promise<void> {
      if (!(await enabled())) return;
      try {
        const call = await repo.call(r.callId, clock.now());
        if (!call) return;
        const until = call.endAt ? await retainUntil('routine_calls', call.endAt) : null;
        for (const k of r.keys) {
          if (until && until > clock.now()) await store.setRetention(k.key, until, k.versionId);
          if (call.held) await store.setLegalHold(k.key, true, k.versionId);
        }
      } catch (e) {
        warn('storage lock: could not protect a stored recording', { keys: r.keys.map((k) => k.key), error: (e as Error).message });
      }
    },

    /** After an evidence pack is stored: a legal hold while its case has an active hold. */
    async packStored(p: { key: string; incidentId: string }): Promise<void> {
      if (!(await enabled())) return;
      try {
        const mine = (await repo.packsCovered(p.incidentId, clock.now())).find((o) => o.key === p.key);
        if (mine?.held) await store.setLegalHold(p.key, true);
      } catch (e) {
        warn('storage lock: could not hold a stored pack', { key: p.key, error: (e as Error).message });
      }
    },

    /**
     * Brings the storage's legal holds in line with every pending evidence hold: for each, the objects it covers
     * get a legal hold if any active hold covers them now, and lose it otherwise. Idempotent; a hold whose objects
     * could not all be set stays pending.
     */
    async syncHolds(): Promise<HoldSyncResult> {
      const result: HoldSyncResult = { holds: 0, held: 0, released: 0, failures: [] };
      if (!(await enabled())) return result;
      for (let round = 0; round < 100; round++) {
        const now = clock.now();
        const pending = await repo.pendingHolds(now, 100);
        if (pending.length === 0) break;
        const done: string[] = [];
        const incidents = new Set<string>();
        for (const h of pending) {
          const before = result.failures.length;
          if (h.cameraId && h.start && h.end) await apply(await repo.segmentsCovered(h.cameraId, h.start, h.end, now), result);
          if (h.callId) await apply(await repo.recordingsCovered(h.callId, now), result);
          if (h.incidentId && !incidents.has(h.incidentId)) {
            incidents.add(h.incidentId);
            await apply(await repo.packsCovered(h.incidentId, now), result);
          }
          if (result.failures.length === before) done.push(h.id);
        }
        await repo.markSynced(done, now);
        result.holds += done.length;
        if (done.length === 0 || pending.length < 100) break;
      }
      if (result.failures.length) warn('storage lock: some legal holds could not be set; the holds stay pending', { failures: result.failures.slice(0, 20) });
      return result;
    },

    /** What the storage enforces on an object; `protects` is true when no delete of ours can succeed. */
    async protection(key: string): Promise<{ protects: boolean; detail: StorageProtection | null }> {
      const detail = await store.protection(key);
      const protects = Boolean(detail && (detail.legalHold || (detail.retention?.mode === 'COMPLIANCE' && detail.retention.until > clock.now())));
      return { protects, detail };
    },
  };
}
export type StorageLockService = ReturnType<typeof storageLockService>;
