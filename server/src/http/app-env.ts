import type { HttpBindings } from '@hono/node-server';
import type { Principal } from '../domain/principal.ts';

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: { requestId: string; principal: Principal; agent: Extract<Principal, { kind: 'agent' }> };
};
