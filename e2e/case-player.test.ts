/**
 * The case page in Chromium against the real centre and worker: three cameras of real ffmpeg footage (one with a
 * reported outage) and the fixture call's audio, all on one clock. Each element's media time is mapped to the wall
 * clock through its own playlist's #EXT-X-PROGRAM-DATE-TIME (the test fetches the playlists itself) and the call's
 * start, and they must agree within 0.1 s after a timeline click and over 30 s of playback.
 * Needs `npm run build -w web` first (scripts/test.sh does it). `E2E_SCREENSHOT_DIR=/tmp/x` keeps the screenshots.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { browserCookie, CALL_END, CALL_START, caseFixture, OUTAGE, parsePlaylist, until, wallClockOf, type CaseFixture, type Frag } from './case-fixture.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TOLERANCE_MS = 100;

type Media = { id: string; t: number; paused: boolean; seeking: boolean; rs: number };
type Sample = { videos: Media[]; audios: Media[]; state: string; moment: number };
const SAMPLE = `(() => {
  const read = (sel, key) => [...document.querySelectorAll(sel)].map((e) => ({ id: e.dataset[key], t: e.currentTime, paused: e.paused, seeking: e.seeking, rs: e.readyState }));
  return {
    videos: read('[data-testid=case-video]', 'camera'),
    audios: read('[data-testid=case-audio]', 'call'),
    state: document.querySelector('[data-testid=clock-state]')?.dataset.state ?? '',
    moment: Number(document.querySelector('[data-testid=case-moment]')?.dataset.utc ?? NaN),
  };
})()`;

describe('case page: synchronized player', { timeout: 600_000 }, () => {
  let fx: CaseFixture;
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  const frags = new Map<string, Frag[]>();
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-case-'));
    fx = await caseFixture({ webRoot: WEB_BUILD, dir, cameras: 3 });
    // The playlists as the page gets them (the same route, the same session kind), read by the test itself.
    const cookie = await fx.centre.sessionCookie(fx.user.id);
    const t = (await (await fetch(`${fx.centre.url}/api/v1/incidents/${fx.caseId}/timeline`, { headers: { cookie } })).json()) as { cameraWindows: { camera: { id: string }; playlistUrl: string }[] };
    for (const w of t.cameraWindows) frags.set(w.camera.id, parsePlaylist(await (await fetch(`${fx.centre.url}${w.playlistUrl}`, { headers: { cookie } })).text()));
    assert.equal(frags.size, 3);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    // The browser is in California: the page must still show Tokyo's time.
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    await context.addCookies([await browserCookie(fx.centre, fx.user.id)]);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.centre.url });
  });

  after(async () => {
    await browser?.close();
    await fx?.centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(path: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${fx.centre.url}${path}`);
    return page;
  }

  const sample = (page: Page) => page.evaluate(SAMPLE) as Promise<Sample>;

  /**
   * Every element that should show media at the sample's moment, mapped to the wall clock through its playlist
   * (cameras) or the call's start (audio). Elements at an edge (the call's end, the outage) are left out.
   */
  function wallClocks(s: Sample): { id: string; wall: number }[] {
    const out: { id: string; wall: number }[] = [];
    const near = (a: number, b: number) => s.moment > a - 300 && s.moment < b + 300;
    for (const v of s.videos) {
      if (v.id === fx.cameraIds[1] && near(OUTAGE.start, OUTAGE.end)) continue;
      const wall = wallClockOf(frags.get(v.id)!, v.t);
      assert.ok(wall !== null, `camera ${v.id} media time ${v.t} is inside its playlist`);
      out.push({ id: v.id, wall });
    }
    for (const a of s.audios) if (s.moment > CALL_START + 300 && s.moment < CALL_END - 300) out.push({ id: `call ${a.id}`, wall: CALL_START + a.t * 1000 });
    return out;
  }
  function spread(s: Sample): number {
    const w = wallClocks(s).map((x) => x.wall);
    return Math.max(...w) - Math.min(...w);
  }
  const describeSample = (s: Sample) => wallClocks(s).map((e) => `${e.id.slice(0, 8)} ${(e.wall - s.moment).toFixed(0)}`).join(', ');
  const settled = (s: Sample) => [...s.videos, ...s.audios].every((e) => !e.seeking && e.rs >= 2);

  async function axe(page: Page, what: string) {
    await page.evaluate(AXE);
    const r = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))`)) as { id: string; impact: string; nodes: string[] }[];
    const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `${what}: axe-core serious/critical violations`);
  }

  test('opens paused at the case start in Tokyo time, every camera and the audio on that frame', async () => {
    const page = await open(`/incidents/${fx.caseId}`);
    await page.locator('[data-testid=case-number]').waitFor();
    assert.equal(await page.locator('[data-testid=case-video]').count(), 3);
    assert.equal(await page.locator('[data-testid=case-audio]').count(), 1);
    assert.equal(await page.locator('[data-testid=case-zone]').innerText(), '表示時刻: Asia/Tokyo (JST)');
    await page.locator('[data-testid=case-moment]').filter({ hasText: '2026-11-24 03:05:00.0' }).waitFor();
    const s = await until(() => sample(page), (x) => x.videos.length === 3 && settled(x) && x.audios.length === 1, 'the first frames', 20_000);
    const start = wallClocks({ ...s, moment: CALL_START + 1000 });
    for (const e of start) assert.ok(Math.abs(e.wall - CALL_START) <= TOLERANCE_MS, `${e.id} at the case start: ${e.wall - CALL_START} ms`);
    // Coverage lanes: the outage drawn as a gap with its reason; the unrecorded rest of the 10-minute windows too.
    assert.equal(await page.locator('[data-testid=lane-camera]').count(), 3);
    assert.equal(await page.locator(`[data-testid=lane-camera][data-camera="${fx.cameraIds[1]}"] [data-kind=gap]`).count(), 1);
    const gaps = await page.locator('[data-testid=case-gaps]').innerText();
    assert.match(gaps, /03:05:50 – 03:05:56\s+カメラ停止\s+RTSP timeout/);
    assert.match(gaps, /理由の報告なし/);
    await page.screenshot({ path: join(shots(), 'case-page.png'), fullPage: true });
    await axe(page, 'case page');
    await page.close();
  });

  test('play, click the timeline: all media at the clicked moment within 0.1 s, and still together over 30 s', async () => {
    const page = await open(`/incidents/${fx.caseId}`);
    await until(() => sample(page), (x) => x.videos.length === 3 && settled(x), 'the page to load', 20_000);
    await page.click('[data-testid=play-toggle]');
    const early = await until(() => sample(page), (x) => x.state === 'playing' && x.moment > CALL_START + 1000 && spread(x) <= TOLERANCE_MS, 'playback with every element within 0.1 s', 20_000);
    assert.ok(early.audios.every((a) => !a.paused) && early.videos.every((v) => !v.paused), 'all playing');

    // Click the timeline at 18:05:02 UTC (03:05:02 JST): the track spans the case's extent.
    const track = page.locator('[data-testid=case-timeline]');
    const box = (await track.boundingBox())!;
    const [min, max] = await Promise.all([track.getAttribute('aria-valuemin'), track.getAttribute('aria-valuemax')]).then((v) => v.map(Number) as [number, number]);
    const target = CALL_START + 2000;
    await track.click({ position: { x: ((target - min) / (max - min)) * box.width, y: box.height / 2 } });
    // One pixel of the track is about half a second of the case; the clock may already have run on a little.
    const pixelMs = (max - min) / box.width;
    const clicked = Number(await page.locator('[data-testid=case-moment]').getAttribute('data-utc'));
    assert.ok(clicked >= target - pixelMs && clicked < target + 3000, `the click landed at ${new Date(clicked).toISOString()}`);
    // The master starts when every element has the new frame; each then plays and the correction loop removes what
    // is left of their different start-up delays (the bench measures how long this takes).
    const clickedAt = Date.now();
    const after = await until(() => sample(page), (x) => x.state === 'playing' && settled(x) && x.videos.every((v) => !v.paused) && spread(x) <= TOLERANCE_MS, 'every element at the new moment, within 0.1 s', 10_000);
    const took = Date.now() - clickedAt;
    for (const e of wallClocks(after)) assert.ok(e.wall >= target - pixelMs - TOLERANCE_MS && e.wall < target + 5000, `${e.id} moved to the clicked moment: ${e.wall - target} ms`);
    assert.ok(took < 5000, `in step ${took} ms after the click`);

    // 30 s of playback, sampled twice a second.
    const spreads: number[] = [];
    const t0 = Date.now();
    const m0 = after.moment;
    let last = after;
    const details: string[] = [];
    while (Date.now() - t0 < 30_000) {
      await new Promise((r) => setTimeout(r, 500));
      last = await sample(page);
      if (last.state === 'playing') {
        spreads.push(spread(last));
        details.push(describeSample(last));
      }
    }
    const worst = Math.max(...spreads);
    assert.ok(spreads.length >= 40, `sampled while playing: ${spreads.length}`);
    assert.ok(worst <= TOLERANCE_MS, `over 30 s the media stayed within ${worst.toFixed(0)} ms (all: ${spreads.map((x) => x.toFixed(0)).join(' ')}; worst: ${details[spreads.indexOf(worst)]})`);
    assert.ok(last.moment - m0 > 20_000, `the clock advanced ${last.moment - m0} ms in 30 s`);
    await page.close();
  });

  test('keyboard shortcuts; a bookmark survives a reload; a copied link opens at its moment', async () => {
    const page = await open(`/incidents/${fx.caseId}`);
    await until(() => sample(page), (x) => x.videos.length === 3 && settled(x), 'the page to load', 20_000);
    const moment = async () => Number(await page.locator('[data-testid=case-moment]').getAttribute('data-utc'));
    const start = await moment();
    await page.locator('h1').click(); // focus on the page, not a control
    await page.keyboard.press('Space');
    await page.locator('[data-testid=clock-state][data-state=playing]').waitFor();
    await page.keyboard.press('k');
    await page.locator('[data-testid=clock-state][data-state=paused]').waitFor();
    const paused = await moment();
    assert.ok(paused > start, 'played a little');
    await page.keyboard.press('ArrowRight');
    assert.equal(await moment(), paused + 5000, '→ is 5 s on');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await moment(), paused - 5000, '← is 5 s back');
    await page.keyboard.press('.');
    assert.equal(await moment(), paused - 5000 + 40, '. is one frame on');
    await page.keyboard.press(',');
    await page.keyboard.press(',');
    assert.equal(await moment(), paused - 5000 - 40, ', is one frame back');
    await page.keyboard.press('+');
    await page.waitForURL((u) => u.searchParams.get('speed') === '2');
    assert.equal(await page.locator('[data-testid=speed]').inputValue(), '2');
    await page.keyboard.press('-');
    await page.waitForURL((u) => !u.searchParams.has('speed'));

    // Paused, every element shows the master's frame.
    const still = await until(() => sample(page), (x) => settled(x) && x.state === 'paused', 'the frame');
    const m = still.moment;
    for (const e of wallClocks(still)) assert.ok(Math.abs(e.wall - m) <= TOLERANCE_MS, `${e.id} on the paused frame: ${e.wall - m} ms`);

    // A bookmark at this moment, with a note ('b' focuses the note field).
    await page.keyboard.press('b');
    await page.keyboard.type('客が大声を出す');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=bookmark]').filter({ hasText: '客が大声を出す' }).waitFor();
    const bookmarkAt = new Date(m).toISOString();
    assert.equal(await page.locator('[data-testid=bookmark]').first().getAttribute('data-at'), bookmarkAt);

    // Away and back by the bookmark keys.
    await page.locator('h1').click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('[');
    assert.equal(await moment(), m, '[ goes back to the bookmark');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press(']');
    assert.equal(await moment(), m, '] goes on to it');

    // The copied link carries the moment; a fresh page opens there, every element on that frame.
    await page.keyboard.press('ArrowRight');
    const linked = await moment();
    await page.click('[data-testid=copy-link]');
    await page.locator('[data-testid=case-notice]').filter({ hasText: 'リンクをコピーしました。' }).waitFor();
    const copied = (await page.evaluate('navigator.clipboard.readText()')) as string;
    assert.equal(new URL(copied).searchParams.get('t'), new Date(linked).toISOString());
    await page.close();

    const again = await open(new URL(copied).pathname + new URL(copied).search);
    await again.locator('[data-testid=case-moment]').waitFor();
    assert.equal(Number(await again.locator('[data-testid=case-moment]').getAttribute('data-utc')), linked);
    const there = await until(() => sample(again), (x) => x.videos.length === 3 && settled(x) && x.videos.every((v) => v.rs >= 2), 'the linked frame', 20_000);
    for (const e of wallClocks(there)) assert.ok(Math.abs(e.wall - linked) <= TOLERANCE_MS, `${e.id} at the linked moment: ${e.wall - linked} ms`);
    // The bookmark is still there after a reload, on the list and on the timeline.
    await again.reload();
    await again.locator('[data-testid=bookmark]').filter({ hasText: '客が大声を出す' }).waitFor();
    assert.equal(await again.locator('[data-testid=bookmark-mark]').count(), 1);
    await again.close();
  });

  test('a tile says it is loading until its first frame, not a black box', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The footage's fragments are held back until the tiles have been looked at.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/v1/media/segments/**', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${fx.centre.url}/incidents/${fx.caseId}`);
    // Every camera has footage at the case start (its playlist says so) but no frame yet.
    await page.locator('[data-testid=camera-tile][data-state=media]').nth(2).waitFor();
    assert.deepEqual(await page.locator('[data-testid=camera-tile] [data-testid=tile-overlay]').allInnerTexts(), ['読み込み中…', '読み込み中…', '読み込み中…']);
    release();
    await until(() => page.locator('[data-testid=camera-tile] [data-testid=tile-overlay]').count(), (n) => n === 0, 'the loading lines gone once the frames show', 20_000);
    assert.equal(await page.locator('[data-testid=camera-tile][data-state=media]').count(), 3);
    await page.close();
  });

  test('cameras chosen in the URL; a camera in its outage says so; axe on the English page', async () => {
    const t = new Date(OUTAGE.start + 2000).toISOString();
    const page = await open(`/incidents/${fx.caseId}?t=${t}&cams=${fx.cameraIds[0]},${fx.cameraIds[1]}&lang=en`);
    await page.locator('[data-testid=camera-tile]').nth(1).waitFor();
    assert.equal(await page.locator('[data-testid=camera-tile]').count(), 2);
    await page.locator(`[data-testid=camera-tile][data-camera="${fx.cameraIds[1]}"][data-state=gap]`).waitFor();
    assert.match(await page.locator(`[data-testid=camera-tile][data-camera="${fx.cameraIds[1]}"]`).innerText(), /No footage at this moment\s+Next footage: 03:05:56/);
    await page.locator(`[data-testid=camera-tile][data-camera="${fx.cameraIds[0]}"][data-state=media]`).waitFor();
    // Unticking a camera writes the choice to the URL.
    await page.locator('[data-testid=camera-pick]').nth(0).uncheck();
    await page.waitForURL((u) => u.searchParams.get('cams') === fx.cameraIds[1]);
    assert.equal(await page.locator('[data-testid=camera-tile]').count(), 1);
    await axe(page, 'case page (English, outage)');
    await page.close();
  });

  test('hq places a legal hold: the badge, the history and a refused unlink say so; released again', async () => {
    const hq = await fx.centre.createUser({ role: 'hq', displayName: '本部 法務' });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    await ctx.addCookies([await browserCookie(fx.centre, hq.id)]);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${fx.centre.url}/incidents/${fx.caseId}`);
    await page.locator('[data-testid=legal-hold-place]').click();
    await page.getByRole('alert').filter({ hasText: '理由を入力してください。' }).waitFor();
    await page.fill('[data-testid=legal-hold-reason]', '警察からの照会 第123号');
    await page.locator('[data-testid=legal-hold-place]').click();
    await page.locator('[data-testid=legal-hold-badge]').waitFor();
    assert.match(await page.locator('[data-testid=legal-hold-state]').innerText(), /設定中.*警察からの照会 第123号/);
    assert.match(await page.locator('[data-testid=case-history]').innerText(), new RegExp(`訴訟ホールドの設定\\s+${hq.login}`), 'the history names who placed it');
    // Under legal hold the evidence stays linked: the centre refuses, the page says why in a sentence.
    await page.locator('[data-testid=linked-calls] button').first().click();
    await page.getByRole('alert').filter({ hasText: '訴訟ホールド中のため、証拠の紐付けを解除できません。' }).waitFor();
    assert.equal(await page.locator('[data-testid=linked-calls] li').count(), 1);
    await page.fill('[data-testid=legal-hold-reason]', '照会終了');
    await page.locator('[data-testid=legal-hold-release]').click();
    await page.locator('[data-testid=legal-hold-place]').waitFor();
    assert.equal(await page.locator('[data-testid=legal-hold-badge]').count(), 0);
    const detail = (await (await fetch(`${fx.centre.url}/api/v1/incidents/${fx.caseId}`, { headers: { cookie: await fx.centre.sessionCookie(hq.id) } })).json()) as { holds: { kind: string; active: boolean }[] };
    const legal = detail.holds.filter((h) => h.kind === 'legal');
    assert.ok(legal.length === 4 && legal.every((h) => !h.active), `a legal hold on each window and the call, all released: ${JSON.stringify(legal)}`);
    await ctx.close();
    assert.deepEqual(pageErrors, [], 'no script errors');
  });
});
