/** Incidents (cases): codes and labels, status rules, case numbers and footage arrival. Pure: no I/O. */
import { INCIDENT_CATEGORIES, INCIDENT_SEVERITIES, INCIDENT_STATUSES, type IncidentCategory, type IncidentSeverity, type IncidentStatus, type UploadMode } from '@mamoru/contract/enums';
import type { Capability } from './principal.ts';

export type { IncidentCategory, IncidentSeverity, IncidentStatus };

/** Stored as codes; the API shows the Japanese label next to each. */
export const CATEGORY_LABELS: Readonly<Record<IncidentCategory, string>> = {
  verbal_abuse: '暴言',
  threat: '脅迫',
  excessive_demand: '過剰要求',
  prolonged_detention: '長時間拘束',
  violence: '暴力',
  other: 'その他',
};
export const CATEGORIES = INCIDENT_CATEGORIES;

export const SEVERITY_LABELS: Readonly<Record<IncidentSeverity, string>> = { low: '軽微', medium: '中', high: '重大', critical: '緊急' };
export const SEVERITIES = INCIDENT_SEVERITIES;

export const STATUS_LABELS: Readonly<Record<IncidentStatus, string>> = {
  draft: '下書き',
  open: '受付',
  under_review: '確認中',
  referred_to_police: '警察へ相談・通報済み',
  closed: '終結',
};
export const STATUSES = INCIDENT_STATUSES;

/**
 * Allowed status changes and the capability each needs. Filing roles publish or withdraw a draft; reviewing roles
 * move a case through review, referral and closing; only hq reopens a closed case.
 */
export const TRANSITIONS: Readonly<Record<IncidentStatus, Partial<Record<IncidentStatus, Capability>>>> = {
  draft: { open: 'incidents:file', closed: 'incidents:file' },
  open: { under_review: 'incidents:review', referred_to_police: 'incidents:review', closed: 'incidents:review' },
  under_review: { open: 'incidents:review', referred_to_police: 'incidents:review', closed: 'incidents:review' },
  referred_to_police: { under_review: 'incidents:review', closed: 'incidents:review' },
  closed: { open: 'incidents:reopen' },
};

export type TransitionCheck = { ok: true; needs: Capability } | { ok: false; reason: 'invalid_transition'; allowed: IncidentStatus[] };

export function checkTransition(from: IncidentStatus, to: IncidentStatus): TransitionCheck {
  const needs = TRANSITIONS[from][to];
  if (!needs) return { ok: false, reason: 'invalid_transition', allowed: Object.keys(TRANSITIONS[from]) as IncidentStatus[] };
  return { ok: true, needs };
}

/** `SHB-2026-0001`: the site code in capitals, the year of filing in the site's time zone, a per-site-year number. */
export function caseNumber(siteCode: string, year: number, seq: number): string {
  return `${siteCode.toUpperCase()}-${year}-${String(seq).padStart(4, '0')}`;
}

/** The calendar year of an instant in an IANA time zone. */
export function yearIn(timeZone: string, at: Date): number {
  const y = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).formatToParts(at).find((p) => p.type === 'year');
  return Number(y?.value ?? at.getUTCFullYear());
}

/** One staff member involved (the operator on the call, the clerk at the counter): not necessarily a user. */
export type InvolvedStaff = { name: string; role: string | null; extension: string | null };

// ---------------------------------------------------------------------------------------------------------------
// Footage arrival for a camera window

export type Interval = { start: number; end: number }; // ms since epoch, [start, end)

/** Union of intervals, sorted and merged (touching or within `joinMs` of each other). */
export function union(xs: readonly Interval[], joinMs = 0): Interval[] {
  const s = xs.filter((x) => x.end > x.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const x of s) {
    const last = out[out.length - 1];
    if (last && x.start <= last.end + joinMs) last.end = Math.max(last.end, x.end);
    else out.push({ ...x });
  }
  return out;
}

const clip = (x: Interval, w: Interval): Interval => ({ start: Math.max(x.start, w.start), end: Math.min(x.end, w.end) });
const total = (xs: readonly Interval[]) => xs.reduce((n, x) => n + (x.end - x.start), 0);
/** The parts of `xs` that lie inside `ys` (both merged first). */
const intersect = (xs: readonly Interval[], ys: readonly Interval[]): Interval[] =>
  union(xs).flatMap((x) => union(ys).map((y) => clip(x, y))).filter((x) => x.end > x.start);

/** `w` minus the (merged) intervals `covered`. */
export function subtract(w: Interval, covered: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let t = w.start;
  for (const c of union(covered.map((x) => clip(x, w)))) {
    if (c.start > t) out.push({ start: t, end: c.start });
    t = Math.max(t, c.end);
  }
  if (t < w.end) out.push({ start: t, end: w.end });
  return out;
}

export type ArrivalInput = {
  window: Interval;
  /** `deleted`: the retention job deleted the media (the row stays); such a row is neither stored nor at the store. */
  segments: readonly { start: number; end: number; stored: boolean; deleted?: boolean }[];
  gaps: readonly { start: number; end: number }[];
  now: number;
  /** Holes between segments up to this long are boundaries, not missing footage (same as HLS contiguity). */
  toleranceMs: number;
};

export type Arrival = {
  /** Segment rows overlapping the window, and how many of them have their media at the centre. */
  segmentCount: number;
  storedCount: number;
  metadataOnlyCount: number;
  /** Rows whose media the retention job deleted before the case asked (known footage, gone for good). */
  deletedCount: number;
  deletedMs: number;
  deletedSpans: Interval[];
  /** Milliseconds of the window covered by stored media, by rows whose media is still at the store, by reported gaps. */
  storedMs: number;
  metadataOnlyMs: number;
  gapMs: number;
  /** Where the window's media is at the centre, and where only metadata is (media still at the store), merged. */
  storedSpans: Interval[];
  atStoreSpans: Interval[];
  /** Past time of the window with no segment row and no reported gap (longer than the tolerance each). */
  missing: Interval[];
  missingMs: number;
  /** Time of the window after `now`: not recorded yet. */
  futureMs: number;
  /** Every past moment is either stored at the centre or a reported gap. */
  complete: boolean;
};

export function arrival(a: ArrivalInput): Arrival {
  const w = a.window;
  const segs = a.segments.filter((s) => s.end > w.start && s.start < w.end);
  const stored = union(segs.filter((s) => s.stored).map((s) => clip(s, w)));
  const metaOnly = union(segs.filter((s) => !s.stored && !s.deleted).map((s) => clip(s, w)));
  const deleted = union(segs.filter((s) => !s.stored && s.deleted).map((s) => clip(s, w)));
  const gaps = union(a.gaps.map((g) => clip(g, w)));
  const past: Interval = { start: w.start, end: Math.max(w.start, Math.min(w.end, a.now)) };
  const covered = union([...stored, ...metaOnly, ...deleted, ...gaps], a.toleranceMs);
  const missing = subtract(past, covered).filter((x) => x.end - x.start > a.toleranceMs);
  const storedMs = total(stored);
  // Each moment counts once: stored media first, then metadata-only rows, then reported gaps.
  const metadataOnlyMs = total(intersect(metaOnly, subtract(w, stored)));
  const gapMs = total(intersect(gaps, subtract(w, [...stored, ...metaOnly])));
  const storedCount = segs.filter((s) => s.stored).length;
  const deletedCount = segs.filter((s) => !s.stored && s.deleted).length;
  const deletedOnly = intersect(deleted, subtract(w, [...stored, ...metaOnly]));
  return {
    segmentCount: segs.length,
    storedCount,
    metadataOnlyCount: segs.length - storedCount - deletedCount,
    deletedCount,
    deletedMs: total(deletedOnly),
    deletedSpans: union(deletedOnly, a.toleranceMs),
    storedMs,
    metadataOnlyMs,
    gapMs,
    storedSpans: union(stored, a.toleranceMs),
    atStoreSpans: union(intersect(metaOnly, subtract(w, stored)), a.toleranceMs),
    missing,
    missingMs: total(missing),
    futureMs: Math.max(0, w.end - Math.max(w.start, a.now)),
    complete: missing.length === 0 && segs.every((s) => s.stored),
  };
}

/**
 * Whether the centre must ask the store's agent to preserve and send a window: the camera keeps its media at the store
 * (on-demand), or some of the window is only metadata at the centre, or some past time of it has no row at all.
 */
export function needsPreservation(uploadMode: UploadMode, a: Arrival): boolean {
  return uploadMode === 'on-demand' || a.metadataOnlyCount > 0 || a.missing.length > 0;
}
