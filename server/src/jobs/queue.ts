/**
 * Our view of the job queue, over BullMQ. Callers enqueue by job name with a typed payload and read a job's state;
 * nothing outside this file sees BullMQ. One queue carries every job name; the worker dispatches through the
 * handler map.
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Handlers, isJobName, type JobContext, type JobName, type JobPayload, JOBS, PermanentJobError } from './definitions.ts';

export const DEFAULT_QUEUE_NAME = 'mamoru';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'prioritized' | 'waiting-children' | 'unknown';

export type JobInfo = {
  id: string;
  name: string;
  state: JobState;
  payload: unknown;
  progress: unknown;
  attemptsMade: number;
  maxAttempts: number;
  failedReason: string | null;
  result: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

export interface JobQueue {
  /** Adds a job; answers its id. A job with the same dedupe id that still exists is not added twice. */
  enqueue<K extends JobName>(name: K, payload: JobPayload<K>): Promise<string>;
  get(id: string): Promise<JobInfo | null>;
  /** Forgets a finished job (so its dedupe id can be used again). */
  remove(id: string): Promise<void>;
  /** Registers the repeating jobs of the map (idempotent; call from worker processes). */
  ensureSchedules(): Promise<void>;
  close(): Promise<void>;
}

export type QueueSettings = {
  /** An ioredis connection with `maxRetriesPerRequest: null`; shared, not closed by `close()`. */
  connection: Redis;
  /** Redis key prefix, so several centres (or test files) share one Redis. */
  prefix: string;
  queueName?: string;
};

const KEEP = { removeOnComplete: { age: 7 * 86400, count: 50_000 }, removeOnFail: { age: 30 * 86400 } };

export function createJobQueue(s: QueueSettings): JobQueue {
  const queue = new Queue(s.queueName ?? DEFAULT_QUEUE_NAME, { connection: s.connection, prefix: s.prefix });

  function options(name: JobName, payload: unknown) {
    const def = JOBS[name];
    return {
      attempts: def.attempts,
      backoff: def.backoffMs > 0 ? { type: 'exponential' as const, delay: def.backoffMs } : undefined,
      ...('jobId' in def && { jobId: (def.jobId as (p: unknown) => string)(payload) }),
      ...KEEP,
    };
  }

  return {
    async enqueue(name, payload) {
      const parsed = JOBS[name].payload.parse(payload);
      const job = await queue.add(name, parsed, options(name, parsed));
      return job.id!;
    },
    async get(id) {
      const job = await queue.getJob(id);
      if (!job) return null;
      return {
        id: job.id!,
        name: job.name,
        state: (await job.getState()) as JobState,
        payload: job.data,
        progress: job.progress,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        failedReason: job.failedReason || null,
        result: job.returnvalue ?? null,
        createdAt: new Date(job.timestamp),
        startedAt: job.processedOn ? new Date(job.processedOn) : null,
        finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      };
    },
    async remove(id) {
      await queue.remove(id);
    },
    async ensureSchedules() {
      for (const [name, def] of Object.entries(JOBS)) {
        if (!('schedule' in def)) continue;
        await queue.upsertJobScheduler(name, { every: def.schedule.everyMs }, { name, data: {}, opts: { attempts: def.attempts, ...KEEP } });
      }
    },
    async close() {
      await queue.close();
    },
  };
}

export type JobWorker = { close(): Promise<void> };

/**
 * Runs handlers for jobs of the queue. The payload is validated against the map before the handler sees it.
 * `PermanentJobError` and invalid payloads fail the job without retries.
 */
export function startJobWorker(s: QueueSettings & { handlers: Handlers; concurrency: number; log: (line: Record<string, unknown>) => void }): JobWorker {
  const processor = async (job: Job) => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job name ${job.name}`);
    const name = job.name;
    const parsed = JOBS[name].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${name}: ${parsed.error.message}`);
    const ctx: JobContext = {
      jobId: job.id!,
      name,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      progress: (p) => job.updateProgress(p),
      log: (line) => s.log({ job: name, jobId: job.id, ...line }),
    };
    const run = s.handlers[name] as (payload: unknown, ctx: JobContext) => Promise<unknown>;
    try {
      return (await run(parsed.data, ctx)) ?? null;
    } catch (e) {
      if (e instanceof PermanentJobError) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
  const worker = new Worker(s.queueName ?? DEFAULT_QUEUE_NAME, processor, { connection: s.connection, prefix: s.prefix, concurrency: s.concurrency });
  worker.on('failed', (job, err) => s.log({ level: 'warn', msg: 'job failed', job: job?.name, jobId: job?.id, attemptsMade: job?.attemptsMade, error: err.message }));
  worker.on('error', (err) => s.log({ level: 'error', msg: 'worker error', error: err.message }));
  return {
    async close() {
      await worker.close();
    },
  };
}
