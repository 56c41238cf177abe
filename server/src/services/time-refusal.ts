/**
 * Refusing a time an agent sent (issue 12 item 2, docs/design.md invariant 9): footage, gaps and calls alike. The
 * refusal is counted per agent, subject and code for the stores view, audited (except heartbeats, refused again at
 * every beat until the clock is fixed), and answered 422 `time_out_of_bounds` with the accepted range.
 */
import { AGENT_ERROR_CODES } from '@mamoru/contract';
import type { Clock } from '../adapters/clock.ts';
import { unprocessable } from '../domain/errors.ts';
import type { AgentPrincipal } from '../domain/principal.ts';
import { footageTimeViolation, type TimeViolation } from '../domain/time-bounds.ts';
import type { AgentRepository, RefusalSubject } from '../repositories/agent.repository.ts';
import type { AuditService } from './audit.service.ts';

export function timeRefusals(deps: { agents: Pick<AgentRepository, 'recordRefusal' | 'clockOffsetOf'>; audit: Pick<AuditService, 'record'>; clock: Clock }) {
  const { agents, audit, clock } = deps;

  async function refuse(agent: AgentPrincipal, subject: RefusalSubject, v: TimeViolation, what: Record<string, unknown>): Promise<never> {
    const code = AGENT_ERROR_CODES.timeOutOfBounds;
    const detail = { ...what, ...v };
    await agents.recordRefusal({ agentId: agent.agentId, siteId: agent.siteId, subject, code, at: clock.now(), detail });
    if (subject !== 'heartbeat') await audit.record(agent, { action: 'ingest.refused', targetType: 'agent', targetId: agent.agentId, siteId: agent.siteId, details: { subject, code, ...detail } });
    throw unprocessable(code, `${subject} ${v.field} ${v.value} is outside the accepted range ${v.earliest} .. ${v.latest} (centre clock ${v.centreNow}, agent offset ${v.offsetMs} ms)`, v);
  }

  return {
    refuse,
    /**
     * Times from the agent's clock (ms) against the centre's clock and the agent's measured offset (the one sent with
     * the item, else the last heartbeat's): the first one out of bounds is refused.
     */
    async check(agent: AgentPrincipal, subject: RefusalSubject, times: readonly { field: string; ms: number }[], offsetMs: number | null, what: Record<string, unknown>): Promise<void> {
      const offset = offsetMs ?? (await agents.clockOffsetOf(agent.agentId)) ?? 0;
      const v = footageTimeViolation(times, { nowMs: clock.now().getTime(), offsetMs: offset });
      if (v) await refuse(agent, subject, v, what);
    },
  };
}
export type TimeRefusals = ReturnType<typeof timeRefusals>;
