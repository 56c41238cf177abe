import { Readable } from 'node:stream';
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, NOTICE_PLAYED } from '@mamoru/contract/enums';
import { createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.ts';
import { errorResponses, iso, IsoDate, json, router, sessionSecurity, Uuid } from '../http/openapi.ts';
import type { CallRow, CallLegRow, CallVersionRow } from '../repositories/call.repository.ts';
import type { CallQueryService } from '../services/call-query.service.ts';
import { mediaResponse, withUnsatisfiableRangeLength } from '../http/media-response.ts';


const Link = z.object({ url: z.string(), expiresAt: z.string() });
const CallSummary = z
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
const CallDetail = CallSummary.extend({
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

const summary = (c: CallRow) => ({
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

const leg = (l: CallLegRow) => l;
const version = (v: CallVersionRow) => ({ version: v.version, receivedAt: v.receivedAt.toISOString(), agentId: v.agentId, payloadSha256: v.payloadSha256, payload: v.payload });
const link = (l: { url: string; expiresAt: Date } | null) => l && { url: l.url, expiresAt: l.expiresAt.toISOString() };

/** `site=a,b` or `site=a&site=b`. */
const SiteList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(Uuid).max(500))
  .openapi({ type: 'string', description: 'site id(s): comma separated or repeated' });

const SearchQuery = z.object({
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

/** Reads of calls and recording media (signed link or session); the session gate in app.ts sets the principal. */
export function callRoutes(deps: { calls: CallQueryService }) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/calls',
      summary: 'Search calls the caller may see, newest first, by cursor',
      security: sessionSecurity,
      request: { query: SearchQuery },
      responses: { 200: json(z.object({ calls: z.array(CallSummary), nextCursor: z.string().nullable() })), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const r = await deps.calls.search(c.get('principal'), { ...q, siteIds: q.site });
      return c.json({ calls: r.calls.map(summary), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/calls/{id}',
      summary: 'One call: current facts, legs with raw PBX lines, every version, recordings with signed links and derivation state',
      security: sessionSecurity,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: json(CallDetail), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const d = await deps.calls.detail(c.get('principal'), c.req.valid('param').id);
      const current = d.versions.find((v) => v.version === d.call.currentVersion)?.payload;
      return c.json(
        {
          ...summary(d.call),
          operators: current?.operators ?? [],
          transfers: (current?.transfers ?? []).map((t) => ({ kind: t.kind, atUtc: t.atUtc, by: t.by, from: t.from, to: t.to, raw: t.raw })),
          noticeEvidence: current?.notice.evidence ?? [],
          site: { id: d.site.id, code: d.site.code, name: d.site.name, timezone: d.site.timezone },
          retentionClass: d.call.retentionClass,
          holdCount: d.call.holdCount,
          legs: d.legs.map(leg),
          versions: d.versions.map(version),
          recordings: d.recordings.map((r) => ({
            id: r.id,
            name: r.name,
            role: r.role,
            format: r.format,
            sampleRate: r.sampleRate,
            channels: r.channels,
            durationS: r.durationS,
            size: r.size,
            sha256: r.sha256,
            declaredInVersion: r.declaredInVersion,
            stored: r.objectKey !== null,
            storedAt: iso(r.storedAt),
            mediaType: r.mediaType,
            original: link(r.originalLink),
            playable: r.playable && r.playableLink && { ...link(r.playableLink)!, mediaType: r.playable.mediaType, codec: r.playable.codec, size: r.playable.size, durationS: r.playable.durationS },
            waveform: r.waveform && r.waveformLink && { ...link(r.waveformLink)!, bucketMs: r.waveform.bucketMs, size: r.waveform.size },
            derive: { status: r.derive.status, error: r.derive.error, attempts: r.derive.attempts, jobId: r.derive.jobId, updatedAt: iso(r.derive.updatedAt) },
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/media/recordings/{id}/{kind}',
      summary: "A recording's original, playable copy or waveform JSON, by signed link or with a bearer token; supports Range",
      request: {
        params: z.object({ id: z.string().max(64), kind: z.enum(['original', 'playable', 'waveform']) }),
        query: z.object({ exp: z.coerce.number().int().optional(), sig: z.string().max(100).optional() }),
      },
      responses: { 200: { description: 'media' }, 206: { description: 'partial media' }, ...errorResponses(400, 401, 403, 404, 416) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const p = c.req.valid('param');
      const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
      const m = await deps.calls.media({ principal, exp: q.exp, sig: q.sig }, p.id, p.kind, c.req.header('range')).catch(withUnsatisfiableRangeLength(c));
      return mediaResponse(c, m);
    },
  );

  return app;
}
