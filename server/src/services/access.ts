import { type Capability, can, type Principal, type UserPrincipal } from '../domain/principal.ts';
import { forbidden } from '../domain/errors.ts';
import type { AuditService } from './audit.service.ts';

/** The role check every service method makes first; the site scope is applied after it. */
export function ensureCan(p: Principal, cap: Capability): void {
  if (!can(p, cap)) throw forbidden('forbidden', `this role may not do this (needs ${cap})`);
}

export function ensureUser(p: Principal): asserts p is UserPrincipal {
  if (p.kind !== 'user') throw forbidden('forbidden', 'only a signed-in person may do this');
}

/**
 * A read the site scope refused, audited as `access.refused`: the caller gets the same 404 as for something that does
 * not exist (existence is never revealed to them); the auditor sees who asked for what and, when it exists, whose
 * site it belongs to (`reason: outside_scope`), or that nothing has that id (`reason: not_found`). Misses of both
 * kinds are recorded, so the answer takes the same work either way.
 */
export async function auditRefusedRead(audit: Pick<AuditService, 'record'>, p: Principal, t: { what: string; targetType: string; targetId: string; siteId: string | null | undefined }): Promise<void> {
  await audit.record(p, {
    action: 'access.refused',
    outcome: 'failure',
    targetType: t.targetType,
    targetId: t.targetId.slice(0, 200),
    siteId: t.siteId ?? null,
    details: { reason: t.siteId ? 'outside_scope' : 'not_found', what: t.what },
  });
}
