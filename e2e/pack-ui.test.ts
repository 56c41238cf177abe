/**
 * The evidence packs page in Chromium against the real centre and worker: hq requests a pack of a filed case (two
 * cameras of ffmpeg footage and the fixture call), watches it build to ready, downloads the ZIP (the same bytes the
 * API serves, and its manifest.json hashes to the API's manifestSha256), creates a police share link with a
 * passcode and opens it in a fresh browser with no session: a wrong passcode is refused, the right one downloads.
 * Revoking the link makes the share page say so. A store manager reaches neither the page nor its API.
 * Needs `npm run build -w web` first (scripts/test.sh does it). `E2E_SCREENSHOT_DIR=/tmp/x` keeps the screenshots.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { browserCookie, caseFixture, type CaseFixture } from './case-fixture.ts';
import { seriousViolations } from './helpers/axe.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSCODE = 'kanagawa-2026';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('evidence packs page, end to end', { timeout: 420_000 }, () => {
  let fx: CaseFixture;
  let dir: string;
  let browser: Browser;
  let hq: BrowserContext;
  let hqCookie: string;
  let shareUrl = '';
  let packId = '';
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-packs-'));
    fx = await caseFixture({ webRoot: WEB_BUILD, dir, cameras: 2, role: 'hq' });
    hqCookie = await fx.centre.sessionCookie(fx.user.id);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    hq = await browser.newContext({ viewport: { width: 1300, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles', acceptDownloads: true });
    await hq.addCookies([await browserCookie(fx.centre, fx.user.id)]);
    await hq.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.centre.url });
  });

  after(async () => {
    await browser?.close();
    await fx?.centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(context: BrowserContext, path: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${fx.centre.url}${path}`);
    return page;
  }

  test('hq requests a pack from the case page, sees it build to ready and downloads the same bytes the API serves', async () => {
    const casePage = await open(hq, `/incidents/${fx.caseId}`);
    await casePage.click('[data-testid=case-packs-link]');
    await casePage.waitForURL((u) => u.pathname === `/incidents/${fx.caseId}/packs`);
    const page = casePage;
    await page.locator('[data-testid=packs-empty]').waitFor();
    await page.locator('[data-testid=key-fingerprint]').waitFor();
    const key = (await (await fetch(`${fx.centre.url}/api/v1/pack-signing-key`, { headers: { cookie: hqCookie } })).json()) as { fingerprintSha256: string };
    assert.match(await page.locator('[data-testid=key-fingerprint]').innerText(), new RegExp(key.fingerprintSha256));
    assert.deepEqual(await seriousViolations(page), [], 'the empty packs page');

    // Missing fields are named and nothing is requested.
    await page.click('[data-testid=pack-submit]');
    assert.match(await page.locator('[data-testid=pack-form-problem]').innerText(), /照会番号など/);
    // Only the chosen parts, with nothing chosen: refused in plain words.
    await page.fill('[data-testid=pack-reference]', '捜査関係事項照会書 第1234号');
    await page.fill('[data-testid=pack-legal-basis]', '刑事訴訟法第197条第2項');
    await page.check('[data-testid=scope-chosen]');
    await page.locator('[data-testid=pick-window]').first().waitFor();
    assert.equal(await page.locator('[data-testid=pick-window]').count(), 2);
    assert.equal(await page.locator('[data-testid=pick-call]').count(), 1);
    await page.click('[data-testid=pack-submit]');
    assert.match(await page.locator('[data-testid=pack-form-problem]').innerText(), /一つ以上選んでください/);
    const none = (await (await fetch(`${fx.centre.url}/api/v1/incidents/${fx.caseId}/packs`, { headers: { cookie: hqCookie } })).json()) as { packs: unknown[] };
    assert.deepEqual(none.packs, [], 'nothing was requested');

    // The first camera window and the call, by keyboard: Space ticks a focused checkbox.
    await page.locator('[data-testid=pick-window]').first().focus();
    await page.keyboard.press('Space');
    await page.locator('[data-testid=pick-call]').first().focus();
    await page.keyboard.press('Space');
    await page.locator('[data-testid=pack-submit]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=packs-notice]').waitFor();
    const row = page.locator('[data-testid=pack-row]').first();
    await row.waitFor();
    const firstStatus = await row.getAttribute('data-status');
    assert.ok(['queued', 'building', 'ready'].includes(firstStatus ?? ''), `first status ${firstStatus}`);
    if (firstStatus !== 'ready') await page.screenshot({ path: join(shots(), 'pack-ui-progress.png') });
    // The page polls until the worker is done; nobody reloads.
    await page.locator('[data-testid=pack-row][data-status=ready]').waitFor({ timeout: 180_000 });
    packId = (await row.getAttribute('data-pack-id'))!;
    const api = (await (await fetch(`${fx.centre.url}/api/v1/packs/${packId}`, { headers: { cookie: hqCookie } })).json()) as {
      pack: { status: string; size: number; manifestSha256: string; scope: { cameraWindowIds: string[] | null; callIds: string[] | null }; reference: string };
    };
    assert.equal(api.pack.status, 'ready');
    assert.equal(api.pack.reference, '捜査関係事項照会書 第1234号');
    assert.equal(api.pack.scope.cameraWindowIds?.length, 1);
    assert.deepEqual(api.pack.scope.callIds, [fx.callId]);
    assert.match(await row.innerText(), /完成/);
    assert.match(await row.innerText(), /警察からの照会/);
    assert.match(await row.innerText(), new RegExp(api.pack.manifestSha256));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=pack-download]')]);
    const zipPath = join(dir, 'ui.zip');
    await download.saveAs(zipPath);
    const uiBytes = await readFile(zipPath);
    assert.equal(uiBytes.length, api.pack.size);
    const apiBytes = Buffer.from(await (await fetch(`${fx.centre.url}/api/v1/packs/${packId}/download`, { headers: { cookie: hqCookie } })).arrayBuffer());
    assert.equal(sha256(uiBytes), sha256(apiBytes), 'the browser got the bytes the API serves');
    const manifest = execFileSync('unzip', ['-p', zipPath, 'manifest.json']);
    assert.equal(sha256(manifest), api.pack.manifestSha256, "the ZIP's manifest.json is the one the API names");
    assert.deepEqual(await seriousViolations(page), [], 'the packs page with a ready pack');
    await page.screenshot({ path: join(shots(), 'pack-ui-list.png'), fullPage: true });
    await page.close();
  });

  test('a share link with a passcode: shown once, a wrong passcode is refused, the right one downloads; revoked, the page says so', async () => {
    assert.ok(packId, 'the first test made a pack');
    const page = await open(hq, `/incidents/${fx.caseId}/packs`);
    await page.locator('[data-testid=pack-row][data-status=ready]').waitFor();
    await page.click('[data-testid=pack-share]');
    await page.locator('[data-testid=share-panel]').waitFor();
    // No recipient: named, nothing created.
    await page.click('[data-testid=share-create]');
    assert.match(await page.locator('[data-testid=share-problem]').innerText(), /受取人/);
    await page.fill('[data-testid=share-recipient]', '神奈川県警 生活安全課 山田様');
    await page.fill('[data-testid=share-hours]', '48');
    await page.fill('[data-testid=share-max]', '2');
    await page.fill('[data-testid=share-passcode]', PASSCODE);
    await page.click('[data-testid=share-create]');
    await page.locator('[data-testid=share-url]').waitFor();
    shareUrl = await page.locator('[data-testid=share-url]').inputValue();
    assert.match(shareUrl, new RegExp(`^${fx.centre.url}/share/[A-Za-z0-9_-]{20,}$`));
    await page.click('[data-testid=share-copy]');
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), shareUrl);
    const li = page.locator('[data-testid=share-link]').first();
    assert.equal(await li.getAttribute('data-state'), 'live');
    assert.match(await li.innerText(), /山田様/);
    assert.match(await li.innerText(), /パスコードあり/);
    assert.deepEqual(await seriousViolations(page), [], 'the share panel');
    await page.screenshot({ path: join(shots(), 'pack-ui-share-link.png'), fullPage: true });
    // The token is not shown again: a reload lists the link without it.
    await page.reload();
    await page.click('[data-testid=pack-share]');
    await page.locator('[data-testid=share-link]').first().waitFor();
    assert.equal(await page.locator('[data-testid=share-url]').count(), 0);
    assert.ok(!(await page.content()).includes(shareUrl.split('/share/')[1]!), 'the token is nowhere on the page');

    // The police officer: a fresh browser with no session.
    const police = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: 'ja-JP', acceptDownloads: true });
    const sp = await police.newPage();
    await sp.goto(shareUrl);
    await sp.locator('input[name=passcode]').waitFor();
    await sp.fill('input[name=passcode]', 'wrong-passcode');
    await sp.click('button[type=submit]');
    await sp.locator('p.err').waitFor();
    assert.match(await sp.locator('p.err').innerText(), /パスコードが正しくありません/);
    assert.equal(await sp.locator('#download').count(), 0);
    await sp.goto(shareUrl);
    await sp.fill('input[name=passcode]', PASSCODE);
    await sp.click('button[type=submit]');
    await sp.locator('#download').waitFor();
    await sp.screenshot({ path: join(shots(), 'pack-ui-share-page.png'), fullPage: true });
    const [dl] = await Promise.all([sp.waitForEvent('download'), sp.click('#download')]);
    const policeZip = join(dir, 'police.zip');
    await dl.saveAs(policeZip);
    const apiBytes = Buffer.from(await (await fetch(`${fx.centre.url}/api/v1/packs/${packId}/download`, { headers: { cookie: hqCookie } })).arrayBuffer());
    assert.equal(sha256(await readFile(policeZip)), sha256(apiBytes), 'the police got the same ZIP');

    // hq revokes; the share page then says the link cannot be used.
    await page.click('[data-testid=share-revoke]');
    const dialog = page.locator('[data-testid=confirm-dialog]');
    await dialog.waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'the revoke dialog');
    await dialog.locator('textarea[name=reason]').fill('照会への回答を終えたため');
    await dialog.locator('[data-testid=confirm-ok]').click();
    await page.locator('[data-testid=share-link][data-state=revoked]').waitFor();
    assert.match(await page.locator('[data-testid=share-link]').first().innerText(), /取り消し済み/);
    const after = await police.newPage();
    const resp = await after.goto(shareUrl);
    assert.equal(resp?.status(), 410);
    assert.match(await after.locator('p.err').innerText(), /取り消し/);
    await after.screenshot({ path: join(shots(), 'pack-ui-share-revoked.png'), fullPage: true });
    await police.close();
    await page.close();
  });

  test('a store manager of the site reaches neither the page nor its API', async () => {
    const sm = await fx.centre.createUser({ role: 'store_manager', siteIds: [fx.siteId] });
    const ctx = await browser.newContext({ locale: 'ja-JP' });
    await ctx.addCookies([await browserCookie(fx.centre, sm.id)]);
    const page = await ctx.newPage();
    await page.goto(`${fx.centre.url}/incidents/${fx.caseId}/packs`);
    await page.locator('[data-testid=no-access]').waitFor();
    assert.equal(await page.locator('[data-testid=pack-request]').count(), 0);
    const status = (path: string, method = 'GET') =>
      page.evaluate(`fetch(${JSON.stringify(path)}, { method: ${JSON.stringify(method)}, credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: ${method === 'POST' ? JSON.stringify(JSON.stringify({ purpose: 'court', reference: 'x', legalBasis: 'y' })) : 'undefined'} }).then((r) => r.status)`);
    assert.equal(await status(`/api/v1/incidents/${fx.caseId}/packs`), 403);
    assert.equal(await status(`/api/v1/incidents/${fx.caseId}/packs`, 'POST'), 403);
    assert.equal(await status(`/api/v1/packs/${packId}`), 403);
    assert.equal(await status(`/api/v1/packs/${packId}/download`), 403);
    // The case page offers them no link to it either.
    await page.goto(`${fx.centre.url}/incidents/${fx.caseId}`);
    await page.locator('[data-testid=case-number]').waitFor();
    assert.equal(await page.locator('[data-testid=case-packs-link]').count(), 0);
    await ctx.close();
    assert.deepEqual(pageErrors, []);
  });
});
