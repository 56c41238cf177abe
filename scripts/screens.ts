/**
 * `npm run screens`: regenerates the Japanese screenshots under docs/screens/ from a real centre (its own database,
 * bucket and queue, like the tests; needs PostgreSQL, Redis and S3 running and `npm run build -w web`).
 *
 * One entry per page in SCREENS: who signs in, at what size, where to go, what to wait for. To add a page, add an
 * entry (its `prepare` may file or click things first).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { buildScene, launch, type Scene, type SceneUser, signedIn } from '../e2e/helpers/incident-scene.ts';
import { browserCookie, CALL_START, caseFixture } from '../e2e/case-fixture.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs/screens');

type Screen = {
  file: string;
  user: (s: Scene) => SceneUser;
  viewport?: { width: number; height: number };
  path: (s: Scene, ctx: { incidentId: string }) => string;
  /** A selector that shows the page is ready. */
  ready: string;
  prepare?: (page: Page) => Promise<void>;
};

const SCREENS: Screen[] = [
  { file: 'home-store-manager.png', user: (s) => s.users.smA, path: () => '/', ready: '[data-testid=home-arriving], [data-testid=home-arriving-empty]' },
  { file: 'home-hq.png', user: (s) => s.users.hq, path: () => '/', ready: '[data-testid=home-counts]' },
  {
    file: 'file-incident-tablet.png',
    user: (s) => s.users.smA,
    viewport: { width: 768, height: 1024 },
    path: (s) => `/incidents/new?call=${s.callA}`,
    ready: '[data-testid=file-call]',
    prepare: async (page) => {
      await page.click('[data-testid=file-category-excessive_demand]');
      await page.click('[data-testid=file-severity-medium]');
      await page.fill('[data-testid=file-narrative]', '返金を求めて 40 分間レジ前から動かず、他の客の会計ができなかった。');
    },
  },
  { file: 'incident-filed.png', user: (s) => s.users.smA, path: (_s, c) => `/incidents/new?filed=${c.incidentId}`, ready: '[data-testid=filed-camera]' },
  { file: 'incidents.png', user: (s) => s.users.hq, path: () => '/incidents', ready: '[data-testid=incident-list]' },
  { file: 'stores.png', user: (s) => s.users.hq, path: () => '/stores', ready: '[data-testid=store]' },
  { file: 'audit.png', user: (s) => s.users.auditor, path: () => '/audit', ready: '[data-testid=chain-ok], [data-testid=chain-broken]' },
  { file: 'admin.png', user: (s) => s.users.admin, path: () => '/admin', ready: '[data-testid=users]' },
  { file: 'admin-sites.png', user: (s) => s.users.admin, path: () => '/admin?tab=sites', ready: '[data-testid=sites]' },
  // The evidence packs page: requesting a pack of chosen parts (no worker runs here, so nothing is built; the build
  // progress, the pack list with a share link and the police share page are taken by e2e/pack-ui.test.ts with
  // E2E_SCREENSHOT_DIR=docs/screens).
  {
    file: 'packs-request.png',
    user: (s) => s.users.hq,
    path: (_s, c) => `/incidents/${c.incidentId}/packs`,
    ready: '[data-testid=packs-empty]',
    prepare: async (page) => {
      await page.fill('[data-testid=pack-reference]', '捜査関係事項照会書 第1234号');
      await page.fill('[data-testid=pack-legal-basis]', '刑事訴訟法第197条第2項');
      await page.check('[data-testid=scope-chosen]');
    },
  },
];

async function main() {
  await mkdir(OUT, { recursive: true });
  const centre: TestCentre = await startCentre({ webRoot: path.join(ROOT, 'web/build'), adminToken: null });
  const browser = await launch();
  try {
    const scene = await buildScene(centre);
    // A filed case so that home, list and the filed page have something real on them.
    const cookie = await centre.sessionCookie(scene.users.smA.id);
    const filed = await fetch(`${centre.url}/api/v1/incidents`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ callId: scene.callA, title: 'レジでの大声の威圧', category: 'verbal_abuse', severity: 'high', narrative: '返品を断ったところ大声で怒鳴り続けた。' }),
    });
    if (filed.status !== 201) throw new Error(`filing: ${filed.status} ${await filed.text()}`);
    const incidentId = ((await filed.json()) as { incident: { id: string } }).incident.id;
    for (const s of SCREENS) {
      const { context, page } = await signedIn(browser, centre.url, s.user(scene), { path: s.path(scene, { incidentId }), ...(s.viewport && { viewport: s.viewport }) });
      await page.locator(s.ready).first().waitFor();
      await s.prepare?.(page);
      await page.screenshot({ path: path.join(OUT, s.file), fullPage: true });
      console.log(`docs/screens/${s.file}`);
      await context.close();
    }
    await caseScreen(browser);
  } finally {
    await browser.close();
    await centre.close();
  }
}

/**
 * The case page needs real media: its own centre with 4 cameras of ffmpeg-made footage and the fixture call
 * (derived by the worker), a case filed from the call, two bookmarks; paused 12 s into the call.
 */
async function caseScreen(browser: Awaited<ReturnType<typeof launch>>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'screens-case-'));
  const fx = await caseFixture({ webRoot: path.join(ROOT, 'web/build'), dir, cameras: 4, site: { code: 'shibuya', name: '渋谷店' } });
  try {
    const cookie = await fx.centre.sessionCookie(fx.user.id);
    for (const [s, note] of [[4, '客が大声で要求を始める'], [12, '「店に行く」と発言']] as const) {
      const r = await fetch(`${fx.centre.url}/api/v1/incidents/${fx.caseId}/bookmarks`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ at: new Date(CALL_START + s * 1000).toISOString(), note }) });
      if (r.status !== 201) throw new Error(`bookmark: ${r.status} ${await r.text()}`);
    }
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'ja-JP' });
    await context.addCookies([await browserCookie(fx.centre, fx.user.id)]);
    const page = await context.newPage();
    await page.goto(`${fx.centre.url}/incidents/${fx.caseId}?t=${new Date(CALL_START + 12_000).toISOString()}`);
    await page.locator('[data-testid=bookmark]').nth(1).waitFor();
    for (let i = 0; i < 4; i++) await page.locator('[data-testid=camera-tile][data-state=media]').nth(i).waitFor({ timeout: 60_000 });
    await page.waitForFunction('[...document.querySelectorAll("[data-testid=case-video]")].every((v) => v.readyState >= 2 && !v.seeking)', undefined, { timeout: 60_000 });
    await page.screenshot({ path: path.join(OUT, 'case-page.png'), fullPage: true });
    console.log('docs/screens/case-page.png');
    await context.close();
  } finally {
    await fx.centre.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
