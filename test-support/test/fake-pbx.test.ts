/** The simulated PBX produces what the asterisk-files adapter reads from a real one. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createPbxAdapter } from '../../edge-agent/src/pbx/index.ts';
import { parseCdrCsvLine } from '../../edge-agent/src/pbx/cdr.ts';
import { inspectWav } from '../../edge-agent/src/pbx/wav.ts';
import { FakeClock, MemorySink, quietLog, sha256File, tempDir } from '../../edge-agent/test/pbx-helpers.ts';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { agentDeps, runAgent } from '../../edge-agent/src/agent.ts';
import { enrollAgent, testConfig, waitFor } from '../../edge-agent/test/helpers/agent.ts';
import { demoPbxConfig, FakePbx, OPERATOR_NAMES, type FakeCall } from '../src/fake-pbx.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

test('three calls (speech audio, one unanswered) → the adapter seals them with JST confirmed by the uniqueid', async () => {
  const d = await tempDir('fake-pbx-');
  cleanups.push(d.cleanup);
  const pbx = new FakePbx({ dir: join(d.path, 'pbx'), audio: 'speech', unansweredEvery: 3 });
  const calls = [await pbx.call(), await pbx.call(), await pbx.call()];
  assert.deepEqual(calls.map((c) => c.answered), [true, true, false]);
  const clock = new FakeClock(Date.now());
  const sink = new MemorySink();
  const adapter = createPbxAdapter(
    { id: 'demo-pbx', adapter: 'asterisk-files', timezone: 'Asia/Tokyo', monitorDir: pbx.monitorDir, cdrCsv: pbx.masterCsv, quietSeconds: 2, recordingWaitSeconds: 10, backfillHours: null },
    { stateDir: join(d.path, 'state'), sink, clock, log: quietLog },
  );
  cleanups.push(() => adapter.stop());
  for (let i = 0; i < 15; i++) {
    clock.advance(1);
    await adapter.tick();
  }
  assert.equal(sink.calls.length, 3);
  for (const c of calls) {
    const got = sink.byKey(`demo-pbx:${c.uniqueid}`)[0]!;
    assert.equal(got.caller.number, c.caller);
    assert.equal(got.times.startUtc, c.startUtc.toISOString().replace('.000Z', 'Z'));
    assert.deepEqual([got.times.zone, got.times.zoneSource], ['Asia/Tokyo', 'uniqueid']);
    assert.equal(got.legs[0]!.raw, c.cdrLine.slice(0, -1));
    if (c.answered) {
      assert.equal(got.disposition, 'answered');
      assert.deepEqual(got.operator, { extension: c.operator, name: null, source: 'dstchannel' });
      const { evidence, ...notice } = got.notice;
      assert.deepEqual(notice, { played: 'yes', method: 'userfield', atUtc: null });
      // The CDR row whose userfield said so travels with the call as the evidence.
      assert.deepEqual(evidence?.map((e) => [e.source, e.raw]), [['cdr_csv', c.cdrLine.slice(0, -1)]]);
      assert.deepEqual(got.recordings.map((r) => r.role).sort(), ['caller', 'mixed', 'operator']);
      for (const r of got.recordings) assert.equal(r.sha256, await sha256File(got.files[r.name]!));
      assert.ok(got.recordings[0]!.durationS! > 20, 'speech from make-test-call.sh');
      assert.deepEqual(got.flags, []);
    } else {
      assert.deepEqual([got.disposition, got.flags], ['no_answer', ['no_recording']]);
    }
  }
});

test('CLI: --once --audio tone writes a 21-column JST row and three final WAVs', async () => {
  const d = await tempDir('fake-pbx-cli-');
  cleanups.push(d.cleanup);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test-support/src/fake-pbx.ts', '--dir', d.path, '--once', '--audio', 'tone']);
  const ev = JSON.parse(stdout.trim()) as { uniqueid: string; recordings: number };
  assert.equal(ev.recordings, 3);
  const line = (await readFile(join(d.path, 'cdr-csv', 'Master.csv'), 'utf8')).trimEnd();
  const row = parseCdrCsvLine(line, { file: 'm', offset: 0, encoding: 'utf-8', seenAt: 0 }).rows[0]!;
  assert.equal(row.columns, 21);
  assert.equal(row.linkedid, ev.uniqueid);
  const epoch = Number(ev.uniqueid.split('.')[0]);
  assert.equal(row.start, new Date((epoch + 9 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' '), 'naive JST');
  const dayDir = join(d.path, 'monitor', ...row.start.slice(0, 10).split('-'));
  const files = await readdir(dayDir);
  assert.equal(files.length, 3);
  for (const f of files) assert.deepEqual([(await inspectWav(join(dayDir, f)))!.final, (await inspectWav(join(dayDir, f)))!.durationS], [true, 12]);
});

test('CLI: --pattern picks the kinds of call (a transfer writes two CDR rows and a BLINDTRANSFER); an unknown kind is refused', async () => {
  const d = await tempDir('fake-pbx-cli-xfer-');
  cleanups.push(d.cleanup);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test-support/src/fake-pbx.ts', '--dir', d.path, '--once', '--audio', 'tone', '--pattern', 'transferred']);
  const ev = JSON.parse(stdout.trim()) as { kind: string; operator: string; transferredTo: string; uniqueid: string };
  assert.deepEqual([ev.kind, ev.operator, ev.transferredTo], ['transferred', '201', '202']);
  const rows = (await readFile(join(d.path, 'cdr-csv', 'Master.csv'), 'utf8')).trimEnd().split('\n').map((l) => parseCdrCsvLine(l, { file: 'm', offset: 0, encoding: 'utf-8', seenAt: 0 }).rows[0]!);
  assert.deepEqual(rows.map((r) => [r.linkedid, r.dst, r.disposition]), [[ev.uniqueid, '202', 'ANSWERED'], [ev.uniqueid, '202', 'ANSWERED']]);
  const cel = await readFile(join(d.path, 'cel-custom', 'Master.csv'), 'utf8');
  assert.equal(cel.split('\n').filter((l) => l.startsWith('"BLINDTRANSFER"')).length, 1);
  await assert.rejects(run(process.execPath, ['--import', 'tsx', 'test-support/src/fake-pbx.ts', '--dir', d.path, '--once', '--pattern', 'answered,forwarded']), (e: { code: number; stderr: string }) => e.code === 1 && /forwarded is not one of answered, unanswered, transferred/.test(e.stderr));
});

test('live mode: the recording grows with a non-final header and is closed before the CDR row appears', { timeout: 20_000 }, async () => {
  const d = await tempDir('fake-pbx-live-');
  cleanups.push(d.cleanup);
  const pbx = new FakePbx({ dir: d.path, audio: 'tone', toneSeconds: 3, live: true });
  const pending = pbx.call();
  await new Promise((r) => setTimeout(r, 1500));
  const days = await readdir(join(d.path, 'monitor'), { recursive: true });
  const wav = days.find((p) => p.endsWith('-rx.wav'))!;
  const mid = (await inspectWav(join(d.path, 'monitor', wav)))!;
  assert.equal(mid.final, false, 'header still open while recording');
  await assert.rejects(readFile(pbx.masterCsv), 'no CDR row before the call ends');
  const c = await pending;
  assert.equal((await inspectWav(c.recordings[0]!))!.final, true);
  assert.ok((await readFile(pbx.masterCsv, 'utf8')).includes(c.uniqueid));
});

/**
 * The demo's three kinds of call (answered, blind-transferred, unanswered) written by the fake PBX with its CEL, read
 * by a real agent (runAgent: asterisk-files adapter with `cel` and `trunkEndpoints`, outbox, uploader) into a real
 * centre, and checked through the centre's read API: the transferred call shows its transfer, both operators and
 * the CEL line as a leg, and call search says it was transferred.
 */
describe('the fake PBX through a real agent into a real centre', () => {
  let centre: TestCentre;
  let cookie: string;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    centre = await startCentre();
    cookie = await centre.hqCookie();
  });
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await centre?.close();
  });

  const get = async (path: string) => {
    const r = await fetch(`${centre.url}/api/v1${path}`, { headers: { cookie } });
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, any>;
  };

  test('answered, transferred and unanswered calls: the transfer is on the call page data and in call search', { timeout: 90_000 }, async () => {
    const d = await tempDir('fake-pbx-agent-');
    stops.push(d.cleanup);
    const pbx = new FakePbx({ dir: join(d.path, 'pbx'), audio: 'tone', toneSeconds: 20, pattern: ['answered', 'transferred', 'unanswered'] });
    const calls = [await pbx.call(), await pbx.call(), await pbx.call()];
    assert.deepEqual(calls.map((c) => c.kind), ['answered', 'transferred', 'unanswered']);
    const [answered, xfer, missed] = calls as [FakeCall, FakeCall, FakeCall];
    assert.equal(xfer.cdrLines.length, 2, 'a blind transfer leaves two CDR rows of the caller channel');
    assert.ok(xfer.transfer, 'the transferred call says where it went');

    const site = await enrollAgent(centre, join(d.path, 'state'));
    const config = testConfig({
      server: { url: centre.url },
      stateDir: join(d.path, 'state'),
      spoolDir: join(d.path, 'spool'),
      heartbeatSeconds: 60,
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      // What scripts/demo-site.ts gives the demo store's agent, with short waits.
      pbx: { ...demoPbxConfig(pbx), quietSeconds: 0.3, pollSeconds: 0.1, recordingWaitSeconds: 0.5, cdrWaitSeconds: 1, backfillHours: null },
    });
    const agent = await runAgent(config, agentDeps(config, quietLog));
    stops.push(() => agent.stop());
    const rows = await waitFor('three calls at the centre', async () => {
      const c = await centre.db.selectFrom('call').select(['id', 'callKey']).where('siteId', '=', site.siteId).execute();
      return c.length === 3 && c;
    }, 30_000);
    await waitFor('outbox drained', () => agent.outbox.stats().count === 0 && agent.uploader.inFlight === null, 30_000);
    assert.deepEqual(rows.map((r) => r.callKey).sort(), calls.map((c) => `demo-pbx:${c.uniqueid}`).sort(), 'one call per linkedid, no extra call from the second CDR row or the CEL');
    const idOf = (c: FakeCall) => rows.find((r) => r.callKey === `demo-pbx:${c.uniqueid}`)!.id;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    const t0 = (c: FakeCall) => c.startUtc.getTime();

    // The transferred call: answered by the rung operator, sent on to the next extension.
    const t = await get(`/calls/${idOf(xfer)}`);
    const tr = xfer.transfer!;
    assert.deepEqual([t.direction, t.directionSource, t.disposition, t.called.number], ['inbound', 'recording_name', 'answered', '0501234567'], 'the dialled number, not the extension every row shows after the transfer');
    assert.deepEqual(t.operator, { extension: tr.by, name: OPERATOR_NAMES[tr.by], source: 'dstchannel' }, 'the operator is the one who answered');
    assert.deepEqual(t.transfers.map((x: Record<string, unknown>) => [x.kind, x.atUtc, x.by, x.to]), [['blind', iso(tr.atUtc.getTime()), tr.by, tr.to]]);
    assert.equal(t.transfers[0].raw, xfer.celLines.find((l) => l.startsWith('"BLINDTRANSFER"'))!.trimEnd(), 'the CEL line as the PBX wrote it');
    assert.deepEqual(t.operators.map((o: Record<string, unknown>) => [o.extension, o.name, o.answeredUtc]), [
      [tr.by, OPERATOR_NAMES[tr.by], iso(t0(xfer) + 2000)],
      [tr.to, OPERATOR_NAMES[tr.to], iso(tr.atUtc.getTime() + 2000)],
    ]);
    assert.equal(t.times.pickupUtc, new Date(t0(xfer) + 2000).toISOString(), 'the first operator picked up when the caller entered the bridge (CEL)');
    // Legs: both CDR rows verbatim, and the transfer with the transferring channel and the transferee.
    const legs = t.legs as { raw: string; lastApp: string; channel: string; dstChannel: string; dst: string }[];
    for (const line of xfer.cdrLines) assert.ok(legs.some((l) => l.raw === line.trimEnd()), `CDR row kept as a leg: ${line}`);
    const xl = legs.find((l) => l.lastApp === 'BLINDTRANSFER');
    assert.deepEqual(xl && [xl.channel, xl.dst, xl.dstChannel], [tr.byChannel, tr.to, tr.transfereeChannel]);
    assert.deepEqual(t.recordings.map((r: { role: string }) => r.role).sort(), ['caller', 'mixed', 'operator'], 'MixMonitor on the caller channel: one recording across the transfer');
    assert.equal(t.notice.played, 'yes');

    // The plain answered call has no transfer, its pickup from CEL; the unanswered call keeps whom it rang.
    const a = await get(`/calls/${idOf(answered)}`);
    assert.deepEqual([a.disposition, a.transfers, a.times.pickupUtc], ['answered', [], new Date(t0(answered) + 2000).toISOString()]);
    const m = await get(`/calls/${idOf(missed)}`);
    assert.deepEqual([m.disposition, m.operator, m.operatorExtensions, m.transfers, m.recordings], ['no_answer', null, ['203'], [], []]);

    // Call search: the transferred call says so (kind and target); the others do not.
    const list = (await get(`/calls?site=${site.siteId}`)).calls as { id: string; transfers: unknown[]; operatorExtensions: string[] }[];
    const transfersById = new Map(list.map((c) => [c.id, c.transfers]));
    assert.equal(list.length, 3);
    assert.deepEqual(transfersById.get(idOf(xfer)), [{ kind: 'blind', atUtc: iso(tr.atUtc.getTime()), by: tr.by, to: tr.to }]);
    assert.deepEqual([transfersById.get(idOf(answered)), transfersById.get(idOf(missed))], [[], []]);
    assert.deepEqual(list.find((c) => c.id === idOf(xfer))!.operatorExtensions, [tr.by, tr.to]);
    // Searching by the extension the call was transferred to finds it.
    const byTarget = (await get(`/calls?site=${site.siteId}&operator=${tr.to}`)).calls as { id: string }[];
    assert.ok(byTarget.some((c) => c.id === idOf(xfer)));
  });
});
