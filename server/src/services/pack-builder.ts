/**
 * The pack builder: one ZIP streamed to S3 from a list of camera windows, calls and extra files, with the MP4 cuts,
 * the report (HTML and PDF), manifest.json, detached Ed25519 signatures, SHA256SUMS, the public key, a README and
 * verify.html. Evidence packs (evidence-pack.service.ts) and disclosure responses use it with their own `kind` and
 * extra manifest fields; it knows nothing of cases, roles or the database.
 *
 * Memory stays flat whatever the size: every byte is streamed (S3 → scratch file → ZIP → multipart upload of 8 MiB
 * parts); nothing is held whole in memory. Each segment is read from S3 exactly once, into a scratch file, and hashed
 * (SHA-256) as it streams; the hash must be the one recorded at the edge (invariant 1), else the build fails
 * (PackSourceError) and no pack is stored. The ZIP entry of an original and the MP4 cut are then made from that
 * local copy, never from S3 again.
 *
 * Cameras go through a pipeline sized for a small machine (2 cores): while camera i's originals are written into the
 * ZIP, ffmpeg remuxes camera i's MP4 from the scratch copies and camera i+1's segments are fetched from S3
 * (FETCH_CONCURRENCY reads at a time). At most two cameras' scratch copies exist at once. The ZIP itself is one
 * sequential stream, so its entries stay in camera order: originals of camera i, then its MP4.
 *
 * `log` (the worker's) gets one line per pack with where the time went (`timings`: summed milliseconds per step;
 * steps overlap, so they add up to more than the wall time).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type { ObjectStore, UploadCopyChunk, UploadFileChunk } from '../adapters/object-store.ts';
import type { PdfRenderer } from '../adapters/pdf-renderer.ts';
import type { SigningKeyStore } from '../adapters/signing-key.ts';
import { MP4_AUDIO_COPY, type VideoTools } from '../adapters/video-tools.ts';
import { createZipWriter, type ZipWriter } from '../adapters/zip-writer.ts';
import {
  compactUtc,
  type CustodyEvent,
  localParts,
  MANIFEST_FORMAT,
  type ManifestCall,
  type ManifestFile,
  type ManifestFileRole,
  type ManifestVideo,
  PACK_FILES,
  type PackKind,
  type PackManifest,
  type PackPurpose,
  planCut,
  PURPOSE_LABELS,
  safeName,
  sha256sumsText,
  timeSubtitles,
} from '../domain/pack.ts';
import { tsCodecs } from '../domain/mpegts.ts';
import { renderPackReport } from '../domain/pack-report.ts';
import { packReadme } from '../domain/pack-readme.ts';
import { VERIFY_PAGE_HTML } from '../domain/pack-verify-page.ts';

// ---- the input -------------------------------------------------------------------------------------------------

/** A segment whose media is at the centre. */
export type PackSegmentSource = {
  id: string;
  objectKey: string;
  start: Date;
  end: Date;
  byteSize: number;
  /** Hex SHA-256 computed at the edge when the file closed. */
  sha256: string;
  clockOffsetMs: number | null;
  receivedAt: Date;
  storedAt: Date | null;
};

export type PackCameraWindow = {
  camera: { id: string; key: string; name: string; place: string | null };
  from: Date;
  to: Date;
  /** Stored segments overlapping [from, to), oldest first. Segments without media are the caller's business (gaps). */
  segments: PackSegmentSource[];
  /** Reported gaps and time without footage, for the report and the manifest. */
  gaps: { from: Date; to: Date; reason: string; detail: string | null }[];
  /** Put the source segments in the pack (default true; a disclosure may leave them out). */
  includeOriginals?: boolean;
  /**
   * A video made by the caller instead of the stream-copied cut (a disclosure's masked re-encode): a file on disk,
   * listed in the manifest as `re-encoded` with the sources it was made from.
   */
  replacementVideo?: { file: string; start: Date; durationS: number; videoCodec: string; note: string };
};

export type PackRecordingSource = {
  id: string;
  name: string;
  role: string;
  objectKey: string;
  size: number;
  sha256: string;
  playable: { objectKey: string; size: number; extension: string } | null;
  /** A replacement for the playable copy (a disclosure's muted channel), a file on disk. */
  replacementPlayable?: { file: string; extension: string; note: string };
  includeOriginal?: boolean;
};

export type PackCallSource = {
  id: string;
  pbxCallId: string;
  direction: string;
  start: Date;
  end: Date;
  callerNumber: string | null;
  callerName: string | null;
  operator: string | null;
  notice: { played: string; method: string | null };
  recordings: PackRecordingSource[];
};

/** A file the caller adds (a disclosure's decision letter); `path` is inside the ZIP (no `..`). */
export type PackExtraFile = { path: string; size: number; description: string; open(): Promise<Readable> };

export type PackBuildInput = {
  packId: string;
  kind: PackKind;
  /** Where the ZIP goes in the bucket. */
  objectKey: string;
  builtAt: Date;
  builtBy: { id: string; login: string; name: string | null };
  purpose: PackPurpose;
  reference: string;
  legalBasis: string;
  case: { id: string; caseNumber: string; title: string; category: string; severity: string; status: string; narrative: string; window: { from: Date; to: Date } } | null;
  site: { code: string; name: string; timezone: string; cameraNotice: unknown; pbxNoticeText: string | null; agentClockOffsetMs: number | null };
  cameraWindows: PackCameraWindow[];
  calls: PackCallSource[];
  bookmarks: { at: Date; target: string | null; note: string; by: string | null }[];
  /** The chain of custody so far (the case's history, the pack's request); the builder adds its own steps. */
  custody: CustodyEvent[];
  extraFiles?: PackExtraFile[];
  /** Extra manifest fields of the kind, e.g. `{ masking: [...] }`; also shown in the report. */
  manifestExtra?: Record<string, unknown>;
  /** Extra paragraphs for the report (Japanese), e.g. what was masked and why. */
  reportNotes?: string[];
  /** Test only: ZIP64 records throughout, as a pack over 4 GiB has. */
  forceZip64?: boolean;
};

export type PackProgress = { phase: 'footage' | 'calls' | 'report' | 'signing' | 'done'; percent: number; bytesDone: number; bytesTotal: number; detail?: string };

/** A playable file inside the ZIP: stored uncompressed at `offset`, so it can be served by range reads of the ZIP. */
export type PackContent = { path: string; kind: 'video' | 'audio'; label: string; offset: number; size: number; mediaType: string };

export type PackBuildResult = {
  objectKey: string;
  contents: PackContent[];
  size: number;
  manifestSha256: string;
  /** base64 of the 64-byte Ed25519 signature over manifest.json. */
  signature: string;
  keyFingerprint: string;
  fileCount: number;
  manifest: PackManifest;
};

/** A source whose bytes are not what the edge recorded, or that is gone: retrying cannot help. */
export class PackSourceError extends Error {
  override name = 'PackSourceError';
}

export type PackBuilderDeps = {
  store: ObjectStore;
  video: VideoTools;
  pdf: PdfRenderer;
  signingKey: SigningKeyStore;
  workDir?: string | undefined;
  /**
   * Copy the originals into the ZIP inside S3 (UploadPartCopy) instead of uploading them from the scratch copies.
   * Saves the worker's link to S3 half the ZIP's bytes; on the reference store (radosgw on the worker's own host) it
   * costs S3 more CPU and time than the upload (docs/benchmarks.md), so it is off unless asked for.
   */
  copyOriginalsInS3?: boolean | undefined;
  /** One line per built pack: size, wall time and where the time went. */
  log?: ((line: Record<string, unknown>) => void) | undefined;
};

const hex = (b: Buffer) => b.toString('hex');

/** Segments of one camera read from S3 at once (the network and S3 wait, not the CPU, is what this overlaps). */
const FETCH_CONCURRENCY = 2;
/** ffprobe runs at once (each is short; the machine has 2 cores). */
const PROBE_CONCURRENCY = 2;
/** ZIP parts (8 MiB) being uploaded while the next one fills: S3 works on one while the ZIP is written. */
const UPLOAD_CONCURRENCY = 2;

/** Runs `fn` over `items` with at most `n` at a time; answers the results in order. */
async function mapLimit<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** A segment's scratch copy, checked against its edge hash, and what S3 served it as. */
type FetchedSegment = { file: string; crc: number; versionId: string | null; etag: string | null; /** Its first bytes (TS_HEAD), when asked for. */ head?: Buffer };

/** How much of a camera's first segment is kept to read its program map (PAT and PMT come first in a segment). */
const TS_HEAD = 16 * 188;

const isMissing = (e: unknown) => ['NoSuchKey', 'NotFound'].includes((e as { code?: string }).code ?? '');

export function packBuilder(deps: PackBuilderDeps) {
  const { store, video } = deps;

  /**
   * Copies one segment from S3 to `file`, hashing it as it streams (SHA-256, and the CRC-32 its ZIP entry needs):
   * the only read of it from S3. Answers the version and ETag S3 served, so the ZIP can take these very bytes by a
   * copy inside S3. Fails with PackSourceError when it is gone, has another size, or is not the bytes the edge hashed.
   */
  async function fetchSegment(s: PackSegmentSource, file: string, keepHead = false): Promise<FetchedSegment> {
    let src: Awaited<ReturnType<ObjectStore['readPinned']>>;
    try {
      src = await store.readPinned(s.objectKey);
    } catch (e) {
      if (isMissing(e)) throw new PackSourceError(`object ${s.objectKey} is missing from storage`);
      throw e;
    }
    const h = createHash('sha256');
    let n = 0;
    let crc = 0;
    const head: Buffer[] = [];
    await pipeline(
      src.body,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const c of chunks) {
          if (keepHead && n < TS_HEAD) head.push(Buffer.from(c.subarray(0, TS_HEAD - n)));
          n += c.length;
          h.update(c);
          crc = crc32(c, crc);
          yield c;
        }
      },
      createWriteStream(file),
    );
    if (n !== s.byteSize) throw new PackSourceError(`object ${s.objectKey} has ${n} bytes, ${s.byteSize} were recorded`);
    const sha = h.digest('hex');
    if (sha !== s.sha256) throw new PackSourceError(`segment ${s.id}: SHA-256 ${sha} is not the edge hash ${s.sha256}`);
    return { file, crc: crc >>> 0, versionId: src.versionId, etag: src.etag, ...(keepHead && { head: Buffer.concat(head) }) };
  }

  return {
    /** Builds the pack and stores it at `input.objectKey`; `progress` is called as it goes. */
    async build(input: PackBuildInput, progress: (p: PackProgress) => Promise<void> = async () => undefined): Promise<PackBuildResult> {
      const key = await deps.signingKey.get();
      const wallStart = performance.now();
      const timings: Record<string, number> = {};
      /** When each camera's steps ended (ms since the start): the critical path, which the summed timings hide. */
      const marks: string[] = [];
      const mark = (what: string) => marks.push(`${what}@${Math.round(performance.now() - wallStart)}`);
      /** Adds the time `fn` takes to the step `step`. */
      const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
        const t = performance.now();
        try {
          return await fn();
        } finally {
          timings[step] = (timings[step] ?? 0) + (performance.now() - t);
        }
      };
      /** Background work (fetches, cuts) that must settle before the scratch folder is removed. */
      const pending = new Set<Promise<unknown>>();
      const track = <T>(p: Promise<T>): Promise<T> => {
        pending.add(p);
        p.then(
          () => pending.delete(p),
          () => pending.delete(p),
        );
        return p;
      };
      const tz = input.site.timezone;
      const scratch = await mkdtemp(path.join(deps.workDir ?? tmpdir(), 'pack-'));
      // The ZIP goes to S3 as it is written: UPLOAD_CONCURRENCY parts in flight through a fixed pool of part buffers.
      const { stream: out, done: upload, copiedBytes } = store.createUploadStream(input.objectKey, { 'x-amz-meta-pack-id': input.packId, 'content-type': 'application/zip' }, { concurrency: UPLOAD_CONCURRENCY });
      const zip: ZipWriter = createZipWriter(out, { modified: input.builtAt, forceZip64: input.forceZip64 });
      const files: ManifestFile[] = [];
      const contents: PackContent[] = [];
      const offsets = new Map<string, number>();
      const bytesTotal =
        input.cameraWindows.reduce((s, w) => s + w.segments.reduce((a, g) => a + g.byteSize, 0), 0) +
        input.calls.reduce((s, c) => s + c.recordings.reduce((a, r) => a + r.size + (r.playable?.size ?? 0), 0), 0);
      let bytesDone = 0;
      let lastReport = 0;
      const report = async (phase: PackProgress['phase'], detail?: string, force = false) => {
        const now = Date.now();
        if (!force && now - lastReport < 500) return;
        lastReport = now;
        const percent = phase === 'done' ? 100 : Math.min(95, Math.floor((bytesTotal ? bytesDone / bytesTotal : 1) * 90));
        await progress({ phase, percent, bytesDone, bytesTotal, ...(detail && { detail }) });
      };

      /**
       * Streams a file into the ZIP, hashing what goes in; answers the manifest entry. `known.sha256` is a hash
       * already computed over these very bytes as they were fetched (an original's scratch copy): not computed again.
       */
      async function addFile(name: string, source: Readable | Buffer, size: number, role: ManifestFileRole, expectSha?: string, description?: string, known?: { sha256: string }): Promise<ManifestFile> {
        const h = known ? null : createHash('sha256');
        const onChunk = h ? (c: Buffer) => h.update(c) : undefined;
        const { dataOffset } = await timed('zip', () => (Buffer.isBuffer(source) ? zip.addStream(name, [source], size, onChunk) : zip.addStream(name, source, size, onChunk)));
        offsets.set(name, dataOffset);
        const sha256 = known ? known.sha256 : h!.digest('hex');
        if (expectSha && sha256 !== expectSha) throw new PackSourceError(`${name}: SHA-256 ${sha256} is not the edge hash ${expectSha}`);
        const f: ManifestFile = { path: name, size, sha256, role, ...(description && { description }) };
        files.push(f);
        return f;
      }

      /**
       * A file on disk (a cut, a masked copy) into the ZIP: read once, straight into the upload's part buffers, and
       * hashed (SHA-256 for the manifest, CRC-32 for the entry) from those very bytes.
       */
      async function addLocalFile(name: string, file: string, size: number, role: ManifestFileRole, description?: string): Promise<ManifestFile> {
        const fh = await open(file, 'r');
        try {
          const h = createHash('sha256');
          const chunk = (seen: (b: Buffer) => void): UploadFileChunk => ({ fromFile: { local: fh, start: 0, length: size, seen } });
          const { dataOffset } = await timed('zip', () => zip.addSelfRead(name, size, chunk, (b) => h.update(b)));
          offsets.set(name, dataOffset);
          const f: ManifestFile = { path: name, size, sha256: h.digest('hex'), role, ...(description && { description }) };
          files.push(f);
          return f;
        } finally {
          await fh.close().catch(() => undefined);
        }
      }

      /** Open scratch copies that the upload may still read (closed when it is done with them, or at the end). */
      const handles = new Set<FileHandle>();
      /**
       * An original segment into the ZIP: its bytes are the S3 object's own (the version whose hash was just checked):
       * read from its scratch copy into the upload, or (copyOriginalsInS3) copied inside S3 by the upload where it
       * can. Its SHA-256 and CRC-32 were computed as it was fetched.
       */
      async function addOriginal(name: string, s: PackSegmentSource, f: FetchedSegment): Promise<void> {
        if (!deps.copyOriginalsInS3) {
          // From the scratch copy straight into the upload's parts; the entry's CRC-32 is computed from those very
          // bytes and must be the one computed as they came from S3 (the scratch copy did not change on disk).
          const fh = await open(f.file, 'r');
          try {
            const chunk = (seen: (b: Buffer) => void): UploadFileChunk => ({ fromFile: { local: fh, start: 0, length: s.byteSize, seen } });
            const { dataOffset, crc } = await timed('zip', () => zip.addSelfRead(name, s.byteSize, chunk));
            if (crc !== f.crc) throw new PackSourceError(`segment ${s.id}: its scratch copy changed on disk after it was checked`);
            offsets.set(name, dataOffset);
            files.push({ path: name, size: s.byteSize, sha256: s.sha256, role: 'original-segment' });
          } finally {
            await fh.close().catch(() => undefined);
          }
          return;
        }
        const fh = await open(f.file, 'r');
        handles.add(fh);
        const release = () => {
          if (handles.delete(fh)) void fh.close().catch(() => undefined);
        };
        const chunk: UploadCopyChunk = {
          copyFrom: {
            key: s.objectKey,
            versionId: f.versionId,
            etag: f.etag,
            start: 0,
            length: s.byteSize,
            local: fh,
            release,
          },
        };
        const { dataOffset } = await timed('zip', () => zip.addChunk(name, s.byteSize, f.crc, chunk));
        offsets.set(name, dataOffset);
        files.push({ path: name, size: s.byteSize, sha256: s.sha256, role: 'original-segment' });
      }

      try {
        const videos: ManifestVideo[] = [];
        const usedNames = new Set<string>();
        const unique = (name: string) => {
          let n = name;
          for (let i = 2; usedNames.has(n); i++) n = name.replace(/(\.[^.]+)?$/, `-${i}$1`);
          usedNames.add(n);
          return n;
        };
        // Camera i's scratch copies: fetched from S3 (hashed as they stream) while camera i-1 is cut and zipped.
        const windows = input.cameraWindows;
        const fetched: Promise<{ camDir: string; segFiles: string[]; segs: FetchedSegment[] }>[] = [];
        const cuts: Promise<Awaited<ReturnType<typeof makeCut>> | null>[] = [];
        const startFetch = (i: number) => {
          if (i >= windows.length || fetched[i]) return;
          const w = windows[i]!;
          const camDir = path.join(scratch, `cam-${i}`);
          const p = track(
            (async () => {
              await mkdir(camDir);
              const segFiles = w.segments.map((s) => path.join(camDir, `${s.id}.ts`));
              const segs = await timed('fetch', () => mapLimit(w.segments, FETCH_CONCURRENCY, (s, j) => fetchSegment(s, segFiles[j]!, j === 0)));
              return { camDir, segFiles, segs };
            })(),
          );
          p.catch(() => undefined); // awaited below, in order
          fetched[i] = p;
          // The cut starts as soon as its footage is on disk, so it runs while the ZIP takes the previous camera.
          const c = track(p.then(({ camDir, segFiles, segs }) => (!w.replacementVideo && w.segments.length > 0 ? makeCut(w, camDir, segFiles, segs[0]?.head) : null)));
          c.catch(() => undefined);
          cuts[i] = c;
        };

        /** The MP4 of one window, stream-copied by ffmpeg from the scratch copies. */
        const makeCut = async (w: PackCameraWindow, camDir: string, segFiles: string[], firstHead?: Buffer) => {
          // The plan needs the first segment's clock and keyframes only when the window starts inside it, and the last
          // segment's clock and duration only when the window ends inside it: the segments between, and a first or
          // last one taken whole, are not probed. The codecs come from the first segment's program map where it names
          // them (tsCodecs), else from ffprobe.
          const last = segFiles.length - 1;
          const s0 = w.segments[0]!;
          const startsInside = w.from.getTime() > s0.start.getTime();
          const endsInside = w.to.getTime() < w.segments[last]!.end.getTime();
          const fromMap = firstHead ? tsCodecs(firstHead) : null;
          const probeFirst = startsInside || (last === 0 && endsInside) || fromMap === null;
          const probeLast = last > 0 && endsInside;
          const toProbe = [...(probeFirst ? [segFiles[0]!] : []), ...(probeLast ? [segFiles[last]!] : [])];
          const probed = toProbe.length ? await timed('probe', () => mapLimit(toProbe, PROBE_CONCURRENCY, (f) => video.probe(f))) : [];
          const whole = { startTime: 0, durationS: Infinity };
          const first = probeFirst ? probed[0]! : null;
          const lastProbe = probeLast ? probed[probed.length - 1]! : null;
          // A segment taken whole needs no probe: planCut reads its clock only to place an in or out point.
          const probeOf = (i: number) => (i === 0 && first ? first : i === last && lastProbe ? lastProbe : whole);
          const keyframes = startsInside ? await timed('probe', () => video.keyframes(segFiles[0]!)) : [];
          const plan = planCut(
            w.segments.map((s, i) => ({ start: s.start.getTime(), end: s.end.getTime(), probeStart: probeOf(i).startTime, probeDurationS: probeOf(i).durationS, ...(i === 0 && { keyframes }) })),
            { from: w.from.getTime(), to: w.to.getTime() },
          );
          const codecs = first ? { video: first.video?.codec ?? null, audio: first.audio?.codec ?? null } : fromMap!;
          const audioCodec = codecs.audio;
          const audio: 'copy' | 'aac' | null = audioCodec === null ? null : MP4_AUDIO_COPY.has(audioCodec) ? 'copy' : 'aac';
          const local = localParts(plan.startMs, tz);
          const out = path.join(camDir, 'cut.mp4');
          const caseLabel = input.case ? `${input.case.caseNumber} ` : '';
          const cut = await timed('cut', () =>
            video.cut({
              inputs: segFiles.map((file, i) => ({ file, ...plan.inputs[i] })),
              output: out,
              subtitlesSrt: timeSubtitles(plan.startMs, plan.endMs, tz),
              audio,
              scratchPrefix: path.join(camDir, 'cut'),
              metadata: {
                creation_time: new Date(plan.startMs).toISOString(),
                date: local.iso,
                title: `${caseLabel}${input.site.name} ${w.camera.name}${w.camera.place ? ` (${w.camera.place})` : ''}`,
                comment: `site-local start ${local.iso} (${tz}); UTC start ${new Date(plan.startMs).toISOString()}; stream copy of ${w.segments.length} segment(s)`,
                site_local_start: local.iso,
                site_timezone: tz,
                camera: w.camera.key,
              },
            }),
          );
          return { out, cut, plan, local, audio, videoCodec: codecs.video ?? 'unknown' };
        };

        /**
         * The report (HTML, and its PDF rendering in the background) from what it needs: every camera's cut, the calls,
         * the custody and how many files the pack has (`pending`: files that will be in it but are not yet written).
         */
        let reported: { html: string; pdf: Promise<Buffer>; custody: CustodyEvent[]; purpose: PackManifest['purpose'] } | null = null;
        const startReport = (pending: ManifestFile[]) => {
          const all = [...files, ...pending];
          const custody: CustodyEvent[] = [
            ...input.custody,
            { at: input.builtAt.toISOString(), action: 'pack.build', actor: input.builtBy.login, detail: `${all.filter((f) => f.role === 'original-segment' || f.role === 'original-recording').length} originals checked against their edge SHA-256 and copied byte for byte; ${videos.filter((v) => v.path).length} MP4(s) cut by stream copy` },
          ];
          const purpose = { code: input.purpose, ...PURPOSE_LABELS[input.purpose] };
          const html = renderPackReport({ input, videos, calls, custody, purpose, keyFingerprint: key.fingerprint, files: all });
          const pdf = timed('pdf', () => deps.pdf.render(html));
          pdf.catch(() => undefined); // awaited below; a build that fails first must not leave it unhandled
          return { html, pdf, custody, purpose };
        };

        startFetch(0);
        // The calls first (small, read from S3 while camera 0 is fetched): once the last camera's cut is ready, all
        // the report needs is known, and it renders while that MP4 goes into the ZIP.
        await report('calls', undefined, true);
        const calls: ManifestCall[] = [];
        for (const c of input.calls) {
          const dir = safeName(c.pbxCallId);
          const recs: ManifestCall['recordings'] = [];
          for (const r of c.recordings) {
            const origName = unique(`originals/calls/${dir}/${safeName(r.name)}`);
            if (r.includeOriginal !== false) {
              const st = await store.stat(r.objectKey);
              if (!st || st.size !== r.size) throw new PackSourceError(`recording ${r.id} (${r.name}) is missing or has the wrong size in storage`);
              await addFile(origName, await store.read(r.objectKey), r.size, 'original-recording', r.sha256);
            }
            bytesDone += r.size;
            let playablePath: string | null = null;
            const base = safeName(r.name).replace(/\.[^.]+$/, '');
            if (r.replacementPlayable) {
              playablePath = unique(`calls/${dir}/${base}_masked.${r.replacementPlayable.extension}`);
              const size = (await stat(r.replacementPlayable.file)).size;
              await addLocalFile(playablePath, r.replacementPlayable.file, size, 'playable-audio', r.replacementPlayable.note);
            } else if (r.playable) {
              playablePath = unique(`calls/${dir}/${base}.${r.playable.extension}`);
              await addFile(playablePath, await store.read(r.playable.objectKey), r.playable.size, 'playable-audio');
              bytesDone += r.playable.size;
            }
            recs.push({ path: r.includeOriginal !== false ? origName : '', recordingId: r.id, name: r.name, role: r.role, size: r.size, edgeSha256: r.sha256, playablePath });
            await report('calls', c.pbxCallId);
          }
          calls.push({
            id: c.id,
            pbxCallId: c.pbxCallId,
            direction: c.direction,
            start: c.start.toISOString(),
            end: c.end.toISOString(),
            callerNumber: c.callerNumber,
            operator: c.operator,
            recordingNotice: c.notice.played,
            recordings: recs,
          });
        }
        for (const x of input.extraFiles ?? []) await addFile(unique(x.path), await x.open(), x.size, 'extra', undefined, x.description);

        await report('footage', undefined, true);
        for (const [wi, w] of windows.entries()) {
          const { camDir, segFiles, segs } = await fetched[wi]!;
          mark(`c${wi}.fetched`);
          startFetch(wi + 1);
          const camName = safeName(w.camera.key);
          const gaps = w.gaps.map((g) => ({ from: g.from.toISOString(), to: g.to.toISOString(), reason: g.reason }));
          // Chromium for the report starts with the last camera: its launch overlaps the footage, not the first fetch.
          if (wi === windows.length - 1) deps.pdf.warm?.();
          const cutFrom: ManifestVideo['cutFrom'] = [];
          for (const [j, s] of w.segments.entries()) {
            const name = unique(`originals/cameras/${camName}/${compactUtc(s.start)}_${s.id}.ts`);
            if (w.includeOriginals !== false) await addOriginal(name, s, segs[j]!);
            cutFrom.push({
              path: w.includeOriginals !== false ? name : `(withheld) ${name}`,
              segmentId: s.id,
              start: s.start.toISOString(),
              end: s.end.toISOString(),
              edgeSha256: s.sha256,
              clockOffsetMs: s.clockOffsetMs,
              receivedAt: s.receivedAt.toISOString(),
              storedAt: s.storedAt?.toISOString() ?? null,
            });
            bytesDone += s.byteSize;
            await report('footage', w.camera.key);
          }
          if (w.replacementVideo) {
            const r = w.replacementVideo;
            const name = unique(`video/${camName}_${compactUtc(r.start)}_masked.mp4`);
            const size = (await stat(r.file)).size;
            await addLocalFile(name, r.file, size, 'video-mp4', r.note);
            videos.push({ path: name, camera: w.camera, window: { from: w.from.toISOString(), to: w.to.toISOString() }, start: r.start.toISOString(), startSiteLocal: localParts(r.start.getTime(), tz).iso, durationS: r.durationS, videoCodec: r.videoCodec, audio: 'none', method: 're-encoded', videoPackets: 0, cutFrom, gaps });
          } else if (w.segments.length > 0) {
            mark(`c${wi}.originals`);
            const { out, cut, plan, local, audio, videoCodec } = (await cuts[wi]!)!;
            mark(`c${wi}.cut`);
            const name = unique(`video/${camName}_${compactUtc(new Date(plan.startMs))}.mp4`);
            const v: ManifestVideo = {
              path: name,
              camera: w.camera,
              window: { from: w.from.toISOString(), to: w.to.toISOString() },
              start: new Date(plan.startMs).toISOString(),
              startSiteLocal: local.iso,
              durationS: cut.durationS,
              videoCodec,
              audio: audio ?? 'none',
              method: 'stream-copy',
              videoPackets: cut.videoPackets,
              cutFrom,
              gaps,
            };
            videos.push(v);
            // The last camera's cut is the last thing the report needs: it renders while this MP4 goes into the ZIP.
            if (wi === windows.length - 1) reported = startReport([{ path: name, size: cut.size, sha256: '', role: 'video-mp4' }]);
            await addLocalFile(name, out, cut.size, 'video-mp4', `${w.camera.name} ${local.text} (${tz})`);
          } else {
            videos.push({ path: '', camera: w.camera, window: { from: w.from.toISOString(), to: w.to.toISOString() }, start: w.from.toISOString(), startSiteLocal: localParts(w.from.getTime(), tz).iso, durationS: 0, videoCodec: 'none', audio: 'none', method: 'stream-copy', videoPackets: 0, cutFrom: [], gaps });
          }
          await rm(camDir, { recursive: true, force: true });
          mark(`c${wi}.zipped`);
        }

        reported ??= startReport([]);
        await report('report', undefined, true);
        const { custody, purpose } = reported;
        const htmlBuf = Buffer.from(reported.html, 'utf8');
        await addFile(PACK_FILES.reportHtml, htmlBuf, htmlBuf.length, 'report-html', undefined, '報告書 (HTML) / report');
        mark('report');
        const pdf = await reported.pdf;
        mark('pdf');
        await addFile(PACK_FILES.reportPdf, pdf, pdf.length, 'report-pdf', undefined, '報告書 (PDF) / report');

        await report('signing', undefined, true);
        const readme = Buffer.from(packReadme({ kind: input.kind, caseNumber: input.case?.caseNumber ?? null, packId: input.packId, fingerprint: key.fingerprint, builtAt: input.builtAt }), 'utf8');
        await addFile(PACK_FILES.readme, readme, readme.length, 'readme');
        const page = Buffer.from(VERIFY_PAGE_HTML, 'utf8');
        await addFile(PACK_FILES.verifyPage, page, page.length, 'verifier');
        const pub = Buffer.from(key.publicKeyPem, 'utf8');
        await addFile(PACK_FILES.publicKey, pub, pub.length, 'public-key');

        const manifest: PackManifest = {
          format: MANIFEST_FORMAT,
          kind: input.kind,
          packId: input.packId,
          builtAt: input.builtAt.toISOString(),
          builtBy: input.builtBy,
          purpose,
          reference: input.reference,
          legalBasis: input.legalBasis,
          case: input.case && {
            id: input.case.id,
            caseNumber: input.case.caseNumber,
            title: input.case.title,
            site: { code: input.site.code, name: input.site.name, timezone: tz },
            window: { from: input.case.window.from.toISOString(), to: input.case.window.to.toISOString() },
          },
          signing: { algorithm: 'Ed25519', publicKeyFile: PACK_FILES.publicKey, publicKeyFingerprintSha256: key.fingerprint },
          videos: videos.filter((v) => v.path),
          calls,
          custody,
          ...input.manifestExtra,
          files,
        };
        const manifestBuf = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
        const manifestSha256 = hex(createHash('sha256').update(manifestBuf).digest());
        const sig = key.sign(manifestBuf);
        const sums = Buffer.from(sha256sumsText([...files, { path: PACK_FILES.manifest, sha256: manifestSha256 }]), 'utf8');
        const sumsSig = key.sign(sums);
        await zip.addBuffer(PACK_FILES.manifest, manifestBuf);
        await zip.addBuffer(PACK_FILES.manifestSig, sig);
        await zip.addBuffer(PACK_FILES.sums, sums);
        await zip.addBuffer(PACK_FILES.sumsSig, sumsSig);
        for (const v of manifest.videos) contents.push({ path: v.path, kind: 'video', label: `${v.camera.name}${v.camera.place ? `（${v.camera.place}）` : ''} ${v.startSiteLocal}`, offset: offsets.get(v.path)!, size: files.find((f) => f.path === v.path)!.size, mediaType: 'video/mp4' });
        for (const c of calls)
          for (const r of c.recordings)
            if (r.playablePath) contents.push({ path: r.playablePath, kind: 'audio', label: `${c.callerNumber ?? ''} ${r.role} ${localParts(Date.parse(c.start), tz).text}`, offset: offsets.get(r.playablePath)!, size: files.find((f) => f.path === r.playablePath)!.size, mediaType: r.playablePath.endsWith('.m4a') ? 'audio/mp4' : 'application/octet-stream' });
        const size = await timed('zip', () => zip.finish());
        await timed('upload-complete', () => upload);
        await report('done', undefined, true);
        const wallMs = performance.now() - wallStart;
        const sourceBytes = bytesTotal;
        deps.log?.({
          level: 'info',
          msg: 'pack built',
          packId: input.packId,
          kind: input.kind,
          cameras: windows.length,
          sourceBytes,
          zipBytes: size,
          wallMs: Math.round(wallMs),
          sourceMiBps: Number((sourceBytes / 1048576 / (wallMs / 1000)).toFixed(1)),
          copiedInS3Bytes: copiedBytes(),
          timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])),
          marks: marks.join(' '),
        });
        return { objectKey: input.objectKey, contents, size, manifestSha256, signature: sig.toString('base64'), keyFingerprint: key.fingerprint, fileCount: files.length + 4, manifest };
      } catch (e) {
        await Promise.allSettled([...pending]);
        out.destroy(e as Error);
        await upload.catch(() => undefined);
        await store.remove(input.objectKey).catch(() => undefined);
        throw e;
      } finally {
        for (const fh of handles) await fh.close().catch(() => undefined);
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
export type PackBuilder = ReturnType<typeof packBuilder>;
