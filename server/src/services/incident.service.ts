import type { Clock } from '../adapters/clock.ts';
import type { CallLinkSource, WindowLinkSource } from '@mamoru/contract/enums';
import type { IncidentSettings } from '../config.ts';
import type { CameraRow } from '../repositories/camera.repository.ts';
import {
  type Arrival,
  caseNumber,
  checkTransition,
  type IncidentCategory,
  type IncidentSeverity,
  type IncidentStatus,
  type InvolvedStaff,
  needsPreservation,
  yearIn,
} from '../domain/incident.ts';
import { can, canReadSite, type Principal, readableSites } from '../domain/principal.ts';
import { badRequest, conflict, DomainError, forbidden, notFound } from '../domain/errors.ts';
import type { CallRepository } from '../repositories/call.repository.ts';
import type { IncidentPatch, IncidentRow, NewHold } from '../repositories/incident.repository.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import { auditRefusedRead, ensureCan } from './access.ts';
import type { StorageLockService } from './storage-lock.service.ts';
import type { AuditService } from './audit.service.ts';
import { actorOf, footageArrival, isUuid, scopedIncident, windowsFootage } from './incident-support.ts';

export type FileIncidentInput = {
  siteId?: string | undefined;
  callId?: string | undefined;
  window?: { from: Date; to: Date } | undefined;
  marginBeforeSeconds?: number | undefined;
  marginAfterSeconds?: number | undefined;
  title: string;
  category: IncidentCategory;
  severity: IncidentSeverity;
  narrative?: string | undefined;
  involvedStaff?: InvolvedStaff[] | undefined;
  status?: 'draft' | 'open' | undefined;
};

export type UpdateIncidentInput = {
  title?: string | undefined;
  category?: IncidentCategory | undefined;
  severity?: IncidentSeverity | undefined;
  narrative?: string | undefined;
  window?: { from: Date; to: Date } | undefined;
  involvedStaff?: InvolvedStaff[] | undefined;
  expectedVersion?: number | undefined;
};

/** What one link placed: the ids of new links, holds and preserve commands (reported in the answer and the audit event). */
export type LinkOutcome = {
  calls: string[];
  /** `deletedCount`: segments of the window whose media retention had deleted before the case held it. */
  windows: { id: string; cameraId: string; cameraKey: string; from: string; to: string; commandId: string | null; deletedCount: number }[];
  holds: number;
};

const iso = (d: Date) => d.toISOString();
const cleanText = (s: string) => s.replace(/\r\n?/g, '\n').trim();
const staffKey = (xs: readonly InvolvedStaff[]) => JSON.stringify(xs.map((x) => [x.name, x.role, x.extension]));

/**
 * Filing and changing cases: links, holds, preservation commands, notes, bookmarks, status and legal hold. Every
 * change commits in one transaction with its history row (incident_event) and its audit event. Scope: a case is
 * reachable only inside the caller's sites (404 otherwise); the role decides what they may do with it (403).
 */
export function incidentService(deps: {
  tx: Transactor;
  audit: AuditService;
  clock: Clock;
  settings: IncidentSettings;
  calls: CallRepository;
  /** Mirrors hold changes in the storage's Object Lock after they commit (issue 15); absent: app-level holds only. */
  storageHolds?: Pick<StorageLockService, 'syncHolds'>;
  log?: (line: Record<string, unknown>) => void;
}) {
  const { tx, audit, clock, settings } = deps;
  const maxWindowMs = settings.maxWindowSeconds * 1000;

  function checkWindow(from: Date, to: Date, now: Date, what = 'window') {
    if (to.getTime() <= from.getTime()) throw badRequest('invalid_range', `${what}: \`to\` must be after \`from\``);
    if (to.getTime() - from.getTime() > maxWindowMs) throw badRequest('window_too_long', `${what}: at most ${settings.maxWindowSeconds} s`);
    if (from.getTime() > now.getTime()) throw badRequest('window_in_future', `${what} starts in the future`);
  }

  function margin(value: number | undefined, def: number, name: string): number {
    const v = value ?? def;
    if (!Number.isInteger(v) || v < 0 || v > settings.maxMarginSeconds) throw badRequest('margin_out_of_range', `${name} must be 0–${settings.maxMarginSeconds} seconds`);
    return v;
  }

  function ensureOpenForChanges(i: IncidentRow) {
    if (i.status === 'closed') throw conflict('incident_closed', 'the case is closed; reopen it first (hq)');
  }

  function ensureVersion(i: IncidentRow, expected: number | undefined) {
    if (expected !== undefined && expected !== i.version) throw conflict('version_conflict', `the case changed (version ${i.version}, you had ${expected}); reload it`, { version: i.version });
  }

  async function history(r: Repositories, p: Principal, incidentId: string, action: string, changes: Record<string, unknown>, now: Date) {
    const a = actorOf(p);
    await r.incidents.addEvent({ incidentId, at: now, actorType: a.type, actorId: a.id, actorLabel: a.label, action, changes });
  }

  /** The incident evidence period (retention_policy `incident_evidence`, edited by hq; docs/retention.md), days. */
  async function incidentEvidenceDays(r: Repositories): Promise<number> {
    return (await r.retention.policyDays('incident_evidence')) ?? 1095;
  }

  /** Holds of the case's kinds on a target: always an incident hold, and a legal hold while the case has one. */
  function holdsFor(i: IncidentRow, target: NewHold['target'], by: string, now: Date, incidentDays: number): NewHold[] {
    const base = { siteId: i.siteId, incidentId: i.id, target, placedBy: by, placedAt: now };
    const holds: NewHold[] = [{ ...base, kind: 'incident', reason: `incident ${i.caseNumber}`, expiresAt: i.closedAt ? new Date(i.closedAt.getTime() + incidentDays * 86400_000) : null }];
    if (i.legalHold) holds.push({ ...base, kind: 'legal', reason: i.legalHold.reason, expiresAt: null });
    return holds;
  }

  /**
   * Links a camera window: the window row, its holds, and a preserve_window command for the site's agent when some
   * of its footage is not at the centre (on-demand camera, metadata-only rows, time with no row at all). `footage` is
   * the window's arrival when the caller has already read it (filing reads all cameras at once); otherwise it is
   * read here, once the window is linked.
   */
  async function linkWindowWithin(
    r: Repositories,
    i: IncidentRow,
    cam: Pick<CameraRow, 'id' | 'key' | 'uploadMode'>,
    start: Date,
    end: Date,
    source: WindowLinkSource,
    ctx: { by: string; now: Date; incidentDays: number; footage?: Arrival },
  ) {
    const { by, now } = ctx;
    const id = await r.incidents.linkWindow({ incidentId: i.id, cameraId: cam.id, start, end, source, by, at: now });
    if (!id) return undefined;
    const holds = await r.incidents.placeHolds(holdsFor(i, { cameraId: cam.id, start, end }, by, now, ctx.incidentDays));
    const arrival = ctx.footage ?? (await windowsFootage(r.linking, [{ cameraId: cam.id, start, end }], now))[0]!.arrival;
    let commandId: string | null = null;
    if (needsPreservation(cam.uploadMode, arrival)) {
      const cmd = await r.agentCommands.insert({ siteId: i.siteId, kind: 'preserve_window', payload: { cameraKey: cam.key, from: iso(start), to: iso(end), incidentId: i.id }, incidentId: i.id, now });
      await r.incidents.setWindowCommand(id, cmd.id);
      commandId = cmd.id;
    }
    return { id, cameraId: cam.id, cameraKey: cam.key, from: iso(start), to: iso(end), commandId, holds, missingMs: arrival.missingMs, metadataOnlyCount: arrival.metadataOnlyCount, deletedCount: arrival.deletedCount };
  }

  async function linkCallsWithin(r: Repositories, i: IncidentRow, links: { callId: string; source: CallLinkSource }[], by: string, now: Date, incidentDays?: number) {
    const linked = await r.incidents.linkCalls(i.id, links, by, now);
    const days = incidentDays ?? (await incidentEvidenceDays(r));
    const holds = await r.incidents.placeHolds(linked.flatMap((callId) => holdsFor(i, { callId }, by, now, days)));
    return { linked, holds };
  }

  /** The case locked for a change, inside the caller's scope. */
  async function forChange(r: Repositories, p: Principal, id: string, cap: 'incidents:edit' | 'incidents:legal_hold' = 'incidents:edit') {
    ensureCan(p, cap);
    return scopedIncident(r.incidents, p, id, true);
  }

  /**
   * A change to a case, in one transaction. A refusal by the site scope (another site's case or call, answered 404
   * like a missing one) is audited as `access.refused` once the transaction has rolled back, as reads are.
   */
  async function change<T>(p: Principal, id: string, fn: (r: Repositories) => Promise<T>, refs: { callId?: string } = {}): Promise<T> {
    try {
      return await tx(fn);
    } catch (e) {
      if (e instanceof DomainError && (e.code === 'incident_not_found' || (e.code === 'call_not_found' && refs.callId !== undefined))) {
        await auditScopeRefusal(p, e.code === 'incident_not_found' ? { what: 'incident', id } : { what: 'call', id: refs.callId! });
      }
      throw e;
    }
  }

  /** Audits a 404 of the site scope, naming the owning site when the thing exists (docs/security.md). */
  async function auditScopeRefusal(p: Principal, t: { what: 'incident' | 'call' | 'site'; id: string }) {
    const siteId = !isUuid(t.id)
      ? undefined
      : t.what === 'incident'
        ? (await tx((r) => r.incidents.findInSites(t.id, 'all')))?.siteId
        : t.what === 'call'
          ? (await deps.calls.findInSites(t.id, 'all'))?.siteId
          : (await tx((r) => r.sites.findById(t.id)))?.id;
    await auditRefusedRead(audit, p, { what: t.what, targetType: t.what, targetId: t.id, siteId });
  }

  const api = {
    /**
     * Files a case, from a call (its site and times) and/or a time window at a site. Links the site's calls that
     * overlap the window widened by the margins and one window of that span for each of the site's cameras, holds
     * them all, and asks the agent for footage that is not at the centre.
     */
    async file(p: Principal, input: FileIncidentInput) {
      ensureCan(p, 'incidents:file');
      const now = clock.now();
      const before = margin(input.marginBeforeSeconds, settings.marginBeforeSeconds, 'marginBeforeSeconds');
      const after = margin(input.marginAfterSeconds, settings.marginAfterSeconds, 'marginAfterSeconds');
      const title = cleanText(input.title);
      if (!title) throw badRequest('invalid_title', 'title must not be empty');
      let siteId = input.siteId;
      let window = input.window;
      if (input.callId !== undefined) {
        const call = isUuid(input.callId) && can(p, 'calls:read') ? await deps.calls.findInSites(input.callId, readableSites(p)) : undefined;
        if (!call) {
          await auditScopeRefusal(p, { what: 'call', id: input.callId });
          throw notFound('call_not_found', 'call not found');
        }
        if (siteId !== undefined && siteId !== call.siteId) throw badRequest('site_mismatch', 'the call is not at the given site');
        siteId = call.siteId;
        // A zero-length call (a hang-up at once) still gets a one-second case window.
        window ??= { from: call.startAt, to: call.endAt.getTime() > call.startAt.getTime() ? call.endAt : new Date(call.startAt.getTime() + 1000) };
      }
      if (siteId === undefined) throw badRequest('site_required', 'give siteId and a window, or callId');
      if (window === undefined) throw badRequest('window_required', 'give a window (from, to) or callId');
      checkWindow(window.from, window.to, now);
      if (!isUuid(siteId) || !canReadSite(p, siteId)) {
        await auditScopeRefusal(p, { what: 'site', id: siteId });
        throw notFound('site_not_found', 'site not found');
      }
      const linkFrom = new Date(window.from.getTime() - before * 1000);
      const linkTo = new Date(window.to.getTime() + after * 1000);
      const actor = actorOf(p);
      const filed = await tx(async (r) => {
        const site = await r.sites.findById(siteId);
        if (!site) throw notFound('site_not_found', 'site not found');
        const year = yearIn(site.timezone, now);
        const number = caseNumber(site.code, year, await r.incidents.nextSequence(site.id, year));
        const id = await r.incidents.insert({
          siteId: site.id,
          caseNumber: number,
          title,
          category: input.category,
          severity: input.severity,
          status: input.status ?? 'open',
          windowStart: window.from,
          windowEnd: window.to,
          marginBeforeS: before,
          marginAfterS: after,
          narrative: cleanText(input.narrative ?? ''),
          involvedStaff: input.involvedStaff ?? [],
          reporterId: p.kind === 'user' ? p.userId : null,
          createdBy: actor.id,
          now,
        });
        const incident = (await r.incidents.findInSites(id, 'all'))!;
        // The site's cameras locked against retention first (footage-locks.ts): what the read below finds deleted was
        // deleted before this case, and nothing it finds stored can be deleted before the holds commit.
        await r.incidents.lockSiteCamerasForHolds(site.id);
        // One read for the whole link: the overlapping calls and every camera's footage in the window.
        const linking = await r.linking.siteWindow(site.id, linkFrom, linkTo);
        const incidentDays = await incidentEvidenceDays(r);
        const callIds = linking.callIds;
        if (input.callId && !callIds.includes(input.callId)) callIds.unshift(input.callId);
        const calls = await linkCallsWithin(r, incident, callIds.map((c) => ({ callId: c, source: c === input.callId ? ('filed_from' as const) : ('window' as const) })), actor.id, now, incidentDays);
        const windows = [];
        for (const cam of linking.cameras) {
          const footage = footageArrival(cam, linkFrom, linkTo, now).arrival;
          const w = await linkWindowWithin(r, incident, { id: cam.id, key: cam.key, uploadMode: cam.uploadMode }, linkFrom, linkTo, 'filed', { by: actor.id, now, incidentDays, footage });
          if (w) windows.push(w);
        }
        const outcome: LinkOutcome = { calls: calls.linked, windows: windows.map(({ holds: _h, missingMs: _m, metadataOnlyCount: _c, ...w }) => w), holds: calls.holds + windows.reduce((n, w) => n + w.holds, 0) };
        const summary = {
          caseNumber: number,
          title,
          category: input.category,
          severity: input.severity,
          status: incident.status,
          window: { from: iso(window.from), to: iso(window.to) },
          margins: { beforeSeconds: before, afterSeconds: after },
          fromCall: input.callId ?? null,
          linkedCalls: outcome.calls,
          linkedWindows: outcome.windows,
          holds: outcome.holds,
        };
        await history(r, p, id, 'incident.filed', summary, now);
        await audit.recordWithin(r, p, { action: 'incident.create', targetType: 'incident', targetId: id, siteId: site.id, details: summary });
        return { incident, outcome };
      });
      return { incident: filed.incident, linked: filed.outcome };
    },

    /** Title, category, severity, narrative, window, involved staff; the history keeps every before and after. */
    async update(p: Principal, id: string, input: UpdateIncidentInput) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        ensureVersion(i, input.expectedVersion);
        const patch: IncidentPatch = {};
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        const title = input.title === undefined ? undefined : cleanText(input.title);
        if (title === '') throw badRequest('invalid_title', 'title must not be empty');
        const narrative = input.narrative === undefined ? undefined : cleanText(input.narrative);
        if (input.window !== undefined) checkWindow(input.window.from, input.window.to, now);
        if (title !== undefined && title !== i.title) {
          patch.title = title;
          changes.title = { from: i.title, to: title };
        }
        if (input.category !== undefined && input.category !== i.category) {
          patch.category = input.category;
          changes.category = { from: i.category, to: input.category };
        }
        if (input.severity !== undefined && input.severity !== i.severity) {
          patch.severity = input.severity;
          changes.severity = { from: i.severity, to: input.severity };
        }
        if (narrative !== undefined && narrative !== i.narrative) {
          patch.narrative = narrative;
          changes.narrative = { from: i.narrative, to: narrative };
        }
        if (input.window !== undefined && (input.window.from.getTime() !== i.windowStart.getTime() || input.window.to.getTime() !== i.windowEnd.getTime())) {
          patch.windowStart = input.window.from;
          patch.windowEnd = input.window.to;
          changes.window = { from: { from: iso(i.windowStart), to: iso(i.windowEnd) }, to: { from: iso(input.window.from), to: iso(input.window.to) } };
        }
        if (input.involvedStaff !== undefined && staffKey(input.involvedStaff) !== staffKey(i.involvedStaff)) {
          patch.involvedStaff = input.involvedStaff;
          changes.involvedStaff = { from: i.involvedStaff, to: input.involvedStaff };
        }
        if (Object.keys(changes).length === 0) return { incident: i, changed: [] as string[] };
        await r.incidents.update(i.id, patch, now);
        await history(r, p, i.id, 'incident.updated', changes, now);
        await audit.recordWithin(r, p, { action: 'incident.update', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, changes } });
        return { incident: (await r.incidents.findInSites(i.id, 'all'))!, changed: Object.keys(changes) };
      });
    },

    /**
     * Moves a case along TRANSITIONS (domain/incident.ts). Closing starts the incident evidence retention clock on
     * the case's incident holds (closed_at + the `incident_evidence` retention policy, docs/retention.md); reopening
     * stops it. Legal holds never expire.
     */
    async setStatus(p: Principal, id: string, to: IncidentStatus, opts: { note?: string | undefined; expectedVersion?: number | undefined } = {}) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureVersion(i, opts.expectedVersion);
        const t = checkTransition(i.status, to);
        if (!t.ok) throw conflict('invalid_transition', `a case cannot go from ${i.status} to ${to}`, { from: i.status, to, allowed: t.allowed });
        if (!can(p, t.needs)) throw forbidden('transition_forbidden', `this role may not move a case from ${i.status} to ${to} (needs ${t.needs})`);
        const actor = actorOf(p);
        const patch: IncidentPatch = { status: to };
        let holdsExpireAt: Date | null | undefined;
        if (to === 'closed') {
          patch.closedAt = now;
          patch.closedBy = actor.id;
          holdsExpireAt = new Date(now.getTime() + (await incidentEvidenceDays(r)) * 86400_000);
        } else if (i.status === 'closed') {
          patch.closedAt = null;
          patch.closedBy = null;
          holdsExpireAt = null;
        }
        await r.incidents.update(i.id, patch, now);
        const holds = holdsExpireAt === undefined ? 0 : await r.incidents.setIncidentHoldExpiry(i.id, holdsExpireAt);
        const note = opts.note === undefined ? null : cleanText(opts.note) || null;
        const details = { caseNumber: i.caseNumber, from: i.status, to, note, ...(holdsExpireAt !== undefined && { incidentHoldsExpireAt: holdsExpireAt && iso(holdsExpireAt), holdsUpdated: holds }) };
        await history(r, p, i.id, 'incident.status_changed', { status: { from: i.status, to }, note, ...(holdsExpireAt !== undefined && { incidentHoldsExpireAt: holdsExpireAt && iso(holdsExpireAt) }) }, now);
        await audit.recordWithin(r, p, { action: 'incident.status', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { incident: (await r.incidents.findInSites(i.id, 'all'))!, from: i.status, to, incidentHoldsExpireAt: holdsExpireAt ?? null };
      });
    },

    /** Links one more call of the case's site (held at once). */
    async linkCall(p: Principal, id: string, callId: string) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        const call = isUuid(callId) && can(p, 'calls:read') ? await r.calls.findInSites(callId, readableSites(p)) : undefined;
        if (!call) throw notFound('call_not_found', 'call not found');
        if (call.siteId !== i.siteId) throw badRequest('call_other_site', "the call is not at the case's site");
        const actor = actorOf(p);
        const { linked, holds } = await linkCallsWithin(r, i, [{ callId, source: 'manual' }], actor.id, now);
        if (linked.length === 0) throw conflict('already_linked', 'the call is already linked to this case');
        const details = { caseNumber: i.caseNumber, callId, callStart: iso(call.startAt), holds };
        await history(r, p, i.id, 'incident.call_linked', details, now);
        await audit.recordWithin(r, p, { action: 'incident.call.link', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { callId, holds };
      }, { callId });
    },

    /** Unlinks a call and releases the case's incident hold on it (not allowed while the case is under legal hold). */
    async unlinkCall(p: Principal, id: string, callId: string, reason?: string) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        if (i.legalHold) throw conflict('legal_hold_active', 'the case is under legal hold: its evidence cannot be unlinked');
        const link = isUuid(callId) ? await r.incidents.unlinkCall(i.id, callId) : undefined;
        if (!link) throw notFound('link_not_found', 'this call is not linked to the case');
        const actor = actorOf(p);
        const why = cleanText(reason ?? '') || `unlinked from incident ${i.caseNumber}`;
        const released = await r.incidents.releaseHolds(i.id, 'incident', { callId }, actor.id, now, why);
        const details = { caseNumber: i.caseNumber, callId, linkedAt: iso(link.linkedAt), source: link.source, holdsReleased: released, reason: why };
        await history(r, p, i.id, 'incident.call_unlinked', details, now);
        await audit.recordWithin(r, p, { action: 'incident.call.unlink', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { callId, holdsReleased: released };
      });
    },

    /** Links a window of one of the case site's cameras (held at once; the agent is asked for what is missing). */
    async linkWindow(p: Principal, id: string, w: { cameraId: string; from: Date; to: Date }) {
      const now = clock.now();
      checkWindow(w.from, w.to, now);
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        const cam = isUuid(w.cameraId) && can(p, 'footage:read') ? await r.cameras.findInSites(w.cameraId, readableSites(p)) : undefined;
        if (!cam) throw notFound('camera_not_found', 'camera not found');
        if (cam.siteId !== i.siteId) throw badRequest('camera_other_site', "the camera is not at the case's site");
        const actor = actorOf(p);
        const linked = await linkWindowWithin(r, i, cam, w.from, w.to, 'manual', { by: actor.id, now, incidentDays: await incidentEvidenceDays(r) });
        if (!linked) throw conflict('already_linked', 'this camera window is already linked to the case');
        const { holds, ...rest } = linked;
        const details = { caseNumber: i.caseNumber, ...rest, holds };
        await history(r, p, i.id, 'incident.window_linked', details, now);
        await audit.recordWithin(r, p, { action: 'incident.window.link', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return linked;
      });
    },

    /** Unlinks a camera window: releases the case's incident hold on exactly that span and closes its open command. */
    async unlinkWindow(p: Principal, id: string, windowId: string, reason?: string) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        if (i.legalHold) throw conflict('legal_hold_active', 'the case is under legal hold: its evidence cannot be unlinked');
        const w = isUuid(windowId) ? await r.incidents.findWindow(i.id, windowId) : undefined;
        if (!w) throw notFound('window_not_found', 'this camera window is not linked to the case');
        await r.incidents.unlinkWindow(w.id);
        const actor = actorOf(p);
        const why = cleanText(reason ?? '') || `unlinked from incident ${i.caseNumber}`;
        const released = await r.incidents.releaseHolds(i.id, 'incident', { cameraId: w.cameraId, start: w.start, end: w.end }, actor.id, now, why);
        const cancelled = w.preserveCommandId ? await r.agentCommands.cancelOpen([w.preserveCommandId], `cancelled at the centre: window unlinked from ${i.caseNumber}`, now) : 0;
        const details = { caseNumber: i.caseNumber, windowId: w.id, cameraId: w.cameraId, cameraKey: w.camera.key, from: iso(w.start), to: iso(w.end), holdsReleased: released, commandCancelled: cancelled > 0, reason: why };
        await history(r, p, i.id, 'incident.window_unlinked', details, now);
        await audit.recordWithin(r, p, { action: 'incident.window.unlink', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { windowId: w.id, holdsReleased: released, commandCancelled: cancelled > 0 };
      });
    },

    async addNote(p: Principal, id: string, body: string) {
      const now = clock.now();
      const text = cleanText(body);
      if (!text) throw badRequest('invalid_note', 'a note must not be empty');
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        const a = actorOf(p);
        const note = await r.incidents.addNote(i.id, text, a.id, a.label, now);
        await history(r, p, i.id, 'incident.note_added', { noteId: note.id, body: text }, now);
        await audit.recordWithin(r, p, { action: 'incident.note.add', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, noteId: note.id, length: text.length } });
        return note;
      });
    },

    /**
     * A moment that matters: on a linked camera (inside one of its windows), on a linked call (inside the call), or on
     * the case's clock (inside the case's linked span).
     */
    async addBookmark(p: Principal, id: string, b: { at: Date; cameraId?: string | undefined; callId?: string | undefined; note?: string | undefined }) {
      const now = clock.now();
      if (b.cameraId !== undefined && b.callId !== undefined) throw badRequest('invalid_bookmark_target', 'a bookmark is on a camera or a call, not both');
      const note = cleanText(b.note ?? '');
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        const at = b.at.getTime();
        if (b.cameraId !== undefined) {
          const windows = (await r.incidents.listWindows(i.id)).filter((w) => w.cameraId === b.cameraId);
          if (windows.length === 0) throw badRequest('camera_not_linked', 'the camera has no window linked to this case');
          if (!windows.some((w) => w.start.getTime() <= at && at < w.end.getTime())) throw badRequest('bookmark_outside_window', "the time is outside the camera's linked windows");
        } else if (b.callId !== undefined) {
          const linked = (await r.incidents.listCallLinks(i.id)).some((l) => l.callId === b.callId);
          const call = linked ? (await r.calls.listByIds([b.callId]))[0] : undefined;
          if (!call) throw badRequest('call_not_linked', 'the call is not linked to this case');
          if (at < call.startAt.getTime() || at > call.endAt.getTime()) throw badRequest('bookmark_outside_call', 'the time is outside the call');
        } else {
          const spans = [{ start: i.windowStart.getTime() - i.marginBeforeS * 1000, end: i.windowEnd.getTime() + i.marginAfterS * 1000 }, ...(await r.incidents.listWindows(i.id)).map((w) => ({ start: w.start.getTime(), end: w.end.getTime() }))];
          const calls = await r.calls.listByIds((await r.incidents.listCallLinks(i.id)).map((l) => l.callId));
          spans.push(...calls.map((c) => ({ start: c.startAt.getTime(), end: c.endAt.getTime() })));
          if (at < Math.min(...spans.map((s) => s.start)) || at > Math.max(...spans.map((s) => s.end))) throw badRequest('bookmark_outside_case', "the time is outside the case's linked footage and calls");
        }
        const a = actorOf(p);
        const row = await r.incidents.addBookmark({ incidentId: i.id, at: b.at, cameraId: b.cameraId ?? null, callId: b.callId ?? null, note, by: a.id, byLabel: a.label, now });
        const details = { bookmarkId: row.id, at: iso(row.at), cameraId: row.cameraId, callId: row.callId, note };
        await history(r, p, i.id, 'incident.bookmark_added', details, now);
        await audit.recordWithin(r, p, { action: 'incident.bookmark.add', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, ...details } });
        return row;
      });
    },

    async removeBookmark(p: Principal, id: string, bookmarkId: string) {
      const now = clock.now();
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id);
        ensureOpenForChanges(i);
        const row = isUuid(bookmarkId) ? await r.incidents.removeBookmark(i.id, bookmarkId) : undefined;
        if (!row) throw notFound('bookmark_not_found', 'bookmark not found');
        const details = { bookmarkId: row.id, at: iso(row.at), cameraId: row.cameraId, callId: row.callId, note: row.note, createdBy: row.createdBy };
        await history(r, p, i.id, 'incident.bookmark_removed', details, now);
        await audit.recordWithin(r, p, { action: 'incident.bookmark.remove', targetType: 'incident', targetId: i.id, siteId: i.siteId, details: { caseNumber: i.caseNumber, ...details } });
        return { bookmarkId: row.id };
      });
    },

    /** hq only, with a reason: a legal hold on every linked window and call (and on any linked later), never expiring. */
    async placeLegalHold(p: Principal, id: string, reason: string) {
      const now = clock.now();
      const why = cleanText(reason);
      ensureCan(p, 'incidents:legal_hold');
      if (!why) throw badRequest('reason_required', 'a legal hold needs a reason');
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id, 'incidents:legal_hold');
        if (i.legalHold) throw conflict('legal_hold_active', 'the case is already under legal hold');
        const actor = actorOf(p);
        const targets: NewHold['target'][] = [
          ...(await r.incidents.listWindows(i.id)).map((w) => ({ cameraId: w.cameraId, start: w.start, end: w.end })),
          ...(await r.incidents.listCallLinks(i.id)).map((l) => ({ callId: l.callId })),
        ];
        const holds = await r.incidents.placeHolds(targets.map((target) => ({ siteId: i.siteId, incidentId: i.id, kind: 'legal', target, reason: why, placedBy: actor.id, placedAt: now, expiresAt: null })));
        await r.incidents.update(i.id, { legalHold: { reason: why, by: actor.id, at: now } }, now);
        const details = { caseNumber: i.caseNumber, reason: why, holds };
        await history(r, p, i.id, 'incident.legal_hold_placed', details, now);
        await audit.recordWithin(r, p, { action: 'incident.legal_hold.place', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { incident: (await r.incidents.findInSites(i.id, 'all'))!, holds };
      });
    },

    /** hq only, with a reason: every legal hold of the case is released (kept, with who, when and why). */
    async releaseLegalHold(p: Principal, id: string, reason: string) {
      const now = clock.now();
      const why = cleanText(reason);
      ensureCan(p, 'incidents:legal_hold');
      if (!why) throw badRequest('reason_required', 'releasing a legal hold needs a reason');
      return change(p, id, async (r) => {
        const i = await forChange(r, p, id, 'incidents:legal_hold');
        if (!i.legalHold) throw conflict('legal_hold_not_active', 'the case is not under legal hold');
        const actor = actorOf(p);
        const released = await r.incidents.releaseHolds(i.id, 'legal', null, actor.id, now, why);
        await r.incidents.update(i.id, { legalHold: null }, now);
        const details = { caseNumber: i.caseNumber, reason: why, placedReason: i.legalHold.reason, placedBy: i.legalHold.by, placedAt: iso(i.legalHold.at), holdsReleased: released };
        await history(r, p, i.id, 'incident.legal_hold_released', details, now);
        await audit.recordWithin(r, p, { action: 'incident.legal_hold.release', targetType: 'incident', targetId: i.id, siteId: i.siteId, details });
        return { incident: (await r.incidents.findInSites(i.id, 'all'))!, holdsReleased: released };
      });
    },
  };

  /**
   * Every change that places, releases or re-dates holds is mirrored in the storage once it has committed. A failure
   * there does not undo the change: the holds stay pending (storage_synced_at) and the retention run syncs them.
   */
  const syncAfter = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const r = await fn(...a);
      if (deps.storageHolds) {
        await deps.storageHolds.syncHolds().catch((e) => deps.log?.({ level: 'warn', msg: 'storage lock: hold sync failed; retried at the next retention run', error: (e as Error).message }));
      }
      return r;
    };
  return {
    ...api,
    file: syncAfter(api.file),
    setStatus: syncAfter(api.setStatus),
    linkCall: syncAfter(api.linkCall),
    unlinkCall: syncAfter(api.unlinkCall),
    linkWindow: syncAfter(api.linkWindow),
    unlinkWindow: syncAfter(api.unlinkWindow),
    placeLegalHold: syncAfter(api.placeLegalHold),
    releaseLegalHold: syncAfter(api.releaseLegalHold),
  };
}
export type IncidentService = ReturnType<typeof incidentService>;
