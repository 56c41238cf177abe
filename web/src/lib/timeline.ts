/**
 * The timeline bar: what exists between `from` and `to`. Footage at the centre, footage still at the store,
 * reported gaps (with their reason), and stretches nobody reported: every part of the range is accounted for,
 * nothing is hidden.
 */
import type { TimeRange } from './range.ts';

/** Matches the server's playlist builder: closer than this, two segments are one stretch. */
export const CONTIGUITY_TOLERANCE_MS = 500;

export type TimelineSegment = { start: string; end: string; stored: boolean };
export type TimelineGap = { start: string; end: string; reason: string; detail: string | null };

export type SpanKind = 'footage' | 'at-store' | 'gap' | 'unrecorded';
export type Span = {
  kind: SpanKind;
  start: number; // epoch ms, clipped to the range
  end: number;
  /** Position on the bar, 0..1. */
  left: number;
  width: number;
  reason?: string;
  detail?: string | null;
};

export function instantToFraction(range: TimeRange, ms: number): number {
  const from = range.from.getTime();
  const len = range.to.getTime() - from;
  if (len <= 0) return 0;
  return Math.min(1, Math.max(0, (ms - from) / len));
}

export function fractionToInstant(range: TimeRange, fraction: number): number {
  const f = Math.min(1, Math.max(0, fraction));
  const from = range.from.getTime();
  return Math.round(from + f * (range.to.getTime() - from));
}

type Interval = { start: number; end: number };

/** Sorted, merged intervals (touching within the tolerance counts as contiguous). */
function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start - last.end <= CONTIGUITY_TOLERANCE_MS) last.end = Math.max(last.end, i.end);
    else out.push({ ...i });
  }
  return out;
}

/** The bar's spans, in time order. Gaps come after footage spans that overlap them so they are drawn on top. */
export function layoutTimeline(range: TimeRange, segments: readonly TimelineSegment[], gaps: readonly TimelineGap[]): Span[] {
  const from = range.from.getTime();
  const to = range.to.getTime();
  const clip = (s: string, e: string): Interval | null => {
    const start = Math.max(from, Date.parse(s));
    const end = Math.min(to, Date.parse(e));
    return Number.isFinite(start) && Number.isFinite(end) && end > start ? { start, end } : null;
  };
  const span = (kind: SpanKind, i: Interval, extra: Partial<Span> = {}): Span => ({
    kind,
    start: i.start,
    end: i.end,
    left: instantToFraction(range, i.start),
    width: instantToFraction(range, i.end) - instantToFraction(range, i.start),
    ...extra,
  });

  const stored = merge(segments.filter((s) => s.stored).map((s) => clip(s.start, s.end)).filter((i): i is Interval => i !== null));
  const atStore = merge(segments.filter((s) => !s.stored).map((s) => clip(s.start, s.end)).filter((i): i is Interval => i !== null));
  const reported = gaps
    .map((g) => ({ g, i: clip(g.start, g.end) }))
    .filter((x): x is { g: TimelineGap; i: Interval } => x.i !== null)
    .sort((a, b) => a.i.start - b.i.start);

  // Whatever no segment and no reported gap covers is a gap nobody explained.
  const covered = merge([...stored, ...atStore, ...reported.map((r) => r.i)]);
  const holes: Interval[] = [];
  let cursor = from;
  for (const c of covered) {
    if (c.start - cursor > CONTIGUITY_TOLERANCE_MS) holes.push({ start: cursor, end: c.start });
    cursor = Math.max(cursor, c.end);
  }
  if (to - cursor > CONTIGUITY_TOLERANCE_MS) holes.push({ start: cursor, end: to });

  const spans = [
    ...stored.map((i) => span('footage', i)),
    ...atStore.map((i) => span('at-store', i)),
    ...holes.map((i) => span('unrecorded', i)),
    ...reported.map(({ g, i }) => span('gap', i, { reason: g.reason, detail: g.detail })),
  ];
  const order: Record<SpanKind, number> = { footage: 0, 'at-store': 0, unrecorded: 1, gap: 2 };
  return spans.sort((a, b) => order[a.kind] - order[b.kind] || a.start - b.start);
}

/** The spans without footage (reported gaps and unexplained stretches), in time order: the list under the bar. */
export function missingStretches(spans: readonly Span[]): Span[] {
  return spans.filter((s) => s.kind === 'gap' || s.kind === 'unrecorded').sort((a, b) => a.start - b.start);
}

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/**
 * Tick instants for the bar's axis: round local wall-clock times (every 10 s, 5 min, 1 h, ...) at most `maxTicks`
 * of them, aligned in the site's zone (`offsetMs` = zone offset at the range, e.g. +9 h for Asia/Tokyo).
 */
export function axisTicks(range: TimeRange, offsetMs: number, maxTicks = 8): number[] {
  const from = range.from.getTime();
  const to = range.to.getTime();
  const len = to - from;
  if (len <= 0) return [];
  const step = TICK_STEPS_MS.find((s) => len / s <= maxTicks) ?? Math.ceil(len / maxTicks / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil((from + offsetMs) / step) * step - offsetMs; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** The segment holding `ms` (start inclusive, end exclusive); the later one where two touch. */
export function segmentAt<S extends { start: string; end: string }>(segments: readonly S[], ms: number): S | null {
  let found: S | null = null;
  for (const s of segments) {
    if (Date.parse(s.start) <= ms && ms < Date.parse(s.end) && (!found || Date.parse(s.start) >= Date.parse(found.start))) found = s;
  }
  return found;
}
