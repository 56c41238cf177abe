/**
 * Incidents (cases) against a real centre: filing from a call links the right calls and camera windows and holds
 * them; links are added and removed (holds placed and released); legal hold by hq only; status transitions; repeat
 * callers per role; bad inputs change nothing.
 */
import type { Role } from '@mamoru/contract/enums';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { addSegments, api, type Api, footprint, MIN, putCall, putCamera } from './helpers/incidents.ts';

describe('incidents: filing, linking, holds, legal hold, status', () => {
  let centre: TestCentre;
  let A: { siteId: string; code: string; credential: string };
  let B: { siteId: string; code: string; credential: string };
  let C: { siteId: string; code: string; credential: string };
  const cams: Record<string, string> = {};
  const calls: Record<string, string> = {};
  let as: Record<'smA' | 'smB' | 'secAB' | 'hq' | 'auditor' | 'admin', Api>;
  // The case: a call from T to T+2 min at site A; margins 5 min → linked span [T-5m, T+7m).
  const T = new Date(Math.floor((Date.now() - 3 * 3600_000) / MIN) * MIN);
  const at = (m: number, s = 0) => new Date(T.getTime() + m * MIN + s * 1000);
  let caseId: string;

  before(async () => {
    centre = await startCentre();
    const site = async () => {
      const s = await centre.createSite();
      return { ...s, credential: (await centre.enrollAgent(s.token)).credential };
    };
    A = await site();
    B = await site();
    C = await site();
    cams.a1 = await putCamera(centre, A.credential, 'cam-a1', 'continuous', 'レジ1');
    cams.a2 = await putCamera(centre, A.credential, 'cam-a2', 'continuous', '入口');
    cams.b1 = await putCamera(centre, B.credential, 'cam-b1');
    // All of site A's footage of the linked span is at the centre: no preserve command is needed.
    await addSegments(centre, cams.a1, at(-10), at(10));
    await addSegments(centre, cams.a2, at(-10), at(10));
    calls.main = await putCall(centre, A.credential, { start: at(0), end: at(2), caller: '090-1111-2222', e164: '+819011112222' });
    calls.insideBefore = await putCall(centre, A.credential, { start: at(-6), end: at(-4, 59), caller: '0311112222', e164: '+81311112222' });
    calls.touchingBefore = await putCall(centre, A.credential, { start: at(-8), end: at(-5) }); // ends exactly at the span's start
    calls.insideAfter = await putCall(centre, A.credential, { start: at(6, 59), end: at(9) });
    calls.touchingAfter = await putCall(centre, A.credential, { start: at(7), end: at(8) }); // starts exactly at the span's end
    calls.otherSite = await putCall(centre, B.credential, { start: at(0), end: at(2), caller: '09011112222', e164: '+819011112222' }); // same caller, same time, site B
    calls.siteC = await putCall(centre, C.credential, { start: at(-60), end: at(-58), caller: '09011112222', e164: null }); // same caller (raw digits only), site C
    calls.bOther = await putCall(centre, B.credential, { start: at(-30), end: at(-29), caller: '0312345678', e164: '+81312345678' });
    const cookie = async (role: Role, siteIds: string[] = []) => centre.sessionCookie((await centre.createUser({ role, siteIds })).id);
    as = {
      smA: api(centre, await cookie('store_manager', [A.siteId])),
      smB: api(centre, await cookie('store_manager', [B.siteId])),
      secAB: api(centre, await cookie('security', [A.siteId, B.siteId])),
      hq: api(centre, await cookie('hq')),
      auditor: api(centre, await cookie('auditor')),
      admin: api(centre, await cookie('admin')),
    };
  });
  after(() => centre.close());

  const holdsOf = (incidentId: string) => centre.db.selectFrom('evidenceHold').selectAll().where('incidentId', '=', incidentId).execute();

  test('filing from a call links the calls overlapping the window ± margins and one window per camera of the site, and holds them', async () => {
    const r = await as.smA.post('/incidents', { callId: calls.main, title: '大声での威圧', category: 'verbal_abuse', severity: 'high', narrative: '客が店員に怒鳴り続けた', involvedStaff: [{ name: '佐藤', extension: '201' }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const inc = r.body.incident;
    caseId = inc.id;
    assert.match(inc.caseNumber, new RegExp(`^${A.code.toUpperCase()}-\\d{4}-0001$`));
    assert.equal(inc.categoryLabel, '暴言');
    assert.equal(inc.status, 'open');
    assert.deepEqual(inc.window, { from: at(0).toISOString(), to: at(2).toISOString() });
    assert.deepEqual(inc.linkedSpan, { from: at(-5).toISOString(), to: at(7).toISOString() });
    assert.deepEqual(inc.involvedStaff, [{ name: '佐藤', role: null, extension: '201' }]);
    assert.deepEqual([...r.body.linked.calls].sort(), [calls.main, calls.insideBefore, calls.insideAfter].sort(), 'calls just outside the margins and other sites are not linked');
    assert.deepEqual(
      r.body.linked.windows.map((w: { cameraId: string; from: string; to: string; commandId: string | null }) => [w.cameraId, w.from, w.to, w.commandId]).sort(),
      [[cams.a1, at(-5).toISOString(), at(7).toISOString(), null], [cams.a2, at(-5).toISOString(), at(7).toISOString(), null]].sort(),
    );
    const holds = await holdsOf(caseId);
    assert.equal(holds.length, 5);
    assert.ok(holds.every((h) => h.kind === 'incident' && h.siteId === A.siteId && h.releasedAt === null && h.expiresAt === null && h.reason === `incident ${inc.caseNumber}`));
    assert.deepEqual(holds.filter((h) => h.callId).map((h) => h.callId).sort(), [calls.main, calls.insideBefore, calls.insideAfter].sort());
    const windowHolds = await centre.db
      .selectFrom('evidenceHold')
      .select(['cameraId', (eb) => eb.fn<Date>('lower', ['span']).as('lo'), (eb) => eb.fn<Date>('upper', ['span']).as('hi')])
      .where('incidentId', '=', caseId)
      .where('cameraId', 'is not', null)
      .execute();
    assert.deepEqual(windowHolds.map((h) => [h.cameraId, h.lo.toISOString(), h.hi.toISOString()]).sort(), [[cams.a1, at(-5).toISOString(), at(7).toISOString()], [cams.a2, at(-5).toISOString(), at(7).toISOString()]].sort());
    assert.equal(Number((await centre.db.selectFrom('agentCommand').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 0, 'all footage is at the centre: nothing to ask the agent');
    const audit = await centre.db.selectFrom('auditEvent').selectAll().where('action', '=', 'incident.create').where('targetId', '=', caseId).execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.siteId, A.siteId);
    assert.equal((audit[0]!.details as { holds: number }).holds, 5);

    const d = await as.smA.get(`/incidents/${caseId}`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.calls.map((c: { id: string }) => c.id), [calls.insideBefore, calls.main, calls.insideAfter], 'calls in time order');
    assert.equal(d.body.calls.find((c: { id: string }) => c.id === calls.main).link.source, 'filed_from');
    assert.equal(d.body.cameraWindows.length, 2);
    for (const w of d.body.cameraWindows) {
      assert.equal(w.arrival.state, 'complete');
      assert.equal(w.arrival.storedMs, 12 * MIN);
      assert.equal(w.arrival.missingMs, 0);
      assert.equal(w.preserveCommand, null);
    }
    assert.deepEqual(d.body.allowedTransitions, [], 'a store manager files; reviewing roles move an open case');
  });

  test('a time window at a site with margins overridden per request; margins outside the limits are refused', async () => {
    const before = await footprint(centre);
    for (const m of [-1, 3601, 1.5]) {
      const bad = await as.smA.post('/incidents', { siteId: A.siteId, window: { from: at(0).toISOString(), to: at(2).toISOString() }, marginBeforeSeconds: m, title: 't', category: 'threat' });
      assert.equal(bad.status, 400);
      assert.ok(['margin_out_of_range', 'invalid_request'].includes(bad.body.error.code), bad.body.error.code);
    }
    assert.deepEqual(await footprint(centre), before);
    const r = await as.hq.post('/incidents', { siteId: A.siteId, window: { from: at(0).toISOString(), to: at(2).toISOString() }, marginBeforeSeconds: 0, marginAfterSeconds: 0, title: '脅迫の電話', category: 'threat' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.linked.calls, [calls.main]);
    assert.match(r.body.incident.caseNumber, /-0002$/, 'numbers run per site');
    assert.equal(r.body.incident.reporter.login.startsWith('hq'), true);
    const b = await as.hq.post('/incidents', { siteId: B.siteId, window: { from: at(0).toISOString(), to: at(2).toISOString() }, title: 'B', category: 'other' });
    assert.match(b.body.incident.caseNumber, new RegExp(`^${B.code.toUpperCase()}-\\d{4}-0001$`));
    assert.deepEqual(b.body.linked.calls, [calls.otherSite], "site B's case links site B's call only");
    // Concurrent filings never share a number.
    const many = await Promise.all(Array.from({ length: 6 }, () => as.hq.post('/incidents', { siteId: C.siteId, window: { from: at(0).toISOString(), to: at(1).toISOString() }, title: 'C', category: 'other' })));
    assert.ok(many.every((x) => x.status === 201));
    assert.deepEqual(many.map((x) => Number(x.body.incident.caseNumber.slice(-4))).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
  });

  test('staff add and remove links; unlinking releases the hold for that target only, audited', async () => {
    const add = await as.secAB.post(`/incidents/${caseId}/calls`, { callId: calls.touchingBefore });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.equal(add.body.holds, 1);
    assert.equal((await as.secAB.post(`/incidents/${caseId}/calls`, { callId: calls.touchingBefore })).body.error.code, 'already_linked');
    const foreign = await as.smA.post(`/incidents/${caseId}/calls`, { callId: calls.otherSite });
    assert.deepEqual([foreign.status, foreign.body.error.code], [404, 'call_not_found'], "a store manager cannot see site B's call");
    const foreignHq = await as.hq.post(`/incidents/${caseId}/calls`, { callId: calls.otherSite });
    assert.deepEqual([foreignHq.status, foreignHq.body.error.code], [400, 'call_other_site']);

    const held = await centre.db.selectFrom('evidenceHold').selectAll().where('incidentId', '=', caseId).where('callId', '=', calls.touchingBefore!).executeTakeFirstOrThrow();
    assert.equal(held.releasedAt, null);
    const del = await as.smA.del(`/incidents/${caseId}/calls/${calls.touchingBefore}?reason=${encodeURIComponent('誤って追加')}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.holdsReleased, 1);
    const released = await centre.db.selectFrom('evidenceHold').selectAll().where('id', '=', held.id).executeTakeFirstOrThrow();
    assert.ok(released.releasedAt);
    assert.equal(released.releaseReason, '誤って追加');
    assert.equal((await holdsOf(caseId)).filter((h) => h.releasedAt === null).length, 5, 'the other holds stay');
    assert.equal((await as.smA.del(`/incidents/${caseId}/calls/${calls.touchingBefore}`)).body.error.code, 'link_not_found');

    // A camera window: linked, then unlinked.
    const w = await as.secAB.post(`/incidents/${caseId}/camera-windows`, { cameraId: cams.a1, from: at(-9).toISOString(), to: at(-8).toISOString() });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    assert.equal(w.body.commandId, null);
    assert.equal((await as.secAB.post(`/incidents/${caseId}/camera-windows`, { cameraId: cams.a1, from: at(-9).toISOString(), to: at(-8).toISOString() })).body.error.code, 'already_linked');
    assert.equal((await as.hq.post(`/incidents/${caseId}/camera-windows`, { cameraId: cams.b1, from: at(-9).toISOString(), to: at(-8).toISOString() })).body.error.code, 'camera_other_site');
    assert.equal((await as.smA.post(`/incidents/${caseId}/camera-windows`, { cameraId: cams.b1, from: at(-9).toISOString(), to: at(-8).toISOString() })).body.error.code, 'camera_not_found');
    const wd = await as.secAB.del(`/incidents/${caseId}/camera-windows/${w.body.id}`);
    assert.equal(wd.status, 200);
    assert.equal(wd.body.holdsReleased, 1);
    const actions = (await centre.db.selectFrom('auditEvent').select('action').where('targetId', '=', caseId).orderBy('id').execute()).map((e) => e.action);
    for (const a of ['incident.call.link', 'incident.call.unlink', 'incident.window.link', 'incident.window.unlink']) assert.ok(actions.includes(a), a);
    const history = await as.smA.get(`/incidents/${caseId}/history`);
    assert.equal(history.status, 200);
    const unlink = history.body.events.find((e: { action: string }) => e.action === 'incident.call_unlinked');
    assert.equal(unlink.changes.callId, calls.touchingBefore);
    assert.equal(unlink.actor.type, 'user');
  });

  test('notes and bookmarks: on a linked camera inside its window, on a linked call, on the case clock', async () => {
    const n = await as.secAB.post(`/incidents/${caseId}/notes`, { body: '映像で客の手元を確認' });
    assert.equal(n.status, 201);
    assert.equal((await as.secAB.post(`/incidents/${caseId}/notes`, { body: '   ' })).body.error.code, 'invalid_note');
    const b1 = await as.secAB.post(`/incidents/${caseId}/bookmarks`, { at: at(1).toISOString(), cameraId: cams.a1, note: '机を叩く' });
    assert.equal(b1.status, 201, JSON.stringify(b1.body));
    const b2 = await as.smA.post(`/incidents/${caseId}/bookmarks`, { at: at(1, 30).toISOString(), callId: calls.main, note: '「殺すぞ」' });
    assert.equal(b2.status, 201);
    assert.equal((await as.smA.post(`/incidents/${caseId}/bookmarks`, { at: at(-4).toISOString() })).status, 201);
    const before = await footprint(centre);
    const bad: [unknown, string][] = [
      [{ at: at(1).toISOString(), cameraId: cams.a1, callId: calls.main }, 'invalid_bookmark_target'],
      [{ at: at(30).toISOString(), cameraId: cams.a1 }, 'bookmark_outside_window'],
      [{ at: at(1).toISOString(), cameraId: cams.b1 }, 'camera_not_linked'],
      [{ at: at(1).toISOString(), callId: calls.touchingBefore }, 'call_not_linked'],
      [{ at: at(5).toISOString(), callId: calls.main }, 'bookmark_outside_call'],
      [{ at: at(-200).toISOString() }, 'bookmark_outside_case'],
      [{ at: 'yesterday' }, 'invalid_request'],
    ];
    for (const [body, code] of bad) {
      const r = await as.secAB.post(`/incidents/${caseId}/bookmarks`, body);
      assert.deepEqual([r.status, r.body.error.code], [400, code], JSON.stringify(body));
    }
    assert.deepEqual(await footprint(centre), before);
    const rm = await as.secAB.del(`/incidents/${caseId}/bookmarks/${b1.body.id}`);
    assert.equal(rm.status, 200);
    assert.equal((await as.secAB.del(`/incidents/${caseId}/bookmarks/${b1.body.id}`)).body.error.code, 'bookmark_not_found');
    const d = await as.secAB.get(`/incidents/${caseId}`);
    assert.deepEqual(d.body.bookmarks.map((b: { note: string }) => b.note), ['', '「殺すぞ」']);
    assert.equal(d.body.notes[0].body, '映像で客の手元を確認');
  });

  test('edits are kept in the history with before and after; a stale version is refused', async () => {
    const d = await as.smA.get(`/incidents/${caseId}`);
    const r = await as.smA.patch(`/incidents/${caseId}`, { severity: 'critical', narrative: '追記: 30分以上居座った', expectedVersion: d.body.version });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.changed.sort(), ['narrative', 'severity']);
    assert.equal(r.body.incident.severityLabel, '緊急');
    const stale = await as.smA.patch(`/incidents/${caseId}`, { severity: 'low', expectedVersion: d.body.version });
    assert.deepEqual([stale.status, stale.body.error.code], [409, 'version_conflict']);
    const h = await as.hq.get(`/incidents/${caseId}/history`);
    const upd = h.body.events.find((e: { action: string }) => e.action === 'incident.updated');
    assert.deepEqual(upd.changes.severity, { from: 'high', to: 'critical' });
    for (const [body, code] of [[{}, 'invalid_request'], [{ title: '  ' }, 'invalid_title'], [{ window: { from: at(2).toISOString(), to: at(1).toISOString() } }, 'invalid_range'], [{ category: '暴言' }, 'invalid_request'], [{ unknown: 1 }, 'invalid_request']] as const) {
      const before = await footprint(centre);
      const x = await as.smA.patch(`/incidents/${caseId}`, body);
      assert.deepEqual([x.status, x.body.error.code], [400, code], JSON.stringify(body));
      assert.deepEqual(await footprint(centre), before);
    }
  });

  test('legal hold: hq only, with a reason; unlinking is refused while it holds; release needs a reason', async () => {
    const before = await footprint(centre);
    const sm = await as.smA.post(`/incidents/${caseId}/legal-hold`, { reason: '訴訟' });
    assert.deepEqual([sm.status, sm.body.error.code], [403, 'forbidden']);
    const sec = await as.secAB.post(`/incidents/${caseId}/legal-hold`, { reason: '訴訟' });
    assert.equal(sec.status, 403);
    const noReason = await as.hq.post(`/incidents/${caseId}/legal-hold`, {});
    assert.deepEqual([noReason.status, noReason.body.error.code], [400, 'reason_required']);
    assert.equal((await as.hq.post(`/incidents/${caseId}/legal-hold`, { reason: '   ' })).body.error.code, 'reason_required');
    assert.deepEqual(await footprint(centre), before, 'refused requests change nothing');

    const placed = await as.hq.post(`/incidents/${caseId}/legal-hold`, { reason: '弁護士からの保全要請 2026-112' });
    assert.equal(placed.status, 200, JSON.stringify(placed.body));
    assert.equal(placed.body.incident.legalHold.active, true);
    const active = (await holdsOf(caseId)).filter((h) => h.releasedAt === null);
    const legal = active.filter((h) => h.kind === 'legal');
    assert.equal(legal.length, active.filter((h) => h.kind === 'incident').length, 'a legal hold on every linked window and call');
    assert.equal(placed.body.holds, legal.length);
    assert.ok(legal.every((h) => h.expiresAt === null && h.reason === '弁護士からの保全要請 2026-112'));
    assert.equal((await as.hq.post(`/incidents/${caseId}/legal-hold`, { reason: 'again' })).body.error.code, 'legal_hold_active');
    assert.equal((await as.smA.del(`/incidents/${caseId}/calls/${calls.main}`)).body.error.code, 'legal_hold_active');
    // A call linked while the case is under legal hold gets both holds.
    const add = await as.hq.post(`/incidents/${caseId}/calls`, { callId: calls.touchingAfter });
    assert.equal(add.body.holds, 2);

    assert.equal((await as.smA.post(`/incidents/${caseId}/legal-hold/release`, { reason: 'x' })).status, 403);
    const noWhy = await as.hq.post(`/incidents/${caseId}/legal-hold/release`, {});
    assert.deepEqual([noWhy.status, noWhy.body.error.code], [400, 'reason_required']);
    const rel = await as.hq.post(`/incidents/${caseId}/legal-hold/release`, { reason: '和解成立' });
    assert.equal(rel.status, 200);
    assert.equal(rel.body.holdsReleased, legal.length + 1);
    const after = await holdsOf(caseId);
    assert.ok(after.filter((h) => h.kind === 'legal').every((h) => h.releasedAt && h.releaseReason === '和解成立' && h.releasedBy));
    assert.ok(after.filter((h) => h.kind === 'incident' && h.callId === calls.main).every((h) => h.releasedAt === null), 'incident holds stay');
    assert.equal((await as.hq.post(`/incidents/${caseId}/legal-hold/release`, { reason: 'again' })).body.error.code, 'legal_hold_not_active');
    const actions = (await centre.db.selectFrom('auditEvent').select(['action', 'actorRole']).where('targetId', '=', caseId).where('action', 'like', 'incident.legal_hold.%').execute());
    assert.deepEqual(actions.map((a) => [a.action, a.actorRole]), [['incident.legal_hold.place', 'hq'], ['incident.legal_hold.release', 'hq']]);
  });

  test('status: only allowed moves by allowed roles; closing sets the incident holds to expire after the retention period, legal holds never', async () => {
    const v0 = (await as.hq.get(`/incidents/${caseId}`)).body.version;
    const before = await footprint(centre);
    const bad = await as.hq.post(`/incidents/${caseId}/status`, { status: 'draft' });
    assert.deepEqual([bad.status, bad.body.error.code], [409, 'invalid_transition']);
    assert.deepEqual(bad.body.error.details.allowed.sort(), ['closed', 'referred_to_police', 'under_review']);
    const smMove = await as.smA.post(`/incidents/${caseId}/status`, { status: 'under_review' });
    assert.deepEqual([smMove.status, smMove.body.error.code], [403, 'transition_forbidden']);
    const bogus = await as.hq.post(`/incidents/${caseId}/status`, { status: 'archived' });
    assert.deepEqual([bogus.status, bogus.body.error.code], [400, 'invalid_request']);
    assert.deepEqual(await footprint(centre), before, 'nothing changed');
    assert.equal((await as.hq.get(`/incidents/${caseId}`)).body.version, v0);

    assert.equal((await as.secAB.post(`/incidents/${caseId}/status`, { status: 'under_review' })).status, 200);
    assert.equal((await as.secAB.post(`/incidents/${caseId}/status`, { status: 'referred_to_police', note: '110番通報 受理番号 123' })).status, 200);
    assert.equal((await as.hq.post(`/incidents/${caseId}/legal-hold`, { reason: '警察の捜査' })).status, 200);
    const closed = await as.secAB.post(`/incidents/${caseId}/status`, { status: 'closed' });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const closedAt = new Date(closed.body.incident.closedAt);
    assert.equal(closed.body.incidentHoldsExpireAt, new Date(closedAt.getTime() + 1095 * 86400_000).toISOString());
    const holds = (await holdsOf(caseId)).filter((h) => h.releasedAt === null);
    assert.ok(holds.filter((h) => h.kind === 'incident').every((h) => h.expiresAt?.getTime() === closedAt.getTime() + 1095 * 86400_000));
    assert.ok(holds.filter((h) => h.kind === 'legal').length > 0 && holds.filter((h) => h.kind === 'legal').every((h) => h.expiresAt === null), 'legal holds never expire');

    const edit = await as.smA.patch(`/incidents/${caseId}`, { title: 'x' });
    assert.deepEqual([edit.status, edit.body.error.code], [409, 'incident_closed']);
    assert.equal((await as.smA.post(`/incidents/${caseId}/notes`, { body: 'x' })).body.error.code, 'incident_closed');
    const secReopen = await as.secAB.post(`/incidents/${caseId}/status`, { status: 'open' });
    assert.deepEqual([secReopen.status, secReopen.body.error.code], [403, 'transition_forbidden']);
    const reopen = await as.hq.post(`/incidents/${caseId}/status`, { status: 'open' });
    assert.equal(reopen.status, 200);
    assert.equal(reopen.body.incident.closedAt, null);
    assert.ok((await holdsOf(caseId)).filter((h) => h.releasedAt === null).every((h) => h.expiresAt === null), 'reopening stops the clock');
    const h = await as.hq.get(`/incidents/${caseId}/history`);
    assert.deepEqual(
      h.body.events.filter((e: { action: string }) => e.action === 'incident.status_changed').map((e: { changes: { status: { from: string; to: string } } }) => `${e.changes.status.from}>${e.changes.status.to}`),
      ['open>under_review', 'under_review>referred_to_police', 'referred_to_police>closed', 'closed>open'],
    );
    // A draft: filed as draft, published by its filer.
    const draft = await as.smA.post('/incidents', { siteId: A.siteId, window: { from: at(-1).toISOString(), to: at(0).toISOString() }, title: '下書き', category: 'other', status: 'draft' });
    assert.equal(draft.body.incident.status, 'draft');
    assert.equal((await as.auditor.post(`/incidents/${draft.body.incident.id}/status`, { status: 'open' })).status, 403, 'an auditor does not publish');
    assert.equal((await as.smA.post(`/incidents/${draft.body.incident.id}/status`, { status: 'open' })).status, 200);
  });

  test('repeat callers: calls from the same number at other sites, only for the sites the viewer covers', async () => {
    const matches = async (who: Api) => {
      const d = await who.get(`/incidents/${caseId}`);
      assert.equal(d.status, 200);
      return d.body.repeatCallers.flatMap((r: { matches: { callId: string }[] }) => r.matches.map((m) => m.callId)).sort();
    };
    assert.deepEqual(await matches(as.hq), [calls.otherSite, calls.siteC].sort(), 'hq: E.164 match at B, raw-digits match at C');
    assert.deepEqual(await matches(as.secAB), [calls.otherSite], 'security sees its assigned sites only');
    assert.deepEqual(await matches(as.smA), [], 'a store manager sees none from sites they do not own');
    const hq = (await as.hq.get(`/incidents/${caseId}`)).body.repeatCallers;
    assert.equal(hq.length, 1);
    assert.deepEqual(hq[0].linkedCallIds, [calls.main]);
    assert.deepEqual(hq[0].matches.map((m: { site: { code: string } }) => m.site.code).sort(), [B.code, C.code].sort());
    const ev = await centre.db.selectFrom('auditEvent').select(['details', 'actorRole']).where('action', '=', 'incident.view').where('targetId', '=', caseId).orderBy('id', 'desc').limit(4).execute();
    assert.deepEqual(
      ev.reverse().map((e) => [e.actorRole, (e.details as { repeatCallerMatches: number }).repeatCallerMatches, (e.details as { repeatCallerSites: string[] }).repeatCallerSites.length]),
      [['hq', 2, 2], ['security', 1, 1], ['store_manager', 0, 0], ['hq', 2, 2]],
      'each view records whose calls it showed',
    );
    assert.equal((await as.smB.get(`/incidents/${caseId}`)).status, 404);
  });

  test('scope: another site\'s case by id is a 404 exactly like a missing one; roles without cases get 403; lists are scoped', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of ['', '/timeline', '/history']) {
      const a = await as.smB.get(`/incidents/${caseId}${path}`);
      const b = await as.smB.get(`/incidents/${missing}${path}`);
      assert.equal(a.status, 404);
      assert.deepEqual({ code: a.body.error.code, message: a.body.error.message }, { code: b.body.error.code, message: b.body.error.message });
    }
    assert.equal((await as.smB.patch(`/incidents/${caseId}`, { title: 'x' })).status, 404);
    assert.equal((await as.auditor.get(`/incidents/${caseId}`)).status, 403);
    assert.equal((await as.admin.get('/incidents')).status, 403);
    const sec = await as.secAB.post('/incidents', { siteId: A.siteId, window: { from: at(0).toISOString(), to: at(1).toISOString() }, title: 't', category: 'other' });
    assert.equal(sec.status, 201, 'security files at the sites it covers');
    const aud = await as.auditor.post('/incidents', { siteId: A.siteId, window: { from: at(0).toISOString(), to: at(1).toISOString() }, title: 't', category: 'other' });
    assert.deepEqual([aud.status, aud.body.error.code], [403, 'forbidden'], 'an auditor does not file');
    const listA = (await as.smA.get('/incidents?limit=200')).body.incidents;
    assert.ok(listA.length >= 3 && listA.every((i: { site: { id: string } }) => i.site.id === A.siteId));
    const listB = (await as.smB.get(`/incidents?site=${A.siteId}`)).body.incidents;
    assert.deepEqual(listB, [], "asking for another site's cases gives none");
    // Paging with the cursor walks every case once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { incidents: { id: string }[]; nextCursor: string | null } } = await as.hq.get(`/incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.incidents.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const total = Number((await centre.db.selectFrom('incident').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(new Set(seen).size, total);
    assert.equal((await as.hq.get('/incidents?cursor=nonsense')).body.error.code, 'invalid_cursor');
  });

  test('bad filings get a 4xx with a code and store nothing', async () => {
    const w = { from: at(0).toISOString(), to: at(2).toISOString() };
    const cases: [Api, unknown, number, string][] = [
      [as.smA, { title: 't', category: 'other' }, 400, 'site_required'],
      [as.smA, { siteId: A.siteId, title: 't', category: 'other' }, 400, 'window_required'],
      [as.smA, { siteId: A.siteId, window: { from: w.to, to: w.from }, title: 't', category: 'other' }, 400, 'invalid_range'],
      [as.smA, { siteId: A.siteId, window: { from: at(-60 * 25).toISOString(), to: w.to }, title: 't', category: 'other' }, 400, 'window_too_long'],
      [as.smA, { siteId: A.siteId, window: { from: new Date(Date.now() + 3600_000).toISOString(), to: new Date(Date.now() + 7200_000).toISOString() }, title: 't', category: 'other' }, 400, 'window_in_future'],
      [as.smA, { siteId: A.siteId, window: w, title: 't', category: '暴言' }, 400, 'invalid_request'],
      [as.smA, { siteId: A.siteId, window: w, title: '   ', category: 'other' }, 400, 'invalid_title'],
      [as.smA, { siteId: A.siteId, window: w, title: 't', category: 'other', extra: true }, 400, 'invalid_request'],
      [as.smA, { siteId: A.siteId, window: w, title: 't', category: 'other', status: 'closed' }, 400, 'invalid_request'],
      [as.smA, { siteId: 'not-a-uuid', window: w, title: 't', category: 'other' }, 400, 'invalid_request'],
      [as.smA, { siteId: B.siteId, window: w, title: 't', category: 'other' }, 404, 'site_not_found'],
      [as.smA, { callId: calls.otherSite, title: 't', category: 'other' }, 404, 'call_not_found'],
      [as.hq, { callId: calls.main, siteId: B.siteId, title: 't', category: 'other' }, 400, 'site_mismatch'],
      [as.smA, '{"title": ', 400, 'invalid_request'],
      [as.auditor, { siteId: A.siteId, window: w, title: 't', category: 'other' }, 403, 'forbidden'],
    ];
    const before = await footprint(centre);
    for (const [who, body, status, code] of cases) {
      const r = await who.post('/incidents', body);
      assert.deepEqual([r.status, r.body?.error?.code], [status, code], JSON.stringify(body));
      assert.ok(r.body.error.requestId);
    }
    assert.deepEqual(await footprint(centre), before);
    const seq = await centre.db.selectFrom('incidentSequence').selectAll().where('siteId', '=', A.siteId).execute();
    assert.equal(seq.reduce((n, r) => n + r.lastValue, 0), (await centre.db.selectFrom('incident').select('id').where('siteId', '=', A.siteId).execute()).length, 'no case number was used up');
  });
});
