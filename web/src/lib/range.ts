/**
 * The player's state in the URL: `/cameras/{id}?from=<UTC ISO>&to=<UTC ISO>[&lang=en]`. UTC in the URL keeps a
 * shared link unambiguous; people type and read the range in the site's local time (see time.ts).
 */
import type { Lang } from './i18n.ts';
import { localToUtc, utcToLocalInput } from './time.ts';

/** The server refuses longer ranges (server/src/services/playback.service.ts MAX_RANGE_MS). */
export const MAX_RANGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_RANGE_MS = 3600 * 1000;

export type TimeRange = { from: Date; to: Date };
export type RangeProblem = 'missing' | 'invalid' | 'order' | 'too_long';
export type RangeResult = { ok: true; range: TimeRange } | { ok: false; problem: RangeProblem };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(s: string): Date | null {
  if (!ISO_UTC.test(s)) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function checkRange(from: Date, to: Date): RangeResult {
  if (to.getTime() <= from.getTime()) return { ok: false, problem: 'order' };
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) return { ok: false, problem: 'too_long' };
  return { ok: true, range: { from, to } };
}

/** Reads `from`/`to` (ISO 8601 with an offset) from a query string. */
export function rangeFromQuery(params: URLSearchParams): RangeResult {
  const f = params.get('from');
  const t = params.get('to');
  if (!f || !t) return { ok: false, problem: 'missing' };
  const from = parseInstant(f);
  const to = parseInstant(t);
  if (!from || !to) return { ok: false, problem: 'invalid' };
  return checkRange(from, to);
}

/** `2026-11-23T10:00:00Z` (milliseconds only when there are some). */
export function isoUtc(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/** Link to the player for a camera and range, keeping the language. */
export function playerHref(cameraId: string, range: TimeRange, lang: Lang): string {
  const q = new URLSearchParams({ from: isoUtc(range.from), to: isoUtc(range.to) });
  if (lang !== 'ja') q.set('lang', lang);
  return `/cameras/${encodeURIComponent(cameraId)}?${q.toString()}`;
}

/**
 * The range to open when none is given: the hour before the camera's last segment (rounded up to the minute), or
 * the hour before `now` when it has none.
 */
export function defaultRange(lastSegmentAt: string | null, now: Date, lengthMs = DEFAULT_RANGE_MS): TimeRange {
  const last = lastSegmentAt ? new Date(lastSegmentAt) : null;
  const endMs = last && !Number.isNaN(last.getTime()) ? last.getTime() : now.getTime();
  const to = new Date(Math.ceil(endMs / 60_000) * 60_000);
  return { from: new Date(to.getTime() - lengthMs), to };
}

/** Values for the two datetime-local inputs, in the site's zone. */
export function rangeToInputs(range: TimeRange, timeZone: string): { from: string; to: string } {
  return { from: utcToLocalInput(range.from, timeZone), to: utcToLocalInput(range.to, timeZone) };
}

/** The two inputs (site-local wall clock) back to a checked UTC range. */
export function rangeFromInputs(from: string, to: string, timeZone: string): RangeResult {
  if (!from || !to) return { ok: false, problem: 'missing' };
  const f = localToUtc(from, timeZone);
  const t = localToUtc(to, timeZone);
  if (!f || !t) return { ok: false, problem: 'invalid' };
  return checkRange(f, t);
}

/** The same range moved by `deltaMs` (earlier/later buttons). */
export function shiftRange(range: TimeRange, deltaMs: number): TimeRange {
  return { from: new Date(range.from.getTime() + deltaMs), to: new Date(range.to.getTime() + deltaMs) };
}
