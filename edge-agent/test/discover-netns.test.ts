/**
 * `agent discover` end to end over real WS-Discovery multicast and ONVIF HTTP, against three simulated cameras.
 * Runs only inside a network namespace of its own (unshare -n), never on the host network.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { netnsUnavailableReason, runInNetns } from '../../test-support/src/netns.ts';

const FIXTURE = 'edge-agent/test/fixtures/discover-in-netns.ts';
const PASSWORD = 'Demo#Pass:1@x';

type Sim = { xaddr: string; port: number; urn: string; serial: string };

async function run(args: string[], env: Record<string, string>) {
  assert.equal(netnsUnavailableReason(), null, 'this test needs root, unshare (util-linux) and ip (iproute2)');
  const r = await runInNetns(FIXTURE, args, { timeoutMs: 25_000, env: { ...process.env, ...env } });
  assert.equal(r.code, 0, `discover in netns failed (code ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const [first, ...rest] = r.stdout.split('\n');
  assert.match(first ?? '', /^SIMS /);
  const sims = JSON.parse(first!.slice(5)) as Sim[];
  return { sims, out: rest.join('\n'), stderr: r.stderr };
}

const neverLeaks = (text: string) => {
  assert.ok(!text.includes(PASSWORD), 'the password is not printed');
  assert.ok(!text.includes(encodeURIComponent(PASSWORD)), 'nor its percent-encoded form');
};

describe('agent discover (inside a network namespace)', () => {
  test('text: finds every camera, prints maker, model, profiles and stream URIs; auth failure per device', async () => {
    const { sims, out, stderr } = await run(['--timeout', '1500'], { ONVIF_USERNAME: 'installer', ONVIF_PASSWORD: PASSWORD });
    neverLeaks(out + stderr);
    assert.match(out, /^ONVIF discovery: 3 device\(s\) answered within 1500 ms$/m);
    const [acme, other, locked] = sims;
    // One block per camera, each naming its device-service address.
    for (const s of sims) assert.ok(out.includes(`xaddr     ${s.xaddr}`), `block for ${s.xaddr}`);
    const blocks = out.split(/\n(?=\[\d+\] )/);
    const block = (s: Sim) => {
      const hits = blocks.filter((b) => b.includes(s.urn));
      assert.equal(hits.length, 1, `one block for ${s.urn}`);
      return hits[0]!;
    };
    const a = block(acme!);
    assert.match(a, /レジ1/);
    assert.match(a, /maker {5}ACME Security/);
    assert.match(a, /model {5}AC-1080/);
    assert.match(a, /serial {4}ACME-1/);
    assert.match(a, /Profile_1 {2}mainStream {2}H264 1920x1080 25fps {2}rtsp:\/\/127\.0\.0\.1:8554\/reji1\/main/);
    assert.match(a, /Profile_2 {2}subStream {2}H264 640x360 15fps {2}rtsp:\/\/127\.0\.0\.1:8554\/reji1\/sub/);
    assert.match(a, /record {4}Profile_1 \(the largest profile/);
    assert.match(a, new RegExp(`config {4}paste under \`cameras:\`[^\\n]*\\n {6}- key: ac-1080-acme-1-profile-1\\n {8}name: レジ1 mainStream 1920x1080\\n {8}onvif:\\n {10}host: 127\\.0\\.0\\.1\\n {10}port: ${acme!.port}\\n {10}username: installer\\n {10}profileToken: Profile_1\\n`));
    // This one wants HTTP Digest.
    const o = block(other!);
    assert.match(o, /maker {5}Other Vision/);
    assert.match(o, /hd {2}HD {2}H265 1280x720 20fps {2}rtsp:\/\/127\.0\.0\.1:8554\/back\/hd/);
    const l = block(locked!);
    assert.match(l, /error {5}onvif_auth_failed: /);
    assert.match(l, /problem {3}wrong username or password/);
    assert.doesNotMatch(l, /maker/);
    assert.match(out, /: 2 described, 1 failed$/m);
  });

  test('json: one object per camera with masked URIs; without credentials every camera reports an auth error', async () => {
    const withCreds = await run(['--timeout', '1500', '--json', '--username', 'installer'], { ONVIF_PASSWORD: PASSWORD });
    neverLeaks(withCreds.out + withCreds.stderr);
    const rows = withCreds.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { urn: string; xaddr: string; maker: string | null; model: string | null; serial: string | null; profiles: { token: string; width: number; streamUri: string }[]; error: { code: string } | null });
    assert.equal(rows.length, 3);
    const bySerial = new Map(rows.map((r) => [r.serial, r]));
    assert.equal(bySerial.get('ACME-1')?.maker, 'ACME Security');
    assert.deepEqual(bySerial.get('ACME-1')?.profiles.map((p) => [p.token, p.width, p.streamUri]), [
      ['Profile_1', 1920, 'rtsp://127.0.0.1:8554/reji1/main'],
      ['Profile_2', 640, 'rtsp://127.0.0.1:8554/reji1/sub'],
    ]);
    assert.equal(bySerial.get('OV-2')?.model, 'OV-720');
    const failed = rows.filter((r) => r.error);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.error!.code, 'onvif_auth_failed');
    assert.equal(failed[0]!.xaddr, withCreds.sims[2]!.xaddr);

    const noCreds = await run(['--timeout', '1500'], {});
    assert.match(noCreds.out, /3 device\(s\) answered/);
    assert.equal(noCreds.out.match(/error {5}onvif_auth_failed/g)?.length, 3);
    assert.match(noCreds.out, /hint {6}give --username\/--password/);
  });

  test('--host: an address with no route is "unreachable", a closed port is "no ONVIF service"; no probe is sent', async () => {
    // Inside the namespace only lo exists, so 192.0.2.1 (TEST-NET-1) has no route: ENETUNREACH, never the host network.
    const { out } = await run(['--host', '192.0.2.1:80', '--host', '127.0.0.1:1', '--username', 'installer'], { ONVIF_PASSWORD: PASSWORD });
    neverLeaks(out);
    assert.match(out, /^ONVIF check of 2 address\(es\) given with --host$/m);
    const [unreachable, refused] = out.split(/\n(?=\[\d+\] )/).slice(1);
    assert.match(unreachable ?? '', /xaddr {5}http:\/\/192\.0\.2\.1\/onvif\/device_service/);
    assert.match(unreachable ?? '', /error {5}onvif_unreachable: .*ENETUNREACH/);
    assert.match(unreachable ?? '', /problem {3}unreachable: no route to the host/);
    assert.match(refused ?? '', /error {5}onvif_refused: /);
    assert.match(refused ?? '', /problem {3}no ONVIF service at this address/);
    assert.match(out, /: 0 described, 2 failed$/m);
  });
});
