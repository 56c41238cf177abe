/** Synthetic Asterisk trees (fake PBX folders built by the tests) through the asterisk-files adapter. */
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, rename, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createPbxAdapter, type PbxConfigInput } from '../src/pbx/index.ts';
import { FakeClock, MemorySink, PbxTree, cdrLine, dayDir, naive, quietLog, sha256File, timestr, wavBytes } from './pbx-helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function setup(over: Partial<PbxConfigInput> = {}, startMs = Date.UTC(2026, 10, 23, 10, 0, 0)) {
  const { tree, cleanup } = await PbxTree.create();
  cleanups.push(cleanup);
  const clock = new FakeClock(startMs);
  const sink = new MemorySink();
  const cfg = {
    id: 'site-pbx',
    adapter: 'asterisk-files',
    timezone: 'Asia/Tokyo',
    monitorDir: tree.monitor,
    cdrCsv: tree.master,
    quietSeconds: 2,
    recordingWaitSeconds: 10,
    cdrWaitSeconds: 20,
    staleRecordingSeconds: 60,
    backfillHours: null,
    operators: { '201': '田中', '202': '佐藤' },
    ...over,
  } as PbxConfigInput;
  const make = () => createPbxAdapter(cfg, { stateDir: tree.state, sink, clock, log: quietLog });
  let pbx = make();
  cleanups.push(() => pbx.stop());
  /** Advance the clock `step` seconds and tick, `n` times. */
  const run = async (n = 1, step = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(step);
      await pbx.tick();
    }
  };
  const restart = async () => {
    await pbx.stop();
    pbx = make();
  };
  return { tree, clock, sink, run, restart, get pbx() { return pbx; } };
}

const E = (ms: number) => Math.floor(ms / 1000);

test('unanswered and busy calls (18 columns, PBX writing UTC, one AMI-assigned uniqueid)', async () => {
  const s = await setup();
  const t1 = Date.UTC(2026, 10, 23, 9, 0, 0);
  const t2 = t1 + 5 * 60e3;
  const uid = `${E(t1)}.40`;
  const dial = { src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000010', start: naive(t1, 0), end: naive(t1 + 20e3, 0), duration: 20, billsec: 0, uniqueid: uid };
  await s.tree.append(cdrLine({ ...dial, dstchannel: 'PJSIP/201-00000011', lastapp: 'Dial', lastdata: 'PJSIP/201,20', disposition: 'NO ANSWER' }, 18));
  await s.tree.append(cdrLine({ ...dial, lastapp: 'Hangup', disposition: 'NO ANSWER' }, 18));
  await s.tree.append(
    cdrLine(
      { src: '09011112222', dst: '0501234567', channel: 'PJSIP/trunk-00000012', dstchannel: 'PJSIP/202-00000013', start: naive(t2, 0), end: naive(t2 + 3e3, 0), duration: 3, billsec: 0, disposition: 'BUSY', uniqueid: 'site042-test-0001b', userfield: 'rec_notice=played;q=none' },
      18,
    ),
  );
  await s.run(5);
  assert.equal(s.sink.calls.length, 0, 'waits recordingWaitSeconds for a recording');
  await s.run(10);
  assert.equal(s.sink.calls.length, 2);
  const [a, b] = [s.sink.byKey(`site-pbx:${uid}`)[0]!, s.sink.byKey('site-pbx:site042-test-0001b')[0]!];
  assert.equal(a.disposition, 'no_answer');
  assert.equal(a.operator, null);
  assert.deepEqual(a.times, {
    startUtc: '2026-11-23T09:00:00Z',
    answerUtc: null,
    endUtc: '2026-11-23T09:00:20Z',
    durationS: 20,
    talkS: 0,
    pickupUtc: null,
    operatorTalkS: null,
    zone: 'UTC',
    zoneSource: 'config_contradicted_by_uniqueid',
    raw: { start: '2026-11-23 09:00:00', answer: null, end: '2026-11-23 09:00:20' },
  });
  assert.equal(a.legs.length, 2);
  assert.deepEqual(a.legs.map((l) => l.lastApp), ['Dial', 'Hangup']);
  assert.deepEqual(a.flags, ['no_recording', 'zone_mismatch']);
  assert.equal(a.direction, 'inbound');
  assert.equal(b.disposition, 'busy');
  assert.equal(b.linkedId, 'site042-test-0001b');
  // No epoch in this uniqueid: the zone learned from the PBX's other calls is used, and flagged.
  assert.equal(b.times.zone, 'UTC');
  assert.equal(b.times.startUtc, '2026-11-23T09:05:00Z');
  assert.deepEqual(b.notice, { played: 'yes', method: 'userfield', atUtc: null, evidence: [{ source: 'cdr_csv', raw: b.legs[0]!.raw, file: s.tree.master, offset: b.legs[0]!.source.offset }] });
  assert.deepEqual(a.operators.map((o) => [o.extension, o.rungUtc, o.answeredUtc]), [['201', '2026-11-23T09:00:00Z', null]], 'who was rung is kept on an unanswered call');
  assert.deepEqual(b.operators.map((o) => [o.extension, o.answeredUtc]), [['202', null]], 'and on a busy one');
  assert.deepEqual(b.caller, { number: '09011112222', name: null, e164: '+819011112222' });
});

test('blind transfer: rows sharing ids, dst already changed → operator from the first answered dstchannel', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 9, 8, 57); // 18:08:57 JST
  const e = E(t);
  const caller = `${e}.23`;
  const common = { src: '0312345678', clid: '"Yamada Taro" <0312345678>', linkedid: caller };
  // Finalisation order: 14, 15, 17, 18. Row 14 already shows dst=202 although it was talking to 201.
  await s.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/trunk-0000000a', dstchannel: 'PJSIP/201-0000000b', lastapp: 'Dial', lastdata: 'PJSIP/201,30', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 12e3, 9), duration: 12, billsec: 12, disposition: 'ANSWERED', uniqueid: caller, sequence: 14 }, 21));
  await s.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/201-0000000b', lastapp: 'AppDial', lastdata: '(Outgoing Line)', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 12e3, 9), duration: 12, billsec: 12, disposition: 'ANSWERED', uniqueid: `${e}.24`, sequence: 15 }, 21));
  await s.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/202-0000000d', lastapp: 'AppDial', lastdata: '(Outgoing Line)', start: naive(t + 12e3, 9), answer: naive(t + 12e3, 9), end: naive(t + 26e3, 9), duration: 14, billsec: 14, disposition: 'ANSWERED', uniqueid: `${e + 12}.26`, sequence: 17 }, 21));
  await s.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/trunk-0000000a', dstchannel: 'PJSIP/202-0000000d', lastapp: 'Dial', lastdata: 'PJSIP/202,30', start: naive(t + 12e3, 9), answer: naive(t + 12e3, 9), end: naive(t + 26e3, 9), duration: 14, billsec: 14, disposition: 'ANSWERED', uniqueid: caller, sequence: 18 }, 21));
  const base = `in-0501234567-0312345678-${timestr(t + 1e3, 9)}-${caller}`;
  const day = dayDir(t, 9);
  for (const [sfx, seed] of [['', 1], ['-rx', 2], ['-tx', 3]] as const) await s.tree.recording(day, `${base}${sfx}.wav`, wavBytes(26, { seed }));
  await s.run(4);
  assert.equal(s.sink.calls.length, 1);
  const c = s.sink.calls[0]!;
  assert.equal(c.callKey, `site-pbx:${caller}`);
  assert.deepEqual(c.operator, { extension: '201', name: '田中', source: 'dstchannel' });
  assert.deepEqual(c.called, { number: '0501234567', e164: '+81501234567' }, 'the DID from the recording name, not the changed dst');
  assert.deepEqual(c.legs.map((l) => l.sequence), [14, 15, 17, 18]);
  assert.equal(c.times.startUtc, '2026-11-23T09:08:57Z');
  assert.equal(c.times.endUtc, '2026-11-23T09:09:23Z');
  assert.equal(c.times.durationS, 26);
  assert.equal(c.times.talkS, 26);
  assert.equal(c.times.zone, 'Asia/Tokyo');
  assert.equal(c.times.zoneSource, 'uniqueid');
  assert.deepEqual(c.flags, []);
  assert.deepEqual(c.recordings.map((r) => [r.name, r.role]), [[`${base}-rx.wav`, 'caller'], [`${base}-tx.wav`, 'operator'], [`${base}.wav`, 'mixed']]);
  for (const r of c.recordings) assert.equal(r.sha256, await sha256File(c.files[r.name]!));
});

test('16, 18 and 21-column rows mixed in one file', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 1, 0, 0); // 10:00 JST
  const calls = [
    { cols: 21 as const, at: t, src: '0311110001' },
    { cols: 18 as const, at: t + 60e3, src: '0311110002' },
    { cols: 16 as const, at: t + 120e3, src: '0311110003' },
  ];
  for (const [i, c] of calls.entries()) {
    const uid = `${E(c.at)}.${i}`;
    await s.tree.append(cdrLine({ src: c.src, dst: '0501234567', channel: `PJSIP/trunk-0000002${i}`, dstchannel: 'PJSIP/201-00000030', start: naive(c.at, 9), answer: naive(c.at + 2e3, 9), end: naive(c.at + 10e3, 9), duration: 10, billsec: 8, disposition: 'ANSWERED', uniqueid: uid, sequence: i }, c.cols));
    await s.tree.recording(dayDir(c.at, 9), `in-0501234567-${c.src}-${timestr(c.at + 1e3, 9)}-${uid}.wav`, wavBytes(9, { seed: i }));
  }
  await s.run(4);
  assert.equal(s.sink.calls.length, 3);
  const by = (src: string) => s.sink.calls.find((c) => c.caller.number === src)!;
  const c21 = by('0311110001');
  const c18 = by('0311110002');
  const c16 = by('0311110003');
  assert.equal(c21.linkedId, `${E(t)}.0`);
  assert.equal(c18.linkedId, `${E(t + 60e3)}.1`, '18 columns: grouped by uniqueid');
  assert.equal(c16.linkedId, `nolinkedid-0311110003-${timestr(t + 120e3, 9).replace('-', '')}`, '16 columns: caller + time');
  for (const c of [c21, c18, c16]) {
    assert.equal(c.recordings.length, 1);
    assert.equal(c.times.durationS, 10);
    assert.equal(c.times.zone, 'Asia/Tokyo');
    assert.equal(c.times.zoneSource, 'uniqueid');
  }
  assert.deepEqual(c21.flags, []);
  assert.deepEqual(c18.flags, []);
  assert.deepEqual(c16.flags, ['weak_match', 'grouped_by_time'], 'no ids in a 16-column row: grouped by caller and time, the recording matched by time and numbers');
  assert.deepEqual([c21.legs[0]!.sequence, c18.legs[0]!.sequence, c16.legs[0]!.uniqueId], [0, null, null]);
});

test('a row cut off mid-line is read only once it is complete', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 2, 0, 0);
  const uid = `${E(t)}.7`;
  const line = cdrLine({ src: '0312345678', dst: '0501234567', clid: '"山田 太郎" <0312345678>', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/201-00000002', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 30e3, 9), duration: 30, billsec: 30, disposition: 'ANSWERED', uniqueid: uid }, 21);
  const bytes = Buffer.from(line);
  await s.tree.append(bytes.subarray(0, 120));
  await s.run(30);
  assert.equal(s.sink.calls.length, 0);
  await s.tree.append(bytes.subarray(120));
  await s.run(15);
  assert.equal(s.sink.calls.length, 1);
  const c = s.sink.calls[0]!;
  assert.equal(c.legs[0]!.raw, line.slice(0, -1));
  assert.equal(c.legs[0]!.source.offset, 0);
  assert.equal(c.caller.name, '山田 太郎');
  assert.deepEqual(c.flags, ['no_recording']);
});

test('Master.csv rotated while being read, while the agent was stopped, and truncated in place', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 3, 0, 0);
  const row = (i: number) => cdrLine({ src: `031234000${i}`, dst: '0501234567', channel: `PJSIP/trunk-0000000${i}`, start: naive(t + i * 60e3, 9), end: naive(t + i * 60e3 + 5e3, 9), duration: 5, billsec: 0, disposition: 'NO ANSWER', uniqueid: `${E(t + i * 60e3)}.${i}` }, 21);
  await s.tree.append(row(1));
  await s.run(1);
  // B is written, then the file is rotated and C goes to the new file, all between two polls.
  await s.tree.append(row(2));
  await rename(s.tree.master, `${s.tree.master}.1`);
  await s.tree.append(row(3));
  await s.run(1);
  // Rotation while the agent is stopped: the old file is found by inode and drained first.
  await s.restart();
  await s.tree.append(row(4));
  await rename(s.tree.master, `${s.tree.master}.2`);
  await s.tree.append(row(5));
  await s.run(1);
  // copytruncate: same inode, size < offset → from 0.
  await truncate(s.tree.master, 0);
  await s.tree.append(row(6));
  await s.run(15);
  const got = s.sink.calls.map((c) => c.caller.number).sort();
  assert.deepEqual(got, ['0312340001', '0312340002', '0312340003', '0312340004', '0312340005', '0312340006']);
  assert.equal(new Set(s.sink.calls.map((c) => c.callKey)).size, 6);
  assert.ok(s.sink.calls.every((c) => c.version === 1));
  assert.deepEqual(s.sink.calls.find((c) => c.caller.number === '0312340004')!.legs[0]!.source.file, `${s.tree.master}.2`);
  assert.ok(quietLog.lines.some((l) => l.msg === 'log rotated; drained the old file'));
  assert.ok(quietLog.lines.some((l) => l.msg === 'drained rotated file' && l.fields?.file === `${s.tree.master}.2`));
  assert.ok(quietLog.lines.some((l) => l.msg.includes('truncated in place')));
});

test('a recording still being written is sealed only once its WAV header is final', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 4, 0, 0);
  const uid = `${E(t)}.9`;
  const name = `in-0501234567-0312345678-${timestr(t, 9)}-${uid}.wav`;
  const final = wavBytes(5, { seed: 4 });
  const live = Buffer.from(final);
  live.writeUInt32LE(0, 4); // MixMonitor writes the sizes at close only
  live.writeUInt32LE(0, 40);
  const p = await s.tree.recording(dayDir(t, 9), name, live.subarray(0, 44 + 16000));
  await s.run(3);
  await appendFile(p, live.subarray(44 + 16000, 44 + 48000));
  await s.run(3);
  await appendFile(p, live.subarray(44 + 48000));
  await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/201-00000002', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 5e3, 9), duration: 5, billsec: 5, disposition: 'ANSWERED', uniqueid: uid }, 21));
  await s.run(10);
  assert.equal(s.sink.calls.length, 0, 'size stable, header not final: still open');
  await writeFile(p, final); // close: header updated in place
  await s.run(1);
  assert.equal(s.sink.calls.length, 0, 'quiet period after the last change');
  await s.run(3);
  assert.equal(s.sink.calls.length, 1);
  const r = s.sink.calls[0]!.recordings[0]!;
  assert.equal(r.sha256, await sha256File(p));
  assert.equal(r.size, final.length);
  assert.equal(r.durationS, 5);
});

test('a WAV whose header never becomes final (PBX died) is taken after staleRecordingSeconds', async () => {
  const s = await setup({ staleRecordingSeconds: 30 });
  const t = Date.UTC(2026, 10, 23, 4, 30, 0);
  const uid = `${E(t)}.11`;
  const live = wavBytes(3, { final: false });
  await s.tree.recording(dayDir(t, 9), `in-0501234567-0312345678-${timestr(t, 9)}-${uid}.wav`, live);
  await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/201-00000002', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 3e3, 9), duration: 3, billsec: 3, disposition: 'ANSWERED', uniqueid: uid }, 21));
  await s.run(20, 1);
  assert.equal(s.sink.calls.length, 0);
  await s.run(15, 1);
  assert.equal(s.sink.calls.length, 1);
  assert.equal(s.sink.calls[0]!.recordings[0]!.durationS, 3, 'length from the bytes after the header');
});

test('a recording with no CDR and a CDR with no recording: both sealed after their timeouts, flagged', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 5, 0, 0);
  const uid = `${E(t)}.21`;
  const name = `out-0667778888-201-${timestr(t + 2e3, 9)}-${uid}.wav`;
  await s.tree.recording(dayDir(t, 9), name, wavBytes(4));
  const uid2 = `${E(t + 600e3)}.22`;
  await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/202-00000002', start: naive(t + 600e3, 9), answer: naive(t + 600e3, 9), end: naive(t + 640e3, 9), duration: 40, billsec: 40, disposition: 'ANSWERED', uniqueid: uid2 }, 21));
  await s.run(8);
  assert.equal(s.sink.calls.length, 0);
  await s.run(4);
  assert.equal(s.sink.calls.length, 1);
  const noRec = s.sink.calls[0]!;
  assert.equal(noRec.linkedId, uid2);
  assert.deepEqual(noRec.flags, ['no_recording']);
  assert.deepEqual(noRec.operator, { extension: '202', name: '佐藤', source: 'dstchannel' });
  await s.run(12);
  assert.equal(s.sink.calls.length, 2);
  const noCdr = s.sink.calls[1]!;
  assert.equal(noCdr.callKey, `site-pbx:${uid}`);
  assert.deepEqual(noCdr.flags, ['no_cdr']);
  assert.equal(noCdr.direction, 'outbound');
  assert.deepEqual(noCdr.caller, { number: '201', name: null, e164: null });
  assert.deepEqual(noCdr.called, { number: '0667778888', e164: '+81667778888' });
  assert.equal(noCdr.times.startUtc, '2026-11-23T05:00:02Z', 'file-name time read in the zone the uniqueid confirmed');
  assert.equal(noCdr.times.zoneSource, 'uniqueid');
  assert.equal(noCdr.recordings[0]!.role, 'mixed');
  assert.equal(noCdr.legs.length, 0);
  // Its CDR turns up after all (batch mode, an agent restart…): the same call, version 2, with the row.
  await s.tree.append(cdrLine({ src: '201', dst: '0667778888', dcontext: 'from-internal', channel: 'PJSIP/201-00000005', dstchannel: 'PJSIP/trunk-00000006', start: naive(t, 9), answer: naive(t + 2e3, 9), end: naive(t + 6e3, 9), duration: 6, billsec: 4, disposition: 'ANSWERED', uniqueid: uid }, 21));
  await s.run(4);
  assert.equal(s.sink.calls.length, 3);
  const late = s.sink.calls[2]!;
  assert.deepEqual([late.callKey, late.version, late.flags, late.legs.length, late.direction], [noCdr.callKey, 2, [], 1, 'outbound']);
  assert.deepEqual(late.operator, { extension: '201', name: '田中', source: 'cdr' });
  assert.deepEqual(late.recordings, noCdr.recordings);
});

test('Shift_JIS caller names (and 非通知) decoded; UTF-8 rows in the same file too', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 6, 0, 0);
  const sjis = (parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
  const YAMADA = [0x8e, 0x52, 0x93, 0x63, 0x91, 0xbe, 0x98, 0x59];
  const HITSUCHI = [0x94, 0xf1, 0x92, 0xca, 0x92, 0x6d];
  const tail = (at: number, uid: string) => `,"PJSIP/trunk-00000001","PJSIP/201-00000002","Dial","","${naive(at, 9)}","${naive(at, 9)}","${naive(at + 10e3, 9)}",10,10,"ANSWERED","DOCUMENTATION","${uid}","","","${uid}",0\n`;
  const u1 = `${E(t)}.1`;
  const u2 = `${E(t + 60e3)}.2`;
  await s.tree.append(sjis(['"","0312345678","0501234567","from-trunk","""', YAMADA, '"" <0312345678>"', tail(t, u1)]));
  await s.tree.append(sjis(['"","', HITSUCHI, '","0501234567","from-trunk","""', HITSUCHI, '"" <', HITSUCHI, '>"', tail(t + 60e3, u2)]));
  await s.tree.append(cdrLine({ src: '08012345678', dst: '0501234567', clid: '"鈴木 花子" <08012345678>', channel: 'PJSIP/trunk-00000003', start: naive(t + 120e3, 9), end: naive(t + 130e3, 9), duration: 10, billsec: 0, disposition: 'NO ANSWER', uniqueid: `${E(t + 120e3)}.3` }, 21));
  await s.run(15);
  assert.equal(s.sink.calls.length, 3);
  const a = s.sink.byKey(`site-pbx:${u1}`)[0]!;
  const b = s.sink.byKey(`site-pbx:${u2}`)[0]!;
  const c = s.sink.calls.find((x) => x.caller.number === '08012345678')!;
  assert.deepEqual(a.caller, { number: '0312345678', name: '山田太郎', e164: '+81312345678' });
  assert.ok(a.legs[0]!.raw.includes('山田太郎'));
  assert.deepEqual(b.caller, { number: '非通知', name: '非通知', e164: null });
  assert.deepEqual(c.caller, { number: '08012345678', name: '鈴木 花子', e164: '+818012345678' });
});

test('a PBX writing JST and one writing UTC, both configured Asia/Tokyo, give the same instant', async () => {
  const t = Date.UTC(2026, 10, 23, 7, 15, 30);
  const uid = `${E(t)}.5`;
  const results = [];
  for (const offset of [9, 0]) {
    const s = await setup();
    await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/201-00000002', start: naive(t, offset), answer: naive(t + 4e3, offset), end: naive(t + 64e3, offset), duration: 64, billsec: 60, disposition: 'ANSWERED', uniqueid: uid }, 21));
    await s.run(15);
    results.push(s.sink.calls[0]!.times);
  }
  const [jst, utc] = results;
  for (const x of [jst!, utc!]) {
    assert.equal(x.startUtc, '2026-11-23T07:15:30Z');
    assert.equal(x.answerUtc, '2026-11-23T07:15:34Z');
    assert.equal(x.endUtc, '2026-11-23T07:16:34Z');
    assert.equal(x.talkS, 60);
  }
  assert.deepEqual([jst!.zone, jst!.zoneSource, jst!.raw.start], ['Asia/Tokyo', 'uniqueid', '2026-11-23 16:15:30']);
  assert.deepEqual([utc!.zone, utc!.zoneSource, utc!.raw.start], ['UTC', 'config_contradicted_by_uniqueid', '2026-11-23 07:15:30']);
});

test('late changes to a sealed call become new versions: a late row (v2), an appended recording (v3)', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 8, 0, 0);
  const uid = `${E(t)}.31`;
  const row = { src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', dstchannel: 'PJSIP/201-00000002', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 8e3, 9), duration: 8, billsec: 8, disposition: 'ANSWERED', uniqueid: uid };
  const p = await s.tree.recording(dayDir(t, 9), `in-0501234567-0312345678-${timestr(t, 9)}-${uid}.wav`, wavBytes(8));
  await s.tree.append(cdrLine({ ...row, sequence: 40 }, 21));
  await s.run(4);
  assert.equal(s.sink.calls.length, 1);
  const v1 = structuredClone(s.sink.calls[0]!);
  // A late row of the same call (e.g. the post-call survey leg).
  await s.tree.append(cdrLine({ ...row, channel: 'PJSIP/201-00000002', dstchannel: '', lastapp: 'Playback', start: naive(t + 8e3, 9), answer: naive(t + 8e3, 9), end: naive(t + 20e3, 9), duration: 12, billsec: 12, uniqueid: `${E(t)}.32`, linkedid: uid, sequence: 43 }, 21));
  await s.run(4);
  assert.equal(s.sink.calls.length, 2);
  const v2 = s.sink.calls[1]!;
  assert.equal(v2.callKey, v1.callKey);
  assert.equal(v2.version, 2);
  assert.equal(v2.legs.length, 2);
  assert.equal(v2.times.endUtc, '2026-11-23T08:00:20Z');
  assert.deepEqual(v2.recordings, v1.recordings);
  // One-touch recording re-opened the file with the append flag: it grew and got a new final header.
  await writeFile(p, wavBytes(12));
  await s.run(4);
  assert.equal(s.sink.calls.length, 3);
  const v3 = s.sink.calls[2]!;
  assert.equal(v3.version, 3);
  assert.equal(v3.recordings[0]!.durationS, 12);
  assert.equal(v3.recordings[0]!.sha256, await sha256File(p));
  assert.notEqual(v3.recordings[0]!.sha256, v1.recordings[0]!.sha256);
  assert.deepEqual(s.sink.calls[0], v1, 'version 1 was never touched');
  await s.run(10);
  assert.equal(s.sink.calls.length, 3, 'nothing more without a change');
});

test('unreadable lines are kept aside, not lost, and do not stop the tail', async () => {
  const s = await setup();
  const t = Date.UTC(2026, 10, 23, 8, 30, 0);
  await s.tree.append('this is not a CDR line\n');
  await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000001', start: naive(t, 9), end: naive(t + 3e3, 9), duration: 3, billsec: 0, disposition: 'NO ANSWER', uniqueid: `${E(t)}.1` }, 21));
  await s.run(15);
  assert.equal(s.sink.calls.length, 1);
  const kept = (await readFile(`${s.tree.state}/pbx/site-pbx/unparsed.jsonl`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(kept.length, 1);
  assert.equal(Buffer.from(kept[0].rawBase64, 'base64').toString(), 'this is not a CDR line');
});

test('first start: history older than backfillHours is skipped; rows written later are always taken', async () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  const { tree, cleanup } = await PbxTree.create();
  cleanups.push(cleanup);
  const row = (at: number, i: number) => cdrLine({ src: `0311112222`, dst: '0501234567', channel: `PJSIP/trunk-${i}`, start: naive(at, 9), end: naive(at + 5e3, 9), duration: 5, billsec: 0, disposition: 'NO ANSWER', uniqueid: `${E(at)}.${i}` }, 21);
  const old = now - 3 * 86400e3;
  const recent = now - 3600e3;
  await tree.append(row(old, 1));
  await tree.append(row(recent, 2));
  const oldRec = await tree.recording(dayDir(old, 9), `in-0501234567-0399999999-${timestr(old, 9)}-${E(old)}.77.wav`, wavBytes(1));
  await utimes(oldRec, new Date(old), new Date(old));
  const clock = new FakeClock(now);
  const sink = new MemorySink();
  const pbx = createPbxAdapter(
    { id: 'site-pbx', adapter: 'asterisk-files', monitorDir: tree.monitor, cdrCsv: tree.master, quietSeconds: 2, recordingWaitSeconds: 10, cdrWaitSeconds: 20, backfillHours: 24 },
    { stateDir: tree.state, sink, clock, log: quietLog },
  );
  cleanups.push(() => pbx.stop());
  await pbx.tick();
  // The PBX clock is two days behind: a row it writes now still counts (it is not history).
  await tree.append(row(now - 2 * 86400e3, 3));
  for (let i = 0; i < 30; i++) {
    clock.advance(1);
    await pbx.tick();
  }
  assert.deepEqual(sink.calls.map((c) => c.linkedId).sort(), [`${E(now - 2 * 86400e3)}.3`, `${E(recent)}.2`]);
});

test('a recording that lands in an old day folder (late copy, PBX clock off) is seen on the next poll, not at the next full scan', async () => {
  const now = Date.UTC(2026, 10, 23, 10, 0, 0);
  const s = await setup({ fullScanSeconds: 3600 }, now);
  // Three days ago: outside the folders a normal scan lists, inside the scan window.
  const t = now - 3 * 86400e3;
  const day = dayDir(t, 9);
  await mkdir(join(s.tree.monitor, day), { recursive: true });
  await s.run(3); // the first tick is a full scan; the next ones are normal scans
  const before = s.sink.calls.length;
  const uid = `${E(t)}.31`;
  await s.tree.append(cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/trunk-00000031', dstchannel: 'PJSIP/201-00000032', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 4e3, 9), duration: 4, billsec: 4, disposition: 'ANSWERED', uniqueid: uid }, 21));
  await s.tree.recording(day, `in-0312345678-0501234567-${timestr(t, 9)}-${uid}.wav`, wavBytes(4));
  // Well inside recordingWaitSeconds (10 s) and far from the next full scan (an hour away).
  await s.run(6);
  const got = s.sink.byKey(`site-pbx:${uid}`);
  assert.equal(got.length, 1, 'sealed once');
  assert.deepEqual(got[0]!.flags, [], 'with its recording, not flagged no_recording');
  assert.equal(got[0]!.recordings.length, 1);
  assert.ok(s.sink.calls.length > before);
});
