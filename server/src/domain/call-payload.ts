/**
 * The agent's call payload (its schema is `CallPayloadSchema` in @mamoru/contract) and how the centre fingerprints
 * a version of it: canonical JSON, then SHA-256.
 */
import { createHash } from 'node:crypto';
import type { CallPayload } from '@mamoru/contract/call-payload';

/** JSON with object keys sorted at every level: equal content gives equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function payloadDigest(p: CallPayload): Buffer {
  return createHash('sha256').update(canonicalJson(p)).digest();
}
