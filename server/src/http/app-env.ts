import type { HttpBindings } from '@hono/node-server';
import type { AgentPrincipal, Principal } from '../domain/principal.ts';

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: { requestId: string; clientRequestId?: string; principal: Principal; agent: AgentPrincipal };
};
