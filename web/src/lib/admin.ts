/**
 * Pure helpers of the stores, audit and admin pages (no DOM): the audit filter ↔ URL ↔ API, the 24-hour coverage
 * bar's pieces, the admin tabs, and small formatting. Tested in web/test/admin.test.ts.
 */
import { AUDIT_OUTCOMES, type AuditOutcome } from '@mamoru/contract/enums';
import type { Lang } from './i18n.ts';
import { hrefWithLang } from './i18n.ts';
import { formatDateTime, localToUtc, utcToLocalInput } from './time.ts';

/**
 * The audit log spans every site; its times are shown (and typed) in the centre's zone, named on the page. The
 * stores are in Japan; one zone keeps the log's order readable.
 */
export const AUDIT_ZONE = 'Asia/Tokyo';
export const AUDIT_PAGE_SIZE = 50;

export type AuditFilter = { actor: string; action: string; targetType: string; targetId: string; from: string; to: string; outcome: '' | AuditOutcome; cursor: string };
export const EMPTY_AUDIT_FILTER: AuditFilter = { actor: '', action: '', targetType: '', targetId: '', from: '', to: '', outcome: '', cursor: '' };
const AUDIT_KEYS = ['actor', 'action', 'targetType', 'targetId', 'from', 'to', 'outcome', 'cursor'] as const;

export function auditFilterFromQuery(q: URLSearchParams): AuditFilter {
  const f = { ...EMPTY_AUDIT_FILTER };
  for (const k of AUDIT_KEYS) {
    const v = (q.get(k) ?? '').trim();
    if (k === 'outcome') f.outcome = (AUDIT_OUTCOMES as readonly string[]).includes(v) ? (v as AuditOutcome) : '';
    else f[k] = v;
  }
  return f;
}

/** The page's URL for a filter: only the fields that are set, the language kept. */
export function auditHref(f: AuditFilter, lang: Lang): string {
  const q = new URLSearchParams();
  for (const k of AUDIT_KEYS) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return hrefWithLang(`/audit${s ? `?${s}` : ''}`, lang);
}

export type AuditFilterProblem = 'from_invalid' | 'to_invalid' | 'order';

/** What is wrong with a filter's times (typed as wall clock in AUDIT_ZONE). */
export function auditFilterProblems(f: AuditFilter): AuditFilterProblem[] {
  const out: AuditFilterProblem[] = [];
  const from = f.from ? localToUtc(f.from, AUDIT_ZONE) : null;
  const to = f.to ? localToUtc(f.to, AUDIT_ZONE) : null;
  if (f.from && !from) out.push('from_invalid');
  if (f.to && !to) out.push('to_invalid');
  if (from && to && from >= to) out.push('order');
  return out;
}

/** The API query for a (valid) filter. */
export function auditApiQuery(f: AuditFilter, limit = AUDIT_PAGE_SIZE) {
  const from = f.from ? localToUtc(f.from, AUDIT_ZONE) : null;
  const to = f.to ? localToUtc(f.to, AUDIT_ZONE) : null;
  return {
    limit,
    ...(f.actor && { actor: f.actor }),
    ...(f.action && { action: f.action }),
    ...(f.targetType && { targetType: f.targetType }),
    ...(f.targetId && { targetId: f.targetId }),
    ...(from && { from: from.toISOString() }),
    ...(to && { to: to.toISOString() }),
    ...(f.outcome && { outcome: f.outcome }),
    ...(f.cursor && { cursor: f.cursor }),
  };
}

/** An event's time on the audit page. */
export const auditTime = (iso: string) => formatDateTime(new Date(iso), AUDIT_ZONE);
/** A time for the filter's datetime-local inputs. */
export const auditInputTime = (iso: string) => utcToLocalInput(new Date(iso), AUDIT_ZONE).slice(0, 16);

export type BarPiece = { kind: 'covered' | 'hole' | 'gap' | 'notYet'; start: string; end: string; left: number; width: number; reason?: string; detail?: string | null };

type Span = { start: string; end: string };

/**
 * The pieces of a camera's coverage bar over [from, to], as percentages: footage, holes, the "not yet" tail, and
 * the reported gaps (drawn over the holes, with their reasons). Pieces thinner than a pixel still get a minimum
 * width so that a short gap stays visible.
 */
export function coverageBar(c: { covered: Span[]; holes: Span[]; notYet: Span | null }, gaps: (Span & { reason: string; detail: string | null })[], from: string, to: string, minWidth = 0.25): BarPiece[] {
  const f = Date.parse(from);
  const total = Date.parse(to) - f;
  if (!(total > 0)) return [];
  const piece = (kind: BarPiece['kind'], s: Span, extra: Partial<BarPiece> = {}): BarPiece | null => {
    const a = Math.max(Date.parse(s.start), f);
    const b = Math.min(Date.parse(s.end), f + total);
    if (b <= a) return null;
    const left = ((a - f) / total) * 100;
    const width = Math.max(((b - a) / total) * 100, minWidth);
    return { kind, start: s.start, end: s.end, left: round(left), width: round(Math.min(width, 100 - left)), ...extra };
  };
  return [
    ...c.covered.map((s) => piece('covered', s)),
    ...c.holes.map((s) => piece('hole', s)),
    ...(c.notYet ? [piece('notYet', c.notYet)] : []),
    ...gaps.map((g) => piece('gap', g, { reason: g.reason, detail: g.detail })),
  ].filter((p): p is BarPiece => p !== null);
}
const round = (x: number) => Math.round(x * 1000) / 1000;

/** Share of the judged window with footage, in whole percent (floor, so 99.9 % is not shown as 100). */
export function coveragePercent(c: { coveredMs: number; holeMs: number; notYet: Span | null }): number {
  const notYetMs = c.notYet ? Date.parse(c.notYet.end) - Date.parse(c.notYet.start) : 0;
  const judged = c.coveredMs + c.holeMs + notYetMs;
  return judged > 0 ? Math.floor(((c.coveredMs + notYetMs) / judged) * 100) : 0;
}

/** Disk use as a whole percentage, null when unknown. */
export function diskPercent(used: number | null, total: number | null): number | null {
  return used !== null && total ? Math.round((used / total) * 100) : null;
}

export const ADMIN_TABS = ['users', 'sites', 'tokens', 'agents', 'retention'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

/** The admin page's tab from its URL; retention is the only tab for roles that read policies without managing people. */
export function adminTabFromQuery(q: URLSearchParams, capabilities: readonly string[]): AdminTab | null {
  const allowed = adminTabsFor(capabilities);
  const asked = q.get('tab') as AdminTab | null;
  if (asked && allowed.includes(asked)) return asked;
  return allowed[0] ?? null;
}

export function adminTabsFor(capabilities: readonly string[]): AdminTab[] {
  const tabs: AdminTab[] = [];
  if (capabilities.includes('users:manage')) tabs.push('users');
  if (capabilities.includes('sites:manage')) tabs.push('sites');
  if (capabilities.includes('agents:manage')) tabs.push('tokens', 'agents');
  if (capabilities.includes('retention:read')) tabs.push('retention');
  return tabs;
}

/** Whether a person may open /admin at all: admins, and hq for the retention tab (which hq edits). */
export const canAdmin = (capabilities: readonly string[]) => capabilities.includes('users:manage') || capabilities.includes('agents:manage') || capabilities.includes('retention:manage');

/** Roles bound to sites (the user form asks for sites only for them). */
export const roleHasSites = (role: string) => role === 'store_manager' || role === 'security';
