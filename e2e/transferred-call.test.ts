/**
 * The demo's calls as a person sees them: the fake PBX (test-support/src/fake-pbx.ts) takes an answered, a
 * blind-transferred and an unanswered call with its CDR rows, CEL lines and recordings; a real edge agent reads them
 * with the demo store's PBX settings (demoPbxConfig: CEL, trunk endpoint, operator names) and uploads them to a real
 * centre with its worker; the store manager, in Chromium, finds the transferred call marked as transferred in call
 * search and reads on its page, in Japanese and in the site's time, who answered, to whom it was transferred and
 * when. axe reports nothing serious on either page.
 * Needs `npm run build -w web` first (scripts/test.sh does it). E2E_SCREENSHOT_DIR=dir keeps the screenshots;
 * E2E_DEBUG=1 logs the set-up steps (the centre's bucket alone can take minutes on a loaded machine).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { agentDeps, runAgent, type RunningAgent } from '../edge-agent/src/agent.ts';
import { enrollAgent, testConfig, waitFor } from '../edge-agent/test/helpers/agent.ts';
import { quietLog } from '../edge-agent/test/pbx-helpers.ts';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { demoPbxConfig, FakePbx, type FakeCall } from '../test-support/src/fake-pbx.ts';
import { seriousViolations } from './helpers/axe.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** HH:MM:SS of an instant in Tokyo (what the page shows in the site's zone). */
const tokyoClock = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d);

describe('a transferred call of the demo store, in the web app', { timeout: 400_000 }, () => {
  let centre: TestCentre;
  let dir: string;
  let browser: Browser;
  let agent: RunningAgent;
  let siteId: string;
  let xfer: FakeCall;
  let callIds: Map<string, string>;
  const pageErrors: string[] = [];
  const shots = () => process.env.E2E_SCREENSHOT_DIR ?? dir;

  const step = (what: string) => process.env.E2E_DEBUG && console.error(`[${new Date().toISOString()}] ${what}`);
  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-xfer-'));
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null });
    centre.startWorker(1);
    step('centre up');
    const pbx = new FakePbx({ dir: join(dir, 'pbx'), audio: 'speech', pattern: ['answered', 'transferred', 'unanswered'] });
    const calls = [await pbx.call(), await pbx.call(), await pbx.call()];
    xfer = calls[1]!;
    step('calls written');
    assert.equal(xfer.kind, 'transferred');
    const site = await enrollAgent(centre, join(dir, 'state'));
    siteId = site.siteId;
    const config = testConfig({
      server: { url: centre.url },
      stateDir: join(dir, 'state'),
      spoolDir: join(dir, 'spool'),
      heartbeatSeconds: 60,
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      pbx: { ...demoPbxConfig(pbx), quietSeconds: 0.3, pollSeconds: 0.1, recordingWaitSeconds: 0.5, cdrWaitSeconds: 1, backfillHours: null },
    });
    agent = await runAgent(config, agentDeps(config, quietLog));
    step('agent running');
    const rows = await waitFor('three calls at the centre', async () => {
      const c = await centre.db.selectFrom('call').select(['id', 'callKey']).where('siteId', '=', siteId).execute();
      return c.length === 3 && c;
    }, 60_000);
    callIds = new Map(rows.map((r) => [r.callKey, r.id]));
    step('calls at the centre');
    await waitFor('outbox drained', () => agent.outbox.stats().count === 0 && agent.uploader.inFlight === null, 60_000);
    step('outbox drained');
    // The worker's playable copies and waveforms, so the call page shows its players as a person would see them.
    const callId = callIds.get(`demo-pbx:${xfer.uniqueid}`)!;
    await waitFor('playable copies of the transferred call', async () => {
      const r = await centre.db.selectFrom('recording').select('deriveStatus').where('callId', '=', callId).execute();
      return r.length === 3 && r.every((x) => x.deriveStatus === 'done');
    }, 120_000, 250);
    step('recordings derived');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await centre?.close();
    if (dir && !process.env.E2E_SCREENSHOT_DIR) await rm(dir, { recursive: true, force: true });
  });

  test('call search marks the transferred call; its page says who answered, to whom and when it was transferred', async () => {
    const manager = await centre.createUser({ role: 'store_manager', siteIds: [siteId], displayName: '渋谷 店長' });
    const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'America/Los_Angeles', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${centre.url}/calls`);
    await page.locator('[data-testid=signin-form]').waitFor();
    await page.fill('#login', manager.login);
    await page.fill('#password', manager.password);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.locator('[data-testid=who]').waitFor();

    const rows = page.locator('[data-testid=call-list] tbody tr');
    await waitFor('three rows', async () => (await rows.count()) === 3, 20_000, 200);
    const marked = page.locator('[data-testid=transferred]');
    assert.equal(await marked.count(), 1, 'only the transferred call is marked');
    const tr = xfer.transfer!;
    assert.equal((await marked.innerText()).trim(), `ブラインド転送 → 内線 ${tr.to}`);
    const row = rows.filter({ has: marked });
    const rowText = await row.innerText();
    assert.match(rowText, new RegExp(`${tr.by}\\s+佐藤`), 'the operator who answered, by name');
    assert.match(rowText, /応答/);
    assert.match(rowText, new RegExp(tokyoClock(xfer.startUtc)), 'start in the site time (JST), not the browser zone');
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: join(shots(), 'transferred-call-search.png'), fullPage: true });

    await row.locator('[data-testid=open-call]').click();
    await page.waitForURL(`**/calls/${callIds.get(`demo-pbx:${xfer.uniqueid}`)}*`);
    const transfers = page.locator('[data-testid=transfers]');
    await transfers.waitFor();
    const line = (await transfers.innerText()).trim();
    assert.ok(line.startsWith(`ブラインド転送: 内線 ${tr.by} → ${tr.to}`), line);
    assert.ok(line.includes(tokyoClock(tr.atUtc)) && line.includes('JST'), `the transfer time in JST: ${line}`);
    assert.match((await page.locator('[data-testid=operator]').innerText()).trim(), new RegExp(`^${tr.by} 佐藤`));
    const ops = (await page.locator('[data-testid=operators] > div').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.deepEqual(ops, [
      `${tr.by} 佐藤 応答 ${ops[0]!.split('応答 ')[1]}`,
      `${tr.to} 鈴木 応答 ${ops[1]!.split('応答 ')[1]}`,
    ]);
    assert.ok(ops[0]!.includes(tokyoClock(new Date(xfer.startUtc.getTime() + 2000))), `first pickup: ${ops[0]}`);
    assert.ok(ops[1]!.includes(tokyoClock(new Date(tr.atUtc.getTime() + 2000))), `pickup after the transfer: ${ops[1]}`);
    assert.equal((await page.locator('[data-testid=called]').innerText()).split(/\s/)[0], '0501234567', 'the number dialled, not the extension the rows show after the transfer');
    assert.equal((await page.locator('[data-testid=disposition]').innerText()).trim(), '応答');
    // The CEL line of the transfer is among the PBX's own lines on the page.
    const celLine = xfer.celLines.find((l) => l.startsWith('"BLINDTRANSFER"'))!.trimEnd();
    const xferLeg = page.locator('[data-testid=legs] details', { hasText: 'BLINDTRANSFER' });
    assert.equal(await xferLeg.count(), 1, 'the transfer is one of the legs');
    await xferLeg.locator('summary').click();
    assert.equal((await xferLeg.locator('[data-testid=leg-raw]').innerText()).trim(), celLine, 'opened, it shows the CEL line as the PBX wrote it');
    const legs = await page.locator('[data-testid=leg-raw]').allTextContents();
    for (const r of xfer.cdrLines) assert.ok(legs.some((t) => t.trim() === r.trimEnd()), `CDR row shown: ${r}`);
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: join(shots(), 'transferred-call.png'), fullPage: true });

    // The same page in English.
    await page.goto(`${page.url().split('?')[0]}?lang=en`);
    await transfers.waitFor();
    assert.ok((await transfers.innerText()).trim().startsWith(`Blind transfer: extension ${tr.by} → ${tr.to}`));
    await context.close();
    assert.deepEqual(pageErrors, []);
  });
});
