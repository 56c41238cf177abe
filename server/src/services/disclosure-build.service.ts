/**
 * The `disclosure.build` job: a disclosure request's response package in the evidence-pack format (kind
 * `disclosure`), with the masked copies made here first:
 * - a recording decided `disclose` goes in as the PBX wrote it (original, edge hash checked) with its playable copy;
 * - a recording decided `disclose_masked`: the original is checked against its edge hash, then a WAV copy with the
 *   operator channel (stereo) and/or the chosen ranges muted goes in instead; the original stays out;
 * - a camera window decided `disclose`: the stream-copied MP4 of the window;
 * - a camera window decided `disclose_masked`: the same cut, re-encoded with the chosen regions (and every detected
 *   face but the requester's) blurred; the source segments stay out (they show everything);
 * - withheld items are listed with their reasons, nothing of their media.
 * The manifest carries `disclosure` (the request, every decision, every masking as applied). The ZIP's SHA-256 is
 * taken from the stored object, the request marked `ready` and the build audited (actor system / disclosure).
 * Idempotent: a job whose request is no longer `building` under this build id does nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../adapters/clock.ts';
import type { FaceDetector } from '../adapters/face-detector.ts';
import type { MediaMasker } from '../adapters/media-mask.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { VideoTools } from '../adapters/video-tools.ts';
import { audioMaskFor, faceRegions } from '../domain/disclosure-mask.ts';
import { type CameraMasking, DECISION_LABELS, IDENTITY_CHECK_LABELS, type RecordingMasking } from '../domain/disclosure.ts';
import { type CustodyEvent, localParts, planCut, timeSubtitles } from '../domain/pack.ts';
import { NO_ORIGIN, type SystemPrincipal } from '../domain/principal.ts';
import { PermanentJobError } from '../jobs/definitions.ts';
import type { CallRepository } from '../repositories/call.repository.ts';
import type { DisclosureItemRow, DisclosureRepository } from '../repositories/disclosure.repository.ts';
import type { Transactor } from '../repositories/index.ts';
import type { RecordingRepository, RecordingRow } from '../repositories/recording.repository.ts';
import type { SegmentRepository } from '../repositories/segment.repository.ts';
import { type PackBuilder, type PackCallSource, type PackCameraWindow, type PackRecordingSource, PackSourceError } from './pack-builder.ts';
import type { AuditService } from './audit.service.ts';

export const DISCLOSURE_ACTOR: SystemPrincipal = { kind: 'system', name: 'disclosure', origin: NO_ORIGIN };

/** The legal basis of handing a data subject their own data. */
export const DISCLOSURE_LEGAL_BASIS = '個人情報の保護に関する法律 第33条（保有個人データの開示） / Act on the Protection of Personal Information, Art. 33';

/** Faces are looked for in one frame every this many seconds; each detection covers half of it either side. */
export const FACE_SAMPLE_SECONDS = 0.5;

export type DisclosureBuildResult =
  | { status: 'skipped'; reason: string }
  | { status: 'ready'; objectKey: string; size: number; sha256: string; manifestSha256: string; masked: number; withheld: number };

/** One entry of the manifest's `disclosure.masking`: what was done to an item, as applied. */
type MaskingRecord =
  | { itemId: string; kind: 'recording'; recordingId: string; name: string; role: string; mutedChannels: number[]; mutedChannelNames: string[]; mutedRanges: { fromS: number; toS: number }[]; output: 'wav' }
  | {
      itemId: string;
      kind: 'camera_window';
      cameraKey: string;
      style: 'blur' | 'fill';
      /** Times in seconds from the start of the masked MP4; rectangles in pixels as applied. */
      regions: { x: number; y: number; w: number; h: number; fromS: number; toS: number; source: 'chosen' | 'face' }[];
      faces: { requested: boolean; detector: string; available: boolean; reason: string | null; detected: number; blurred: number; kept: number };
      audio: 'removed';
    };

export function disclosureBuildService(deps: {
  tx: Transactor;
  disclosures: DisclosureRepository;
  recordings: RecordingRepository;
  calls: CallRepository;
  segments: SegmentRepository;
  store: ObjectStore;
  clock: Clock;
  audit: AuditService;
  pack: PackBuilder;
  video: VideoTools;
  masker: MediaMasker;
  faces: Promise<FaceDetector>;
  workDir?: string | undefined;
}) {
  async function download(key: string, file: string) {
    await pipeline(await deps.store.read(key), createWriteStream(file));
  }
  async function sha256File(file: string) {
    const h = createHash('sha256');
    for await (const c of createReadStream(file)) h.update(c as Buffer);
    return h.digest('hex');
  }

  /** The window's stream-copy cut (as the pack makes it), then blurred. Times of the masking are from the window start. */
  async function maskedWindow(item: DisclosureItemRow, m: CameraMasking, segs: Awaited<ReturnType<DisclosureRepository['windowSegments']>>, dir: string, tz: string) {
    const files: string[] = [];
    for (const s of segs) {
      const f = path.join(dir, `${s.id}.ts`);
      await download(s.objectKey, f);
      if ((await sha256File(f)) !== s.sha256) throw new PackSourceError(`segment ${s.id}: SHA-256 is not the edge hash`);
      files.push(f);
    }
    const probes = await Promise.all(files.map((f) => deps.video.probe(f)));
    const keyframes = await deps.video.keyframes(files[0]!);
    const w = item.window!;
    const plan = planCut(
      segs.map((s, i) => ({ start: s.start.getTime(), end: s.end.getTime(), probeStart: probes[i]!.startTime, probeDurationS: probes[i]!.durationS, ...(i === 0 && { keyframes }) })),
      { from: w.start.getTime(), to: w.end.getTime() },
    );
    const cutFile = path.join(dir, 'cut.mp4');
    await deps.video.cut({
      inputs: files.map((file, i) => ({ file, ...plan.inputs[i] })),
      output: cutFile,
      subtitlesSrt: timeSubtitles(plan.startMs, plan.endMs, tz),
      audio: null,
      scratchPrefix: path.join(dir, 'cut'),
      metadata: { creation_time: new Date(plan.startMs).toISOString(), site_local_start: localParts(plan.startMs, tz).iso, site_timezone: tz, camera: item.camera!.key },
    });
    // The masking's times are from the window start; the cut starts at the keyframe at or before it.
    const shift = (w.start.getTime() - plan.startMs) / 1000;
    const chosen = m.regions.map((r) => ({ ...r, fromS: r.fromS + shift, toS: r.toS + shift }));
    const detector = await deps.faces;
    let faces: Extract<MaskingRecord, { kind: 'camera_window' }>['faces'] = { requested: m.blurFaces, detector: detector.name, available: detector.available, reason: detector.reason, detected: 0, blurred: 0, kept: 0 };
    let faceBoxes: typeof chosen = [];
    if (m.blurFaces) {
      const cutProbe = await deps.video.probe(cutFile);
      const found = await detector.detect(cutFile, { everyS: FACE_SAMPLE_SECONDS });
      const keep = m.keepFaces.map((k) => ({ ...k, fromS: k.fromS + shift, toS: k.toS + shift }));
      faceBoxes = faceRegions(found, { everyS: FACE_SAMPLE_SECONDS, keep, durationS: cutProbe.durationS });
      faces = { ...faces, detected: found.length, blurred: faceBoxes.length, kept: found.length - faceBoxes.length };
    }
    const out = path.join(dir, 'masked.mp4');
    const r = await deps.masker.blurVideo(cutFile, out, { regions: [...chosen, ...faceBoxes], style: m.style, keepAudio: false });
    const applied = r.applied.map((a, i) => ({ ...a, source: i < chosen.length ? ('chosen' as const) : ('face' as const) }));
    const record: MaskingRecord = { itemId: item.id, kind: 'camera_window', cameraKey: item.camera!.key, style: m.style, regions: applied, faces, audio: 'removed' };
    return { file: out, startMs: plan.startMs, durationS: r.durationS ?? (plan.endMs - plan.startMs) / 1000, record, regions: applied.length };
  }

  return {
    async build(requestId: string, buildId: string, requestedBy: { id: string; login: string }, ctx: { attempt: number; maxAttempts: number; progress(p: Record<string, unknown>): Promise<void> }): Promise<DisclosureBuildResult> {
      const d = await deps.disclosures.findRequest(requestId);
      if (!d) throw new PermanentJobError(`disclosure request ${requestId} does not exist`);
      if (d.status !== 'building' || d.response.jobId !== buildId) return { status: 'skipped', reason: `request is ${d.status} under build ${d.response.jobId ?? 'none'}` };
      const progress = async (p: Record<string, unknown>) => {
        await ctx.progress(p);
        await deps.disclosures.setProgress(requestId, p);
      };
      const scratch = await mkdtemp(path.join(deps.workDir ?? tmpdir(), 'disclosure-'));
      const now = deps.clock.now();
      const objectKey = `disclosures/${d.id}/${buildId.replace(/[^A-Za-z0-9_.-]/g, '_')}.zip`;
      try {
        const items = await deps.disclosures.listItems(d.id);
        if (items.some((i) => i.decision === null)) throw new PermanentJobError('an item has no decision');
        const sites = await deps.disclosures.siteNotices([...new Set(items.map((i) => i.site.id))]);
        const tz = sites[0]?.timezone ?? 'Asia/Tokyo';
        const masking: MaskingRecord[] = [];
        const disclosed = items.filter((i) => i.decision !== 'withhold');
        await progress({ phase: 'masking', percent: 0, done: 0, total: disclosed.length });

        // Camera windows.
        const cameraWindows: PackCameraWindow[] = [];
        let done = 0;
        for (const item of disclosed.filter((i) => i.kind === 'camera_window')) {
          const w = item.window!;
          const segs = await deps.disclosures.windowSegments(item.camera!.id, w.start, w.end);
          const gaps = (await deps.segments.listGapsInRange(item.camera!.id, w.start, w.end)).map((g) => ({ from: g.start, to: g.end, reason: g.reason, detail: g.detail }));
          const cw: PackCameraWindow = { camera: item.camera!, from: w.start, to: w.end, segments: segs, gaps, includeOriginals: false };
          if (item.decision === 'disclose_masked' && segs.length > 0) {
            const dir = path.join(scratch, `w-${item.id}`);
            await mkdir(dir);
            const m = await maskedWindow(item, item.masking as CameraMasking, segs, dir, item.site.timezone);
            masking.push(m.record);
            const note = `マスキング済み（${m.regions}領域をぼかし、音声なし）/ masked: ${m.regions} region(s) blurred, audio removed`;
            cw.replacementVideo = { file: m.file, start: new Date(m.startMs), durationS: m.durationS, videoCodec: 'h264', note };
          }
          cameraWindows.push(cw);
          done++;
          await progress({ phase: 'masking', percent: Math.floor((done / Math.max(1, disclosed.length)) * 50), done, total: disclosed.length });
        }

        // Recordings, grouped by call.
        const recItems = disclosed.filter((i) => i.kind === 'recording');
        const callIds = [...new Set(disclosed.map((i) => i.call.id))];
        const callRows = new Map((await deps.calls.listByIds(callIds)).map((c) => [c.id, c]));
        const byCall = new Map<string, PackRecordingSource[]>();
        for (const item of recItems) {
          const rec = (await deps.recordings.findById(item.recording!.id)) as RecordingRow | undefined;
          if (!rec?.objectKey) throw new PackSourceError(`recording ${item.recording!.id} (${item.recording!.name}) is no longer stored`);
          const src: PackRecordingSource = {
            id: rec.id,
            name: rec.name,
            role: rec.role,
            objectKey: rec.objectKey,
            size: rec.size,
            sha256: rec.sha256,
            playable: rec.playable ? { objectKey: rec.playable.key, size: rec.playable.size, extension: 'm4a' } : null,
          };
          if (item.decision === 'disclose_masked') {
            const m = item.masking as RecordingMasking;
            const plan = audioMaskFor(rec.role, m.muteRanges);
            if (plan.omit) throw new PermanentJobError(`recording ${rec.name}: only the other party's side, cannot be disclosed masked`);
            const orig = path.join(scratch, `r-${rec.id}.orig`);
            await download(rec.objectKey, orig);
            if ((await sha256File(orig)) !== rec.sha256) throw new PackSourceError(`recording ${rec.id} (${rec.name}): SHA-256 is not the edge hash`);
            const out = path.join(scratch, `r-${rec.id}.wav`);
            await deps.masker.maskAudio(orig, out, { muteChannels: plan.muteChannels, muteRanges: plan.muteRanges });
            const what = [plan.muteChannels.length ? '応対者チャンネルを消音 / operator channel muted' : null, plan.muteRanges.length ? `${plan.muteRanges.length}区間を消音 / ${plan.muteRanges.length} range(s) muted` : null].filter(Boolean).join('; ');
            src.includeOriginal = false;
            src.replacementPlayable = { file: out, extension: 'wav', note: `マスキング済み / masked: ${what}` };
            masking.push({ itemId: item.id, kind: 'recording', recordingId: rec.id, name: rec.name, role: rec.role, mutedChannels: plan.muteChannels, mutedChannelNames: plan.muteChannels.map(() => 'operator'), mutedRanges: plan.muteRanges, output: 'wav' });
          }
          const list = byCall.get(item.call.id) ?? [];
          list.push(src);
          byCall.set(item.call.id, list);
          done++;
          await progress({ phase: 'masking', percent: Math.floor((done / Math.max(1, disclosed.length)) * 50), done, total: disclosed.length });
        }
        const calls: PackCallSource[] = callIds.flatMap((id) => {
          const c = callRows.get(id);
          if (!c) return [];
          return [
            {
              id: c.id,
              pbxCallId: c.callKey,
              direction: c.direction,
              start: c.startAt,
              end: c.endAt,
              callerNumber: c.caller.number,
              callerName: c.caller.name,
              operator: c.operator ? c.operator.extension : null,
              notice: { played: c.notice.played, method: c.notice.method },
              recordings: byCall.get(id) ?? [],
            },
          ];
        });

        const decisions = items.map((i) => ({
          itemId: i.id,
          kind: i.kind,
          site: i.site.code,
          callId: i.call.id,
          callStart: i.call.start.toISOString(),
          recording: i.recording ? { id: i.recording.id, name: i.recording.name, role: i.recording.role, edgeSha256: i.recording.sha256 } : null,
          camera: i.camera ? { id: i.camera.id, key: i.camera.key, name: i.camera.name } : null,
          window: i.window ? { from: i.window.start.toISOString(), to: i.window.end.toISOString() } : null,
          decision: i.decision,
          withholdReason: i.withholdReason,
          decidedBy: i.decidedBy,
          decidedAt: i.decidedAt?.toISOString() ?? null,
        }));
        const custody: CustodyEvent[] = [
          { at: `${d.receivedOn}T00:00:00.000Z`, action: 'disclosure.received', actor: null, detail: `開示請求受付 ${d.receivedOn}（本人確認: ${IDENTITY_CHECK_LABELS[d.identityCheck].ja}）` },
          { at: d.createdAt.toISOString(), action: 'disclosure.create', actor: d.createdBy, detail: `${d.reference} recorded` },
          ...items
            .filter((i) => i.decidedAt)
            .map((i) => ({ at: i.decidedAt!.toISOString(), action: 'disclosure.item.decide', actor: i.decidedBy, detail: `${i.recording?.name ?? i.camera?.key ?? i.id}: ${i.decision}` })),
        ].sort((a, b) => a.at.localeCompare(b.at));
        const label = (i: DisclosureItemRow) => `${localParts(i.call.start.getTime(), i.site.timezone).text} ${i.site.name} ${i.recording ? `通話録音 ${i.recording.name}` : `カメラ ${i.camera!.name}`}`;
        const reportNotes = [
          `開示請求 ${d.reference}: 請求者 ${d.requesterName}（電話番号 ${d.requesterNumber}）、受付日 ${d.receivedOn}、本人確認 ${IDENTITY_CHECK_LABELS[d.identityCheck].ja}${d.identityNote ? `（${d.identityNote}）` : ''}、回答期限 ${d.deadline}。`,
          ...items.map((i) => `${label(i)}: ${DECISION_LABELS[i.decision!].ja}${i.decision === 'withhold' ? `（理由: ${i.withholdReason}）` : ''}`),
          '第三者（応対した従業員・他のお客様）の音声と映像はマスキングしています。マスキング済みの映像・音声は再エンコードした複製で、元データは同梱していません。 / Third parties are masked; masked media are re-encoded copies and their originals are not included.',
        ];
        const siteInfo =
          sites.length === 1
            ? { code: sites[0]!.code, name: sites[0]!.name, timezone: tz, cameraNotice: sites[0]!.cameraNotice, pbxNoticeText: sites[0]!.pbxNoticeText, agentClockOffsetMs: null }
            : { code: sites.map((s) => s.code).join('+') || 'none', name: sites.map((s) => s.name).join('・') || '（該当なし）', timezone: tz, cameraNotice: null, pbxNoticeText: null, agentClockOffsetMs: null };

        const result = await deps.pack.build(
          {
            packId: buildId,
            kind: 'disclosure',
            objectKey,
            builtAt: now,
            builtBy: { id: requestedBy.id, login: requestedBy.login, name: null },
            purpose: 'data_subject_request',
            reference: d.reference,
            legalBasis: DISCLOSURE_LEGAL_BASIS,
            case: null,
            site: siteInfo,
            cameraWindows,
            calls,
            bookmarks: [],
            custody,
            manifestExtra: {
              disclosure: {
                reference: d.reference,
                requester: { name: d.requesterName, number: d.requesterNumber },
                receivedOn: d.receivedOn,
                identityCheck: d.identityCheck,
                deadline: d.deadline,
                search: { from: d.searchFrom.toISOString(), to: d.searchTo.toISOString() },
                decisions,
                masking,
              },
            },
            reportNotes,
          },
          async (p) => progress({ ...p, percent: 50 + Math.floor(p.percent / 2) }),
        );

        // The ZIP's own hash, from the stored bytes.
        const h = createHash('sha256');
        for await (const c of await deps.store.read(objectKey)) h.update(c as Buffer);
        const sha256 = h.digest('hex');
        const at = deps.clock.now();
        const withheld = items.filter((i) => i.decision === 'withhold').length;
        const ok = await deps.tx(async (r) => {
          const marked = await r.disclosures.markReady(d.id, { objectKey, sha256, size: result.size, manifestSha256: result.manifestSha256, at });
          if (!marked) return false;
          await deps.audit.recordWithin(r, DISCLOSURE_ACTOR, {
            action: 'disclosure.response.build',
            targetType: 'disclosure_request',
            targetId: d.id,
            details: { reference: d.reference, buildId, objectKey, sha256, size: result.size, manifestSha256: result.manifestSha256, keyFingerprint: result.keyFingerprint, files: result.fileCount, disclosed: disclosed.length, masked: masking.length, withheld, requestedBy: requestedBy.login },
          });
          return true;
        });
        if (!ok) {
          await deps.store.remove(objectKey).catch(() => undefined);
          return { status: 'skipped', reason: 'a decision changed while the response was built' };
        }
        return { status: 'ready', objectKey, size: result.size, sha256, manifestSha256: result.manifestSha256, masked: masking.length, withheld };
      } catch (e) {
        const final = e instanceof PermanentJobError || e instanceof PackSourceError || ctx.attempt >= ctx.maxAttempts;
        if (final) {
          await deps.tx(async (r) => {
            const cur = await r.disclosures.findRequest(d.id, { forUpdate: true });
            if (cur?.status !== 'building' || cur.response.jobId !== buildId) return;
            await r.disclosures.setStatus(d.id, 'failed', deps.clock.now(), { error: (e as Error).message.slice(0, 2000) });
            await deps.audit.recordWithin(r, DISCLOSURE_ACTOR, { action: 'disclosure.response.build', targetType: 'disclosure_request', targetId: d.id, outcome: 'failure', details: { reference: d.reference, buildId, error: (e as Error).message.slice(0, 500) } });
          });
          if (e instanceof PackSourceError) throw new PermanentJobError(e.message);
        }
        throw e;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
export type DisclosureBuildService = ReturnType<typeof disclosureBuildService>;
