/**
 * Every background job the centre knows, in one map: name → payload schema and retry policy. Handlers live in
 * `handlers.ts`, typed against this map, so a job without a handler (or a handler for an unknown job) does not compile.
 *
 * To add a job: add an entry here, add its handler to `buildHandlers`, enqueue it with `JobQueue.enqueue(name, payload)`
 * (type-checked) or give it a `schedule` so every worker keeps one repeating instance. Handlers must be idempotent:
 * BullMQ delivers at least once (retries, stalled-job recovery, a sweep re-enqueueing).
 */
import { z } from 'zod';

export type JobDefinition = {
  /** Validated again in the worker before the handler runs; a payload that fails is not retried. */
  payload: z.ZodType;
  /** Total attempts (first run included) before the job counts as failed. */
  attempts: number;
  /** Delay before the first retry; doubles on each further retry. */
  backoffMs: number;
  /** A job whose id still exists in the queue (waiting, active, delayed, or kept after finishing) is not added again. */
  jobId?: (payload: never) => string;
  /** Repeat every `everyMs` with an empty payload; the worker process registers the schedule at start. */
  schedule?: { everyMs: number };
};

export const JOBS = {
  /** Browser-playable copy (AAC in .m4a) and waveform summary of one recording's original. */
  'recording.derive': {
    payload: z.strictObject({ recordingId: z.uuid() }),
    attempts: 5,
    backoffMs: 10_000,
    jobId: (p: { recordingId: string }) => `recording.derive.${p.recordingId}`,
  },
  /** Re-enqueues derivations that never got a job (Redis was down at upload) or stopped moving. */
  'recording.derive-sweep': {
    payload: z.strictObject({}),
    attempts: 1,
    backoffMs: 0,
    schedule: { everyMs: 10 * 60_000 },
  },
  /** Removes objects no row points at, past the grace period (invariant 2). Safe on several workers at once. */
  'storage.orphan-sweep': {
    payload: z.strictObject({}),
    attempts: 1,
    backoffMs: 0,
    schedule: { everyMs: 60 * 60_000 },
  },
  /**
   * Deletes routine media past its retention period (never media under an active hold) and marks the rows; every
   * deletion audited. Safe on several workers at once: rows are taken with SKIP LOCKED, each object removed once.
   */
  'retention.run': {
    payload: z.strictObject({}),
    attempts: 1,
    backoffMs: 0,
    schedule: { everyMs: 60 * 60_000 },
  },
  /**
   * Builds one requested evidence pack (services/evidence-pack.service.ts): the ZIP streamed to S3, progress reported
   * as it goes. A ready pack is left alone; a source that does not match its edge hash fails at once.
   */
  'pack.build': {
    payload: z.strictObject({ packId: z.uuid() }),
    attempts: 2,
    backoffMs: 30_000,
    jobId: (p: { packId: string }) => `pack.build.${p.packId}`,
  },
  /**
   * A disclosure request's response package (the evidence-pack format marked as a disclosure, masked copies made
   * here). One job per build (`buildId`); a build whose request is no longer `building` with that job id does nothing.
   */
  'disclosure.build': {
    payload: z.strictObject({ requestId: z.uuid(), buildId: z.string().min(1).max(200), requestedBy: z.strictObject({ id: z.uuid(), login: z.string().min(1).max(200) }) }),
    attempts: 3,
    backoffMs: 30_000,
    jobId: (p: { buildId: string }) => p.buildId,
  },
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof JOBS;
export type JobPayload<K extends JobName> = z.infer<(typeof JOBS)[K]['payload']>;

export type JobContext = {
  jobId: string;
  name: JobName;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  /** Shown by GET /api/v1/jobs/{id}. */
  progress(p: Record<string, unknown>): Promise<void>;
  log(line: Record<string, unknown>): void;
};

export type Handler<K extends JobName> = (payload: JobPayload<K>, ctx: JobContext) => Promise<unknown>;
export type Handlers = { [K in JobName]: Handler<K> };

/** Thrown by a handler when retrying cannot help (bad input, evidence mismatch): the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export const isJobName = (n: string): n is JobName => Object.hasOwn(JOBS, n);
