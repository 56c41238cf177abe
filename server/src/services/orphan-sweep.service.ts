import type { Clock } from '../adapters/clock.ts';
import { type ObjectStore, StorageRefusedError } from '../adapters/object-store.ts';

/** Something that owns objects under a key prefix and can say which keys its rows point at. */
export type ObjectOwner = { prefix: string; referenced(keys: string[]): Promise<Set<string>> };

/**
 * Invariant 2: an object that no row points at is removed after a grace period. Uploads write the object first
 * and the row second, so a crash in between leaves an orphan; the grace period keeps in-flight uploads safe.
 * Idempotent and safe to run on several workers at once (removing a missing object is not an error).
 */
export function orphanSweepService(deps: {
  store: ObjectStore;
  clock: Clock;
  graceSeconds: number;
  owners: ObjectOwner[];
  /** Whether the storage protects an object (Object Lock): such an orphan is reported and left, never deleted. */
  protection?: ((key: string) => Promise<{ protects: boolean }>) | undefined;
  log?: ((line: Record<string, unknown>) => void) | undefined;
}) {
  return {
    /**
     * `protected`: unreferenced objects the storage protects (legal hold, COMPLIANCE retention), left alone;
     * `refused`: deletes the storage refused anyway. Both are reported (and logged), neither is an error.
     */
    async sweep(batchSize = 500): Promise<{ scanned: number; removed: string[]; protected: string[]; refused: string[] }> {
      const cutoff = deps.clock.now().getTime() - deps.graceSeconds * 1000;
      const removed: string[] = [];
      const kept: string[] = [];
      const refused: string[] = [];
      let scanned = 0;
      for (const owner of deps.owners) {
        let batch: string[] = [];
        const flush = async () => {
          const refs = await owner.referenced(batch);
          for (const key of batch) {
            if (refs.has(key)) continue;
            if (deps.protection && (await deps.protection(key)).protects) {
              kept.push(key);
              continue;
            }
            try {
              await deps.store.remove(key);
              removed.push(key);
            } catch (e) {
              if (!(e instanceof StorageRefusedError)) throw e;
              refused.push(key);
            }
          }
          batch = [];
        };
        for await (const obj of deps.store.list(owner.prefix)) {
          scanned++;
          if (obj.lastModified.getTime() > cutoff) continue;
          batch.push(obj.key);
          if (batch.length >= batchSize) await flush();
        }
        if (batch.length) await flush();
      }
      if (kept.length || refused.length) deps.log?.({ level: 'warn', msg: 'orphan sweep: the storage protects unreferenced objects; left in place', protected: kept.slice(0, 20), refused: refused.slice(0, 20) });
      return { scanned, removed, protected: kept, refused };
    },
  };
}
export type OrphanSweepService = ReturnType<typeof orphanSweepService>;
