/**
 * PBX time handling. CDR times are naive local strings; we read them in an IANA zone and cross-check against the
 * UTC epoch that an Asterisk uniqueid carries (`[systemname-]<epoch>.<counter>`).
 */
import type { ZoneSource } from '@mamoru/contract/enums';

export type NaiveTime = { y: number; mo: number; d: number; h: number; mi: number; s: number };

const NAIVE_RE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const COMPACT_RE = /^(\d{4})(\d{2})(\d{2})[-T]?(\d{2})(\d{2})(\d{2})$/;

function valid(t: NaiveTime): NaiveTime | null {
  if (t.mo < 1 || t.mo > 12 || t.d < 1 || t.d > 31 || t.h > 23 || t.mi > 59 || t.s > 60) return null;
  return t;
}

/** `2026-11-23 18:05:00`, `2026/11/23 18:05(:00)`, `2026-11-23T18:05:00`, `20261123-180500`. Null otherwise. */
export function parseNaive(s: string): NaiveTime | null {
  const v = s.trim();
  let m = NAIVE_RE.exec(v);
  if (m) return valid({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: m[6] ? +m[6] : 0 });
  m = COMPACT_RE.exec(v);
  if (m) return valid({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! });
  return null;
}

/** The naive time read as if it were UTC (ms). Used to compare naive strings with each other and with epochs. */
export function naiveAsUtcMs(t: NaiveTime): number {
  return Date.UTC(t.y, t.mo - 1, t.d, t.h, t.mi, t.s);
}

/** ISO 8601 with an explicit offset (`Z`, `+09:00`, `+0900`, `+09`); null when there is none or it is not a date. */
export function parseWithOffset(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i.exec(s.trim());
  if (!m) return null;
  const base = valid({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: m[6] ? +m[6] : 0 });
  if (!base) return null;
  const frac = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  let offMin = 0;
  const z = m[8]!;
  if (z.toUpperCase() !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    offMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return naiveAsUtcMs(base) + frac - offMin * 60_000;
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function dtf(zone: string): Intl.DateTimeFormat {
  let f = dtfCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    dtfCache.set(zone, f);
  }
  return f;
}

export function isValidZone(zone: string): boolean {
  try {
    dtf(zone);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of a UTC instant in `zone`. */
export function utcToZoned(ms: number, zone: string): NaiveTime {
  const parts: Record<string, number> = {};
  for (const p of dtf(zone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, mo: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** Offset of `zone` from UTC at the instant `ms`, in seconds (Asia/Tokyo → 32400). */
export function zoneOffsetSeconds(zone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((naiveAsUtcMs(utcToZoned(whole, zone)) - whole) / 1000);
}

/** Reads a naive wall-clock time in `zone` (DST gaps resolve forward, overlaps to the earlier instant). */
export function zonedToUtcMs(t: NaiveTime, zone: string): number {
  const guess = naiveAsUtcMs(t);
  const off1 = zoneOffsetSeconds(zone, guess - 0);
  let ms = guess - off1 * 1000;
  const off2 = zoneOffsetSeconds(zone, ms);
  if (off2 !== off1) {
    const alt = guess - off2 * 1000;
    if (zoneOffsetSeconds(zone, alt) === off2) ms = Math.min(ms, alt);
  }
  return ms;
}

/** `2026-11-23T18:05:00Z`; milliseconds only when there are some. */
export function isoUtc(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, 19)}Z` : s;
}

/** The UTC epoch (seconds) in an Asterisk uniqueid, or null when it does not have the `[name-]epoch.n` shape. */
export function uniqueidEpoch(uniqueid: string | null | undefined): number | null {
  if (!uniqueid) return null;
  const m = /(?:^|-)(\d{9,11})\.\d+$/.exec(uniqueid);
  if (!m) return null;
  const e = Number(m[1]);
  // Plausibility window: 2001 .. 2286. Anything else is some other number that happens to look like one.
  return e >= 978_307_200 && e < 10_000_000_000 ? e : null;
}

/** One observation: a naive string that was written at (about) the instant `epochS` (UTC seconds). */
export type ZoneEvidence = { naive: NaiveTime; epochS: number; toleranceS: number };

export type { ZoneSource };
export type ZoneDecision = { zone: string; source: ZoneSource; mismatch: boolean; offsetS: number | null };

/** The offset (seconds) that the evidence shows, rounded to 15 minutes, or null when it is inconsistent or absent. */
export function evidenceOffset(evidence: ZoneEvidence[]): number | null {
  const votes = new Map<number, number>();
  for (const e of evidence) {
    const diff = naiveAsUtcMs(e.naive) / 1000 - e.epochS;
    const rounded = Math.round(diff / 900) * 900;
    if (Math.abs(diff - rounded) > e.toleranceS) continue; // this pair does not describe the same instant
    if (Math.abs(rounded) > 14 * 3600) continue;
    votes.set(rounded, (votes.get(rounded) ?? 0) + 1);
  }
  let best: number | null = null;
  let bestN = 0;
  for (const [off, n] of votes) {
    if (n > bestN) {
      best = off;
      bestN = n;
    }
  }
  return best;
}

/** An IANA name for a fixed offset: `UTC`, or `Etc/GMT-9` for +09:00 (POSIX sign). Null when there is none. */
export function zoneForOffset(offsetS: number): string | null {
  if (offsetS === 0) return 'UTC';
  if (offsetS % 3600 !== 0) return null;
  const h = offsetS / 3600;
  if (h < -12 || h > 14) return null;
  return `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}

/**
 * Decides which zone the PBX wrote its naive times in. With evidence that agrees with the configured zone, the
 * config is confirmed (`uniqueid`); with evidence that contradicts it, the first of [configured, UTC, candidates...,
 * fixed-offset Etc zone] that matches is used (`config_contradicted_by_uniqueid`, mismatch). Without evidence:
 * `fallback` (a zone learned from earlier calls of this PBX) or the configured zone.
 */
export function decideZone(
  configured: string,
  evidence: ZoneEvidence[],
  opts: { candidates?: string[]; learned?: string | null } = {},
): ZoneDecision {
  const off = evidenceOffset(evidence);
  if (off === null) {
    if (opts.learned && opts.learned !== configured) {
      return { zone: opts.learned, source: 'config_contradicted_by_uniqueid', mismatch: true, offsetS: null };
    }
    return { zone: configured, source: 'config', mismatch: false, offsetS: null };
  }
  const at = (evidence[0]?.epochS ?? 0) * 1000;
  if (zoneOffsetSeconds(configured, at) === off) return { zone: configured, source: 'uniqueid', mismatch: false, offsetS: off };
  for (const z of ['UTC', ...(opts.candidates ?? [])]) {
    if (isValidZone(z) && zoneOffsetSeconds(z, at) === off) return { zone: z, source: 'config_contradicted_by_uniqueid', mismatch: true, offsetS: off };
  }
  const fixed = zoneForOffset(off);
  if (fixed) return { zone: fixed, source: 'config_contradicted_by_uniqueid', mismatch: true, offsetS: off };
  return { zone: configured, source: 'config', mismatch: true, offsetS: off };
}
