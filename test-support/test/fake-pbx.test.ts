/** The simulated PBX produces what the asterisk-files adapter reads from a real one. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { createPbxAdapter } from '../../edge-agent/src/pbx/index.ts';
import { parseCdrCsvLine } from '../../edge-agent/src/pbx/cdr.ts';
import { inspectWav } from '../../edge-agent/src/pbx/wav.ts';
import { FakeClock, MemorySink, quietLog, sha256File, tempDir } from '../../edge-agent/test/pbx-helpers.ts';
import { FakePbx } from '../src/fake-pbx.ts';

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
