import { type Capability, can, type Principal, type UserPrincipal } from '../domain/principal.ts';
import { forbidden } from '../domain/errors.ts';

/** The role check every service method makes first; the site scope is applied after it. */
export function ensureCan(p: Principal, cap: Capability): void {
  if (!can(p, cap)) throw forbidden('forbidden', `this role may not do this (needs ${cap})`);
}

export function ensureUser(p: Principal): asserts p is UserPrincipal {
  if (p.kind !== 'user') throw forbidden('forbidden', 'only a signed-in person may do this');
}
