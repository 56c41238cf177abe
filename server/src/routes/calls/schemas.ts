/** Request and response schemas of the calls routes, and the mappers from repository rows to them. */
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, NOTICE_PLAYED } from '@mamoru/contract/enums';
import { z } from '@hono/zod-openapi';
import { iso, IsoDate, Uuid } from '../../http/openapi.ts';
import type { CallRow, CallLegRow, CallVersionRow } from '../../repositories/call.repository.ts';

const Link = z.object({ url: z.string(), expiresAt: z.string() });
export const CallSummary = z
  .object({
    id: z.string(),
    siteId: z.string(),
    callKey: z.string(),
    pbxId: z.string(),
    linkedId: z.string(),
    currentVersion: z.number(),
    direction: z.string(),
    disposition: z.string(),
    caller: z.object({ number: z.string().nullable(), name: z.string().nullable(), e164: z.string().nullable() }),
    called: z.object({ number: z.string().nullable(), e164: z.string().nullable() }),
    directionSource: z.string().openapi({ description: 'how direction was decided: recording_name, channels, context, ami, sidecar, none' }),
    operator: z.object({ extension: z.string(), name: z.string().nullable(), source: z.string().nullable() }).nullable(),
    /** Every extension the call rang, answered or not. */
    operatorExtensions: z.array(z.string()),
    /** Transfers of the current version (the call page has them in full, with the raw CEL line). */
    transfers: z.array(z.object({ kind: z.string(), atUtc: z.string().nullable(), by: z.string().nullable(), to: z.string().nullable() })),
    /** Set while the call is only known live (AMI): in_progress or ended, until its sealed version arrives. */
    live: z.object({ state: z.string(), updatedAt: z.string().nullable() }).nullable(),
    times: z.object({
      startUtc: z.string(),
      answerUtc: z.string().nullable().openapi({ description: "the PBX's answer (notice prompt / IVR), not a person's" }),
      endUtc: z.string(),
      durationS: z.number(),
      talkS: z.number().nullable(),
      pickupUtc: z.string().nullable().openapi({ description: 'when the first operator picked up' }),
      operatorTalkS: z.number().nullable(),
      zone: z.string(),
      zoneSource: z.string(),
      raw: z.object({ start: z.string().nullable(), answer: z.string().nullable(), end: z.string().nullable() }),
    }),
    notice: z.object({ played: z.string(), method: z.string().nullable(), atUtc: z.string().nullable() }),
    flags: z.array(z.string()),
    recordingCount: z.number(),
  })
  .openapi('CallSummary');
const Leg = z.object({
  ordinal: z.number(),
  uniqueId: z.string().nullable(),
  linkedId: z.string().nullable(),
  sequence: z.number().nullable(),
  src: z.string().nullable(),
  dst: z.string().nullable(),
  channel: z.string().nullable(),
  dstChannel: z.string().nullable(),
  lastApp: z.string().nullable(),
  disposition: z.string().nullable(),
  raw: z.string(),
  source: z.object({ file: z.string(), offset: z.number().nullable() }),
});
const Recording = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  format: z.string(),
  sampleRate: z.number().nullable(),
  channels: z.number().nullable(),
  durationS: z.number().nullable(),
  size: z.number(),
  sha256: z.string(),
  declaredInVersion: z.number(),
  stored: z.boolean(),
  storedAt: z.string().nullable(),
  mediaType: z.string().nullable(),
  original: Link.nullable(),
  playable: Link.extend({ mediaType: z.string(), codec: z.string(), size: z.number(), durationS: z.number() }).nullable(),
  waveform: Link.extend({ bucketMs: z.number(), size: z.number() }).nullable(),
  derive: z.object({ status: z.string(), error: z.string().nullable(), attempts: z.number(), jobId: z.string().nullable(), updatedAt: z.string().nullable() }),
});
export const CallDetail = CallSummary.extend({
  site: z.object({ id: z.string(), code: z.string(), name: z.string(), timezone: z.string() }),
  /** From the current version: every operator rung (and when each picked up), transfers, the notice's evidence lines. */
  operators: z.array(z.object({ extension: z.string(), name: z.string().nullable(), rungUtc: z.string().nullable(), answeredUtc: z.string().nullable(), source: z.string() })),
  transfers: z.array(z.object({ kind: z.string(), atUtc: z.string().nullable(), by: z.string().nullable(), from: z.string().nullable(), to: z.string().nullable(), raw: z.string() })),
  noticeEvidence: z.array(z.object({ source: z.string(), raw: z.string(), file: z.string().nullable(), offset: z.number().nullable() })),
  retentionClass: z.string(),
  holdCount: z.number(),
  legs: z.array(Leg),
  versions: z.array(z.object({ version: z.number(), receivedAt: z.string(), agentId: z.string().nullable(), payloadSha256: z.string(), payload: z.unknown() })),
  recordings: z.array(Recording),
}).openapi('CallDetail');

export const summary = (c: CallRow) => ({
  id: c.id,
  siteId: c.siteId,
  callKey: c.callKey,
  pbxId: c.pbxId,
  linkedId: c.linkedId,
  currentVersion: c.currentVersion,
  direction: c.direction,
  disposition: c.disposition,
  caller: c.caller,
  called: c.called,
  directionSource: c.directionSource,
  operator: c.operator,
  operatorExtensions: c.operatorExtensions,
  transfers: c.transfers,
  live: c.liveState ? { state: c.liveState, updatedAt: iso(c.liveUpdatedAt) } : null,
  times: {
    startUtc: c.startAt.toISOString(),
    answerUtc: iso(c.answerAt),
    endUtc: c.endAt.toISOString(),
    durationS: c.durationS,
    talkS: c.talkS,
    pickupUtc: iso(c.pickupAt),
    operatorTalkS: c.operatorTalkS,
    zone: c.zone,
    zoneSource: c.zoneSource,
    raw: c.raw,
  },
  notice: { played: c.notice.played, method: c.notice.method, atUtc: iso(c.notice.atUtc) },
  flags: c.flags,
  recordingCount: c.recordingCount,
});

export const leg = (l: CallLegRow) => l;
/** Operators rung, transfers and the notice's evidence lines of the current version (older payloads: none). */
export const currentFacts = (versions: CallVersionRow[], currentVersion: number) => {
  const p = versions.find((v) => v.version === currentVersion)?.payload;
  return {
    operators: p?.operators ?? [],
    transfers: (p?.transfers ?? []).map((t) => ({ kind: t.kind, atUtc: t.atUtc, by: t.by, from: t.from, to: t.to, raw: t.raw })),
    noticeEvidence: p?.notice.evidence ?? [],
  };
};
export const version = (v: CallVersionRow) => ({ version: v.version, receivedAt: v.receivedAt.toISOString(), agentId: v.agentId, payloadSha256: v.payloadSha256, payload: v.payload });
export const link = (l: { url: string; expiresAt: Date } | null) => l && { url: l.url, expiresAt: l.expiresAt.toISOString() };

/** `site=a,b` or `site=a&site=b`. */
const SiteList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(Uuid).max(500))
  .openapi({ type: 'string', description: 'site id(s): comma separated or repeated' });

export const SearchQuery = z.object({
  site: SiteList.optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  number: z.string().max(40).optional().openapi({ description: 'part of the caller or called number, raw or E.164 (digits compared; at least 3)' }),
  caller: z.string().max(40).optional(),
  called: z.string().max(40).optional(),
  operator: z.string().min(1).max(64).optional().openapi({ description: 'an extension the call rang (answered or not), exact' }),
  direction: z.enum(CALL_DIRECTIONS).optional(),
  disposition: z.enum(CALL_DISPOSITIONS).optional(),
  notice: z.enum(NOTICE_PLAYED).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
