/**
 * `npm run screens`: regenerates the Japanese screenshots under docs/screens/ from a real centre (its own database,
 * bucket and queue, like the tests; needs PostgreSQL, Redis and S3 running and `npm run build -w web`).
 *
 * One entry per page in SCREENS: who signs in, at what size, where to go, what to wait for. To add a page, add an
 * entry (its `prepare` may file or click things first).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { buildScene, launch, type Scene, type SceneUser, signedIn } from '../e2e/helpers/incident-scene.ts';

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
  } finally {
    await browser.close();
    await centre.close();
  }
}

await main();
