/**
 * The pack builder: one ZIP streamed to S3 from a list of camera windows, calls and extra files, with the MP4 cuts,
 * the report (HTML and PDF), manifest.json, detached Ed25519 signatures, SHA256SUMS, the public key, a README and
 * verify.html. Evidence packs (evidence-pack.service.ts) and disclosure responses use it with their own `kind` and
 * extra manifest fields; it knows nothing of cases, roles or the database.
 *
 * Memory stays flat whatever the size: each source is streamed from S3 to a scratch file (one camera window at a time,
 * removed after), from there into the ZIP, and the ZIP goes to S3 through a multipart upload of 8 MiB parts. Every
 * original's bytes are hashed as they go into the ZIP and compared with the hash recorded at the edge (invariant 1):
 * a mismatch fails the build (PackSourceError) and no pack is stored.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../adapters/object-store.ts';
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
};

const hex = (b: Buffer) => b.toString('hex');

export function packBuilder(deps: PackBuilderDeps) {
  const { store, video } = deps;

  async function download(key: string, file: string, expectedSize: number) {
    const st = await store.stat(key);
    if (!st) throw new PackSourceError(`object ${key} is missing from storage`);
    if (st.size !== expectedSize) throw new PackSourceError(`object ${key} has ${st.size} bytes, ${expectedSize} were recorded`);
    await pipeline(await store.read(key), createWriteStream(file));
  }

  return {
    /** Builds the pack and stores it at `input.objectKey`; `progress` is called as it goes. */
    async build(input: PackBuildInput, progress: (p: PackProgress) => Promise<void> = async () => undefined): Promise<PackBuildResult> {
      const key = await deps.signingKey.get();
      const tz = input.site.timezone;
      const scratch = await mkdtemp(path.join(deps.workDir ?? tmpdir(), 'pack-'));
      const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
      const upload = store.put(input.objectKey, pass, undefined, { 'x-amz-meta-pack-id': input.packId, 'content-type': 'application/zip' });
      upload.catch(() => undefined);
      const zip: ZipWriter = createZipWriter(pass, { modified: input.builtAt, forceZip64: input.forceZip64 });
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

      /** Streams a file into the ZIP, hashing what goes in; answers the manifest entry. */
      async function addFile(name: string, source: Readable | Buffer, size: number, role: ManifestFileRole, expectSha?: string, description?: string): Promise<ManifestFile> {
        const h = createHash('sha256');
        const { dataOffset } = Buffer.isBuffer(source) ? await zip.addStream(name, [source], size, (c) => h.update(c)) : await zip.addStream(name, source, size, (c) => h.update(c));
        offsets.set(name, dataOffset);
        const sha256 = h.digest('hex');
        if (expectSha && sha256 !== expectSha) throw new PackSourceError(`${name}: SHA-256 ${sha256} is not the edge hash ${expectSha}`);
        const f: ManifestFile = { path: name, size, sha256, role, ...(description && { description }) };
        files.push(f);
        return f;
      }

      try {
        await report('footage', undefined, true);
        const videos: ManifestVideo[] = [];
        const usedNames = new Set<string>();
        const unique = (name: string) => {
          let n = name;
          for (let i = 2; usedNames.has(n); i++) n = name.replace(/(\.[^.]+)?$/, `-${i}$1`);
          usedNames.add(n);
          return n;
        };
        for (const w of input.cameraWindows) {
          const camDir = path.join(scratch, `cam-${videos.length}`);
          await mkdir(camDir);
          const camName = safeName(w.camera.key);
          const segFiles: string[] = [];
          const cutFrom: ManifestVideo['cutFrom'] = [];
          for (const s of w.segments) {
            const file = path.join(camDir, `${s.id}.ts`);
            await download(s.objectKey, file, s.byteSize);
            segFiles.push(file);
            const name = unique(`originals/cameras/${camName}/${compactUtc(s.start)}_${s.id}.ts`);
            if (w.includeOriginals !== false) {
              await addFile(name, createReadStream(file), s.byteSize, 'original-segment', s.sha256);
            } else {
              // Not in the pack, but still checked against the edge hash before anything is made from it.
              const h = createHash('sha256');
              for await (const c of createReadStream(file)) h.update(c as Buffer);
              if (h.digest('hex') !== s.sha256) throw new PackSourceError(`segment ${s.id}: SHA-256 is not the edge hash`);
            }
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
          const gaps = w.gaps.map((g) => ({ from: g.from.toISOString(), to: g.to.toISOString(), reason: g.reason }));
          if (w.replacementVideo) {
            const r = w.replacementVideo;
            const name = unique(`video/${camName}_${compactUtc(r.start)}_masked.mp4`);
            const size = (await stat(r.file)).size;
            await addFile(name, createReadStream(r.file), size, 'video-mp4', undefined, r.note);
            videos.push({ path: name, camera: w.camera, window: { from: w.from.toISOString(), to: w.to.toISOString() }, start: r.start.toISOString(), startSiteLocal: localParts(r.start.getTime(), tz).iso, durationS: r.durationS, videoCodec: r.videoCodec, audio: 'none', method: 're-encoded', videoPackets: 0, cutFrom, gaps });
          } else if (w.segments.length > 0) {
            const probes = await Promise.all(segFiles.map((f) => video.probe(f)));
            const keyframes = await video.keyframes(segFiles[0]!);
            const plan = planCut(
              w.segments.map((s, i) => ({ start: s.start.getTime(), end: s.end.getTime(), probeStart: probes[i]!.startTime, probeDurationS: probes[i]!.durationS, ...(i === 0 && { keyframes }) })),
              { from: w.from.getTime(), to: w.to.getTime() },
            );
            const audioCodec = probes[0]!.audio?.codec ?? null;
            const audio = audioCodec === null ? null : MP4_AUDIO_COPY.has(audioCodec) ? 'copy' : 'aac';
            const local = localParts(plan.startMs, tz);
            const out = path.join(camDir, 'cut.mp4');
            const caseLabel = input.case ? `${input.case.caseNumber} ` : '';
            const cut = await video.cut({
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
            });
            const name = unique(`video/${camName}_${compactUtc(new Date(plan.startMs))}.mp4`);
            await addFile(name, createReadStream(out), cut.size, 'video-mp4', undefined, `${w.camera.name} ${local.text} (${tz})`);
            videos.push({
              path: name,
              camera: w.camera,
              window: { from: w.from.toISOString(), to: w.to.toISOString() },
              start: new Date(plan.startMs).toISOString(),
              startSiteLocal: local.iso,
              durationS: cut.durationS,
              videoCodec: probes[0]!.video?.codec ?? 'unknown',
              audio: audio ?? 'none',
              method: 'stream-copy',
              videoPackets: cut.videoPackets,
              cutFrom,
              gaps,
            });
          } else {
            videos.push({ path: '', camera: w.camera, window: { from: w.from.toISOString(), to: w.to.toISOString() }, start: w.from.toISOString(), startSiteLocal: localParts(w.from.getTime(), tz).iso, durationS: 0, videoCodec: 'none', audio: 'none', method: 'stream-copy', videoPackets: 0, cutFrom: [], gaps });
          }
          await rm(camDir, { recursive: true, force: true });
        }

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
              await addFile(playablePath, createReadStream(r.replacementPlayable.file), size, 'playable-audio', undefined, r.replacementPlayable.note);
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

        await report('report', undefined, true);
        const custody: CustodyEvent[] = [
          ...input.custody,
          { at: input.builtAt.toISOString(), action: 'pack.build', actor: input.builtBy.login, detail: `${files.filter((f) => f.role === 'original-segment' || f.role === 'original-recording').length} originals checked against their edge SHA-256 and copied byte for byte; ${videos.filter((v) => v.path).length} MP4(s) cut by stream copy` },
        ];
        const purpose = { code: input.purpose, ...PURPOSE_LABELS[input.purpose] };
        const reportHtml = renderPackReport({ input, videos, calls, custody, purpose, keyFingerprint: key.fingerprint, files });
        const htmlBuf = Buffer.from(reportHtml, 'utf8');
        await addFile(PACK_FILES.reportHtml, htmlBuf, htmlBuf.length, 'report-html', undefined, '報告書 (HTML) / report');
        const pdf = await deps.pdf.render(reportHtml);
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
        const size = await zip.finish();
        await upload;
        await report('done', undefined, true);
        return { objectKey: input.objectKey, contents, size, manifestSha256, signature: sig.toString('base64'), keyFingerprint: key.fingerprint, fileCount: files.length + 4, manifest };
      } catch (e) {
        pass.destroy(e as Error);
        await upload.catch(() => undefined);
        await store.remove(input.objectKey).catch(() => undefined);
        throw e;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
export type PackBuilder = ReturnType<typeof packBuilder>;
