/**
 * Disclosure requests (個人情報保護法 開示請求), the API side: `hq` records a request, the centre finds the requester's
 * calls across every site and the footage of each call's site around it, HQ decides per item, asks for the response
 * package (a `disclosure.build` job) and records when and how it was sent. Every read and change is audited
 * (`disclosure.*`); a change commits with its audit event in one transaction.
 */
import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { audioMaskFor } from '../domain/disclosure-mask.ts';
import {
  CameraMaskingSchema,
  DECIDABLE,
  type DisclosureDecision,
  type DisclosureIdentityCheck,
  type DisclosureStatus,
  numberDigits,
  numberForms,
  RecordingMaskingSchema,
} from '../domain/disclosure.ts';
import type { Principal } from '../domain/principal.ts';
import { badRequest, conflict, notFound, unavailable } from '../domain/errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { DisclosureItemRow, DisclosureRequestRow, NewDisclosureItem } from '../repositories/disclosure.repository.ts';
import type { Repositories, Transactor } from '../repositories/index.ts';
import { ensureCan, ensureUser } from './access.ts';
import type { AuditService } from './audit.service.ts';
import { isUuid } from './incident-support.ts';

export type CreateDisclosureInput = {
  requesterName: string;
  requesterNumber: string;
  receivedOn: string;
  identityCheck: DisclosureIdentityCheck;
  identityNote?: string | undefined;
  deadline: string;
  searchFrom?: Date | undefined;
  searchTo?: Date | undefined;
  note?: string | undefined;
};

export type DecisionInput = { decision: DisclosureDecision; withholdReason?: string | undefined; masking?: unknown };

export type DisclosureDetail = DisclosureRequestRow & {
  items: DisclosureItemRow[];
  counts: { items: number; undecided: number; disclose: number; discloseMasked: number; withhold: number };
};

/** At most this many calls are listed per request (a number that called thousands of times is not one person). */
export const MAX_DISCLOSURE_CALLS = 500;
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (s: string) => DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
const tail = (digits: string) => `…${digits.slice(-4)}`;
const clean = (s: string | undefined) => (s ?? '').replace(/\r\n?/g, '\n').trim();

function counts(items: DisclosureItemRow[]): DisclosureDetail['counts'] {
  const c = { items: items.length, undecided: 0, disclose: 0, discloseMasked: 0, withhold: 0 };
  for (const i of items) {
    if (i.decision === null) c.undecided++;
    else if (i.decision === 'disclose') c.disclose++;
    else if (i.decision === 'disclose_masked') c.discloseMasked++;
    else c.withhold++;
  }
  return c;
}

export function disclosureService(deps: {
  tx: Transactor;
  audit: AuditService;
  clock: Clock;
  store: ObjectStore;
  jobs: JobQueue;
  /** Footage listed around each call: the linking margins (DESIGN.md §5). */
  margins: { beforeS: number; afterS: number };
}) {
  const notFoundErr = () => notFound('disclosure_not_found', 'no such disclosure request');

  async function loadFor(r: Repositories, id: string, forUpdate = false) {
    if (!isUuid(id)) throw notFoundErr();
    const d = await r.disclosures.findRequest(id, { forUpdate });
    if (!d) throw notFoundErr();
    return d;
  }

  /** The requester's calls in the search window and, per call, its stored recordings and the cameras of its site with stored footage around it. */
  async function findItems(r: Repositories, d: DisclosureRequestRow): Promise<{ calls: number; items: NewDisclosureItem[]; truncated: boolean }> {
    const calls = await r.disclosures.matchingCalls(numberForms(d.requesterDigits), d.searchFrom, d.searchTo, MAX_DISCLOSURE_CALLS + 1);
    const truncated = calls.length > MAX_DISCLOSURE_CALLS;
    const items: NewDisclosureItem[] = [];
    for (const c of calls.slice(0, MAX_DISCLOSURE_CALLS)) {
      for (const rec of await r.recordings.listForCall(c.id)) {
        if (rec.objectKey) items.push({ kind: 'recording', siteId: c.siteId, callId: c.id, recordingId: rec.id });
      }
      const start = new Date(c.start.getTime() - deps.margins.beforeS * 1000);
      const end = new Date(Math.max(c.end.getTime(), c.start.getTime() + 1000) + deps.margins.afterS * 1000);
      const w = await r.linking.siteWindow(c.siteId, start, end);
      for (const cam of w.cameras) {
        if (cam.segments.some((s) => s.stored)) items.push({ kind: 'camera_window', siteId: c.siteId, callId: c.id, cameraId: cam.id, start, end });
      }
    }
    return { calls: Math.min(calls.length, MAX_DISCLOSURE_CALLS), items, truncated };
  }

  async function detailOf(r: Repositories, d: DisclosureRequestRow): Promise<DisclosureDetail> {
    const items = await r.disclosures.listItems(d.id);
    return { ...d, items, counts: counts(items) };
  }

  /** The masking a decision carries, checked against the item; null for disclose and withhold. */
  function checkMasking(item: DisclosureItemRow, input: DecisionInput): unknown {
    if (input.decision !== 'disclose_masked') {
      if (input.masking !== undefined && input.masking !== null) throw badRequest('masking_not_applicable', 'masking goes only with decision disclose_masked');
      return null;
    }
    if (item.kind === 'recording') {
      const parsed = RecordingMaskingSchema.safeParse(input.masking ?? { muteRanges: [] });
      if (!parsed.success) throw badRequest('invalid_masking', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const rec = item.recording!;
      const plan = audioMaskFor(rec.role, parsed.data.muteRanges);
      if (plan.omit) throw badRequest('nothing_left_after_masking', 'this recording holds only the other party (operator side): withhold it instead');
      if (rec.role !== 'stereo' && parsed.data.muteRanges.length === 0) throw badRequest('masking_empty', 'a mono recording needs at least one time range to mute (or disclose it unmasked)');
      const dur = rec.durationS ?? Infinity;
      for (const m of parsed.data.muteRanges) if (m.fromS >= dur) throw badRequest('invalid_masking', `range ${m.fromS}-${m.toS} s starts after the recording ends (${dur} s)`);
      return parsed.data;
    }
    const parsed = CameraMaskingSchema.safeParse(input.masking);
    if (!parsed.success) throw badRequest('invalid_masking', parsed.error.issues.map((i) => `${i.path.join('.') || '(masking)'}: ${i.message}`).join('; '));
    const m = parsed.data;
    if (m.regions.length === 0 && !m.blurFaces) throw badRequest('masking_empty', 'give at least one region, or blurFaces');
    if (!m.blurFaces && m.keepFaces.length > 0) throw badRequest('invalid_masking', 'keepFaces goes only with blurFaces');
    const durS = (item.window!.end.getTime() - item.window!.start.getTime()) / 1000;
    for (const g of [...m.regions, ...m.keepFaces]) if (g.fromS >= durS) throw badRequest('invalid_masking', `a region starts at ${g.fromS} s, after the window ends (${durS} s)`);
    return m;
  }

  return {
    async create(p: Principal, input: CreateDisclosureInput): Promise<DisclosureDetail> {
      ensureCan(p, 'disclosure:manage');
      ensureUser(p);
      const digits = numberDigits(input.requesterNumber.trim());
      if (!digits) throw badRequest('invalid_number', 'the requester number must be 6-20 digits (spaces and +-(). allowed)');
      if (!validDate(input.receivedOn)) throw badRequest('invalid_date', 'receivedOn must be a date YYYY-MM-DD');
      if (!validDate(input.deadline)) throw badRequest('invalid_date', 'deadline must be a date YYYY-MM-DD');
      if (input.deadline < input.receivedOn) throw badRequest('invalid_deadline', 'the deadline is before the request was received');
      const now = deps.clock.now();
      const received = new Date(`${input.receivedOn}T00:00:00Z`);
      if (received.getTime() > now.getTime() + DAY_MS) throw badRequest('invalid_date', 'receivedOn is in the future');
      // By default: everything the centre can still hold (incident evidence is kept 3 years) up to now.
      const searchFrom = input.searchFrom ?? new Date(received.getTime() - 3 * 366 * DAY_MS);
      const searchTo = input.searchTo ?? now;
      if (searchTo <= searchFrom) throw badRequest('invalid_window', 'searchTo must be after searchFrom');
      const name = clean(input.requesterName);
      if (!name) throw badRequest('invalid_request', 'requesterName is empty');

      return deps.tx(async (r) => {
        const reference = await r.disclosures.nextReference(Number(input.receivedOn.slice(0, 4)));
        const id = await r.disclosures.insertRequest({
          reference,
          requesterName: name,
          requesterNumber: input.requesterNumber.trim(),
          requesterDigits: digits,
          receivedOn: input.receivedOn,
          identityCheck: input.identityCheck,
          identityNote: clean(input.identityNote),
          deadline: input.deadline,
          searchFrom,
          searchTo,
          note: clean(input.note),
          createdBy: p.login,
          now,
        });
        const d = (await r.disclosures.findRequest(id))!;
        const found = await findItems(r, d);
        const added = await r.disclosures.addItems(id, found.items, now);
        await deps.audit.recordWithin(r, p, {
          action: 'disclosure.create',
          targetType: 'disclosure_request',
          targetId: id,
          details: {
            reference,
            requesterNumber: tail(digits),
            receivedOn: input.receivedOn,
            identityCheck: input.identityCheck,
            deadline: input.deadline,
            searchFrom: searchFrom.toISOString(),
            searchTo: searchTo.toISOString(),
            callsFound: found.calls,
            itemsAdded: added,
            truncated: found.truncated,
          },
        });
        return detailOf(r, d);
      });
    },

    async list(p: Principal, o: { status?: DisclosureStatus | undefined; limit: number; cursor?: string | undefined }) {
      ensureCan(p, 'disclosure:manage');
      let after: { createdAt: Date; id: string } | undefined;
      if (o.cursor) {
        const [t, id] = Buffer.from(o.cursor, 'base64url').toString().split('|');
        const at = new Date(t ?? '');
        if (!id || !isUuid(id) || Number.isNaN(at.getTime())) throw badRequest('invalid_cursor', 'cursor is not one this API gave');
        after = { createdAt: at, id };
      }
      return deps.tx(async (r) => {
        const rows = await r.disclosures.listRequests({ limit: o.limit + 1, status: o.status, after });
        const page = rows.slice(0, o.limit);
        const last = page.at(-1);
        await deps.audit.recordWithin(r, p, { action: 'disclosure.list', details: { status: o.status ?? null, count: page.length } });
        return { requests: page, nextCursor: rows.length > o.limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null };
      });
    },

    async get(p: Principal, id: string): Promise<DisclosureDetail> {
      ensureCan(p, 'disclosure:manage');
      return deps.tx(async (r) => {
        const d = await loadFor(r, id);
        await deps.audit.recordWithin(r, p, { action: 'disclosure.view', targetType: 'disclosure_request', targetId: d.id, details: { reference: d.reference } });
        return detailOf(r, d);
      });
    },

    /** Runs the search again (new calls may have arrived); earlier items and their decisions stay. */
    async search(p: Principal, id: string): Promise<DisclosureDetail & { added: number }> {
      ensureCan(p, 'disclosure:manage');
      return deps.tx(async (r) => {
        const d = await loadFor(r, id, true);
        if (!DECIDABLE.includes(d.status)) throw conflict('disclosure_not_open', `the request is ${d.status}: its items can no longer change`);
        const found = await findItems(r, d);
        const now = deps.clock.now();
        const added = await r.disclosures.addItems(d.id, found.items, now);
        if (added > 0 && d.status !== 'open') await r.disclosures.setStatus(d.id, 'open', now, { clearResponse: true, error: null });
        await deps.audit.recordWithin(r, p, { action: 'disclosure.search', targetType: 'disclosure_request', targetId: d.id, details: { reference: d.reference, callsFound: found.calls, itemsAdded: added, truncated: found.truncated } });
        const fresh = (await r.disclosures.findRequest(d.id))!;
        return { ...(await detailOf(r, fresh)), added };
      });
    },

    async decide(p: Principal, id: string, itemId: string, input: DecisionInput): Promise<DisclosureDetail> {
      ensureCan(p, 'disclosure:manage');
      ensureUser(p);
      return deps.tx(async (r) => {
        const d = await loadFor(r, id, true);
        if (!isUuid(itemId)) throw notFound('disclosure_item_not_found', 'no such item in this request');
        const item = await r.disclosures.findItem(d.id, itemId);
        if (!item) throw notFound('disclosure_item_not_found', 'no such item in this request');
        if (d.status === 'sent') throw conflict('disclosure_sent', 'the response was sent: decisions are final');
        if (d.status === 'building') throw conflict('response_building', 'the response is being built; decide after it finished');
        const reason = input.decision === 'withhold' ? clean(input.withholdReason) : '';
        if (input.decision === 'withhold' && !reason) throw badRequest('withhold_reason_required', 'withholding needs a reason (it is told to the requester)');
        if (input.decision !== 'withhold' && input.withholdReason) throw badRequest('withhold_reason_not_applicable', 'a reason goes only with withhold');
        const masking = checkMasking(item, input);
        const now = deps.clock.now();
        await r.disclosures.decide(item.id, { decision: input.decision, withholdReason: reason || null, masking, by: p.login, at: now });
        // A built response no longer matches the decisions: back to open (the old ZIP stays until the orphan sweep).
        if (d.status === 'ready' || d.status === 'failed') await r.disclosures.setStatus(d.id, 'open', now, { clearResponse: true, error: null });
        await deps.audit.recordWithin(r, p, {
          action: 'disclosure.item.decide',
          targetType: 'disclosure_item',
          targetId: item.id,
          siteId: item.site.id,
          details: {
            reference: d.reference,
            requestId: d.id,
            kind: item.kind,
            callId: item.call.id,
            recordingId: item.recording?.id ?? null,
            cameraId: item.camera?.id ?? null,
            before: { decision: item.decision, withholdReason: item.withholdReason, masking: item.masking ?? null },
            after: { decision: input.decision, withholdReason: reason || null, masking },
          },
        });
        return detailOf(r, (await r.disclosures.findRequest(d.id))!);
      });
    },

    /** Queues the response package; every item must be decided. */
    async requestResponse(p: Principal, id: string): Promise<{ jobId: string; status: DisclosureStatus }> {
      ensureCan(p, 'disclosure:manage');
      ensureUser(p);
      const jobId = await deps.tx(async (r) => {
        const d = await loadFor(r, id, true);
        if (d.status === 'sent') throw conflict('disclosure_sent', 'the response was already sent');
        if (d.status === 'building') throw conflict('response_building', 'the response is already being built');
        const items = await r.disclosures.listItems(d.id);
        const undecided = items.filter((i) => i.decision === null).map((i) => i.id);
        if (undecided.length) throw conflict('undecided_items', `${undecided.length} item(s) have no decision yet`, { itemIds: undecided });
        const now = deps.clock.now();
        const jid = `disclosure.build.${d.id}.${now.getTime()}`;
        await r.disclosures.setStatus(d.id, 'building', now, { jobId: jid, error: null, clearResponse: true });
        const c = counts(items);
        await deps.audit.recordWithin(r, p, { action: 'disclosure.response.request', targetType: 'disclosure_request', targetId: d.id, details: { reference: d.reference, jobId: jid, ...c } });
        return jid;
      });
      try {
        await deps.jobs.enqueue('disclosure.build', { requestId: id, buildId: jobId, requestedBy: { id: p.userId, login: p.login } });
      } catch (e) {
        await deps.tx((r) => r.disclosures.setStatus(id, 'failed', deps.clock.now(), { error: `queue unavailable: ${(e as Error).message}` }));
        throw unavailable('queue_unavailable', 'the job queue is unavailable; try again');
      }
      return { jobId, status: 'building' };
    },

    async markSent(p: Principal, id: string, input: { method: string }): Promise<DisclosureDetail> {
      ensureCan(p, 'disclosure:manage');
      ensureUser(p);
      const method = clean(input.method);
      if (!method) throw badRequest('invalid_request', 'method is empty');
      return deps.tx(async (r) => {
        const d = await loadFor(r, id, true);
        if (d.status !== 'ready') throw conflict('response_not_ready', `the response is ${d.status}, not ready`);
        const now = deps.clock.now();
        await r.disclosures.markSent(d.id, { method, by: p.login, at: now });
        await deps.audit.recordWithin(r, p, { action: 'disclosure.response.send', targetType: 'disclosure_request', targetId: d.id, details: { reference: d.reference, method, responseSha256: d.response.sha256 } });
        return detailOf(r, (await r.disclosures.findRequest(d.id))!);
      });
    },

    /** The response ZIP (audited before its bytes go out). */
    async download(p: Principal, id: string): Promise<{ body: Readable; size: number; fileName: string; sha256: string }> {
      ensureCan(p, 'disclosure:manage');
      const d = await deps.tx(async (r) => {
        const d = await loadFor(r, id);
        if ((d.status !== 'ready' && d.status !== 'sent') || !d.response.objectKey || !d.response.sha256) throw conflict('response_not_ready', `the response is ${d.status}, not ready`);
        await deps.audit.recordWithin(r, p, { action: 'disclosure.response.download', targetType: 'disclosure_request', targetId: d.id, details: { reference: d.reference, objectKey: d.response.objectKey, sha256: d.response.sha256, size: d.response.size } });
        return d;
      });
      const body = await deps.store.read(d.response.objectKey!);
      return { body, size: d.response.size ?? 0, fileName: `${d.reference}.zip`, sha256: d.response.sha256! };
    },
  };
}
export type DisclosureService = ReturnType<typeof disclosureService>;
