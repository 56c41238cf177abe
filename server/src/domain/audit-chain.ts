/**
 * The audit log's hash chain: pure functions, no I/O.
 *
 * Each event's hash is SHA-256 over a canonical serialization of all its fields and the previous event's hash:
 *
 *   hash(n) = SHA-256( UTF-8( JSON array [ "mamoru-audit-v1", id, occurredAt, actorType, actorId, actorLabel, actorRole,
 *                                          action, targetType, targetId, siteId, ip, userAgent, purpose, requestId,
 *                                          outcome, details, prevHash (, clientRequestId) ] ) )
 *
 * with `id` as a decimal string, `occurredAt` as ISO 8601 UTC with milliseconds, missing values as JSON null,
 * `details` as canonical JSON (object keys sorted by code unit, no whitespace), and `prevHash` as lowercase hex
 * (64 zeros for event 1). `clientRequestId` (the client's own X-Request-Id, kept beside the centre's `requestId`) is
 * appended only when present, so events without one hash exactly as before. Ids run 1, 2, 3, … without gaps, so the
 * chain order is the id order.
 */
import { createHash } from 'node:crypto';
import type { AuditActorType, AuditOutcome } from '../db/schema.ts';

export const CHAIN_VERSION = 'mamoru-audit-v1';
export const GENESIS_HASH = '0'.repeat(64);

export type ChainFields = {
  id: string; // bigint as decimal
  occurredAt: Date;
  actorType: AuditActorType;
  actorId: string | null;
  actorLabel: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  siteId: string | null;
  ip: string | null;
  userAgent: string | null;
  purpose: string | null;
  requestId: string | null;
  /** The client's X-Request-Id (hashed only when present, so events without one hash as before). */
  clientRequestId?: string | null;
  outcome: AuditOutcome;
  details: unknown;
};

export type ChainedEvent = ChainFields & { prevHash: string; hash: string };

/** JSON with object keys sorted at every level; undefined members dropped; only finite numbers. */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('audit details: numbers must be finite');
      return JSON.stringify(Object.is(v, -0) ? 0 : v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
      if (v instanceof Date) return JSON.stringify(v.toISOString());
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`audit details: cannot serialize ${typeof v}`);
  }
}

/** The exact bytes that are hashed for an event. */
export function canonicalEvent(e: ChainFields, prevHash: string): string {
  return JSON.stringify([
    CHAIN_VERSION,
    e.id,
    e.occurredAt.toISOString(),
    e.actorType,
    e.actorId,
    e.actorLabel,
    e.actorRole,
    e.action,
    e.targetType,
    e.targetId,
    e.siteId,
    e.ip,
    e.userAgent,
    e.purpose,
    e.requestId,
    e.outcome,
    // Embedded as a string so the outer array needs no canonicalization of its own.
    canonicalJson(e.details ?? {}),
    prevHash,
    ...(e.clientRequestId != null ? [e.clientRequestId] : []),
  ]);
}

export function eventHash(e: ChainFields, prevHash: string): string {
  return createHash('sha256').update(canonicalEvent(e, prevHash), 'utf8').digest('hex');
}

/** Links a new event after the chain head. */
export function chainNext(head: { lastId: string; lastHash: string }, fields: Omit<ChainFields, 'id'>): ChainedEvent {
  const id = (BigInt(head.lastId) + 1n).toString();
  const e = { ...fields, id };
  return { ...e, prevHash: head.lastHash, hash: eventHash(e, head.lastHash) };
}

export type BrokenReason =
  | 'missing_event' // the id after the previous one is absent: an event was deleted (or ids were changed)
  | 'prev_hash_mismatch' // the stored link does not name the previous event's hash: removed or reordered
  | 'hash_mismatch' // the event's fields do not hash to its stored hash: edited
  | 'head_mismatch' // the chain head names a later or different last event: the tail was removed or replaced
  | 'anchor_mismatch'; // an event's hash differs from one recorded outside the database (the whole chain was rewritten)

export type VerifyResult = {
  ok: boolean;
  checked: number;
  /** The last intact event (id 0 and the genesis hash when there is none). */
  lastGood: { id: string; hash: string };
  head: { lastId: string; lastHash: string };
  firstBroken?: { id: string; reason: BrokenReason; expectedId?: string; detail: string };
};

/**
 * Walks events in id order and stops at the first broken link. A row is intact when its id follows the previous id,
 * its prev_hash is the previous hash, and its fields hash to its stored hash; at the end the head must name the
 * last event.
 */
export async function verifyChain(
  events: AsyncIterable<ChainedEvent>,
  head: { lastId: string; lastHash: string },
  anchors: readonly { id: string; hash: string }[] = [],
): Promise<VerifyResult> {
  let prev = { id: '0', hash: GENESIS_HASH };
  let checked = 0;
  const broken = (id: string, reason: BrokenReason, detail: string, expectedId?: string): VerifyResult => ({
    ok: false,
    checked,
    lastGood: prev,
    head,
    firstBroken: { id, reason, detail, ...(expectedId !== undefined && { expectedId }) },
  });
  for await (const e of events) {
    const expectedId = (BigInt(prev.id) + 1n).toString();
    if (e.id !== expectedId) return broken(e.id, 'missing_event', `expected event ${expectedId} after ${prev.id}, found ${e.id}`, expectedId);
    if (e.prevHash !== prev.hash) return broken(e.id, 'prev_hash_mismatch', `event ${e.id} links to ${e.prevHash.slice(0, 16)}…, previous hash is ${prev.hash.slice(0, 16)}…`);
    const recomputed = eventHash(e, e.prevHash);
    if (recomputed !== e.hash) return broken(e.id, 'hash_mismatch', `event ${e.id}'s fields hash to ${recomputed.slice(0, 16)}…, stored ${e.hash.slice(0, 16)}…`);
    const anchor = anchors.find((a) => a.id === e.id);
    if (anchor && anchor.hash !== e.hash) return broken(e.id, 'anchor_mismatch', `event ${e.id} hashes to ${e.hash.slice(0, 16)}…, the recorded anchor is ${anchor.hash.slice(0, 16)}…`);
    checked++;
    prev = { id: e.id, hash: e.hash };
  }
  const missingAnchor = anchors.find((a) => BigInt(a.id) > BigInt(prev.id));
  if (missingAnchor) return broken(missingAnchor.id, 'anchor_mismatch', `anchored event ${missingAnchor.id} is not in the chain (it ends at ${prev.id})`);
  if (head.lastId !== prev.id || head.lastHash !== prev.hash) {
    // A removed tail: the first missing event. A rewritten last event or unlinked appends: the first event the head disowns.
    const smaller = BigInt(head.lastId) < BigInt(prev.id) ? head.lastId : prev.id;
    const id = head.lastId === prev.id ? prev.id : (BigInt(smaller) + 1n).toString();
    return broken(id, 'head_mismatch', `chain head names event ${head.lastId} (${head.lastHash.slice(0, 16)}…), the chain ends at ${prev.id} (${prev.hash.slice(0, 16)}…)`);
  }
  return { ok: true, checked, lastGood: prev, head };
}
