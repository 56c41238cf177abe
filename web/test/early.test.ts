import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { cameraPlaylistPath, dropEarly, EARLY_GLOBAL, earlyPaths, earlyPlaylistPaths, earlyStore, takeEarly, takeEarlyText, type EarlyStore, type EarlyWindow } from '../src/lib/early.ts';

const CASE = '0b7e4c1a-5d2f-4e8a-9c3b-1f2e3d4c5b6a';

/** Runs app.html's inline start-up script as a browser would at that address; returns the paths it fetched. */
function runAppHtmlScript(pathname: string, answers: Record<string, unknown> = {}, caseModules = ''): { fetched: { path: string; init: RequestInit }[]; store: unknown; links: { rel: string; as?: string; href: string }[] } {
  const html = readFileSync(new URL('../src/app.html', import.meta.url), 'utf8');
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 1, 'app.html has one inline script (the server hashes it for its CSP)');
  assert.ok(html.includes('<meta name="mamoru-case-modules" content="" />'), 'the build names the case route’s files there (vite.config.ts)');
  const fetched: { path: string; init: RequestInit }[] = [];
  const links: { rel: string; as?: string; href: string }[] = [];
  const window: Record<string, unknown> = {};
  vm.runInNewContext(scripts[0]!, {
    window,
    location: { pathname },
    // The built page's meta (the source's is empty) and the links the script adds.
    document: {
      querySelector: (sel: string) => (sel === 'meta[name="mamoru-case-modules"]' ? { content: caseModules } : null),
      createElement: () => ({}) as { rel: string; href: string },
      head: { appendChild: (l: { rel: string; as?: string; href: string }) => void links.push({ ...l }) },
    },
    Map,
    URLSearchParams,
    fetch: (path: string, init: RequestInit) => {
      fetched.push({ path, init });
      return Promise.resolve(new Response(JSON.stringify(answers[path] ?? {})));
    },
  });
  return { fetched, store: window[EARLY_GLOBAL], links };
}

describe('answers started before the app runs', () => {
  test('who is signed in on every page; on a case page its timeline too', () => {
    assert.deepEqual(earlyPaths('/'), ['/api/v1/auth/me']);
    assert.deepEqual(earlyPaths('/calls'), ['/api/v1/auth/me']);
    assert.deepEqual(earlyPaths(`/incidents/${CASE}`), ['/api/v1/auth/me', `/api/v1/incidents/${CASE}/timeline`]);
    assert.deepEqual(earlyPaths(`/incidents/${CASE}/`), ['/api/v1/auth/me', `/api/v1/incidents/${CASE}/timeline`]);
    assert.deepEqual(earlyPaths('/incidents/new'), ['/api/v1/auth/me'], 'the filing form is not a case');
    assert.deepEqual(earlyPaths(`/incidents/${CASE}/packs`), ['/api/v1/auth/me'], 'the packs page reads other things');
    assert.deepEqual(earlyPaths('/incidents/not-a-case-id'), ['/api/v1/auth/me']);
  });

  test('app.html’s inline script starts exactly what earlyPaths says, with the session cookie', () => {
    for (const path of ['/', '/cameras', `/incidents/${CASE}`, `/incidents/${CASE}/`, '/incidents/new', `/incidents/${CASE}/packs`, `/incidents/${CASE.toUpperCase()}`]) {
      const { fetched, store } = runAppHtmlScript(path);
      assert.deepEqual(
        fetched.map((f) => f.path),
        earlyPaths(path),
        path,
      );
      for (const f of fetched) assert.equal(f.init.credentials, 'same-origin');
      assert.ok(store instanceof Map);
      assert.deepEqual([...(store as Map<string, unknown>).keys()], earlyPaths(path), `${path}: kept by path`);
    }
  });

  test('on a case page, its route’s code is preloaded (the files the build named), on no other page', () => {
    const named = '/_app/immutable/nodes/11.abc.js /_app/immutable/chunks/x.js /_app/immutable/assets/11.css';
    assert.deepEqual(runAppHtmlScript(`/incidents/${CASE}`, {}, named).links, [
      { rel: 'modulepreload', href: '/_app/immutable/nodes/11.abc.js' },
      { rel: 'modulepreload', href: '/_app/immutable/chunks/x.js' },
      { rel: 'preload', as: 'style', href: '/_app/immutable/assets/11.css' },
    ]);
    for (const path of ['/', '/incidents/new', `/incidents/${CASE}/packs`]) assert.deepEqual(runAppHtmlScript(path, {}, named).links, [], path);
    assert.deepEqual(runAppHtmlScript(`/incidents/${CASE}`, {}, '').links, [], 'an unbuilt page names nothing');
  });

  test('on a case page, once the timeline is in, each camera’s playlist by the page’s own rule', async () => {
    const win = (camera: string, from: string, to: string, playable = true): EarlyWindow => ({
      camera: { id: camera },
      from,
      to,
      playable,
      playlistUrl: `/api/v1/cameras/${camera}/playlist.m3u8?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    });
    const timeline = {
      cameraWindows: [
        win('cam-a', '2026-11-24T09:00:00.000Z', '2026-11-24T09:10:00.000Z'),
        win('cam-b', '2026-11-24T09:20:00.000Z', '2026-11-24T09:30:00.000Z', false),
        win('cam-b', '2026-11-24T08:55:00.000Z', '2026-11-24T09:05:00.000Z'),
        win('cam-c', '2026-11-24T09:00:00.000Z', '2026-11-24T09:10:00.000Z', false),
      ],
    };
    const playlists = earlyPlaylistPaths(timeline);
    assert.deepEqual(playlists, [
      timeline.cameraWindows[0]!.playlistUrl,
      `/api/v1/cameras/cam-b/playlist.m3u8?from=${encodeURIComponent('2026-11-24T08:55:00.000Z')}&to=${encodeURIComponent('2026-11-24T09:30:00.000Z')}`,
    ], 'one per camera with playable footage; several windows: first start to last end');
    assert.equal(cameraPlaylistPath([timeline.cameraWindows[0]!]), timeline.cameraWindows[0]!.playlistUrl, 'one window: its own playlist');

    const { fetched, store } = runAppHtmlScript(`/incidents/${CASE}`, { [`/api/v1/incidents/${CASE}/timeline`]: timeline });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fetched.map((f) => f.path), [...earlyPaths(`/incidents/${CASE}`), ...playlists]);
    assert.deepEqual([...(store as Map<string, unknown>).keys()], [...earlyPaths(`/incidents/${CASE}`), ...playlists]);
    // The page still reads the timeline the script looked into.
    const early = (store as EarlyStore).get(`/api/v1/incidents/${CASE}/timeline`)!;
    assert.deepEqual(await (await early).json(), timeline);

    const failed = runAppHtmlScript(`/incidents/${CASE}`, {});
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(failed.fetched.map((f) => f.path), earlyPaths(`/incidents/${CASE}`), 'a timeline without cameras starts nothing more');
  });

  test('a playlist is taken once as text; a failed one is asked again; the unshown are dropped', async () => {
    const origin = 'http://centre.test';
    const store: EarlyStore = new Map([
      ['/api/v1/cameras/a/playlist.m3u8?from=x', Promise.resolve(new Response('#EXTM3U a', { status: 200 }))],
      ['/api/v1/cameras/b/playlist.m3u8?from=x', Promise.resolve(new Response('no', { status: 403 }))],
      ['/api/v1/cameras/c/playlist.m3u8?from=x', Promise.resolve(new Response('#EXTM3U c', { status: 200 }))],
      ['/api/v1/auth/me', Promise.resolve(new Response('{}', { status: 200 }))],
    ]);
    assert.equal(await takeEarlyText(store, `${origin}/api/v1/cameras/a/playlist.m3u8?from=x`, origin), '#EXTM3U a');
    assert.equal(takeEarlyText(store, `${origin}/api/v1/cameras/a/playlist.m3u8?from=x`, origin), null, 'once');
    assert.equal(await takeEarlyText(store, `${origin}/api/v1/cameras/b/playlist.m3u8?from=x`, origin), null, 'not 2xx: ask again');
    assert.equal(takeEarlyText(store, `http://other.test/api/v1/cameras/c/playlist.m3u8?from=x`, origin), null, 'same origin only');
    dropEarly(store, '/api/v1/cameras/', new Set(['/api/v1/cameras/c/playlist.m3u8?from=x']));
    assert.deepEqual([...store.keys()], ['/api/v1/cameras/c/playlist.m3u8?from=x', '/api/v1/auth/me'], 'kept: the one being taken and other kinds');
    dropEarly(store, '/api/v1/cameras/');
    assert.deepEqual([...store.keys()], ['/api/v1/auth/me']);
  });

  test('each early answer is used once, for the same GET only', async () => {
    const origin = 'http://centre.test';
    const refetched: string[] = [];
    const refetch = (req: Request) => () => {
      refetched.push(req.url);
      return Promise.resolve(new Response('again', { status: 200 }));
    };
    const store: EarlyStore = new Map([
      ['/api/v1/auth/me', Promise.resolve(new Response('early me', { status: 200 }))],
      [`/api/v1/incidents/${CASE}/timeline`, Promise.resolve(new Response('early timeline', { status: 200 }))],
    ]);
    const me = new Request(`${origin}/api/v1/auth/me`);
    assert.equal(await (await takeEarly(store, me, origin, refetch(me)))!.text(), 'early me');
    assert.equal(takeEarly(store, me, origin, refetch(me)), null, 'taken once: the next ask goes to the centre');
    const post = new Request(`${origin}/api/v1/incidents/${CASE}/timeline`, { method: 'POST' });
    assert.equal(takeEarly(store, post, origin, refetch(post)), null, 'only GET');
    const withQuery = new Request(`${origin}/api/v1/incidents/${CASE}/timeline?x=1`);
    assert.equal(takeEarly(store, withQuery, origin, refetch(withQuery)), null, 'path and query must match');
    const elsewhere = new Request(`http://other.test/api/v1/incidents/${CASE}/timeline`);
    assert.equal(takeEarly(store, elsewhere, origin, refetch(elsewhere)), null, 'same origin only');
    assert.equal(takeEarly(null, me, origin, refetch(me)), null, 'no store (tests, other pages): nothing');
    assert.deepEqual(refetched, []);
  });

  test('an early answer that failed or is not 2xx is asked again (a 401 before sign-in is not reused after it)', async () => {
    const origin = 'http://centre.test';
    const store: EarlyStore = new Map([
      ['/api/v1/auth/me', Promise.resolve(new Response('{}', { status: 401 }))],
      ['/api/v1/sites', Promise.reject(new TypeError('network down'))],
    ]);
    const asked: string[] = [];
    for (const path of ['/api/v1/auth/me', '/api/v1/sites']) {
      const req = new Request(`${origin}${path}`);
      const r = await takeEarly(store, req, origin, () => {
        asked.push(path);
        return Promise.resolve(new Response('fresh', { status: 200 }));
      })!;
      assert.equal(await r.text(), 'fresh');
    }
    assert.deepEqual(asked, ['/api/v1/auth/me', '/api/v1/sites']);
    assert.equal(store.size, 0);
  });

  test('the store is found on the global object only when it is a Map', () => {
    assert.equal(earlyStore({}), null);
    assert.equal(earlyStore({ [EARLY_GLOBAL]: 'x' }), null);
    const m = new Map();
    assert.equal(earlyStore({ [EARLY_GLOBAL]: m }), m);
  });
});
