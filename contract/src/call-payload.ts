/**
 * The call payload an agent PUTs to `/api/v1/agent/calls/{callKey}/versions/{version}`: one version of a phone
 * call's facts as the PBX adapter correlated them. Objects are strict: a field the centre does not know is an
 * error, not silently dropped, because the centre keeps every version as evidence.
 */
import { z } from 'zod';
import {
  CALL_DIRECTIONS,
  CALL_DISPOSITIONS,
  CALL_FLAGS,
  DIRECTION_SOURCES,
  LIVE_CALL_STATES,
  NOTICE_EVIDENCE_SOURCES,
  NOTICE_METHODS,
  NOTICE_PLAYED,
  OPERATOR_SOURCES,
  PBX_ADAPTERS,
  RECORDING_ROLES,
  TRANSFER_KINDS,
  ZONE_SOURCES,
} from './enums.ts';

const isZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** ISO 8601 in UTC (`...Z`). */
const UtcTime = z.iso.datetime({ offset: false });
const Text = (max: number) => z.string().max(max);
const Number_ = Text(64).nullable();
const E164 = z.string().regex(/^\+[1-9][0-9]{1,14}$/, 'E.164 (+ and up to 15 digits)').nullable();
const MAX_CALL_S = 7 * 86400;

/** The PBX's id in the agent's config (first half of a call key). */
export const PBX_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Asterisk uniqueids are `epoch.seq`, `system-epoch.seq` or any Originate ChannelId (≤149 chars). No '/' or spaces. */
export const LINKED_ID = /^[\x21-\x2e\x30-\x7e]{1,150}$/;
/** A file basename: no path separators, no control characters, not `.` or `..`. */
export const RECORDING_NAME = /^(?!\.{1,2}$)[^/\\\x00-\x1f\x7f]{1,255}$/;
/** A SHA-256 as lowercase hex. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** One CDR/CEL/sidecar row the call was built from, kept verbatim. */
export const CallLegSchema = z.strictObject({
  uniqueId: Text(150).nullable(),
  linkedId: Text(150).nullable(),
  sequence: z.number().int().min(0).max(2 ** 31 - 1).nullable(),
  src: Text(256).nullable(),
  dst: Text(256).nullable(),
  channel: Text(512).nullable(),
  dstChannel: Text(512).nullable(),
  lastApp: Text(128).nullable(),
  disposition: Text(64).nullable(),
  /** The raw CDR line / JSON line / sidecar text (decoded text; without the line terminator). */
  raw: Text(65_536),
  source: z.strictObject({ file: Text(4096), offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable() }),
});

/** A recording file the call declares; its bytes follow at `/calls/{callKey}/recordings/{name}`. */
export const RecordingDeclarationSchema = z.strictObject({
  name: z.string().regex(RECORDING_NAME, 'a file basename'),
  role: z.enum(RECORDING_ROLES),
  format: z.string().regex(/^[A-Za-z0-9]{1,16}$/),
  sampleRate: z.number().int().min(1).max(768_000).nullable(),
  channels: z.number().int().min(1).max(16).nullable(),
  durationS: z.number().min(0).max(MAX_CALL_S).nullable(),
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(SHA256_HEX, 'lowercase hex SHA-256'),
});

const SourceRef = z.strictObject({ file: Text(4096), offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable() });
const Extension = z.string().min(1).max(64);

/** An extension that was rung for the call; `answeredUtc` when it picked up (the operator's own answer, not the PBX's). */
export const CallOperatorSchema = z.strictObject({
  extension: Extension,
  name: Text(256).nullable(),
  rungUtc: UtcTime.nullable(),
  answeredUtc: UtcTime.nullable(),
  source: z.enum(OPERATOR_SOURCES),
});

/** A transfer: who (`by`) handed the caller from `from` to `to`, and when. The raw CEL/AMI line travels with it. */
export const CallTransferSchema = z.strictObject({
  kind: z.enum(TRANSFER_KINDS),
  atUtc: UtcTime.nullable(),
  by: Text(64).nullable(),
  from: Text(64).nullable(),
  to: Text(256).nullable(),
  raw: Text(65_536),
  source: SourceRef,
});

/** A PBX line that decided the recording-notice status, verbatim. */
export const NoticeEvidenceSchema = z.strictObject({
  source: z.enum(NOTICE_EVIDENCE_SOURCES),
  raw: Text(65_536),
  file: Text(4096).nullable(),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
});

export const CallPayloadSchema = z.strictObject({
  pbxId: z.string().regex(PBX_ID),
  linkedId: z.string().regex(LINKED_ID),
  adapter: z.enum(PBX_ADAPTERS),
  direction: z.enum(CALL_DIRECTIONS),
  /** How `direction` was decided (older agents: `none`). */
  directionSource: z.enum(DIRECTION_SOURCES).default('none'),
  disposition: z.enum(CALL_DISPOSITIONS),
  caller: z.strictObject({ number: Number_, name: Text(256).nullable(), e164: E164 }),
  /** The number the caller dialled (the DID for inbound calls), never an internal extension reached by transfer. */
  called: z.strictObject({ number: Number_, e164: E164 }),
  /** Who answered first (the person the call is "with"); null when nobody did. */
  operator: z.strictObject({ extension: z.string().min(1).max(64), name: Text(256).nullable(), source: z.enum(OPERATOR_SOURCES) }).nullable(),
  /** Every extension that was rung, answered or not (unanswered and busy calls keep who was rung). */
  operators: z.array(CallOperatorSchema).max(64).default([]),
  transfers: z.array(CallTransferSchema).max(64).default([]),
  times: z.strictObject({
    startUtc: UtcTime,
    /** The PBX's answer of the caller's channel (for the notice prompt or IVR), not a person's. */
    answerUtc: UtcTime.nullable(),
    endUtc: UtcTime,
    durationS: z.number().min(0).max(MAX_CALL_S),
    /** From the PBX's answer to the end (CDR billsec). */
    talkS: z.number().min(0).max(MAX_CALL_S).nullable(),
    /** When the first operator picked up (CEL BRIDGE_ENTER / AMI DialEnd ANSWER), and the talk time from then. */
    pickupUtc: UtcTime.nullable().default(null),
    operatorTalkS: z.number().min(0).max(MAX_CALL_S).nullable().default(null),
    /** The zone the PBX's own (naive) times were read in, and how that was decided. */
    zone: z.string().max(64).refine(isZone, 'an IANA time zone'),
    zoneSource: z.enum(ZONE_SOURCES),
    raw: z.strictObject({ start: Text(64).nullable(), answer: Text(64).nullable(), end: Text(64).nullable() }),
  }),
  notice: z.strictObject({
    played: z.enum(NOTICE_PLAYED),
    method: z.enum(NOTICE_METHODS).nullable(),
    atUtc: UtcTime.nullable(),
    /** The PBX lines (cdr_custom, CEL, userfield row) the status was decided from, verbatim. */
    evidence: z.array(NoticeEvidenceSchema).max(32).default([]),
  }),
  legs: z.array(CallLegSchema).max(1000),
  recordings: z.array(RecordingDeclarationSchema).max(64),
  flags: z.array(z.enum(CALL_FLAGS)).max(16),
});

export type CallPayload = z.infer<typeof CallPayloadSchema>;
export type CallOperator = z.infer<typeof CallOperatorSchema>;
export type CallTransfer = z.infer<typeof CallTransferSchema>;
export type NoticeEvidence = z.infer<typeof NoticeEvidenceSchema>;

/**
 * `PUT /calls/{callKey}/live`: what the agent knows of a call while it happens (Asterisk AMI), before any CDR row.
 * The centre shows it as in progress / ended until a sealed version of the same call key arrives, which replaces
 * it; a live update after that is ignored. `seq` grows with every update of the call (older ones are ignored).
 */
export const LiveCallSchema = z.strictObject({
  pbxId: z.string().regex(PBX_ID),
  linkedId: z.string().regex(LINKED_ID),
  adapter: z.enum(PBX_ADAPTERS),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  state: z.enum(LIVE_CALL_STATES),
  direction: z.enum(CALL_DIRECTIONS),
  directionSource: z.enum(DIRECTION_SOURCES),
  caller: z.strictObject({ number: Number_, name: Text(256).nullable(), e164: E164 }),
  called: z.strictObject({ number: Number_, e164: E164 }),
  operator: z.strictObject({ extension: z.string().min(1).max(64), name: Text(256).nullable(), source: z.enum(OPERATOR_SOURCES) }).nullable(),
  operators: z.array(CallOperatorSchema).max(64),
  startUtc: UtcTime,
  answerUtc: UtcTime.nullable(),
  pickupUtc: UtcTime.nullable(),
  endUtc: UtcTime.nullable(),
  /** When the agent saw the last event (agent clock, UTC). */
  observedUtc: UtcTime,
});
export type LiveCall = z.infer<typeof LiveCallSchema>;
export type LiveCallInput = z.input<typeof LiveCallSchema>;
export type CallLeg = z.infer<typeof CallLegSchema>;
export type RecordingDeclaration = z.infer<typeof RecordingDeclarationSchema>;

/** `<pbxId>:<linkedId>`, URL-encoded in the path; the centre checks it against the payload. */
export const CallKeySchema = z.string().min(3).max(300).regex(/^[\x21-\x2e\x30-\x7e]+$/, 'printable ASCII without / or spaces');
export const callKeyOf = (p: Pick<CallPayload, 'pbxId' | 'linkedId'>) => `${p.pbxId}:${p.linkedId}`;

/** Headers of a recording upload (the body is the original file's bytes). */
export const RecordingHeadersSchema = z.object({
  'x-recording-sha256': z.string().regex(SHA256_HEX, 'lowercase hex SHA-256'),
  'x-recording-size': z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  'content-type': z.string().max(200),
  'content-length': z.coerce.number().int().nonnegative().optional(),
});
export type RecordingHeaders = z.input<typeof RecordingHeadersSchema>;
