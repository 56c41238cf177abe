/**
 * The agent API (`/api/v1/agent/...`) as zod schemas: what an edge agent sends and what the centre answers. The
 * centre validates requests with these schemas (its OpenAPI document is generated from them); the agent builds its
 * requests as their input types (`z.input`), so a field changed here breaks both at compile time.
 *
 * Schemas carry OpenAPI names and descriptions with zod's own `.meta()` (`id` names a component), never
 * `.openapi()`: zod copies prototype methods onto a schema when it is built, so a schema built before the centre's
 * @hono/zod-openapi extended zod (an agent module imported first, as in the agent's tests) would lack the method.
 */
import { z } from 'zod';
import { AGENT_COMMAND_KINDS, CAMERA_HEALTHS, COMMAND_RESULTS, GAP_REASONS, PUT_STATUSES, UPLOAD_MODES } from './enums.ts';
import { SHA256_HEX } from './call-payload.ts';

export * from './call-payload.ts';

/** An ISO 8601 date-time with a zone offset (or `Z`); parsed to a Date. */
export const IsoDateTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** A camera's key within its site (the agent's config names it). */
export const CAMERA_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const CameraKeySchema = z.string().regex(CAMERA_KEY);

const Sha256 = z.string().regex(SHA256_HEX, 'lowercase hex SHA-256');
const MAX_SEGMENT_MS = 3_600_000;
/** The largest agent clock offset (agent − centre) the centre accepts, ms: a clock further off needs fixing first. */
export const MAX_CLOCK_OFFSET_MS = 86_400_000;

/**
 * Bounds on every time an agent sends (docs/design.md invariant 9, docs/agent.md "Time bounds"). Footage and gap
 * times are in the agent's clock; the centre takes out the agent's measured offset (the segment's `clockOffsetMs`,
 * else the one of its last heartbeat, else 0) and refuses with 422 `time_out_of_bounds`:
 * - a time more than `futureToleranceMs` ahead of the centre's clock after that correction;
 * - a time before `floor` (a clock reset to 1970 or year 1; the product has no footage older than this);
 * - a heartbeat whose `sentAtMs` is more than `MAX_CLOCK_OFFSET_MS + futureToleranceMs` from the centre's clock.
 */
export const AGENT_TIME_BOUNDS = {
  floor: '2020-01-01T00:00:00.000Z',
  futureToleranceMs: 5 * 60_000,
} as const;

/**
 * Error codes of the agent API the agent acts on (the other codes are in docs/agent.md). `time_out_of_bounds` (422)
 * is final for that item: retrying cannot help, the evidence is kept in quarantine at the store.
 */
export const AGENT_ERROR_CODES = {
  timeOutOfBounds: 'time_out_of_bounds',
  segmentConflict: 'segment_conflict',
  segmentOverlap: 'segment_overlap',
} as const;

// ---- enrollment ---------------------------------------------------------------------------------------------------

export const EnrollBodySchema = z.object({
  token: z.string().min(10).max(200),
  hostname: z.string().max(255).nullable().default(null),
  version: z.string().max(64).nullable().default(null),
});
export type EnrollBody = z.input<typeof EnrollBodySchema>;
export const EnrollResponseSchema = z.object({ agentId: z.string(), siteId: z.string(), siteCode: z.string(), timezone: z.string(), credential: z.string() });
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

// ---- cameras ------------------------------------------------------------------------------------------------------

/** `PUT /cameras/{key}`: how the centre shows the camera. Stream URIs and credentials never leave the agent. */
export const CameraBodySchema = z.object({
  name: z.string().min(1).max(200),
  place: z.string().max(200).nullable().default(null),
  uploadMode: z.enum(UPLOAD_MODES).default('continuous'),
  device: z.record(z.string(), z.unknown()).default({}),
  health: z.enum(CAMERA_HEALTHS).default('unknown'),
});
export type CameraBody = z.input<typeof CameraBodySchema>;
export const CameraResponseSchema = z.object({ cameraId: z.string(), key: z.string(), uploadMode: z.string() });

// ---- segments -----------------------------------------------------------------------------------------------------

/**
 * A closed segment's facts as the agent measured them: the body of `PUT /segments/{cameraKey}/{start}/meta`
 * (on-demand cameras), and, as `x-segment-*` headers, of the media upload.
 */
export const SegmentMetaSchema = z.object({
  sha256: Sha256,
  size: z.number().int().positive(),
  durationMs: z.number().int().positive().max(MAX_SEGMENT_MS),
  mediaType: z.string().min(1).max(100),
  codec: z.record(z.string(), z.unknown()).default({}),
  /** One id per ffmpeg process: timestamps restart when it changes. */
  runId: z.uuid().nullable().default(null),
  /** Agent clock minus centre clock at capture, ms. */
  clockOffsetMs: z.number().int().min(-MAX_CLOCK_OFFSET_MS).max(MAX_CLOCK_OFFSET_MS).nullable().default(null),
});
export type SegmentMeta = z.output<typeof SegmentMetaSchema>;
export type SegmentMetaInput = z.input<typeof SegmentMetaSchema>;

/** The longest `x-segment-codec` header (JSON of `codec`); a longer one is left out by the agent. */
export const MAX_CODEC_HEADER = 2000;

/** `x-segment-codec`: JSON text of a `codec` object (SegmentMetaSchema's `codec`), parsed and checked by the same schema. */
export const CodecHeaderSchema = z
  .string()
  .max(MAX_CODEC_HEADER)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(SegmentMetaSchema.shape.codec.unwrap());

/** Headers of `PUT /segments/{cameraKey}/{start}` (the body is the segment file, `video/mp2t`). */
export const SegmentHeadersSchema = z.object({
  'x-segment-sha256': SegmentMetaSchema.shape.sha256,
  'x-segment-size': z.coerce.number().int().positive(),
  'x-segment-duration-ms': z.coerce.number().int().positive().max(MAX_SEGMENT_MS),
  'x-segment-run': z.uuid().optional(),
  /** JSON of the segment's `codec` object, validated as the metadata-only route's `codec` (an object, not null or a list). */
  'x-segment-codec': CodecHeaderSchema.optional(),
  'x-clock-offset-ms': z.coerce.number().int().min(-MAX_CLOCK_OFFSET_MS).max(MAX_CLOCK_OFFSET_MS).optional(),
  'content-type': z.string(),
  'content-length': z.coerce.number().int().nonnegative().optional(),
});
export type SegmentHeaders = z.input<typeof SegmentHeadersSchema>;

/** JSON as an HTTP header value: characters outside ASCII as `\uXXXX` escapes (JSON.parse reads them back). */
export function headerJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The `x-segment-*` headers for a segment's facts (what the centre parses back with SegmentHeadersSchema). */
export function segmentHeaders(m: Pick<SegmentMeta, 'sha256' | 'size' | 'durationMs' | 'codec' | 'runId' | 'clockOffsetMs'>): Record<string, string> {
  const h: Record<string, string> = {
    'x-segment-sha256': m.sha256,
    'x-segment-size': String(m.size),
    'x-segment-duration-ms': String(m.durationMs),
  } satisfies Partial<SegmentHeaders>;
  if (m.runId !== null) h['x-segment-run'] = m.runId;
  const codec = headerJson(m.codec);
  if (codec.length <= MAX_CODEC_HEADER) h['x-segment-codec'] = codec;
  if (m.clockOffsetMs !== null) h['x-clock-offset-ms'] = String(m.clockOffsetMs);
  return h;
}

export const SegmentPutResponseSchema = z.object({ status: z.enum(PUT_STATUSES), segmentId: z.string() });

/**
 * `GET /segments/{cameraKey}/{start}`: the segment the centre holds with this identity (camera + real start), 404
 * `segment_not_found` when none. The agent asks before it quarantines a segment the centre refused with 409: when the
 * centre holds the very same segment (hash, size, duration), it was delivered. `media`: `stored` (at the centre),
 * `at_store` (metadata only, on-demand), `deleted` (by the retention policy).
 */
export const SegmentStateResponseSchema = z.object({
  segmentId: z.string(),
  sha256: z.string(),
  size: z.number(),
  durationMs: z.number(),
  media: z.enum(['stored', 'at_store', 'deleted']),
});
export type SegmentStateAnswer = z.infer<typeof SegmentStateResponseSchema>;

// ---- gaps ---------------------------------------------------------------------------------------------------------

/** `POST /gaps`: a stretch with no footage and why (gaps are shown, never hidden). */
export const GapBodySchema = z.object({
  cameraKey: CameraKeySchema,
  start: IsoDateTime,
  end: IsoDateTime,
  reason: z.enum(GAP_REASONS),
  detail: z.string().max(2000).nullable().default(null),
});
export type GapBody = z.input<typeof GapBodySchema>;
export const GapResponseSchema = z.object({ created: z.boolean(), gapId: z.string() });

// ---- heartbeat and commands ---------------------------------------------------------------------------------------

export const HeartbeatBodySchema = z.object({
  version: z.string().max(64),
  sentAtMs: z.number().int().positive(),
  clockOffsetMs: z.number().int().min(-MAX_CLOCK_OFFSET_MS).max(MAX_CLOCK_OFFSET_MS).nullable().default(null),
  diskUsedBytes: z.number().int().nonnegative().nullable().default(null),
  diskTotalBytes: z.number().int().nonnegative().nullable().default(null),
  backlogCount: z.number().int().nonnegative().nullable().default(null),
  backlogBytes: z.number().int().nonnegative().nullable().default(null),
  cameras: z.array(z.object({ key: CameraKeySchema, health: z.string().max(32) })).max(256).default([]),
});
export type HeartbeatBody = z.input<typeof HeartbeatBodySchema>;

/**
 * A command from the centre, delivered in heartbeat answers at least once (executing it twice must be harmless) and
 * acknowledged at `POST /commands/{id}/ack`.
 *
 * `preserve_window`: mark every local segment of `cameraKey` overlapping [from, to) as held (never evicted, kept
 * past the rolling buffer) and upload their media ahead of everything else; acknowledge 'done' once they are all
 * queued at case priority, 'failed' with a detail when the footage is not at the store (evicted, never recorded).
 */
export const AgentCommandSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(AGENT_COMMAND_KINDS),
    cameraKey: z.string(),
    from: z.string().meta({ description: 'ISO 8601 UTC' }),
    to: z.string().meta({ description: 'ISO 8601 UTC' }),
    incidentId: z.uuid().nullable(),
  })
  .meta({ id: 'AgentCommand', description: 'preserve_window: hold every local segment of the camera overlapping [from, to) and upload it ahead of everything else' });
export type AgentCommand = z.infer<typeof AgentCommandSchema>;

export const HeartbeatResponseSchema = z.object({
  /** Centre clock when the heartbeat arrived and when the answer left (ms since the epoch): an NTP-style offset. */
  receivedAtMs: z.number(),
  sentAtMs: z.number(),
  commands: z.array(AgentCommandSchema),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

export const CommandAckBodySchema = z.strictObject({ status: z.enum(COMMAND_RESULTS), detail: z.string().max(2000).nullable().default(null) });
export type CommandAckBody = z.input<typeof CommandAckBodySchema>;
export const CommandAckResponseSchema = z.object({ id: z.string(), status: z.enum(COMMAND_RESULTS), alreadyAcknowledged: z.boolean() });

// ---- calls --------------------------------------------------------------------------------------------------------

/** `PUT /calls/{callKey}/versions/{version}`: the body is a CallPayload (call-payload.ts). */
export const MAX_CALL_JSON_BYTES = 4 * 1024 * 1024;
export const CallVersionResponseSchema = z.object({
  callId: z.string(),
  version: z.number(),
  status: z.enum(PUT_STATUSES),
  /** Declared recordings whose bytes the centre does not hold yet. */
  missingRecordings: z.array(z.string()),
});
/** Answer to `PUT /calls/{callKey}/live`: `applied`, or `superseded` (a sealed version is there) / `stale` (older seq). */
export const LiveCallResponseSchema = z.object({ callId: z.string(), status: z.enum(['applied', 'superseded', 'stale']) });
export const RecordingPutResponseSchema = z.object({
  status: z.enum(PUT_STATUSES),
  callId: z.string(),
  recordingId: z.string(),
  derive: z.object({ status: z.string(), jobId: z.string().nullable() }),
});
