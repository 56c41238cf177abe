/** Helpers for agent tests: temp folders, real segment files, configs, an enrolled agent against a real centre. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validateConfig, type AgentConfig } from '../../src/config.ts';
import type { ClosedSegment } from '../../src/contracts.ts';
import { enroll } from '../../src/cli/enroll.ts';
import type { TestCentre } from '../../../server/test/helpers/centre.ts';
import { fixturePayload } from '../../../server/test/helpers/calls.ts';
import type { SealedCall } from '../../src/outbox/items.ts';

const run = promisify(execFile);

export async function tempDir(prefix = 'agent-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A small real MPEG-TS file (H.264 test pattern), made by ffmpeg with TZ=UTC. */
export async function makeTs(path: string, seconds = 2): Promise<Buffer> {
  await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=10`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mpegts', path], {
    env: { ...process.env, TZ: 'UTC' },
  });
  return readFile(path);
}

/** Random bytes standing in for a segment where the media itself does not matter. */
export async function makeRandomFile(path: string, size: number): Promise<Buffer> {
  const b = randomBytes(size);
  await writeFile(path, b);
  return b;
}

/** The ClosedSegment a recorder would hand over for `path`. */
export function closedSegment(cameraKey: string, path: string, bytes: Buffer, start: Date, durationMs = 2000, extra: Partial<ClosedSegment> = {}): ClosedSegment {
  return {
    cameraKey,
    path,
    start,
    durationMs,
    size: bytes.length,
    sha256: sha256(bytes),
    mediaType: 'video/mp2t',
    codec: { video: 'h264', note: 'テスト' },
    runId: randomUUID(),
    clockOffsetMs: 12,
    ...extra,
  };
}

/** A validated config (throws listing the problems if the override is invalid). */
export function testConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): AgentConfig {
  const r = validateConfig(raw, env);
  if (!r.ok) throw new Error(`test config invalid:\n${r.errors.join('\n')}`);
  return r.config;
}

/** Creates a site at the centre and enrolls an agent into `stateDir` through the agent's own enroll code. */
export async function enrollAgent(centre: TestCentre, stateDir: string): Promise<{ siteId: string; code: string }> {
  const site = await centre.createSite();
  const r = await enroll({ serverUrl: centre.url, token: site.token, stateDir });
  if (!r.ok) throw new Error(r.message);
  return { siteId: site.siteId, code: site.code };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Segment rows of a site's camera at the centre, in start order, with their identity ids. */
export async function centreSegments(centre: TestCentre, siteId: string, cameraKey: string) {
  const rows = await centre.db
    .selectFrom('segment')
    .innerJoin('camera', 'camera.id', 'segment.cameraId')
    .select(['segment.id', 'segment.objectKey', 'segment.clockOffsetMs', 'segment.runId'])
    .select((eb) => [eb.fn<Date>('lower', ['segment.span']).as('start'), eb.fn<string>('encode', ['segment.sha256', eb.val('hex')]).as('sha256')])
    .where('camera.siteId', '=', siteId)
    .where('camera.key', '=', cameraKey)
    .orderBy('start')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), start: new Date(r.start), sha256: r.sha256, objectKey: r.objectKey, clockOffsetMs: r.clockOffsetMs, runId: r.runId }));
}

export async function centreGaps(centre: TestCentre, siteId: string, cameraKey: string) {
  const rows = await centre.db
    .selectFrom('gap')
    .innerJoin('camera', 'camera.id', 'gap.cameraId')
    .select(['gap.id', 'gap.reason', 'gap.detail'])
    .select((eb) => [eb.fn<Date>('lower', ['gap.span']).as('start'), eb.fn<Date>('upper', ['gap.span']).as('end')])
    .where('camera.siteId', '=', siteId)
    .where('camera.key', '=', cameraKey)
    .orderBy('start')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), reason: r.reason, detail: r.detail, start: new Date(r.start), end: new Date(r.end) }));
}

/** Reads a stored object fully (to check the bytes at the centre). */
export async function readObject(centre: TestCentre, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await centre.store.read(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A sealed call as the PBX side hands it over: the Asterisk fixture's payload with these recordings and start. */
export function sealedCall(callKey: string, recs: { name: string; path: string; bytes: Buffer }[], startUtc: string, version = 1): SealedCall {
  const base = fixturePayload();
  return {
    ...base,
    times: { ...base.times, startUtc },
    recordings: recs.map((r) => ({ name: r.name, role: 'mixed' as const, format: 'wav', sampleRate: 8000, channels: 1, durationS: 1, size: r.bytes.length, sha256: sha256(r.bytes) })),
    callKey,
    version,
    files: Object.fromEntries(recs.map((r) => [r.name, r.path])),
  };
}

/**
 * An enrolled agent's config file for end-to-end tests: one fake camera `cam1` over UDP, state and spool under
 * `root`, heartbeats every 5 s, frequent upload retries, no disk limits. Returns the config path and the spool.
 */
export async function writeE2eAgentConfig(o: { root: string; centreUrl: string; stateDir: string; cameraUrl: string; cameraName: string; cameraPlace: string; segmentSeconds: number; backoffCapMs: number }) {
  const spoolDir = join(o.root, 'spool');
  const config = join(o.root, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      server: { url: o.centreUrl },
      stateDir: o.stateDir,
      spoolDir,
      heartbeatSeconds: 5,
      logLevel: 'info',
      upload: { backoff: { baseMs: 200, capMs: o.backoffCapMs } },
      recording: { segmentSeconds: o.segmentSeconds },
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      cameras: [{ key: 'cam1', name: o.cameraName, place: o.cameraPlace, transport: 'udp', rtspUrl: o.cameraUrl }],
    }),
  );
  return { config, spoolDir };
}
