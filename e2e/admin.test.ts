/**
 * The stores, audit and admin pages in Chromium against a real centre (PostgreSQL, S3, Redis): a security officer
 * sees the store with a problem first; the auditor reads the log, filters it through the URL, sees the chain
 * intact, and after a row is altered in SQL sees the first broken link named; the admin creates a person, a store
 * with its notices, issues an enrollment token (which then enrolls an agent) and revokes an agent; a store manager
 * can open neither /audit nor /admin (page and API). axe-core reports no serious or critical violation on any of
 * these pages. Needs `npm run build -w web` first (scripts/test.sh does it). `E2E_SCREENSHOT_DIR=/tmp/x` keeps
 * the screenshots.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { segmentRow } from '../server/test/helpers/segment-rows.ts';
import { seriousViolations } from './helpers/axe.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

type User = { id: string; login: string; password: string };

describe('stores, audit and admin pages, end to end', { timeout: 180_000 }, () => {
  let centre: TestCentre;
  let dir: string;
  let browser: Browser;
  let security: User;
  let auditor: User;
  let admin: User;
  let manager: User;
  let siteA: { siteId: string; code: string };
  let agentA: { agentId: string; credential: string };
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;

  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-admin-'));
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null });
    const a = await centre.createSite('e2e-shibuya');
    const b = await centre.createSite('e2e-ikebukuro');
    siteA = a;
    await centre.db.updateTable('site').set({ name: '渋谷店' }).where('id', '=', a.siteId).execute();
    await centre.db.updateTable('site').set({ name: '池袋店' }).where('id', '=', b.siteId).execute();
    // Store A: an agent that reported just now, a camera recording without a break for the last 30 minutes.
    agentA = await centre.enrollAgent(a.token);
    const hdr = { authorization: `Bearer ${agentA.credential}`, 'content-type': 'application/json' };
    assert.equal((await fetch(`${centre.url}/api/v1/agent/cameras/cam1`, { method: 'PUT', headers: hdr, body: JSON.stringify({ name: 'レジ前', place: 'レジ1' }) })).status, 200);
    const cam = (await centre.db.selectFrom('camera').select('id').where('siteId', '=', a.siteId).executeTakeFirstOrThrow()).id;
    const now = Date.now();
    await centre.db.updateTable('camera').set({ createdAt: new Date(now - 30 * 60_000) }).where('id', '=', cam).execute();
    for (let i = 30; i > 0; i--) await centre.services.repos.segments.insert(segmentRow(cam, new Date(now - i * 60_000), new Date(now - (i - 1) * 60_000), i, true));
    const hb = await fetch(`${centre.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: hdr, body: JSON.stringify({ version: '1.4.0', sentAtMs: now, clockOffsetMs: 8, diskUsedBytes: 20e9, diskTotalBytes: 100e9, backlogCount: 0, backlogBytes: 0, cameras: [{ key: 'cam1', health: 'recording' }] }) });
    assert.equal(hb.status, 200);
    // Store B has no agent: a problem.
    security = await centre.createUser({ role: 'security', siteIds: [a.siteId, b.siteId], displayName: '山本 警備' });
    auditor = await centre.createUser({ role: 'auditor', displayName: '鈴木 監査' });
    admin = await centre.createUser({ role: 'admin', displayName: '管理者' });
    manager = await centre.createUser({ role: 'store_manager', siteIds: [a.siteId], displayName: '田中 店長' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page };
  }
  async function signIn(page: Page, u: User, path: string) {
    await page.goto(`${centre.url}${path}`);
    await page.locator('[data-testid=signin-form]').waitFor();
    await page.fill('#login', u.login);
    await page.fill('#password', u.password);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();
  }
  /** axe-core inside the page (e2e/helpers/axe.ts): no serious or critical violation. */
  async function axe(page: Page, what: string) {
    assert.deepEqual(await seriousViolations(page), [], `axe on ${what}`);
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots(), `${name}.png`), fullPage: true });

  test('security: the stores page lists the store with a problem first, with agent status and coverage', async () => {
    const { context, page } = await newPage();
    await signIn(page, security, '/stores');
    const stores = page.locator('[data-testid=store]');
    await stores.first().waitFor();
    assert.deepEqual(await stores.evaluateAll((els) => els.map((e) => e.getAttribute('data-code'))), ['e2e-ikebukuro', 'e2e-shibuya']);
    assert.match(await stores.nth(0).locator('[data-testid=problems]').innerText(), /エージェントが登録されていません/);
    const ok = stores.nth(1);
    await ok.locator('[data-testid=store-ok]').waitFor();
    const text = await ok.innerText();
    assert.match(text, /1\.4\.0/);
    assert.match(text, /8 ms/);
    assert.match(text, /20%/);
    assert.match(text, /レジ前/);
    assert.match(text, /録画中 · 常時送信 · 録画 100%/);
    assert.equal(await ok.locator('.bar .piece.covered').count(), 1);
    await axe(page, '/stores');
    await shot(page, 'stores');
    await context.close();
  });

  test('auditor: the log with filters in the URL, the chain intact; a row altered in SQL names the first broken link', async () => {
    const { context, page } = await newPage();
    await signIn(page, auditor, '/audit');
    await page.locator('[data-testid=chain-ok]').waitFor();
    await page.locator('[data-testid=audit-row]').first().waitFor();
    assert.match(await page.locator('[data-testid=chain-ok]').innerText(), /改ざんは検出されませんでした/);
    await axe(page, '/audit');
    await shot(page, 'audit');
    // Filter by action through the form: the URL carries it, every row matches.
    await page.fill('input[name=action]', 'auth.*');
    await page.fill('input[name=actor]', auditor.login);
    await page.press('input[name=action]', 'Enter');
    await page.waitForURL(/action=auth\.\*/);
    assert.match(page.url(), /actor=/);
    await page.waitForFunction(`(() => {
      const rows = [...document.querySelectorAll('[data-testid=audit-row]')];
      return rows.length > 0 && rows.every((r) => (r.getAttribute('data-action') || '').startsWith('auth.'));
    })()`);
    // A reload of the URL gives the same filtered view.
    await page.reload();
    await page.locator('[data-testid=audit-row]').first().waitFor();
    assert.ok((await page.locator('[data-testid=audit-row]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-action')))).every((a) => a?.startsWith('auth.')));
    // Someone with the database owner's rights edits event 3.
    await centre.db.transaction().execute(async (trx) => {
      await sql`ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update`.execute(trx);
      await sql`UPDATE audit_event SET action = 'site.list.tampered' WHERE id = 3`.execute(trx);
      await sql`ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update`.execute(trx);
    });
    await page.goto(`${centre.url}/audit`);
    const broken = page.locator('[data-testid=chain-broken]');
    await broken.waitFor();
    assert.equal(await broken.getAttribute('data-first-broken'), '3');
    assert.match(await broken.innerText(), /イベント #3 .*イベントの内容が変更されています/);
    await shot(page, 'audit-broken');
    await context.close();
  });

  test('admin: creates a person and a store with notices, issues a token that enrolls, revokes an agent', async () => {
    const { context, page } = await newPage();
    await signIn(page, admin, '/admin');
    // People and roles (the first tab).
    await page.locator('[data-testid=users]').waitFor();
    await axe(page, '/admin users');
    const form = page.locator('[data-testid=new-user]');
    await form.locator('input[name=login]').fill('kobayashi');
    await form.locator('input[name=displayName]').fill('小林 警備');
    await form.locator('select[name=role]').selectOption('security');
    await form.locator('input[name=password]').fill('a long enough password');
    await form.locator('label', { hasText: '渋谷店' }).locator('input').check();
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=user-row][data-login=kobayashi]').waitFor();
    assert.match(await page.locator('[data-testid=user-row][data-login=kobayashi]').innerText(), /小林 警備\s+警備担当\s+渋谷店/);
    await shot(page, 'admin');
    const made = await centre.db.selectFrom('appUser').select(['id', 'role']).where('login', '=', 'kobayashi').executeTakeFirstOrThrow();
    assert.equal(made.role, 'security');

    // Stores: a new one with its camera signage and PBX recording notice.
    await page.click('[data-testid=tab-sites]');
    await page.waitForURL(/tab=sites/);
    const sf = page.locator('[data-testid=site-form]');
    await sf.locator('input[name=code]').fill('e2e-shinjuku');
    await sf.locator('input[name=name]').fill('新宿店');
    await sf.locator('textarea[name=noticeText]').fill('防犯カメラ作動中');
    await sf.locator('input[name=noticePlace]').fill('入口');
    await sf.locator('input[name=noticeSince]').fill('2026-11-01');
    await sf.locator('textarea[name=pbx]').fill('この通話は録音されます');
    await sf.locator('button[type=submit]').click();
    const row = page.locator('[data-testid=site-row][data-code=e2e-shinjuku]');
    await row.waitFor();
    assert.match(await row.innerText(), /防犯カメラ作動中 \(入口\)\s+この通話は録音されます/);
    const site = await centre.db.selectFrom('site').select(['id', 'cameraNotice', 'pbxNoticeText']).where('code', '=', 'e2e-shinjuku').executeTakeFirstOrThrow();
    assert.deepEqual(site.cameraNotice, { text: '防犯カメラ作動中', place: '入口', since: '2026-11-01' });
    await axe(page, '/admin sites');
    await shot(page, 'admin-sites');

    // Enrollment token for the new store: shown once, and it enrolls an agent.
    await page.click('[data-testid=tab-tokens]');
    await page.locator('[data-testid=issue-token] select[name=site]').selectOption(site.id);
    await page.click('[data-testid=issue-token] button[type=submit]');
    const issued = page.locator('[data-testid=issued-token] code');
    await issued.waitFor();
    const token = (await issued.innerText()).trim();
    assert.match(token, /^mmr_enr_/);
    await page.locator('[data-testid=token-row][data-state=active]').first().waitFor();
    await axe(page, '/admin tokens');
    const enrolled = await fetch(`${centre.url}/api/v1/agent/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, hostname: 'shinjuku-box' }) });
    assert.equal(enrolled.status, 201);

    // Agents: revoke store A's; its next heartbeat is refused.
    await page.click('[data-testid=tab-agents]');
    const agentRow = page.locator(`[data-testid=agent-row][data-agent="${agentA.agentId}"]`);
    await agentRow.waitFor();
    // The page asks first, in its own dialog; cancelling changes nothing, confirming revokes.
    await agentRow.locator('button').click();
    const dialog = page.locator('[data-testid=confirm-dialog]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /取り消しますか/);
    await axe(page, '/admin revoke dialog');
    await shot(page, 'admin-revoke-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await agentRow.filter({ hasText: '取り消し済み' }).count(), 0, 'cancelled: still live');
    await agentRow.locator('button').click();
    await dialog.locator('[data-testid=confirm-ok]').click();
    await agentRow.filter({ hasText: '取り消し済み' }).waitFor();
    await axe(page, '/admin agents');
    await shot(page, 'admin-agents');
    const hb = await fetch(`${centre.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${agentA.credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: '1.4.0', sentAtMs: Date.now() }) });
    assert.equal(hb.status, 401);
    const actions = (await centre.db.selectFrom('auditEvent').select('action').where('actorId', '=', admin.id).execute()).map((e) => e.action);
    for (const a of ['user.create', 'site.create', 'agent.enrollment_token.issue', 'agent.revoke']) assert.ok(actions.includes(a), `${a} audited`);

    // Retention: read-only for the admin.
    await page.click('[data-testid=tab-retention]');
    await page.locator('[data-testid=retention]').waitFor();
    assert.equal(await page.locator('[data-testid=retention] input').count(), 0);
    await axe(page, '/admin retention');
    await context.close();
  });

  test('a store manager can open neither the audit log nor the admin pages (page and API)', async () => {
    const { context, page } = await newPage();
    await signIn(page, manager, '/audit');
    await page.locator('[data-testid=no-access]').waitFor();
    assert.equal(await page.locator('[data-testid=audit-row]').count(), 0);
    assert.equal(await page.locator('[data-testid=nav-audit]').count(), 0);
    assert.equal(await page.locator('[data-testid=nav-admin]').count(), 0);
    await page.goto(`${centre.url}/admin`);
    await page.locator('[data-testid=no-access]').waitFor();
    assert.equal(await page.locator('[data-testid=users]').count(), 0);
    await page.goto(`${centre.url}/stores`);
    await page.locator('[data-testid=no-access]').waitFor();
    await axe(page, '/stores (no access)');
    // The API behind the pages, with this browser's own session cookie.
    for (const path of ['/api/v1/audit/events', '/api/v1/audit/verify', '/api/v1/users', '/api/v1/enrollment-tokens', '/api/v1/agents', '/api/v1/fleet']) {
      const r = await page.request.get(`${centre.url}${path}`);
      assert.equal(r.status(), 403, path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'forbidden');
    }
    const post = await page.request.post(`${centre.url}/api/v1/sites`, { data: { code: 'sneaky', name: 'x', timezone: 'Asia/Tokyo' } });
    assert.equal(post.status(), 403);
    assert.equal((await centre.db.selectFrom('site').select('id').where('code', '=', 'sneaky').execute()).length, 0);
    await context.close();
  });
});
