/**
 * Requests started by `app.html` while the app's code is still loading, so a page's first answers are not queued
 * behind its own JavaScript: who is signed in (`/api/v1/auth/me`) on every page, and on a case page its timeline.
 * The inline script in `app.html` is the only thing that starts them (it cannot import this module; `earlyPaths`
 * here is its rule, and web/test/early.test.ts runs that script against it). The API client takes each one at most
 * once, and only a 2xx answer: anything else (401 before sign-in, an error) is asked again normally.
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
  if (!store || request.method !== 'GET') return null;
  const url = new URL(request.url, origin);
  if (url.origin !== origin) return null;
  const key = url.pathname + url.search;
  const early = store.get(key);
  if (!early) return null;
  store.delete(key);
  return early.then(
    (r) => (r.ok ? r : refetch()),
    () => refetch(),
  );
}
