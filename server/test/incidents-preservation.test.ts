/**
 * Preservation, centre side: a linked camera window whose footage is not all at the centre (on-demand camera,
 * metadata-only segment rows, time with no row) gets exactly one preserve_window command for the site's agent; the
 * heartbeat answer delivers it, the agent acknowledges it (only its own site's), an unacknowledged one is delivered
 * again after the timeout, and the case shows what has arrived.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentCommand } from '@mamoru/contract';
import { fixedClock } from '../src/adapters/clock.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { addSegments, api, type Api, MIN, putCamera } from './helpers/incidents.ts';


const REDELIVER_S = 120;

describe('incidents: preserve_window commands, heartbeat delivery, acknowledgement, arrival', () => {
  const clock = fixedClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  let centre: TestCentre;
  let agentA: string;
  let agentB: string;
  let hq: Api;
  const cam: Record<string, string> = {};
  const T = new Date(Math.floor((clock.now().getTime() - 3600_000) / MIN) * MIN);
  const at = (m: number) => new Date(T.getTime() + m * MIN);
  const spanFrom = at(-5).toISOString();
  const spanTo = at(7).toISOString();
  const metaBytes = randomBytes(3000);
  let caseId: string;
  let commands: Record<string, string>; // camera key → command id

  const heartbeat = async (credential: string) => {
    const r = await fetch(`${centre.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: 't', sentAtMs: Date.now() }) });
    assert.equal(r.status, 200);
    return ((await r.json()) as { commands: AgentCommand[] }).commands;
  };
  const ack = async (credential: string | null, id: string, body: unknown) => {
    const r = await fetch(`${centre.url}/api/v1/agent/commands/${id}/ack`, { method: 'POST', headers: { ...(credential && { authorization: `Bearer ${credential}` }), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as { id?: string; status?: string; alreadyAcknowledged?: boolean; error?: { code: string } } };
  };
  const statusOf = async (id: string) => (await centre.db.selectFrom('agentCommand').selectAll().where('id', '=', id).executeTakeFirstOrThrow()).status;

  before(async () => {
    centre = await startCentre({ clock, incidents: { commandRedeliverSeconds: REDELIVER_S } });
    const a = await centre.createSite();
    const b = await centre.createSite();
    agentA = (await centre.enrollAgent(a.token)).credential;
    agentB = (await centre.enrollAgent(b.token)).credential;
    await putCamera(centre, agentB, 'cam-b');
    cam.complete = await putCamera(centre, agentA, 'complete');
    await addSegments(centre, cam.complete, at(-10), at(10));
    // One metadata-only row (media still at the store), with the hash of bytes the agent will send later.
    cam.meta = await putCamera(centre, agentA, 'meta');
    await addSegments(centre, cam.meta, at(-10), at(2));
    await addSegments(centre, cam.meta, at(3), at(10));
    await centre.services.repos.segments.insert({ cameraId: cam.meta, start: at(2), end: at(3), durationMs: MIN, byteSize: metaBytes.length, sha256: createHash('sha256').update(metaBytes).digest(), mediaType: 'video/mp2t', codec: {}, runId: null, clockOffsetMs: 0, objectKey: null, storedAt: null });
    // A minute with no row at all.
    cam.hole = await putCamera(centre, agentA, 'hole');
    await addSegments(centre, cam.hole, at(-10), at(1));
    await addSegments(centre, cam.hole, at(2), at(10));
    // The same minute reported as a gap (camera offline): nothing to fetch, no command.
    cam.gap = await putCamera(centre, agentA, 'gap');
    await addSegments(centre, cam.gap, at(-10), at(1));
    await addSegments(centre, cam.gap, at(2), at(10));
    const g = await fetch(`${centre.url}/api/v1/agent/gaps`, { method: 'POST', headers: { authorization: `Bearer ${agentA}`, 'content-type': 'application/json' }, body: JSON.stringify({ cameraKey: 'gap', start: at(1).toISOString(), end: at(2).toISOString(), reason: 'camera_offline' }) });
    assert.equal(g.status, 201);
    // Boundary holes of 300 ms between segments are not missing footage.
    cam.jitter = await putCamera(centre, agentA, 'jitter');
    for (let m = -10; m < 10; m++) await addSegments(centre, cam.jitter, at(m), new Date(at(m + 1).getTime() - 300));
    // On-demand: the centre has only metadata.
    cam.ondemand = await putCamera(centre, agentA, 'ondemand', 'on-demand');
    await addSegments(centre, cam.ondemand, at(-10), at(10), { stored: false });
    hq = api(centre, await centre.hqCookie());

    const r = await hq.post('/incidents', { siteId: a.siteId, window: { from: at(0).toISOString(), to: at(2).toISOString() }, title: '長時間の居座り', category: 'prolonged_detention' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    caseId = r.body.incident.id;
    commands = Object.fromEntries(r.body.linked.windows.filter((w: { commandId: string | null }) => w.commandId).map((w: { cameraKey: string; commandId: string }) => [w.cameraKey, w.commandId]));
  });
  after(() => centre.close());

  test('filing creates exactly one preserve_window command per window whose footage is not all at the centre', async () => {
    assert.deepEqual(Object.keys(commands).sort(), ['hole', 'meta', 'ondemand']);
    const rows = await centre.db.selectFrom('agentCommand').selectAll().execute();
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.kind, 'preserve_window');
      assert.equal(row.status, 'pending');
      assert.equal(row.incidentId, caseId);
      const p = row.payload as { cameraKey: string };
      assert.deepEqual(row.payload, { cameraKey: p.cameraKey, from: spanFrom, to: spanTo, incidentId: caseId });
      assert.equal(commands[p.cameraKey], row.id);
    }
    // Linking the same window again is refused and asks for nothing more.
    const again = await hq.post(`/incidents/${caseId}/camera-windows`, { cameraId: cam.meta, from: spanFrom, to: spanTo });
    assert.deepEqual([again.status, again.body.error.code], [409, 'already_linked']);
    assert.equal((await centre.db.selectFrom('agentCommand').select('id').execute()).length, 3);
    // Every linked window is held, whether or not its footage is here yet.
    const holds = await centre.db.selectFrom('evidenceHold').select(['cameraId']).where('incidentId', '=', caseId).where('cameraId', 'is not', null).execute();
    assert.deepEqual(holds.map((h) => h.cameraId).sort(), Object.values(cam).sort());
  });

  test('the heartbeat delivers the commands in the AgentCommand form; not again before the timeout; never to another site', async () => {
    const got = await heartbeat(agentA);
    assert.equal(got.length, 3);
    for (const c of got) assert.deepEqual(Object.keys(c).sort(), ['cameraKey', 'from', 'id', 'incidentId', 'kind', 'to']);
    assert.deepEqual(
      [...got].sort((x, y) => x.cameraKey.localeCompare(y.cameraKey)),
      ['hole', 'meta', 'ondemand'].map((k) => ({ id: commands[k], kind: 'preserve_window', cameraKey: k, from: spanFrom, to: spanTo, incidentId: caseId })),
    );
    for (const id of Object.values(commands)) assert.equal(await statusOf(id), 'delivered');
    assert.deepEqual(await heartbeat(agentA), [], 'delivered and not yet due again');
    assert.deepEqual(await heartbeat(agentB), [], "another site's agent gets none");
    const ev = await centre.db.selectFrom('auditEvent').selectAll().where('action', '=', 'agent.command.deliver').execute();
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.actorType, 'agent');
    assert.deepEqual((ev[0]!.details as { commands: { id: string; redelivery: boolean }[] }).commands.map((c) => c.redelivery), [false, false, false]);
  });

  test("another site's agent cannot acknowledge (404, nothing changes); acknowledgements are idempotent; bad ones are refused", async () => {
    const foreign = await ack(agentB, commands.meta!, { status: 'done' });
    assert.deepEqual([foreign.status, foreign.body.error?.code], [404, 'command_not_found']);
    const missing = await ack(agentB, '00000000-0000-4000-8000-000000000000', { status: 'done' });
    assert.deepEqual([missing.status, missing.body.error?.code], [404, 'command_not_found'], 'the same answer as for a missing command');
    assert.equal(await statusOf(commands.meta!), 'delivered');
    for (const [body, code] of [[{ status: 'maybe' }, 'invalid_request'], [{}, 'invalid_request'], [{ status: 'done', extra: 1 }, 'invalid_request']] as const) {
      const r = await ack(agentA, commands.meta!, body);
      assert.deepEqual([r.status, r.body.error?.code], [400, code]);
    }
    assert.equal((await ack(agentA, 'not-a-uuid', { status: 'done' })).status, 400);
    assert.equal((await ack(null, commands.meta!, { status: 'done' })).status, 401);
    const people = await fetch(`${centre.url}/api/v1/agent/commands/${commands.meta}/ack`, { method: 'POST', headers: { cookie: await centre.hqCookie(), 'content-type': 'application/json' }, body: '{"status":"done"}' });
    assert.equal(people.status, 401, 'a person is not an agent');
    assert.equal(await statusOf(commands.meta!), 'delivered');

    const done = await ack(agentA, commands.meta!, { status: 'done', detail: '5 segments queued' });
    assert.deepEqual(done, { status: 200, body: { id: commands.meta, status: 'done', alreadyAcknowledged: false } });
    assert.equal((await ack(agentA, commands.meta!, { status: 'done' })).body.alreadyAcknowledged, true);
    const flip = await ack(agentA, commands.meta!, { status: 'failed' });
    assert.deepEqual([flip.status, flip.body.error?.code], [409, 'command_already_completed']);
    const row = await centre.db.selectFrom('agentCommand').selectAll().where('id', '=', commands.meta!).executeTakeFirstOrThrow();
    assert.deepEqual([row.status, row.detail, row.completedAt?.getTime()], ['done', '5 segments queued', clock.now().getTime()]);
    assert.equal((await ack(agentA, commands.hole!, { status: 'failed', detail: 'evicted before the request' })).status, 200);
    const acks = await centre.db.selectFrom('auditEvent').select(['actorType', 'targetId', 'details']).where('action', '=', 'agent.command.ack').orderBy('id').execute();
    assert.deepEqual(acks.map((a) => [a.actorType, a.targetId, (a.details as { status: string }).status]), [['agent', commands.meta, 'done'], ['agent', commands.hole, 'failed']]);
    const h = await hq.get(`/incidents/${caseId}/history`);
    assert.deepEqual(h.body.events.filter((e: { action: string }) => e.action === 'incident.preserve_acknowledged').map((e: { changes: { cameraKey: string; status: string } }) => `${e.changes.cameraKey}:${e.changes.status}`), ['meta:done', 'hole:failed']);
  });

  test('a delivered command that is not acknowledged is delivered again after the timeout', async () => {
    clock.advance((REDELIVER_S - 1) * 1000);
    assert.deepEqual(await heartbeat(agentA), []);
    clock.advance(2000);
    const again = await heartbeat(agentA);
    assert.deepEqual(again.map((c) => [c.id, c.cameraKey]), [[commands.ondemand, 'ondemand']], 'only the unacknowledged one');
    const row = await centre.db.selectFrom('agentCommand').selectAll().where('id', '=', commands.ondemand!).executeTakeFirstOrThrow();
    assert.equal(row.deliveredAt?.getTime(), clock.now().getTime());
    const ev = await centre.db.selectFrom('auditEvent').select('details').where('action', '=', 'agent.command.deliver').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual((ev.details as { commands: { id: string; redelivery: boolean }[] }).commands.map((c) => [c.id, c.redelivery]), [[commands.ondemand, true]]);
    assert.deepEqual(await heartbeat(agentA), []);
  });

  test('the case shows per window what has arrived and what is still on its way; media arriving completes it', async () => {
    const view = async () => Object.fromEntries(((await hq.get(`/incidents/${caseId}`)).body.cameraWindows as { camera: { key: string }; arrival: Record<string, unknown> & { segments: Record<string, number> }; preserveCommand: { status: string } | null }[]).map((w) => [w.camera.key, w]));
    let w = await view();
    assert.deepEqual([w.complete!.arrival.state, w.complete!.preserveCommand], ['complete', null]);
    assert.deepEqual([w.jitter!.arrival.state, w.jitter!.arrival.missingMs], ['complete', 0], 'boundary holes are not missing');
    assert.deepEqual([w.gap!.arrival.state, w.gap!.arrival.gapMs, w.gap!.arrival.missingMs], ['complete', MIN, 0]);
    assert.equal((w.gap!.arrival.gaps as { reason: string }[])[0]!.reason, 'camera_offline');
    assert.deepEqual([w.hole!.arrival.state, w.hole!.arrival.missingMs, w.hole!.preserveCommand!.status], ['failed', MIN, 'failed']);
    assert.deepEqual(w.hole!.arrival.missing, [{ from: at(1).toISOString(), to: at(2).toISOString() }]);
    assert.deepEqual([w.meta!.arrival.state, w.meta!.arrival.segments.metadataOnly, w.meta!.arrival.metadataOnlyMs, w.meta!.preserveCommand!.status], ['awaiting', 1, MIN, 'done']);
    assert.deepEqual([w.ondemand!.arrival.state, w.ondemand!.arrival.segments.stored, w.ondemand!.arrival.metadataOnlyMs, w.ondemand!.preserveCommand!.status], ['awaiting', 0, 12 * MIN, 'delivered']);
    // Where each is drawn: the metadata-only minute as a stretch at the store, the rest of that window as stored.
    const spanMs = (xs: unknown) => (xs as { from: string; to: string }[]).map((x) => Date.parse(x.to) - Date.parse(x.from));
    assert.deepEqual(spanMs(w.meta!.arrival.atStore), [MIN]);
    assert.equal(spanMs(w.meta!.arrival.stored).reduce((a, b) => a + b, 0), w.meta!.arrival.storedMs);
    assert.deepEqual([spanMs(w.ondemand!.arrival.atStore), spanMs(w.ondemand!.arrival.stored)], [[12 * MIN], []]);

    // The agent sends the held segment's media: the centre attaches it to the metadata row.
    const put = await fetch(`${centre.url}/api/v1/agent/segments/meta/${encodeURIComponent(at(2).toISOString())}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentA}`, 'content-type': 'video/mp2t', 'x-segment-sha256': createHash('sha256').update(metaBytes).digest('hex'), 'x-segment-size': String(metaBytes.length), 'x-segment-duration-ms': String(MIN) },
      body: metaBytes,
    });
    assert.equal(put.status, 201, await put.clone().text());
    w = await view();
    assert.deepEqual([w.meta!.arrival.state, w.meta!.arrival.segments.metadataOnly, w.meta!.arrival.storedMs], ['complete', 0, 12 * MIN]);
  });

  test('unlinking a window closes its open command and releases its hold; nothing more is delivered', async () => {
    const d = await hq.get(`/incidents/${caseId}`);
    const w = d.body.cameraWindows.find((x: { camera: { key: string } }) => x.camera.key === 'ondemand');
    const r = await hq.del(`/incidents/${caseId}/camera-windows/${w.id}`);
    assert.deepEqual([r.status, r.body.commandCancelled, r.body.holdsReleased], [200, true, 1]);
    const row = await centre.db.selectFrom('agentCommand').selectAll().where('id', '=', commands.ondemand!).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
    assert.match(row.detail ?? '', /^cancelled at the centre/);
    clock.advance((REDELIVER_S + 1) * 1000);
    assert.deepEqual(await heartbeat(agentA), []);
    // A manual window of the on-demand camera asks again, once.
    const again = await hq.post(`/incidents/${caseId}/camera-windows`, { cameraId: cam.ondemand, from: at(0).toISOString(), to: at(1).toISOString() });
    assert.equal(again.status, 201);
    assert.ok(again.body.commandId);
    const got = await heartbeat(agentA);
    assert.deepEqual(got, [{ id: again.body.commandId, kind: 'preserve_window', cameraKey: 'ondemand', from: at(0).toISOString(), to: at(1).toISOString(), incidentId: caseId }]);
  });
});
