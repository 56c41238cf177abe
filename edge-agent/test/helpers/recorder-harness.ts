/** Shared pieces of the recorder tests: a recording sink, independent ffprobe/sha256 checks, polling. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClosedSegment, EvidenceSink, GapReport } from '../../src/contracts.ts';

const execFileP = promisify(execFile);

/** The sink the outbox will be; here it records what it was given and when (agent clock). */
export class RecordingSink implements EvidenceSink {
  readonly segments: Array<ClosedSegment & { receivedAt: number }> = [];
  readonly gaps: Array<GapReport & { receivedAt: number }> = [];
  /** Every call in order, to check that a gap comes before the segment that ends it. */
  readonly order: string[] = [];
  async segmentClosed(seg: ClosedSegment): Promise<void> {
    this.segments.push({ ...seg, receivedAt: Date.now() });
    this.order.push(`segment:${seg.runId}`);
  }
  async gap(g: GapReport): Promise<void> {
    this.gaps.push({ ...g, receivedAt: Date.now() });
    this.order.push(`gap:${g.reason}`);
  }
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export type IndependentProbe = { formatName: string; startTime: number; duration: number; codecs: string[] };

/** ffprobe run directly (not through our adapter), as a second opinion on a segment file. */
export async function ffprobeFile(path: string): Promise<IndependentProbe> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=format_name,start_time,duration:stream=codec_name', '-of', 'json', path]);
  const j = JSON.parse(stdout) as { format: { format_name: string; start_time: string; duration: string }; streams: Array<{ codec_name?: string }> };
  return { formatName: j.format.format_name, startTime: Number(j.format.start_time), duration: Number(j.format.duration), codecs: j.streams.map((s) => s.codec_name ?? '?') };
}

/** Decodes every frame of every stream (ffprobe -count_frames); returns the decoder's error lines ('' = it plays). */
export async function decodeErrors(path: string): Promise<string> {
  const { stdout, stderr } = await execFileP('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  const frames = stdout.split('\n').filter((l) => l.trim()).map(Number);
  if (!frames.length || frames.some((n) => !(n > 0))) return `no decodable frames in some stream: ${stdout.trim()}`;
  return stderr.trim();
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `mamoru-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `20261123T195627Z-7e25fbfc.ts` → the wall-clock second ffmpeg opened it in. */
export function nameTime(file: string): number {
  const m = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{8}\.ts$/.exec(file);
  if (!m) throw new Error(`unexpected segment name ${file}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}
