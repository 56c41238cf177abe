/**
 * Contracts between the agent's parts. The recorder produces closed segments and gaps; the outbox persists them
 * durably before any network I/O; the uploader drains the outbox to the centre.
 */

/** Reasons a stretch of a camera has no footage (same set as the centre's gap.reason). */
export type GapReason = 'camera_offline' | 'recorder_restart' | 'evicted' | 'agent_down' | 'other';

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

/**
 * A command from the centre, delivered in the heartbeat answer (`commands`), acknowledged with
 * `POST /api/v1/agent/commands/{id}/ack` `{ status: 'done' | 'failed', detail?: string }`. Delivery is at least once:
 * executing a command twice must be harmless.
 *
 * `preserve_window`: mark every local segment of `cameraKey` overlapping [from, to) as held (never evicted, kept
 * past the rolling buffer) and upload their media ahead of everything else; acknowledge 'done' once they are all
 * queued at case priority (their arrival is visible at the centre), 'failed' with a detail when the footage is not
 * at the store (evicted, never recorded).
 */
export type AgentCommand = {
  id: string;
  kind: 'preserve_window';
  cameraKey: string;
  from: string; // ISO 8601 UTC
  to: string;
  incidentId: string | null;
};
