import type { Clock } from '../adapters/clock.ts';
import type { AgentCommand } from '@mamoru/contract';
import type { AgentPrincipal } from '../domain/principal.ts';
import { conflict, notFound } from '../domain/errors.ts';
import type { CommandRow } from '../repositories/agent-command.repository.ts';
import type { Transactor } from '../repositories/index.ts';
import type { AuditService } from './audit.service.ts';
import { actorOf, isUuid } from './incident-support.ts';


/** A command as the agent receives it in the heartbeat answer. */
export const toWire = (c: CommandRow): AgentCommand => ({ id: c.id, kind: c.kind, cameraKey: c.payload.cameraKey, from: c.payload.from, to: c.payload.to, incidentId: c.payload.incidentId });

/** At most this many commands ride on one heartbeat answer; the rest come with the next ones. */
export const MAX_COMMANDS_PER_HEARTBEAT = 50;

/**
 * Commands for agents (behind NAT, they only call the centre): handed out in heartbeat answers, at least once —
 * a delivered command that is not acknowledged within `redeliverSeconds` is handed out again — and acknowledged
 * by the agent of the command's site only.
 */
export function agentCommandService(deps: { tx: Transactor; audit: AuditService; clock: Clock; redeliverSeconds: number }) {
  const { tx, audit, clock } = deps;
  return {
    /** The site's open commands to carry on this heartbeat answer; each delivery (and redelivery) is audited. */
    async deliver(agent: AgentPrincipal): Promise<AgentCommand[]> {
      const now = clock.now();
      return tx(async (r) => {
        const rows = await r.agentCommands.claimForDelivery(agent.siteId, now, new Date(now.getTime() - deps.redeliverSeconds * 1000), MAX_COMMANDS_PER_HEARTBEAT);
        if (rows.length === 0) return [];
        await audit.recordWithin(r, agent, {
          action: 'agent.command.deliver',
          targetType: 'agent',
          targetId: agent.agentId,
          siteId: agent.siteId,
          details: { commands: rows.map((c) => ({ id: c.id, kind: c.kind, incidentId: c.incidentId, redelivery: c.status === 'delivered', previouslyDeliveredAt: c.deliveredAt?.toISOString() ?? null })) },
        });
        return rows.map(toWire);
      });
    },

    /**
     * The agent reports a command done or failed. Another site's command answers 404 like a missing one. The same
     * report again is a no-op (200); a different report after completion is 409.
     */
    async ack(agent: AgentPrincipal, id: string, status: 'done' | 'failed', detail: string | null) {
      const now = clock.now();
      return tx(async (r) => {
        const cmd = isUuid(id) ? await r.agentCommands.findForSite(id, agent.siteId, true) : undefined;
        if (!cmd) throw notFound('command_not_found', 'command not found');
        if (cmd.status === 'done' || cmd.status === 'failed') {
          if (cmd.status === status) return { id: cmd.id, status, alreadyAcknowledged: true };
          throw conflict('command_already_completed', `the command is already ${cmd.status}`, { status: cmd.status });
        }
        await r.agentCommands.complete(cmd.id, status, detail, now);
        const details = { kind: cmd.kind, status, detail, deliveredAt: cmd.deliveredAt?.toISOString() ?? null, ...cmd.payload };
        if (cmd.incidentId) {
          const a = actorOf(agent);
          await r.incidents.addEvent({ incidentId: cmd.incidentId, at: now, actorType: a.type, actorId: a.id, actorLabel: a.label, action: 'incident.preserve_acknowledged', changes: { commandId: cmd.id, ...details } });
        }
        await audit.recordWithin(r, agent, { action: 'agent.command.ack', targetType: 'agent_command', targetId: cmd.id, siteId: agent.siteId, details });
        return { id: cmd.id, status, alreadyAcknowledged: false };
      });
    },
  };
}
export type AgentCommandService = ReturnType<typeof agentCommandService>;
