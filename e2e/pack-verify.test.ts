/**
 * verify.html in real Chromium, as a police officer uses it: the pack is unzipped into a folder, the page is opened
 * from file:// with the network off, the officer picks the folder, and the page says in Japanese and English that
 * the signatures and every hash passed. One flipped byte in an MP4, an original or the signature makes it say
 * FAILED and name the file. Screenshots go to PACK_SCREENSHOT_DIR when set.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { startCentre, type TestCentre } from '../server/test/helpers/centre.ts';
import { buildPack, downloadAndUnzip, type PackCase, setupPackCase } from '../server/test/helpers/pack.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('verify.html (Chromium, file://, offline)', () => {
  let centre: TestCentre;
  let browser: Browser;
  let dir: string;
  let c: PackCase;
  let unzipped: string;
  let manifest: any;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pack-verify-'));
    centre = await startCentre();
    c = await setupPackCase(centre, dir);
    centre.startWorker();
    const { pack } = await buildPack(centre, c);
    unzipped = (await downloadAndUnzip(centre, c, pack.id, path.join(dir, 'pack'))).dir;
    manifest = JSON.parse(await readFile(path.join(unzipped, 'manifest.json'), 'utf8'));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await centre?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens the folder's verify.html offline, picks the folder, waits for the verdict. */
  async function verifyInBrowser(folder: string, shot?: string) {
    const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    context.on('request', (r) => {
      if (!r.url().startsWith('file://')) requests.push(r.url());
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.join(folder, 'verify.html')).href);
    assert.equal(await page.locator('#summary').getAttribute('data-status'), 'idle');
    await page.locator('#folder').setInputFiles(folder);
    await page.locator('#summary[data-status="pass"], #summary[data-status="fail"]').waitFor({ timeout: 120_000 });
    const status = await page.locator('#summary').getAttribute('data-status');
    const text = await page.locator('#summary').innerText();
    const failed = (await page.locator('#summary').getAttribute('data-failed')) ?? '';
    const fingerprint = await page.locator('#fingerprint').innerText().catch(() => '');
    const okRows = await page.locator('tr[data-ok="true"]').count();
    if (shot && process.env.PACK_SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.PACK_SCREENSHOT_DIR, shot), fullPage: false });
    await context.close();
    assert.deepEqual(requests, [], 'the page made no network request');
    return { status, text, failed: failed.split('\n').filter(Boolean), fingerprint, okRows };
  }

  test('the untouched pack passes: both signatures and every file, in Japanese and English, with the key fingerprint', async () => {
    const r = await verifyInBrowser(unzipped, 'pack-verify-pass.png');
    assert.equal(r.status, 'pass', r.text);
    assert.match(r.text, /合格/);
    assert.match(r.text, new RegExp(`PASSED: the signatures and all ${manifest.files.length} files' hashes match`));
    assert.equal(r.fingerprint, manifest.signing.publicKeyFingerprintSha256);
    assert.ok(r.okRows >= manifest.files.length + 4, `${r.okRows} checks passed`);
  });

  test('one flipped byte in an MP4, an original segment, a call recording or the signature fails, naming the file', async () => {
    const v = manifest.videos[0];
    const cases = [
      { file: v.path, named: v.path },
      { file: v.cutFrom[1].path, named: v.cutFrom[1].path },
      { file: manifest.calls[0].recordings[1].path, named: manifest.calls[0].recordings[1].path },
      { file: 'manifest.json.sig', named: 'manifest.json' },
    ];
    for (const [n, k] of cases.entries()) {
      const copy = path.join(dir, `tampered-${n}`);
      await cp(unzipped, copy, { recursive: true });
      const b = await readFile(path.join(copy, k.file));
      b[Math.floor(b.length / 2)]! ^= 0x01;
      await writeFile(path.join(copy, k.file), b);
      const r = await verifyInBrowser(copy, n === 0 ? 'pack-verify-fail.png' : undefined);
      assert.equal(r.status, 'fail', `${k.file}: ${r.text}`);
      assert.match(r.text, /不合格/);
      assert.match(r.text, /FAILED/);
      assert.deepEqual(r.failed, [k.named], `${k.file}: the page names ${k.named}`);
      await rm(copy, { recursive: true, force: true });
    }
  });
});
