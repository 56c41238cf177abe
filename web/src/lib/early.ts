/**
 * Requests started by `app.html` while the app's code is still loading, so a page's first answers are not queued
 * behind its own JavaScript: who is signed in (`/api/v1/auth/me`) on every page, and on a case page its timeline,
 * as soon as the timeline is in each camera's HLS playlist, and as soon as a playlist is in that camera's fragment at
 * the case's moment (`earlyMoment`, `earlyFragmentPath`; hls.js takes it through `earlyFragmentLoader`). The inline script in `app.html` is the only thing that
 * starts them (it cannot import this module; `earlyPaths` and `cameraPlaylistPath` here are its rules, and
 * web/test/early.test.ts runs that script against them). The API client and the case page's playlist loader take
 * each one at most once, and only a 2xx answer: anything else (401 before sign-in, an error) is asked again normally.
 */

/** Where `app.html` keeps what it started: same-origin path (with query) → the answer's promise. */
export const EARLY_GLOBAL = '__mamoruEarly';

const CASE_PAGE = /^\/incidents\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/?$/;

/** The GET paths worth starting before the app runs, for a page path. */
export function earlyPaths(pathname: string): string[] {
  const out = ['/api/v1/auth/me'];
  const c = CASE_PAGE.exec(pathname);
  if (c) out.push(`/api/v1/incidents/${c[1]}/timeline`);
  return out;
}

export type EarlyStore = Map<string, Promise<Response>>;

/** The store `app.html` filled, if any. */
export function earlyStore(g: object = globalThis): EarlyStore | null {
  const s: unknown = Reflect.get(g, EARLY_GLOBAL);
  return s instanceof Map ? (s as EarlyStore) : null;
}

/**
 * The early answer for this request, taken out of the store (each is used once), or null to fetch normally. Only
 * same-origin GETs with the exact path and query match; a failed or non-2xx early answer falls back to `refetch`.
 */
export function takeEarly(store: EarlyStore | null, request: Request, origin: string, refetch: () => Promise<Response>): Promise<Response> | null {
  if (request.method !== 'GET') return null;
  const early = takeStored(store, request.url, origin);
  return (
    early?.then(
      (r) => (r.ok ? r : refetch()),
      () => refetch(),
    ) ?? null
  );
}

/** The stored answer for a same-origin URL (exact path and query), taken out of the store; null when there is none. */
function takeStored(store: EarlyStore | null, url: string, origin: string): Promise<Response> | null {
  if (!store) return null;
  const u = new URL(url, origin);
  if (u.origin !== origin) return null;
  const key = u.pathname + u.search;
  const early = store.get(key);
  if (!early) return null;
  store.delete(key);
  return early;
}

/** What the playlist rule reads of a case timeline's camera window. */
export type EarlyWindow = { camera: { id: string }; from: string; to: string; playable: boolean; playlistUrl: string };

/**
 * The playlist a camera of a case plays (one per camera): its window's own playlist, or for a camera with several
 * windows one playlist from the first window's start to the last one's end.
 */
export function cameraPlaylistPath(windows: readonly EarlyWindow[]): string {
  if (windows.length === 1) return windows[0]!.playlistUrl;
  const from = windows.map((w) => w.from).sort()[0]!;
  const to = windows.map((w) => w.to).sort().at(-1)!;
  return `/api/v1/cameras/${encodeURIComponent(windows[0]!.camera.id)}/playlist.m3u8?${new URLSearchParams({ from, to }).toString()}`;
}

/** The playlists `app.html` starts once a case's timeline is in: one per camera that has playable footage. */
export function earlyPlaylistPaths(timeline: { cameraWindows: readonly EarlyWindow[] }): string[] {
  const by = new Map<string, EarlyWindow[]>();
  for (const w of timeline.cameraWindows) by.set(w.camera.id, [...(by.get(w.camera.id) ?? []), w]);
  return [...by.values()].filter((ws) => ws.some((w) => w.playable)).map(cameraPlaylistPath);
}

/**
 * Early answers under `prefix` that will not be taken (cameras not shown) are dropped, so that a later visit never
 * gets a stale one; `keep` are the ones being taken now.
 */
export function dropEarly(store: EarlyStore | null, prefix: string, keep: ReadonlySet<string> = new Set()): void {
  if (!store) return;
  for (const k of [...store.keys()]) if (k.startsWith(prefix) && !keep.has(k)) store.delete(k);
}

/**
 * An early answer's text for a same-origin URL, taken out of the store, or null when there is none. A failed or
 * non-2xx early answer resolves to null: the caller asks again.
 */
export function takeEarlyText(store: EarlyStore | null, url: string, origin: string): Promise<string | null> | null {
  return takeEarlyBody(store, url, origin, (r) => r.text());
}

function takeEarlyBody<T>(store: EarlyStore | null, url: string, origin: string, read: (r: Response) => Promise<T>): Promise<T | null> | null {
  return (
    takeStored(store, url, origin)?.then(
      (r) => (r.ok ? read(r) : null),
      () => null,
    ) ?? null
  );
}

/** What the case page reads of the URL's moment (case-view.ts `caseStateFromQuery`: `t`, UTC ISO with at most ms). */
const MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The moment a case page opens at: the URL's `t` when it is well formed, else the start of the case's window. */
export function earlyMoment(search: string, caseWindowFrom: string): number {
  const t = new URLSearchParams(search).get('t');
  const ms = t && MOMENT.test(t) ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : Date.parse(caseWindowFrom);
}

/**
 * The fragment of a camera's playlist (the centre's VOD playlists: a program-date-time and a duration before every
 * segment's URI) that holds the instant `utc`, as the path with query the player will ask for; null when the instant
 * is in no fragment (a gap, outside the footage) or not yet past (`now`). `app.html` fetches it as soon as the
 * playlist is in, so that the case page's first fragment of each camera is already on its way.
 */
export function earlyFragmentPath(playlist: string, utc: number, now: number): string | null {
  if (!Number.isFinite(utc) || utc >= now) return null;
  let pdt = NaN;
  let dur = NaN;
  for (const raw of playlist.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) dur = parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      if (line.startsWith('/') && pdt <= utc && utc < pdt + dur * 1000) return line;
      pdt = NaN;
      dur = NaN;
    }
  }
  return null;
}

/** An early answer's bytes for a same-origin URL, taken out of the store; null when there is none or it failed. */
export function takeEarlyBytes(store: EarlyStore | null, url: string, origin: string): Promise<ArrayBuffer | null> | null {
  return takeEarlyBody(store, url, origin, (r) => r.arrayBuffer());
}
