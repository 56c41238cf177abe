/**
 * Police share links (issue 11, part 3): a plain page with no account, never indexed, to download the pack (counted
 * against the link's limit) and play its MP4s; expired, used-up and revoked links answer 410, a wrong passcode 403,
 * an unknown token 404, and every use (good or bad) writes an audit event.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixedClock } from '../src/adapters/clock.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { buildPack, type PackCase, setupPackCase } from './helpers/pack.ts';

describe('police share links', () => {
  let centre: TestCentre;
  let dir: string;
  let c: PackCase;
  let pack: any;
  let zipBytes: Buffer;
  const clock = fixedClock(new Date());

  const share = (body: Record<string, unknown>) => c.hq.post(`/packs/${pack.id}/share-links`, { recipient: '渋谷警察署 刑事課', expiresInHours: 72, maxDownloads: 2, ...body });
  const events = async (action: string) =>
    (await centre.db.selectFrom('auditEvent').select(['action', 'outcome', 'details', 'actorType']).where('action', '=', action).where('targetId', '=', pack.id).orderBy('id').execute()) as { action: string; outcome: string; details: any; actorType: string }[];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pack-share-'));
    centre = await startCentre({ clock });
    c = await setupPackCase(centre, dir);
    centre.startWorker();
    pack = (await buildPack(centre, c)).pack;
    const r = await fetch(`${centre.url}/api/v1/packs/${pack.id}/download`, { headers: { cookie: c.hqCookie } });
    zipBytes = Buffer.from(await r.arrayBuffer());
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a link opens a plain, non-indexable page without an account; the ZIP downloads up to the limit, then 410', async () => {
    const r = await share({});
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const { token, path: pagePath, link } = r.body;
    assert.equal(pagePath, `/share/${token}`);
    assert.deepEqual([link.state, link.maxDownloads, link.downloadCount, link.passcode], ['live', 2, 0, false]);
    assert.ok(token.length >= 40, 'a long random token');
    const stored = await centre.db.selectFrom('packShareLink').select('tokenHash').where('id', '=', link.id).executeTakeFirstOrThrow();
    assert.notEqual(stored.tokenHash, token, 'only the token hash is stored');

    const page = await fetch(`${centre.url}${pagePath}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-robots-tag'), 'noindex, nofollow, noarchive');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.match(html, /<meta name="robots" content="noindex, nofollow, noarchive">/);
    assert.ok(html.includes(c.caseNumber));
    assert.ok(html.includes('渋谷警察署 刑事課'));
    assert.ok(html.includes(pack.keyFingerprint));
    const videos = [...html.matchAll(/<video controls preload="metadata" src="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(videos.length, 2, 'one player per camera MP4');
    const href = /id="download" href="([^"]+)"/.exec(html)![1]!;

    for (let n = 1; n <= 2; n++) {
      const d = await fetch(`${centre.url}${href}`);
      assert.equal(d.status, 200);
      assert.equal(d.headers.get('content-type'), 'application/zip');
      assert.ok(Buffer.from(await d.arrayBuffer()).equals(zipBytes), `download ${n} is the pack`);
    }
    const third = await fetch(`${centre.url}${href}`);
    assert.equal(third.status, 410);
    assert.match(await third.text(), /data-code="share_link_used_up"/);
    assert.equal((await fetch(`${centre.url}${pagePath}`)).status, 410, 'the used-up link no longer opens');

    const dl = await events('pack.share.download');
    assert.deepEqual(dl.map((e) => [e.actorType, e.outcome, e.details.reason ?? e.details.download]), [['anonymous', 'success', 1], ['anonymous', 'success', 2], ['anonymous', 'failure', 'used_up']]);
    const opens = await events('pack.share.open');
    assert.deepEqual(opens.map((e) => e.outcome), ['success', 'failure']);
    assert.equal(opens[1]!.details.reason, 'used_up');
  });

  test('the MP4s play from the page by range requests of the stored ZIP (not counted as downloads), audited once per playback', async () => {
    const r = await share({ maxDownloads: 1 });
    const html = await (await fetch(`${centre.url}${r.body.path}`)).text();
    const src = /<video controls preload="metadata" src="([^"]+)"/.exec(html)![1]!;
    const entry = pack.contents.find((x: { kind: string }) => x.kind === 'video');
    const whole = await fetch(`${centre.url}${src}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    const mp4 = Buffer.from(await whole.arrayBuffer());
    assert.equal(mp4.length, entry.size);
    assert.equal(mp4.subarray(4, 8).toString(), 'ftyp', 'an MP4 from inside the ZIP');
    assert.ok(zipBytes.includes(mp4.subarray(0, 4096)), 'the bytes are the ZIP entry');
    const part = await fetch(`${centre.url}${src}`, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${entry.size}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(mp4.subarray(100, 200)));
    const row = await centre.db.selectFrom('packShareLink').select('downloadCount').where('id', '=', r.body.link.id).executeTakeFirstOrThrow();
    assert.equal(row.downloadCount, 0, 'playing is not a download');
    const plays = (await events('pack.share.play')).filter((e) => e.details.linkId === r.body.link.id);
    assert.equal(plays.length, 1, 'one event for the playback from byte 0, none for the later range');
  });

  test('a wrong passcode is 403 and audited; the right one opens the page, whose links carry a short-lived grant', async () => {
    const r = await share({ passcode: 'kasuhara-2026' });
    assert.equal(r.body.link.passcode, true);
    const url = `${centre.url}${r.body.path}`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    const form = await first.text();
    assert.match(form, /name="passcode"/);
    assert.doesNotMatch(form, /id="download"/, 'nothing to download before the passcode');
    const noGrant = await fetch(`${url}/download`);
    assert.equal(noGrant.status, 403, 'the download needs the passcode first');
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'passcode=wrong-guess' });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /data-code="wrong_passcode"/);
    const bad = (await events('pack.share.passcode')).filter((e) => e.details.linkId === r.body.link.id);
    assert.deepEqual(bad.map((e) => [e.outcome, e.details.reason]), [['failure', 'wrong_passcode']]);
    const right = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'passcode=kasuhara-2026' });
    assert.equal(right.status, 200);
    const href = /id="download" href="([^"]+)"/.exec(await right.text())![1]!.replaceAll('&amp;', '&');
    assert.match(href, /\?exp=\d+&sig=/);
    const d = await fetch(`${centre.url}${href}`);
    assert.equal(d.status, 200);
    assert.ok(Buffer.from(await d.arrayBuffer()).equals(zipBytes));
    const forged = await fetch(`${centre.url}${href.replace(/sig=[^&]+/, 'sig=AAAA')}`);
    assert.equal(forged.status, 403);
  });

  test('an expired link is 410, a revoked link is 410, an unknown token 404; each is audited', async () => {
    const expiring = await share({ expiresInHours: 1 });
    const revoked = await share({});
    assert.equal((await fetch(`${centre.url}${expiring.body.path}`)).status, 200);
    const rv = await c.hq.post(`/packs/${pack.id}/share-links/${revoked.body.link.id}/revoke`, { reason: '誤送信のため' });
    assert.equal(rv.status, 200);
    assert.equal(rv.body.link.state, 'revoked');
    assert.equal((await c.hq.post(`/packs/${pack.id}/share-links/${revoked.body.link.id}/revoke`, { reason: 'again' })).status, 409);
    const rvPage = await fetch(`${centre.url}${revoked.body.path}`);
    assert.equal(rvPage.status, 410);
    assert.match(await rvPage.text(), /data-code="share_link_revoked"/);
    assert.equal((await fetch(`${centre.url}${revoked.body.path}/download`)).status, 410);

    clock.advance(90 * 60_000); // past the 1 h expiry, inside the sessions' 2 h idle limit
    const exPage = await fetch(`${centre.url}${expiring.body.path}`);
    assert.equal(exPage.status, 410);
    assert.match(await exPage.text(), /data-code="share_link_expired"/);
    assert.equal((await fetch(`${centre.url}${expiring.body.path}/download`)).status, 410);

    const unknown = await fetch(`${centre.url}/share/${'x'.repeat(43)}`);
    assert.equal(unknown.status, 404);

    const fails = (await centre.db.selectFrom('auditEvent').select(['action', 'outcome', 'details']).where('outcome', '=', 'failure').where('action', 'like', 'pack.share.%').orderBy('id').execute()) as { action: string; details: any }[];
    const reasons = fails.map((e) => `${e.action}:${e.details.linkId === revoked.body.link.id ? 'R' : e.details.linkId === expiring.body.link.id ? 'E' : '-'}:${e.details.reason}`);
    for (const x of ['pack.share.open:R:revoked', 'pack.share.download:R:revoked', 'pack.share.open:E:expired', 'pack.share.download:E:expired', 'pack.share.open:-:unknown_token']) assert.ok(reasons.includes(x), `${x} in ${reasons.join(', ')}`);
    const revokeEv = await events('pack.share.revoke');
    assert.equal(revokeEv.length, 1);
    assert.equal(revokeEv[0]!.details.reason, '誤送信のため');

    const detail = await c.hq.get(`/packs/${pack.id}`);
    const states = Object.fromEntries(detail.body.shareLinks.map((l: { id: string; state: string }) => [l.id, l.state]));
    assert.equal(states[revoked.body.link.id], 'revoked');
    assert.equal(states[expiring.body.link.id], 'expired');
  });

  test('only hq makes and revokes links; bad link requests are 400', async () => {
    const sec = await centre.sessionCookie((await centre.createUser({ role: 'security', siteIds: [c.siteId] })).id);
    const r = await fetch(`${centre.url}/api/v1/packs/${pack.id}/share-links`, { method: 'POST', headers: { cookie: sec, 'content-type': 'application/json' }, body: JSON.stringify({ recipient: 'x', expiresInHours: 1, maxDownloads: 1 }) });
    assert.equal(r.status, 403);
    for (const [body, code] of [
      [{ recipient: ' ' }, 'recipient_required'],
      [{ expiresInHours: 0 }, 'invalid_request'],
      [{ maxDownloads: 0 }, 'invalid_request'],
      [{ passcode: '123' }, 'invalid_passcode'],
    ] as const) {
      const x = await share(body);
      assert.equal(x.status, 400, JSON.stringify(x.body));
      assert.equal(x.body.error.code, code);
    }
  });
});
