/**
 * The case page's pure parts other than the clock: its state in the URL, the timeline lanes drawn from the case
 * timeline's arrival (docs/api-incidents.md §4, §6), bookmark stepping and keyboard shortcuts.
 */
import { instantToFraction } from './timeline.ts';
import type { TimeRange } from './range.ts';
import { SPEEDS } from './case-clock.ts';

// ---------------------------------------------------------------------------------------------------------------
// URL: /incidents/{id}?t=<UTC ISO>&cams=<camera id,…>&speed=<n>[&lang=en]

export type CaseUrlState = {
  /** The moment (UTC ms), or null: open at the case window's start. */
  t: number | null;
  /** Cameras shown, or null: all of them. */
  cams: string[] | null;
  speed: number;
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the state; anything malformed is ignored (the default), never an error page. */
export function caseStateFromQuery(q: URLSearchParams): CaseUrlState {
  const ts = q.get('t');
  const t = ts && ISO.test(ts) ? Date.parse(ts) : NaN;
  const camsRaw = q.get('cams');
  const cams = camsRaw === null ? null : camsRaw.split(',').filter((c) => UUID.test(c));
  const sp = Number(q.get('speed'));
  const speed = (SPEEDS as readonly number[]).includes(sp) ? sp : 1;
  return { t: Number.isFinite(t) ? t : null, cams: cams && (cams.length > 0 || camsRaw === '') ? cams : null, speed };
}

/** The query for a state, keeping other parameters (lang). Whole milliseconds; default values are not written. */
export function caseQuery(state: CaseUrlState, base: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const q = new URLSearchParams(base);
  if (state.t === null) q.delete('t');
  else q.set('t', new Date(Math.round(state.t)).toISOString());
  if (state.cams === null) q.delete('cams');
  else q.set('cams', state.cams.join(','));
  if (state.speed === 1) q.delete('speed');
  else q.set('speed', String(state.speed));
  return q;
}

/** The cameras to show: those asked for that the case has (in the case's order), or all of them. */
export function selectedCameras(all: readonly string[], cams: readonly string[] | null): string[] {
  if (cams === null) return [...all];
  const want = new Set(cams);
  return all.filter((c) => want.has(c));
}

/** Grid columns for n tiles (1 to 9 and beyond): 1, 2, 2, 2, 3, 3, 3, 3, 3, … */
export function gridColumns(n: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(Math.max(1, n))));
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline lanes

export type Stretch = { from: string; to: string };
export type WindowArrival = {
  from: string;
  to: string;
  arrival: { futureMs: number; stored: Stretch[]; atStore: Stretch[]; missing: Stretch[]; gaps: (Stretch & { reason: string; detail: string | null })[] };
};

export type LaneKind = 'footage' | 'at-store' | 'gap' | 'unrecorded' | 'not-yet';
export type LaneSpan = { kind: LaneKind; start: number; end: number; left: number; width: number; reason?: string; detail?: string | null };

/**
 * One camera's lane over the range: stored footage, footage still at the store, reported gaps (with the reason),
 * past time nobody explained, and the part after now ("not yet", never a gap). Outside the camera's linked windows
 * nothing is drawn (it was not linked). Later kinds are drawn over earlier ones.
 */
export function cameraLane(range: TimeRange, windows: readonly WindowArrival[]): LaneSpan[] {
  const from = range.from.getTime();
  const to = range.to.getTime();
  const out: LaneSpan[] = [];
  const add = (kind: LaneKind, a: number, b: number, extra: Partial<LaneSpan> = {}) => {
    const s = Math.max(from, a);
    const e = Math.min(to, b);
    if (!(e > s)) return;
    const left = instantToFraction(range, s);
    out.push({ kind, start: s, end: e, left, width: instantToFraction(range, e) - left, ...extra });
  };
  for (const w of windows) {
    const a = w.arrival;
    for (const x of a.stored) add('footage', Date.parse(x.from), Date.parse(x.to));
    for (const x of a.atStore) add('at-store', Date.parse(x.from), Date.parse(x.to));
    for (const x of a.missing) add('unrecorded', Date.parse(x.from), Date.parse(x.to));
    for (const g of a.gaps) add('gap', Date.parse(g.from), Date.parse(g.to), { reason: g.reason, detail: g.detail });
    if (a.futureMs > 0) add('not-yet', Date.parse(w.to) - a.futureMs, Date.parse(w.to));
  }
  const order: Record<LaneKind, number> = { footage: 0, 'at-store': 1, unrecorded: 2, gap: 3, 'not-yet': 4 };
  return out.sort((x, y) => order[x.kind] - order[y.kind] || x.start - y.start);
}

/** The stretches without footage, in time order (listed under the timeline with their reasons). */
export function laneProblems(spans: readonly LaneSpan[]): LaneSpan[] {
  return spans.filter((s) => s.kind !== 'footage').sort((a, b) => a.start - b.start);
}

/** A call's span on the bar. */
export function callSpan(range: TimeRange, call: { startUtc: string; endUtc: string }): { left: number; width: number } {
  const left = instantToFraction(range, Date.parse(call.startUtc));
  return { left, width: Math.max(0, instantToFraction(range, Date.parse(call.endUtc)) - left) };
}

/**
 * The range the timeline shows: the case's extent (everything linked), widened to include the moment when a link
 * points outside it.
 */
export function viewRange(extent: { from: string; to: string }, moment: number | null): TimeRange {
  let from = Date.parse(extent.from);
  let to = Date.parse(extent.to);
  if (moment !== null && Number.isFinite(moment)) {
    from = Math.min(from, moment);
    to = Math.max(to, moment + 1000);
  }
  return { from: new Date(from), to: new Date(to) };
}

// ---------------------------------------------------------------------------------------------------------------
// Bookmarks

/**
 * The bookmark after (`+1`) or before (`-1`) `utc`. "Before" skips one within `slackMs` behind the moment, so that
 * pressing it twice walks back instead of landing on the bookmark just reached.
 */
export function adjacentBookmark<B extends { at: string }>(bookmarks: readonly B[], utc: number, direction: 1 | -1, slackMs = 500): B | null {
  const sorted = [...bookmarks].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (direction === 1) return sorted.find((b) => Date.parse(b.at) > utc + 1) ?? null;
  for (let i = sorted.length - 1; i >= 0; i--) if (Date.parse(sorted[i]!.at) < utc - slackMs) return sorted[i]!;
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Keyboard

export type Shortcut = 'toggle' | 'back5' | 'forward5' | 'frameBack' | 'frameForward' | 'prevBookmark' | 'nextBookmark' | 'slower' | 'faster' | 'bookmark';

/** The shortcut for a key press, or null (typing in a field never triggers one). */
export function shortcutFor(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean; inField?: boolean }): Shortcut | null {
  if (e.inField || e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case ' ':
    case 'k':
      return 'toggle';
    case 'ArrowLeft':
    case 'j':
      return 'back5';
    case 'ArrowRight':
    case 'l':
      return 'forward5';
    case ',':
      return 'frameBack';
    case '.':
      return 'frameForward';
    case '[':
    case 'p':
      return 'prevBookmark';
    case ']':
    case 'n':
      return 'nextBookmark';
    case '-':
      return 'slower';
    case '+':
    case '=':
      return 'faster';
    case 'b':
      return 'bookmark';
    default:
      return null;
  }
}

/** One video frame at the cameras' rate (the recorder's default: 25 fps; the test cameras too). */
export const FRAME_MS = 40;

/** The moment after a step, kept inside the range. */
export function stepMoment(range: TimeRange, utc: number, deltaMs: number): number {
  return Math.min(range.to.getTime(), Math.max(range.from.getTime(), utc + deltaMs));
}
