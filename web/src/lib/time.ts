/**
 * Wall-clock time in a site's IANA time zone. Pure functions on top of Intl; no DOM, no browser zone.
 * Every time shown to a person is the SITE's local time (invariant 4), never the viewer's browser zone.
 */

export type WallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows this IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone) return false;
  try {
    partsFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in a zone. */
export function wallClock(instant: Date | number, timeZone: string): WallClock {
  const parts = partsFormatter(timeZone).formatToParts(typeof instant === 'number' ? instant : instant.getTime());
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** The zone's offset from UTC at an instant, in ms (Asia/Tokyo: +9 h). Sub-second parts are ignored. */
export function zoneOffsetMs(instant: Date | number, timeZone: string): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:mm:ss` in the zone (with `.SSS` when `millis`). */
export function formatDateTime(instant: Date | number, timeZone: string, opts: { millis?: boolean } = {}): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const w = wallClock(ms, timeZone);
  const base = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  return opts.millis ? `${base}.${pad(((ms % 1000) + 1000) % 1000, 3)}` : base;
}

/** `HH:mm:ss` in the zone. */
export function formatTime(instant: Date | number, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/**
 * A short name for the zone at an instant: `JST`, `EST`/`EDT`, `GMT`, `UTC`; where no locale knows a letter
 * abbreviation, the offset (`UTC+11`, `UTC+5:30`).
 */
export function zoneAbbreviation(timeZone: string, instant: Date | number = Date.now()): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  for (const locale of ['en-US', 'ja-JP', 'en-GB']) {
    const name = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{2,5}$/.test(name)) return name; // not `GMT+9`
  }
  return formatOffset(zoneOffsetMs(ms, timeZone));
}

/** `UTC+9`, `UTC-5`, `UTC+5:30`, `UTC`. */
export function formatOffset(offsetMs: number): string {
  if (offsetMs === 0) return 'UTC';
  const sign = offsetMs > 0 ? '+' : '-';
  const mins = Math.round(Math.abs(offsetMs) / 60_000);
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return `UTC${sign}${h}${m ? `:${pad(m)}` : ''}`;
}

/** `Asia/Tokyo (JST)`: the zone name and its short name at the instant. */
export function zoneLabel(timeZone: string, instant: Date | number = Date.now()): string {
  return `${timeZone} (${zoneAbbreviation(timeZone, instant)})`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;

/**
 * A wall-clock time typed for a zone (`YYYY-MM-DDTHH:mm[:ss]`, what `<input type="datetime-local">` gives) to the
 * UTC instant. In a DST fold the earlier instant is chosen; a time skipped by DST moves forward by the jump.
 * Returns null for text that is not such a time.
 */
export function localToUtc(local: string, timeZone: string): Date | null {
  const m = LOCAL_INPUT.exec(local.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(asUtc);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null; // 2026-02-30
  // Try the offsets in force a day around the time; keep those that map back to the same wall clock.
  const candidates = new Set([zoneOffsetMs(asUtc - 86_400_000, timeZone), zoneOffsetMs(asUtc, timeZone), zoneOffsetMs(asUtc + 86_400_000, timeZone)]);
  const exact = [...candidates].map((off) => asUtc - off).filter((t) => zoneOffsetMs(t, timeZone) === asUtc - t);
  if (exact.length > 0) return new Date(Math.min(...exact));
  // Skipped by a DST jump: read it with the offset before the jump (02:30 → 03:30 on a spring-forward night).
  return new Date(asUtc - zoneOffsetMs(asUtc - 86_400_000, timeZone));
}

/** The instant as `YYYY-MM-DDTHH:mm:ss` wall clock in the zone (the value for a datetime-local input). */
export function utcToLocalInput(instant: Date | number, timeZone: string): string {
  return formatDateTime(instant, timeZone).replace(' ', 'T');
}
