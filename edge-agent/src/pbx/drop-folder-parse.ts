/**
 * Reading what the `drop-folder` adapter finds (schema: docs/pbx-drop-folder.md): JSON sidecars, CSV manifest rows
 * and lone audio files, each turned into a call payload once the adapter knows its recordings. Pure: no file system,
 * no state; the adapter (drop-folder.ts) reads the files and decides when a call is sealed.
 */
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, NOTICE_PLAYED, RECORDING_ROLES } from '@mamoru/contract/enums';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { noticeValue } from './cdr.ts';
import type { DropFolderConfig } from './config.ts';
import { parseCsvDocument } from './csv.ts';
import { JAPAN_PLAN, toE164 } from './numbers.ts';
import type { CallDirection, CallDisposition, CallFlag, CallPayload, CallRecording } from './payload.ts';
import { decodeBytes } from './text.ts';
import { isoUtc, parseNaive, parseWithOffset, zonedToUtcMs } from './time.ts';
import type { WavInfo } from './wav.ts';

// ---- sidecar schema --------------------------------------------------------------------------------------------

const isoWithOffset = z.string().refine((s) => parseWithOffset(s) !== null, { message: 'ISO-8601 time with an offset (Z or ±hh:mm) required' });
const fileName = z.string().min(1).max(255).refine((s) => !s.includes('/') && !s.includes('\\') && s !== '.' && s !== '..', { message: 'a file name in the same folder' });

export const sidecarSchema = z
  .object({
    schema: z.literal('mamoru.call/1').optional(),
    callId: z.string().min(1).max(200),
    direction: z.enum(CALL_DIRECTIONS).default('unknown'),
    disposition: z.enum(CALL_DISPOSITIONS).default('unknown'),
    caller: z.object({ number: z.string().nullable().default(null), name: z.string().nullable().default(null) }).default({ number: null, name: null }),
    called: z.object({ number: z.string().nullable().default(null) }).default({ number: null }),
    operator: z.object({ extension: z.string().min(1), name: z.string().nullable().default(null) }).nullable().default(null),
    start: isoWithOffset,
    answer: isoWithOffset.nullable().default(null),
    end: isoWithOffset.nullable().default(null),
    durationS: z.number().nonnegative().nullable().default(null),
    talkS: z.number().nonnegative().nullable().default(null),
    notice: z.object({ played: z.enum(NOTICE_PLAYED), at: isoWithOffset.nullable().default(null) }).nullable().default(null),
    recordings: z.array(z.object({ file: fileName, role: z.enum(RECORDING_ROLES).optional() })).nullable().default(null),
  })
  .refine((s) => s.end !== null || s.durationS !== null, { message: 'end or durationS is required', path: ['end'] });

export type Sidecar = z.infer<typeof sidecarSchema>;

/** The config fields the payload builders read. */
type PayloadConfig = Pick<DropFolderConfig, 'id' | 'timezone' | 'countryCode' | 'operators' | 'noticeAssumed'>;

export function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`, 'i');
}

const DISPOSITIONS: [RegExp, CallDisposition][] = [
  [/^(answered|answer|応答|成立|成立呼|通話|完了)$/i, 'answered'],
  [/^(no[ _]?answer|missed|cancel|不在|不応答|未応答|応答なし|不成立|不成立呼|放棄)$/i, 'no_answer'],
  [/^(busy|話中)$/i, 'busy'],
  [/^(congestion|輻輳)$/i, 'congestion'],
  [/^(failed|failure|失敗|エラー)$/i, 'failed'],
];
const DIRECTIONS: [RegExp, CallDirection][] = [
  [/^(inbound|in|incoming|着信|受信|外線着信)$/i, 'inbound'],
  [/^(outbound|out|outgoing|発信|外線発信)$/i, 'outbound'],
  [/^(internal|内線)$/i, 'internal'],
];

function mapWord<T>(v: string | null, table: [RegExp, T][], dflt: T): T {
  if (!v) return dflt;
  for (const [re, out] of table) if (re.test(v.trim())) return out;
  return dflt;
}

/** `h:mm:ss`, `m:ss`, `123`, `123.5` → seconds. */
export function parseDuration(v: string | null): number | null {
  if (v === null) return null;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(s);
  if (m) return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return null;
}

function dialPlan(cfg: PayloadConfig) {
  return cfg.countryCode === '81' ? JAPAN_PLAN : { countryCode: cfg.countryCode, trunkPrefix: '0', internationalPrefixes: ['00'], stripPrefixes: [] };
}

const assumedNotice = (cfg: PayloadConfig): CallPayload['notice'] => ({ played: cfg.noticeAssumed ?? 'unknown', method: cfg.noticeAssumed ? 'config' : null, atUtc: null, evidence: [] });
/** The one operator a sidecar or manifest row names, as the call's operators list. */
const operatorsOf = (op: CallPayload['operator']): CallPayload['operators'] =>
  op ? [{ extension: op.extension, name: op.name, rungUtc: null, answeredUtc: null, source: op.source }] : [];

// ---- sidecars -------------------------------------------------------------------------------------------------

/** A sidecar file's bytes: the validated sidecar and its text, or why it is refused. */
export function parseSidecar(bytes: Buffer): { ok: true; sidecar: Sidecar; text: string } | { ok: false; why: string } {
  const text = decodeBytes(bytes, 'utf-8').text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: 'sidecar is not valid JSON' };
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, why: `sidecar does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, sidecar: parsed.data, text };
}

/** The call a sidecar describes. `raw`: the sidecar's text; `file`: its path. */
export function sidecarPayload(cfg: PayloadConfig, s: Sidecar, raw: string, file: string, recs: CallRecording[]): CallPayload {
  const startMs = parseWithOffset(s.start)!;
  const endMs = s.end ? parseWithOffset(s.end)! : startMs + Math.round(s.durationS! * 1000);
  const answerMs = s.answer ? parseWithOffset(s.answer) : null;
  const flags: CallFlag[] = recs.length === 0 ? ['no_recording'] : [];
  const plan = dialPlan(cfg);
  return {
    pbxId: cfg.id,
    linkedId: s.callId,
    adapter: 'drop-folder',
    direction: s.direction,
    directionSource: s.direction === 'unknown' ? 'none' : 'sidecar',
    disposition: s.disposition,
    caller: { number: s.caller.number, name: s.caller.name, e164: toE164(s.caller.number, plan) },
    called: { number: s.called.number, e164: toE164(s.called.number, plan) },
    operator: s.operator ? { extension: s.operator.extension, name: s.operator.name ?? cfg.operators[s.operator.extension] ?? null, source: 'sidecar' } : null,
    operators: operatorsOf(s.operator ? { extension: s.operator.extension, name: s.operator.name ?? cfg.operators[s.operator.extension] ?? null, source: 'sidecar' } : null),
    transfers: [],
    times: {
      startUtc: isoUtc(startMs),
      answerUtc: answerMs === null ? null : isoUtc(answerMs),
      endUtc: isoUtc(endMs),
      durationS: s.durationS !== null ? Math.round(s.durationS) : Math.max(0, Math.round((endMs - startMs) / 1000)),
      talkS: s.talkS !== null ? Math.round(s.talkS) : answerMs !== null ? Math.max(0, Math.round((endMs - answerMs) / 1000)) : null,
      pickupUtc: null,
      operatorTalkS: null,
      zone: cfg.timezone,
      zoneSource: 'offset_in_data',
      raw: { start: s.start, answer: s.answer, end: s.end },
    },
    notice: s.notice ? { played: s.notice.played, method: 'sidecar', atUtc: s.notice.at ? isoUtc(parseWithOffset(s.notice.at)!) : null, evidence: [{ source: 'sidecar', raw, file, offset: null }] } : assumedNotice(cfg),
    legs: [
      {
        uniqueId: null,
        linkedId: s.callId,
        sequence: null,
        src: s.caller.number,
        dst: s.called.number,
        channel: null,
        dstChannel: null,
        lastApp: null,
        disposition: s.disposition,
        raw,
        source: { file, offset: null },
      },
    ],
    recordings: recs,
    flags,
  };
}

// ---- CSV manifests --------------------------------------------------------------------------------------------

/** One manifest row: a call (its recording as the row names it, and how to build the payload) or why it is refused. */
export type ManifestRow =
  | { ok: true; raw: string; callId: string; recording: string | null; build: (recs: CallRecording[]) => CallPayload }
  | { ok: false; raw: string; why: string };

/**
 * A manifest file's rows (`file`: its path, quoted in each leg). The whole file is refused (`ok: false`) when a
 * configured column is not in its header.
 */
export function parseManifest(cfg: DropFolderConfig, bytes: Buffer, file: string): { ok: true; rows: ManifestRow[] } | { ok: false; why: string } {
  const m = cfg.manifest!;
  const { text, encoding } = decodeBytes(bytes, m.encoding);
  const records = parseCsvDocument(text, m.delimiter);
  if (records.length === 0) return { ok: true, rows: [] };
  const header = m.header ? records[0]!.fields.map((h) => h.trim()) : null;
  const body = m.header ? records.slice(1) : records;
  const colIndex = (ref: string | number | undefined): number | null => {
    if (ref === undefined) return null;
    if (typeof ref === 'number') return ref;
    const i = header ? header.indexOf(ref) : -1;
    return i >= 0 ? i : null;
  };
  const cols = m.columns;
  const missingCols = Object.entries(cols).filter(([, ref]) => ref !== undefined && colIndex(ref) === null).map(([k]) => k);
  if (missingCols.length) return { ok: false, why: `manifest has no column for: ${missingCols.join(', ')}` };
  const bomBytes = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const plan = dialPlan(cfg);
  const rows: ManifestRow[] = [];
  for (const rec of body) {
    const get = (k: keyof typeof cols) => {
      const i = colIndex(cols[k]);
      if (i === null) return null;
      const v = rec.fields[i]?.trim();
      return v === undefined || v === '' ? null : v;
    };
    const startRaw = get('start');
    const time = (v: string | null) => {
      if (v === null) return { ms: null as number | null, offset: false };
      const withOff = parseWithOffset(v);
      if (withOff !== null) return { ms: withOff, offset: true };
      const t = parseNaive(v);
      return { ms: t ? zonedToUtcMs(t, cfg.timezone) : null, offset: false };
    };
    const start = time(startRaw);
    if (start.ms === null) {
      rows.push({ ok: false, raw: rec.raw, why: 'start time missing or unreadable' });
      continue;
    }
    const end = time(get('end'));
    const answer = time(get('answer'));
    const durationS = parseDuration(get('durationS'));
    const callId = get('callId') ?? `row-${createHash('sha256').update(rec.raw).digest('hex').slice(0, 16)}`;
    const offset = encoding === 'utf-8' ? bomBytes + Buffer.byteLength(text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 0, rec.start)) : null;
    const noticeRaw = get('notice');
    const notice = noticeRaw === null ? null : noticeValue(noticeRaw) ?? (/^(あり|有|済|再生)$/.test(noticeRaw) ? 'yes' : /^(なし|無|未)$/.test(noticeRaw) ? 'no' : null);
    const caller = get('callerNumber');
    const called = get('calledNumber');
    const opExt = get('operatorExtension');
    const allOffsets = [start, end, answer].every((t) => t.ms === null || t.offset);
    rows.push({
      ok: true,
      raw: rec.raw,
      callId,
      recording: get('recording'),
      build: (recs) => {
        const endMs = end.ms ?? start.ms! + Math.round((durationS ?? 0) * 1000);
        const flags: CallFlag[] = recs.length === 0 ? ['no_recording'] : [];
        const talk = parseDuration(get('talkS'));
        return {
          pbxId: cfg.id,
          linkedId: callId,
          adapter: 'drop-folder',
          direction: mapWord(get('direction'), DIRECTIONS, 'unknown'),
          directionSource: mapWord(get('direction'), DIRECTIONS, 'unknown') === 'unknown' ? 'none' : 'sidecar',
          disposition: mapWord(get('disposition'), DISPOSITIONS, 'unknown'),
          caller: { number: caller, name: get('callerName'), e164: toE164(caller, plan) },
          called: { number: called, e164: toE164(called, plan) },
          operator: opExt ? { extension: opExt, name: get('operatorName') ?? cfg.operators[opExt] ?? null, source: 'cdr' } : null,
          operators: operatorsOf(opExt ? { extension: opExt, name: get('operatorName') ?? cfg.operators[opExt] ?? null, source: 'cdr' } : null),
          transfers: [],
          times: {
            startUtc: isoUtc(start.ms!),
            answerUtc: answer.ms === null ? null : isoUtc(answer.ms),
            endUtc: isoUtc(endMs),
            durationS: durationS !== null ? Math.round(durationS) : Math.max(0, Math.round((endMs - start.ms!) / 1000)),
            talkS: talk !== null ? Math.round(talk) : null,
            pickupUtc: null,
            operatorTalkS: null,
            zone: cfg.timezone,
            zoneSource: allOffsets ? 'offset_in_data' : 'config',
            raw: { start: startRaw, answer: get('answer'), end: get('end') },
          },
          notice: notice ? { played: notice, method: 'sidecar', atUtc: null, evidence: [{ source: 'sidecar', raw: rec.raw, file: null, offset }] } : assumedNotice(cfg),
          legs: [
            {
              uniqueId: null,
              linkedId: callId,
              sequence: null,
              src: caller,
              dst: called,
              channel: null,
              dstChannel: null,
              lastApp: null,
              disposition: get('disposition'),
              raw: rec.raw,
              source: { file, offset },
            },
          ],
          recordings: recs,
          flags,
        };
      },
    });
  }
  return { ok: true, rows };
}

// ---- audio without metadata -----------------------------------------------------------------------------------

/** A recording nothing describes: its times from the file (end = mtime, start = end − WAV duration), flag no_cdr. */
export function orphanPayload(cfg: PayloadConfig, callId: string, file: { mtimeMs: number; wav: WavInfo | null }, recs: CallRecording[]): CallPayload {
  const durationS = file.wav?.durationS ?? 0;
  const endMs = Math.round(file.mtimeMs);
  const startMs = endMs - Math.round(durationS * 1000);
  return {
    pbxId: cfg.id,
    linkedId: callId,
    adapter: 'drop-folder',
    direction: 'unknown',
    directionSource: 'none',
    disposition: 'unknown',
    caller: { number: null, name: null, e164: null },
    called: { number: null, e164: null },
    operator: null,
    operators: [],
    transfers: [],
    times: {
      startUtc: isoUtc(startMs),
      answerUtc: null,
      endUtc: isoUtc(endMs),
      durationS: Math.round(durationS),
      talkS: null,
      pickupUtc: null,
      operatorTalkS: null,
      zone: cfg.timezone,
      zoneSource: 'config',
      raw: { start: null, answer: null, end: null },
    },
    notice: assumedNotice(cfg),
    legs: [],
    recordings: recs,
    flags: ['no_cdr'],
  };
}
