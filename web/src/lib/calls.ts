/**
 * The call search as the URL holds it, as the API takes it, and the call's times as a person reads them.
 * URL: `/calls?number=5678&from=2026-11-24&to=2026-11-24&site=<id>&operator=201&direction=inbound&disposition=answered
 * &notice=yes&cursor=<opaque>[&lang=en]`. Dates are calendar days in the site's zone (see `searchZone`), `to` included.
 */
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, NOTICE_PLAYED } from '@mamoru/contract/enums';
import type { CallQuery } from './api.ts';
import type { Lang } from './i18n.ts';
import { checkNumberQuery, normalizeNumberQuery, type NumberProblem } from './phone.ts';
import { formatDateTime, localToUtc, zoneAbbreviation } from './time.ts';

export const DIRECTIONS = CALL_DIRECTIONS;
export const DISPOSITIONS = CALL_DISPOSITIONS;
export const NOTICES = NOTICE_PLAYED;
export const PAGE_SIZE = 25;

export type CallSearch = {
  number: string;
  from: string; // YYYY-MM-DD or ''
  to: string;
  site: string;
  operator: string;
  direction: string;
  disposition: string;
  notice: string;
  cursor: string;
};

export const EMPTY_SEARCH: CallSearch = { number: '', from: '', to: '', site: '', operator: '', direction: '', disposition: '', notice: '', cursor: '' };

const FIELDS = Object.keys(EMPTY_SEARCH) as (keyof CallSearch)[];
const ENUMS: Partial<Record<keyof CallSearch, readonly string[]>> = { direction: DIRECTIONS, disposition: DISPOSITIONS, notice: NOTICES };

/** The search in a query string; an enum value the API does not know is dropped (as if not given). */
export function searchFromQuery(params: URLSearchParams): CallSearch {
  const s = { ...EMPTY_SEARCH };
  for (const f of FIELDS) {
    const v = (params.get(f) ?? '').trim();
    const allowed = ENUMS[f];
    s[f] = allowed && !allowed.includes(v) ? '' : v;
  }
  return s;
}

/** Link to the search page for a search (empty fields left out), keeping the language. */
export function searchHref(s: CallSearch, lang: Lang): string {
  const q = new URLSearchParams();
  for (const f of FIELDS) if (s[f]) q.set(f, s[f]);
  if (lang !== 'ja') q.set('lang', lang);
  const qs = q.toString();
  return `/calls${qs ? `?${qs}` : ''}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function validDate(d: string): boolean {
  const m = DATE.exec(d);
  if (!m) return false;
  const t = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return t.getUTCFullYear() === Number(m[1]) && t.getUTCMonth() === Number(m[2]) - 1 && t.getUTCDate() === Number(m[3]);
}

/** The calendar day after `YYYY-MM-DD`. */
export function nextDay(d: string): string {
  const m = DATE.exec(d);
  if (!m) throw new Error(`not a date: ${d}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1)).toISOString().slice(0, 10);
}

export type SearchProblem = NumberProblem | 'date_invalid' | 'date_order' | 'operator_invalid';

/** What is wrong with a search before it is sent (the centre checks the same and more). */
export function checkSearch(s: CallSearch): SearchProblem[] {
  const out: SearchProblem[] = [];
  if (s.number) {
    const p = checkNumberQuery(s.number);
    if (p) out.push(p);
  }
  if ((s.from && !validDate(s.from)) || (s.to && !validDate(s.to))) out.push('date_invalid');
  else if (s.from && s.to && s.to < s.from) out.push('date_order');
  if (s.operator.length > 64) out.push('operator_invalid');
  return out;
}

/** The search as typed, tidied: number made searchable (full-width digits etc.), no cursor (a new search starts at the top). */
export function tidySearch(s: CallSearch): CallSearch {
  return { ...s, number: s.number ? normalizeNumberQuery(s.number) : '', operator: s.operator.trim(), cursor: '' };
}

/**
 * The zone the search's dates are read in: the chosen site's, else the zone all the person's sites share. With
 * sites in different zones and none chosen, `mixed` is true and UTC is used (the page says so).
 */
export function searchZone(sites: readonly { id: string; timezone: string }[], siteId: string): { zone: string; mixed: boolean } {
  const chosen = sites.find((s) => s.id === siteId);
  if (chosen) return { zone: chosen.timezone, mixed: false };
  const zones = new Set(sites.map((s) => s.timezone));
  if (zones.size === 1) return { zone: [...zones][0]!, mixed: false };
  return { zone: 'UTC', mixed: zones.size > 1 };
}

/** An enum value the API knows, or undefined. */
function known<T extends string>(allowed: readonly T[], v: string): T | undefined {
  return allowed.find((a) => a === v);
}

/** The API's query for a (checked) search: days in `zone` become the UTC instants `[from 00:00, day after to 00:00)`. */
export function searchApiParams(s: CallSearch, zone: string, limit = PAGE_SIZE): CallQuery {
  const from = validDate(s.from) ? localToUtc(`${s.from}T00:00:00`, zone) : null;
  const to = validDate(s.to) ? localToUtc(`${nextDay(s.to)}T00:00:00`, zone) : null;
  const direction = known(DIRECTIONS, s.direction);
  const disposition = known(DISPOSITIONS, s.disposition);
  const notice = known(NOTICES, s.notice);
  return {
    ...(s.site && { site: s.site }),
    ...(from && { from: from.toISOString() }),
    ...(to && { to: to.toISOString() }),
    ...(s.number && { number: s.number }),
    ...(s.operator && { operator: s.operator }),
    ...(direction && { direction }),
    ...(disposition && { disposition }),
    ...(notice && { notice }),
    ...(s.cursor && { cursor: s.cursor }),
    limit,
  };
}

/** A UTC instant in the site's zone with the zone's short name: `2026-11-24 03:05:00 JST`. */
export function siteTime(iso: string | null, timeZone: string): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return `${formatDateTime(t, timeZone)} ${zoneAbbreviation(timeZone, t)}`;
}

/** `0:26`, `12:05`, `1:02:03`: a call's length as a clock reads it. */
export function clockDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export type TimeRow = { key: 'start' | 'answer' | 'pickup' | 'end'; site: string | null; raw: string | null };

/**
 * Start, the PBX's answer and end in the site's zone, each with the PBX's own string beside it; the operator's
 * pickup (when known, e.g. from CEL or AMI) between answer and end — it has no PBX string of its own.
 */
export function callTimeRows(
  t: { startUtc: string; answerUtc: string | null; pickupUtc?: string | null; endUtc: string; raw: { start: string | null; answer: string | null; end: string | null } },
  siteZone: string,
): TimeRow[] {
  return [
    { key: 'start', site: siteTime(t.startUtc, siteZone), raw: t.raw.start },
    { key: 'answer', site: siteTime(t.answerUtc, siteZone), raw: t.raw.answer },
    ...(t.pickupUtc ? [{ key: 'pickup' as const, site: siteTime(t.pickupUtc, siteZone), raw: null }] : []),
    { key: 'end', site: siteTime(t.endUtc, siteZone), raw: t.raw.end },
  ];
}

/** Human file sizes: `412 B`, `1.2 KB`, `3.4 MB` (1000-based, as file managers show them). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const ROLE_ORDER = ['mixed', 'stereo', 'caller', 'operator'];

/** Recordings in the order people listen: the whole call (mixed or stereo) first, then customer, then operator; the centre's order within a role. */
export function orderRecordings<T extends { role: string }>(recordings: readonly T[]): T[] {
  const rank = (r: T) => {
    const i = ROLE_ORDER.indexOf(r.role);
    return i < 0 ? ROLE_ORDER.length : i;
  };
  return recordings.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
}
