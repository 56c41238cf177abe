/**
 * hls.js's playlist loader for the case page: a camera's playlist that `app.html` already started (early.ts) is taken
 * from there, once; any other playlist, a reload, or an early answer that failed goes through hls.js's own loader.
 */
import type { HlsConfig, Loader, LoaderCallbacks, LoaderConfiguration, LoaderStats, PlaylistLoaderConstructor, PlaylistLoaderContext } from 'hls.js';
import { earlyStore, takeEarlyText, type EarlyStore } from '../early.ts';
import HlsPlayer from '../hls.ts';

const emptyStats = (): LoaderStats => ({
  aborted: false,
  loaded: 0,
  retry: 0,
  total: 0,
  chunkCount: 0,
  bwEstimate: 0,
  loading: { start: 0, first: 0, end: 0 },
  parsing: { start: 0, end: 0 },
  buffering: { start: 0, first: 0, end: 0 },
});

export function earlyPlaylistLoader(store: () => EarlyStore | null = () => earlyStore(), origin = () => globalThis.location.origin): PlaylistLoaderConstructor {
  return class EarlyPlaylistLoader implements Loader<PlaylistLoaderContext> {
    context: PlaylistLoaderContext | null = null;
    #stats = emptyStats();
    #inner: Loader<PlaylistLoaderContext> | null = null;
    #done = false;
    #callbacks: LoaderCallbacks<PlaylistLoaderContext> | null = null;
    readonly #config: HlsConfig;

    constructor(config: HlsConfig) {
      this.#config = config;
    }

    get stats(): LoaderStats {
      return this.#inner?.stats ?? this.#stats;
    }

    load(context: PlaylistLoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>): void {
      this.context = context;
      const early = takeEarlyText(store(), context.url, origin());
      if (!early) return this.#fallback(context, config, callbacks);
      this.#callbacks = callbacks;
      const stats = this.#stats;
      stats.loading.start = performance.now();
      void early.then((text) => {
        if (this.#done) return;
        if (text === null) return this.#fallback(context, config, callbacks);
        stats.loading.first = stats.loading.end = performance.now();
        stats.loaded = stats.total = text.length;
        this.#done = true;
        callbacks.onSuccess({ url: context.url, data: text, code: 200 }, stats, context, null);
      });
    }

    #fallback(context: PlaylistLoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>) {
      const inner = new HlsPlayer.DefaultConfig.loader(this.#config) as Loader<PlaylistLoaderContext>;
      this.#inner = inner;
      inner.load(context, config, callbacks);
    }

    abort(): void {
      if (this.#inner) return this.#inner.abort();
      if (this.#done) return;
      this.#done = true;
      this.#stats.aborted = true;
      if (this.context) this.#callbacks?.onAbort?.(this.#stats, this.context, null);
    }

    destroy(): void {
      this.#done = true;
      this.#inner?.destroy();
      this.#inner = null;
      this.context = null;
    }
  };
}
