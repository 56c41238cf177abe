/**
 * Footage from an agent to a person's screen: real H.264 MPEG-TS segments go in through the agent API (with a
 * gap), ffmpeg reads the playlist end to end, and Chromium plays it in the web app with the site's clock, signed in
 * as the site's store manager (a session cookie; the centre runs without the legacy admin token).
 * Needs `npm run build -w web` first (scripts/test.sh does it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { makeTsSegments, registerCamera, reportGap, uploadSegment, type TsSegment } from '../server/test/helpers/footage.ts';

const run = promisify(execFile);
const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

/** What the test reads of the page's <video> (the root tsconfig has no DOM types). */
type VideoState = { t: number; w: number; h: number; paused: boolean };

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

// 19:00:00 in Tokyo. Segments: [0,2) [2,4) then a 6 s camera outage, then [10,12) (seconds after T0).
const T0 = Date.parse('2026-11-23T10:00:00Z');
const GAP_MS = 6000;

describe('HLS playback end to end', { timeout: 90_000 }, () => {
  let centre: TestCentre;
  let dir: string;
  let cameraId: string;
  let segs: TsSegment[];
  let browser: Browser | undefined;
  let manager: { id: string; login: string; password: string };
  let cookie: string;
  const starts: Date[] = [];
  const playlistUrl = () => `${centre.url}/api/v1/cameras/${cameraId}/playlist.m3u8?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 20_000).toISOString()}`;

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-'));
    [centre, segs] = await Promise.all([startCentre({ webRoot: WEB_BUILD, adminToken: null }), makeTsSegments(dir, 3, 2)]);
    const site = await centre.createSite(undefined, 'Asia/Tokyo');
    manager = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId], displayName: '田中 店長' });
    cookie = await centre.signIn(manager.login);
    const agent = await centre.enrollAgent(site.token);
    cameraId = await registerCamera(centre.url, agent.credential, 'entrance', { name: '入口カメラ', place: 'レジ1', health: 'recording' });
    for (const [i, s] of segs.entries()) {
      // Real start from ffprobe (timestamps continue across segments, as the recorder writes them).
      const start = new Date(T0 + Math.round((s.startSec - segs[0]!.startSec) * 1000) + (i === 2 ? GAP_MS : 0));
      const r = await uploadSegment(centre.url, agent.credential, 'entrance', start, { bytes: s.bytes, sha256: s.sha256, durationMs: Math.round(s.durationSec * 1000) });
      assert.equal(r.status, 201, `segment ${i}`);
      starts.push(start);
    }
    const gap = await reportGap(centre.url, agent.credential, { cameraKey: 'entrance', start: new Date(starts[1]!.getTime() + 2000), end: starts[2]!, reason: 'camera_offline', detail: 'RTSP timeout' });
    assert.equal(gap.status, 201);
  });

  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('ffmpeg reads the playlist end to end (what ffplay would play)', async () => {
    // The store manager's session cookie on the playlist request; segment links are signed and need nothing.
    const headers = `Cookie: ${cookie}\r\n`;
    const env = { ...process.env, TZ: 'UTC' };
    const decoded = await run('ffmpeg', ['-v', 'error', '-nostdin', '-headers', headers, '-i', playlistUrl(), '-f', 'null', '-'], { env });
    assert.equal(decoded.stderr.trim(), '', 'no decoder or demuxer errors');
    const probe = await run('ffprobe', ['-v', 'error', '-headers', headers, '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', playlistUrl()], { env });
    const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0]!;
    assert.deepEqual([stream.codec_name, stream.width, stream.height], ['h264', 320, 240]);
    assert.equal(Number(stream.nb_read_frames), 3 * 2 * 25, 'every frame of the three segments');
    const refused = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', playlistUrl(), '-f', 'null', '-']).then(
      () => 'played',
      (e: { stderr: string }) => e.stderr,
    );
    assert.match(refused, /401/, 'without a session the playlist is refused');
  });

  test('the centre serves the app for its routes and JSON errors for the API', async () => {
    const app = await fetch(`${centre.url}/cameras/${cameraId}?from=x`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await app.text(), /_app\/immutable/);
    const api = await fetch(`${centre.url}/api/v1/nope`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { code: string } }).error.code, 'route_not_found');
    const asset = await fetch(`${centre.url}/_app/immutable/missing.js`);
    assert.equal(asset.status, 404, 'a missing build asset is not answered with index.html');
    await asset.arrayBuffer();
  });

  test('Chromium: sign in, open the camera, play the range with the site clock and the gap shown', async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    // The browser is in California: every time on the page must still be Tokyo's.
    const context = await browser.newContext({ viewport: { width: 1280, height: 960 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    const page: Page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const bearerSentTo = new Set<string>();
    const cookieSentTo = new Set<string>();
    const cookieChecks: Promise<void>[] = [];
    const idPath = (u: string) => new URL(u).pathname.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|(?<=\/segments\/)\d+/g, ':id');
    page.on('request', (r) => {
      if (r.headers()['authorization']) bearerSentTo.add(idPath(r.url()));
      // allHeaders() includes the cookie the network layer adds.
      cookieChecks.push(r.allHeaders().then((h) => void (h['cookie']?.includes(`${centre.cookieName}=`) && cookieSentTo.add(idPath(r.url())))).catch(() => undefined));
    });

    await page.goto(`${centre.url}/cameras`);
    await page.fill('#login', manager.login);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').filter({ hasText: 'ログインIDまたはパスワードが正しくありません' }).waitFor();
    assert.equal(await page.inputValue('#password'), '', 'a refused password is not left in the form');
    await page.fill('#password', manager.password);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=who]').filter({ hasText: '田中 店長 (店長)' }).waitFor();
    const row = page.locator('[data-testid=camera-list] tbody tr').first();
    await row.waitFor();
    const rowText = await row.innerText();
    for (const s of ['入口カメラ', 'レジ1', '録画中', '2026-11-23 19:00:12', 'JST']) assert.ok(rowText.includes(s), `camera row shows ${s}: ${rowText}`);

    const shots = process.env.E2E_SCREENSHOT_DIR ?? dir; // set it to look at the screenshots; else they go with the temp dir
    await page.screenshot({ path: join(shots, 'cameras.png'), fullPage: true });

    await row.locator('[data-testid=open-camera]').click();
    await page.waitForURL(/\/cameras\/[0-9a-f-]{36}\?from=/);
    // The range is typed in Tokyo time.
    await page.fill('[data-testid=range-from]', '2026-11-23T19:00:00');
    await page.fill('[data-testid=range-to]', '2026-11-23T19:00:20');
    await page.click('[data-testid=range-apply]');
    await page.waitForURL((u) => u.searchParams.get('from') === '2026-11-23T10:00:00Z' && u.searchParams.get('to') === '2026-11-23T10:00:20Z');

    const video = page.locator('[data-testid=video]');
    const state = () =>
      video.evaluate((el): VideoState => {
        const v = el as unknown as { currentTime: number; videoWidth: number; videoHeight: number; paused: boolean };
        return { t: v.currentTime, w: v.videoWidth, h: v.videoHeight, paused: v.paused };
      });
    const playing = await until(state, (s) => s.t > 1 && s.w > 0 && !s.paused, 'the video to play', 20_000);
    assert.deepEqual([playing.w, playing.h], [320, 240]);
    const frameTime = page.locator('[data-testid=frame-time]');

    assert.equal(await page.locator('[data-testid=zone-label]').innerText(), '表示時刻: Asia/Tokyo (JST)');
    assert.match(await frameTime.innerText(), /^2026-11-23 19:00:0[0-3]$/);
    // The segment on screen is named by its edge hash, as the agent measured it at the store.
    const shown = (await page.locator('[data-testid=segment-hash]').innerText()).replace('…', '');
    assert.ok(segs.slice(0, 2).some((s) => s.sha256.startsWith(shown) && shown.length === 16), `an edge hash of the first segments: ${shown}`);
    assert.match(await page.locator('[data-testid=segment-offset]').innerText(), /店舗の時計のずれ/);
    const gaps = await page.locator('[data-testid=gap-list] li').allInnerTexts();
    assert.ok(
      gaps.some((g) => g.includes('19:00:04 – 19:00:10') && g.includes('カメラ停止') && g.includes('RTSP timeout') && g.includes('6 秒')),
      `reported gap listed with its reason: ${JSON.stringify(gaps)}`,
    );
    assert.ok(
      gaps.some((g) => g.includes('19:00:12 – 19:00:20') && g.includes('理由の報告なし')),
      `the unexplained tail is listed too: ${JSON.stringify(gaps)}`,
    );
    assert.equal(await page.locator('[data-testid=timeline-bar] .span.gap').count(), 1);

    const shot = join(shots, 'player.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.E2E_SCREENSHOT_DIR) console.log(`screenshots in ${shots}`);

    // Playing on, the clock jumps over the outage: media time 4 s is 19:00:10 on the wall.
    await until(state, (s) => s.t > 4.3, 'playback past the outage');
    assert.match(await frameTime.innerText(), /^2026-11-23 19:00:1[0-2]$/);

    // Clicking the bar inside the gap plays from the next recording, and says so.
    const bar = page.locator('[data-testid=timeline-bar]');
    const box = (await bar.boundingBox())!;
    await bar.click({ position: { x: box.width * (7 / 20), y: box.height / 2 } });
    await until(state, (s) => s.t >= 4 && s.t < 5, 'a seek to the recording after the gap');
    await page.getByText('選んだ時刻は欠落中のため、次の録画から再生します。').waitFor();
    // Clicking at 19:00:01 goes back there.
    await bar.click({ position: { x: box.width * (1 / 20), y: box.height / 2 } });
    await until(state, (s) => s.t >= 0.9 && s.t < 2, 'a seek to 19:00:01');
    await frameTime.filter({ hasText: /19:00:0[12]$/ }).waitFor();

    // English, same range.
    await page.click('[data-testid=lang-toggle]');
    await page.waitForURL((u) => u.searchParams.get('lang') === 'en' && u.searchParams.get('from') === '2026-11-23T10:00:00Z');
    await page.getByText('Times shown in: Asia/Tokyo (JST)').waitFor();
    assert.ok((await page.locator('[data-testid=gap-list]').innerText()).includes('Camera offline'));

    const shotEn = join(shots, 'player-en.png');
    await page.screenshot({ path: shotEn, fullPage: true });

    // The session lives only in the HttpOnly cookie: nothing in storage, nothing JavaScript can read.
    const stored = await page.evaluate('JSON.stringify([sessionStorage.length, localStorage.length, document.cookie])');
    assert.equal(stored, JSON.stringify([0, 0, '']));

    // Signing out ends the session at the centre: the sign-in form is back, and a reload does not bring it back.
    const playerUrl = page.url();
    await page.click('[data-testid=sign-out]');
    await page.locator('[data-testid=signin-notice]').filter({ hasText: 'You are signed out.' }).waitFor(); // still in English
    await page.goto(playerUrl);
    await page.locator('[data-testid=signin-form]').waitFor();
    assert.equal(await page.locator('[data-testid=video]').count(), 0, 'no player without a session');
    const sessions = await centre.db.selectFrom('session').select(['revokedAt']).where('userId', '=', manager.id).execute();
    assert.ok(sessions.length >= 2 && sessions.some((x) => x.revokedAt !== null), 'the browser session was revoked at the centre');

    await Promise.all(cookieChecks);
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual([...bearerSentTo], [], 'no request carries an Authorization header');
    assert.ok(cookieSentTo.has('/api/v1/cameras/:id/playlist.m3u8'), `the player fetched the playlist with the session cookie: ${[...cookieSentTo].join(', ')}`);
    assert.ok(cookieSentTo.has('/api/v1/auth/logout'), 'sign-out told the centre which session to end');
    await context.close();
  });
});
