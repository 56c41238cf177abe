/**
 * The agent's ONVIF adapter against cameras that authenticate in different ways (WS-UsernameToken, HTTP Digest,
 * either, both), and against things at an address that are not ONVIF cameras (a web server, a non-HTTP service, a
 * closed port). Everything runs on 127.0.0.1 against the simulated camera and small local servers.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { startOnvifSim, type OnvifSimHandle, type OnvifSimOptions } from '../../test-support/src/onvif-sim.ts';
import { digestAuthorization, DigestSession, usableChallenges } from '../src/onvif/http-digest.ts';
import {
  createNodeOnvifGateway,
  OnvifAuthError,
  OnvifNotOnvifError,
  OnvifRefusedError,
  OnvifTimeoutError,
  resolveStreamUrl,
  type DeviceDescription,
} from '../src/onvif/index.ts';

const USER = 'recorder';
const PASS = 'Dig@st:pw/1%';
const SIM: OnvifSimOptions = {
  credentials: { username: USER, password: PASS },
  maker: 'ACME Security',
  model: 'AC-4K',
  firmware: '2.8.1',
  serial: 'ACME-0042',
  rtspUris: { main: 'rtsp://127.0.0.1:8554/store1/cam1/main', sub: 'rtsp://127.0.0.1:8554/store1/cam1/sub' },
};

const gateway = createNodeOnvifGateway();
const withoutAddress = (d: DeviceDescription) => ({ ...d, xaddr: null, auth: null, profiles: d.profiles.map((p) => ({ ...p, snapshotUri: p.snapshotUri?.replace(/:\d+\//, ':PORT/') })) });
const leaks = (v: unknown) => {
  const s = `${inspect(v, { depth: 5 })} ${JSON.stringify(v)} ${String(v)}`;
  return s.includes(PASS) || s.includes(encodeURIComponent(PASS));
};

async function withSim<T>(opts: OnvifSimOptions, fn: (sim: OnvifSimHandle) => Promise<T>): Promise<T> {
  const sim = await startOnvifSim({ ...SIM, ...opts });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('HTTP Digest (RFC 7616) client', () => {
  // RFC 7616 section 3.9.1.
  const challenge = (alg: string) =>
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
  const req = { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };

  test('the RFC 7616 example responses, MD5 and SHA-256', () => {
    const [sha, md5] = usableChallenges([challenge('SHA-256'), challenge('MD5')]);
    assert.equal(sha!.algorithm, 'SHA-256', 'strongest first');
    assert.match(digestAuthorization(md5!, req), /response="8ca523f5e9506fed4657c9700eebdbec"/);
    assert.match(digestAuthorization(sha!, req), /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
    const h = digestAuthorization(md5!, req);
    for (const part of ['username="Mufasa"', 'realm="http-auth@example.org"', 'uri="/dir/index.html"', 'qop=auth', 'nc=00000001', 'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"']) assert.ok(h.includes(part), part);
  });

  test('challenges joined by Node into one header are split; Basic, auth-int only and unknown algorithms are not usable', () => {
    const joined = `Basic realm="x", ${challenge('MD5')}, Digest realm="r", nonce="n", qop="auth-int", Digest realm="r", nonce="n2", algorithm=SHA-512-256`;
    const usable = usableChallenges(joined);
    assert.deepEqual(usable.map((c) => [c.algorithm, c.nonce]), [['MD5', '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v']]);
    assert.deepEqual(usableChallenges('Basic realm="cam"'), []);
  });

  test('a session reuses the nonce with a rising nonce count, and starts over on a new challenge', () => {
    const s = new DigestSession('u', 'p');
    assert.equal(s.authorization('POST', '/x'), null);
    assert.ok(s.accept(challenge('MD5')));
    assert.match(s.authorization('POST', '/x')!, /nc=00000001/);
    assert.match(s.authorization('POST', '/x')!, /nc=00000002/);
    assert.ok(s.accept(challenge('MD5').replace('7ypf', 'zzzz')));
    assert.match(s.authorization('POST', '/x')!, /nonce="zzzz.*nc=00000001/);
    assert.equal(s.accept('Basic realm="x"'), false);
  });
});

describe('describe chooses the way the camera asks for', () => {
  let reference: DeviceDescription;
  before(async () => {
    reference = await withSim({ auth: 'ws-security' }, (sim) => gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS }));
    assert.equal(reference.profiles.length, 2);
  });

  test('HTTP Digest only: the same description as over WS-UsernameToken; one challenge, then the nonce is reused', async () => {
    await withSim({ auth: 'digest' }, async (sim) => {
      const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
      assert.equal(d.xaddr, sim.xaddr);
      assert.equal(reference.auth, 'ws-security');
      assert.equal(d.auth, 'digest');
      assert.deepEqual(withoutAddress(d), withoutAddress(reference));
      const authed = sim.requests.filter((r) => r.auth === 'ok');
      assert.ok(authed.length >= 6 && authed.every((r) => r.digest === 'ok'), JSON.stringify(sim.requests));
      // node-onvif's first authenticated call gets the 401, then ours: one more 401 for the challenge, no more.
      assert.equal(sim.requests.filter((r) => r.status === 401).length, 2);
    });
  });

  test('Digest with SHA-256 only, and with SHA-256 and MD5 offered', async () => {
    for (const digestAlgorithms of [['SHA-256'], ['MD5', 'SHA-256']] as const) {
      await withSim({ auth: 'digest', digestAlgorithms: [...digestAlgorithms] }, async (sim) => {
        const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
        assert.equal(d.serial, 'ACME-0042');
      });
    }
  });

  test('a camera that wants both Digest and WS-UsernameToken', async () => {
    await withSim({ auth: 'both' }, async (sim) => {
      const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
      assert.equal(d.auth, 'digest+ws-security');
      assert.deepEqual(withoutAddress(d), withoutAddress(reference));
      assert.ok(sim.requests.filter((r) => r.auth === 'ok').every((r) => r.digest === 'ok' && r.wsse === 'ok'));
    });
  });

  test('a camera that accepts either is served over WS-UsernameToken (node-onvif), with no 401', async () => {
    await withSim({ auth: 'either' }, async (sim) => {
      await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
      assert.equal(sim.requests.filter((r) => r.status === 401).length, 0);
    });
  });

  test('a Digest camera without GetCapabilities (deprecated): the media service is found with GetServices', async () => {
    await withSim({ auth: 'digest', unsupportedActions: ['GetCapabilities'] }, async (sim) => {
      const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
      assert.deepEqual(withoutAddress(d), withoutAddress(reference));
      assert.ok(sim.requests.some((r) => r.action === 'GetServices' && r.status === 200));
    });
  });

  test('a Digest camera that wants credentials even for GetSystemDateAndTime', async () => {
    await withSim({ auth: 'digest', preAuthActions: [] }, async (sim) => {
      const d = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS });
      assert.equal(d.profiles.length, 2);
    });
  });

  test('Digest, wrong password → OnvifAuthError naming HTTP Digest; no credentials → OnvifAuthError; nothing leaks', async () => {
    await withSim({ auth: 'digest' }, async (sim) => {
      const wrong = await gateway.describe({ xaddr: sim.xaddr, username: USER, password: `${PASS}x` }).catch((e: unknown) => e);
      assert.ok(wrong instanceof OnvifAuthError, String(wrong));
      assert.equal(wrong.code, 'onvif_auth_failed');
      assert.match(wrong.detail ?? '', /HTTP Digest/);
      assert.ok(!leaks(wrong) && !leaks(wrong.stack));
      assert.ok(sim.requests.some((r) => r.digest === 'bad-digest'));
      const none = await gateway.describe({ xaddr: sim.xaddr }).catch((e: unknown) => e);
      assert.ok(none instanceof OnvifAuthError, String(none));
      assert.match(none.detail ?? '', /none were given/);
    });
  });

  test('both, wrong password → OnvifAuthError', async () => {
    await withSim({ auth: 'both' }, async (sim) => {
      await assert.rejects(gateway.describe({ xaddr: sim.xaddr, username: USER, password: 'wrong-one' }), (e: unknown) => e instanceof OnvifAuthError);
    });
  });

  test('a camera that refuses WS-UsernameToken with 401 + the SOAP fault (no challenge) is still served', async () => {
    await withSim({ auth: 'ws-security' }, async (sim) => {
      // A proxy that turns the simulator's 400 NotAuthorized into 401 without WWW-Authenticate, as some cameras answer.
      const proxy = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const r = await fetch(`http://127.0.0.1:${sim.port}${req.url}`, { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: Buffer.concat(chunks) });
          const body = await r.text();
          res.writeHead(r.status === 400 && body.includes('ter:NotAuthorized') ? 401 : r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(body);
        });
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (proxy.address() as AddressInfo).port;
        const d = await gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS });
        assert.equal(d.serial, 'ACME-0042');
        assert.equal(d.profiles.length, 2);
        await assert.rejects(gateway.describe({ host: '127.0.0.1', port, username: USER, password: 'wrong-pw' }), (e: unknown) => e instanceof OnvifAuthError && /WS-UsernameToken/.test(e.detail ?? ''));
      } finally {
        proxy.closeAllConnections();
        await new Promise<void>((r) => proxy.close(() => r()));
      }
    });
  });

  test('credentials node-onvif cannot send (non-ASCII, "<", "&") go through our client, over either kind of auth', async () => {
    for (const auth of ['ws-security', 'digest', 'both'] as const) {
      const credentials = { username: '店長<a&b>', password: 'パスワード<&>"1' };
      await withSim({ auth, credentials }, async (sim) => {
        const d = await gateway.describe({ xaddr: sim.xaddr, ...credentials });
        assert.equal(d.serial, 'ACME-0042', auth);
        assert.equal(d.auth, auth === 'both' ? 'digest+ws-security' : auth);
        await assert.rejects(gateway.describe({ xaddr: sim.xaddr, username: credentials.username, password: 'パスワード2' }), (e: unknown) => e instanceof OnvifAuthError, auth);
        const r = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, ...credentials });
        assert.equal(decodeURIComponent(new URL(r.url.reveal()).password), credentials.password);
        assert.equal(decodeURIComponent(new URL(r.url.reveal()).username), credentials.username);
      });
    }
  });

  test("one deadline covers node-onvif's attempt and ours: a slow Digest camera times out at timeoutMs", async () => {
    await withSim({ auth: 'digest', responseDelayMs: 100 }, async (sim) => {
      const started = Date.now();
      await assert.rejects(gateway.describe({ xaddr: sim.xaddr, username: USER, password: PASS, timeoutMs: 700 }), (e: unknown) => {
        assert.ok(e instanceof OnvifTimeoutError, String(e));
        assert.match(e.message, /did not answer within 700 ms/);
        return true;
      });
      const ms = Date.now() - started;
      assert.ok(ms >= 690 && ms < 1500, `took ${ms} ms`);
      assert.ok(sim.requests.some((r) => r.status === 401), 'node-onvif got the challenge and handed over before the deadline');
    });
  });

  test('resolveStreamUrl over a Digest camera injects the credentials into the RTSP URL', async () => {
    await withSim({ auth: 'digest' }, async (sim) => {
      const r = await resolveStreamUrl({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
      assert.equal(r.profile.token, 'Profile_1');
      assert.equal(decodeURIComponent(new URL(r.url.reveal()).password), PASS);
      assert.equal(r.masked, 'rtsp://***:***@127.0.0.1:8554/store1/cam1/main');
    });
  });
});

describe('not an ONVIF camera', () => {
  const servers: (Server | ReturnType<typeof createTcpServer>)[] = [];
  const listen = async (s: Server | ReturnType<typeof createTcpServer>) => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return (s.address() as AddressInfo).port;
  };
  after(async () => {
    for (const s of servers) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test('a web server (404 for everything) → OnvifNotOnvifError not_soap', async () => {
    const port = await listen(createHttpServer((req, res) => (req.resume(), res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>'))));
    const e = await gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS }).catch((x: unknown) => x);
    assert.ok(e instanceof OnvifNotOnvifError, String(e));
    assert.equal(e.code, 'onvif_not_onvif');
    assert.equal(e.answered, 'not_soap');
    assert.match(e.message, /answers HTTP but not ONVIF/);
    assert.match(e.detail ?? '', /HTTP 404 \(text\/html\)/);
  });

  test('a web server answering 200 with a page → not_soap', async () => {
    const port = await listen(createHttpServer((req, res) => (req.resume(), res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><head><title>Router</title></head><body>login</body></html>'))));
    const e = await gateway.describe({ host: '127.0.0.1', port }).catch((x: unknown) => x);
    assert.ok(e instanceof OnvifNotOnvifError, String(e));
    assert.equal(e.answered, 'not_soap');
  });

  test('a web server asking for Basic auth → not ONVIF, not "wrong password"', async () => {
    const port = await listen(createHttpServer((req, res) => (req.resume(), res.writeHead(401, { 'www-authenticate': 'Basic realm="router"', 'content-type': 'text/html' }).end('<html>401</html>'))));
    const e = await gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS }).catch((x: unknown) => x);
    assert.ok(!(e instanceof OnvifAuthError), String(e));
    assert.match(String((e as Error).message), /asks for HTTP Basic|not ONVIF/);
  });

  test('a service that does not speak HTTP → not_http', async () => {
    // Writes a banner and hangs up, as an SSH server does to an HTTP client.
    const port = await listen(createTcpServer((sock) => sock.on('error', () => undefined).end('SSH-2.0-OpenSSH_9.2\r\n', () => sock.destroy())));
    const e = await gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS }).catch((x: unknown) => x);
    assert.ok(e instanceof OnvifNotOnvifError, String(e));
    assert.equal(e.answered, 'not_http');
    assert.match(e.message, /does not speak HTTP/);
  });

  test('a closed port → OnvifRefusedError', async () => {
    const s = createTcpServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const e = await gateway.describe({ host: '127.0.0.1', port, username: USER, password: PASS }).catch((x: unknown) => x);
    assert.ok(e instanceof OnvifRefusedError, String(e));
    assert.equal(e.code, 'onvif_refused');
    assert.match(e.message, /nothing listens at .*connection refused/);
  });
});
