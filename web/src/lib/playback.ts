/**
 * Media time (the video element's currentTime) ↔ UTC instant, from the playlist's fragments. Each fragment carries
 * its `#EXT-X-PROGRAM-DATE-TIME` (hls.js: `programDateTime`, epoch ms) and its place on the media timeline
 * (`start`, `duration`, seconds). Gaps between recordings are absent from the media timeline (the player jumps
 * over them at `#EXT-X-DISCONTINUITY`), so the mapping is per fragment, never one global offset.
 */

export type FragmentTime = { start: number; duration: number; programDateTime: number | null };

/** Plain copies of hls.js fragments (level details), in media order. */
export function fragmentTimes(frags: readonly { start: number; duration: number; programDateTime: number | null }[]): FragmentTime[] {
  return frags.map((f) => ({ start: f.start, duration: f.duration, programDateTime: f.programDateTime ?? null }));
}

/** Index of the fragment that holds media time `t` (the last one holds its own end), or -1. */
export function fragmentAt(frags: readonly FragmentTime[], t: number): number {
  if (frags.length === 0 || !Number.isFinite(t)) return -1;
  let lo = 0;
  let hi = frags.length - 1;
  // Binary search for the last fragment whose start ≤ t.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frags[mid]!.start <= t) lo = mid;
    else hi = mid - 1;
  }
  const f = frags[lo]!;
  if (t < f.start) return lo === 0 && f.start - t < 0.25 ? 0 : -1; // a hair before the first frame
  if (t < f.start + f.duration || lo === frags.length - 1) return t <= f.start + f.duration + 0.25 ? lo : -1;
  return lo;
}

/** The UTC instant (epoch ms) shown at media time `t`, or null when unknown (no fragment, no PROGRAM-DATE-TIME). */
export function mediaTimeToUtc(frags: readonly FragmentTime[], t: number): number | null {
  const i = fragmentAt(frags, t);
  if (i < 0) return null;
  const f = frags[i]!;
  if (f.programDateTime === null) return null;
  const into = Math.min(Math.max(t - f.start, 0), f.duration);
  return f.programDateTime + into * 1000;
}

/**
 * Where to seek for a UTC instant: inside a fragment → the exact media time (`inGap: false`); in a gap → the
 * start of the next recording (`inGap: true`); after the last recording → null.
 */
export function utcToMediaTime(frags: readonly FragmentTime[], utcMs: number): { time: number; inGap: boolean } | null {
  for (const f of frags) {
    if (f.programDateTime === null) continue;
    const end = f.programDateTime + f.duration * 1000;
    if (utcMs < f.programDateTime) return { time: f.start, inGap: true };
    if (utcMs < end) return { time: f.start + (utcMs - f.programDateTime) / 1000, inGap: false };
  }
  return null;
}
