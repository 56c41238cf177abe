import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';

/** Something that owns objects under a key prefix and can say which keys its rows point at. */
export type ObjectOwner = { prefix: string; referenced(keys: string[]): Promise<Set<string>> };

/**
 * Invariant 2: an object that no row points at is removed after a grace period. Uploads write the object first
 * and the row second, so a crash in between leaves an orphan; the grace period keeps in-flight uploads safe.
 * Idempotent and safe to run on several workers at once (removing a missing object is not an error).
 */
export function orphanSweepService(deps: { store: ObjectStore; clock: Clock; graceSeconds: number; owners: ObjectOwner[] }) {
  return {
    async sweep(batchSize = 500): Promise<{ scanned: number; removed: string[] }> {
      const cutoff = deps.clock.now().getTime() - deps.graceSeconds * 1000;
      const removed: string[] = [];
      let scanned = 0;
      for (const owner of deps.owners) {
        let batch: string[] = [];
        const flush = async () => {
          const refs = await owner.referenced(batch);
          for (const key of batch) {
            if (!refs.has(key)) {
              await deps.store.remove(key);
              removed.push(key);
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
      return { scanned, removed };
    },
  };
}
export type OrphanSweepService = ReturnType<typeof orphanSweepService>;
