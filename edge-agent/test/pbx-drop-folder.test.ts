/** The drop-folder adapter: JSON sidecar pairs and CSV manifests (UTF-8 and Shift_JIS) dropped by other systems. */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createPbxAdapter, type PbxConfigInput } from '../src/pbx/index.ts';
import { FakeClock, MemorySink, quietLog, sha256File, sjisEncode, tempDir, wavBytes, writeFileP } from './pbx-helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function setup(over: Partial<PbxConfigInput> = {}) {
  const d = await tempDir('pbx-drop-');
  cleanups.push(d.cleanup);
  const drop = join(d.path, 'drop');
  const state = join(d.path, 'state');
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const sink = new MemorySink();
  const cfg = { id: 'cloud-pbx', adapter: 'drop-folder', dropDir: drop, timezone: 'Asia/Tokyo', quietSeconds: 2, pairWaitSeconds: 20, backfillHours: null, ...over } as PbxConfigInput;
  const pbx = createPbxAdapter(cfg, { stateDir: state, sink, clock, log: quietLog });
  cleanups.push(() => pbx.stop());
  const run = async (n = 1, step = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(step);
      await pbx.tick();
    }
  };
  return { drop, state, clock, sink, run, pbx };
}

const sidecar = {
  schema: 'mamoru.call/1',
  callId: '3cx-000123',
  direction: 'inbound',
  disposition: 'answered',
  caller: { number: '0312345678', name: '山田 太郎' },
  called: { number: '0501234567' },
  operator: { extension: '201', name: '田中' },
  start: '2026-11-23T18:05:00+09:00',
  answer: '2026-11-23T18:05:05+09:00',
  end: '2026-11-23T18:05:26+09:00',
  notice: { played: 'yes', at: '2026-11-23T18:05:00+09:00' },
};

test('audio + JSON sidecar: processed once both are stable; exact payload', async () => {
  const s = await setup();
  const audio = join(s.drop, 'call-0001.wav');
  await writeFileP(audio, wavBytes(26));
  await s.run(1);
  const text = JSON.stringify(sidecar, null, 2);
  await writeFileP(join(s.drop, 'call-0001.json'), text);
  await s.run(1);
  assert.equal(s.sink.calls.length, 0, 'the sidecar is not stable yet');
  await s.run(3);
  assert.equal(s.sink.calls.length, 1);
  const c = s.sink.calls[0]!;
  assert.deepEqual(c, {
    pbxId: 'cloud-pbx',
    linkedId: '3cx-000123',
    adapter: 'drop-folder',
    direction: 'inbound',
    directionSource: 'sidecar',
    disposition: 'answered',
    caller: { number: '0312345678', name: '山田 太郎', e164: '+81312345678' },
    called: { number: '0501234567', e164: '+81501234567' },
    operator: { extension: '201', name: '田中', source: 'sidecar' },
    operators: [{ extension: '201', name: '田中', rungUtc: null, answeredUtc: null, source: 'sidecar' }],
    transfers: [],
    times: {
      startUtc: '2026-11-23T09:05:00Z',
      answerUtc: '2026-11-23T09:05:05Z',
      endUtc: '2026-11-23T09:05:26Z',
      durationS: 26,
      talkS: 21,
      pickupUtc: null,
      operatorTalkS: null,
      zone: 'Asia/Tokyo',
      zoneSource: 'offset_in_data',
      raw: { start: '2026-11-23T18:05:00+09:00', answer: '2026-11-23T18:05:05+09:00', end: '2026-11-23T18:05:26+09:00' },
    },
    notice: { played: 'yes', method: 'sidecar', atUtc: '2026-11-23T09:05:00Z', evidence: [{ source: 'sidecar', raw: text, file: join(s.drop, 'call-0001.json'), offset: null }] },
    legs: [{ uniqueId: null, linkedId: '3cx-000123', sequence: null, src: '0312345678', dst: '0501234567', channel: null, dstChannel: null, lastApp: null, disposition: 'answered', raw: text, source: { file: join(s.drop, 'call-0001.json'), offset: null } }],
    recordings: [{ name: 'call-0001.wav', role: 'mixed', format: 'wav', sampleRate: 8000, channels: 1, durationS: 26, size: (await stat(audio)).size, sha256: await sha256File(audio) }],
    flags: [],
    callKey: 'cloud-pbx:3cx-000123',
    version: 1,
    files: { 'call-0001.wav': audio },
  });
  await s.run(5);
  assert.equal(s.sink.calls.length, 1, 'nothing new without a change');
  // The sidecar is corrected later: a new version, never an overwrite.
  await writeFile(join(s.drop, 'call-0001.json'), JSON.stringify({ ...sidecar, operator: { extension: '202', name: '佐藤' } }));
  await s.run(4);
  assert.equal(s.sink.calls.length, 2);
  assert.equal(s.sink.calls[1]!.version, 2);
  assert.equal(s.sink.calls[1]!.operator!.extension, '202');
});

test('sidecar listing stereo and split files with roles; a missing listed file is waited for', async () => {
  const s = await setup();
  await writeFileP(join(s.drop, 'y', 'a-caller.wav'), wavBytes(3, { seed: 1 }));
  await writeFileP(join(s.drop, 'y', 'a-agent.wav'), wavBytes(3, { seed: 2 }));
  await writeFileP(join(s.drop, 'y', 'a.json'), JSON.stringify({ ...sidecar, callId: 'yeastar-1641980184.14', recordings: [{ file: 'a-caller.wav', role: 'caller' }, { file: 'a-agent.wav', role: 'operator' }, { file: 'a-stereo.wav' }] }));
  await s.run(5);
  assert.equal(s.sink.calls.length, 0, 'waits for a-stereo.wav');
  await writeFileP(join(s.drop, 'y', 'a-stereo.wav'), wavBytes(3, { channels: 2 }));
  await s.run(4);
  assert.equal(s.sink.calls.length, 1);
  assert.deepEqual(s.sink.calls[0]!.recordings.map((r) => [r.name, r.role, r.channels]), [['a-agent.wav', 'operator', 1], ['a-caller.wav', 'caller', 1], ['a-stereo.wav', 'stereo', 2]]);
});

test('a sidecar whose audio never comes is sealed with no_recording; audio without sidecar with no_cdr', async () => {
  const s = await setup();
  await writeFileP(join(s.drop, 'lonely.json'), JSON.stringify({ ...sidecar, callId: 'only-meta', end: null, durationS: 12 }));
  await writeFileP(join(s.drop, 'orphan.wav'), wavBytes(2));
  await s.run(15);
  assert.equal(s.sink.calls.length, 0);
  await s.run(10);
  assert.equal(s.sink.calls.length, 2);
  const meta = s.sink.byKey('cloud-pbx:only-meta')[0]!;
  assert.deepEqual(meta.flags, ['no_recording']);
  assert.equal(meta.times.endUtc, '2026-11-23T09:05:12Z');
  const orphan = s.sink.byKey('cloud-pbx:orphan')[0]!;
  assert.deepEqual(orphan.flags, ['no_cdr']);
  assert.equal(orphan.recordings[0]!.sha256, await sha256File(join(s.drop, 'orphan.wav')));
  // The audio of the lonely sidecar arrives late: version 2 of that call, not a new orphan.
  await writeFileP(join(s.drop, 'lonely.mp3'), Buffer.from('ID3 not really mp3'));
  await s.run(4);
  assert.equal(s.sink.calls.length, 3);
  const v2 = s.sink.calls[2]!;
  assert.deepEqual([v2.callKey, v2.version, v2.flags, v2.recordings.map((r) => [r.name, r.format, r.durationS])], ['cloud-pbx:only-meta', 2, [], [['lonely.mp3', 'mp3', null]]]);
  await s.run(30);
  assert.equal(s.sink.calls.length, 3);
});

test('bad sidecars are rejected with a reason (kept in rejected.jsonl), the audio still reaches the centre', async () => {
  const s = await setup();
  const cases: [string, string, RegExp][] = [
    ['naive', JSON.stringify({ ...sidecar, callId: 'n1', start: '2026-11-23 18:05:00' }), /start: ISO-8601 time with an offset/],
    ['nojson', '{"callId": ', /not valid JSON/],
    ['noend', JSON.stringify({ ...sidecar, callId: 'n3', end: null }), /end: end or durationS is required/],
    ['badid', JSON.stringify({ ...sidecar, callId: '' }), /callId/],
    ['badfile', JSON.stringify({ ...sidecar, callId: 'n5', recordings: [{ file: '../etc/passwd' }] }), /recordings\.0\.file: a file name in the same folder/],
  ];
  for (const [name, text] of cases) {
    await writeFileP(join(s.drop, `${name}.json`), text);
    await writeFileP(join(s.drop, `${name}.wav`), wavBytes(1));
  }
  await s.run(25);
  const rejected = (await readFile(join(s.state, 'pbx', 'cloud-pbx', 'rejected.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; why: string });
  assert.equal(rejected.length, cases.length, 'each rejected once');
  for (const [name, , why] of cases) assert.match(rejected.find((r) => r.path.endsWith(`${name}.json`))!.why, why, name);
  assert.deepEqual(s.sink.calls.map((c) => [c.linkedId, c.flags]).sort(), cases.map(([n]) => [n, ['no_cdr']]).sort());
});

const JP_COLUMNS = { callId: '通話ID', start: '通話日時', callerNumber: '発信元番号', callerName: '発信者名', calledNumber: '着信先番号', operatorExtension: '着信内線', durationS: '通話時間', disposition: 'ステータス', recording: '録音ファイル', notice: '録音告知' };

test('a Shift_JIS manifest with Japanese headers, naive JST times and h:mm:ss durations', async () => {
  const s = await setup({ manifest: { pattern: '発着信履歴*.csv', encoding: 'auto', columns: JP_COLUMNS } });
  await writeFileP(join(s.drop, 'rec-001.wav'), wavBytes(4));
  const rows = [
    '通話ID,通話日時,発信元番号,発信者名,着信先番号,着信内線,通話時間,ステータス,録音ファイル,録音告知',
    'A-1,2026/11/23 18:05:00,0312345678,山田太郎,0501234567,201,0:00:26,成立呼,rec-001.wav,あり',
    'A-2,2026/11/23 18:10:00,非通知,,0501234567,,0:00:00,不成立呼,,',
  ];
  const manifest = join(s.drop, '発着信履歴_20261123.csv');
  await writeFileP(manifest, sjisEncode(`${rows.join('\r\n')}\r\n`));
  await s.run(4);
  assert.equal(s.sink.calls.length, 2);
  const a = s.sink.byKey('cloud-pbx:A-1')[0]!;
  assert.deepEqual(a.caller, { number: '0312345678', name: '山田太郎', e164: '+81312345678' });
  assert.deepEqual(a.operator, { extension: '201', name: null, source: 'cdr' });
  assert.deepEqual([a.disposition, a.times.startUtc, a.times.endUtc, a.times.durationS, a.times.zoneSource], ['answered', '2026-11-23T09:05:00Z', '2026-11-23T09:05:26Z', 26, 'config']);
  assert.deepEqual(a.notice, { played: 'yes', method: 'sidecar', atUtc: null, evidence: [{ source: 'sidecar', raw: rows[1], file: null, offset: null }] });
  assert.equal(a.legs[0]!.raw, rows[1]);
  assert.equal(a.legs[0]!.source.offset, null, 'no byte offsets into a re-encoded file');
  assert.equal(a.recordings[0]!.name, 'rec-001.wav');
  const b = s.sink.byKey('cloud-pbx:A-2')[0]!;
  assert.deepEqual([b.disposition, b.caller.number, b.caller.e164, b.flags], ['no_answer', '非通知', null, ['no_recording']]);
  // The export grows: only the new row is delivered.
  await writeFile(manifest, sjisEncode(`${[...rows, 'A-3,2026/11/23 18:20:00,09011112222,,0501234567,202,0:01:05,成立呼,,'].join('\r\n')}\r\n`));
  await s.run(4);
  assert.equal(s.sink.calls.length, 3);
  assert.equal(s.sink.calls[2]!.linkedId, 'A-3');
  assert.equal(s.sink.calls[2]!.times.durationS, 65);
  // A recording replaced under an unchanged manifest: a new version of that row's call only.
  await writeFile(join(s.drop, 'rec-001.wav'), wavBytes(5));
  await s.run(4);
  assert.equal(s.sink.calls.length, 4);
  assert.deepEqual([s.sink.calls[3]!.callKey, s.sink.calls[3]!.version, s.sink.calls[3]!.recordings[0]!.durationS], ['cloud-pbx:A-1', 2, 5]);
});

test('a UTF-8 manifest referencing columns by index, times with offsets', async () => {
  const s = await setup({ manifest: { pattern: '*.csv', header: false, columns: { callId: 0, start: 1, end: 2, callerNumber: 3, recording: 4 } } });
  await writeFileP(join(s.drop, 'x.wav'), wavBytes(2));
  const manifest = '\ufeffX-1,2026-11-23T09:05:00Z,2026-11-23T09:05:02Z,0312345678,x.wav\n';
  await writeFileP(join(s.drop, 'export.csv'), manifest);
  await s.run(4);
  const c = s.sink.calls[0]!;
  assert.deepEqual([c.linkedId, c.times.startUtc, c.times.durationS, c.times.zoneSource, c.legs[0]!.source.offset], ['X-1', '2026-11-23T09:05:00Z', 2, 'offset_in_data', 3]);
});

test('a manifest missing a mapped column is rejected', async () => {
  const s = await setup({ manifest: { pattern: '*.csv', columns: JP_COLUMNS } });
  await writeFileP(join(s.drop, 'wrong.csv'), 'date,from\n2026/11/23 18:05:00,0312345678\n');
  await s.run(4);
  assert.equal(s.sink.calls.length, 0);
  const rejected = (await readFile(join(s.state, 'pbx', 'cloud-pbx', 'rejected.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.match(rejected[0].why, /no column for: callId, start, durationS, callerNumber/);
});
