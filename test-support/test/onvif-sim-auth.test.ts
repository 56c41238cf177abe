/**
 * The simulated camera's authentication modes (WS-UsernameToken, HTTP Digest, either, both), its PRE_AUTH actions
 * and its snapshot URI, checked with hand-made requests (no client library, so each rule is asserted on the wire).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { digestResponse, parseDigestParams, soapRequest, startOnvifSim, type OnvifSimHandle, type SimAuthMode, type SimDigestAlgorithm } from '../src/onvif-sim.ts';

const USER = 'installer';
const PASS = 'Dig:est@pw';
const GET_INFO = '<tds:GetDeviceInformation/>';

type Res = { status: number; body: string; challenges: string[]; type: string | null; bytes: Buffer };

async function request(url: string, init: { method?: string; body?: string; authorization?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/soap+xml; charset=utf-8';
  if (init.authorization) headers.authorization = init.authorization;
  const r = await fetch(url, { method: init.method ?? 'POST', headers, body: init.body });
  const bytes = Buffer.from(await r.arrayBuffer());
  // fetch joins repeated headers with ", "; split before each "Digest ".
  const www = r.headers.get('www-authenticate');
  return { status: r.status, body: bytes.toString('utf8'), bytes, type: r.headers.get('content-type'), challenges: www ? www.split(/,\s*(?=Digest\s)/) : [] };
}

/** Answers a challenge as an RFC 7616 client would. */
function authorization(challenge: string, o: { method: string; url: string; username?: string; password?: string; nc?: number; algorithm?: SimDigestAlgorithm }): string {
  const c = parseDigestParams(challenge);
  assert.ok(c, `not a Digest challenge: ${challenge}`);
  const u = new URL(o.url);
  const uri = `${u.pathname}${u.search}`;
  const algorithm = (o.algorithm ?? c.algorithm ?? 'MD5') as SimDigestAlgorithm;
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const username = o.username ?? USER;
  const response = digestResponse({ algorithm, username, realm: c.realm!, password: o.password ?? PASS, method: o.method, uri, nonce: c.nonce!, nc, cnonce });
  return `Digest username="${username}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${c.opaque}"`;
}

async function withSim(auth: SimAuthMode, fn: (sim: OnvifSimHandle) => Promise<void>, extra: Parameters<typeof startOnvifSim>[0] = {}) {
  const sim = await startOnvifSim({ credentials: { username: USER, password: PASS }, auth, maker: 'DigestCo', ...extra });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('simulated camera: HTTP Digest', () => {
  let sim: OnvifSimHandle;
  before(async () => {
    sim = await startOnvifSim({ credentials: { username: USER, password: PASS }, auth: 'digest', maker: 'DigestCo' });
  });
  after(() => sim.close());

  test('a request without Authorization gets 401 with a Digest challenge (realm, qop=auth, nonce, MD5)', async () => {
    const r = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
    assert.equal(r.status, 401);
    assert.equal(r.challenges.length, 1);
    const c = parseDigestParams(r.challenges[0]!)!;
    assert.equal(c.realm, 'Mamoru Sim');
    assert.equal(c.qop, 'auth');
    assert.equal(c.algorithm, 'MD5');
    assert.match(c.nonce ?? '', /^[0-9a-f]{32}$/);
    assert.doesNotMatch(r.body, /DigestCo/);
    assert.deepEqual([sim.requests.at(-1)!.auth, sim.requests.at(-1)!.digest], ['missing', 'missing']);
  });

  test('the right answer to the challenge is served; the WS-Security header is not needed', async () => {
    const first = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
    const r = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: authorization(first.challenges[0]!, { method: 'POST', url: sim.xaddr }) });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /<tds:Manufacturer>DigestCo<\/tds:Manufacturer>/);
    assert.deepEqual([sim.requests.at(-1)!.auth, sim.requests.at(-1)!.digest, sim.requests.at(-1)!.wsse], ['ok', 'ok', null]);
  });

  test('a nonce is reused with a rising nc; the same nc twice is a replay', async () => {
    const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
    const media = sim.xaddr.replace('device_service', 'media_service');
    for (const nc of [1, 2, 5]) {
      const r = await request(media, { body: soapRequest('<trt:GetProfiles/>'), authorization: authorization(challenges[0]!, { method: 'POST', url: media, nc }) });
      assert.equal(r.status, 200, `nc=${nc}`);
    }
    const again = await request(media, { body: soapRequest('<trt:GetProfiles/>'), authorization: authorization(challenges[0]!, { method: 'POST', url: media, nc: 5 }) });
    assert.equal(again.status, 401);
    assert.equal(sim.requests.at(-1)!.digest, 'replayed-nc');
  });

  test('wrong password, unknown user, wrong uri, unknown nonce, Basic: each is 401 with a fresh challenge', async () => {
    const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
    const ch = challenges[0]!;
    const cases: [string, string][] = [
      [authorization(ch, { method: 'POST', url: sim.xaddr, password: 'wrong' }), 'bad-digest'],
      [authorization(ch, { method: 'POST', url: sim.xaddr, username: 'admin', nc: 2 }), 'unknown-user'],
      [authorization(ch, { method: 'POST', url: sim.xaddr.replace('device_service', 'elsewhere'), nc: 3 }), 'malformed'],
      [authorization(ch.replace(/nonce="[0-9a-f]+"/, `nonce="${'0'.repeat(32)}"`), { method: 'POST', url: sim.xaddr }), 'unknown-nonce'],
      [`Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`, 'not-digest'],
    ];
    for (const [header, outcome] of cases) {
      const r = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: header });
      assert.equal(r.status, 401, outcome);
      assert.equal(r.challenges.length, 1);
      assert.notEqual(parseDigestParams(r.challenges[0]!)!.nonce, parseDigestParams(ch)!.nonce);
      assert.equal(sim.requests.at(-1)!.digest, outcome);
    }
  });

  test('GetSystemDateAndTime, GetCapabilities and GetServices answer without credentials (PRE_AUTH)', async () => {
    for (const body of ['<tds:GetSystemDateAndTime/>', '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>', '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>']) {
      const r = await request(sim.xaddr, { body: soapRequest(body) });
      assert.equal(r.status, 200, body);
      assert.equal(sim.requests.at(-1)!.auth, 'none-needed');
    }
  });

  test('the snapshot URI serves a JPEG of the profile size behind Digest', async () => {
    const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
    const media = sim.xaddr.replace('device_service', 'media_service');
    const uriRes = await request(media, { body: soapRequest('<trt:GetSnapshotUri><trt:ProfileToken>Profile_2</trt:ProfileToken></trt:GetSnapshotUri>'), authorization: authorization(challenges[0]!, { method: 'POST', url: media }) });
    const snap = /<tt:Uri>([^<]+)<\/tt:Uri>/.exec(uriRes.body)![1]!.replace(/&amp;/g, '&');
    const refused = await request(snap, { method: 'GET' });
    assert.equal(refused.status, 401);
    const r = await request(snap, { method: 'GET', authorization: authorization(refused.challenges[0]!, { method: 'GET', url: snap }) });
    assert.equal(r.status, 200);
    assert.equal(r.type, 'image/jpeg');
    assert.deepEqual([...r.bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    // SOF0 carries height then width.
    const sof = r.bytes.indexOf(Buffer.from([0xff, 0xc0]));
    assert.ok(sof > 0);
    assert.deepEqual([r.bytes.readUInt16BE(sof + 5), r.bytes.readUInt16BE(sof + 7)], [360, 640]);
    const wrong = await request(snap, { method: 'GET', authorization: authorization(refused.challenges[0]!, { method: 'GET', url: snap, password: 'nope', nc: 2 }) });
    assert.equal(wrong.status, 401);
  });
});

describe('simulated camera: other modes', () => {
  test('SHA-256 and MD5 offered as two challenges; both answers are accepted', async () => {
    await withSim(
      'digest',
      async (sim) => {
        const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
        assert.deepEqual(challenges.map((c) => parseDigestParams(c)!.algorithm), ['SHA-256', 'MD5']);
        // One nonce for both, so the second answer counts on (nc 2).
        for (const [i, c] of challenges.entries()) {
          const r = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: authorization(c, { method: 'POST', url: sim.xaddr, nc: i + 1 }) });
          assert.equal(r.status, 200, c);
        }
        const wrongAlg = authorization(challenges[0]!, { method: 'POST', url: sim.xaddr, algorithm: 'MD5', nc: 9 }).replace('algorithm=MD5', 'algorithm=SHA-512');
        assert.equal((await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: wrongAlg })).status, 401);
      },
      { digestAlgorithms: ['SHA-256', 'MD5'] },
    );
  });

  test('an expired nonce with a right answer gets 401 stale=true', async () => {
    await withSim(
      'digest',
      async (sim) => {
        const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
        await new Promise((r) => setTimeout(r, 80));
        const r = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: authorization(challenges[0]!, { method: 'POST', url: sim.xaddr }) });
        assert.equal(r.status, 401);
        assert.equal(parseDigestParams(r.challenges[0]!)!.stale, 'true');
        assert.equal(sim.requests.at(-1)!.digest, 'stale-nonce');
      },
      { digestNonceTtlMs: 50 },
    );
  });

  test('either: a UsernameToken alone or a Digest alone is accepted; neither gets the Digest challenge; a bad token gets 400', async () => {
    await withSim('either', async (sim) => {
      assert.equal((await request(sim.xaddr, { body: soapRequest(GET_INFO, { username: USER, password: PASS }) })).status, 200);
      assert.deepEqual([sim.requests.at(-1)!.wsse, sim.requests.at(-1)!.auth], ['ok', 'ok']);
      const none = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
      assert.equal(none.status, 401);
      assert.equal((await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: authorization(none.challenges[0]!, { method: 'POST', url: sim.xaddr }) })).status, 200);
      assert.equal(sim.requests.at(-1)!.digest, 'ok');
      const bad = await request(sim.xaddr, { body: soapRequest(GET_INFO, { username: USER, password: 'wrong' }) });
      assert.equal(bad.status, 400);
      assert.match(bad.body, /ter:NotAuthorized/);
      assert.equal(sim.requests.at(-1)!.wsse, 'bad-digest');
    });
  });

  test('both: a Digest without the UsernameToken is 400 NotAuthorized; with both it is served', async () => {
    await withSim('both', async (sim) => {
      assert.equal((await request(sim.xaddr, { body: soapRequest(GET_INFO, { username: USER, password: PASS }) })).status, 401);
      const { challenges } = await request(sim.xaddr, { body: soapRequest(GET_INFO) });
      const onlyDigest = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: authorization(challenges[0]!, { method: 'POST', url: sim.xaddr }) });
      assert.equal(onlyDigest.status, 400);
      assert.equal(sim.requests.at(-1)!.wsse, 'missing');
      const r = await request(sim.xaddr, { body: soapRequest(GET_INFO, { username: USER, password: PASS }), authorization: authorization(challenges[0]!, { method: 'POST', url: sim.xaddr, nc: 2 }) });
      assert.equal(r.status, 200);
      assert.deepEqual([sim.requests.at(-1)!.digest, sim.requests.at(-1)!.wsse], ['ok', 'ok']);
    });
  });

  test('ws-security (the default) ignores an Authorization header and still wants the UsernameToken', async () => {
    await withSim('ws-security', async (sim) => {
      const r = await request(sim.xaddr, { body: soapRequest(GET_INFO), authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` });
      assert.equal(r.status, 400);
      assert.deepEqual(r.challenges, []);
      assert.equal(sim.requests.at(-1)!.wsse, 'missing');
    });
  });

  test('preAuthActions: [] makes even GetSystemDateAndTime need credentials', async () => {
    await withSim('digest', async (sim) => {
      assert.equal((await request(sim.xaddr, { body: soapRequest('<tds:GetSystemDateAndTime/>') })).status, 401);
    }, { preAuthActions: [] });
  });

  test('an open camera serves the snapshot without credentials', async () => {
    const sim = await startOnvifSim({ credentials: null });
    try {
      const r = await request(`http://127.0.0.1:${sim.port}/onvif/snapshot?profile=Profile_1`, { method: 'GET' });
      assert.equal(r.status, 200);
      assert.equal(r.type, 'image/jpeg');
      assert.equal((await request(`http://127.0.0.1:${sim.port}/onvif/snapshot?profile=Nope`, { method: 'GET' })).status, 404);
    } finally {
      await sim.close();
    }
  });
});
