/**
 * `agent discover` without multicast: argument parsing, and the report for devices handed over by a stub probe but
 * described for real over HTTP against simulated cameras on 127.0.0.1. The multicast path is in discover-netns.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOnvifSim, type OnvifSimHandle } from '../../test-support/src/onvif-sim.ts';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { DiscoverUsageError, parseDiscoverArgs, runDiscover, type DiscoverReport } from '../src/cli/discover.ts';
import { validateConfig } from '../src/config.ts';
import { main } from '../src/main.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeOnvifGateway, fetchSnapshot, OnvifAuthError, type DiscoveredDevice, type OnvifGateway } from '../src/onvif/index.ts';

describe('parseDiscoverArgs', () => {
  test('flags, env fallback for credentials, defaults', () => {
    assert.deepEqual(parseDiscoverArgs([], {}), { json: false });
    assert.deepEqual(parseDiscoverArgs(['--timeout', '5000', '--username', 'u', '--password', 'p', '--json'], {}), { json: true, timeoutMs: 5000, username: 'u', password: 'p' });
    assert.deepEqual(parseDiscoverArgs([], { ONVIF_USERNAME: 'eu', ONVIF_PASSWORD: 'ep' }), { json: false, username: 'eu', password: 'ep' });
    assert.deepEqual(parseDiscoverArgs(['--username', 'flag'], { ONVIF_USERNAME: 'eu', ONVIF_PASSWORD: 'ep' }), { json: false, username: 'flag', password: 'ep' });
  });

  test('bad input → DiscoverUsageError with a clear message', () => {
    const bad: [string[], Record<string, string>, RegExp][] = [
      [['--timeout', 'soon'], {}, /--timeout must be an integer 100..60000/],
      [['--timeout', '50'], {}, /--timeout must be/],
      [['--timeout', '600000'], {}, /--timeout must be/],
      [['--colour'], {}, /Unknown option '--colour'/],
      [['extra'], {}, /Unexpected argument 'extra'/],
      [['--password', 'p'], {}, /needs --username/],
      [[], { ONVIF_PASSWORD: 'p' }, /needs --username/],
    ];
    for (const [argv, env, msg] of bad) assert.throws(() => parseDiscoverArgs(argv, env), (e: unknown) => e instanceof DiscoverUsageError && msg.test(e.message), argv.join(' '));
  });
});

describe('runDiscover report', () => {
  let good: OnvifSimHandle;
  let locked: OnvifSimHandle;
  let realGateway: OnvifGateway;
  const PASSWORD = 'pw:with@odd/chars';
  let found: DiscoveredDevice[];
  before(async () => {
    good = await startOnvifSim({ credentials: { username: 'inst', password: PASSWORD }, maker: 'ACME', model: 'AC-1', serial: 'S-1', rtspUris: { main: 'rtsp://cam:embedded-secret@127.0.0.1:8554/m' } });
    locked = await startOnvifSim({ credentials: { username: 'other', password: 'x1234' }, maker: 'Locked', serial: 'S-2' });
    realGateway = createNodeOnvifGateway();
    const dev = (h: OnvifSimHandle, name: string): DiscoveredDevice => ({ urn: h.urn, xaddr: h.xaddr, xaddrs: [h.xaddr], name, hardware: null, location: null, scopes: [], types: [] });
    found = [
      dev(good, 'Good'),
      dev(locked, 'Locked'),
      { urn: 'urn:uuid:no-http', xaddr: null, xaddrs: ['https://10.1.1.1/onvif/device_service'], name: null, hardware: null, location: null, scopes: [], types: [] },
    ];
  });
  after(async () => {
    await good.close();
    await locked.close();
  });

  // Probing is stubbed (multicast only in a namespace); describing is real.
  const gateway = (): OnvifGateway => ({ discover: async () => structuredClone(found), describe: (t) => realGateway.describe(t) });

  test('describes each device; masks URIs; reports auth and no-xaddr failures per device', async () => {
    let out = '';
    const reports = await runDiscover({ gateway: gateway(), username: 'inst', password: PASSWORD, timeoutMs: 500 }, { write: (s: string) => (out += s) });
    assert.equal(reports.length, 3);
    assert.ok(!out.includes(PASSWORD) && !out.includes(encodeURIComponent(PASSWORD)) && !out.includes('embedded-secret'), out);
    assert.match(out, /ONVIF discovery: 3 device\(s\) answered within 500 ms/);
    assert.match(out, /maker {5}ACME/);
    assert.match(out, /Profile_1 {2}mainStream {2}H264 1920x1080 25fps {2}rtsp:\/\/127\.0\.0\.1:8554\/m/);
    assert.match(out, /error {5}onvif_auth_failed/);
    assert.match(out, /error {5}onvif_bad_target: the device announced no http:\/\/ XAddr/);
    assert.match(out, /1 described, 2 failed/);
    const byUrn = new Map(reports.map((r) => [r.discovered.urn, r]));
    assert.equal(byUrn.get(good.urn)?.description?.serial, 'S-1');
    assert.equal(byUrn.get(locked.urn)?.error?.code, 'onvif_auth_failed');
  });

  test('json output is one parseable object per device', async () => {
    let out = '';
    await runDiscover({ gateway: gateway(), username: 'inst', password: PASSWORD, json: true }, { write: (s: string) => (out += s) });
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { serial: string | null; error: { code: string } | null; profiles: unknown[] });
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.error?.code ?? null).sort(), ['onvif_auth_failed', 'onvif_bad_target', null].sort());
    assert.ok(!out.includes(PASSWORD));
  });

  test('no device answered: says so, returns an empty list', async () => {
    let out = '';
    const reports = await runDiscover({ gateway: { discover: async () => [], describe: () => assert.fail('nothing to describe') } }, { write: (s: string) => (out += s) });
    assert.deepEqual(reports, []);
    assert.match(out, /0 device\(s\) answered/);
  });

  test('a bad discovery timeout is refused by the gateway before any probe', async () => {
    await assert.rejects(createNodeOnvifGateway().discover(5), /discovery timeout must be an integer 100..60000/);
  });
});

describe('discover --host: each address checked directly, with a plain verdict and ready-to-paste camera entries', () => {
  const PASSWORD = 'Inst@ll:pw#9';
  const sims: OnvifSimHandle[] = [];
  const servers: (HttpServer | TcpServer)[] = [];
  let wsse: OnvifSimHandle;
  let digest: OnvifSimHandle;
  let locked: OnvifSimHandle;
  let web: number;
  let ssh: number;
  let closed: number;
  let out = '';
  let reports: DiscoverReport[] = [];
  let jsonRows: Record<string, unknown>[] = [];

  const listen = async (s: HttpServer | TcpServer) => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return (s.address() as AddressInfo).port;
  };

  before(async () => {
    const creds = { username: 'inst', password: PASSWORD };
    wsse = await startOnvifSim({ credentials: creds, auth: 'ws-security', maker: 'ACME', model: 'AC-1', serial: 'S-1', rtspUris: { main: 'rtsp://127.0.0.1:8554/a/main', sub: 'rtsp://127.0.0.1:8554/a/sub' } });
    digest = await startOnvifSim({
      credentials: creds,
      auth: 'digest',
      maker: 'Digi',
      model: 'DG-2',
      serial: 'S-2',
      profiles: [
        { token: 'main', name: 'Main', width: 2560, height: 1440, encoding: 'H265', rtspUri: 'rtsp://127.0.0.1:8554/d/main' },
        { token: 'jpeg', name: 'Snap', width: 640, height: 480, encoding: 'JPEG', rtspUri: 'http://127.0.0.1/not-rtsp' },
      ],
    });
    locked = await startOnvifSim({ credentials: { username: 'inst', password: 'another-password' }, auth: 'digest', serial: 'S-3' });
    sims.push(wsse, digest, locked);
    web = await listen(createHttpServer((req, res) => (req.resume(), res.writeHead(404, { 'content-type': 'text/html' }).end('<html>404</html>'))));
    ssh = await listen(createTcpServer((sock) => sock.on('error', () => undefined).end('SSH-2.0-OpenSSH_9.2\r\n', () => sock.destroy())));
    const c = createTcpServer();
    await new Promise<void>((r) => c.listen(0, '127.0.0.1', () => r()));
    closed = (c.address() as AddressInfo).port;
    await new Promise<void>((r) => c.close(() => r()));

    const argv = ['--host', `127.0.0.1:${wsse.port}`, '--host', digest.xaddr, '--host', `127.0.0.1:${locked.port}`, '--host', `127.0.0.1:${web}`, '--host', `127.0.0.1:${ssh}`, '--host', `127.0.0.1:${closed}`, '--username', 'inst'];
    const opts = parseDiscoverArgs(argv, { ONVIF_PASSWORD: PASSWORD });
    reports = await runDiscover({ ...opts, gateway: { discover: () => assert.fail('no probe when addresses are given'), describe: (t) => createNodeOnvifGateway().describe(t) } }, { write: (s: string) => (out += s) });
    let json = '';
    await runDiscover({ ...opts, json: true }, { write: (s: string) => (json += s) });
    jsonRows = json.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
    for (const s of servers) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  const block = (port: number) => {
    const hit = out.split(/\n(?=\[\d+\] )/).filter((b) => b.includes(`:${port}/onvif/device_service`));
    assert.equal(hit.length, 1, `one block for port ${port}:\n${out}`);
    return hit[0]!;
  };

  test('never prints the password; one report per address, in the order given', () => {
    assert.ok(!out.includes(PASSWORD) && !out.includes(encodeURIComponent(PASSWORD)), out);
    assert.ok(!JSON.stringify(jsonRows).includes(PASSWORD));
    assert.match(out, /^ONVIF check of 6 address\(es\) given with --host$/m);
    assert.match(out, /: 2 described, 4 failed$/m);
    assert.deepEqual(reports.map((r) => r.error?.problem ?? 'ok'), ['ok', 'ok', 'credentials', 'not_onvif', 'not_onvif', 'not_onvif']);
  });

  test('a WS-UsernameToken camera and an HTTP Digest camera are both described', () => {
    assert.match(block(wsse.port), /auth {6}WS-UsernameToken\n/);
    assert.match(block(wsse.port), /maker {5}ACME/);
    assert.match(block(wsse.port), /Profile_1 {2}mainStream {2}H264 1920x1080 25fps {2}rtsp:\/\/127\.0\.0\.1:8554\/a\/main/);
    const d = block(digest.port);
    assert.match(d, /auth {6}HTTP Digest\n/);
    assert.match(d, /maker {5}Digi/);
    assert.match(d, /main {2}Main {2}H265 2560x1440 25fps {2}rtsp:\/\/127\.0\.0\.1:8554\/d\/main/);
    assert.match(d, /jpeg {2}Snap {2}JPEG 640x480 25fps {2}\(no RTSP URI\)/);
    assert.match(d, /record {4}main \(the largest profile/);
  });

  test('the printed entries are valid cameras for the agent config, one per profile with an RTSP URI', () => {
    const entries = (port: number) => {
      const b = block(port);
      const start = b.indexOf('    config    paste under');
      assert.ok(start >= 0, b);
      const yamlLines = b.slice(start).split('\n').slice(1).filter((l) => l.startsWith('      ')).map((l) => l.slice(6));
      return parseYaml(yamlLines.join('\n')) as unknown[];
    };
    const all = [...entries(wsse.port), ...entries(digest.port)];
    assert.equal(all.length, 3);
    const r = validateConfig({ server: { url: 'http://127.0.0.1:1' }, stateDir: 'state', spoolDir: 'spool', cameras: all }, {}, '/tmp');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.config.cameras.map((c) => [c.onvif?.host, c.onvif?.port, c.onvif?.username, c.onvif?.profileToken, c.onvif?.password]),
      [
        ['127.0.0.1', wsse.port, 'inst', 'Profile_1', undefined],
        ['127.0.0.1', wsse.port, 'inst', 'Profile_2', undefined],
        ['127.0.0.1', digest.port, 'inst', 'main', undefined],
      ],
    );
    assert.equal(new Set(r.config.cameras.map((c) => c.key)).size, 3, 'keys are unique');
    assert.match(r.config.cameras[2]!.name, /Digi DG-2 Main 2560x1440/);
    // The JSON output carries the same entries.
    assert.deepEqual(jsonRows.flatMap((row) => row.cameras as unknown[]), all);
    assert.match(block(wsse.port), /add `password:` under onvif; it is not printed/);
  });

  test('wrong credentials, a web server, a non-HTTP service and a closed port each say so plainly', () => {
    assert.match(block(locked.port), /error {5}onvif_auth_failed: .*HTTP Digest/);
    assert.match(block(locked.port), /problem {3}wrong username or password: the device speaks ONVIF and refused them/);
    assert.match(block(web), /error {5}onvif_not_onvif: .*answers HTTP but not ONVIF/);
    assert.match(block(web), /problem {3}not an ONVIF device at this address/);
    assert.match(block(ssh), /error {5}onvif_not_onvif: .*does not speak HTTP/);
    assert.match(block(ssh), /problem {3}not an ONVIF device at this address/);
    assert.match(block(closed), /error {5}onvif_refused: /);
    assert.match(block(closed), /problem {3}no ONVIF service at this address: the host is up but nothing listens on that port/);
    assert.deepEqual(
      jsonRows.map((row) => (row.error as { code: string; problem: string } | null)?.problem ?? null),
      [null, null, 'credentials', 'not_onvif', 'not_onvif', 'not_onvif'],
    );
  });

  test('no credentials for a camera that wants them: says so and how to give them', async () => {
    let o = '';
    const [r] = await runDiscover({ hosts: [digest.xaddr] }, { write: (s: string) => (o += s) });
    assert.equal(r!.error?.problem, 'credentials');
    assert.match(o, /problem {3}the device speaks ONVIF and wants a username and password/);
    assert.match(o, /hint {6}give --username/);
  });

  test('--snapshots saves one JPEG per entry, fetched behind HTTP Digest; a wrong password or a web page is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'discover-snap-'));
    try {
      let o = '';
      const argv = ['--host', wsse.xaddr, '--host', digest.xaddr, '--username', 'inst', '--snapshots', dir];
      const rs = await runDiscover(parseDiscoverArgs(argv, { ONVIF_PASSWORD: PASSWORD }), { write: (x: string) => (o += x) });
      assert.ok(!o.includes(PASSWORD));
      const saved = rs.flatMap((r) => r.snapshots);
      assert.equal(saved.length, 3, o);
      const sizes: [number, number][] = [];
      for (const sn of saved) {
        assert.equal(sn.error, null, sn.error ?? '');
        assert.equal(sn.file, join(dir, `${sn.key}.jpg`));
        assert.match(o, new RegExp(`snapshot  ${sn.key}: .*${sn.key}\\.jpg \\(\\d+ bytes\\)`));
        const jpeg = await readFile(sn.file!);
        assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
        const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
        sizes.push([jpeg.readUInt16BE(sof + 7), jpeg.readUInt16BE(sof + 5)]);
      }
      assert.deepEqual(sizes, [[1920, 1080], [640, 360], [2560, 1440]]);
      const uri = rs[1]!.description!.profiles[0]!.snapshotUri!;
      await assert.rejects(fetchSnapshot({ uri, username: 'inst', password: 'wrong', timeoutMs: 5000 }), (e: unknown) => e instanceof OnvifAuthError);
      await assert.rejects(fetchSnapshot({ uri, timeoutMs: 5000 }), (e: unknown) => e instanceof OnvifAuthError && /none were given/.test(e.detail ?? ''));
      await assert.rejects(fetchSnapshot({ uri: `http://127.0.0.1:${web}/snap.jpg`, timeoutMs: 5000 }), /answered HTTP 404/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the CLI exits 0 when every --host address was described, 1 when one failed', async () => {
    const lines: string[] = [];
    const io = { out: (x: string) => lines.push(x), err: (x: string) => lines.push(x), env: { ONVIF_USERNAME: 'inst', ONVIF_PASSWORD: PASSWORD } };
    assert.equal(await main(['discover', '--host', digest.xaddr], io), 0);
    assert.equal(await main(['discover', '--host', digest.xaddr, '--host', `127.0.0.1:${closed}`], io), 1);
    assert.ok(lines.some((l) => l.includes('onvif_refused')));
    assert.ok(!lines.join('\n').includes(PASSWORD));
  });

  test('--host parsing: host, host:port, [v6]:port, a full URL; junk is a usage error', () => {
    assert.deepEqual(parseDiscoverArgs(['--host', '10.0.0.5', '--host', '10.0.0.6:8080', '--host', '[fe80::1]:81', '--host', 'http://cam.local:8000/onvif/device_service'], {}).hosts, [
      'http://10.0.0.5/onvif/device_service',
      'http://10.0.0.6:8080/onvif/device_service',
      'http://[fe80::1]:81/onvif/device_service',
      'http://cam.local:8000/onvif/device_service',
    ]);
    assert.throws(() => parseDiscoverArgs(['--host', '10.0.0.5:99999'], {}), (e: unknown) => e instanceof DiscoverUsageError && /port must be/.test(e.message));
    assert.throws(() => parseDiscoverArgs(['--host', 'https://10.0.0.5/'], {}), (e: unknown) => e instanceof DiscoverUsageError && /only http/.test(e.message));
    assert.throws(() => parseDiscoverArgs(['--host', 'a b'], {}), (e: unknown) => e instanceof DiscoverUsageError);
  });
});
