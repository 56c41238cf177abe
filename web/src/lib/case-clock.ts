/**
 * The case page's one clock: a master wall-clock (UTC ms) that every camera and every call's audio follow, and the
 * corrections that keep each media element on it. Pure: the page reads the elements, asks `planElement` what to do,
 * and does it. No DOM here, so every rule is tested in node (web/test/case-clock.test.ts).
 *
 * Why a master clock and not "play them all and hope": each <video>/<audio> runs on its own clock, starts after its
 * own buffering and stalls on its own. The master advances with the real time at the chosen speed; each element's
 * drift from where the master says it should be is measured every tick and removed by a small playbackRate nudge
 * (a few percent, invisible) or, when it is far off, by a seek. When an element that should be playing is still
 * loading, the master holds (everybody waits) instead of running away from it.
 */
import { mediaTimeToUtc, utcToMediaTime, type FragmentTime } from './playback.ts';

export type MasterClock = {
  /** The UTC instant (ms) the clock showed at `anchorPerf`. */
  anchorUtc: number;
  /** A monotonic reading (performance.now(), ms) taken when the anchor was set. */
  anchorPerf: number;
  /** Playback speed (1 = real time). */
  speed: number;
  /** The person pressed play (the clock may still be held while media loads). */
  playing: boolean;
  /** Held: playing, but waiting for media; the clock does not advance. */
  held: boolean;
};

export const SPEEDS = [0.25, 0.5, 1, 2, 4] as const;

export function newClock(utc: number, perf: number, speed = 1): MasterClock {
  return { anchorUtc: utc, anchorPerf: perf, speed, playing: false, held: false };
}

/** The master's instant at `perf`. */
export function clockAt(c: MasterClock, perf: number): number {
  if (!c.playing || c.held) return c.anchorUtc;
  return c.anchorUtc + (perf - c.anchorPerf) * c.speed;
}

/** Re-anchors at `perf` (keeps the instant), with changes. */
function reanchor(c: MasterClock, perf: number, change: Partial<MasterClock>): MasterClock {
  return { ...c, anchorUtc: clockAt(c, perf), anchorPerf: perf, ...change };
}

export const play = (c: MasterClock, perf: number) => reanchor(c, perf, { playing: true, held: false });
export const pause = (c: MasterClock, perf: number) => reanchor(c, perf, { playing: false, held: false });
export const hold = (c: MasterClock, perf: number) => (c.held ? c : reanchor(c, perf, { held: true }));
export const release = (c: MasterClock, perf: number) => (c.held ? { ...c, anchorPerf: perf, held: false } : c);
export const setSpeed = (c: MasterClock, perf: number, speed: number) => reanchor(c, perf, { speed });
export const seekTo = (c: MasterClock, perf: number, utc: number) => ({ ...c, anchorUtc: utc, anchorPerf: perf });

/** The next speed up or down the list (stays at the ends). */
export function stepSpeed(speed: number, direction: 1 | -1): number {
  const i = SPEEDS.findIndex((s) => s >= speed - 1e-9);
  const at = i < 0 ? SPEEDS.length - 1 : i;
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, at + direction))]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Where each element should be

/**
 * Where an element stands at a master instant:
 * - `media`: at this media time (seconds);
 * - `gap`: the camera has no footage at the centre for this instant (a gap, footage still at the store, or before
 *   or after its recording); `next` is the next instant it has footage, if any;
 * - `not-yet`: the instant is after "now" for this source (nothing could have been recorded);
 * - `outside`: a call's audio before the call started or after it ended.
 */
export type Placement = { kind: 'media'; time: number } | { kind: 'gap'; next: number | null } | { kind: 'not-yet' } | { kind: 'outside' };

/** A camera at a master instant, from its playlist's fragments (PROGRAM-DATE-TIME). `now` = the present (ms). */
export function cameraPlacement(frags: readonly FragmentTime[], utc: number, now: number): Placement {
  if (utc >= now) return { kind: 'not-yet' };
  const t = utcToMediaTime(frags, utc);
  if (t && !t.inGap) return { kind: 'media', time: t.time };
  if (t) {
    const i = frags.findIndex((f) => Math.abs(f.start - t.time) < 1e-6);
    return { kind: 'gap', next: i >= 0 ? frags[i]!.programDateTime : null };
  }
  return { kind: 'gap', next: null };
}

/** A camera's instant at its element's media time (null when the time is outside its fragments). */
export function cameraInstant(frags: readonly FragmentTime[], mediaTime: number): number | null {
  return mediaTimeToUtc(frags, mediaTime);
}

/**
 * The UTC instant at a recording's media time 0. A PBX recording covers the call from its start (Asterisk
 * MixMonitor started with the call, as in the fixture: 26.48 s for a 26 s call). When the recording is clearly
 * shorter than the call (by more than 1.5 s) and about as long as the answered part, it started at the answer.
 */
export function recordingOrigin(call: { startUtc: string; answerUtc: string | null; endUtc: string }, durationS: number | null): number {
  const start = Date.parse(call.startUtc);
  const end = Date.parse(call.endUtc);
  if (call.answerUtc === null || durationS === null || !Number.isFinite(durationS)) return start;
  const answer = Date.parse(call.answerUtc);
  const callS = (end - start) / 1000;
  const talkS = (end - answer) / 1000;
  if (answer > start && callS - durationS > 1.5 && Math.abs(talkS - durationS) <= 1.5) return answer;
  return start;
}

/** A call's audio at a master instant. */
export function audioPlacement(originUtc: number, durationS: number, utc: number): Placement {
  const t = (utc - originUtc) / 1000;
  if (t < 0 || t >= durationS) return { kind: 'outside' };
  return { kind: 'media', time: t };
}

// ---------------------------------------------------------------------------------------------------------------
// Keeping an element on the master

export type SyncSettings = {
  /** Drift (s) under which nothing is done. */
  toleranceS: number;
  /** Drift (s) above which the element is seeked rather than nudged. */
  seekAboveS: number;
  /** Largest change of playbackRate, as a fraction of the speed. */
  maxNudge: number;
  /** The drift is removed over about this many seconds by the nudge. */
  horizonS: number;
};
export const DEFAULT_SYNC: SyncSettings = { toleranceS: 0.02, seekAboveS: 0.35, maxNudge: 0.12, horizonS: 0.6 };

/** What the page reads of an element each tick. */
export type ElementState = {
  currentTime: number;
  paused: boolean;
  seeking: boolean;
  /** HTMLMediaElement.readyState (0..4). */
  readyState: number;
  playbackRate: number;
};

/** What to do to an element this tick: any of seek, set the rate, play or pause. */
export type ElementPlan = { seek?: number; rate?: number; play?: true; pause?: true; ready: boolean; drift: number | null };

/** An element can follow the clock: it has the frame at its position and data beyond it, and is not seeking. */
export function isReady(e: ElementState): boolean {
  return !e.seeking && e.readyState >= 3;
}

/**
 * One tick for one element: where it should be (`placement`), what it is (`e`), the master's state.
 * `ready` tells the page whether this element holds the master (an element that should play but is loading).
 */
export function planElement(placement: Placement, e: ElementState, master: { playing: boolean; speed: number }, s: SyncSettings = DEFAULT_SYNC): ElementPlan {
  if (placement.kind !== 'media') {
    // Nothing to show at this instant: stand still (the page shows why).
    return { ...(e.paused ? {} : { pause: true as const }), ready: true, drift: null };
  }
  const drift = e.currentTime - placement.time;
  const far = Math.abs(drift) > s.seekAboveS;
  if (!master.playing) {
    const plan: ElementPlan = { ready: isReady(e) || e.readyState >= 2, drift };
    if (!e.paused) plan.pause = true;
    // Paused: show exactly the master's frame.
    if (Math.abs(drift) > s.toleranceS && !e.seeking) plan.seek = placement.time;
    if (Math.abs(e.playbackRate - master.speed) > 1e-6) plan.rate = master.speed;
    return plan;
  }
  if (e.seeking) return { ready: false, drift };
  if (far) return { seek: placement.time, rate: master.speed, ...(e.paused ? { play: true as const } : {}), ready: false, drift };
  const plan: ElementPlan = { ready: isReady(e), drift };
  if (e.paused) plan.play = true;
  const rate = nudgedRate(drift, master.speed, s);
  if (Math.abs(rate - e.playbackRate) > 1e-3) plan.rate = rate;
  return plan;
}

/** The playbackRate that removes `drift` (element ahead: positive) over the horizon, within ±maxNudge of the speed. */
export function nudgedRate(drift: number, speed: number, s: SyncSettings = DEFAULT_SYNC): number {
  if (Math.abs(drift) <= s.toleranceS) return speed;
  const f = Math.max(-s.maxNudge, Math.min(s.maxNudge, drift / s.horizonS));
  return Math.round(speed * (1 - f) * 1000) / 1000;
}

/**
 * Whether the master should hold: some element that should be showing media is not ready, and has been waiting
 * less than `giveUpMs` (an element that keeps failing does not freeze the case for everybody; it catches up by seek).
 */
export function shouldHold(waiting: readonly { ready: boolean; waitingSinceMs: number | null }[], nowMs: number, giveUpMs = 4000): boolean {
  return waiting.some((w) => !w.ready && (w.waitingSinceMs === null || nowMs - w.waitingSinceMs < giveUpMs));
}
