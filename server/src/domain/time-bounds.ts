/**
 * Bounds on the times an agent sends (issue 12 item 2, docs/design.md invariant 9). Pure: the service gives the
 * centre's clock and the offset to take out. The bounds themselves are the contract's AGENT_TIME_BOUNDS.
 */
import { AGENT_TIME_BOUNDS, MAX_CLOCK_OFFSET_MS } from '@mamoru/contract';

const FLOOR_MS = Date.parse(AGENT_TIME_BOUNDS.floor);

/** One refused time: which field, the value sent, and the range accepted (in the agent's clock, ISO 8601). */
export type TimeViolation = { field: string; value: string; earliest: string; latest: string; offsetMs: number; centreNow: string };

const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));

/**
 * Footage and gap times (agent clock, ms): each must be at or after the floor and, once the agent's offset
 * (agent − centre) is taken out, not more than the tolerance ahead of the centre's clock. The first violation, or null.
 */
export function footageTimeViolation(times: readonly { field: string; ms: number }[], ctx: { nowMs: number; offsetMs: number }): TimeViolation | null {
  const latest = ctx.nowMs + ctx.offsetMs + AGENT_TIME_BOUNDS.futureToleranceMs;
  for (const t of times) {
    if (!Number.isFinite(t.ms) || t.ms < FLOOR_MS || t.ms > latest) {
      return { field: t.field, value: iso(t.ms), earliest: AGENT_TIME_BOUNDS.floor, latest: iso(latest), offsetMs: ctx.offsetMs, centreNow: iso(ctx.nowMs) };
    }
  }
  return null;
}

/** A heartbeat's send time: within the largest accepted clock offset (plus the tolerance) of the centre's clock. */
export function heartbeatTimeViolation(sentAtMs: number, nowMs: number): TimeViolation | null {
  const span = MAX_CLOCK_OFFSET_MS + AGENT_TIME_BOUNDS.futureToleranceMs;
  if (Number.isFinite(sentAtMs) && Math.abs(sentAtMs - nowMs) <= span) return null;
  return { field: 'sentAtMs', value: iso(sentAtMs), earliest: iso(nowMs - span), latest: iso(nowMs + span), offsetMs: 0, centreNow: iso(nowMs) };
}
