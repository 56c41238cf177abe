/**
 * `agent discover` without multicast: argument parsing, and the report for devices handed over by a stub probe but
 * described for real over HTTP against simulated cameras on 127.0.0.1. The multicast path is in discover-netns.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOnvifSim, type OnvifSimHandle } from '../../test-support/src/onvif-sim.ts';
import { DiscoverUsageError, parseDiscoverArgs, runDiscover } from '../src/cli/discover.ts';
import { createNodeOnvifGateway, type DiscoveredDevice, type OnvifGateway } from '../src/onvif/index.ts';

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
