/**
 * The seam between the uplink and the camera recorders (edge-agent/src/recorder/). `runAgent` creates one recorder
 * per configured camera through a RecorderFactory; the recorder writes segments under its folder and
 * hands each closed segment and each gap to the sink (the durable outbox), stamping the clock offset it reads from
 * `clock`. The factory receives the camera's full config, credentials included: they stay inside the agent.
 */
import type { CameraHealth } from '@mamoru/contract/enums';
import type { Logger } from '../lib/logger.ts';
import type { CameraConfig, RecordingConfig } from '../config.ts';
import type { ClockOffsetSource, EvidenceSink } from '../contracts.ts';

/** The centre's camera health values (@mamoru/contract). */
export type { CameraHealth };

export interface Recorder {
  /** Starts recording; must not throw for a dead camera (restart on any exit is the recorder's job). */
  start(): void;
  /** Stops ffmpeg and hands the last closed segment (and any gap) to the sink before resolving. */
  stop(): Promise<void>;
  /** Optional: current health, reported in heartbeats. */
  health?(): CameraHealth;
}

export type RecorderEnv = {
  /** This camera's own folder for segment files: `<spoolDir>/cameras/<key>` (created by `run`). */
  dir: string;
  recording: RecordingConfig;
  log: Logger;
  /** The agent was down before this start: report `agent_down` from `sinceMs` to the first new segment (recorder/downtime.ts). */
  resume?: { sinceMs: number; detail: string };
};

export type RecorderFactory = (camera: CameraConfig, sink: EvidenceSink, clock: ClockOffsetSource, env: RecorderEnv) => Recorder;
