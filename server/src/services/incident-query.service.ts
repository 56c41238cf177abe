import type { Clock } from '../adapters/clock.ts';
import type { ArrivalState } from '@mamoru/contract/enums';
import type { Arrival, IncidentCategory, IncidentStatus } from '../domain/incident.ts';
import { TRANSITIONS } from '../domain/incident.ts';
import { can, type Principal, readableSites } from '../domain/principal.ts';
import { badRequest } from '../domain/errors.ts';
import type { CommandRow, AgentCommandRepository } from '../repositories/agent-command.repository.ts';
import type { CallRepository, CallRow } from '../repositories/call.repository.ts';
import type { CameraWindowRow, IncidentRepository, IncidentRow, RepeatCallMatch } from '../repositories/incident.repository.ts';
import type { RecordingRepository, RecordingRow } from '../repositories/recording.repository.ts';
import type { LinkingRepository } from '../repositories/linking.repository.ts';
import type { GapRecord } from '../repositories/segment.repository.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';
import { playlistUrl, recordingLink, scopedIncident, windowsFootage } from './incident-support.ts';

export type IncidentListFilter = {
  siteIds?: string[] | undefined;
  status?: IncidentStatus | undefined;
  category?: IncidentCategory | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  reporterId?: string | undefined;
  caseNumber?: string | undefined;
  cursor?: string | undefined;
  limit: number;
};

/** Arrival of a window's footage: `complete` (every past moment stored or a reported gap, none to come), `failed` (the agent said it cannot), else `awaiting`. */
export type { ArrivalState };

export type WindowView = CameraWindowRow & { arrival: Arrival; state: ArrivalState; gaps: GapRecord[]; command: CommandRow | null };

export type RepeatCaller = { caller: { number: string | null; e164: string | null }; linkedCallIds: string[]; matches: RepeatCallMatch[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Numbers shorter than this (extensions, "anonymous", blanks) are no one's identity. */
const MIN_CALLER_DIGITS = 6;
const MAX_REPEAT_MATCHES = 200;

const digitsOf = (s: string | null) => (s ?? '').replace(/[^0-9]/g, '');

function encodeCursor(c: { createdAt: Date; id: string }) {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}
function decodeCursor(s: string): { createdAt: Date; id: string } {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && UUID.test(v[1])) {
      const createdAt = new Date(v[0]);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: v[1] };
    }
  } catch {
    /* fall through */
  }
  throw badRequest('invalid_cursor', 'cursor is not one this server issued');
}

function stateOf(a: Arrival, cmd: CommandRow | null): ArrivalState {
  if (a.complete && a.futureMs === 0) return 'complete';
  // Nothing more can arrive, and some of it was deleted by retention before the case held it: it cannot be had.
  if (a.deletedCount > 0 && a.missing.length === 0 && a.metadataOnlyCount === 0 && a.futureMs === 0) return 'failed';
  return cmd?.status === 'failed' ? 'failed' : 'awaiting';
}

/** Reads of cases (list, detail, history, the timeline), always inside the caller's sites, each audited as a view. */
export function incidentQueryService(deps: {
  incidents: IncidentRepository;
  calls: CallRepository;
  recordings: RecordingRepository;
  linking: LinkingRepository;
  commands: AgentCommandRepository;
  audit: AuditService;
  clock: Clock;
  mediaSecret: string;
  mediaTtlSeconds: number;
}) {
  const { incidents, calls, linking, commands, audit, clock } = deps;

  /** Each linked camera window with what has arrived and the state of its preserve command. */
  async function windowViews(i: IncidentRow, now: Date): Promise<WindowView[]> {
    const windows = await incidents.listWindows(i.id);
    const [cmdRows, footage] = await Promise.all([
      commands.findByIds(windows.flatMap((w) => (w.preserveCommandId ? [w.preserveCommandId] : []))),
      // Every linked window's segments and gaps in one statement (the windows may differ per camera).
      windowsFootage(linking, windows.map((w) => ({ cameraId: w.cameraId, start: w.start, end: w.end })), now),
    ]);
    const cmds = new Map(cmdRows.map((c) => [c.id, c]));
    return windows.map((w, n) => {
      const f = footage[n]!;
      const command = w.preserveCommandId ? (cmds.get(w.preserveCommandId) ?? null) : null;
      return { ...w, arrival: f.arrival, gaps: f.gaps, state: stateOf(f.arrival, command), command };
    });
  }

  async function linkedCalls(i: IncidentRow) {
    const links = await incidents.listCallLinks(i.id);
    const rows = new Map((await calls.listByIds(links.map((l) => l.callId))).map((c) => [c.id, c]));
    return links.flatMap((l) => {
      const call = rows.get(l.callId);
      return call ? [{ link: l, call }] : [];
    });
  }

  /** Calls from the same number at other sites the viewer covers (a store manager sees none of sites they do not own). */
  async function repeatCallers(p: Principal, i: IncidentRow, linked: readonly CallRow[]): Promise<RepeatCaller[]> {
    if (!can(p, 'calls:read')) return [];
    const callers = new Map<string, { caller: { number: string | null; e164: string | null }; e164: string | null; digits: string; linkedCallIds: string[] }>();
    for (const c of linked) {
      if (c.direction !== 'inbound' && c.direction !== 'unknown') continue;
      const digits = digitsOf(c.caller.number);
      const e164 = c.caller.e164 && digitsOf(c.caller.e164).length >= MIN_CALLER_DIGITS ? c.caller.e164 : null;
      if (!e164 && digits.length < MIN_CALLER_DIGITS) continue;
      const key = e164 ?? `raw:${digits}`;
      const entry = callers.get(key) ?? { caller: { number: c.caller.number, e164: c.caller.e164 }, e164, digits: digits.length >= MIN_CALLER_DIGITS ? digits : '', linkedCallIds: [] };
      entry.linkedCallIds.push(c.id);
      callers.set(key, entry);
    }
    if (callers.size === 0) return [];
    const all = [...callers.values()];
    const matches = await incidents.repeatCalls({
      e164s: [...new Set(all.flatMap((c) => (c.e164 ? [c.e164] : [])))],
      rawDigits: [...new Set(all.flatMap((c) => (c.digits ? [c.digits] : [])))],
      excludeSiteId: i.siteId,
      siteIds: readableSites(p),
      limit: MAX_REPEAT_MATCHES,
    });
    return all
      .map((c) => ({
        caller: c.caller,
        linkedCallIds: c.linkedCallIds,
        matches: matches.filter((m) => (c.e164 !== null && m.callerE164 === c.e164) || (c.digits !== '' && digitsOf(m.callerNumber) === c.digits)),
      }))
      .filter((c) => c.matches.length > 0);
  }

  /** The statuses this viewer may move the case to now. */
  function allowedTransitions(p: Principal, i: IncidentRow): IncidentStatus[] {
    if (!can(p, 'incidents:edit')) return [];
    return (Object.entries(TRANSITIONS[i.status]) as [IncidentStatus, Parameters<typeof can>[1]][]).filter(([, cap]) => can(p, cap)).map(([s]) => s);
  }

  return {
    async list(p: Principal, f: IncidentListFilter) {
      ensureCan(p, 'incidents:read');
      if (f.from && f.to && f.to.getTime() <= f.from.getTime()) throw badRequest('invalid_range', '`to` must be after `from`');
      const scope = readableSites(p);
      let siteIds: readonly string[] | 'all' = scope;
      if (f.siteIds?.length) siteIds = scope === 'all' ? f.siteIds : f.siteIds.filter((s) => scope.includes(s));
      const rows = await incidents.list({ siteIds, status: f.status, category: f.category, from: f.from, to: f.to, reporterId: f.reporterId, caseNumber: f.caseNumber, after: f.cursor ? decodeCursor(f.cursor) : undefined, limit: f.limit + 1 });
      const page = rows.slice(0, f.limit);
      const last = page.at(-1);
      const { cursor: _c, ...filter } = f;
      await audit.record(p, { action: 'incident.list', details: { filter, count: page.length } });
      return { incidents: page, nextCursor: rows.length > f.limit && last ? encodeCursor(last) : null };
    },

    /** The case with its links, arrival per window, notes, bookmarks, holds and repeat-caller matches. */
    async detail(p: Principal, id: string) {
      const i = await scopedIncident(incidents, p, id, false, audit);
      const now = clock.now();
      const [windows, callLinks, notes, bookmarks, holds] = await Promise.all([windowViews(i, now), linkedCalls(i), incidents.listNotes(i.id), incidents.listBookmarks(i.id), incidents.listHolds(i.id)]);
      const repeat = await repeatCallers(p, i, callLinks.map((c) => c.call));
      const matchSites = [...new Set(repeat.flatMap((r) => r.matches.map((m) => m.siteId)))].sort();
      await audit.record(p, {
        action: 'incident.view',
        targetType: 'incident',
        targetId: i.id,
        siteId: i.siteId,
        details: { caseNumber: i.caseNumber, calls: callLinks.length, windows: windows.length, repeatCallerMatches: repeat.reduce((n, r) => n + r.matches.length, 0), repeatCallerSites: matchSites },
      });
      return { incident: i, windows, calls: callLinks, notes, bookmarks, holds, repeatCallers: repeat, allowedTransitions: allowedTransitions(p, i) };
    },

    async history(p: Principal, id: string) {
      const i = await scopedIncident(incidents, p, id, false, audit);
      const events = await incidents.listEvents(i.id);
      await audit.record(p, { action: 'incident.history', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, events: events.length } });
      return { incident: i, events };
    },

    /**
     * Everything a viewer needs to play the case on one clock: the site's time zone, every camera window with its
     * playlist route and arrival, every call with signed audio and waveform links, bookmarks. Audited as a view that
     * names when the links it hands out expire.
     */
    async timeline(p: Principal, id: string) {
      const i = await scopedIncident(incidents, p, id, false, audit);
      const now = clock.now();
      const [windows, callLinks, bookmarks] = await Promise.all([windowViews(i, now), linkedCalls(i), incidents.listBookmarks(i.id)]);
      const recs = new Map<string, RecordingRow[]>();
      await Promise.all(callLinks.map(async (c) => recs.set(c.call.id, await deps.recordings.listForCall(c.call.id))));
      const link = (recId: string, kind: 'original' | 'playable' | 'waveform') => recordingLink(deps.mediaSecret, deps.mediaTtlSeconds, now, recId, kind);
      const callViews = callLinks.map(({ link: l, call }) => ({
        link: l,
        call,
        recordings: (recs.get(call.id) ?? []).map((r) => ({
          recording: r,
          original: r.objectKey ? link(r.id, 'original') : null,
          playable: r.playable ? link(r.id, 'playable') : null,
          waveform: r.waveform ? link(r.id, 'waveform') : null,
        })),
      }));
      const caseSpan = { start: new Date(i.windowStart.getTime() - i.marginBeforeS * 1000), end: new Date(i.windowEnd.getTime() + i.marginAfterS * 1000) };
      const starts = [caseSpan.start, ...windows.map((w) => w.start), ...callLinks.map((c) => c.call.startAt)].map((d) => d.getTime());
      const ends = [caseSpan.end, ...windows.map((w) => w.end), ...callLinks.map((c) => c.call.endAt)].map((d) => d.getTime());
      const linksExpireAt = new Date((Math.floor(now.getTime() / 1000) + deps.mediaTtlSeconds) * 1000);
      await audit.record(p, {
        action: 'incident.timeline',
        targetType: 'incident',
        targetId: i.id,
        siteId: i.siteId,
        details: { caseNumber: i.caseNumber, windows: windows.length, calls: callViews.length, recordings: callViews.reduce((n, c) => n + c.recordings.length, 0), linksExpireAt: linksExpireAt.toISOString() },
      });
      return {
        incident: i,
        range: { start: new Date(Math.min(...starts)), end: new Date(Math.max(...ends)) },
        windows: windows.map((w) => ({ ...w, playlistUrl: playlistUrl(w.cameraId, w.start, w.end), playable: w.arrival.storedCount > 0 })),
        calls: callViews,
        bookmarks,
        linksExpireAt,
      };
    },
  };
}
export type IncidentQueryService = ReturnType<typeof incidentQueryService>;
