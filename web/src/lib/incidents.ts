/**
 * Incidents as the pages need them, in pure functions: the list's filters ↔ URL ↔ API query, the filing form ↔ API
 * body (at most three required fields), and each linked piece of evidence's preservation state.
 *
 * List URL: `/incidents?site=<id>&status=open&category=threat&from=2026-11-24&to=2026-11-24&reporter=<user id>
 * &case=0012&cursor=<opaque>[&lang=en]`; dates are calendar days in the chosen site's zone (or the zone all the
 * person's sites share, else UTC), `to` included, and select cases whose window overlaps them.
 * Filing URL: `/incidents/new?call=<call id>` (from a call) or `/incidents/new?site=<id>&at=<local time>`; after
 * filing, `/incidents/new?filed=<incident id>` shows what was linked and how well it is preserved.
 */
import { INCIDENT_CATEGORIES, INCIDENT_SEVERITIES, INCIDENT_STATUSES } from '@mamoru/contract/enums';
import type { IncidentQuery, IncidentTimeline, NewIncident } from './api.ts';
import { nextDay, searchZone, validDate } from './calls.ts';
import { localToUtc } from './time.ts';

export const CATEGORIES = INCIDENT_CATEGORIES satisfies readonly NewIncident['category'][];
export const SEVERITIES = INCIDENT_SEVERITIES satisfies readonly NewIncident['severity'][];
export const STATUSES = INCIDENT_STATUSES satisfies readonly NonNullable<IncidentQuery['status']>[];
export const INCIDENT_PAGE_SIZE = 20;

export type Category = (typeof CATEGORIES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type Status = (typeof STATUSES)[number];

function known<T extends string>(allowed: readonly T[], v: string): T | undefined {
  return allowed.find((a) => a === v);
}

// ---- the list ----

export type IncidentFilter = { site: string; status: string; category: string; from: string; to: string; reporter: string; case: string; cursor: string };
export const EMPTY_FILTER: IncidentFilter = { site: '', status: '', category: '', from: '', to: '', reporter: '', case: '', cursor: '' };
const FILTER_FIELDS = Object.keys(EMPTY_FILTER) as (keyof IncidentFilter)[];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The filter in a query string; a value the API would refuse (unknown code, bad date or id) is dropped. */
export function filterFromQuery(params: URLSearchParams): IncidentFilter {
  const f = { ...EMPTY_FILTER };
  for (const k of FILTER_FIELDS) f[k] = (params.get(k) ?? '').trim();
  if (!known(STATUSES, f.status)) f.status = '';
  if (!known(CATEGORIES, f.category)) f.category = '';
  if (f.from && !validDate(f.from)) f.from = '';
  if (f.to && !validDate(f.to)) f.to = '';
  if (f.reporter && !UUID.test(f.reporter)) f.reporter = '';
  f.case = f.case.slice(0, 40);
  return f;
}

/** The list page's URL for a filter (empty fields left out), keeping the language. */
export function filterHref(f: IncidentFilter, lang: 'ja' | 'en'): string {
  const q = new URLSearchParams();
  for (const k of FILTER_FIELDS) if (f[k]) q.set(k, f[k]);
  if (lang !== 'ja') q.set('lang', lang);
  const qs = q.toString();
  return `/incidents${qs ? `?${qs}` : ''}`;
}

/** A new filter starts again from the newest page. */
export function withFilter(f: IncidentFilter, change: Partial<IncidentFilter>): IncidentFilter {
  return { ...f, ...change, cursor: change.cursor ?? '' };
}

/** `to` before `from` is the one thing a person can get wrong here. */
export function filterProblem(f: IncidentFilter): 'date_order' | null {
  return f.from && f.to && f.to < f.from ? 'date_order' : null;
}

/** The API's query: days in the zone of the chosen site (or the sites' shared zone, else UTC) become UTC instants. */
export function filterApiQuery(f: IncidentFilter, sites: readonly { id: string; timezone: string }[], limit = INCIDENT_PAGE_SIZE): IncidentQuery {
  const { zone } = searchZone(sites, f.site);
  const from = f.from ? localToUtc(`${f.from}T00:00:00`, zone) : null;
  const to = f.to ? localToUtc(`${nextDay(f.to)}T00:00:00`, zone) : null;
  const status = known(STATUSES, f.status);
  const category = known(CATEGORIES, f.category);
  return {
    ...(f.site && { site: f.site }),
    ...(status && { status }),
    ...(category && { category }),
    ...(from && { from: from.toISOString() }),
    ...(to && { to: to.toISOString() }),
    ...(f.reporter && { reporter: f.reporter }),
    ...(f.case && { caseNumber: f.case }),
    ...(f.cursor && { cursor: f.cursor }),
    limit,
  };
}

// ---- filing ----

/** What the person fills in. Required: category and severity, and the time when not filing from a call. */
export type FilingForm = {
  callId: string;
  siteId: string;
  /** `YYYY-MM-DDTHH:mm` in the site's zone: when it happened (filing from a time at the store). */
  at: string;
  /** How long it went on, in minutes (from a time). */
  minutes: number;
  category: string;
  severity: string;
  title: string;
  narrative: string;
};

export const EMPTY_FILING: FilingForm = { callId: '', siteId: '', at: '', minutes: 10, category: '', severity: '', title: '', narrative: '' };
export type FilingProblem = 'site' | 'at' | 'at_future' | 'minutes' | 'category' | 'severity';

export function filingProblems(f: FilingForm, zone: string | null, now: Date): FilingProblem[] {
  const out: FilingProblem[] = [];
  if (!f.callId) {
    if (!f.siteId || !zone) out.push('site');
    else {
      const start = localToUtc(f.at, zone);
      if (!start) out.push('at');
      else if (start.getTime() > now.getTime()) out.push('at_future');
    }
    if (!Number.isInteger(f.minutes) || f.minutes < 1 || f.minutes > 24 * 60) out.push('minutes');
  }
  if (!known(CATEGORIES, f.category)) out.push('category');
  if (!known(SEVERITIES, f.severity)) out.push('severity');
  return out;
}

/**
 * The API body for a checked form. The API needs a title; when the person gave none it is the category's label and
 * the local time (`暴言 2026-11-24 03:05`), so that a title is never one more required field.
 */
export function filingBody(f: FilingForm, zone: string | null, labels: { category: Record<Category, string> }, whenLabel: string): NewIncident | null {
  const category = known(CATEGORIES, f.category);
  const severity = known(SEVERITIES, f.severity);
  if (!category || !severity) return null;
  const title = f.title.trim() || `${labels.category[category]} ${whenLabel}`.trim();
  const narrative = f.narrative.trim();
  const common = { title, category, severity, ...(narrative && { narrative }) };
  if (f.callId) return { callId: f.callId, ...common };
  const start = zone ? localToUtc(f.at, zone) : null;
  if (!f.siteId || !start) return null;
  const end = new Date(start.getTime() + f.minutes * 60_000);
  return { siteId: f.siteId, window: { from: start.toISOString(), to: end.toISOString() }, ...common };
}

// ---- preservation ----

export type Preservation = 'centre' | 'transit' | 'store' | 'missing';
export type GapShare = { reason: string; ms: number };

export type WindowPreservation = {
  state: Preservation;
  /** The part of the window still to be recorded (the margin after a case filed right away). */
  futureMs: number;
  /** Reported gaps by reason, largest first; the reason is why footage is missing. */
  gaps: GapShare[];
  /** What the agent said when it could not send the footage. */
  detail: string | null;
};

function gapShares(gaps: readonly { from: string; to: string; reason: string }[]): GapShare[] {
  const by = new Map<string, number>();
  for (const g of gaps) by.set(g.reason, (by.get(g.reason) ?? 0) + Math.max(0, Date.parse(g.to) - Date.parse(g.from)));
  return [...by].map(([reason, ms]) => ({ reason, ms })).sort((a, b) => b.ms - a.ms || a.reason.localeCompare(b.reason));
}

/**
 * A camera window's state as a person needs it:
 * - `centre`: every past moment is at the centre (or a reported gap), nothing more to come;
 * - `missing`: nothing of it can come (the agent answered that it could not, or all of it is a reported gap);
 * - `transit`: on its way: the store's agent has the request (or uploads continuously and holds nothing back);
 * - `store`: held at the store: footage the centre does not have and has not yet handed the agent a request for.
 */
export function windowPreservation(w: IncidentTimeline['cameraWindows'][number]): WindowPreservation {
  const a = w.arrival;
  // Media the retention policy deleted before the case held it is shown like a gap, with that reason.
  const gaps = gapShares([...a.gaps, ...a.deleted.map((d) => ({ ...d, reason: 'deleted_by_retention' }))]);
  const detail = w.preserveCommand?.status === 'failed' ? w.preserveCommand.detail : null;
  const base = { futureMs: a.futureMs, gaps, detail };
  if (a.state === 'complete') return { state: a.storedMs === 0 && a.gapMs > 0 ? 'missing' : 'centre', ...base };
  if (a.state === 'failed') return { state: 'missing', ...base };
  const cmd = w.preserveCommand?.status;
  if (cmd === 'delivered' || cmd === 'done') return { state: 'transit', ...base };
  if (a.metadataOnlyMs > 0 || a.missingMs > 0 || cmd === 'pending') return { state: 'store', ...base };
  return { state: 'transit', ...base };
}

export type CallPreservation = { state: Preservation; stored: number; total: number };

/** A call's recordings: all at the centre, some on the way (agents send them by themselves), or none exists. */
export function callPreservation(c: IncidentTimeline['calls'][number]): CallPreservation {
  const total = c.recordings.length;
  const stored = c.recordings.filter((r) => r.stored).length;
  const state: Preservation = total === 0 ? 'missing' : stored === total ? 'centre' : 'transit';
  return { state, stored, total };
}
