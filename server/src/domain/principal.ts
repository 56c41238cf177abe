import { ROLES, type Role } from '@mamoru/contract/enums';

export { ROLES, type Role };

/** Where a request came from; recorded with every audit event. */
export type RequestOrigin = {
  ip: string | null;
  userAgent: string | null;
  /** The centre's own id of this request (never the client's). */
  requestId: string | null;
  /** The client's X-Request-Id, when it sent a well-formed one: kept beside the centre's id, marked as the client's. */
  clientRequestId?: string | null;
  /** Why the caller is doing this (X-Mamoru-Purpose header, percent-encoded), where given. */
  purpose: string | null;
};

export const NO_ORIGIN: RequestOrigin = { ip: null, userAgent: null, requestId: null, purpose: null };

export type UserPrincipal = {
  kind: 'user';
  userId: string;
  login: string;
  role: Role;
  /** Sites whose media this user may read: 'all' (hq), assigned (security), owned (store_manager), none (auditor, admin). */
  siteIds: readonly string[] | 'all';
  sessionId: string;
  origin: RequestOrigin;
};
export type AgentPrincipal = { kind: 'agent'; agentId: string; siteId: string; origin: RequestOrigin };
/** The operator's command line and background jobs. Never built from an HTTP request. */
export type SystemPrincipal = { kind: 'system'; name: string; origin: RequestOrigin };
/**
 * The legacy ADMIN_TOKEN bearer (optional, off unless configured): reads footage of every site, nothing else, and
 * every use is audited. It exists so the web viewer built on it keeps working until it signs people in.
 */
export type OperatorTokenPrincipal = { kind: 'operator-token'; origin: RequestOrigin };

/** Who is asking. Services derive the site scope from it; nothing fetches by id without it. */
export type Principal = UserPrincipal | AgentPrincipal | SystemPrincipal | OperatorTokenPrincipal;

/** Sites whose data (footage, calls, incidents) a principal may read: 'all' or a list (possibly empty). */
export function readableSites(p: Principal): readonly string[] | 'all' {
  switch (p.kind) {
    case 'system':
    case 'operator-token':
      return 'all';
    case 'agent':
      return [p.siteId];
    case 'user':
      return p.siteIds;
  }
}

/** Whether a site is inside a principal's data scope. */
export function canReadSite(p: Principal, siteId: string): boolean {
  const s = readableSites(p);
  return s === 'all' || s.includes(siteId);
}

/** What a role may do at all; the site scope then narrows each read and write. */
export type Capability =
  | 'footage:read' // cameras, timelines, playback, media of readable sites
  | 'calls:read' // calls, their recordings and media of readable sites
  | 'sites:list' // names and codes of sites (metadata, no media)
  | 'users:manage' // people, roles, site assignments
  | 'sites:manage' // creating and editing sites
  | 'audit:read' // the audit log and its verification
  | 'incidents:read' // cases of readable sites: details, links, notes, bookmarks, history, timeline
  | 'incidents:file' // file a case (and publish or withdraw a draft)
  | 'incidents:edit' // edit a case's fields, links, notes and bookmarks
  | 'incidents:review' // move a case through review, referral to the police and closing
  | 'incidents:reopen' // reopen a closed case
  | 'incidents:legal_hold' // place and release a legal hold on a case
  | 'retention:read' // retention policies (no media)
  | 'retention:manage' // editing retention policies
  | 'packs:manage' // evidence packs: request, read, download, the signing key, police share links
  | 'fleet:read' // the stores view: agents' status, cameras' coverage and gaps (metadata, no media)
  | 'agents:manage' // enrollment tokens (issue, list, revoke) and agents (list, revoke)
  | 'disclosure:manage'; // data subjects' disclosure requests (開示請求): record, decide, build and send the response

const ROLE_CAPABILITIES: Record<Role, readonly Capability[]> = {
  store_manager: ['footage:read', 'calls:read', 'sites:list', 'incidents:read', 'incidents:file', 'incidents:edit'],
  security: ['footage:read', 'calls:read', 'sites:list', 'incidents:read', 'incidents:file', 'incidents:edit', 'incidents:review', 'fleet:read'],
  hq: ['footage:read', 'calls:read', 'sites:list', 'incidents:read', 'incidents:file', 'incidents:edit', 'incidents:review', 'incidents:reopen', 'incidents:legal_hold', 'retention:read', 'retention:manage', 'packs:manage', 'fleet:read', 'disclosure:manage'],
  auditor: ['audit:read', 'sites:list', 'retention:read'],
  admin: ['users:manage', 'sites:manage', 'sites:list', 'fleet:read', 'agents:manage', 'retention:read'],
};

export function roleCapabilities(role: Role): readonly Capability[] {
  return ROLE_CAPABILITIES[role];
}

export function can(p: Principal, cap: Capability): boolean {
  switch (p.kind) {
    case 'system':
      return true;
    case 'agent':
      return false;
    case 'operator-token':
      return cap === 'footage:read' || cap === 'calls:read' || cap === 'sites:list';
    case 'user':
      return ROLE_CAPABILITIES[p.role].includes(cap);
  }
}

/** The media scope a role gets from its site rows. */
export function siteScopeForRole(role: Role, assignedSiteIds: readonly string[]): readonly string[] | 'all' {
  switch (role) {
    case 'hq':
      return 'all';
    case 'store_manager':
    case 'security':
      return assignedSiteIds;
    case 'auditor':
    case 'admin':
      return [];
  }
}

/** Roles whose access is defined by site rows (owned or assigned). */
export function roleHasSites(role: Role): boolean {
  return role === 'store_manager' || role === 'security';
}

/** Sites whose names a principal may list (metadata only): everything for roles that work across sites. */
export function listableSites(p: Principal): readonly string[] | 'all' {
  if (p.kind === 'user' && (p.role === 'admin' || p.role === 'auditor')) return 'all';
  return readableSites(p);
}
