/**
 * hls.js's playlist and fragment loaders for the case page: a camera's playlist, or its fragment at the case's moment,
 * that `app.html` already started (early.ts) is taken from there, once; anything else, a reload, or an early answer
 * that failed goes through hls.js's own loader.
 */
import type { FragmentLoaderConstructor, FragmentLoaderContext, HlsConfig, Loader, LoaderCallbacks, LoaderConfiguration, LoaderContext, LoaderStats, PlaylistLoaderConstructor, PlaylistLoaderContext } from 'hls.js';
import { earlyStore, takeEarlyBytes, takeEarlyText, type EarlyStore } from '../early.ts';
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
  return earlyLoader<PlaylistLoaderContext, string>((url) => takeEarlyText(store(), url, origin()), (text) => text.length);
}

export function earlyFragmentLoader(store: () => EarlyStore | null = () => earlyStore(), origin = () => globalThis.location.origin): FragmentLoaderConstructor {
  return earlyLoader<FragmentLoaderContext, ArrayBuffer>((url) => takeEarlyBytes(store(), url, origin()), (bytes) => bytes.byteLength);
}

function earlyLoader<C extends LoaderContext, D extends string | ArrayBuffer>(take: (url: string) => Promise<D | null> | null, size: (d: D) => number) {
  return class EarlyLoader implements Loader<C> {
    context: C | null = null;
    #stats = emptyStats();
    #inner: Loader<C> | null = null;
    #done = false;
    #callbacks: LoaderCallbacks<C> | null = null;
    readonly #config: HlsConfig;

    constructor(config: HlsConfig) {
      this.#config = config;
    }

    get stats(): LoaderStats {
      return this.#inner?.stats ?? this.#stats;
    }

    load(context: C, config: LoaderConfiguration, callbacks: LoaderCallbacks<C>): void {
      this.context = context;
      // A byte range (never in the centre's playlists) is not what app.html fetched.
      const early = context.rangeStart || context.rangeEnd ? null : take(context.url);
      if (!early) return this.#fallback(context, config, callbacks);
      this.#callbacks = callbacks;
      const stats = this.#stats;
      stats.loading.start = performance.now();
      void early.then((data) => {
        if (this.#done) return;
        if (data === null) return this.#fallback(context, config, callbacks);
        stats.loading.first = stats.loading.end = performance.now();
        stats.loaded = stats.total = size(data);
        this.#done = true;
        callbacks.onSuccess({ url: context.url, data, code: 200 }, stats, context, null);
      });
    }

    #fallback(context: C, config: LoaderConfiguration, callbacks: LoaderCallbacks<C>) {
      const inner = new HlsPlayer.DefaultConfig.loader(this.#config) as unknown as Loader<C>;
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
