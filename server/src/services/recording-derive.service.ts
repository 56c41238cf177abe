import { createHash } from 'node:crypto';
import type { StorageLockService } from './storage-lock.service.ts';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AudioTools } from '../adapters/audio-tools.ts';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { peakAccumulator } from '../domain/waveform.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { PermanentJobError } from '../jobs/definitions.ts';
import type { RecordingRepository } from '../repositories/recording.repository.ts';

export const WAVEFORM_BUCKET_MS = 100;

/** Where a recording's derivatives live. Fixed per recording, so a re-run overwrites instead of adding objects. */
export function derivativeKeys(r: { siteId: string; callId: string; id: string }, playableExt: string) {
  const base = `calls/${r.siteId}/${r.callId}/${r.id}`;
  return { playable: `${base}/playable.${playableExt}`, waveform: `${base}/waveform.json` };
}

export type DeriveProgress = { attempt: number; maxAttempts: number; jobId: string | null; progress(p: Record<string, unknown>): Promise<void> };

export type DeriveResult = { status: 'derived' | 'skipped'; reason?: string; playableKey?: string; waveformKey?: string };

/**
 * Makes the browser-playable copy and the waveform of a stored original. The original object is only read, after
 * its SHA-256 and size were checked against the row; derivatives go to fixed keys and the row is updated last, so a
 * crash at any point leaves nothing the next attempt cannot redo.
 */
export function recordingDeriveService(deps: {
  recordings: RecordingRepository;
  store: ObjectStore;
  audio: AudioTools;
  clock: Clock;
  workDir?: string | undefined;
  /** Object Lock for the derived copies: the call's retention period, legal hold while the call is held. */
  storageLock?: Pick<StorageLockService, 'recordingStored'> | undefined;
}) {
  const { recordings, store, audio, clock } = deps;

  async function download(key: string, file: string) {
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(await store.read(key), tap, createWriteStream(file));
    return { sha256: hash.digest('hex'), bytes };
  }

  return {
    async derive(recordingId: string, job: DeriveProgress): Promise<DeriveResult> {
      const rec = await recordings.findById(recordingId);
      if (!rec) return { status: 'skipped', reason: 'recording_not_found' };
      if (!rec.objectKey) return { status: 'skipped', reason: 'original_not_stored' };
      if (rec.derive.status === 'done' && rec.playable && rec.waveform) return { status: 'skipped', reason: 'already_derived' };

      await recordings.markDeriveRunning(rec.id, job.jobId, clock.now());
      const dir = await mkdtemp(path.join(deps.workDir ?? tmpdir(), 'mamoru-derive-'));
      try {
        await job.progress({ step: 'verify_original' });
        const original = path.join(dir, 'original');
        const got = await download(rec.objectKey, original);
        if (got.bytes !== rec.size || got.sha256 !== rec.sha256) {
          throw new PermanentJobError(`original_hash_mismatch: stored object has ${got.bytes} bytes, sha256 ${got.sha256}; expected ${rec.size} bytes, ${rec.sha256}`);
        }

        await job.progress({ step: 'probe' });
        const probe = await audio.probe(original);
        if (!probe.audio) throw new PermanentJobError(`no_audio_stream: ffprobe found no audio in ${probe.formatName}`);
        const srcDuration = probe.audio.durationS ?? probe.durationS;

        await job.progress({ step: 'encode_playable' });
        const playableFile = path.join(dir, 'playable');
        const spec = await audio.encodePlayable(original, playableFile, probe.audio);
        const check = await audio.probe(playableFile);
        const outDuration = check.audio?.durationS ?? check.durationS;
        if (check.audio?.codec !== spec.codec || outDuration === null) throw new Error(`playable copy is not ${spec.codec}: ${check.audio?.codec ?? 'no audio'}`);
        if (srcDuration !== null && Math.abs(outDuration - srcDuration) > Math.max(0.25, srcDuration * 0.01)) {
          throw new Error(`playable copy lasts ${outDuration} s but the original ${srcDuration} s`);
        }

        await job.progress({ step: 'waveform' });
        const rate = Math.min(probe.audio.sampleRate, 16_000);
        const channels = Math.min(probe.audio.channels, 2);
        const acc = peakAccumulator(rate, channels, WAVEFORM_BUCKET_MS);
        for await (const chunk of audio.decodePcm(original, { sampleRate: rate, channels })) acc.push(chunk);
        const waveformFile = path.join(dir, 'waveform.json');
        await writeFile(waveformFile, JSON.stringify({ ...acc.finish(), recordingId: rec.id, sourceSha256: rec.sha256 }));

        await job.progress({ step: 'upload' });
        const keys = derivativeKeys(rec, spec.extension);
        const playableSize = (await stat(playableFile)).size;
        const waveformSize = (await stat(waveformFile)).size;
        const meta = { 'x-amz-meta-source-sha256': rec.sha256 };
        const playableVersion = await store.put(keys.playable, createReadStream(playableFile), playableSize, { ...meta, 'content-type': spec.mediaType });
        const waveformVersion = await store.put(keys.waveform, createReadStream(waveformFile), waveformSize, { ...meta, 'content-type': 'application/json' });

        // Both objects are durably stored: only now does the row point at them.
        await recordings.markDerived(
          rec.id,
          {
            playable: { key: keys.playable, mediaType: spec.mediaType, codec: spec.codec, size: playableSize, durationS: outDuration },
            waveform: { key: keys.waveform, size: waveformSize, bucketMs: WAVEFORM_BUCKET_MS },
          },
          clock.now(),
        );
        await deps.storageLock?.recordingStored({ callId: rec.callId, keys: [{ key: keys.playable, ...playableVersion }, { key: keys.waveform, ...waveformVersion }] });
        await job.progress({ step: 'done' });
        return { status: 'derived', playableKey: keys.playable, waveformKey: keys.waveform };
      } catch (e) {
        const final = e instanceof PermanentJobError || job.attempt >= job.maxAttempts;
        const msg = `attempt ${job.attempt}/${job.maxAttempts}: ${(e as Error).message}`;
        await recordings.markDeriveError(rec.id, msg, final, clock.now()).catch(() => undefined);
        throw e;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
export type RecordingDeriveService = ReturnType<typeof recordingDeriveService>;

/** Finds derivations that have no live job and queues them again (lost enqueue, crashed worker past its retries). */
export function derivationSweepService(deps: { recordings: RecordingRepository; jobs: Pick<JobQueue, 'enqueue' | 'get' | 'remove'>; clock: Clock; staleAfterMs?: number }) {
  return {
    async sweep(limit = 500) {
      const before = new Date(deps.clock.now().getTime() - (deps.staleAfterMs ?? 15 * 60_000));
      let requeued = 0;
      for (const r of await deps.recordings.listStalledDerivations(before, limit)) {
        const live = r.jobId ? await deps.jobs.get(r.jobId) : null;
        if (live && ['waiting', 'delayed', 'active', 'prioritized'].includes(live.state)) continue;
        // A finished job keeps its id for a while and would block a new one with the same id: remove its record first.
        if (live) await deps.jobs.remove(live.id);
        const id = await deps.jobs.enqueue('recording.derive', { recordingId: r.id });
        await deps.recordings.setDeriveJob(r.id, id, deps.clock.now());
        requeued++;
      }
      return { requeued };
    },
  };
}
export type DerivationSweepService = ReturnType<typeof derivationSweepService>;
