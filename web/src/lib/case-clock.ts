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

/** Play: held at first, so that every element starts from the same frame (the page releases it). */
export const play = (c: MasterClock, perf: number) => (c.playing ? c : reanchor(c, perf, { playing: true, held: true }));
export const pause = (c: MasterClock, perf: number) => reanchor(c, perf, { playing: false, held: false });
export const hold = (c: MasterClock, perf: number) => (c.held ? c : reanchor(c, perf, { held: true }));
/** Runs on from the held instant, `advanceMs` later (how far the media got while starting). */
export const release = (c: MasterClock, perf: number, advanceMs = 0) => (c.held ? { ...c, anchorUtc: c.anchorUtc + advanceMs, anchorPerf: perf, held: false } : c);
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
export const DEFAULT_SYNC: SyncSettings = { toleranceS: 0.015, seekAboveS: 0.35, maxNudge: 0.2, horizonS: 0.4 };

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
 * How the master stands for planning: `paused` (also while held: everyone waits on the master's frame),
 * `starting` (the master is still frozen while every element is told to play; each reports how far it got), or
 * `running`.
 */
export type MasterMode = 'paused' | 'starting' | 'running';

/**
 * One tick for one element: where it should be (`placement`), what it is (`e`), the master's mode and speed.
 * `ready` tells the page whether this element is what the master waits for (paused/held: has its frame and data
 * beyond it; starting: it is playing; running: not loading).
 */
export function planElement(placement: Placement, e: ElementState, master: { mode: MasterMode; speed: number }, s: SyncSettings = DEFAULT_SYNC): ElementPlan {
  if (placement.kind !== 'media') {
    // Nothing to show at this instant: stand still (the page shows why).
    return { ...(e.paused ? {} : { pause: true as const }), ready: true, drift: null };
  }
  const drift = e.currentTime - placement.time;
  const rate = Math.abs(e.playbackRate - master.speed) > 1e-6 ? { rate: master.speed } : {};
  if (master.mode === 'paused') {
    const plan: ElementPlan = { ready: isReady(e), drift, ...rate };
    if (!e.paused) plan.pause = true;
    // Show exactly the master's frame.
    if (Math.abs(drift) > s.toleranceS && !e.seeking) {
      plan.seek = placement.time;
      plan.ready = false;
    }
    return plan;
  }
  if (master.mode === 'starting') {
    if (e.seeking) return { ready: false, drift };
    // Every element starts from the master's frame; it counts as started once its time moved on.
    return { ...(e.paused ? { play: true as const } : {}), ...rate, ready: !e.paused && e.readyState >= 3 && drift > 0.005, drift };
  }
  if (e.seeking) return { ready: false, drift };
  if (Math.abs(drift) > s.seekAboveS) return { seek: placement.time, rate: master.speed, ...(e.paused ? { play: true as const } : {}), ready: false, drift };
  const plan: ElementPlan = { ready: isReady(e), drift };
  if (e.paused) plan.play = true;
  const nudged = nudgedRate(drift, master.speed, s);
  if (Math.abs(nudged - e.playbackRate) > 1e-3) plan.rate = nudged;
  return plan;
}

/**
 * Where the master starts running once every element is playing: the median of how far they got (seconds of media
 * past the master's frozen frame), so the nudges have the least to remove.
 */
export function startingAdvance(drifts: readonly number[]): number {
  if (drifts.length === 0) return 0;
  const d = [...drifts].sort((a, b) => a - b);
  const mid = d.length >> 1;
  return d.length % 2 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2;
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
