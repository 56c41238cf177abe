/**
 * Contracts between the agent's parts. The recorder produces closed segments and gaps; the outbox persists them
 * durably before any network I/O; the uploader drains the outbox to the centre.
 */

import type { GapReason } from '@mamoru/contract/enums';

/** Commands from the centre: `AgentCommandSchema` of @mamoru/contract (validated on arrival in commands/parse.ts). */
export type { AgentCommand } from '@mamoru/contract';
export type { GapReason };

/** A segment file that ffmpeg has closed and that the agent has measured and hashed. */
export type ClosedSegment = {
  cameraKey: string;
  /** Absolute path of the local file (in the camera's spool directory). */
  path: string;
  /** Real start (UTC), from the recorder's wall-clock anchor plus the stream start time, not the nominal one. */
  start: Date;
  /** Real duration (ffmpeg's segment list; ffprobe for a partial file), milliseconds. */
  durationMs: number;
  size: number;
  /** SHA-256 of the file's bytes, lowercase hex, computed when the file closed. */
  sha256: string;
  /** 'video/mp2t' for MPEG-TS segments. */
  mediaType: string;
  codec: Record<string, unknown>;
  /** One id per ffmpeg process: timestamps restart when it changes. */
  runId: string;
  /** Agent clock minus centre clock at capture, ms (null until the first heartbeat measured it). */
  clockOffsetMs: number | null;
};

export type GapReport = {
  cameraKey: string;
  start: Date;
  end: Date;
  reason: GapReason;
  detail: string | null;
};

/** What the recorder hands its results to. The outbox implements it; each call returns once the record is durable. */
export interface EvidenceSink {
  segmentClosed(seg: ClosedSegment): Promise<void>;
  gap(g: GapReport): Promise<void>;
}

/** The agent's view of its own clock against the centre's. */
export interface ClockOffsetSource {
  /** Latest measured offset (agent − centre), ms, or null when not yet measured. */
  offsetMs(): number | null;
}
