import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { PRE_AUTH_ACTIONS, startOnvifSim, type OnvifSimHandle } from '../../test-support/src/onvif-sim.ts';
import {
  createNodeOnvifGateway,
  maskCredentials,
  maskUri,
  OnvifAuthError,
  OnvifError,
  OnvifNoStreamUriError,
  OnvifProfileNotFoundError,
  OnvifTargetError,
  OnvifTimeoutError,
  OnvifRefusedError,
  resolveStreamUrl,
  SecretUrl,
  withCredentials,
} from '../src/onvif/index.ts';

const USER = 'recorder';
// Characters that must be percent-encoded in a URL's userinfo, and '%' itself.
const PASS = 'p@ss:w/rd%41#?';

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const leaks = (v: unknown) => {
  const s = typeof v === 'string' ? v : `${inspect(v, { depth: 5 })} ${JSON.stringify(v)} ${String(v)}`;
  return s.includes(PASS) || s.includes(encodeURIComponent(PASS));
};

describe('ONVIF adapter over node-onvif, against the simulated camera', () => {
  let sim: OnvifSimHandle;
  const gateway = createNodeOnvifGateway();
  before(async () => {
    sim = await startOnvifSim({
      credentials: { username: USER, password: PASS },
      maker: 'ACME Security',
      model: 'AC-4K',
      firmware: '2.8.1',
      serial: 'ACME-0042',
      rtspUris: { main: 'rtsp://127.0.0.1:8554/store1/cam1/main', sub: 'rtsp://127.0.0.1:8554/store1/cam1/sub' },
    });
  });
  after(() => sim.close());

  test('describe: maker, model, firmware, serial, both profiles with resolution, encoding and stream URI', async () => {
    const d = await gateway.describe({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
    assert.equal(d.xaddr, sim.xaddr);
    assert.equal(d.maker, 'ACME Security');
    assert.equal(d.model, 'AC-4K');
    assert.equal(d.firmware, '2.8.1');
    assert.equal(d.serial, 'ACME-0042');
    assert.deepEqual(
      d.profiles.map((p) => ({ token: p.token, name: p.name, encoding: p.encoding, resolution: p.resolution, fps: p.fps, streamUri: p.streamUri })),
      [
        { token: 'Profile_1', name: 'mainStream', encoding: 'H264', resolution: { width: 1920, height: 1080 }, fps: 25, streamUri: 'rtsp://127.0.0.1:8554/store1/cam1/main' },
        { token: 'Profile_2', name: 'subStream', encoding: 'H264', resolution: { width: 640, height: 360 }, fps: 15, streamUri: 'rtsp://127.0.0.1:8554/store1/cam1/sub' },
      ],
    );
    assert.match(d.profiles[0]!.snapshotUri ?? '', /snapshot\?profile=Profile_1$/);
    // node-onvif sent GetSystemDateAndTime first, then WS-UsernameToken on every call outside the PRE_AUTH class (with a
    // Created carrying an xmlns).
    const seen = sim.requests.slice(-12);
    assert.equal(seen[0]!.action, 'GetSystemDateAndTime');
    const authed = seen.filter((r) => !PRE_AUTH_ACTIONS.includes(r.action ?? ''));
    assert.ok(authed.length >= 8);
    assert.ok(authed.every((r) => r.auth === 'ok' && r.wsse === 'ok' && r.createdHadAttributes), JSON.stringify(seen));
  });

  test('describe by xaddr gives the same device', async () => {
    const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
    assert.equal(d.serial, 'ACME-0042');
    assert.equal(d.profiles.length, 2);
  });

  test('wrong password → OnvifAuthError, and nothing about it contains the password', async () => {
    const started = Date.now();
    const err = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: `${PASS}x` }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OnvifAuthError, String(err));
    assert.ok(err instanceof OnvifError);
    assert.equal(err.code, 'onvif_auth_failed');
    assert.match(err.message, /refused the credentials/);
    assert.match(err.detail ?? '', /Not ?Authorized/i);
    assert.ok(!leaks(err) && !leaks(err.stack ?? '') && !String(err.detail).includes(`${PASS}x`));
    assert.ok(Date.now() - started < 2000);
    assert.equal(sim.requests.at(-1)!.auth, 'bad-digest');
  });

  test('no credentials for a camera that needs them → OnvifAuthError', async () => {
    await assert.rejects(gateway.describe({ xaddr: sim.xaddr }), (e: unknown) => e instanceof OnvifAuthError);
    assert.equal(sim.requests.at(-1)!.auth, 'missing');
  });

  test('nothing listening (connection refused) → OnvifRefusedError quickly', async () => {
    const port = await closedPort();
    const started = Date.now();
    await assert.rejects(gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS }), (e: unknown) => {
      assert.ok(e instanceof OnvifRefusedError, String(e));
      assert.equal(e.code, 'onvif_refused');
      assert.match(e.detail ?? '', /ECONNREFUSED/);
      return true;
    });
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  test('a device that does not answer in time → OnvifTimeoutError at our deadline', async () => {
    const slow = await startOnvifSim({ credentials: { username: USER, password: PASS }, responseDelayMs: 5000 });
    try {
      const started = Date.now();
      await assert.rejects(gateway.describe({ xaddr: slow.xaddr, username: USER, password: PASS, timeoutMs: 300 }), (e: unknown) => {
        assert.ok(e instanceof OnvifTimeoutError, String(e));
        assert.equal(e.code, 'onvif_timeout');
        return true;
      });
      const ms = Date.now() - started;
      assert.ok(ms >= 290 && ms < 1500, `took ${ms} ms`);
    } finally {
      await slow.close();
    }
  });

  test('a camera whose clock is an hour off still works (node-onvif offsets Created by GetSystemDateAndTime)', async () => {
    const skewed = await startOnvifSim({ credentials: { username: USER, password: PASS }, clockOffsetMs: 3_600_000 });
    try {
      const d = await gateway.describe({ xaddr: skewed.xaddr, username: USER, password: PASS });
      assert.equal(d.profiles.length, 2);
    } finally {
      await skewed.close();
    }
  });

  test('a username with "&" is sent escaped and accepted', async () => {
    const amp = await startOnvifSim({ credentials: { username: 'a&b', password: 'pw1234' } });
    try {
      const d = await gateway.describe({ xaddr: amp.xaddr, username: 'a&b', password: 'pw1234' });
      assert.equal(d.profiles.length, 2);
    } finally {
      await amp.close();
    }
  });

  test('bad targets → OnvifTargetError without contacting anything', async () => {
    const bad: [Parameters<typeof gateway.describe>[0], RegExp][] = [
      [{}, /needs xaddr or host/],
      [{ xaddr: 'not a url' }, /not a URL/],
      [{ xaddr: 'https://127.0.0.1/onvif/device_service' }, /only http:\/\//],
      [{ host: '127.0.0.1/evil', port: 80 }, /not a host/],
      [{ host: '127.0.0.1', port: 70000 }, /port must be/],
      [{ xaddr: sim.xaddr, username: USER, password: 'pass\nword' }, /control characters/],
      [{ xaddr: sim.xaddr, password: 'lonely' }, /without a username/],
      [{ xaddr: sim.xaddr, username: USER, password: PASS, timeoutMs: 0 }, /timeoutMs/],
    ];
    const before = sim.requests.length;
    for (const [target, msg] of bad) {
      await assert.rejects(gateway.describe(target), (e: unknown) => {
        assert.ok(e instanceof OnvifTargetError, `${JSON.stringify(target)}: ${String(e)}`);
        assert.equal(e.code, 'onvif_bad_target');
        assert.match(e.message, msg);
        assert.ok(!e.message.includes('pass\nword') && !e.message.includes('lonely'));
        return true;
      });
    }
    assert.equal(sim.requests.length, before, 'no request reached the camera');
  });
});

describe('resolveStreamUrl', () => {
  let sim: OnvifSimHandle;
  before(async () => {
    sim = await startOnvifSim({
      credentials: { username: USER, password: PASS },
      // The sub profile is listed first: the default choice must still be the largest.
      profiles: [
        { token: 'sub', name: 'sub', width: 640, height: 360, rtspUri: 'rtsp://127.0.0.1:8554/s' },
        { token: 'main', name: 'main', width: 1920, height: 1080, rtspUri: 'rtsp://camuser:camsecret@127.0.0.1:8554/m' },
      ],
    });
  });
  after(() => sim.close());

  test('injects the configured credentials (percent-encoded) into the largest profile by default', async () => {
    const r = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
    assert.equal(r.profile.token, 'main');
    // The device embedded its own credentials: the description drops them and ours replace them.
    assert.equal(r.profile.streamUri, 'rtsp://127.0.0.1:8554/m');
    const real = new URL(r.url.reveal());
    assert.equal(decodeURIComponent(real.username), USER);
    assert.equal(decodeURIComponent(real.password), PASS);
    assert.equal(`${real.host}${real.pathname}`, '127.0.0.1:8554/m');
    assert.equal(r.masked, 'rtsp://***:***@127.0.0.1:8554/m');
    assert.equal(r.device.serial !== null, true);
    assert.ok(!r.url.reveal().includes('camsecret'));
  });

  test('a configured profileToken selects that profile', async () => {
    const r = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS, profileToken: 'sub' });
    assert.equal(r.profile.token, 'sub');
    assert.match(r.url.reveal(), /@127\.0\.0\.1:8554\/s$/);
  });

  test('an unknown profileToken → OnvifProfileNotFoundError listing the profiles', async () => {
    await assert.rejects(resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS, profileToken: 'Profile_9' }), (e: unknown) => {
      assert.ok(e instanceof OnvifProfileNotFoundError);
      assert.equal(e.code, 'onvif_profile_not_found');
      assert.deepEqual(e.available, ['sub', 'main']);
      return true;
    });
  });

  test('a profile without an RTSP URI → OnvifNoStreamUriError', async () => {
    const noUri = await startOnvifSim({ credentials: null, profiles: [{ token: 'p', name: 'p', width: 1, height: 1, rtspUri: 'http://127.0.0.1/not-rtsp' }] });
    try {
      await assert.rejects(resolveStreamUrl({ host: '127.0.0.1', port: noUri.port }), (e: unknown) => e instanceof OnvifNoStreamUriError);
    } finally {
      await noUri.close();
    }
  });

  test('the resolved URL never prints its password: String, template, JSON, inspect, error text', async () => {
    const r = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
    assert.ok(leaks(r.url.reveal()), 'reveal() is the only way to the real URL');
    assert.ok(!leaks(String(r.url)));
    assert.ok(!leaks(`${r.url}`));
    assert.ok(!leaks(JSON.stringify(r)));
    assert.ok(!leaks(inspect(r, { depth: 10, showHidden: true })));
    assert.ok(!leaks(Object.keys(r.url).join(',')));
    const wrong = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: 'nope-nope' }).catch((e: unknown) => e);
    assert.ok(wrong instanceof OnvifAuthError);
    assert.ok(!inspect(wrong).includes('nope-nope') && !JSON.stringify(wrong).includes('nope-nope'));
  });
});

describe('masking', () => {
  test('maskUri hides userinfo and secret query parameters, and keeps the rest', () => {
    assert.equal(maskUri('rtsp://admin:hunter22@10.0.0.5:554/Streaming/Channels/101'), 'rtsp://***:***@10.0.0.5:554/Streaming/Channels/101');
    assert.equal(maskUri('rtsp://admin@10.0.0.5/x'), 'rtsp://***@10.0.0.5/x');
    assert.equal(maskUri('http://10.0.0.5/snap.jpg?user=admin&password=hunter22&channel=1'), 'http://10.0.0.5/snap.jpg?user=***&password=***&channel=1');
    assert.equal(maskUri('rtsp://10.0.0.5/x'), 'rtsp://10.0.0.5/x');
    assert.ok(!maskUri('rtsp://a:b@c@d:e@10.0.0.5/x').includes('b@c'));
    assert.equal(maskUri('::not a uri::'), '::not a uri::');
  });

  test('maskCredentials cleans free text such as ffmpeg stderr, and redacts known secrets', () => {
    const url = withCredentials('rtsp://127.0.0.1:8554/cam1', USER, PASS).reveal();
    const stderr = `[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized\n${url}: Server returned 401 Unauthorized (authorization failed)`;
    const masked = maskCredentials(stderr, [PASS]);
    assert.ok(!leaks(masked), masked);
    assert.match(masked, /rtsp:\/\/\*\*\*@127\.0\.0\.1:8554\/cam1: Server returned 401/);
    assert.equal(maskCredentials('login failed for password hunter22!', ['hunter22']), 'login failed for password ***!');
    assert.equal(maskCredentials('GET /cgi?pwd=hunter22&x=1'), 'GET /cgi?pwd=***&x=1');
  });

  test('SecretUrl: only reveal() gives the credentials', () => {
    const s = new SecretUrl('rtsp://u:topsecret@h/x');
    for (const shown of [String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ s }, { showHidden: true }), s.masked]) {
      assert.ok(!shown.includes('topsecret'), shown);
    }
    assert.equal(s.reveal(), 'rtsp://u:topsecret@h/x');
  });
});
