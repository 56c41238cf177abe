import { createRoute, z } from '@hono/zod-openapi';
import { AGENT_ROUTES, CommandAckBodySchema, CommandAckResponseSchema } from '@mamoru/contract';
import type { HttpAuth } from '../http/auth.ts';
import { errorResponses, router } from '../http/openapi.ts';
import type { AgentCommandService } from '../services/agent-command.service.ts';

const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const security = [{ agentCredential: [] }];

/** The agent's side of commands: they arrive in heartbeat answers (agent.routes.ts); the agent acknowledges each here. */
export function agentCommandRoutes(deps: { commands: AgentCommandService; http: Pick<HttpAuth, 'agent'> }) {
  const app = router();
  app.use('/commands/*', deps.http.agent);

  app.openapi(
    createRoute({
      method: 'post',
      path: AGENT_ROUTES.commandAck,
      summary: "Acknowledge a command of this agent's site: done, or failed with a detail",
      description: 'Another site\'s command answers 404 `command_not_found` like a missing one. The same acknowledgement again answers 200 (`alreadyAcknowledged`); a different one after completion 409 `command_already_completed`.',
      security,
      request: { params: z.object({ id: z.string().uuid() }), body: { content: { 'application/json': { schema: CommandAckBodySchema } }, required: true } },
      responses: { 200: json(CommandAckResponseSchema), ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await deps.commands.ack(c.get('agent'), c.req.valid('param').id, b.status, b.detail), 200);
    },
  );
  return app;
}
