/**
 * Drives the case page's media elements from the master clock (case-clock.ts holds every rule; this only reads
 * the elements, applies the plans and publishes what the page shows). One loop for all sources, every 50 ms and on
 * every play, pause and seek.
 */
import { clockAt, hold, newClock, pause, play, planElement, release, seekTo, setSpeed, shouldHold, startingAdvance, type MasterClock, type MasterMode, type Placement } from './case-clock.ts';

/** The longest the master waits for every element to start playing before it runs anyway. */
const STARTING_MAX_MS = 1000;

export type SourceStatus = { placement: Placement['kind'] | 'loading'; drift: number | null; next: number | null };

type Source = {
  el: HTMLMediaElement;
  /** Where the element should be at a master instant; null while its media is not known yet (playlist loading). */
  place: (utc: number) => Placement | null;
  waitingSince: number | null;
};

export class CaseEngine {
  /** The master instant shown on the page (UTC ms). */
  moment = $state(0);
  playing = $state(false);
  held = $state(false);
  speed = $state(1);
  status = $state<Record<string, SourceStatus>>({});

  #clock: MasterClock;
  #sources = new Map<string, Source>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #onSettle: ((utc: number) => void) | null;
  /** While held: waiting for every element's frame, then starting them all. */
  #phase: 'waiting' | 'starting' | null = null;
  #startingSince = 0;

  /** `onSettle` hears the moment whenever it was set by the person or playback paused (the page writes the URL). */
  constructor(start: number, speed: number, onSettle?: (utc: number) => void) {
    this.#clock = newClock(start, performance.now(), speed);
    this.moment = start;
    this.speed = speed;
    this.#onSettle = onSettle ?? null;
    this.#timer = setInterval(() => this.tick(), 50);
  }

  destroy() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const s of this.#sources.values()) s.el.pause();
    this.#sources.clear();
  }

  add(id: string, el: HTMLMediaElement, place: Source['place']) {
    this.#sources.set(id, { el, place, waitingSince: null });
    this.tick();
  }

  remove(id: string) {
    const s = this.#sources.get(id);
    s?.el.pause();
    this.#sources.delete(id);
    const { [id]: _gone, ...rest } = this.status;
    this.status = rest;
  }

  /** Media time to load first for a source (its placement at the current moment), for hls.js startLoad. */
  now(): number {
    return clockAt(this.#clock, performance.now());
  }

  play() {
    this.#clock = play(this.#clock, performance.now());
    // Start every element inside the person's gesture (autoplay rules); the tick then keeps them in step.
    this.tick();
  }

  pause() {
    this.#clock = pause(this.#clock, performance.now());
    this.tick();
    this.#onSettle?.(this.moment);
  }

  toggle() {
    if (this.#clock.playing) this.pause();
    else this.play();
  }

  seek(utc: number) {
    this.#clock = seekTo(this.#clock, performance.now(), utc);
    this.tick();
    this.#onSettle?.(utc);
  }

  setSpeed(speed: number) {
    this.#clock = setSpeed(this.#clock, performance.now(), speed);
    this.speed = speed;
    this.tick();
  }

  tick() {
    const perf = performance.now();
    const c = this.#clock;
    if (!c.playing || !c.held) this.#phase = null;
    else this.#phase ??= 'waiting';
    const mode: MasterMode = !c.playing ? 'paused' : !c.held ? 'running' : this.#phase === 'starting' ? 'starting' : 'paused';
    const utc = clockAt(c, perf);
    const waiting: { ready: boolean; waitingSinceMs: number | null }[] = [];
    const drifts: number[] = [];
    const status: Record<string, SourceStatus> = {};
    for (const [id, s] of this.#sources) {
      const placement = s.place(utc);
      if (!placement) {
        status[id] = { placement: 'loading', drift: null, next: null };
        s.waitingSince ??= perf;
        waiting.push({ ready: false, waitingSinceMs: s.waitingSince });
        continue;
      }
      const el = s.el;
      const plan = planElement(placement, { currentTime: el.currentTime, paused: el.paused, seeking: el.seeking, readyState: el.readyState, playbackRate: el.playbackRate }, { mode, speed: c.speed });
      if (plan.seek !== undefined) el.currentTime = plan.seek;
      if (plan.rate !== undefined) el.playbackRate = plan.rate;
      if (plan.pause) el.pause();
      if (plan.play) el.play().catch(() => undefined);
      if (plan.ready || !c.playing) s.waitingSince = null;
      else s.waitingSince ??= perf;
      waiting.push({ ready: plan.ready, waitingSinceMs: s.waitingSince });
      if (mode === 'starting' && placement.kind === 'media' && plan.drift !== null && !el.paused) drifts.push(plan.drift);
      status[id] = { placement: placement.kind, drift: plan.drift, next: placement.kind === 'gap' ? placement.next : null };
    }
    if (c.playing) {
      const mustWait = shouldHold(waiting, perf);
      if (mode === 'running' && mustWait) {
        this.#clock = hold(c, perf);
        this.#phase = 'waiting';
      } else if (this.#phase === 'waiting' && !mustWait) {
        // Everyone has the frame: tell them all to play, and wait until they do.
        this.#phase = 'starting';
        this.#startingSince = perf;
        queueMicrotask(() => this.tick());
      } else if (this.#phase === 'starting' && (waiting.every((w) => w.ready) || perf - this.#startingSince > STARTING_MAX_MS)) {
        this.#clock = release(c, perf, startingAdvance(drifts) * 1000);
        this.#phase = null;
      }
    }
    this.moment = clockAt(this.#clock, perf);
    this.playing = this.#clock.playing;
    this.held = this.#clock.held;
    this.status = status;
  }
}
