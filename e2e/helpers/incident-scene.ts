/**
 * A store with what the incident pages need, against a real centre: site A (Tokyo) with an agent, a continuous
 * camera whose footage is all at the centre and an on-demand camera whose footage is only at the store, a call two
 * hours ago, and people of every role. Site B has its own manager and a call. Used by e2e/incidents.test.ts and
 * scripts/screens.ts.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { addSegments, MIN, putCall, putCamera } from '../../server/test/helpers/incidents.ts';
import type { TestCentre } from '../../server/test/helpers/centre.ts';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export type SceneUser = { id: string; login: string; password: string; displayName: string };
export type Scene = {
  siteA: { siteId: string; code: string };
  siteB: { siteId: string; code: string };
  cams: { entrance: string; register: string };
  callA: string;
  callB: string;
  /** The call's start: two hours ago, on a whole minute. */
  callStart: Date;
  users: Record<'smA' | 'smB' | 'secA' | 'hq' | 'auditor' | 'admin', SceneUser>;
};

export async function buildScene(centre: TestCentre): Promise<Scene> {
  const a = await centre.createSite(undefined, 'Asia/Tokyo');
  const b = await centre.createSite(undefined, 'Asia/Tokyo');
  await centre.db.updateTable('site').set({ name: '渋谷店' }).where('id', '=', a.siteId).execute();
  await centre.db.updateTable('site').set({ name: '新宿店' }).where('id', '=', b.siteId).execute();
  const credA = (await centre.enrollAgent(a.token)).credential;
  const credB = (await centre.enrollAgent(b.token)).credential;
  const T = new Date(Math.floor((Date.now() - 2 * 3600_000) / MIN) * MIN);
  const at = (m: number) => new Date(T.getTime() + m * MIN);
  const entrance = await putCamera(centre, credA, 'cam-entrance', 'continuous', '入口');
  const register = await putCamera(centre, credA, 'cam-register', 'on-demand', 'レジ');
  await addSegments(centre, entrance, at(-30), at(30));
  await addSegments(centre, register, at(-30), at(30), { stored: false });
  const callA = await putCall(centre, credA, { start: at(0), end: at(4), caller: '090-1234-5678', e164: '+819012345678' });
  const callB = await putCall(centre, credB, { start: at(1), end: at(2), caller: '0311112222', e164: '+81311112222' });
  const user = async (role: 'store_manager' | 'security' | 'hq' | 'auditor' | 'admin', displayName: string, siteIds: string[] = []): Promise<SceneUser> => ({
    ...(await centre.createUser({ role, siteIds, displayName })),
    displayName,
  });
  return {
    siteA: { siteId: a.siteId, code: a.code },
    siteB: { siteId: b.siteId, code: b.code },
    cams: { entrance, register },
    callA,
    callB,
    callStart: T,
    users: {
      smA: await user('store_manager', '田中 店長', [a.siteId]),
      smB: await user('store_manager', '佐藤 店長', [b.siteId]),
      secA: await user('security', '山本 警備', [a.siteId]),
      hq: await user('hq', '本部 法務'),
      auditor: await user('auditor', '鈴木 監査'),
      admin: await user('admin', '管理者'),
    },
  };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A signed-in page; the browser is in California so that any slip to the browser's zone shows. */
export async function signedIn(browser: Browser, baseUrl: string, u: SceneUser, o: { path?: string; viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${baseUrl}${o.path ?? '/'}`);
  await page.locator('[data-testid=signin-form]').waitFor();
  await page.fill('#login', u.login);
  await page.fill('#password', u.password);
  await page.click('[data-testid=signin-form] button[type=submit]');
  await page.locator('[data-testid=who]').waitFor();
  return { context, page, errors };
}
