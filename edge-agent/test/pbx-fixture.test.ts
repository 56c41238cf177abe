/** The real Asterisk 22 output (one inbound call) through the asterisk-files adapter, payload asserted exactly. */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createPbxAdapter, type PbxConfigInput } from '../src/pbx/index.ts';
import { FIXTURE, FakeClock, MemorySink, quietLog, sha256File, tempDir } from './pbx-helpers.ts';

const MON = join(FIXTURE, 'monitor', '2026', '11', '23');
const BASE = 'in-0501234567-0312345678-20261123-180500-1795457100.0';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

function config(over: Partial<PbxConfigInput> = {}): PbxConfigInput {
  return {
    id: 'main-pbx',
    adapter: 'asterisk-files',
    timezone: 'Asia/Tokyo',
    monitorDir: join(FIXTURE, 'monitor'),
    cdrCsv: join(FIXTURE, 'cdr-csv', 'Master.csv'),
    cdrCustom: join(FIXTURE, 'cdr-custom', 'cdr_master.json'),
    cel: join(FIXTURE, 'cel-custom', 'Master.csv'),
    noticeSound: 'custom/notice',
    operators: { '201': 'Tanaka' },
    quietSeconds: 5,
    backfillHours: null,
    ...over,
  } as PbxConfigInput;
}

async function run(cfg: PbxConfigInput) {
  const state = await tempDir('pbx-fixture-');
  cleanups.push(state.cleanup);
  const clock = new FakeClock(Date.parse('2026-11-23T18:06:00Z'));
  const sink = new MemorySink();
  const pbx = createPbxAdapter(cfg, { stateDir: state.path, sink, clock, log: quietLog });
  await pbx.tick();
  assert.equal(sink.calls.length, 0, 'nothing is sealed before the quiet period');
  clock.advance(6);
  await pbx.tick();
  clock.advance(6);
  await pbx.tick();
  await pbx.stop();
  return sink;
}

async function expectedLegs() {
  const text = await readFile(join(FIXTURE, 'cdr-csv', 'Master.csv'), 'utf8');
  const lines = text.split('\n').slice(0, 3);
  const offsets = [0, Buffer.byteLength(lines[0]!) + 1, Buffer.byteLength(lines[0]!) + Buffer.byteLength(lines[1]!) + 2];
  const file = join(FIXTURE, 'cdr-csv', 'Master.csv');
  const leg = (i: number, uniqueId: string, sequence: number, dst: string, channel: string, dstChannel: string | null, lastApp: string) => ({
    uniqueId,
    linkedId: '1795457100.0',
    sequence,
    src: '0312345678',
    dst,
    channel,
    dstChannel,
    lastApp,
    disposition: 'ANSWERED',
    raw: lines[i]!,
    source: { file, offset: offsets[i]! },
  });
  // Ordered by start time, then sequence.
  return [
    leg(2, '1795457100.0', 0, '0501234567', 'Local/s@customer-phone-00000000;1', 'Local/201@operator-phone-00000001;1', 'Dial'),
    leg(0, '1795457100.1', 1, 's', 'Local/s@customer-phone-00000000;2', null, 'Hangup'),
    leg(1, '1795457105.3', 3, '201', 'Local/201@operator-phone-00000001;2', null, 'Wait'),
  ];
}

/** The first line of a fixture file that matches, with its byte offset. */
async function lineOf(rel: string, pick: (line: string) => boolean) {
  const file = join(FIXTURE, rel);
  const text = await readFile(file, 'utf8');
  let offset = 0;
  for (const raw of text.split('\n')) {
    if (pick(raw)) return { raw, file, offset };
    offset += Buffer.byteLength(raw) + 1;
  }
  throw new Error(`no such line in ${rel}`);
}

/** The cdr_custom line with rec_notice=played, and the CEL STREAM_BEGIN of the notice sound (its time). */
async function noticeEvidence() {
  const custom = await lineOf('cdr-custom/cdr_master.json', (l) => l.includes('"rec_notice":"played"'));
  const sb = await lineOf('cel-custom/Master.csv', (l) => l.startsWith('"STREAM_BEGIN"') && l.includes('custom/notice'));
  return [{ source: 'cdr_custom', ...custom }, { source: 'cel', ...sb }];
}

const operatorRung = '2026-11-23T18:05:00Z';

async function expectedRecordings() {
  const rec = async (suffix: string, role: string) => {
    const p = join(MON, `${BASE}${suffix}.wav`);
    return { name: `${BASE}${suffix}.wav`, role, format: 'wav', sampleRate: 8000, channels: 1, durationS: 26.48, size: (await stat(p)).size, sha256: await sha256File(p) };
  };
  return [await rec('-rx', 'caller'), await rec('-tx', 'operator'), await rec('', 'mixed')];
}

test('fixture: Asia/Tokyo configured, the uniqueid shows the PBX wrote UTC → exact payload', async () => {
  const sink = await run(config());
  assert.equal(sink.calls.length, 1);
  const call = sink.calls[0]!;
  const recordings = await expectedRecordings();
  assert.deepEqual(call, {
    pbxId: 'main-pbx',
    linkedId: '1795457100.0',
    adapter: 'asterisk-files',
    direction: 'inbound',
    directionSource: 'recording_name',
    disposition: 'answered',
    caller: { number: '0312345678', name: 'Yamada Taro', e164: '+81312345678' },
    called: { number: '0501234567', e164: '+81501234567' },
    operator: { extension: '201', name: 'Tanaka', source: 'dstchannel' },
    // Rung from the Dial row (its start: the CDR cannot tell the notice's 5 s apart), picked up when the caller's
    // channel entered the bridge with it (CEL BRIDGE_ENTER), 5.6 s after the PBX answered for the notice.
    operators: [{ extension: '201', name: 'Tanaka', rungUtc: operatorRung, answeredUtc: '2026-11-23T18:05:05.636Z', source: 'cel' }],
    transfers: [],
    times: {
      startUtc: '2026-11-23T18:05:00Z',
      answerUtc: '2026-11-23T18:05:00Z',
      endUtc: '2026-11-23T18:05:26Z',
      durationS: 26,
      talkS: 26,
      pickupUtc: '2026-11-23T18:05:05.636Z',
      operatorTalkS: 20,
      zone: 'UTC',
      zoneSource: 'config_contradicted_by_uniqueid',
      raw: { start: '2026-11-23 18:05:00', answer: '2026-11-23 18:05:00', end: '2026-11-23 18:05:26' },
    },
    notice: { played: 'yes', method: 'cdr_variable', atUtc: '2026-11-23T18:05:00.493Z', evidence: await noticeEvidence() },
    legs: await expectedLegs(),
    recordings,
    flags: ['zone_mismatch'],
    callKey: 'main-pbx:1795457100.0',
    version: 1,
    files: Object.fromEntries(recordings.map((r) => [r.name, join(MON, r.name)])),
  });
  // The hashes are of the original bytes (independent check against the files).
  for (const r of call.recordings) assert.equal(r.sha256, await sha256File(join(MON, r.name)));
});

test('fixture: UTC configured → the uniqueid confirms it', async () => {
  const sink = await run(config({ timezone: 'UTC' }));
  assert.equal(sink.calls.length, 1);
  const t = sink.calls[0]!.times;
  assert.equal(t.zone, 'UTC');
  assert.equal(t.zoneSource, 'uniqueid');
  assert.equal(t.startUtc, '2026-11-23T18:05:00Z');
  assert.deepEqual(sink.calls[0]!.flags, []);
});

test('fixture: Master.csv and recordings only → notice unknown, operator name unknown without the roster', async () => {
  const sink = await run(config({ cdrCustom: null, cel: null, noticeSound: null, operators: {} }));
  assert.equal(sink.calls.length, 1);
  const c = sink.calls[0]!;
  assert.deepEqual(c.notice, { played: 'unknown', method: null, atUtc: null, evidence: [] });
  assert.deepEqual(c.operator, { extension: '201', name: null, source: 'dstchannel' });
  assert.equal(c.recordings.length, 3);
});

test('fixture: CEL alone tells the notice played (STREAM_BEGIN of the configured sound / REC_NOTICE user event)', async () => {
  const sink = await run(config({ cdrCustom: null }));
  const c = sink.calls[0]!;
  assert.deepEqual(c.notice.played, 'yes');
  assert.deepEqual(c.notice.method, 'cel');
  assert.deepEqual(c.notice.atUtc, '2026-11-23T18:05:00.493Z');
  const cel = await lineOf('cel-custom/Master.csv', (l) => l.startsWith('"REC_NOTICE"'));
  const sb = await lineOf('cel-custom/Master.csv', (l) => l.startsWith('"STREAM_BEGIN"') && l.includes('custom/notice'));
  assert.deepEqual(c.notice.evidence, [{ source: 'cel', ...cel }, { source: 'cel', ...sb }], 'the CEL lines that decided it travel with the call');
});

test('fixture: a second adapter run over the same state seals nothing new', async () => {
  const state = await tempDir('pbx-fixture-rerun-');
  cleanups.push(state.cleanup);
  const clock = new FakeClock(Date.parse('2026-11-23T18:06:00Z'));
  const sink = new MemorySink();
  const a = createPbxAdapter(config(), { stateDir: state.path, sink, clock, log: quietLog });
  await a.tick();
  clock.advance(10);
  await a.tick();
  await a.stop();
  assert.equal(sink.calls.length, 1);
  const b = createPbxAdapter(config(), { stateDir: state.path, sink, clock, log: quietLog });
  for (let i = 0; i < 3; i++) {
    clock.advance(10);
    await b.tick();
  }
  await b.stop();
  assert.equal(sink.calls.length, 1);
});
