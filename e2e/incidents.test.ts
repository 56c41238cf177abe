/**
 * Incidents in the web app against a real centre (Chromium via playwright-core): a store manager files an incident
 * from a call and sees at once what was linked and where each piece is (at the centre, held at the store, missing);
 * filing works by keyboard alone; each role signs in and sees only what it may, on the pages and in the API behind
 * them; the list's filters live in the URL; axe-core finds no serious or critical violation on these pages.
 * Needs `npm run build -w web` first (scripts/test.sh does it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { seriousViolations } from './helpers/axe.ts';
import { buildScene, launch, type Scene, signedIn } from './helpers/incident-scene.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));

describe('incidents in the web app, end to end', { timeout: 180_000 }, () => {
  let centre: TestCentre;
  let scene: Scene;
  let browser: Browser;
  let dir: string;
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;
  let filedId = '';
  let filedNumber = '';

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-incidents-'));
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null });
    scene = await buildScene(centre);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The page's own fetch with its session cookie: what the API behind the page answers this person. */
  const apiStatus = (page: Page, path: string) => page.evaluate(`fetch(${JSON.stringify(path)}, { credentials: 'same-origin' }).then((r) => r.status)`);

  async function noSeriousViolations(page: Page, what: string) {
    const v = await seriousViolations(page);
    assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
  }

  test('a store manager files an incident from a call and sees each linked piece and where it is', async () => {
    const { context, page, errors } = await signedIn(browser, centre.url, scene.users.smA, { path: `/calls/${scene.callA}` });
    await page.locator('[data-testid=call-title]').waitFor();
    await page.click('[data-testid=file-from-call]');
    await page.waitForURL((u) => u.pathname === '/incidents/new' && u.searchParams.get('call') === scene.callA);
    await page.locator('[data-testid=file-call]').filter({ hasText: '090-1234-5678' }).waitFor();
    await noSeriousViolations(page, 'filing form');

    // Submitting with nothing chosen names what is missing and changes nothing.
    await page.click('[data-testid=file-submit]');
    await page.getByRole('alert').filter({ hasText: '種類を選んでください' }).waitFor();
    assert.equal(Number((await centre.db.selectFrom('incident').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 0);

    await page.click('[data-testid=file-category-verbal_abuse]');
    await page.click('[data-testid=file-severity-high]');
    await page.fill('[data-testid=file-narrative]', '返品を断ったところ、大声で 20 分間怒鳴り続けた。');
    await page.click('[data-testid=file-submit]');
    await page.waitForURL((u) => u.searchParams.has('filed'));
    const heading = await page.locator('[data-testid=filed-heading]').innerText();
    const m = /事案 (\S+) を登録しました/.exec(heading);
    assert.ok(m, heading);
    filedNumber = m[1]!;
    filedId = new URL(page.url()).searchParams.get('filed')!;
    assert.match(filedNumber, new RegExp(`^${scene.siteA.code.toUpperCase()}-\\d{4}-0001$`));

    const cams = page.locator('[data-testid=filed-camera]');
    assert.equal(await cams.count(), 2);
    const byName = async (name: string) => cams.filter({ hasText: name }).locator('[data-testid=preservation]').getAttribute('data-state');
    assert.equal(await byName('cam-entrance'), 'centre', 'continuous camera: all footage at the centre');
    assert.equal(await byName('cam-register'), 'store', 'on-demand camera: held at the store, asked for');
    assert.ok((await cams.filter({ hasText: 'cam-register' }).innerText()).includes('店舗で保持中'));
    const call = page.locator('[data-testid=filed-call]');
    assert.equal(await call.count(), 1);
    assert.ok((await call.innerText()).includes('登録元の通話'));
    assert.equal(await call.locator('[data-testid=preservation]').getAttribute('data-state'), 'missing', 'the call has no recording');
    // The page reads the centre, not a guess: the database agrees.
    const inc = await centre.db.selectFrom('incident').selectAll().where('id', '=', filedId).executeTakeFirstOrThrow();
    assert.deepEqual([inc.category, inc.severity, inc.title], ['verbal_abuse', 'high', `暴言 ${(await page.locator('[data-testid=filed-call] strong').innerText()).trim()}`]);
    assert.equal(Number((await centre.db.selectFrom('agentCommand').select((eb) => eb.fn.countAll().as('n')).where('incidentId', '=', filedId).executeTakeFirstOrThrow()).n), 1, 'one preserve request, for the on-demand camera');
    await noSeriousViolations(page, 'filed page');
    await page.screenshot({ path: join(shots(), 'incident-filed.png'), fullPage: true });

    // A reload shows the same (the state is in the URL).
    await page.reload();
    await page.locator('[data-testid=filed-heading]').filter({ hasText: filedNumber }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('filing works by keyboard alone, on a tablet', async () => {
    const { context, page, errors } = await signedIn(browser, centre.url, scene.users.smA, { path: '/', viewport: { width: 768, height: 1024 } });
    await page.locator('[data-testid=home-file]').waitFor();
    const focused = () => page.evaluate(`document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? ''`);
    async function tabTo(testid: string | RegExp, max = 40) {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const f = String(await focused());
        if (typeof testid === 'string' ? f === testid : testid.test(f)) return;
      }
      throw new Error(`Tab never reached ${testid}`);
    }
    await tabTo('home-file');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/incidents/new');
    await page.locator('[data-testid=file-form]').waitFor();
    // The one store is chosen; the time is typed in the store's local time.
    assert.equal(await page.locator('[data-testid=file-site] option:checked').innerText(), '渋谷店');
    // The time starts ten minutes ago in the store's local time; a keyboard user can change it with the arrow keys.
    await tabTo('file-at');
    const local = await page.inputValue('[data-testid=file-at]');
    assert.match(local, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    await tabTo(/^file-category-/);
    await page.keyboard.press('ArrowRight'); // verbal_abuse → threat
    await page.keyboard.press('Space');
    await tabTo(/^file-severity-/);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight'); // low → medium → high
    await tabTo('file-narrative');
    await page.keyboard.type('店内で「殺すぞ」と脅した。');
    await tabTo('file-submit');
    await page.screenshot({ path: join(shots(), 'file-incident-tablet.png'), fullPage: true });
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.searchParams.has('filed'));
    await page.locator('[data-testid=filed-heading]').waitFor();
    const id = new URL(page.url()).searchParams.get('filed')!;
    const inc = await centre.db.selectFrom('incident').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual([inc.category, inc.severity, inc.narrative], ['threat', 'high', '店内で「殺すぞ」と脅した。']);
    assert.equal(inc.windowStart.toISOString().slice(0, 16), new Date(Date.parse(`${local}:00Z`) - 9 * 3600_000).toISOString().slice(0, 16), 'the time read in Tokyo (the browser is in California)');
    assert.equal(inc.windowEnd.getTime() - inc.windowStart.getTime(), 10 * 60_000, 'ten minutes unless told');
    // Focus moved to the result's heading, so a screen reader hears it.
    assert.equal(await page.evaluate(`document.activeElement?.id`), 'filed-heading');
    assert.equal(await page.locator('[data-testid=filed-camera]').count(), 2, 'both cameras of the store are linked');
    // The scrollable page needs no horizontal scrolling at tablet width.
    assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 768);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('each role sees only what it may, on the page and in the API behind it', async () => {
    assert.ok(filedId, 'the first test filed a case');
    // Store manager of site B: the list is empty of A's cases, and the case is a 404 like a missing one.
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.smB, { path: '/incidents' });
      await page.locator('[data-testid=no-incidents]').waitFor();
      assert.equal(await apiStatus(page, `/api/v1/incidents/${filedId}`), 404);
      assert.equal(await apiStatus(page, '/api/v1/audit/verify'), 403);
      assert.equal(await page.locator('[data-testid=nav-audit]').count(), 0);
      await context.close();
    }
    // Security at site A: the case waits for review on the home page; security files too (at the sites it covers).
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.secA);
      await page.locator('[data-testid=home-review]').filter({ hasText: filedNumber }).waitFor();
      assert.equal(await page.locator('[data-testid=home-file]').count(), 1);
      assert.equal(await apiStatus(page, `/api/v1/incidents/${filedId}`), 200);
      await noSeriousViolations(page, 'security home');
      await context.close();
    }
    // HQ: counts by status across stores; the list finds the case by part of its number, and the filter is the URL.
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.hq);
      await page.locator('[data-testid=home-counts]').waitFor();
      assert.match(await page.locator('[data-testid=home-counts]').innerText(), /2\s*受付/);
      await noSeriousViolations(page, 'hq home');
      await page.click('[data-testid=nav-incidents]');
      await page.locator('[data-testid=incident-list]').waitFor();
      assert.equal(await page.locator('[data-testid=incident-row]').count(), 2);
      await page.fill('[data-testid=filter-case]', filedNumber.slice(-6).toLowerCase());
      await page.selectOption('[data-testid=filter-category]', 'verbal_abuse');
      await page.click('[data-testid=filter-apply]');
      await page.waitForURL((u) => u.searchParams.get('case') === filedNumber.slice(-6).toLowerCase() && u.searchParams.get('category') === 'verbal_abuse');
      await until(async () => page.locator('[data-testid=incident-row]').count(), (n) => n === 1);
      await page.reload();
      await page.locator('[data-testid=incident-row]').filter({ hasText: filedNumber }).waitFor();
      assert.equal(await page.inputValue('[data-testid=filter-case]'), filedNumber.slice(-6).toLowerCase(), 'the form follows the URL');
      await noSeriousViolations(page, 'incident list');
      await page.screenshot({ path: join(shots(), 'incidents.png'), fullPage: true });
      await context.close();
    }
    // Auditor: the audit chain on the home page; no incidents page, and the API refuses.
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.auditor);
      await page.locator('[data-testid=home-audit-ok]').waitFor();
      assert.equal(await page.locator('[data-testid=nav-incidents]').count(), 0);
      assert.equal(await page.locator('[data-testid=nav-audit]').count(), 1);
      assert.equal(await apiStatus(page, '/api/v1/incidents'), 403);
      await page.goto(`${centre.url}/incidents`);
      await page.locator('[data-testid=no-access]').waitFor();
      await noSeriousViolations(page, 'auditor no-access');
      await context.close();
    }
    // Admin: the admin link; neither incidents nor calls.
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.admin);
      await page.locator('[data-testid=home-admin-link]').waitFor();
      assert.equal(await page.locator('[data-testid=nav-incidents]').count(), 0);
      assert.equal(await page.locator('[data-testid=nav-calls]').count(), 0);
      assert.equal(await apiStatus(page, '/api/v1/incidents'), 403);
      assert.equal(await apiStatus(page, `/api/v1/calls/${scene.callA}`), 403);
      await context.close();
    }
    // Store manager of A: home shows the open cases and what is still at the store.
    {
      const { context, page } = await signedIn(browser, centre.url, scene.users.smA);
      await page.locator('[data-testid=home-open]').filter({ hasText: filedNumber }).waitFor();
      await page.locator('[data-testid=home-arriving]').filter({ hasText: 'cam-register' }).waitFor();
      await noSeriousViolations(page, 'store manager home');
      await page.screenshot({ path: join(shots(), 'home.png'), fullPage: true });
      await context.close();
    }
  });
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}
