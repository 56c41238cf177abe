/**
 * Keeps the simulated camera honest: the maintained `onvif` npm package (agsh/onvif, a devDependency used only here)
 * connects to it with WS-UsernameToken and with HTTP Digest, lists the profiles, asks for the stream and snapshot URIs,
 * fetches the snapshot JPEG with its own Digest code, and fails with a wrong password, as against a real camera.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cam } from 'onvif';
import { startOnvifSim, type OnvifSimHandle, type OnvifSimOptions } from '../src/onvif-sim.ts';

const USER = 'viewer';
const PASS = 'Sim:pass@1';
const RTSP = { main: 'rtsp://127.0.0.1:8554/client/main', sub: 'rtsp://127.0.0.1:8554/client/sub' };

type CamLike = InstanceType<typeof Cam>;
type Profile = { $: { token: string }; name: string; videoEncoderConfiguration?: { resolution?: { width: number; height: number } } };

/** Calls one callback-style Cam method as a promise. */
function call<T>(cam: CamLike, fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn.call(cam, (err, value) => (err ? reject(err) : value === undefined ? reject(new Error('no value')) : resolve(value))));
}

function connect(sim: OnvifSimHandle, o: { password?: string; useWSSecurity?: boolean }): Promise<CamLike> {
  return new Promise((resolve, reject) => {
    const cam: CamLike = new Cam(
      { hostname: '127.0.0.1', port: sim.port, username: USER, password: o.password ?? PASS, timeout: 5000, useWSSecurity: o.useWSSecurity },
      (err: Error | null) => (err ? reject(err) : resolve(cam)),
    );
  });
}

async function withSim(opts: OnvifSimOptions, fn: (sim: OnvifSimHandle) => Promise<void>) {
  const sim = await startOnvifSim({ credentials: { username: USER, password: PASS }, maker: 'ClientCheck', model: 'CC-1', rtspUris: RTSP, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

/** The whole session an NVR would run: connect, device information, profiles, stream and snapshot URIs. */
async function fullSession(sim: OnvifSimHandle, useWSSecurity?: boolean) {
  const cam = await connect(sim, { useWSSecurity });
  const info = await call<{ manufacturer?: string; model?: string }>(cam, (cb) => cam.getDeviceInformation(cb));
  assert.equal(info.manufacturer, 'ClientCheck');
  assert.equal(info.model, 'CC-1');
  const profiles = await call<Profile[]>(cam, (cb) => cam.getProfiles(cb));
  assert.deepEqual(
    profiles.map((p) => [p.$.token, p.name, p.videoEncoderConfiguration?.resolution?.width]),
    [
      ['Profile_1', 'mainStream', 1920],
      ['Profile_2', 'subStream', 640],
    ],
  );
  const main = await call<{ uri: string }>(cam, (cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_1' }, cb));
  assert.equal(main.uri, RTSP.main);
  const sub = await call<{ uri: string }>(cam, (cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_2' }, cb));
  assert.equal(sub.uri, RTSP.sub);
  const snap = await call<{ uri: string }>(cam, (cb) => cam.getSnapshotUri({ profileToken: 'Profile_2' }, cb));
  assert.equal(snap.uri, `http://127.0.0.1:${sim.port}/onvif/snapshot?profile=Profile_2`);
  // The JPEG behind it, answering the challenge with the client's own Digest code.
  const url = new URL(snap.uri);
  const challenge = await fetch(url);
  assert.equal(challenge.status, 401);
  const www = challenge.headers.get('www-authenticate') ?? '';
  const jpeg = await fetch(url, { headers: { authorization: cam.digestAuth(www.split(/,\s*(?=Digest\s)/), { method: 'GET', path: `${url.pathname}${url.search}` }) } });
  assert.equal(jpeg.status, 200);
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
  const bytes = Buffer.from(await jpeg.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);
}

/** A wrong password must make the authenticated calls fail (connect itself only uses PRE_AUTH calls). */
async function wrongPassword(sim: OnvifSimHandle, expected: RegExp, useWSSecurity?: boolean) {
  const before = sim.requests.length;
  let cam: CamLike;
  try {
    cam = await connect(sim, { password: 'not-the-password', useWSSecurity });
  } catch (e) {
    assert.match(String(e), expected);
    return;
  }
  await assert.rejects(call(cam, (cb) => cam.getDeviceInformation(cb)), expected);
  await assert.rejects(call(cam, (cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: 'Profile_1' }, cb)), expected);
  const refused = sim.requests.slice(before).filter((r) => r.status === 400 || r.status === 401);
  assert.ok(refused.length >= 2, JSON.stringify(sim.requests.slice(before)));
  assert.ok(!sim.requests.slice(before).some((r) => r.auth === 'ok'), 'nothing was authenticated with the wrong password');
}

describe('the onvif npm package against the simulated camera', () => {
  test('WS-UsernameToken camera: connect, device information, profiles, stream and snapshot URIs', async () => {
    await withSim({ auth: 'ws-security' }, async (sim) => {
      await fullSession(sim);
      const authed = sim.requests.filter((r) => r.auth === 'ok' && r.method === 'POST');
      assert.ok(authed.length >= 4 && authed.every((r) => r.wsse === 'ok' && r.digest === null));
    });
  });

  test('WS-UsernameToken camera: a wrong password fails with NotAuthorized', async () => {
    await withSim({ auth: 'ws-security' }, (sim) => wrongPassword(sim, /not ?authori[sz]ed/i));
  });

  test('HTTP Digest camera (client sends Digest only): the full session works', async () => {
    await withSim({ auth: 'digest' }, async (sim) => {
      await fullSession(sim, false);
      assert.ok(sim.requests.some((r) => r.status === 401), 'the client was challenged');
      const authed = sim.requests.filter((r) => r.auth === 'ok' && r.method === 'POST');
      assert.ok(authed.length >= 4 && authed.every((r) => r.digest === 'ok'));
    });
  });

  test('HTTP Digest camera, client in its default mode (UsernameToken too, then Digest on the 401): works', async () => {
    await withSim({ auth: 'digest', digestAlgorithms: ['SHA-256', 'MD5'] }, (sim) => fullSession(sim));
  });

  test('HTTP Digest camera: a wrong password fails', async () => {
    await withSim({ auth: 'digest' }, (sim) => wrongPassword(sim, /Digest authentication failed 401/, false));
  });

  test('a camera that accepts either: the client is served with its UsernameToken', async () => {
    await withSim({ auth: 'either' }, (sim) => fullSession(sim));
  });

  test('a camera that wants both: the default client (UsernameToken + Digest) is served; a wrong password fails', async () => {
    await withSim({ auth: 'both' }, async (sim) => {
      await fullSession(sim);
      assert.ok(sim.requests.filter((r) => r.auth === 'ok' && r.method === 'POST').every((r) => r.digest === 'ok' && r.wsse === 'ok'));
      await wrongPassword(sim, /Digest authentication failed 401/);
    });
  });
});
