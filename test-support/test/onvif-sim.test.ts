import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../src/netns.ts';
import { passwordDigest, soapRequest, startOnvifSim, type OnvifSimHandle } from '../src/onvif-sim.ts';

const USER = 'operator';
const PASS = 'S3cret-pass';

const post = async (url: string, xml: string) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, body: xml });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
};
const GET_INFO = '<tds:GetDeviceInformation/>';

describe('simulated ONVIF camera: SOAP and WS-UsernameToken', () => {
  let sim: OnvifSimHandle;
  before(async () => {
    sim = await startOnvifSim({
      credentials: { username: USER, password: PASS },
      maker: 'ACME',
      model: 'X-1',
      serial: 'SN123',
      rtspUris: { main: 'rtsp://127.0.0.1:8554/a/main', sub: 'rtsp://127.0.0.1:8554/a/sub' },
    });
  });
  after(() => sim.close());

  test('listens on a free port and advertises its device service', () => {
    assert.ok(sim.port > 0);
    assert.equal(sim.xaddr, `http://127.0.0.1:${sim.port}/onvif/device_service`);
  });

  test('GetSystemDateAndTime answers without authentication, in UTC', async () => {
    const r = await post(sim.xaddr, soapRequest('<tds:GetSystemDateAndTime/>'));
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /application\/soap\+xml/);
    const year = /<tt:UTCDateTime>[\s\S]*<tt:Year>(\d+)<\/tt:Year>/.exec(r.body)?.[1];
    assert.equal(Number(year), new Date().getUTCFullYear());
  });

  test('a correct PasswordDigest is accepted (Created carrying an xmlns attribute)', async () => {
    const r = await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS }));
    assert.equal(r.status, 200);
    assert.match(r.body, /<tds:Manufacturer>ACME<\/tds:Manufacturer>/);
    assert.match(r.body, /<tds:Model>X-1<\/tds:Model>/);
    assert.match(r.body, /<tds:SerialNumber>SN123<\/tds:SerialNumber>/);
    const last = sim.requests.at(-1)!;
    assert.equal(last.auth, 'ok');
    assert.equal(last.createdHadAttributes, true);
  });

  test('a prefixed wsse/wsu header with attributes everywhere is accepted', async () => {
    const nonce = randomBytes(20);
    const created = new Date().toISOString();
    const header =
      `<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ` +
      `xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken wsu:Id="UsernameToken-1">` +
      `<wsse:Username>${USER}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` +
      `${passwordDigest(nonce, created, PASS)}</wsse:Password><wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">` +
      `${nonce.toString('base64')}</wsse:Nonce><wsu:Created wsu:Id="c1">${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`;
    const xml = `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>${header}</s:Header><s:Body>${GET_INFO}</s:Body></s:Envelope>`;
    const r = await post(sim.xaddr, xml);
    assert.equal(r.status, 200, r.body);
  });

  const assertNotAuthorized = (r: { status: number; body: string }) => {
    assert.equal(r.status, 400);
    assert.match(r.body, /<env:Fault>/);
    assert.match(r.body, /<env:Value>env:Sender<\/env:Value>/);
    assert.match(r.body, /<env:Value>ter:NotAuthorized<\/env:Value>/);
    assert.doesNotMatch(r.body, /Manufacturer/);
  };

  test('no security header → 400 ter:NotAuthorized', async () => {
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO)));
    assert.equal(sim.requests.at(-1)!.auth, 'missing');
  });

  test('wrong password → 400 ter:NotAuthorized', async () => {
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: 'wrong' })));
    assert.equal(sim.requests.at(-1)!.auth, 'bad-digest');
  });

  test('unknown user → 400 ter:NotAuthorized', async () => {
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO, { username: 'admin', password: PASS })));
    assert.equal(sim.requests.at(-1)!.auth, 'unknown-user');
  });

  test('a replayed request (same nonce and Created) is refused the second time', async () => {
    const xml = soapRequest(GET_INFO, { username: USER, password: PASS, nonce: randomBytes(16) });
    assert.equal((await post(sim.xaddr, xml)).status, 200);
    assertNotAuthorized(await post(sim.xaddr, xml));
    assert.equal(sim.requests.at(-1)!.auth, 'replayed-nonce');
  });

  test('a stale Created (10 minutes old) and a future one are refused, though the digest is right', async () => {
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS, created: new Date(Date.now() - 10 * 60_000).toISOString() })));
    assert.equal(sim.requests.at(-1)!.auth, 'stale-created');
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS, created: new Date(Date.now() + 10 * 60_000).toISOString() })));
    assert.equal(sim.requests.at(-1)!.auth, 'stale-created');
  });

  test('a Created without a time zone and a PasswordText token are refused', async () => {
    assertNotAuthorized(await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS, created: '2026-11-23T10:00:00' })));
    assert.equal(sim.requests.at(-1)!.auth, 'malformed');
    const text = soapRequest(GET_INFO, { username: USER, password: PASS }).replace(/#PasswordDigest">[^<]*</, `#PasswordText">${PASS}<`);
    assertNotAuthorized(await post(sim.xaddr, text));
    assert.equal(sim.requests.at(-1)!.auth, 'not-digest');
  });

  test('GetProfiles lists main 1920x1080 and sub 640x360', async () => {
    const r = await post(sim.xaddr.replace('device_service', 'media_service'), soapRequest('<trt:GetProfiles/>', { username: USER, password: PASS }));
    assert.equal(r.status, 200);
    assert.match(r.body, /<trt:Profiles token="Profile_1"[^>]*><tt:Name>mainStream<\/tt:Name>[\s\S]*?<tt:Width>1920<\/tt:Width><tt:Height>1080<\/tt:Height>/);
    assert.match(r.body, /<trt:Profiles token="Profile_2"[^>]*><tt:Name>subStream<\/tt:Name>[\s\S]*?<tt:Width>640<\/tt:Width><tt:Height>360<\/tt:Height>/);
  });

  test('GetStreamUri returns the configured RTSP URI per profile; an unknown profile is a fault', async () => {
    const media = sim.xaddr.replace('device_service', 'media_service');
    const ask = (token: string) =>
      post(media, soapRequest(`<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>${token}</trt:ProfileToken></trt:GetStreamUri>`, { username: USER, password: PASS }));
    const main = await ask('Profile_1');
    assert.equal(main.status, 200);
    assert.match(main.body, /<tt:Uri>rtsp:\/\/127\.0\.0\.1:8554\/a\/main<\/tt:Uri>/);
    assert.match((await ask('Profile_2')).body, /<tt:Uri>rtsp:\/\/127\.0\.0\.1:8554\/a\/sub<\/tt:Uri>/);
    const none = await ask('Nope');
    assert.equal(none.status, 400);
    assert.match(none.body, /ter:InvalidArgVal/);
  });

  test('GetCapabilities, GetServices, GetScopes, GetVideoSources, GetSnapshotUri answer', async () => {
    const auth = { username: USER, password: PASS };
    const caps = await post(sim.xaddr, soapRequest('<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>', auth));
    assert.match(caps.body, new RegExp(`<tt:Media><tt:XAddr>http://127.0.0.1:${sim.port}/onvif/media_service</tt:XAddr>`));
    assert.match((await post(sim.xaddr, soapRequest('<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>', auth))).body, /ver10\/media\/wsdl<\/tds:Namespace>/);
    assert.match((await post(sim.xaddr, soapRequest('<tds:GetScopes/>', auth))).body, /onvif:\/\/www\.onvif\.org\/hardware\/X-1/);
    assert.match((await post(sim.xaddr, soapRequest('<trt:GetVideoSources/>', auth))).body, /<trt:VideoSources token="VideoSource_1">/);
    assert.match((await post(sim.xaddr, soapRequest('<trt:GetSnapshotUri><trt:ProfileToken>Profile_2</trt:ProfileToken></trt:GetSnapshotUri>', auth))).body, /snapshot\?profile=Profile_2/);
  });

  test('an unknown action → SOAP 1.2 fault ter:ActionNotSupported', async () => {
    const r = await post(sim.xaddr, soapRequest('<tds:SystemReboot/>', { username: USER, password: PASS }));
    assert.equal(r.status, 400);
    assert.match(r.body, /<env:Value>env:Receiver<\/env:Value>/);
    assert.match(r.body, /<env:Value>ter:ActionNotSupported<\/env:Value>/);
  });

  test('not SOAP → 400 fault; GET → 405; an oversized body → 413; the camera keeps serving', async () => {
    const junk = await post(sim.xaddr, 'hello');
    assert.equal(junk.status, 400);
    assert.match(junk.body, /ter:WellFormed/);
    assert.equal((await fetch(sim.xaddr)).status, 405);
    assert.equal((await post(sim.xaddr, `<s:Envelope><s:Body>${'x'.repeat(70_000)}</s:Body></s:Envelope>`)).status, 413);
    assert.equal((await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS }))).status, 200);
  });
});

describe('simulated ONVIF camera: clock, open camera, CLI', () => {
  test('a camera whose clock is an hour ahead checks Created against its own clock', async () => {
    const sim = await startOnvifSim({ credentials: { username: USER, password: PASS }, clockOffsetMs: 3_600_000 });
    try {
      const r = await post(sim.xaddr, soapRequest('<tds:GetSystemDateAndTime/>'));
      const hour = Number(/<tt:UTCDateTime><tt:Time><tt:Hour>(\d+)</.exec(r.body)?.[1]);
      assert.equal(hour, new Date(Date.now() + 3_600_000).getUTCHours());
      assert.equal((await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS }))).status, 400);
      assert.equal(sim.requests.at(-1)!.auth, 'stale-created');
      const skewed = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await post(sim.xaddr, soapRequest(GET_INFO, { username: USER, password: PASS, created: skewed }))).status, 200);
    } finally {
      await sim.close();
    }
  });

  test('an open camera (credentials: null) answers without a security header', async () => {
    const sim = await startOnvifSim({ credentials: null });
    try {
      assert.equal((await post(sim.xaddr, soapRequest(GET_INFO))).status, 200);
      assert.equal(sim.requests.at(-1)!.auth, 'none-needed');
    } finally {
      await sim.close();
    }
  });

  test('the CLI serves N cameras and prints one JSON line each; SIGTERM stops it cleanly', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test-support/src/onvif-sim.ts', '--count', '2', '--username', 'demo', '--rtsp-main', 'rtsp://10.9.8.7:554/cam{n}/main'],
      { cwd: REPO_ROOT, env: { ...process.env, ONVIF_SIM_PASSWORD: 'from-env', ONVIF_SIM_MAKER: 'EnvMaker' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const lines: Record<string, unknown>[] = [];
      const rl = createInterface({ input: child.stdout! });
      for await (const line of rl) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (lines.length === 2) break;
      }
      assert.deepEqual(lines.map((l) => l.n), [1, 2]);
      const [a, b] = lines as { xaddr: string; port: number; username: string; profiles: { token: string; rtspUri: string }[] }[];
      assert.notEqual(a!.port, b!.port);
      assert.equal(a!.username, 'demo');
      assert.equal(b!.profiles[0]!.rtspUri, 'rtsp://10.9.8.7:554/cam2/main');
      assert.ok(!JSON.stringify(lines).includes('from-env'), 'the password is not printed');
      const r = await post(b!.xaddr, soapRequest(GET_INFO, { username: 'demo', password: 'from-env' }));
      assert.equal(r.status, 200);
      assert.match(r.body, /<tds:Manufacturer>EnvMaker<\/tds:Manufacturer>/);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('the CLI rejects a bad option with exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test-support/src/onvif-sim.ts', '--count', 'zero'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(stderr, /--count must be an integer/);
  });
});
