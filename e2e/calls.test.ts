/**
 * A PBX call from the agent to a person's screen: the real Asterisk 22 fixture call (three WAV originals) goes in
 * through the agent API, the worker derives the playable copies and waveforms, and Chromium (in California, so any
 * slip to the browser's zone shows) signs in as the store manager, finds the call by part of the number, plays it,
 * and reads its times in the site's zone (JST). Another store's manager finds nothing; an auditor is told that the
 * role has no access; a lockout shows its wait; a revoked session goes back to the sign-in form.
 * Needs `npm run build -w web` first (scripts/test.sh does it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from '../server/test/helpers/calls.ts';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];
/** Calls besides the fixture: more than one page of results (the web asks for 25 at a time). */
const EXTRA_CALLS = 26;

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 150));
    last = await read();
  }
  return last;
}

type User = { id: string; login: string; password: string };

describe('calls in the web app, end to end', { timeout: 120_000 }, () => {
  let centre: TestCentre;
  let dir: string;
  let callId: string;
  let browser: Browser;
  let manager: User;
  let otherManager: User;
  let auditor: User;
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir; // set it to look at the screenshots

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-calls-'));
    // Sessions only (no legacy admin token); two failed sign-ins lock a login, for the lockout check.
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null, auth: { account: { maxFailures: 2, windowSeconds: 900, lockSeconds: 900 } } });
    const site = await centre.createSite(undefined, 'Asia/Tokyo');
    const other = await centre.createSite(undefined, 'Asia/Tokyo');
    manager = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId], displayName: '田中 店長' });
    otherManager = await centre.createUser({ role: 'store_manager', siteIds: [other.siteId], displayName: '佐藤 店長' });
    auditor = await centre.createUser({ role: 'auditor', displayName: '鈴木 監査' });

    // The fixture call as the site's agent sends it: metadata, then each original; the worker derives.
    const agent = agentClient(() => centre.url, (await centre.enrollAgent(site.token)).credential);
    const v = await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(v.status, 201);
    callId = ((await v.json()) as { callId: string }).callId;
    for (const f of FIXTURE_FILES) assert.equal((await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).status, 201, f.name);
    centre.startWorker(1);

    // Earlier calls of the same site (the day before in Tokyo), another number, no notice, no recording.
    for (let i = 0; i < EXTRA_CALLS; i++) {
      const start = new Date(Date.parse('2026-11-23T01:00:00Z') + i * 600_000);
      const end = new Date(start.getTime() + 45_000);
      const linkedId = `${start.getTime() / 1000}.${i}`;
      const number = `06987650${String(i).padStart(2, '0')}`;
      const r = await agent.putVersion(
        `main-pbx:${linkedId}`,
        1,
        fixturePayload({
          linkedId,
          caller: { number, name: null, e164: `+81${number.slice(1)}` },
          operator: { extension: '202', name: 'Suzuki', source: 'dstchannel' },
          times: { startUtc: start.toISOString().replace('.000', ''), answerUtc: null, endUtc: end.toISOString().replace('.000', ''), durationS: 45, talkS: null, pickupUtc: null, operatorTalkS: null, zone: 'UTC', zoneSource: 'uniqueid', raw: { start: null, answer: null, end: null } },
          disposition: 'no_answer',
          notice: { played: 'no', method: 'cel', atUtc: null, evidence: [] },
          legs: [],
          recordings: [],
          flags: ['no_recording'],
        }),
      );
      assert.equal(r.status, 201, `extra call ${i}: ${await r.text()}`);
    }

    await until(
      async () => (await centre.services.repos.recordings.listForCall(callId)).map((r) => r.derive.status),
      (s) => s.length === 3 && s.every((x) => x === 'done'),
      'the worker to derive the three recordings',
      60_000,
    );
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page };
  }

  async function signIn(page: Page, u: User) {
    await page.locator('[data-testid=signin-form]').waitFor();
    await page.fill('#login', u.login);
    await page.fill('#password', u.password);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();
  }

  const rows = (page: Page) => page.locator('[data-testid=call-list] tbody tr');

  test('a locked sign-in says how long to wait', async () => {
    const { context, page } = await newPage();
    await page.goto(`${centre.url}/calls`);
    for (let i = 0; i < 2; i++) {
      await page.fill('#login', 'mallory');
      await page.fill('#password', `guess ${i}`);
      await page.click('[data-testid=signin-form] button[type=submit]');
      await page.locator('[data-testid=signin-error]').filter({ hasText: 'ログインIDまたはパスワードが正しくありません。' }).waitFor();
    }
    await page.fill('#password', 'guess 3');
    await page.click('[data-testid=signin-form] button[type=submit]');
    const err = page.locator('[data-testid=signin-error]');
    await err.filter({ hasText: '一時的にロックされています' }).waitFor();
    // Retry-After is 900 s (or a second less by now), counted down on the page.
    assert.match(await err.innerText(), /あと 1[45] 分( \d+ 秒)? でもう一度お試しいただけます。/);
    const first = await err.innerText();
    await until(() => err.innerText(), (t) => t !== first, 'the countdown to move', 5000);
    await page.screenshot({ path: join(shots(), 'calls-locked.png') });
    await context.close();
  });

  test('the store manager finds the call by part of its number and plays it, in Tokyo time', async () => {
    const { context, page } = await newPage();
    // A deep link survives signing in.
    await page.goto(`${centre.url}/calls?number=5678`);
    await signIn(page, manager);
    assert.equal(await page.locator('[data-testid=who]').innerText(), '田中 店長 (店長)');
    assert.equal(new URL(page.url()).search, '?number=5678');
    await until(() => rows(page).count(), (n) => n === 1, 'one call for 5678');
    const row = await rows(page).first().innerText();
    for (const s of ['2026-11-24 03:05:00 JST', '着信', '0312345678', 'Yamada Taro', '+81 3-1234-5678', '0501234567', '201', 'Tanaka', '0:26', '応答', '再生済み', '3']) {
      assert.ok(row.includes(s), `the row shows ${s}: ${row}`);
    }
    assert.match(await page.locator('[data-testid=search-zone]').innerText(), /Asia\/Tokyo \(JST\)/);

    // The same call by the E.164 form, typed with full-width digits; and by a Tokyo calendar day.
    await page.fill('[data-testid=search-number]', '＋８１ ３－１２３４');
    await page.click('[data-testid=search-submit]');
    await page.waitForURL((u) => u.searchParams.get('number') === '+81 3-1234');
    await until(() => rows(page).count(), (n) => n === 1, 'one call for +81 3-1234');
    await page.fill('[data-testid=search-number]', '');
    await page.fill('[data-testid=search-from]', '2026-11-24');
    await page.fill('[data-testid=search-to]', '2026-11-24');
    await page.click('[data-testid=search-submit]');
    await page.waitForURL((u) => u.searchParams.get('from') === '2026-11-24' && !u.searchParams.has('number'));
    await until(() => rows(page).allInnerTexts(), (t) => t.length === 1 && t[0]!.includes('03:05:00'), 'only the call of 24 November (JST)');

    // A bad number is explained, and nothing is asked of the centre.
    await page.fill('[data-testid=search-number]', '12');
    await page.click('[data-testid=search-submit]');
    await page.getByRole('alert').filter({ hasText: '電話番号は 3 桁以上入力してください。' }).waitFor();

    // Everything, newest first, by pages: 25, then the remaining 2 through the cursor.
    await page.click('button:has-text("条件をクリア")');
    await page.waitForURL((u) => u.pathname === '/calls' && u.search === '');
    await until(() => rows(page).count(), (n) => n === 25, 'a first page of 25');
    const firstPage = await rows(page).allInnerTexts();
    assert.ok(firstPage[0]!.includes('2026-11-24 03:05:00 JST'), 'the newest call first');
    assert.ok(firstPage[1]!.includes('2026-11-23 14:10:00 JST') && firstPage[1]!.includes('再生なし'), `then the latest of the others: ${firstPage[1]}`);
    await page.click('[data-testid=next-page]');
    await page.waitForURL((u) => u.searchParams.has('cursor'));
    await until(() => rows(page).allInnerTexts(), (t) => t.length === 2 && t[1]!.includes('2026-11-23 10:00:00 JST'), 'the last 2 calls, oldest last');
    assert.equal(await page.locator('[data-testid=next-page]').count(), 0, 'no page after the last');
    await page.click('[data-testid=first-page]');
    await until(() => rows(page).count(), (n) => n === 25, 'back to the first page');
    await page.screenshot({ path: join(shots(), 'calls-search.png'), fullPage: true });

    // Open the fixture call.
    await rows(page).first().locator('[data-testid=open-call]').click();
    await page.waitForURL((u) => u.pathname === `/calls/${callId}`);
    await page.locator('[data-testid=call-title]').waitFor();
    assert.equal(await page.locator('[data-testid=zone-label]').innerText(), '表示時刻: Asia/Tokyo (JST) (店舗の現地時間)');
    const time = async (k: string) => (await page.locator(`[data-testid=time-${k}] td`).allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(await time('start'), ['2026-11-24 03:05:00 JST', '2026-11-23 18:05:00'], 'site time, and the PBX string as written');
    assert.deepEqual(await time('answer'), ['2026-11-24 03:05:00 JST', '2026-11-23 18:05:00']);
    assert.deepEqual(await time('end'), ['2026-11-24 03:05:26 JST', '2026-11-23 18:05:26']);
    const facts = await page.locator('[data-testid=call-facts]').innerText();
    for (const s of ['0312345678', 'Yamada Taro', '+81 3-1234-5678', '+81312345678', '0501234567', '+81501234567', '201 Tanaka', '接続先チャネル', '0:26 (26 秒)']) {
      assert.ok(facts.includes(s), `the facts show ${s}: ${facts}`);
    }
    const notice = await page.locator('[data-testid=notice]').innerText();
    assert.ok(notice.includes('再生済み') && notice.includes('PBX の通話記録 (CDR) の変数') && notice.includes('2026-11-24 03:05:00 JST'), notice);

    // Three recordings, one per role, each with its player, waveform and original.
    const recs = page.locator('[data-testid=recording]');
    assert.equal(await recs.count(), 3);
    assert.deepEqual(await page.locator('[data-testid=recording-role]').allInnerTexts(), ['混合', '顧客', 'オペレーター']);
    assert.deepEqual(await page.locator('[data-testid=derive-status]').allInnerTexts(), ['再生用コピー作成済み', '再生用コピー作成済み', '再生用コピー作成済み']);
    await until(() => page.locator('[data-testid=waveform-path]').count(), (n) => n === 3, 'three waveforms');
    const drawn = await page.locator('[data-testid=waveform-path]').evaluateAll((els) =>
      els.map((el) => {
        const p = el as unknown as { getAttribute(n: string): string | null; getBoundingClientRect(): { width: number; height: number } };
        const d = p.getAttribute('d') ?? '';
        const b = p.getBoundingClientRect();
        return { bars: (d.match(/M/g) ?? []).length, w: b.width, h: b.height };
      }),
    );
    for (const w of drawn) {
      assert.equal(w.bars, 250, 'one bar per column');
      assert.ok(w.w > 1000 && w.h > 20, `the waveform fills its strip: ${JSON.stringify(w)}`);
    }

    // The mixed recording plays: its clock advances and the waveform's playhead follows.
    const audio = recs.first().locator('[data-testid=audio]');
    await audio.evaluate((el) => (el as unknown as { play(): Promise<void> }).play());
    const state = () => audio.evaluate((el) => ({ t: (el as unknown as { currentTime: number }).currentTime, paused: (el as unknown as { paused: boolean }).paused, d: (el as unknown as { duration: number }).duration }));
    const playing = await until(state, (s) => s.t > 1.5 && !s.paused, 'the recording to play');
    assert.ok(Math.abs(playing.d - 26.48) < 0.5, `the playable copy lasts as the original: ${playing.d}`);
    const playhead = await recs.first().locator('line.playhead').getAttribute('x1');
    assert.ok(Number(playhead) > 0, `the playhead moved: ${playhead}`);

    // Clicking the waveform at three quarters seeks there.
    const wave = recs.first().locator('[data-testid=waveform]');
    const box = (await wave.boundingBox())!;
    await wave.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
    await until(state, (s) => s.t > 19 && s.t < 22, 'a seek to three quarters');
    await page.screenshot({ path: join(shots(), 'call-detail.png'), fullPage: true });

    // The raw PBX lines are one click away, exactly as Asterisk wrote them.
    const legs = page.locator('[data-testid=legs] details');
    assert.equal(await legs.count(), 3);
    await legs.nth(2).locator('summary').click();
    const raw = await legs.nth(2).locator('[data-testid=leg-raw]').innerText();
    assert.ok(raw.includes('"Dial","Local/201@operator-phone/n,30","2026-11-23 18:05:00"'), raw);

    // The original downloads byte for byte.
    const href = await recs.first().locator('[data-testid=download-original]').getAttribute('href');
    const got = await context.request.get(`${centre.url}${href}`);
    assert.equal(got.status(), 200);
    const body = await got.body();
    assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(FIXTURE_FILES[0]!.bytes).digest('hex'));

    // English, same call.
    await page.click('[data-testid=lang-toggle]');
    await page.waitForURL((u) => u.searchParams.get('lang') === 'en');
    await page.locator('[data-testid=notice]').filter({ hasText: 'Played' }).waitFor();
    assert.deepEqual(await page.locator('[data-testid=recording-role]').allInnerTexts(), ['Mixed', 'Customer', 'Operator']);
    assert.equal(await page.locator('[data-testid=zone-label]').innerText(), "Times shown in: Asia/Tokyo (JST) (the store's local time)");
    await page.screenshot({ path: join(shots(), 'call-detail-en.png'), fullPage: true });

    // The centre ends the session (say, a password reset): the next request brings back the sign-in form.
    await centre.services.repos.sessions.revokeAllForUser(manager.id, new Date(), 'test');
    await page.click('[data-testid=nav-calls]');
    await page.locator('[data-testid=signin-notice]').filter({ hasText: 'Your session ended' }).waitFor();
    await signIn(page, manager);
    await until(() => rows(page).count(), (n) => n === 25, 'the search again after signing in');
    await context.close();
  });

  test('another store’s manager finds nothing and cannot open the call', async () => {
    const { context, page } = await newPage();
    await page.goto(`${centre.url}/calls?number=5678`);
    await signIn(page, otherManager);
    await page.locator('[data-testid=no-calls]').filter({ hasText: '条件に合う通話はありません。' }).waitFor();
    await page.goto(`${centre.url}/calls`);
    await page.locator('[data-testid=no-calls]').waitFor();
    await page.goto(`${centre.url}/calls/${callId}`);
    await page.locator('[data-testid=call-not-found]').filter({ hasText: 'この通話は見つかりません。' }).waitFor();
    assert.equal(await page.locator('[data-testid=recording]').count(), 0);
    await page.screenshot({ path: join(shots(), 'calls-other-site.png') });
    await context.close();
  });

  test('an auditor is told the role has no access to calls', async () => {
    const { context, page } = await newPage();
    await page.goto(`${centre.url}/calls/${callId}`);
    await signIn(page, auditor);
    await page.locator('[data-testid=no-access]').filter({ hasText: '「監査担当」の役割には、映像と通話を閲覧する権限がありません。' }).waitFor();
    assert.equal(await page.locator('[data-testid=nav-calls]').count(), 0, 'no calls link for an auditor');
    await page.goto(`${centre.url}/calls`);
    await page.locator('[data-testid=no-access]').waitFor();
    await page.screenshot({ path: join(shots(), 'calls-auditor.png') });
    await context.close();
    assert.deepEqual(pageErrors, [], 'no script errors');
  });
});
