/**
 * Asterisk CDR and CEL records: cdr_csv `Master.csv` rows (16..21 columns, layout detected per row), cdr_custom JSON
 * lines and cel_custom CSV rows. Every record keeps its raw text and its byte offset in the source file.
 */
import { createHash } from 'node:crypto';
import { parseCsvLine } from './csv.ts';
import type { DecodedWith } from './text.ts';
import { parseNaive, parseWithOffset } from './time.ts';

export type CdrRow = {
  /** Dedupe key: `u:<uniqueid>#<sequence>` when both are logged, else `h:<sha256 of the raw line>`. */
  key: string;
  file: string;
  offset: number;
  raw: string;
  encoding: DecodedWith;
  columns: number;
  layout: string;
  /** A row that was cut off (crash mid-write, rotated away before its newline): only its first fields are known. */
  truncated: boolean;
  accountcode: string;
  src: string;
  dst: string;
  dcontext: string;
  clid: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  start: string;
  answer: string;
  end: string;
  duration: number | null;
  billsec: number | null;
  disposition: string;
  amaflags: string;
  uniqueid: string | null;
  userfield: string | null;
  peeraccount: string | null;
  linkedid: string | null;
  sequence: number | null;
  /** Agent clock (ms) when the row was first read. Not part of any payload. */
  seenAt: number;
};

const BASE_FIELDS = 16;
const INT_RE = /^\d+$/;
/** From the notes: uniqueid = `[systemname-]epoch.counter`. Used only to tell a lone uniqueid from a userfield. */
const UNIQUEID_RE = /^([\w.-]+-)?\d{9,11}\.\d+$/;

export const hashText = (s: string) => createHash('sha256').update(s).digest('hex');

type Located = { file: string; offset: number; raw: string; encoding: DecodedWith; seenAt: number };

function rowFromFields(f: string[], loc: Located): CdrRow | null {
  const n = f.length - BASE_FIELDS;
  if (n < 0 || n > 5) return null;
  const [accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags] =
    f as [string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string];
  if (!parseNaive(start) || !parseNaive(end)) return null;
  if (answer !== '' && !parseNaive(answer)) return null;
  if (!INT_RE.test(duration) || !INT_RE.test(billsec)) return null;
  if (!/^[A-Z][A-Z _]*$/.test(disposition)) return null;
  const extra = f.slice(BASE_FIELDS);
  let uniqueid: string | null = null;
  let userfield: string | null = null;
  let peeraccount: string | null = null;
  let linkedid: string | null = null;
  let sequence: number | null = null;
  let layout: string;
  const takeNew = (xs: string[]) => {
    if (!INT_RE.test(xs[2]!)) return false;
    peeraccount = xs[0]!;
    linkedid = xs[1] || null;
    sequence = Number(xs[2]);
    return true;
  };
  switch (n) {
    case 0:
      layout = 'base';
      break;
    case 1:
      if (UNIQUEID_RE.test(extra[0]!)) [uniqueid, layout] = [extra[0]!, 'uniqueid'];
      else [userfield, layout] = [extra[0]!, 'userfield'];
      break;
    case 2:
      [uniqueid, userfield, layout] = [extra[0]!, extra[1]!, 'uniqueid+userfield'];
      break;
    case 3:
      if (!takeNew(extra)) return null;
      layout = 'newcolumns';
      break;
    case 4:
      if (!takeNew(extra.slice(1))) return null;
      if (UNIQUEID_RE.test(extra[0]!)) [uniqueid, layout] = [extra[0]!, 'uniqueid+newcolumns'];
      else [userfield, layout] = [extra[0]!, 'userfield+newcolumns'];
      break;
    default:
      if (!takeNew(extra.slice(2))) return null;
      [uniqueid, userfield, layout] = [extra[0]!, extra[1]!, 'uniqueid+userfield+newcolumns'];
  }
  if (uniqueid === '') uniqueid = null;
  const key = uniqueid && sequence !== null ? `u:${uniqueid}#${sequence}` : `h:${hashText(loc.raw)}`;
  return {
    key,
    ...loc,
    columns: f.length,
    layout,
    truncated: false,
    accountcode,
    src,
    dst,
    dcontext,
    clid,
    channel,
    dstchannel,
    lastapp,
    lastdata,
    start,
    answer,
    end,
    duration: Number(duration),
    billsec: Number(billsec),
    disposition,
    amaflags,
    uniqueid,
    userfield,
    peeraccount,
    linkedid,
    sequence,
  };
}

/** A fragment of a row: whatever leading fields are readable. Null when not even the caller and start are there. */
function fragmentRow(text: string, loc: Located): CdrRow | null {
  const f = parseCsvLine(text).fields;
  const start = f[9] ?? '';
  if (f.length < 10 || !parseNaive(start)) return null;
  const g = (i: number) => f[i] ?? '';
  const end = parseNaive(g(11)) ? g(11) : '';
  return {
    key: `h:${hashText(loc.raw)}`,
    ...loc,
    columns: f.length,
    layout: 'truncated',
    truncated: true,
    accountcode: g(0),
    src: g(1),
    dst: g(2),
    dcontext: g(3),
    clid: g(4),
    channel: g(5),
    dstchannel: g(6),
    lastapp: g(7),
    lastdata: g(8),
    start,
    answer: parseNaive(g(10)) ? g(10) : '',
    end,
    duration: INT_RE.test(g(12)) ? Number(g(12)) : null,
    billsec: INT_RE.test(g(13)) ? Number(g(13)) : null,
    disposition: g(14),
    amaflags: g(15),
    uniqueid: null,
    userfield: null,
    peeraccount: null,
    linkedid: null,
    sequence: null,
  };
}

export type ParsedCdrLine = { rows: CdrRow[]; unparsed: string | null };

/**
 * Parses one Master.csv line. A well-formed row of a known width gives one row. A line that is not (a row cut off
 * by a crash with the next row appended to it) is searched for a complete row at its end; what comes before it is
 * kept as a truncated row when its caller and start time are readable, else returned as `unparsed`.
 * `complete` is false for the last bytes of a rotated-away file that never got their newline.
 */
export function parseCdrCsvLine(raw: string, loc: Omit<Located, 'raw'>, complete = true): ParsedCdrLine {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (complete) {
    const p = parseCsvLine(text);
    if (p.wellFormed) {
      const row = rowFromFields(p.fields, { ...loc, raw });
      if (row) return { rows: [row], unparsed: null };
    }
    // Look for a complete row that starts later in the line (each row starts with a quoted accountcode).
    for (let i = 1; i < text.length; i++) {
      if (text[i] !== '"') continue;
      const tail = parseCsvLine(text.slice(i));
      if (!tail.wellFormed) continue;
      const tailRaw = raw.slice(i);
      const row = rowFromFields(tail.fields, { ...loc, offset: loc.offset + Buffer.byteLength(raw.slice(0, i)), raw: tailRaw });
      if (!row) continue;
      const headRaw = raw.slice(0, i);
      const frag = fragmentRow(headRaw, { ...loc, raw: headRaw });
      return frag ? { rows: [frag, row], unparsed: null } : { rows: [row], unparsed: headRaw };
    }
  }
  const frag = fragmentRow(text, { ...loc, raw });
  return frag ? { rows: [frag], unparsed: null } : { rows: [], unparsed: raw };
}

/** Supplementary facts from a cdr_custom JSON line (our recommended mapping: linkedid, recordingfile, notice flag). */
export type CustomRec = {
  key: string;
  file: string;
  offset: number;
  raw: string;
  uniqueid: string | null;
  linkedid: string | null;
  sequence: number | null;
  recordingfile: string | null;
  notice: string | null;
  startUtcMs: number | null;
  /** Channel names of the CDR (match the cdr_csv row that has no linkedid column). */
  channel?: string | null;
  dstchannel?: string | null;
  src?: string | null;
  dst?: string | null;
  seenAt: number;
};

export function parseCdrCustomLine(raw: string, loc: Omit<Located, 'raw' | 'encoding'>, noticeVariable: string): CustomRec | null {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : typeof r[k] === 'number' ? String(r[k]) : null);
  const seqRaw = r.sequence;
  const sequence = typeof seqRaw === 'number' ? seqRaw : typeof seqRaw === 'string' && INT_RE.test(seqRaw) ? Number(seqRaw) : null;
  const uniqueid = str('uniqueid');
  const start = str('start');
  return {
    key: uniqueid && sequence !== null ? `j:${uniqueid}#${sequence}` : `jh:${hashText(raw)}`,
    file: loc.file,
    offset: loc.offset,
    raw,
    uniqueid,
    linkedid: str('linkedid'),
    sequence,
    recordingfile: str('recordingfile'),
    notice: str(noticeVariable),
    startUtcMs: start ? parseWithOffset(start) : null,
    channel: str('channel'),
    dstchannel: str('dstchannel'),
    src: str('src'),
    dst: str('dst'),
    seenAt: loc.seenAt,
  };
}

/** A cel_custom row (legacy sample order). Only the events we use are kept by the caller. */
export type CelRec = {
  key: string;
  file: string;
  offset: number;
  raw: string;
  eventtype: string;
  /** UTC seconds (cel default `eventtime` is `<epoch>.<usec>`); null with a custom dateformat. */
  eventtimeS: number | null;
  appname: string;
  appdata: string;
  /** Caller number, DNID, dialplan exten/context and channel name at the event (older states may lack them). */
  cidNum?: string;
  dnid?: string;
  exten?: string;
  context?: string;
  channame?: string;
  uniqueid: string;
  linkedid: string;
  peer: string;
  userdeftype: string;
  extra: string;
  seenAt: number;
};

export function parseCelLine(raw: string, loc: Omit<Located, 'raw' | 'encoding'>): CelRec | null {
  const p = parseCsvLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  if (!p.wellFormed || p.fields.length < 17) return null;
  const f = p.fields;
  const t = f[1]!;
  return {
    key: `c:${hashText(raw)}`,
    file: loc.file,
    offset: loc.offset,
    raw,
    eventtype: f[0]!,
    eventtimeS: /^\d{9,11}(\.\d+)?$/.test(t) ? Number(t) : null,
    appname: f[10] ?? '',
    appdata: f[11] ?? '',
    cidNum: f[3] ?? '',
    dnid: f[6] ?? '',
    exten: f[7] ?? '',
    context: f[8] ?? '',
    channame: f[9] ?? '',
    uniqueid: f[14] ?? '',
    linkedid: f[15] ?? '',
    peer: f[16] ?? '',
    userdeftype: f[18] ?? '',
    extra: f[19] ?? '',
    seenAt: loc.seenAt,
  };
}

/** The sound name a STREAM_BEGIN event played (from its JSON extra, else its Playback appdata). */
export function celSound(c: CelRec): string | null {
  if (c.extra) {
    try {
      const x = JSON.parse(c.extra) as { sound?: unknown };
      if (typeof x.sound === 'string') return x.sound;
    } catch {
      /* not JSON */
    }
  }
  return c.appname === 'Playback' || c.appname === 'Background' ? c.appdata.split(/[,&]/)[0] ?? null : null;
}

/** Reads `"Name" <number>` (cdr clid). */
export function parseClid(clid: string): { name: string | null; number: string | null } {
  const m = /^\s*(?:"((?:[^"]|"")*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(clid);
  if (!m) return { name: clid.trim() || null, number: null };
  const name = (m[1] ?? m[2] ?? '').replace(/""/g, '"').trim();
  return { name: name || null, number: m[3] || null };
}

/** `played`/`yes`/`1` → yes, `no`/`not_played`/`skipped`/`0` → no, anything else → null (unknown). */
export function noticeValue(v: string | null | undefined): 'yes' | 'no' | null {
  if (v === null || v === undefined) return null;
  const s = v.trim().toLowerCase();
  if (['played', 'yes', 'y', '1', 'true', 'ok', 'done'].includes(s)) return 'yes';
  if (['no', 'n', '0', 'false', 'not_played', 'notplayed', 'skipped', 'none', 'failed'].includes(s)) return 'no';
  return null;
}

/** `rec_notice=played` inside a userfield such as `rec_notice=played;queue=1` (separators `;`, `,`, `&`, `|`). */
export function noticeFromUserfield(userfield: string | null, variable: string): 'yes' | 'no' | null {
  if (!userfield) return null;
  for (const part of userfield.split(/[;,&|\s]+/)) {
    const m = /^([^=:]+)[=:](.*)$/.exec(part.replace(/\\/g, ''));
    if (m && m[1]!.trim().toLowerCase() === variable.toLowerCase()) return noticeValue(m[2]!);
  }
  return null;
}

/** The JSON `extra` of a CEL row as an object (empty when absent or not JSON). */
export function celExtra(c: CelRec): Record<string, unknown> {
  if (!c.extra) return {};
  try {
    const x = JSON.parse(c.extra) as unknown;
    return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
