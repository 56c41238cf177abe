/**
 * The running agent (`agent run`): opens the outbox and the command records, recovers what a killed agent left in
 * the spool, starts the uploader, heartbeat (whose answers carry the centre's commands), disk guard, on-demand
 * rolling buffer, one recorder per camera and the PBX adapter, and stops them in a safe order. Everything from
 * outside the agent's own logic (recorders, ffprobe, the jitter source, the log) comes in through AgentDeps.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recorder, RecorderFactory } from './cli/recorders.ts';
import { AGENT_VERSION } from './cli/version.ts';
import { CommandExecutor, httpAckSender } from './commands/executor.ts';
import type { AgentConfig } from './config.ts';
import { describeCamera } from './config.ts';
import { DiskGuard } from './disk-guard/disk-guard.ts';
import { RollingBuffer } from './disk-guard/rolling-buffer.ts';
import { ClockOffsetEstimator } from './heartbeat/clock-offset.ts';
import { Heartbeat } from './heartbeat/heartbeat.ts';
import type { Logger } from './lib/logger.ts';
import { createFfmpegMediaTool } from './media/ffmpeg-media-tool.ts';
import type { MediaTool } from './media/media-tool.ts';
import { Outbox } from './outbox/outbox.ts';
import { createPbxAdapter, type PbxAdapter } from './pbx/index.ts';
import { AmiClient } from './pbx/ami.ts';
import { LiveCallTracker, LivePublisher } from './pbx/live-calls.ts';
import { createRecorderFactory } from './recorder/index.ts';
import { recoverCameraSpool } from './recorder/spool-recovery.ts';
import { LifeMarkWriter, planDowntime, readLifeMark } from './recorder/downtime.ts';
import { loadCredential } from './state/credential-store.ts';
import { CameraRegistrar } from './uploader/cameras.ts';
import { connectProbe, createCentreClient } from './uploader/centre-client.ts';
import { TokenBucket } from './uploader/token-bucket.ts';
import { Uploader, type UploadEvent } from './uploader/uploader.ts';

/** How often the agent rewrites its life mark (the last time it was seen running, for the next start's downtime). */
const LIFE_MARK_MS = 5000;

export class NotEnrolledError extends Error {
  constructor(stateDir: string) {
    super(`this agent is not enrolled (no credential in ${stateDir}); run: agent enroll --server URL --token TOKEN`);
    this.name = 'NotEnrolledError';
  }
}

export type RunningAgent = {
  outbox: Outbox;
  uploader: Uploader;
  /** The live lane: new footage alongside a draining backlog. */
  liveUploader: Uploader;
  heartbeat: Heartbeat;
  diskGuard: DiskGuard;
  /** On-demand cameras: the age bound of the local rolling buffer. */
  rollingBuffer: RollingBuffer;
  /** The centre's commands (heartbeat answers): case windows held and sent first, acks retried until accepted. */
  commands: CommandExecutor;
  bucket: TokenBucket;
  recorders: Map<string, Recorder>;
  pbx: PbxAdapter | null;
  /** Live calls over AMI beside the files (pbx.ami), null when not configured. */
  ami: { client: AmiClient; tracker: LiveCallTracker; publisher: LivePublisher } | null;
  /** Clean shutdown: producers first (recorders hand over their last segments, the PBX adapter its sealed calls),
   * then the uploader (finishing or abandoning the in-flight upload), heartbeat, disk guard, outbox. */
  stop(): Promise<void>;
};

/** What the agent takes from outside: agentDeps() gives the real ones, a test replaces what it needs. */
export type AgentDeps = {
  log: Logger;
  /** Builds one recorder per configured camera. */
  recorders: RecorderFactory;
  /** ffprobe for the start-up spool recovery. */
  media: Pick<MediaTool, 'probe'>;
  /** The jitter source of the uploader's and the command acks' backoff. */
  random: () => number;
  /** Told of every upload outcome (acked, retried, quarantined, camera re-registered). */
  onUploadEvent?: (e: UploadEvent) => void;
};

/** The real dependencies: ffmpeg recorders and ffprobe from `recording.ffmpegPath`/`ffprobePath`, Math.random. */
export function agentDeps(config: AgentConfig, log: Logger): AgentDeps {
  return {
    log,
    recorders: createRecorderFactory(),
    media: createFfmpegMediaTool({ ffmpegPath: config.recording.ffmpegPath, ffprobePath: config.recording.ffprobePath }),
    random: Math.random,
  };
}

export async function runAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const log = deps.log;
  const cred = await loadCredential(config.stateDir);
  if (!cred) throw new NotEnrolledError(config.stateDir);
  log.addSecrets(cred.credential);
  if (cred.serverUrl.replace(/\/+$/, '') !== config.server.url) {
    log.warn('server.url differs from the centre this agent enrolled with', { enrolledWith: cred.serverUrl, configured: config.server.url });
  }
  await mkdir(config.spoolDir, { recursive: true, mode: 0o700 });
  const outbox = await Outbox.open({ spoolDir: config.spoolDir, log, cameraModes: Object.fromEntries(config.cameras.map((c) => [c.key, c.uploadMode])) });
  const client = createCentreClient({ baseUrl: config.server.url, credential: cred.credential, idleTimeoutMs: config.upload.idleTimeoutMs, userAgent: `mamoru-agent/${AGENT_VERSION}` });
  // Before any recorder starts: windows a case asked for that are still open must hold the segments that close next.
  const ackCtl = new AbortController();
  const commands = await CommandExecutor.open({
    dir: join(config.spoolDir, 'commands'),
    outbox,
    isKnownCamera: (key) => config.cameras.some((c) => c.key === key),
    ack: httpAckSender(client, ackCtl.signal),
    log,
    closingSlackMs: config.recording.segmentSeconds * 1000 + 30_000,
    tickMs: config.commands.tickSeconds * 1000,
    backoff: config.upload.backoff,
    maxRetryAfterMs: config.upload.maxRetryAfterSeconds * 1000,
    random: deps.random,
    onReachable: () => uploaderRef?.wake('a command ack was answered'),
  });
  let uploaderRef: Uploader | undefined;

  const clock = new ClockOffsetEstimator();
  const recorders = new Map<string, Recorder>();
  // Before any recorder starts: segment files a killed agent left without an outbox record (the one ffmpeg finished
  // after the agent died, one whose record was not yet written) are hashed and handed to the outbox now.
  for (const cam of config.cameras) {
    const dir = join(config.spoolDir, 'cameras', cam.key);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await recoverCameraSpool({ outbox, media: deps.media, clockOffset: clock, log }, cam.key, dir);
    } catch (e) {
      log.error('spool recovery failed; the files stay in the spool for the next start', { camera: cam.key, error: e as Error });
    }
  }
  // The agent's own downtime (recorder/downtime.ts): from where each camera's record ends (now that recovery has
  // enqueued what the dead agent left) to its first new segment, an `agent_down` gap.
  const mark = await readLifeMark(config.spoolDir);
  const restartedAt = Date.now();
  for (const cam of config.cameras) {
    const dir = join(config.spoolDir, 'cameras', cam.key);
    const plan = planDowntime({ cameraKey: cam.key, coveredUntil: outbox.coveredUntil(cam.key), mark, restartedAt });
    if (plan.before) await outbox.gap(plan.before);
    if (plan.resume) log.info('the agent was down: reported as a gap with the first new segment', { camera: cam.key, since: new Date(plan.resume.sinceMs).toISOString(), restartedAt: new Date(restartedAt).toISOString(), offlineBefore: plan.before !== null });
    recorders.set(cam.key, deps.recorders(cam, outbox, clock, { dir, recording: config.recording, log, ...(plan.resume && { resume: plan.resume }) }));
  }
  const healthOf = (key: string) => recorders.get(key)?.health?.() ?? 'unknown';
  const lifeMark = new LifeMarkWriter({ spoolDir: config.spoolDir, intervalMs: LIFE_MARK_MS, cameraHealth: () => Object.fromEntries(config.cameras.map((c) => [c.key, healthOf(c.key)])), log });

  const registrar = new CameraRegistrar(client, config.cameras, log, healthOf);
  const bucket = new TokenBucket(config.upload.bandwidthBytesPerSecond);
  // What both lanes share: the outbox, the centre, the cameras, one bandwidth cap, the retry policy.
  const lane = {
    outbox,
    client,
    cameras: registrar,
    bucket,
    backoff: config.upload.backoff,
    maxRetryAfterMs: config.upload.maxRetryAfterSeconds * 1000,
    log,
    ...(deps.onUploadEvent && { onEvent: deps.onUploadEvent }),
    random: deps.random,
  };
  const uploader = new Uploader(lane);
  uploaderRef = uploader;
  // The live lane: while an old backlog drains (oldest first), new footage goes alongside it, sharing the bandwidth
  // cap, so it reaches the centre within seconds of closing. It waits while case windows or calls are pending (they
  // keep the lead) and while the main lane is failing (the centre is not answering).
  const liveWindowMs = Math.max(30_000, 3 * config.recording.segmentSeconds * 1000);
  const liveUploader = new Uploader({
    ...lane,
    lane: 'live',
    pick: () => (uploader.failing ? undefined : outbox.peekLive(Date.now() - liveWindowMs)),
  });
  const heartbeat = new Heartbeat({
    client,
    intervalMs: config.heartbeatSeconds * 1000,
    version: AGENT_VERSION,
    spoolDir: config.spoolDir,
    backlog: () => outbox.stats(),
    cameraHealth: () => config.cameras.map((c) => ({ key: c.key, health: healthOf(c.key) })),
    clock,
    log,
    // Any answer of the centre ends the uploader's backoff (and the command acks'): uploads resume at once.
    onReachable: () => {
      uploader.wake('a heartbeat was answered');
      liveUploader.wake('a heartbeat was answered');
      commands.wake();
    },
    probeMs: config.upload.probeMs,
    probe: (signal) => connectProbe(config.server.url, { timeoutMs: Math.max(1000, config.upload.probeMs), signal }),
    random: deps.random,
    onCommands: (cmds) => void commands.accept(cmds).catch((e: unknown) => log.error('could not execute the centre\'s commands; they come again with the next heartbeat', { error: e as Error })),
  });
  // The PBX side hands sealed calls to the outbox; its own state (ledger, offsets) lives in <stateDir>/pbx/<id>/.
  const pbx = config.pbx ? createPbxAdapter(config.pbx, { stateDir: config.stateDir, sink: outbox, log }) : null;
  // Live calls (AMI): shown at the centre while they happen; the files above remain the record.
  let ami: RunningAgent['ami'] = null;
  if (config.pbx?.adapter === 'asterisk-files' && config.pbx.ami) {
    const publisher = new LivePublisher({ client, log });
    const tracker = new LiveCallTracker(config.pbx, (b) => publisher.publish(b));
    const amiClient = new AmiClient(config.pbx.ami, {
      pbxId: config.pbx.id,
      stateDir: config.stateDir,
      log,
      random: deps.random,
      handlers: {
        onEvent: (m, at) => {
          tracker.onEvent(m, at);
          tracker.prune(at, 3600e3);
        },
        onChannels: (ids, at) => tracker.onChannels(ids, at),
      },
    });
    ami = { client: amiClient, tracker, publisher };
  }
  const diskGuard = new DiskGuard({ outbox, spoolDir: config.spoolDir, limits: config.disk, intervalMs: config.disk.checkSeconds * 1000, log });
  const rollingBuffer = new RollingBuffer({ outbox, days: config.onDemand.bufferDays, intervalMs: config.onDemand.checkSeconds * 1000, log });

  log.info('agent starting', { version: AGENT_VERSION, server: config.server.url, site: cred.siteCode, cameras: config.cameras.map(describeCamera), bandwidthBytesPerSecond: config.upload.bandwidthBytesPerSecond });
  diskGuard.start();
  rollingBuffer.start();
  commands.start();
  heartbeat.start();
  uploader.start();
  liveUploader.start();
  for (const [key, r] of recorders) {
    try {
      r.start();
    } catch (e) {
      log.error('recorder failed to start', { camera: key, error: e as Error });
    }
  }
  lifeMark.start();
  // A PBX that cannot be read yet (folder missing, permissions) must not stop the cameras: log it; it is retried
  // by the adapter's own loop once started.
  ami?.client.start();
  const pbxStarted = pbx?.start().then(
    () => log.info('pbx adapter started', { pbx: config.pbx!.id, adapter: config.pbx!.adapter }),
    (e: unknown) => log.error('pbx adapter failed to start', { pbx: config.pbx!.id, error: e as Error }),
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('agent stopping');
      await Promise.all([
        ...[...recorders].map(([key, r]) => r.stop().catch((e: unknown) => log.error('recorder did not stop cleanly', { camera: key, error: e as Error }))),
        (async () => {
          await ami?.client.stop().catch((e: unknown) => log.error('AMI client did not stop cleanly', { error: e as Error }));
          await ami?.publisher.stop();
        })(),
        (async () => {
          await pbxStarted;
          await pbx?.stop().catch((e: unknown) => log.error('pbx adapter did not stop cleanly', { error: e as Error }));
        })(),
      ]);
      // The recorders reported up to the stop: the next start counts the agent's downtime from here.
      await lifeMark.stop();
      const [main, live] = await Promise.all([uploader.stop(config.upload.shutdownGraceMs), liveUploader.stop(config.upload.shutdownGraceMs)]);
      const left = outbox.stats();
      const abandoned = [main.abandoned, live.abandoned].filter((x): x is string => x !== null);
      if (left.count > 0) {
        log.info(`${left.count} item(s), ${left.bytes} bytes not sent yet: they stay in the spool and are sent at the next start`, {
          count: left.count,
          bytes: left.bytes,
          byKind: left.byKind,
          oldest: left.oldestAt,
          abandonedUploads: abandoned,
        });
      }
      await heartbeat.stop();
      ackCtl.abort();
      await commands.stop();
      await rollingBuffer.stop();
      await diskGuard.stop();
      await outbox.close();
      client.close();
      log.info('agent stopped', { pending: outbox.stats().count });
    })());

  return { outbox, uploader, liveUploader, heartbeat, diskGuard, rollingBuffer, commands, bucket, recorders, pbx, ami, stop };
}
