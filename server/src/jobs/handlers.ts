/**
 * The handler map: job name → handler. Typed against `JOBS`, so adding a job there without a handler here (or the
 * reverse) fails to compile. Handlers are thin like routes: they call a service with the validated payload.
 */
import type { AudioTools } from '../adapters/audio-tools.ts';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { FaceDetector } from '../adapters/face-detector.ts';
import type { MediaMasker } from '../adapters/media-mask.ts';
import type { VideoTools } from '../adapters/video-tools.ts';
import type { Db } from '../db/connect.ts';
import { callRepository } from '../repositories/call.repository.ts';
import { disclosureRepository } from '../repositories/disclosure.repository.ts';
import { disclosureBuildService } from '../services/disclosure-build.service.ts';
import type { PackBuilder } from '../services/pack-builder.ts';
import { auditRepository } from '../repositories/audit.repository.ts';
import { transactor } from '../repositories/index.ts';
import { recordingRepository } from '../repositories/recording.repository.ts';
import { retentionRepository } from '../repositories/retention.repository.ts';
import { segmentRepository } from '../repositories/segment.repository.ts';
import { orphanSweepService } from '../services/orphan-sweep.service.ts';
import { auditService } from '../services/audit.service.ts';
import { derivationSweepService, recordingDeriveService } from '../services/recording-derive.service.ts';
import { retentionService } from '../services/retention.service.ts';
import { type Handlers, PermanentJobError } from './definitions.ts';
import type { JobQueue } from './queue.ts';

export type WorkerDeps = {
  db: Db;
  store: ObjectStore;
  audio: AudioTools;
  clock: Clock;
  jobs: JobQueue;
  workDir?: string | undefined;
  orphanGraceSeconds?: number;
  /** Rows per retention transaction (default 200). */
  retentionBatchSize?: number;
  log?: (line: Record<string, unknown>) => void;
  /** What disclosure responses need: the pack builder, video tools, the masker and a face detector (absent: those jobs fail saying so). */
  disclosure?: { pack: PackBuilder; video: VideoTools; masker: MediaMasker; faces: Promise<FaceDetector> } | undefined;
};

/** Services the worker's handlers use, built once per process from adapters. */
export function buildWorkerServices(d: WorkerDeps) {
  const recordings = recordingRepository(d.db);
  const segments = segmentRepository(d.db);
  const tx = transactor(d.db);
  const audit = auditService({ tx, audit: auditRepository(d.db), clock: d.clock });
  return {
    orphanSweep: orphanSweepService({
      store: d.store,
      clock: d.clock,
      graceSeconds: d.orphanGraceSeconds ?? 24 * 3600,
      owners: [
        { prefix: 'segments/', referenced: (keys) => segments.referencedObjectKeys(keys) },
        { prefix: 'calls/', referenced: (keys) => recordings.referencedObjectKeys(keys) },
      ],
    }),
    derive: recordingDeriveService({ recordings, store: d.store, audio: d.audio, clock: d.clock, workDir: d.workDir }),
    derivationSweep: derivationSweepService({ recordings, jobs: d.jobs, clock: d.clock }),
    disclosureBuild: d.disclosure
      ? disclosureBuildService({ tx, disclosures: disclosureRepository(d.db), recordings, calls: callRepository(d.db), segments, store: d.store, clock: d.clock, audit, ...d.disclosure, workDir: d.workDir })
      : null,
    retention: retentionService({ tx, retention: retentionRepository(d.db), store: d.store, clock: d.clock, audit, batchSize: d.retentionBatchSize, log: d.log }),
  };
}

export function buildHandlers(s: ReturnType<typeof buildWorkerServices>) {
  const handlers = {
    'recording.derive': (p, ctx) => s.derive.derive(p.recordingId, { attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, jobId: ctx.jobId, progress: ctx.progress }),
    'recording.derive-sweep': () => s.derivationSweep.sweep(),
    'storage.orphan-sweep': () => s.orphanSweep.sweep(),
    'retention.run': (_p, ctx) => s.retention.run({ progress: ctx.progress }),
    'disclosure.build': (p, ctx) => {
      if (!s.disclosureBuild) throw new PermanentJobError('this worker was started without the disclosure build tools (pack builder, video tools, masker)');
      return s.disclosureBuild.build(p.requestId, p.buildId, p.requestedBy, ctx);
    },
  } satisfies Handlers;
  return handlers;
}
