import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { cameraPlaylistPath, dropEarly, EARLY_GLOBAL, earlyFragmentPath, earlyMoment, earlyPaths, earlyPlaylistPaths, earlyStore, takeEarly, takeEarlyBytes, takeEarlyText, type EarlyStore, type EarlyWindow } from '../src/lib/early.ts';

const CASE = '0b7e4c1a-5d2f-4e8a-9c3b-1f2e3d4c5b6a';

/** Runs app.html's inline start-up script as a browser would at that address; returns the paths it fetched. */
/** The script's clock in these tests: after every instant the fixtures use, whatever the machine's date. */
const SCRIPT_NOW = Date.parse('2026-12-01T00:00:00Z');
class ScriptDate extends Date {
  static override now() {
    return SCRIPT_NOW;
  }
}

function runAppHtmlScript(pathname: string, answers: Record<string, unknown> = {}, caseModules = '', search = ''): { fetched: { path: string; init: RequestInit }[]; store: unknown; links: { rel: string; as?: string; href: string }[] } {
  const html = readFileSync(new URL('../src/app.html', import.meta.url), 'utf8');
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 1, 'app.html has one inline script (the server hashes it for its CSP)');
  assert.ok(html.includes('<meta name="mamoru-case-modules" content="" />'), 'the build names the case route’s files there (vite.config.ts)');
  const fetched: { path: string; init: RequestInit }[] = [];
  const links: { rel: string; as?: string; href: string }[] = [];
  const idle: Array<() => void> = [];
  const window: Record<string, unknown> = { requestIdleCallback: (f: () => void) => void idle.push(f) };
  vm.runInNewContext(scripts[0]!, {
    window,
    location: { pathname, search },
    // The built page's meta (the source's is empty) and the links the script adds.
    document: {
      querySelector: (sel: string) => (sel === 'meta[name="mamoru-case-modules"]' ? { content: caseModules } : null),
      createElement: () => ({}) as { rel: string; href: string },
      head: { appendChild: (l: { rel: string; as?: string; href: string }) => void links.push({ ...l }) },
    },
    Map,
    URLSearchParams,
    Date: ScriptDate,
    fetch: (path: string, init: RequestInit) => {
      fetched.push({ path, init });
      const a = answers[path];
      return Promise.resolve(new Response(typeof a === 'string' ? a : JSON.stringify(a ?? {})));
    },
  });
  // The time-zone warm-up waits for an idle moment, once, and runs without an error.
  assert.equal(idle.length, 1, 'one idle task: warming Intl\'s time-zone data');
  idle[0]!();
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

  test('the case’s moment: the URL’s t as the case page reads it, else the case window’s start', () => {
    const from = '2026-11-24T09:00:00.000Z';
    assert.equal(earlyMoment('?t=2026-11-24T09:03:04.500Z', from), Date.parse('2026-11-24T09:03:04.500Z'));
    assert.equal(earlyMoment('?t=2026-11-24T09:03:04Z&cams=x', from), Date.parse('2026-11-24T09:03:04Z'));
    for (const bad of ['', '?t=', '?t=2026-11-24T09:03:04', '?t=2026-11-24T09:03:04.5000Z', '?t=yesterday', '?t=2026-11-24T09:03:04%2B09:00']) assert.equal(earlyMoment(bad, from), Date.parse(from), bad);
  });

  // A playlist as the centre writes it (server/src/domain/hls.ts): 3 fragments, a gap, then one more.
  const seg = (n: number) => `/api/v1/media/segments/${n}.ts?exp=1&sig=s${n}`;
  const PLAYLIST = [
    '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T09:00:00.000Z', '#EXTINF:2.000,', seg(1),
    '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T09:00:02.000Z', '#EXTINF:2.000,', seg(2),
    '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T09:00:04.000Z', '#EXTINF:1.960,', seg(3),
    '# gap 2026-11-24T09:00:05.960Z/2026-11-24T09:00:10.000Z camera_offline', '#EXT-X-DISCONTINUITY',
    '#EXT-X-PROGRAM-DATE-TIME:2026-11-24T09:00:10.000Z', '#EXTINF:2.000,', seg(4),
    '#EXT-X-ENDLIST', '',
  ].join('\n');
  const at = (iso: string) => Date.parse(iso);
  const NOW = at('2026-12-01T00:00:00Z');

  test('the fragment that holds the moment, by program-date-time; none in a gap, outside, or not yet', () => {
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:00.000Z'), NOW), seg(1));
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:03.999Z'), NOW), seg(2));
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:04.000Z'), NOW), seg(3), 'a fragment starts where the last one ends');
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:05.959Z'), NOW), seg(3));
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:07.000Z'), NOW), null, 'in the gap');
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:11.000Z'), NOW), seg(4), 'after the discontinuity');
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T08:59:59.000Z'), NOW), null, 'before the footage');
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:12.000Z'), NOW), null, 'after it');
    assert.equal(earlyFragmentPath(PLAYLIST, at('2026-11-24T09:00:01.000Z'), at('2026-11-24T09:00:01.000Z')), null, 'not yet past');
    assert.equal(earlyFragmentPath('not a playlist', at('2026-11-24T09:00:01.000Z'), NOW), null);
  });

  test('app.html fetches each camera’s fragment at the moment as soon as its playlist is in, by the same rules', async () => {
    const playlist = (camera: string) => `/api/v1/cameras/${camera}/playlist.m3u8?from=a`;
    const timeline = {
      caseWindow: { from: '2026-11-24T09:00:01.000Z', to: '2026-11-24T09:00:12.000Z' },
      cameraWindows: ['cam-a', 'cam-b'].map((id) => ({ camera: { id }, from: 'a', to: 'b', playable: true, playlistUrl: playlist(id) })),
    };
    const answers = { [`/api/v1/incidents/${CASE}/timeline`]: timeline, [playlist('cam-a')]: PLAYLIST, [playlist('cam-b')]: PLAYLIST.replaceAll('/segments/', '/segments/b') };
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const paths = async (search: string) => {
      const run = runAppHtmlScript(`/incidents/${CASE}`, answers, '', search);
      await settle();
      return { fetched: run.fetched.map((f) => f.path).slice(4), store: run.store as EarlyStore };
    };
    // Opened at the case window's start (09:00:01): each camera's first fragment (09:00:00–02).
    const opened = await paths('');
    const moment = earlyMoment('', timeline.caseWindow.from);
    assert.deepEqual(opened.fetched, [earlyFragmentPath(PLAYLIST, moment, SCRIPT_NOW), earlyFragmentPath(answers[playlist('cam-b')] as string, moment, SCRIPT_NOW)]);
    assert.deepEqual(opened.fetched, [seg(1), seg(1).replace('/segments/', '/segments/b')]);
    for (const p of opened.fetched) assert.ok(opened.store.has(p), 'kept by its path with query');
    // A copied link's moment.
    assert.deepEqual((await paths('?t=2026-11-24T09:00:11.000Z')).fetched, [seg(4), seg(4).replace('/segments/', '/segments/b')]);
    // In a gap: nothing more.
    assert.deepEqual((await paths('?t=2026-11-24T09:00:07.000Z')).fetched, []);

    // The page gets each answer only once what follows from it is in the store (else it would fetch it again itself).
    const run = runAppHtmlScript(`/incidents/${CASE}`, answers, '', '');
    const store = run.store as EarlyStore;
    await store.get(`/api/v1/incidents/${CASE}/timeline`);
    assert.ok(store.has(playlist('cam-a')) && store.has(playlist('cam-b')), 'the playlists are in when the timeline is handed over');
    await store.get(playlist('cam-a'));
    assert.ok(store.has(seg(1)), 'the fragment is in when its playlist is handed over');
  });

  test('a fragment is taken once as bytes; a failed one is asked again', async () => {
    const origin = 'http://centre.test';
    const store: EarlyStore = new Map([
      [seg(1), Promise.resolve(new Response(new Uint8Array([1, 2, 3]), { status: 200 }))],
      [seg(2), Promise.resolve(new Response('gone', { status: 403 }))],
    ]);
    assert.deepEqual(new Uint8Array((await takeEarlyBytes(store, `${origin}${seg(1)}`, origin))!), new Uint8Array([1, 2, 3]));
    assert.equal(takeEarlyBytes(store, `${origin}${seg(1)}`, origin), null, 'once');
    assert.equal(await takeEarlyBytes(store, `${origin}${seg(2)}`, origin), null, 'not 2xx: ask again');
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
