/**
 * A simulated store for the demo: fake ONVIF cameras (simulated devices whose RTSP streams loop a test clip
 * through an RTSP relay), a fake Asterisk PBX writing calls every few minutes, and a REAL edge agent that
 * discovers nothing by multicast (the host network is off limits) but is configured with the cameras' ONVIF
 * addresses, records them, and uploads to the centre.
 *
 *   node --import tsx scripts/demo-site.ts --server URL --dir DIR (--token T | already enrolled) [--cameras 2]
 *      [--segment-seconds 10] [--call-every 2]
 * Runs until SIGTERM/SIGINT. Prints JSON lines of what it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { demoPbxConfig, FakePbx } from '../test-support/src/fake-pbx.ts';
import { startOnvifSim, type OnvifSimHandle } from '../test-support/src/onvif-sim.ts';
import { makeTestClip, startFakeCamera, startRtspRelay, type FakeCamera } from '../test-support/src/rtsp-camera.ts';
import { AGENT_NODE_FLAGS } from '../edge-agent/src/lib/node-flags.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    dir: { type: 'string' },
    token: { type: 'string' },
    cameras: { type: 'string', default: '2' },
    'segment-seconds': { type: 'string', default: '10' },
    'call-every': { type: 'string', default: '2' },
  },
});
if (!values.server || !values.dir) {
  console.error('usage: demo-site.ts --server URL --dir DIR [--token T] [--cameras N] [--segment-seconds S] [--call-every MINUTES]');
  process.exit(2);
}
const dir = path.resolve(values.dir);
const say = (o: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), ...o }));
mkdirSync(dir, { recursive: true });

// Camera passwords stay on this machine: generated once, kept in the demo folder.
const secretFile = path.join(dir, 'camera-password');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(12).toString('base64url'), { mode: 0o600 });
const cameraPassword = readFileSync(secretFile, 'utf8').trim();

const places = ['入口', 'レジ1', 'レジ2', 'サービスカウンター', '倉庫', '駐車場'];
const clip = await makeTestClip({ dir: path.join(dir, 'clips'), width: 1280, height: 720, fps: 15, seconds: 16, gopSeconds: 1, audio: 'aac', videoBitrateK: 1500 });
const relay = await startRtspRelay();
const cameras: FakeCamera[] = [];
const sims: OnvifSimHandle[] = [];
const count = Number(values.cameras);
for (let n = 1; n <= count; n++) {
  const cam = await startFakeCamera(relay, { clip, mount: `demo-cam${n}-${Date.now().toString(36)}` });
  cameras.push(cam);
  const sim = await startOnvifSim({
    maker: 'MamoruSim',
    model: 'DemoCam-720',
    name: `demo-cam${n}`,
    location: places[(n - 1) % places.length],
    credentials: { username: 'admin', password: cameraPassword },
    rtspUris: { main: cam.url, sub: cam.url },
  });
  sims.push(sim);
  say({ msg: 'camera', n, onvif: sim.xaddr, place: places[(n - 1) % places.length] });
}

const pbxDir = path.join(dir, 'pbx');
// Calls of every kind in turn, so the call search shows answered, transferred and unanswered calls within the
// first few minutes: answered by an operator; answered, then blind-transferred to the next extension; unanswered.
const pbx = new FakePbx({ dir: pbxDir, zone: 'Asia/Tokyo', audio: 'speech', pattern: ['answered', 'transferred', 'unanswered'] });
const pbxRun = pbx.runEvery(Number(values['call-every']), Infinity, (c) => say({ msg: 'pbx call', kind: c.kind, caller: c.caller, operator: c.operator, transferredTo: c.transfer?.to ?? null }));
say({ msg: 'pbx', dir: pbxDir });

const agentConfig = {
  server: { url: values.server },
  stateDir: path.join(dir, 'agent-state'),
  spoolDir: path.join(dir, 'agent-spool'),
  heartbeatSeconds: 10,
  recording: { segmentSeconds: Number(values['segment-seconds']) },
  cameras: sims.map((s, i) => ({
    key: `cam${i + 1}`,
    name: `カメラ${i + 1}`,
    place: places[i % places.length],
    uploadMode: 'continuous',
    transport: 'udp',
    onvif: { host: s.host, port: s.port, username: 'admin', password: cameraPassword },
  })),
  // Recordings, CDR rows and the CEL (transfers, pickups, who was rung) through the real asterisk-files adapter.
  pbx: demoPbxConfig(pbx),
};
const configPath = path.join(dir, 'agent.json');
writeFileSync(configPath, JSON.stringify(agentConfig, null, 2), { mode: 0o600 });

const agentMain = path.resolve(import.meta.dirname, '../edge-agent/src/main.ts');
const runAgent = (args: string[]) => spawn(process.execPath, [...AGENT_NODE_FLAGS, '--import', 'tsx', agentMain, ...args, '--config', configPath], { stdio: 'inherit' });

if (!existsSync(path.join(agentConfig.stateDir, 'credential.json'))) {
  if (!values.token) {
    console.error('the agent is not enrolled: pass --token');
    process.exit(2);
  }
  const code = await new Promise<number | null>((r) => runAgent(['enroll', '--server', values.server!, '--token', values.token!]).once('exit', r));
  if (code !== 0) {
    console.error(`enrollment failed (exit ${code})`);
    process.exit(1);
  }
}

let agent: ChildProcess | undefined;
let stopping = false;
const startAgent = () => {
  agent = runAgent(['run']);
  agent.once('exit', (code) => {
    if (stopping) return;
    say({ msg: 'agent exited; restarting in 5 s', code });
    setTimeout(startAgent, 5000);
  });
};
startAgent();
say({ msg: 'demo site running', config: configPath });

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    agent?.kill('SIGTERM');
    await new Promise((r) => (agent && agent.exitCode === null ? agent.once('exit', r) : r(null)));
    await pbxRun.stop();
    await Promise.allSettled([...sims.map((s) => s.close()), ...cameras.map((c) => c.close())]);
    await relay.close();
    process.exit(0);
  });
}
