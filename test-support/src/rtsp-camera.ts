/**
 * Fake RTSP cameras for tests, the demo and bench/: an in-process `rtsp-streaming-server` relay (UDP only) fed by
 * `ffmpeg -re -stream_loop -1 -i clip -c copy -f rtsp` publishers. The clip is generated at run time from testsrc2
 * and looped without re-encoding, so a camera costs almost no CPU.
 *
 * - Ports: the relay's two RTSP ports come from the OS (port 0, bound to 127.0.0.1); its RTP/RTCP range is a random
 *   even block above ffmpeg's RTP port range (else below the ephemeral range) that is checked free before use
 *   (`freeUdpBlock`). Nothing is fixed, so parallel test files do not collide.
 * - `kill()` SIGKILLs the publisher and drops its mount, like a camera losing power: pullers stop getting packets and
 *   new DESCRIBEs get 404. `restart()` publishes the same mount again. `freeze()`/`thaw()` SIGSTOP/SIGCONT the
 *   publisher (no packets, no teardown).
 * - Mount names must be fresh per test (the relay answers 503 to a second publisher on a live mount): the default
 *   is a random name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

export type ClipAudio = 'none' | 'aac' | 'pcm_alaw' | 'pcm_mulaw';

export type ClipOptions = {
  dir: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Clip length; a multiple of 8 s keeps audio and video the same length (AAC frames, 15/25 fps), so loops stay clean. */
  seconds?: number;
  /** Keyframe interval in seconds (cameras: 1-2 s). */
  gopSeconds?: number;
  audio?: ClipAudio;
  videoBitrateK?: number;
  /** File name; defaults to one derived from the options. An existing file with that name is reused. */
  name?: string;
};

/** Encodes a looping test clip (H.264 baseline, optional AAC or G.711 audio) into Matroska; returns its path. */
export async function makeTestClip(o: ClipOptions): Promise<string> {
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const fps = o.fps ?? 15;
  const seconds = o.seconds ?? 8;
  const gop = Math.max(1, Math.round((o.gopSeconds ?? 1) * fps));
  const audio = o.audio ?? 'none';
  const kbps = o.videoBitrateK ?? Math.max(300, Math.round((width * height * fps) / 6000));
  mkdirSync(o.dir, { recursive: true });
  const path = join(o.dir, o.name ?? `clip-${width}x${height}-${fps}fps-${seconds}s-${audio}.mkv`);
  if (existsSync(path)) return path;
  const audioArgs: Record<ClipAudio, string[]> = {
    none: [],
    aac: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000', '-c:a', 'aac', '-b:a', '32k', '-ac', '1'],
    pcm_alaw: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-c:a', 'pcm_alaw', '-ac', '1'],
    pcm_mulaw: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-c:a', 'pcm_mulaw', '-ac', '1'],
  };
  const tmp = `${path}.${process.pid}.tmp.mkv`;
  await run('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
    ...audioArgs[audio],
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-bf', '0',
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
    tmp,
  ]);
  const { rename } = await import('node:fs/promises');
  await rename(tmp, path);
  return path;
}

/** A 1080p25 H.264 clip (about 4 Mb/s, GOP 2 s, no audio) for bench/: encode once, loop it for many cameras. */
export function makeBenchClip(dir: string, o: Partial<ClipOptions> = {}): Promise<string> {
  return makeTestClip({ dir, width: 1920, height: 1080, fps: 25, seconds: 16, gopSeconds: 2, audio: 'none', videoBitrateK: 4000, ...o });
}

type RtspServerLib = typeof import('rtsp-streaming-server');
type MountsT = InstanceType<RtspServerLib['Mounts']>;

export type RtspRelay = {
  /** Where publishers ANNOUNCE/RECORD. */
  readonly publishPort: number;
  /** Where cameras are pulled from (DESCRIBE/SETUP/PLAY, UDP transport only). */
  readonly clientPort: number;
  pullUrl(mount: string): string;
  publishUrl(mount: string): string;
  /** True when a publisher is live on the mount and its RTP listeners are bound. */
  mountReady(mount: string): boolean;
  /** Removes a mount and disconnects its viewers (as if the camera vanished). */
  dropMount(mount: string): void;
  close(): Promise<void>;
};

async function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, () => s.close(() => resolve(true)));
  });
}

/**
 * A random even block of `count` UDP ports that is free right now. First above 65000: ffmpeg's RTSP clients take
 * their RTP ports from [5000, 65000) (`min_port`/`max_port`) and the kernel's ephemeral range ends at 60999, so no
 * ffmpeg started later can take a port there before the relay binds it (a 16-camera bench once lost a camera to
 * `bind EADDRINUSE` that way). When that range is busy (several relays at once), a block in [20000, 32000).
 */
async function freeUdpBlock(count: number): Promise<number> {
  const ranges: Array<[number, number]> = [
    [65002, 65534],
    [20000, 32000],
  ];
  for (const [lo, hi] of ranges) {
    if (hi - lo < count) continue;
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = lo + 2 * Math.floor(Math.random() * ((hi - lo - count) / 2 + 1));
      let ok = true;
      for (let p = base; p < base + count && ok; p++) ok = await udpPortFree(p);
      if (ok) return base;
    }
  }
  throw new Error('no free UDP port block for the RTSP relay');
}

/**
 * Starts the relay on OS-assigned ports (127.0.0.1). `rtpPortCount`: 8 ports per camera and viewer is plenty.
 * `rtpPortStart` (tests of the relay itself): the block's first port instead of a random free block.
 */
export async function startRtspRelay(opts: { rtpPortCount?: number; rtpPortStart?: number } = {}): Promise<RtspRelay> {
  const lib = require('rtsp-streaming-server') as RtspServerLib;
  patchViewerPortRetry();
  const count = opts.rtpPortCount ?? 64;
  const base = opts.rtpPortStart ?? (await freeUdpBlock(count));
  const server = new lib.RtspServer({ serverPort: 0, clientPort: 0, rtpPortStart: base, rtpPortCount: count });
  patchPortPool(server.Mounts, base, count);
  const sockets = new Set<Socket>();
  const listen = (srv: Server) =>
    new Promise<number>((resolve, reject) => {
      srv.on('connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  const publishPort = await listen(server.PublishServer.server as unknown as Server);
  const clientPort = await listen(server.ClientServer.server as unknown as Server);
  const mountKey = (mount: string) => `/${mount.replace(/^\/+/, '')}`;
  const mounts = server.Mounts;
  return {
    publishPort,
    clientPort,
    pullUrl: (m) => `rtsp://127.0.0.1:${clientPort}${mountKey(m)}`,
    publishUrl: (m) => `rtsp://127.0.0.1:${publishPort}${mountKey(m)}`,
    mountReady(m) {
      const mount = mounts.mounts[mountKey(m)];
      if (!mount) return false;
      const streams = Object.values(mount.streams) as Array<{ listenerRtp?: { server: { address(): unknown } } }>;
      if (streams.length === 0) return false;
      return streams.every((s) => {
        try {
          return Boolean(s.listenerRtp?.server.address());
        } catch {
          return false;
        }
      });
    },
    dropMount(m) {
      const uri = `rtsp://127.0.0.1:${publishPort}${mountKey(m)}`;
      if (mounts.getMount(uri)) mounts.deleteMount(uri);
    },
    async close() {
      for (const path of Object.keys(mounts.mounts)) mounts.deleteMount(`rtsp://127.0.0.1:${publishPort}${path}`);
      // Viewer sessions keep a 60 s keepalive timer that would hold the process open.
      for (const w of Object.values(server.ClientServer.clients)) if (w.keepaliveTimeout) clearTimeout(w.keepaliveTimeout);
      for (const s of sockets) s.destroy();
      await Promise.all(
        [server.PublishServer.server, server.ClientServer.server].map(
          (srv) => new Promise<void>((resolve) => (srv as unknown as Server).close(() => resolve())),
        ),
      );
    },
  };
}

/**
 * The library's port pool hands a port out twice when a viewer is closed twice (mount drop, then TEARDOWN), and
 * its EADDRINUSE retry never triggers on Node 20 (it compares errno with a string). Replace it with a set that
 * ignores duplicates and keeps ports inside our checked block.
 */
function patchPortPool(mounts: MountsT, base: number, count: number): void {
  const free = new Set<number>();
  for (let p = base; p + 1 < base + count; p += 2) free.add(p);
  mounts.getNextRtpPort = () => {
    const next = free.values().next();
    if (next.done) return undefined;
    free.delete(next.value);
    return next.value;
  };
  mounts.returnRtpPortToPool = (port: number) => {
    if (port >= base && port + 1 < base + count && port % 2 === base % 2) free.add(port);
  };
  mounts.deleteMount = (uri: string) => {
    const mount = mounts.getMount(uri);
    if (!mount) return false;
    for (const p of mount.close()) mounts.returnRtpPortToPool(p);
    delete mounts.mounts[mount.path];
    return true;
  };
}

type ViewerClient = { rtpServer: UdpSocket; rtcpServer: UdpSocket; setupServerPorts(): void; listen(): Promise<void> };
let viewerRetryPatched = false;

/**
 * A viewer's SETUP binds two UDP ports from the relay's block. The block was free when the relay started, but another
 * relay (a test file running beside this one) or anything else can take a port of it later, and the library's own
 * retry on EADDRINUSE never runs on Node 20 (it compares errno with a string) and would re-bind closed sockets: the
 * viewer got a 500 (seen in `e2e/agent-down`: a restarted recorder refused for two seconds). Here a port pair that is
 * taken is left out of the pool and the next pair is tried with fresh sockets, up to the block's size.
 */
function patchViewerPortRetry(): void {
  if (viewerRetryPatched) return;
  viewerRetryPatched = true;
  const proto = (require('rtsp-streaming-server/build/lib/Client.js') as { Client: { prototype: ViewerClient } }).Client.prototype;
  const listen = proto.listen;
  proto.listen = async function (this: ViewerClient) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await listen.call(this);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 512) throw e;
        for (const sock of [this.rtpServer, this.rtcpServer]) {
          try {
            sock.close();
          } catch {
            // never bound
          }
        }
        this.setupServerPorts();
        this.rtpServer = createSocket('udp4');
        this.rtcpServer = createSocket('udp4');
      }
    }
  };
}

export type FakeCamera = {
  /** What a recorder pulls (UDP). */
  readonly url: string;
  readonly mount: string;
  readonly running: boolean;
  /** SIGKILL the publisher and drop the mount: the camera is gone. */
  kill(): Promise<void>;
  /** Publish again on the same mount (after kill()). */
  restart(): Promise<void>;
  /** Stop sending packets without tearing down (SIGSTOP), and resume (SIGCONT). */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
};

/** Starts a publisher looping `clip` onto `relay`; resolves once the mount is live. */
export async function startFakeCamera(relay: RtspRelay, o: { clip: string; mount?: string; readyTimeoutMs?: number }): Promise<FakeCamera> {
  const mount = o.mount ?? `cam-${randomBytes(5).toString('hex')}`;
  let proc: ChildProcess | null = null;
  let stderr = '';

  const publish = async () => {
    stderr = '';
    const p = spawn(
      'ffmpeg',
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', o.clip, '-map', '0', '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'udp', relay.publishUrl(mount)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    p.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    proc = p;
    const deadline = Date.now() + (o.readyTimeoutMs ?? 10_000);
    while (!relay.mountReady(mount)) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`fake camera publisher exited: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`fake camera ${mount} not ready: ${stderr.trim()}`);
      }
      await sleep(50);
    }
  };

  const stopProc = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGCONT');
    p.kill(signal);
    await exited;
  };

  await publish();
  return {
    url: relay.pullUrl(mount),
    mount,
    get running() {
      return proc !== null;
    },
    async kill() {
      await stopProc('SIGKILL');
      relay.dropMount(mount);
    },
    async restart() {
      await stopProc('SIGKILL');
      relay.dropMount(mount);
      await publish();
    },
    freeze() {
      proc?.kill('SIGSTOP');
    },
    thaw() {
      proc?.kill('SIGCONT');
    },
    async close() {
      await stopProc('SIGTERM');
      relay.dropMount(mount);
    },
  };
}

export type FakeCameraFleet = { relay: RtspRelay; cameras: FakeCamera[]; close(): Promise<void> };

/**
 * N cameras from one pre-encoded clip on one relay (for bench/: e.g. `makeBenchClip` + 8 cameras). Each camera is a
 * `-c copy` publisher, so the fleet's own CPU stays small next to what is being measured.
 */
export async function startFakeCameraFleet(o: { count: number; clip: string }): Promise<FakeCameraFleet> {
  const relay = await startRtspRelay({ rtpPortCount: Math.max(64, 24 * o.count) });
  const cameras: FakeCamera[] = [];
  try {
    for (let i = 0; i < o.count; i++) cameras.push(await startFakeCamera(relay, { clip: o.clip, mount: `fleet-${randomBytes(3).toString('hex')}-${i + 1}` }));
  } catch (e) {
    await Promise.all(cameras.map((c) => c.close()));
    await relay.close();
    throw e;
  }
  return {
    relay,
    cameras,
    async close() {
      await Promise.all(cameras.map((c) => c.close()));
      await relay.close();
    },
  };
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.trim().slice(-500)}`))));
  });
}

// CLI for the demo: `node --import tsx test-support/src/rtsp-camera.ts [count] [audio] [dir]` prints the camera URLs.
if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 2);
  const audio = (process.argv[3] ?? 'aac') as ClipAudio;
  const dir = process.argv[4] ?? '.data/fake-cameras';
  const clip = await makeTestClip({ dir, audio });
  const fleet = await startFakeCameraFleet({ count, clip });
  console.log(JSON.stringify({ msg: 'fake cameras', clip, urls: fleet.cameras.map((c) => c.url) }));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void fleet.close().then(() => process.exit(0)));
}
