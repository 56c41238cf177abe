/** The worker process: runs background jobs from the queue. Stateless; run as many as needed. */
import { Redis } from 'ioredis';
import { ffmpegAudioTools } from './adapters/audio-tools.ts';
import { systemClock } from './adapters/clock.ts';
import { createS3Store } from './adapters/object-store.ts';
import { chromiumPdfRenderer } from './adapters/pdf-renderer.ts';
import { fileSigningKey } from './adapters/signing-key.ts';
import { ffmpegVideoTools } from './adapters/video-tools.ts';
import { loadConfigOrExit } from './config.ts';
import { storageReport } from './services/health.service.ts';
import { createDb } from './db/connect.ts';
import { buildHandlers, buildWorkerServices } from './jobs/handlers.ts';
import { createJobQueue, startJobWorker } from './jobs/queue.ts';

const cfg = loadConfigOrExit('worker');
const log = (line: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), process: 'worker', ...line }));

const db = createDb(cfg.DATABASE_URL, Math.max(2, cfg.WORKER_CONCURRENCY + 1), (e) => log({ level: 'warn', msg: 'idle database connection lost', error: e.message }));
// BullMQ needs maxRetriesPerRequest: null on connections that block.
const redis = new Redis(cfg.REDIS_URL, { maxRetriesPerRequest: null });
const store = createS3Store({ endpoint: cfg.S3_ENDPOINT, accessKey: cfg.S3_ACCESS_KEY, secretKey: cfg.S3_SECRET_KEY, bucket: cfg.S3_BUCKET, region: cfg.S3_REGION });
const audio = ffmpegAudioTools({ ffmpegPath: cfg.FFMPEG_PATH, ffprobePath: cfg.FFPROBE_PATH });
const jobs = createJobQueue({ connection: redis, prefix: cfg.QUEUE_PREFIX });

// Migrations belong to the server's start; the worker only checks it can reach what it needs.
await store.ensureBucket();
await jobs.ensureSchedules();
const storage = storageReport(await store.capabilities());
if (storage.warning) log({ level: 'warn', msg: storage.warning, bucket: store.bucket });

const pdf = chromiumPdfRenderer({ executablePath: cfg.CHROMIUM_PATH });
const services = buildWorkerServices({ db, store, audio, clock: systemClock, jobs, workDir: cfg.WORK_DIR, packCopyOriginalsInS3: cfg.PACK_COPY_ORIGINALS_IN_S3, orphanGraceSeconds: cfg.ORPHAN_GRACE_SECONDS, log,
  signingKey: fileSigningKey(cfg.PACK_SIGNING_KEY_FILE),
  video: ffmpegVideoTools({ ffmpegPath: cfg.FFMPEG_PATH, ffprobePath: cfg.FFPROBE_PATH }),
  pdf,
});
const worker = startJobWorker({ connection: redis, prefix: cfg.QUEUE_PREFIX, handlers: buildHandlers(services), concurrency: cfg.WORKER_CONCURRENCY, log });
log({ level: 'info', msg: 'worker started', concurrency: cfg.WORKER_CONCURRENCY, prefix: cfg.QUEUE_PREFIX });

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', msg: 'stopping: finishing active jobs', signal: sig });
    // Active jobs finish (or are picked up again by another worker as stalled); nothing new starts.
    setTimeout(() => process.exit(1), 60_000).unref();
    void worker
      .close()
      .then(() => jobs.close())
      .finally(async () => {
        await Promise.allSettled([db.destroy(), redis.quit(), services.close()]);
        process.exit(0);
      });
  });
}
