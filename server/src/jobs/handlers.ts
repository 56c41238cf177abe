/**
 * The handler map: job name → handler. Typed against `JOBS`, so adding a job there without a handler here (or the
 * reverse) fails to compile. Handlers are thin like routes: they call a service with the validated payload.
 */
import type { AudioTools } from '../adapters/audio-tools.ts';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { detectFaceDetector, type FaceDetector } from '../adapters/face-detector.ts';
import { ffmpegMediaMasker, type MediaMasker } from '../adapters/media-mask.ts';
import { chromiumPdfRenderer, type PdfRenderer } from '../adapters/pdf-renderer.ts';
import { fileSigningKey, type SigningKeyStore } from '../adapters/signing-key.ts';
import { ffmpegVideoTools, type VideoTools } from '../adapters/video-tools.ts';
import type { Db } from '../db/connect.ts';
import { disclosureRepository } from '../repositories/disclosure.repository.ts';
import { disclosureBuildService } from '../services/disclosure-build.service.ts';
import { auditRepository } from '../repositories/audit.repository.ts';
import { callRepository } from '../repositories/call.repository.ts';
import { incidentRepository } from '../repositories/incident.repository.ts';
import { linkingRepository } from '../repositories/linking.repository.ts';
import { packRepository } from '../repositories/pack.repository.ts';
import { userRepository } from '../repositories/user.repository.ts';
import { transactor } from '../repositories/index.ts';
import { recordingRepository } from '../repositories/recording.repository.ts';
import { retentionRepository } from '../repositories/retention.repository.ts';
import { segmentRepository } from '../repositories/segment.repository.ts';
import { orphanSweepService } from '../services/orphan-sweep.service.ts';
import { storageLockService } from '../services/storage-lock.service.ts';
import { storageLockRepository } from '../repositories/storage-lock.repository.ts';
import { auditService } from '../services/audit.service.ts';
import { derivationSweepService, recordingDeriveService } from '../services/recording-derive.service.ts';
import { retentionService } from '../services/retention.service.ts';
import { packBuildService } from '../services/evidence-pack.service.ts';
import { packBuilder } from '../services/pack-builder.ts';
import { type Handlers, PermanentJobError } from './definitions.ts';
import { PackSourceError } from '../services/pack-builder.ts';
import type { JobQueue } from './queue.ts';

export type WorkerDeps = {
  db: Db;
  store: ObjectStore;
  audio: AudioTools;
  clock: Clock;
  jobs: JobQueue;
  workDir?: string | undefined;
  /** PACK_COPY_ORIGINALS_IN_S3 (see PackBuilderDeps.copyOriginalsInS3). */
  packCopyOriginalsInS3?: boolean | undefined;
  orphanGraceSeconds?: number;
  /** Rows per retention transaction (default 200). */
  retentionBatchSize?: number;
  log?: (line: Record<string, unknown>) => void;
  /** Evidence packs: the signing key (PACK_SIGNING_KEY_FILE), ffmpeg for the MP4 cuts, Chromium for the PDF report. */
  signingKey?: SigningKeyStore;
  video?: VideoTools;
  pdf?: PdfRenderer;
  /** Disclosure responses: the masker (ffmpeg) and a face detector (OpenCV, or the "no detector" one); defaults when absent. */
  disclosure?: { masker?: MediaMasker; faces?: Promise<FaceDetector> } | undefined;
};

/** Services the worker's handlers use, built once per process from adapters. */
export function buildWorkerServices(d: WorkerDeps) {
  const recordings = recordingRepository(d.db);
  const segments = segmentRepository(d.db);
  const tx = transactor(d.db);
  const audit = auditService({ tx, audit: auditRepository(d.db), clock: d.clock });
  // One pack builder for evidence packs and disclosure responses.
  const video = d.video ?? ffmpegVideoTools();
  // One Chromium for every PDF of this process, started when a build begins and closed by `close()`.
  const pdf = d.pdf ?? chromiumPdfRenderer();
  const builder = packBuilder({
    store: d.store,
    video,
    pdf,
    signingKey: d.signingKey ?? fileSigningKey(process.env.PACK_SIGNING_KEY_FILE ?? './data/pack-signing-key.pem'),
    workDir: d.workDir,
    copyOriginalsInS3: d.packCopyOriginalsInS3,
    log: d.log,
  });
  // Object Lock in the storage mirrors holds and retention (issue 15); a no-op where the backend has none.
  const storageLock = storageLockService({ repo: storageLockRepository(d.db), store: d.store, clock: d.clock, log: d.log });
  return {
    /** Releases what the services keep between jobs (the PDF renderer's browser). */
    close: async () => {
      await pdf.close?.();
    },
    storageLock,
    orphanSweep: orphanSweepService({
      store: d.store,
      clock: d.clock,
      protection: (key) => storageLock.protection(key),
      log: d.log,
      graceSeconds: d.orphanGraceSeconds ?? 24 * 3600,
      owners: [
        { prefix: 'segments/', referenced: (keys) => segments.referencedObjectKeys(keys) },
        { prefix: 'calls/', referenced: (keys) => recordings.referencedObjectKeys(keys) },
      ],
    }),
    derive: recordingDeriveService({ recordings, store: d.store, audio: d.audio, clock: d.clock, workDir: d.workDir, storageLock }),
    derivationSweep: derivationSweepService({ recordings, jobs: d.jobs, clock: d.clock }),
    disclosureBuild: disclosureBuildService({
      tx,
      disclosures: disclosureRepository(d.db),
      recordings,
      calls: callRepository(d.db),
      segments,
      store: d.store,
      clock: d.clock,
      audit,
      pack: builder,
      video,
      masker: d.disclosure?.masker ?? ffmpegMediaMasker(),
      faces: d.disclosure?.faces ?? detectFaceDetector(),
      workDir: d.workDir,
    }),
    retention: retentionService({ tx, retention: retentionRepository(d.db), store: d.store, clock: d.clock, audit, batchSize: d.retentionBatchSize, log: d.log, storageLock }),
    packs: packBuildService({
      packs: packRepository(d.db),
      incidents: incidentRepository(d.db),
      calls: callRepository(d.db),
      recordings,
      linking: linkingRepository(d.db),
      users: userRepository(d.db),
      builder,
      audit,
      clock: d.clock,
      storageLock,
    }),
  };
}

export function buildHandlers(s: ReturnType<typeof buildWorkerServices>) {
  const handlers = {
    'recording.derive': (p, ctx) => s.derive.derive(p.recordingId, { attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, jobId: ctx.jobId, progress: ctx.progress }),
    'recording.derive-sweep': () => s.derivationSweep.sweep(),
    'storage.orphan-sweep': () => s.orphanSweep.sweep(),
    'retention.run': (_p, ctx) => s.retention.run({ progress: ctx.progress }),
    'pack.build': async (p, ctx) => {
      try {
        return await s.packs.build(p.packId, { attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, progress: ctx.progress });
      } catch (e) {
        if (e instanceof PackSourceError) throw new PermanentJobError(e.message);
        throw e;
      }
    },
    'disclosure.build': (p, ctx) => s.disclosureBuild.build(p.requestId, p.buildId, p.requestedBy, ctx),
  } satisfies Handlers;
  return handlers;
}
