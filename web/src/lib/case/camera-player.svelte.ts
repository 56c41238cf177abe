/**
 * One camera of the case page: its hls.js player, started as soon as the case's timeline is known (before the page
 * has drawn the tile), so the playlist and the fragment of the case's moment are on their way while the page
 * renders. The tile attaches its `<video>` when it mounts; the engine gets the element once both are there.
 */
import { cameraPlacement } from '../case-clock.ts';
import type { CaseEngine } from '../case-engine.svelte.ts';
import HlsPlayer from '../hls.ts';
import { earlyFragmentLoader, earlyPlaylistLoader } from './early-playlist-loader.ts';
import { fragmentTimes } from '../playback.ts';

/** Seconds buffered ahead until the first frame shows (one fragment per camera, so every tile's first one shares the line), then while playing. */
export const FIRST_BUFFER_S = 2;
export const BUFFER_S = 8;
/** How long the case page holds its first draw for the players to ask for their first fragment (ms). */
export const FIRST_ASK_WAIT_MS = 300;
/** How long the case's side panels (history, links, notes) wait for the media's first frames before drawing (ms). */
export const PANELS_WAIT_MS = 1500;

export class CameraPlayer {
  /** Why it cannot play (hls.js's fatal error), shown on the tile. */
  failed = $state<string | null>(null);
  /** Whether the tile has shown a frame yet (until then it says it is loading rather than staying black). */
  framed = $state(false);
  /** Settles once the first fragment is asked for, or once there is nothing to ask for (an error, no media there). */
  readonly asked: Promise<void>;
  /** Settles once the tile shows its first frame, or once it cannot (an error). */
  readonly shown: Promise<void>;
  #shown!: () => void;

  readonly #id: string;
  readonly #engine: CaseEngine;
  readonly #hls: HlsPlayer | null = null;
  #video: HTMLVideoElement | null = null;
  #levelLoaded = false;
  #registered = false;
  #destroyed = false;

  constructor(o: { id: string; playlistUrl: string; engine: CaseEngine; onUnauthorized: () => void }) {
    this.#id = o.id;
    this.#engine = o.engine;
    let asked!: () => void;
    this.asked = new Promise<void>((r) => (asked = r));
    this.shown = new Promise<void>((r) => (this.#shown = r));
    if (!HlsPlayer.isSupported()) {
      this.failed = 'Media Source Extensions unavailable';
      asked();
      this.#shown();
      return;
    }
    // Load nothing until the playlist says where the case's moment is; then start there (fast first frame).
    // Transmux on the main thread: hls.js starts its worker only when the first fragment is in, and that worker
    // compiles the whole hls.js build before its first transmux. Paired in one run (bench/case-page.ts, 4 cameras),
    // the first frames came a median 1716 ms after navigation without the worker against 2214 ms with it.
    const h = new HlsPlayer({ enableWorker: false, autoStartLoad: false, maxBufferLength: FIRST_BUFFER_S, maxMaxBufferLength: 16, backBufferLength: 8, startFragPrefetch: true, pLoader: earlyPlaylistLoader(), fLoader: earlyFragmentLoader() });
    this.#hls = h;
    h.once(HlsPlayer.Events.FRAG_LOADING, () => asked());
    h.on(HlsPlayer.Events.ERROR, (_e, data) => {
      asked();
      if (data.response?.code === 401) o.onUnauthorized();
      if (data.fatal) this.#shown();
      if (data.fatal) this.failed = `${data.type}: ${data.details}${data.response?.code ? ` ${data.response.code}` : ''}`;
    });
    h.once(HlsPlayer.Events.LEVEL_LOADED, (_e, data) => {
      const p = cameraPlacement(fragmentTimes(data.details.fragments), o.engine.now(), Date.now());
      h.startLoad(p.kind === 'media' ? p.time : 0);
      if (p.kind !== 'media') asked();
      this.#levelLoaded = true;
      this.#register();
    });
    h.loadSource(o.playlistUrl);
  }

  /** The tile's element: media goes there from now on. */
  attach(video: HTMLVideoElement) {
    const h = this.#hls;
    if (!h || this.#video) return;
    this.#video = video;
    video.addEventListener(
      'loadeddata',
      () => {
        h.config.maxBufferLength = BUFFER_S;
        this.framed = true;
        this.#shown();
      },
      { once: true },
    );
    h.attachMedia(video);
    this.#register();
  }

  #register() {
    const h = this.#hls;
    const v = this.#video;
    if (!h || !v || !this.#levelLoaded || this.#registered) return;
    this.#registered = true;
    this.#engine.add(this.#id, v, (utc) => {
      const d = h.levels[0]?.details;
      return d ? cameraPlacement(fragmentTimes(d.fragments), utc, Date.now()) : null;
    });
  }

  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#shown();
    if (this.#registered) this.#engine.remove(this.#id);
    this.#registered = false;
    this.#hls?.destroy();
  }
}
