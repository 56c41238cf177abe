import type { Clock } from '../adapters/clock.ts';
import type { AuditOutcome } from '@mamoru/contract/enums';
import { type ChainFields, type ChainedEvent, chainNext, verifyChain, type VerifyResult } from '../domain/audit-chain.ts';
import type { Principal, RequestOrigin } from '../domain/principal.ts';
import type { AuditFilter, AuditRepository } from '../repositories/audit.repository.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import { ensureCan } from './access.ts';
import { scrubText } from '../domain/text.ts';

/** Someone not (yet) known: a failed sign-in. `label` is the login name they typed. */
export type AnonymousActor = { kind: 'anonymous'; label: string | null; origin: RequestOrigin };
export type AuditActor = Principal | AnonymousActor;

export type AuditEventInput = {
  /** `<noun>.<verb>`, e.g. `auth.login`, `footage.playlist`, `user.create`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  siteId?: string | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
};

/** PostgreSQL text and jsonb cannot hold NUL or lone surrogates; replace them before hashing so the stored row hashes the same. */
const scrubString = scrubText;
function scrub(v: unknown): unknown {
  if (typeof v === 'string') return scrubString(v);
  if (Array.isArray(v)) return v.map(scrub);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [scrubString(k), scrub(x)]));
  return v;
}
const clip = (s: string | null | undefined, max: number) => (s == null ? null : scrubString(s.length > max ? s.slice(0, max) : s));

function actorFields(a: AuditActor): Pick<ChainFields, 'actorType' | 'actorId' | 'actorLabel' | 'actorRole'> {
  switch (a.kind) {
    case 'user':
      return { actorType: 'user', actorId: a.userId, actorLabel: a.login, actorRole: a.role };
    case 'agent':
      return { actorType: 'agent', actorId: a.agentId, actorLabel: null, actorRole: null };
    case 'system':
      return { actorType: 'system', actorId: a.name, actorLabel: null, actorRole: null };
    case 'operator-token':
      return { actorType: 'system', actorId: 'admin-token', actorLabel: 'ADMIN_TOKEN bearer', actorRole: null };
    case 'anonymous':
      return { actorType: 'anonymous', actorId: null, actorLabel: clip(a.label, 200), actorRole: null };
  }
}

/**
 * The audit log (invariant 6). Appends lock the single chain head row, so concurrent writers on any number of
 * replicas produce one chain. `recordWithin` appends inside a caller's transaction, so a change and its event
 * commit together.
 */
export function auditService(deps: { tx: Transactor; audit: AuditRepository; clock: Clock }) {
  const { tx, clock } = deps;

  function fields(actor: AuditActor, ev: AuditEventInput): Omit<ChainFields, 'id'> {
    return {
      occurredAt: clock.now(),
      ...actorFields(actor),
      action: scrubString(ev.action),
      targetType: clip(ev.targetType, 100),
      targetId: clip(ev.targetId, 200),
      siteId: ev.siteId ?? (actor.kind === 'agent' ? actor.siteId : null),
      ip: clip(actor.origin.ip, 100),
      userAgent: clip(actor.origin.userAgent, 500),
      purpose: clip(actor.origin.purpose, 500),
      requestId: clip(actor.origin.requestId, 200),
      clientRequestId: clip(actor.origin.clientRequestId, 200),
      outcome: ev.outcome ?? 'success',
      details: scrub(ev.details ?? {}),
    };
  }

  async function appendWith(repo: AuditRepository, actor: AuditActor, ev: AuditEventInput): Promise<ChainedEvent> {
    const head = await repo.lockHead();
    const e = chainNext(head, fields(actor, ev));
    await repo.insert(e);
    await repo.setHead(e.id, e.hash);
    return e;
  }

  async function verify(anchors: readonly { id: string; hash: string }[] = []): Promise<VerifyResult> {
    // Head first: events appended during the walk are after it and are not judged.
    const head = await deps.audit.readHead();
    async function* upToHead() {
      for await (const e of deps.audit.walk()) {
        if (BigInt(e.id) > BigInt(head.lastId)) return;
        yield e;
      }
    }
    return verifyChain(upToHead(), head, anchors);
  }

  return {
    /** Appends one event in its own transaction. Do not call inside another transaction: use `recordWithin`. */
    record(actor: AuditActor, ev: AuditEventInput): Promise<ChainedEvent> {
      return tx((r) => appendWith(r.audit, actor, ev));
    },
    /** Appends inside the caller's transaction (the head stays locked until it commits). */
    recordWithin(r: Repositories, actor: AuditActor, ev: AuditEventInput): Promise<ChainedEvent> {
      return appendWith(r.audit, actor, ev);
    },

    /** Events, newest first, for the auditor; reading the log is itself recorded. */
    async list(p: Principal, filter: AuditFilter, limit: number) {
      ensureCan(p, 'audit:read');
      const events = await deps.audit.list(filter, limit + 1);
      const page = events.slice(0, limit);
      const nextCursor = events.length > limit ? page[page.length - 1]!.id : null;
      await this.record(p, { action: 'audit.view', details: { filter: { ...filter }, count: page.length } });
      return { events: page, nextCursor };
    },

    /** Walks the whole chain and reports the first broken link; the check is recorded afterwards. */
    async verify(p: Principal, anchors: readonly { id: string; hash: string }[] = []): Promise<VerifyResult> {
      ensureCan(p, 'audit:read');
      const result = await verify(anchors);
      await this.record(p, {
        action: 'audit.verify',
        outcome: result.ok ? 'success' : 'failure',
        details: { ok: result.ok, checked: result.checked, headId: result.head.lastId, ...(result.firstBroken && { firstBroken: result.firstBroken }) },
      });
      return result;
    },
  };
}
export type AuditService = ReturnType<typeof auditService>;
