/**
 * The agent → centre call contract (CALL-CONTRACT.md §1), as a validating schema. Objects are strict: a field the
 * centre does not know is an error, not silently dropped, because the centre keeps every version as evidence.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

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

export const PBX_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Asterisk uniqueids are `epoch.seq`, `system-epoch.seq` or any Originate ChannelId (≤149 chars). No '/' or spaces. */
export const LINKED_ID = /^[\x21-\x2e\x30-\x7e]{1,150}$/;
/** A file basename: no path separators, no control characters, not `.` or `..`. */
export const RECORDING_NAME = /^(?!\.{1,2}$)[^/\\\x00-\x1f\x7f]{1,255}$/;

const Leg = z.strictObject({
  uniqueId: Text(150).nullable(),
  linkedId: Text(150).nullable(),
  sequence: z.number().int().min(0).max(2 ** 31 - 1).nullable(),
  src: Text(256).nullable(),
  dst: Text(256).nullable(),
  channel: Text(512).nullable(),
  dstChannel: Text(512).nullable(),
  lastApp: Text(128).nullable(),
  disposition: Text(64).nullable(),
  raw: Text(65_536),
  source: z.strictObject({ file: Text(4096), offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable() }),
});

const Recording = z.strictObject({
  name: z.string().regex(RECORDING_NAME, 'a file basename'),
  role: z.enum(['mixed', 'caller', 'operator', 'stereo']),
  format: z.string().regex(/^[A-Za-z0-9]{1,16}$/),
  sampleRate: z.number().int().min(1).max(768_000).nullable(),
  channels: z.number().int().min(1).max(16).nullable(),
  durationS: z.number().min(0).max(7 * 86400).nullable(),
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256'),
});

export const CallPayloadSchema = z
  .strictObject({
    pbxId: z.string().regex(PBX_ID),
    linkedId: z.string().regex(LINKED_ID),
    adapter: z.enum(['asterisk-files', 'drop-folder']),
    direction: z.enum(['inbound', 'outbound', 'internal', 'unknown']),
    disposition: z.enum(['answered', 'no_answer', 'busy', 'failed', 'congestion', 'unknown']),
    caller: z.strictObject({ number: Number_, name: Text(256).nullable(), e164: E164 }),
    called: z.strictObject({ number: Number_, e164: E164 }),
    operator: z
      .strictObject({ extension: z.string().min(1).max(64), name: Text(256).nullable(), source: z.enum(['dstchannel', 'cdr', 'sidecar', 'config']) })
      .nullable(),
    times: z.strictObject({
      startUtc: UtcTime,
      answerUtc: UtcTime.nullable(),
      endUtc: UtcTime,
      durationS: z.number().min(0).max(7 * 86400),
      talkS: z.number().min(0).max(7 * 86400).nullable(),
      zone: z.string().max(64).refine(isZone, 'an IANA time zone'),
      zoneSource: z.enum(['config', 'uniqueid', 'offset_in_data', 'config_contradicted_by_uniqueid']),
      raw: z.strictObject({ start: Text(64).nullable(), answer: Text(64).nullable(), end: Text(64).nullable() }),
    }),
    notice: z.strictObject({
      played: z.enum(['yes', 'no', 'unknown']),
      method: z.enum(['cdr_variable', 'userfield', 'cel', 'ami', 'sidecar', 'config']).nullable(),
      atUtc: UtcTime.nullable(),
    }),
    legs: z.array(Leg).max(1000),
    recordings: z.array(Recording).max(64),
    flags: z.array(z.enum(['no_recording', 'no_cdr', 'weak_match', 'zone_mismatch', 'truncated_row'])).max(16),
  });

export type CallPayload = z.infer<typeof CallPayloadSchema>;
export type RecordingDeclaration = CallPayload['recordings'][number];

/** JSON with object keys sorted at every level: equal content gives equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function payloadDigest(p: CallPayload): Buffer {
  return createHash('sha256').update(canonicalJson(p)).digest();
}
