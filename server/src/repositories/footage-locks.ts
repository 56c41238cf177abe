/**
 * Retention against holds (issue 12 item 8): deleting media and placing a hold on it are exclusive for the same camera
 * (or call). Both take a transaction-level advisory lock per camera or call: the retention job exclusive, hold
 * writers (filing a case, linking a window or call, a legal hold) shared, so holds do not wait for each other. The
 * job decides "no active hold" in a statement that starts after its lock is granted, so it sees every hold committed
 * before; a hold writer that took its lock first makes the job wait for its commit. A case reads the footage state
 * after taking its locks, so what it reports as deleted is exactly what retention took before the hold.
 *
 * Keys are int8: the namespace in the high 32 bits, the first 32 bits of the (random) UUID in the low ones. Locks
 * are always taken in ascending key order, one statement each, so two writers cannot deadlock on them.
 */
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

export const CAMERA_FOOTAGE_LOCK = 7_202 as const;
export const CALL_MEDIA_LOCK = 7_203 as const;

const keyOf = (ns: number, uuid: string) => (BigInt(ns) << 32n) | BigInt(Number.parseInt(uuid.replaceAll('-', '').slice(0, 8), 16) || 0);

export type LockTarget = { ns: typeof CAMERA_FOOTAGE_LOCK | typeof CALL_MEDIA_LOCK; id: string };

/** Takes the locks of these targets until the surrounding transaction ends (run it inside one). */
export async function lockTargets(db: Db, targets: readonly LockTarget[], mode: 'shared' | 'exclusive'): Promise<void> {
  const keys = [...new Set(targets.map((t) => keyOf(t.ns, t.id)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const k of keys) {
    if (mode === 'shared') await sql`SELECT pg_advisory_xact_lock_shared(${k.toString()}::int8)`.execute(db);
    else await sql`SELECT pg_advisory_xact_lock(${k.toString()}::int8)`.execute(db);
  }
}
