/**
 * A disclosure request in the web app, as HQ uses it: Chromium signs in as hq, records the request of the fixture
 * call's caller (03-1234-5678), sees the call's three recordings found, decides each (the operator's side withheld
 * with a reason, the caller's side disclosed, the mixed recording disclosed with a range muted), builds the response,
 * watches it become ready and records it as sent. A store manager has no disclosure menu and the page tells them
 * the role has no access. Screenshots: disclosure-decision.png, disclosure-ready.png (E2E_SCREENSHOT_DIR to keep them).
 * Needs `npm run build -w web` first (scripts/test.sh does it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from '../server/test/helpers/calls.ts';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

type User = { id: string; login: string; password: string };

describe('disclosure requests in the web app', { timeout: 300_000 }, () => {
  let centre: TestCentre;
  let dir: string;
  let browser: Browser;
  let hq: User;
  let manager: User;
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-disclosure-'));
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null });
    const site = await centre.createSite(undefined, 'Asia/Tokyo');
    hq = await centre.createUser({ role: 'hq', displayName: '本部 法務' });
    manager = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId], displayName: '田中 店長' });
    const agent = agentClient(() => centre.url, (await centre.enrollAgent(site.token)).credential);
    assert.equal((await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload())).status, 201);
    for (const f of FIXTURE_FILES) assert.equal((await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).status, 201, f.name);
    centre.startWorker(1);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function signedIn(u: User, path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${centre.url}${path}`);
    await page.locator('[data-testid=signin-form]').waitFor();
    await page.fill('#login', u.login);
    await page.fill('#password', u.password);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();
    return page;
  }

  const item = (page: Page, role: string) => page.locator(`[data-testid=disc-item][data-role=${role}]`);

  test('hq records a request, decides each recording, builds and sends the response', async () => {
    const page = await signedIn(hq, '/');
    await page.click('[data-testid=nav-disclosures]');
    await page.locator('[data-testid=disc-form]').waitFor();
    await page.fill('[data-testid=disc-name]', '山田 太郎');
    await page.fill('[data-testid=disc-number]', '03-1234-5678');
    await page.fill('[data-testid=disc-identity-note]', '運転免許証（番号下4桁 1234）');
    // The fixture call is on 2026-11-24 in Japan: a window around it, whatever today's date is.
    await page.fill('[data-testid=disc-search-from]', '2026-11-01');
    await page.fill('[data-testid=disc-search-to]', '2026-11-30');
    await page.click('[data-testid=disc-record]');
    await page.locator('[data-testid=disc-detail]').waitFor();
    assert.match(page.url(), /\/disclosures\?id=[0-9a-f-]{36}$/);
    await page.locator('[data-testid=disc-item]').first().waitFor();
    assert.equal(await page.locator('[data-testid=disc-item]').count(), 3, 'the three recordings of the fixture call');
    assert.equal(await page.locator('[data-testid=disc-status]').innerText(), '判断中');

    // The operator's side: masked is refused with the reason, then withheld.
    const op = item(page, 'operator');
    await op.getByLabel('マスキングして開示').check();
    await op.locator('[data-testid=disc-save]').click();
    await op.locator('.note').filter({ hasText: 'この録音は応対者の声のみです。不開示にしてください。' }).waitFor();
    await op.getByLabel('不開示').check();
    await op.locator('[data-testid=disc-reason]').fill('応対者の音声のみで、請求者の個人データを含まないため');
    await op.locator('[data-testid=disc-save]').click();
    await op.locator('.note').filter({ hasText: '保存しました' }).waitFor();

    const caller = item(page, 'caller');
    await caller.getByLabel('開示', { exact: true }).check();
    await caller.locator('[data-testid=disc-save]').click();
    await caller.locator('.note').filter({ hasText: '保存しました' }).waitFor();

    const mixed = item(page, 'mixed');
    await mixed.getByLabel('マスキングして開示').check();
    await mixed.locator('[data-testid=disc-ranges]').fill('3-7.5, 12〜14');
    await mixed.locator('[data-testid=disc-save]').click();
    await mixed.locator('.note').filter({ hasText: '保存しました' }).waitFor();
    await page.screenshot({ path: join(shots(), 'disclosure-decision.png'), fullPage: true });

    // The API agrees with what the page shows.
    const id = new URL(page.url()).searchParams.get('id')!;
    const saved = await centre.services.disclosures.get({ kind: 'system', name: 'e2e', origin: { ip: null, userAgent: null, requestId: null, purpose: null } }, id);
    const byRole = Object.fromEntries(saved.items.map((i) => [i.recording!.role, i]));
    assert.equal(byRole.operator!.decision, 'withhold');
    assert.equal(byRole.caller!.decision, 'disclose');
    assert.deepEqual(byRole.mixed!.masking, { muteRanges: [{ fromS: 3, toS: 7.5 }, { fromS: 12, toS: 14 }] });

    await page.click('[data-testid=disc-build]');
    await page.locator('[data-testid=disc-download]').waitFor({ timeout: 240_000 });
    assert.equal(await page.locator('[data-testid=disc-status]').innerText(), '回答作成済み');
    await page.screenshot({ path: join(shots(), 'disclosure-ready.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=disc-download]')]);
    assert.match(download.suggestedFilename(), /^DR-\d{4}-\d{4}\.zip$/);

    await page.fill('[data-testid=disc-sent-method]', '簡易書留で郵送');
    await page.click('[data-testid=disc-mark-sent]');
    await page.locator('[data-testid=disc-status]').filter({ hasText: '送付済み' }).waitFor();
    assert.deepEqual(pageErrors, []);
  });

  test('a store manager has no disclosure menu and is told the role has no access', async () => {
    const page = await signedIn(manager, '/disclosures');
    assert.equal(await page.locator('[data-testid=nav-disclosures]').count(), 0);
    await page.locator('[data-testid=no-access]').waitFor();
  });
});
