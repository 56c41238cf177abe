/**
 * Correlation for the asterisk-files adapter: CDR rows → calls (grouped by linkedid), recordings → calls (by the
 * uniqueid in the file name), and a call's facts derived from its rows. Pure functions: same inputs, same payload,
 * which is what makes a re-seal after a crash recognisably identical.
 */
import type { AsteriskFilesConfig } from './config.ts';
import { type CdrRow, type CelRec, type CustomRec, celExtra, celSound, noticeFromUserfield, noticeValue, parseClid } from './cdr.ts';
import { JAPAN_PLAN, type NumberPlan, toE164 } from './numbers.ts';
import type { CallDirection, CallDisposition, CallFlag, CallLeg, CallPayload, CallRecording, NoticeMethod, RecordingRole } from './payload.ts';
import type { CallOperator, CallTransfer, NoticeEvidence } from '@mamoru/contract/call-payload';
import type { DirectionSource, OperatorSource } from '@mamoru/contract/enums';
import type { RecObs } from './recordings.ts';
import type { RecordingName } from './recording-name.ts';
import { decideZone, isoUtc, naiveAsUtcMs, parseNaive, uniqueidEpoch, type ZoneDecision, type ZoneEvidence, zonedToUtcMs } from './time.ts';

export type Group = {
  id: string;
  rows: CdrRow[];
  customs: CustomRec[];
  cels: CelRec[];
  recordings: RecObs[];
  /** Grouped or matched by time and numbers rather than ids. */
  weak: boolean;
  /** Some of its rows were grouped by caller and overlapping time (no linkedid anywhere): flag `grouped_by_time`. */
  byTime?: boolean;
};

/** `Local/…;2`: the second half of a Local channel pair. Its CDR rows are artefacts, not parties. */
export const isLocalSecondHalf = (channel: string) => /^Local\//i.test(channel) && /;2$/.test(channel);

const naiveMs = (s: string) => {
  const t = parseNaive(s);
  return t ? naiveAsUtcMs(t) : null;
};

function interval(r: CdrRow): [number, number] | null {
  const s = naiveMs(r.start);
  if (s === null) return null;
  const e = naiveMs(r.end) ?? s + (r.duration ?? 0) * 1000;
  return [s, Math.max(s, e)];
}

function compact(s: string): string {
  return s.replace(/[^0-9]/g, '').slice(0, 14);
}

/**
 * Where the real linkedid of a row without that column can be read: cdr_custom JSON lines and CEL rows carry the
 * channel name with the uniqueid/linkedid, and a channel name is unique while the PBX runs.
 */
export function linkedidHints(customs: readonly CustomRec[], cels: readonly CelRec[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of customs) if (c.channel && c.linkedid) m.set(c.channel, c.linkedid);
  for (const c of cels) if (c.channame && c.linkedid && !m.has(c.channame)) m.set(c.channame, c.linkedid);
  return m;
}

/** Does a row (fragment) fit a call's rows: the same caller, overlapping in time (naive times, one PBX zone)? */
export function overlapsCall(r: CdrRow, rows: readonly CdrRow[]): number | null {
  const iv = interval(r);
  if (!iv) return null;
  let best: number | null = null;
  for (const o of rows) {
    if (o.src !== r.src || o.truncated) continue;
    const oi = interval(o);
    if (oi && oi[0] - 2000 <= iv[1] && iv[0] <= oi[1] + 2000 && (best === null || oi[0] < best)) best = oi[0];
  }
  return best;
}

/**
 * Groups rows into calls: by linkedid (from the row, else from cdr_custom/CEL `hints` by channel name), then by
 * uniqueid; rows with no id at all join a call of the same caller overlapping in time, or cluster among themselves
 * (both flagged `byTime`, a weak match). A truncated row (fragment) never makes a call: it joins the call it fits or
 * comes back in `fragments`. Local `;2` rows that fit no call come back in `noise`.
 */
export function groupRows(rows: CdrRow[], hints: ReadonlyMap<string, string> = new Map()): { groups: Map<string, Group>; noise: CdrRow[]; fragments: CdrRow[] } {
  const groups = new Map<string, Group>();
  const add = (id: string, r: CdrRow, byTime = false) => {
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { id, rows: [], customs: [], cels: [], recordings: [], weak: false, byTime: false }));
    g.rows.push(r);
    if (byTime) g.weak = g.byTime = true;
  };
  const sorted = [...rows].sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1));
  const rest: CdrRow[] = [];
  const byUniqueid = new Map<string, string>();
  const linkedOf = (r: CdrRow) => r.linkedid ?? (r.truncated ? null : hints.get(r.channel) ?? null);
  for (const r of sorted) {
    const l = linkedOf(r);
    if (l && !r.truncated) {
      add(l, r);
      if (r.uniqueid) byUniqueid.set(r.uniqueid, l);
    }
  }
  for (const r of sorted) {
    if (linkedOf(r) && !r.truncated) continue;
    if (r.uniqueid && !r.truncated && !isLocalSecondHalf(r.channel)) {
      const id = byUniqueid.get(r.uniqueid) ?? r.uniqueid;
      add(id, r);
      byUniqueid.set(r.uniqueid, id);
    } else rest.push(r);
  }
  // Rows without ids: attach to a call with the same caller that overlaps in time, else cluster among themselves.
  const noise: CdrRow[] = [];
  const fragments: CdrRow[] = [];
  const orphans: CdrRow[] = [];
  for (const r of rest) {
    let target: Group | null = null;
    let targetStart = Infinity;
    const hinted = r.truncated ? hints.get(r.channel) : undefined;
    if (hinted && groups.has(hinted)) target = groups.get(hinted)!;
    else {
      for (const g of groups.values()) {
        const s0 = overlapsCall(r, g.rows);
        if (s0 !== null && s0 < targetStart) {
          target = g;
          targetStart = s0;
        }
      }
    }
    if (target) {
      target.rows.push(r);
      if (!r.truncated && !isLocalSecondHalf(r.channel)) target.weak = target.byTime = true;
    } else if (r.truncated) fragments.push(r);
    else if (isLocalSecondHalf(r.channel)) noise.push(r);
    else orphans.push(r);
  }
  orphans.sort((a, b) => (naiveMs(a.start) ?? 0) - (naiveMs(b.start) ?? 0));
  const clusters: { rows: CdrRow[]; end: number }[] = [];
  for (const r of orphans) {
    const iv = interval(r) ?? [0, 0];
    const c = clusters.find((x) => x.rows[0]!.src === r.src && iv[0] <= x.end + 2000);
    if (c) {
      c.rows.push(r);
      c.end = Math.max(c.end, iv[1]);
    } else clusters.push({ rows: [r], end: iv[1] });
  }
  for (const c of clusters) {
    const first = c.rows[0]!;
    const id = `nolinkedid-${first.src || 'unknown'}-${compact(first.start)}`;
    for (const r of c.rows) add(id, r, true);
  }
  return { groups, noise, fragments };
}

/** Attaches cdr_custom and CEL records to their calls (by linkedid, else by uniqueid). Returns the unattached ones. */
export function attachSupplements(groups: Map<string, Group>, customs: CustomRec[], cels: CelRec[]): { customs: CustomRec[]; cels: CelRec[] } {
  const byUid = new Map<string, Group>();
  for (const g of groups.values()) for (const r of g.rows) if (r.uniqueid) byUid.set(r.uniqueid, g);
  const leftC: CustomRec[] = [];
  for (const c of customs) {
    const g = (c.linkedid ? groups.get(c.linkedid) : undefined) ?? (c.uniqueid ? byUid.get(c.uniqueid) : undefined);
    if (g) g.customs.push(c);
    else leftC.push(c);
  }
  const leftE: CelRec[] = [];
  for (const e of cels) {
    const g = groups.get(e.linkedid) ?? byUid.get(e.uniqueid);
    if (g) g.cels.push(e);
    else leftE.push(e);
  }
  return { customs: leftC, cels: leftE };
}

/** Ids a recording of this call can carry in its file name, and basenames cdr_custom named. */
export function recordingKeys(g: Group): { uids: Set<string>; bases: Set<string> } {
  const uids = new Set<string>([g.id]);
  for (const r of g.rows) {
    if (r.uniqueid) uids.add(r.uniqueid);
    if (r.linkedid) uids.add(r.linkedid);
  }
  const bases = new Set<string>();
  for (const c of g.customs) {
    if (!c.recordingfile) continue;
    const name = c.recordingfile.split('/').pop()!;
    bases.add(name.replace(/\.[A-Za-z0-9]+$/, ''));
  }
  return { uids, bases };
}

export function endpointOf(channel: string): string | null {
  const m = /^[A-Za-z0-9_]+\/(.+?)(?:-[0-9a-fA-F]+)?(?:;[12])?$/.exec(channel);
  if (!m) return null;
  return m[1]!.split('@')[0]!;
}

export type CorrelateContext = {
  config: AsteriskFilesConfig;
  learnedZone: string | null;
  /** sha256/size per recording path, computed when sealing. */
  hashes: Map<string, { sha256: string; size: number }>;
};

const DISPOSITION_RANK: Record<string, [number, CallDisposition]> = {
  ANSWERED: [6, 'answered'],
  BUSY: [5, 'busy'],
  'NO ANSWER': [4, 'no_answer'],
  NOANSWER: [4, 'no_answer'],
  CANCEL: [4, 'no_answer'],
  CONGESTION: [3, 'congestion'],
  FAILED: [2, 'failed'],
};

const TYPE_DIRECTION: Record<string, CallDirection> = {
  in: 'inbound',
  external: 'inbound',
  q: 'inbound',
  rg: 'inbound',
  out: 'outbound',
  internal: 'internal',
  exten: 'internal',
};

function isExtension(ep: string | null, cfg: AsteriskFilesConfig): boolean {
  if (!ep) return false;
  if (cfg.operators[ep] !== undefined) return true;
  if (cfg.trunkEndpoints.includes(ep)) return false;
  return new RegExp(cfg.extensionPattern).test(ep);
}

/** A trunk: listed in trunkEndpoints, or a real (non-Local) channel whose endpoint is no operator extension. */
function isTrunk(channel: string, cfg: AsteriskFilesConfig): boolean {
  if (!channel || /^Local\//i.test(channel)) return false;
  const ep = endpointOf(channel);
  if (!ep) return false;
  if (cfg.trunkEndpoints.includes(ep)) return true;
  return !isExtension(ep, cfg);
}

function roleOf(p: RecordingName, direction: CallDirection): RecordingRole {
  if (!p.side) return 'mixed';
  // The recorded channel: the trunk (caller) side for inbound calls, the extension for outbound ones.
  // rx = what that channel sent us, tx = what it was sent.
  const recordedIsCaller = direction !== 'outbound';
  const fromRecorded = p.side === 'rx' || p.side === 'in';
  return fromRecorded === recordedIsCaller ? 'caller' : 'operator';
}

function zoneEvidence(g: Group): ZoneEvidence[] {
  const ev: ZoneEvidence[] = [];
  for (const r of g.rows) {
    if (r.truncated) continue;
    const e = uniqueidEpoch(r.uniqueid);
    const t = parseNaive(r.start);
    if (e !== null && t) ev.push({ naive: t, epochS: e, toleranceS: 60 });
  }
  for (const rec of g.recordings) {
    const e = uniqueidEpoch(rec.parsed.uid);
    const t = rec.parsed.timestr ? parseNaive(rec.parsed.timestr) : null;
    // FreePBX stamps the name a few seconds into the call (when the recording check runs).
    if (e !== null && t) ev.push({ naive: t, epochS: e, toleranceS: 120 });
  }
  return ev;
}

export function zoneFor(g: Group, ctx: CorrelateContext): ZoneDecision {
  return decideZone(ctx.config.timezone, zoneEvidence(g), { candidates: ctx.config.zoneCandidates, learned: ctx.learnedZone });
}

/** The call's UTC span, for weak matching (null without readable times). */
export function groupSpanUtc(g: Group, zone: string): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of g.rows) {
    const s = parseNaive(r.start);
    if (!s) continue;
    const sm = zonedToUtcMs(s, zone);
    const e = parseNaive(r.end);
    const em = e ? zonedToUtcMs(e, zone) : sm + (r.duration ?? 0) * 1000;
    lo = Math.min(lo, sm);
    hi = Math.max(hi, em);
  }
  return Number.isFinite(lo) ? [lo, hi] : null;
}

function legOf(r: CdrRow): CallLeg {
  return {
    uniqueId: r.uniqueid,
    linkedId: r.linkedid,
    sequence: r.sequence,
    src: r.src,
    dst: r.dst,
    channel: r.channel || null,
    dstChannel: r.dstchannel || null,
    lastApp: r.lastapp || null,
    disposition: r.disposition || null,
    raw: r.raw,
    source: { file: r.file, offset: r.offset },
  };
}

function planFor(cfg: { countryCode: string }): NumberPlan {
  return cfg.countryCode === JAPAN_PLAN.countryCode ? JAPAN_PLAN : { countryCode: cfg.countryCode, trunkPrefix: '0', internationalPrefixes: ['00'], stripPrefixes: [] };
}

function recordingEntries(recs: RecObs[], direction: CallDirection, ctx: CorrelateContext): { list: CallRecording[]; files: Record<string, string> } {
  const list: CallRecording[] = [];
  const files: Record<string, string> = {};
  for (const o of [...recs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const h = ctx.hashes.get(o.path);
    if (!h) throw new Error(`recording not hashed: ${o.path}`);
    list.push({
      name: o.name,
      role: roleOf(o.parsed, direction),
      format: o.parsed.ext.toLowerCase(),
      sampleRate: o.wav?.sampleRate ?? null,
      channels: o.wav?.channels ?? null,
      durationS: o.wav?.durationS ?? null,
      size: h.size,
      sha256: h.sha256,
    });
    files[o.name] = o.path;
  }
  return { list, files };
}

function directionFromRecordings(recs: RecObs[]): CallDirection | null {
  for (const o of [...recs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const t = o.parsed.type;
    if (t && TYPE_DIRECTION[t]) return TYPE_DIRECTION[t];
  }
  return null;
}

/** Builds the payload of a call that has CDR rows. */
export function buildCallPayload(g: Group, ctx: CorrelateContext): { payload: CallPayload; files: Record<string, string>; zone: ZoneDecision } {
  const cfg = ctx.config;
  const plan = planFor(cfg);
  const zone = zoneFor(g, ctx);
  const toUtc = (s: string) => {
    const t = parseNaive(s);
    return t ? zonedToUtcMs(t, zone.zone) : null;
  };
  const rows = [...g.rows].sort((a, b) => {
    const d = (naiveMs(a.start) ?? 0) - (naiveMs(b.start) ?? 0);
    if (d) return d;
    const s = (a.sequence ?? 0) - (b.sequence ?? 0);
    if (s) return s;
    return a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1;
  });
  const parties = rows.filter((r) => !isLocalSecondHalf(r.channel) && !r.truncated);
  const facts = parties.length > 0 ? parties : rows;
  const score = (r: CdrRow) => [r.uniqueid !== null && r.uniqueid === (r.linkedid ?? g.id) ? 0 : 1, r.dstchannel ? 0 : 1];
  const primary = [...facts].sort((a, b) => {
    const sa = score(a);
    const sb = score(b);
    return sa[0]! - sb[0]! || sa[1]! - sb[1]! || rows.indexOf(a) - rows.indexOf(b);
  })[0]!;

  // Times: earliest start, latest end of the parties' rows; answer and raw strings from the rows they came from.
  let startRow = facts[0]!;
  let endRow = facts[0]!;
  for (const r of facts) {
    if ((toUtc(r.start) ?? Infinity) < (toUtc(startRow.start) ?? Infinity)) startRow = r;
    if ((toUtc(r.end) ?? -Infinity) > (toUtc(endRow.end) ?? -Infinity)) endRow = r;
  }
  const startMs = toUtc(startRow.start)!;
  const endMs = toUtc(endRow.end) ?? startMs + (endRow.duration ?? 0) * 1000;
  const answerRow = primary.answer ? primary : facts.find((r) => r.answer) ?? null;
  const answerMs = answerRow ? toUtc(answerRow.answer) : null;
  const callerLeg = facts.filter((r) => r.channel === primary.channel);
  const talkS = callerLeg.some((r) => r.billsec !== null) ? callerLeg.reduce((s, r) => s + (r.billsec ?? 0), 0) : null;

  let disposition: CallDisposition = 'unknown';
  let rank = 0;
  for (const r of facts) {
    const d = DISPOSITION_RANK[r.disposition.toUpperCase()];
    if (d && d[0] > rank) [rank, disposition] = d;
  }

  const cels = [...g.cels].sort((a, b) => (a.eventtimeS ?? 0) - (b.eventtimeS ?? 0) || a.offset - b.offset);
  const celMs = (c: CelRec) => (c.eventtimeS == null ? null : Math.round(c.eventtimeS * 1000));
  const callerUid = primary.uniqueid ?? g.id;
  const callerCels = cels.filter((c) => c.uniqueid === callerUid || (c.channame ?? '') === primary.channel);

  // Direction: the PBX's own label in the recording name, else the channels (a trunk on one side, an extension on
  // the other), else the dialplan context of the call's rows.
  let direction: CallDirection = 'unknown';
  let directionSource: DirectionSource = 'none';
  const fromRecording = directionFromRecordings(g.recordings);
  if (fromRecording) [direction, directionSource] = [fromRecording, 'recording_name'];
  else {
    const a = endpointOf(primary.channel);
    const b = primary.dstchannel ? endpointOf(primary.dstchannel) : null;
    const trunkA = isTrunk(primary.channel, cfg);
    const trunkB = primary.dstchannel ? isTrunk(primary.dstchannel, cfg) : false;
    if (trunkA && !trunkB) [direction, directionSource] = ['inbound', 'channels'];
    else if (isExtension(a, cfg) && trunkB) [direction, directionSource] = ['outbound', 'channels'];
    else if (isExtension(a, cfg) && isExtension(b, cfg)) [direction, directionSource] = ['internal', 'channels'];
    else if (facts.some((r) => cfg.inboundContexts.includes(r.dcontext)) || callerCels.some((c) => cfg.inboundContexts.includes(c.context ?? ''))) {
      [direction, directionSource] = ['inbound', 'context'];
    }
  }

  const clid = parseClid(primary.clid);
  const callerNumber = primary.src !== '' ? primary.src : clid.number;
  // The dialled number. CDR `dst` follows the call into the dialplan: after a transfer it is the extension the call
  // was handed to, so for an inbound call an extension is never taken as the called number.
  const dialled = (v: string | null | undefined) => !!v && v !== 's' && /^[+0-9*#]+$/.test(v) && !isExtension(v, cfg);
  let calledNumber: string | null;
  if (direction === 'inbound') {
    const fromName = g.recordings.find((o) => o.parsed.type && TYPE_DIRECTION[o.parsed.type] === 'inbound' && o.parsed.dst)?.parsed.dst;
    const fromCel = callerCels.map((c) => (dialled(c.exten) ? c.exten! : dialled(c.dnid) ? c.dnid! : null)).find((x) => x !== null);
    const fromRows = rows.find((r) => r.channel === primary.channel && dialled(r.dst))?.dst ?? facts.find((r) => dialled(r.dst))?.dst;
    calledNumber = fromName ?? fromCel ?? fromRows ?? (dialled(primary.dst) ? primary.dst : null);
  } else calledNumber = primary.dst !== '' ? primary.dst : null;

  // Operators: every extension the call rang (Dial rows' dstchannel, CEL CHAN_START of an extension channel) and
  // when each picked up (CEL BRIDGE_ENTER with it as the peer, else its answered row).
  const ops = new Map<string, { rung: number | null; answered: number | null; source: OperatorSource }>();
  const note = (ext: string | null, rung: number | null, answered: number | null, source: OperatorSource) => {
    if (!ext || !isExtension(ext, cfg)) return;
    const o = ops.get(ext) ?? { rung: null, answered: null, source };
    const min = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : Math.min(x, y));
    o.rung = min(o.rung, rung);
    o.answered = min(o.answered, answered);
    ops.set(ext, o);
  };
  const bridgeOf = (chan: string) => cels.find((c) => c.eventtype === 'BRIDGE_ENTER' && (c.peer === chan || (c.channame ?? '') === chan));
  if (direction !== 'outbound') {
    for (const r of facts) {
      if (!r.dstchannel) continue;
      const ext = endpointOf(r.dstchannel);
      const answered = r.disposition.toUpperCase() === 'ANSWERED';
      const bridge = answered ? bridgeOf(r.dstchannel) : undefined;
      const answeredMs = !answered ? null : bridge ? celMs(bridge) : r.answer ? toUtc(r.answer) : null;
      note(ext, toUtc(r.start), answeredMs, bridge ? 'cel' : 'dstchannel');
    }
    for (const c of cels) {
      if (c.eventtype !== 'CHAN_START' || !c.channame || c.channame === primary.channel || isLocalSecondHalf(c.channame)) continue;
      note(endpointOf(c.channame), celMs(c), null, 'cel');
    }
  }
  let operator: CallPayload['operator'] = null;
  if (direction === 'outbound') {
    const ext = endpointOf(primary.channel);
    if (ext && isExtension(ext, cfg)) {
      operator = { extension: ext, name: cfg.operators[ext] ?? clid.name, source: 'cdr' };
      note(ext, startMs, answerMs, 'cdr');
    }
  } else {
    const answered = facts.find((r) => r.disposition.toUpperCase() === 'ANSWERED' && isExtension(endpointOf(r.dstchannel), cfg));
    const ext = answered ? endpointOf(answered.dstchannel)! : null;
    if (ext) operator = { extension: ext, name: cfg.operators[ext] ?? null, source: 'dstchannel' };
  }
  const operators: CallOperator[] = [...ops.entries()]
    .sort((a, b) => (a[1].rung ?? Infinity) - (b[1].rung ?? Infinity) || (a[0] < b[0] ? -1 : 1))
    .map(([extension, o]) => ({
      extension,
      name: cfg.operators[extension] ?? (operator?.extension === extension ? operator.name : null),
      rungUtc: o.rung === null ? null : isoUtc(o.rung),
      answeredUtc: o.answered === null ? null : isoUtc(o.answered),
      source: o.source,
    }));

  // The operator's pickup: the caller's channel entering a bridge with someone (CEL), not the PBX's answer.
  const pickupCel = callerCels.find((c) => c.eventtype === 'BRIDGE_ENTER' && c.peer !== '');
  const firstAnswered = operator ? operators.find((o) => o.extension === operator!.extension)?.answeredUtc ?? null : null;
  const pickupMs = pickupCel ? celMs(pickupCel) : firstAnswered && operators.find((o) => o.extension === operator!.extension)?.source === 'cel' ? Date.parse(firstAnswered) : null;

  // Transfers (CEL BLINDTRANSFER / ATTENDEDTRANSFER).
  const transfers: CallTransfer[] = [];
  const transferLegs: CallLeg[] = [];
  for (const c of cels) {
    if (c.eventtype !== 'BLINDTRANSFER' && c.eventtype !== 'ATTENDEDTRANSFER') continue;
    const x = celExtra(c);
    const str = (k: string) => (typeof x[k] === 'string' && x[k] !== '' ? (x[k] as string) : null);
    const by = c.channame ? endpointOf(c.channame) : null;
    const to = c.eventtype === 'BLINDTRANSFER' ? str('extension') : (() => {
      const ch = str('transfer_target_channel_name') ?? str('channel2_name');
      return ch ? endpointOf(ch) ?? ch : null;
    })();
    transfers.push({ kind: c.eventtype === 'BLINDTRANSFER' ? 'blind' : 'attended', atUtc: c.eventtimeS == null ? null : isoUtc(celMs(c)!), by, from: by, to, raw: c.raw, source: { file: c.file, offset: c.offset } });
    transferLegs.push({ uniqueId: c.uniqueid || null, linkedId: c.linkedid || null, sequence: null, src: c.cidNum || null, dst: to, channel: c.channame || null, dstChannel: str('transferee_channel_name'), lastApp: c.eventtype, disposition: null, raw: c.raw, source: { file: c.file, offset: c.offset } });
  }

  // Recording notice: explicit PBX signal > CEL > site assertion. The lines it was decided from travel with it.
  let played: 'yes' | 'no' | 'unknown' = 'unknown';
  let method: NoticeMethod | null = null;
  let atUtc: string | null = null;
  const evidence: NoticeEvidence[] = [];
  const customs = [...g.customs].sort((a, b) => a.offset - b.offset);
  for (const c of customs) {
    const v = noticeValue(c.notice);
    if (v) {
      [played, method] = [v, 'cdr_variable'];
      evidence.push({ source: 'cdr_custom', raw: c.raw, file: c.file, offset: c.offset });
      if (v === 'yes') break;
    }
  }
  if (!method) {
    for (const r of rows) {
      const v = noticeFromUserfield(r.userfield, cfg.noticeVariable);
      if (v) {
        [played, method] = [v, 'userfield'];
        evidence.push({ source: 'cdr_csv', raw: r.raw, file: r.file, offset: r.offset });
        if (v === 'yes') break;
      }
    }
  }
  const celEvidence = (c: CelRec): NoticeEvidence => ({ source: 'cel', raw: c.raw, file: c.file, offset: c.offset });
  const streamBegin = cfg.noticeSound ? cels.find((c) => c.eventtype === 'STREAM_BEGIN' && celSound(c) === cfg.noticeSound) : undefined;
  if (streamBegin?.eventtimeS != null) atUtc = isoUtc(Math.round(streamBegin.eventtimeS * 1000));
  if (!method) {
    const userEvent = cels.find((c) => c.eventtype.toUpperCase() === cfg.noticeVariable.toUpperCase() || c.userdeftype.toUpperCase() === cfg.noticeVariable.toUpperCase());
    let v: 'yes' | 'no' | null = null;
    if (userEvent) {
      const arg = userEvent.appdata.split(',').slice(1).join(',');
      const extra = celExtra(userEvent).extra;
      v = noticeValue(typeof extra === 'string' ? extra : null) ?? noticeValue(arg);
    }
    const end = cels.find((c) => c.eventtype === 'LINKEDID_END');
    if (v) {
      [played, method] = [v, 'cel'];
      evidence.push(celEvidence(userEvent!));
    } else if (streamBegin) [played, method] = ['yes', 'cel'];
    else if (cfg.noticeSound && end) {
      [played, method] = ['no', 'cel'];
      evidence.push(celEvidence(end));
    }
  }
  if (streamBegin) evidence.push(celEvidence(streamBegin));
  if (!method && cfg.noticeAssumed) [played, method] = [cfg.noticeAssumed, 'config'];

  const { list, files } = recordingEntries(g.recordings, direction, ctx);
  const flags: CallFlag[] = [];
  if (list.length === 0) flags.push('no_recording');
  if (g.weak) flags.push('weak_match');
  if (zone.mismatch) flags.push('zone_mismatch');
  if (rows.some((r) => r.truncated)) flags.push('truncated_row');
  if (g.byTime) flags.push('grouped_by_time');

  const payload: CallPayload = {
    pbxId: cfg.id,
    linkedId: g.id,
    adapter: 'asterisk-files',
    direction,
    directionSource,
    disposition,
    caller: { number: callerNumber, name: clid.name, e164: toE164(callerNumber, plan) },
    called: { number: calledNumber, e164: toE164(calledNumber, plan) },
    operator,
    operators,
    transfers,
    times: {
      startUtc: isoUtc(startMs),
      answerUtc: answerMs === null ? null : isoUtc(answerMs),
      endUtc: isoUtc(endMs),
      durationS: Math.max(0, Math.round((endMs - startMs) / 1000)),
      talkS,
      pickupUtc: pickupMs === null ? null : isoUtc(pickupMs),
      operatorTalkS: pickupMs === null ? null : Math.max(0, Math.round((endMs - pickupMs) / 1000)),
      zone: zone.zone,
      zoneSource: zone.source,
      raw: { start: startRow.start, answer: answerRow?.answer ?? null, end: endRow.end || null },
    },
    notice: { played, method, atUtc, evidence },
    legs: [...rows.map(legOf), ...transferLegs],
    recordings: list,
    flags,
  };
  return { payload, files, zone };
}

/** Builds the payload of recordings that no CDR row claimed (flag `no_cdr`). */
export function buildRecordingOnlyPayload(id: string, recs: RecObs[], ctx: CorrelateContext): { payload: CallPayload; files: Record<string, string> } {
  const cfg = ctx.config;
  const plan = planFor(cfg);
  const g: Group = { id, rows: [], customs: [], cels: [], recordings: recs, weak: false, byTime: false };
  const zone = zoneFor(g, ctx);
  const main = [...recs].sort((a, b) => Number(a.parsed.side !== null) - Number(b.parsed.side !== null) || (a.name < b.name ? -1 : 1))[0]!;
  const p = main.parsed;
  const direction = directionFromRecordings(recs) ?? 'unknown';
  const durationS = Math.max(...recs.map((r) => r.wav?.durationS ?? 0));
  let startMs: number;
  let rawStart: string | null = null;
  let zoneSource = zone.source;
  const t = p.timestr ? parseNaive(p.timestr) : null;
  if (t) {
    startMs = zonedToUtcMs(t, zone.zone);
    rawStart = p.timestr;
  } else {
    const e = uniqueidEpoch(p.uid);
    // No time string: the uniqueid epoch (UTC) or, failing that, the file's mtime minus its length.
    startMs = e !== null ? e * 1000 : Math.round(main.mtimeMs - durationS * 1000);
    if (e !== null) zoneSource = 'uniqueid';
  }
  const endMs = startMs + Math.round(durationS * 1000);
  const callerNumber = p.src && p.src !== 'unknown' ? p.src : null;
  const calledNumber = p.dst && p.dst !== 'unknown' ? p.dst : null;
  const { list, files } = recordingEntries(recs, direction, ctx);
  const flags: CallFlag[] = ['no_cdr'];
  if (zone.mismatch) flags.push('zone_mismatch');
  const payload: CallPayload = {
    pbxId: cfg.id,
    linkedId: id,
    adapter: 'asterisk-files',
    direction,
    directionSource: direction === 'unknown' ? 'none' : 'recording_name',
    disposition: 'unknown',
    caller: { number: callerNumber, name: null, e164: toE164(callerNumber, plan) },
    called: { number: calledNumber, e164: toE164(calledNumber, plan) },
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
      zone: zone.zone,
      zoneSource,
      raw: { start: rawStart, answer: null, end: null },
    },
    notice: { played: cfg.noticeAssumed ?? 'unknown', method: cfg.noticeAssumed ? 'config' : null, atUtc: null, evidence: [] },
    legs: [],
    recordings: list,
    flags,
  };
  return { payload, files };
}
