/**
 * The call page with issue 14's facts, in Chromium as a store manager uses it: a call known only live (AMI) shows a
 * "live" banner; once the sealed version arrives the same page shows who was rung and when each picked up, the
 * transfer, how the direction was decided, the PBX's answer beside the operator's pickup, and the PBX lines the
 * notice status was decided from. Needs `npm run build -w web` first (scripts/test.sh does it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { LiveCallInput } from '@mamoru/contract';
import { agentClient, FIXTURE_CALL_KEY, fixturePayload } from '../server/test/helpers/calls.ts';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';

const WEB_BUILD = fileURLToPath(new URL('../web/build', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the call page: live banner, operators rung, transfers, pickup, notice evidence', { timeout: 120_000 }, () => {
  let centre: TestCentre;
  let browser: Browser;
  let dir: string;
  before(async () => {
    assert.ok(existsSync(join(WEB_BUILD, 'index.html')), `no web build at ${WEB_BUILD}: run \`npm run build -w web\``);
    dir = await mkdtemp(join(tmpdir(), 'mamoru-e2e-live-'));
    centre = await startCentre({ webRoot: WEB_BUILD, adminToken: null });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('live first, then the sealed call in the same page', async () => {
    const site = await centre.createSite(undefined, 'Asia/Tokyo');
    const manager = await centre.createUser({ role: 'store_manager', siteIds: [site.siteId], displayName: '田中 店長' });
    const cred = (await centre.enrollAgent(site.token)).credential;
    const live: LiveCallInput = {
      pbxId: 'main-pbx',
      linkedId: '1795457100.0',
      adapter: 'asterisk-files',
      seq: 1,
      state: 'in_progress',
      direction: 'inbound',
      directionSource: 'ami',
      caller: { number: '0312345678', name: 'Yamada Taro', e164: '+81312345678' },
      called: { number: '0501234567', e164: '+81501234567' },
      operator: null,
      operators: [{ extension: '201', name: 'Tanaka', rungUtc: '2026-11-23T18:05:05Z', answeredUtc: null, source: 'ami' }],
      startUtc: '2026-11-23T18:05:00Z',
      answerUtc: '2026-11-23T18:05:00Z',
      pickupUtc: null,
      endUtc: null,
      observedUtc: '2026-11-23T18:05:06Z',
    };
    const r = await fetch(`${centre.url}/api/v1/agent/calls/${encodeURIComponent(FIXTURE_CALL_KEY)}/live`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, 'content-type': 'application/json' }, body: JSON.stringify(live) });
    assert.equal(r.status, 200);
    const { callId } = (await r.json()) as { callId: string };

    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 }, locale: 'ja-JP', timezoneId: 'America/Los_Angeles' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${centre.url}/calls/${callId}`);
    await page.locator('[data-testid=signin-form]').waitFor();
    await page.fill('#login', manager.login);
    await page.fill('#password', manager.password);
    await page.click('[data-testid=signin-form] button[type=submit]');
    await page.locator('[data-testid=call-live]').waitFor();
    assert.match(await page.locator('[data-testid=call-live]').innerText(), /通話中 \(速報\)/);
    assert.match(await page.locator('[data-testid=direction]').innerText(), /着信.*根拠: PBX の管理インターフェース \(AMI\)/);
    await page.screenshot({ path: join(process.env.E2E_SCREENSHOT_DIR ?? dir, 'call-live.png'), fullPage: true });

    // The PBX's files are sealed: version 1 with the facts the files gave.
    const custom = '{"clid":"\\"Yamada Taro\\" <0312345678>","linkedid":"1795457100.0","rec_notice":"played"}';
    const payload = fixturePayload({
      operators: [
        { extension: '201', name: 'Tanaka', rungUtc: '2026-11-23T18:05:00Z', answeredUtc: '2026-11-23T18:05:05.636Z', source: 'cel' },
        { extension: '202', name: 'Sato', rungUtc: '2026-11-23T18:05:15Z', answeredUtc: '2026-11-23T18:05:16Z', source: 'dstchannel' },
      ],
      transfers: [{ kind: 'blind', atUtc: '2026-11-23T18:05:15Z', by: '201', from: '201', to: '202', raw: '"BLINDTRANSFER",…', source: { file: '/var/log/asterisk/cel-custom/Master.csv', offset: 2048 } }],
      times: { ...fixturePayload().times, pickupUtc: '2026-11-23T18:05:05.636Z', operatorTalkS: 20 },
      notice: { played: 'yes', method: 'cdr_variable', atUtc: '2026-11-23T18:05:00.493Z', evidence: [{ source: 'cdr_custom', raw: custom, file: '/var/log/asterisk/cdr-custom/cdr_master.json', offset: 1655 }] },
      recordings: [],
    });
    const v = await agentClient(() => centre.url, cred).putVersion(FIXTURE_CALL_KEY, 1, payload);
    assert.equal(v.status, 201, await v.text());
    await page.reload();
    await page.locator('[data-testid=operators]').waitFor();
    assert.equal(await page.locator('[data-testid=call-live]').count(), 0, 'the live banner is gone');
    const ops = await page.locator('[data-testid=operators]').innerText();
    assert.match(ops, /201 Tanaka\s+応答 2026-11-24 03:05:05 JST/);
    assert.match(ops, /202 Sato\s+応答 2026-11-24 03:05:16 JST/);
    assert.match(await page.locator('[data-testid=transfers]').innerText(), /ブラインド転送: 内線 201 → 202 2026-11-24 03:05:15 JST/);
    assert.match(await page.locator('[data-testid=direction]').innerText(), /根拠: 録音ファイル名/);
    assert.match(await page.locator('[data-testid=time-pickup]').innerText(), /オペレーターの応答\s+2026-11-24 03:05:05 JST/);
    assert.match(await page.locator('[data-testid=duration]').innerText(), /オペレーターとの会話 0:20/);
    await page.locator('[data-testid=notice-evidence] summary').click();
    assert.ok((await page.locator('[data-testid=notice-evidence] pre').innerText()).includes('"rec_notice":"played"'));
    await page.screenshot({ path: join(process.env.E2E_SCREENSHOT_DIR ?? dir, 'call-sealed.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
