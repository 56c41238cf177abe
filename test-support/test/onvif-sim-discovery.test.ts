/**
 * The simulator's WS-Discovery responder, end to end over real multicast. Runs only inside a network namespace of its
 * own (unshare -n), never on the host network.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { netnsUnavailableReason, runInNetns } from '../src/netns.ts';

test('WS-Discovery: the simulator answers matching probes with ProbeMatches (inside a network namespace)', async () => {
  assert.equal(netnsUnavailableReason(), null, 'this test needs root, unshare (util-linux) and ip (iproute2)');
  const r = await runInNetns('test-support/test/fixtures/ws-discovery-probe.ts', [], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, `fixture failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    cams: { xaddr: string; urn: string; discoveryPort: number }[];
    ids: Record<string, string>;
    byCase: Record<string, { from: string; xml: string }[]>;
  };
  assert.equal(out.cams.length, 2);
  assert.ok(out.cams.every((c) => c.discoveryPort === 3702));

  // A probe for NetworkVideoTransmitter gets one ProbeMatches from each camera, unicast, relating to the probe.
  const tx = out.byCase.transmitter!;
  assert.equal(tx.length, 2);
  for (const cam of out.cams) {
    const reply = tx.find((x) => x.xml.includes(`<wsa:Address>${cam.urn}</wsa:Address>`));
    assert.ok(reply, `a reply from ${cam.urn}`);
    assert.equal(reply.from, '127.0.0.1');
    assert.match(reply.xml, /<wsa:Action[^>]*>http:\/\/schemas\.xmlsoap\.org\/ws\/2005\/04\/discovery\/ProbeMatches<\/wsa:Action>/);
    assert.ok(reply.xml.includes(`<wsa:RelatesTo>${out.ids.transmitter}</wsa:RelatesTo>`));
    assert.ok(reply.xml.includes(`<wsd:XAddrs>${cam.xaddr}</wsd:XAddrs>`));
    assert.match(reply.xml, /<wsd:Types>dn:NetworkVideoTransmitter tds:Device<\/wsd:Types>/);
  }
  const first = tx.find((x) => x.xml.includes(out.cams[0]!.urn))!.xml;
  assert.ok(first.includes(`onvif://www.onvif.org/name/${encodeURIComponent('レジ1 カメラ')}`), 'name scope, percent-encoded');
  assert.ok(first.includes('onvif://www.onvif.org/hardware/MS-1080'));

  assert.equal(out.byCase.noTypes!.length, 2, 'a probe without Types matches every device');
  assert.equal(out.byCase.display!.length, 0, 'a camera is not a NetworkVideoDisplay');
  assert.equal(out.byCase.scopeOsaka!.length, 1, 'a scope filter selects only the matching camera');
  assert.ok(out.byCase.scopeOsaka![0]!.xml.includes(out.cams[1]!.urn));
  assert.equal(out.byCase.scopeNowhere!.length, 0);
});
