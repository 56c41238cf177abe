/** The PBX building blocks one by one: CSV, CDR layouts, text decoding, time zones, numbers, WAV, names, ledger. */
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Journal } from '../src/pbx/atomic.ts';
import { noticeFromUserfield, parseCdrCsvLine, parseCelLine, parseClid } from '../src/pbx/cdr.ts';
import { endpointOf } from '../src/pbx/correlate.ts';
import { parseCsvDocument, parseCsvLine } from '../src/pbx/csv.ts';
import { pbxConfigSchema } from '../src/pbx/index.ts';
import { SealLedger, contentHash } from '../src/pbx/ledger.ts';
import { toE164 } from '../src/pbx/numbers.ts';
import type { CallPayload, SealedCall } from '../src/pbx/payload.ts';
import { parseRecordingName } from '../src/pbx/recording-name.ts';
import { decodeBytes } from '../src/pbx/text.ts';
import { decideZone, isoUtc, parseNaive, parseWithOffset, uniqueidEpoch, zonedToUtcMs } from '../src/pbx/time.ts';
import { inspectWav } from '../src/pbx/wav.ts';
import { FIXTURE, FakeClock, quietLog, tempDir, wavBytes } from './pbx-helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
const loc = { file: 'Master.csv', offset: 0, encoding: 'utf-8' as const, seenAt: 0 };

describe('csv', () => {
  test('quoted fields with "" escapes, unquoted ints and empty unquoted answer', () => {
    const p = parseCsvLine('"","0312345678","""Yamada Taro"" <0312345678>","a,b",,26,"x"');
    assert.deepEqual(p.fields, ['', '0312345678', '"Yamada Taro" <0312345678>', 'a,b', '', '26', 'x']);
    assert.deepEqual(p.quoted, [true, true, true, true, false, false, true]);
    assert.equal(p.wellFormed, true);
  });
  test('an unterminated quote is reported', () => {
    assert.equal(parseCsvLine('"a","b').wellFormed, false);
  });
  test('a document with CRLF, BOM and a quoted newline', () => {
    const recs = parseCsvDocument('\ufeffa,b\r\n"x\ny",2\r\n');
    assert.deepEqual(recs.map((r) => r.fields), [['a', 'b'], ['x\ny', '2']]);
  });
});

describe('cdr_csv rows', () => {
  const fixtureLines = async () => (await readFile(join(FIXTURE, 'cdr-csv', 'Master.csv'), 'utf8')).split('\n').filter(Boolean);
  test('the real 21-column rows', async () => {
    const [first] = await fixtureLines();
    const { rows } = parseCdrCsvLine(first!, loc);
    assert.equal(rows.length, 1);
    const r = rows[0]!;
    assert.equal(r.layout, 'uniqueid+userfield+newcolumns');
    assert.deepEqual([r.uniqueid, r.linkedid, r.sequence, r.clid, r.answer, r.duration], ['1795457100.1', '1795457100.0', 1, '"Yamada Taro" <0312345678>', '2026-11-23 18:05:00', 26]);
    assert.equal(r.key, 'u:1795457100.1#1');
  });
  test('16, 17, 18, 19 columns detected per row', () => {
    const base = '"","0312345678","201","from-internal","""A"" <0312345678>","PJSIP/a-1","","Dial","","2026-11-23 09:00:00",,"2026-11-23 09:00:05",5,0,"NO ANSWER","DOCUMENTATION"';
    const l16 = parseCdrCsvLine(base, loc).rows[0]!;
    assert.deepEqual([l16.layout, l16.uniqueid, l16.answer], ['base', null, '']);
    assert.ok(l16.key.startsWith('h:'));
    assert.equal(parseCdrCsvLine(`${base},"1795424400.3"`, loc).rows[0]!.uniqueid, '1795424400.3');
    assert.equal(parseCdrCsvLine(`${base},"rec_notice=played"`, loc).rows[0]!.userfield, 'rec_notice=played');
    const r18 = parseCdrCsvLine(`${base},"site042-test-0001b","x\\;y"`, loc).rows[0]!;
    assert.deepEqual([r18.layout, r18.uniqueid, r18.userfield, r18.sequence], ['uniqueid+userfield', 'site042-test-0001b', 'x\\;y', null]);
    const r19 = parseCdrCsvLine(`${base},"","1795424400.3",7`, loc).rows[0]!;
    assert.deepEqual([r19.layout, r19.linkedid, r19.sequence], ['newcolumns', '1795424400.3', 7]);
  });
  test('a row cut off by a crash with the next row appended to it: both kept, the fragment flagged', async () => {
    const [a, b] = await fixtureLines();
    const broken = `${a!.slice(0, 150)}${b}`;
    const { rows, unparsed } = parseCdrCsvLine(broken, loc);
    assert.equal(unparsed, null);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.truncated, true);
    assert.equal(rows[0]!.src, '0312345678');
    assert.equal(rows[1]!.raw, b);
    assert.equal(rows[1]!.offset, 150);
    assert.equal(rows[1]!.key, 'u:1795457105.3#3');
  });
  test('garbage is returned as unparsed', () => {
    assert.deepEqual(parseCdrCsvLine('hello world', loc), { rows: [], unparsed: 'hello world' });
  });
  test('CEL rows and clid / userfield helpers', async () => {
    const lines = (await readFile(join(FIXTURE, 'cel-custom', 'Master.csv'), 'utf8')).split('\n').filter(Boolean);
    const c = parseCelLine(lines[4]!, { file: 'cel', offset: 0, seenAt: 0 })!;
    assert.deepEqual([c.eventtype, c.eventtimeS, c.linkedid, c.appdata], ['STREAM_BEGIN', 1795457100.493339, '1795457100.0', 'custom/notice']);
    assert.deepEqual(parseClid('"Yamada ""T"" Taro" <0312345678>'), { name: 'Yamada "T" Taro', number: '0312345678' });
    assert.deepEqual(parseClid('<0312345678>'), { name: null, number: '0312345678' });
    assert.equal(noticeFromUserfield('queue=1;rec_notice=played', 'rec_notice'), 'yes');
    assert.equal(noticeFromUserfield('rec_notice=skipped', 'rec_notice'), 'no');
    assert.equal(noticeFromUserfield('', 'rec_notice'), null);
  });
  test('endpoints from channel names', () => {
    assert.equal(endpointOf('PJSIP/201-00000001'), '201');
    assert.equal(endpointOf('SIP/my-trunk-0000000a'), 'my-trunk');
    assert.equal(endpointOf('Local/201@operator-phone-00000001;1'), '201');
    assert.equal(endpointOf(''), null);
  });
});

describe('text decoding', () => {
  test('UTF-8, then Shift_JIS/CP932 (NEC specials too), then lossy UTF-8; BOM dropped', () => {
    assert.deepEqual(decodeBytes(Buffer.from('山田', 'utf8')), { text: '山田', encoding: 'utf-8' });
    assert.deepEqual(decodeBytes(Buffer.from([0x8e, 0x52, 0x93, 0x63, 0x87, 0x40])), { text: '山田①', encoding: 'shift_jis' });
    assert.deepEqual(decodeBytes(Buffer.from([0xef, 0xbb, 0xbf, 0x41])), { text: 'A', encoding: 'utf-8' });
    assert.equal(decodeBytes(Buffer.from([0xff, 0xfe, 0x41])).encoding, 'utf-8-lossy');
    assert.equal(decodeBytes(Buffer.from([0x8e, 0x52]), 'cp932').text, '山');
  });
});

describe('time', () => {
  test('naive strings read in IANA zones (including a DST zone)', () => {
    const t = parseNaive('2026-11-23 18:05:00')!;
    assert.equal(isoUtc(zonedToUtcMs(t, 'Asia/Tokyo')), '2026-11-23T09:05:00Z');
    assert.equal(isoUtc(zonedToUtcMs(t, 'UTC')), '2026-11-23T18:05:00Z');
    assert.equal(isoUtc(zonedToUtcMs(parseNaive('2026-07-01 12:00:00')!, 'America/New_York')), '2026-07-01T16:00:00Z');
    assert.equal(isoUtc(zonedToUtcMs(parseNaive('2026/1/5 9:03')!, 'America/New_York')), '2026-01-05T14:03:00Z');
    assert.equal(parseNaive('2026-13-01 00:00:00'), null);
  });
  test('ISO with offset', () => {
    assert.equal(parseWithOffset('2026-11-23T18:05:00+0000'), Date.UTC(2026, 10, 23, 18, 5));
    assert.equal(parseWithOffset('2026-11-23T18:05:00.5+09:00'), Date.UTC(2026, 10, 23, 9, 5, 0, 500));
    assert.equal(parseWithOffset('2026-11-23T18:05:00'), null);
  });
  test('uniqueid epochs', () => {
    assert.equal(uniqueidEpoch('1795457100.0'), 1795457100);
    assert.equal(uniqueidEpoch('pbx1-1795457100.12'), 1795457100);
    assert.equal(uniqueidEpoch('site042-test-0001b'), null);
    assert.equal(uniqueidEpoch(null), null);
  });
  test('zone decisions', () => {
    const ev = (naive: string, epochS: number) => ({ naive: parseNaive(naive)!, epochS, toleranceS: 60 });
    assert.deepEqual(decideZone('Asia/Tokyo', [ev('2026-11-23 18:05:00', 1795457100)]), { zone: 'UTC', source: 'config_contradicted_by_uniqueid', mismatch: true, offsetS: 0 });
    assert.deepEqual(decideZone('Asia/Tokyo', [ev('2026-11-24 03:05:01', 1795457100)]), { zone: 'Asia/Tokyo', source: 'uniqueid', mismatch: false, offsetS: 32400 });
    assert.deepEqual(decideZone('Asia/Tokyo', [ev('2026-11-23 13:05:00', 1795457100)]), { zone: 'Etc/GMT+5', source: 'config_contradicted_by_uniqueid', mismatch: true, offsetS: -18000 });
    assert.equal(decideZone('Asia/Tokyo', [ev('2026-11-23 13:05:00', 1795457100)], { candidates: ['America/New_York'] }).zone, 'America/New_York');
    assert.deepEqual(decideZone('Asia/Tokyo', []), { zone: 'Asia/Tokyo', source: 'config', mismatch: false, offsetS: null });
    // An epoch that fits no 15-minute offset is not evidence.
    assert.equal(decideZone('Asia/Tokyo', [ev('2026-11-23 18:12:30', 1795457100)]).source, 'config');
  });
});

describe('numbers', () => {
  test('E.164 copies; the original is never altered', () => {
    assert.equal(toE164('0312345678'), '+81312345678');
    assert.equal(toE164('09011112222'), '+819011112222');
    assert.equal(toE164('0120-123-456'), '+81120123456');
    assert.equal(toE164('+81312345678'), '+81312345678');
    assert.equal(toE164('010441234567890'), '+441234567890');
    assert.equal(toE164('1840312345678'), '+81312345678');
    for (const n of ['201', 'anonymous', '非通知', '<unknown>', '', 'unknown', '031234']) assert.equal(toE164(n), null, n);
  });
});

describe('recordings', () => {
  test('FreePBX names, side files, case, systemname uniqueids, other names', () => {
    assert.deepEqual(parseRecordingName('in-0501234567-0312345678-20261123-180500-1795457100.0-rx.wav'), {
      base: 'in-0501234567-0312345678-20261123-180500-1795457100.0', ext: 'wav', side: 'rx', type: 'in', dst: '0501234567', src: '0312345678', timestr: '20261123-180500', uid: '1795457100.0',
    });
    const gsm = parseRecordingName('out-+81312345678-201-20261123-180500-pbx1-1795457100.12.WAV')!;
    assert.deepEqual([gsm.type, gsm.dst, gsm.uid, gsm.side, gsm.ext], ['out', '+81312345678', 'pbx1-1795457100.12', null, 'WAV']);
    const plain = parseRecordingName('1795457100.5-out.wav')!;
    assert.deepEqual([plain.uid, plain.side, plain.type], ['1795457100.5', 'out', null]);
    assert.equal(parseRecordingName('notes.txt'), null);
  });
  test('WAV header: final, live (sizes 0) and truncated', async () => {
    const d = await tempDir();
    cleanups.push(d.cleanup);
    const p = join(d.path, 'a.wav');
    await writeFile(p, wavBytes(2));
    assert.deepEqual(await inspectWav(p), { final: true, audioFormat: 1, channels: 1, sampleRate: 8000, byteRate: 16000, bitsPerSample: 16, dataOffset: 44, dataBytes: 32000, durationS: 2 });
    await writeFile(p, wavBytes(2, { final: false }));
    assert.equal((await inspectWav(p))!.final, false);
    assert.equal((await inspectWav(p))!.durationS, 2);
    await writeFile(p, wavBytes(2).subarray(0, 20044));
    const cut = (await inspectWav(p))!;
    assert.deepEqual([cut.final, cut.durationS], [false, 1.25]);
    await writeFile(p, 'RIFF');
    assert.equal(await inspectWav(p), null);
    const fx = (await inspectWav(join(FIXTURE, 'monitor/2026/11/23/in-0501234567-0312345678-20261123-180500-1795457100.0.wav')))!;
    assert.deepEqual([fx.final, fx.sampleRate, fx.channels, fx.durationS], [true, 8000, 1, 26.48]);
  });
});

describe('journal and ledger', () => {
  const payload = (n: number): CallPayload =>
    ({ pbxId: 'p', linkedId: `l${n}`, adapter: 'asterisk-files', direction: 'inbound', disposition: 'answered', caller: { number: String(n), name: null, e164: null }, called: { number: null, e164: null }, operator: null, times: { startUtc: 'x', answerUtc: null, endUtc: 'y', durationS: n, talkS: null, zone: 'UTC', zoneSource: 'config', raw: { start: null, answer: null, end: null } }, notice: { played: 'unknown', method: null, atUtc: null }, legs: [], recordings: [], flags: [] }) as unknown as CallPayload;

  test('a torn last line is cut off on open', async () => {
    const d = await tempDir();
    cleanups.push(d.cleanup);
    const p = join(d.path, 'j.jsonl');
    await writeFile(p, '{"a":1}\n{"b":');
    const { journal, records } = await Journal.open(p);
    assert.deepEqual(records, [{ a: 1 }]);
    await journal.append({ c: 3 });
    await journal.close();
    assert.equal(await readFile(p, 'utf8'), '{"a":1}\n{"c":3}\n');
  });

  test('same content → same version, no delivery; new content → version + 1', async () => {
    const d = await tempDir();
    cleanups.push(d.cleanup);
    const got: SealedCall[] = [];
    const l = await SealLedger.open<null>(d.path, { callSealed: async (c) => void got.push(c) }, quietLog, new FakeClock(0), { retentionMs: 1e12 });
    assert.deepEqual(await l.deliver('p:1', payload(1), {}, null), { version: 1, delivered: true });
    assert.deepEqual(await l.deliver('p:1', payload(1), {}, null), { version: 1, delivered: false });
    assert.deepEqual(await l.deliver('p:1', payload(2), {}, null), { version: 2, delivered: true });
    assert.deepEqual(got.map((c) => [c.callKey, c.version, c.times.durationS]), [['p:1', 1, 1], ['p:1', 2, 2]]);
    await l.close();
  });

  test('a crash between the sink and the journal: the same version and content are delivered again on open', async () => {
    const d = await tempDir();
    cleanups.push(d.cleanup);
    const got: SealedCall[] = [];
    let crash = true;
    const sink = {
      async callSealed(c: SealedCall) {
        got.push(structuredClone(c));
        if (crash) throw new Error('killed right after the outbox made it durable');
      },
    };
    const l1 = await SealLedger.open<null>(d.path, sink, quietLog, new FakeClock(0), { retentionMs: 1e12 });
    await assert.rejects(l1.deliver('p:1', payload(1), { 'a.wav': '/x/a.wav' }, null));
    await l1.close();
    crash = false;
    const l2 = await SealLedger.open<null>(d.path, sink, quietLog, new FakeClock(0), { retentionMs: 1e12 });
    await l2.redeliverPending();
    assert.equal(got.length, 2);
    assert.deepEqual(got[1], got[0]);
    assert.equal(contentHash(payload(1)), l2.get('p:1')!.hash);
    // Content that changed meanwhile becomes version 2, never a second version 1.
    assert.deepEqual(await l2.deliver('p:1', payload(9), {}, null), { version: 2, delivered: true });
    await l2.close();
  });

  test('a torn intent (crash while writing it) was never delivered and is forgotten', async () => {
    const d = await tempDir();
    cleanups.push(d.cleanup);
    await writeFile(join(d.path, 'sealed.jsonl'), '');
    await appendFile(join(d.path, 'sealed.jsonl'), '{"t":"intent","key":"p:1","vers');
    const got: SealedCall[] = [];
    const l = await SealLedger.open<null>(d.path, { callSealed: async (c) => void got.push(c) }, quietLog, new FakeClock(0), { retentionMs: 1e12 });
    await l.redeliverPending();
    assert.equal(got.length, 0);
    assert.equal((await l.deliver('p:1', payload(1), {}, null)).version, 1);
    await l.close();
  });
});

describe('config', () => {
  const good = { id: 'main-pbx', adapter: 'asterisk-files', monitorDir: '/m', cdrCsv: '/c/Master.csv' };
  test('defaults', () => {
    const c = pbxConfigSchema.parse(good);
    assert.equal(c.adapter, 'asterisk-files');
    if (c.adapter !== 'asterisk-files') return;
    assert.deepEqual([c.timezone, c.quietSeconds, c.cdrEncoding, c.cdrCustom, c.backfillHours], ['Asia/Tokyo', 60, 'auto', null, 24]);
  });
  test('bad sections are rejected with the field named', () => {
    const bad: [unknown, string][] = [
      [{ ...good, timezone: 'Tokyo/Japan' }, 'timezone'],
      [{ ...good, id: 'bad id!' }, 'id'],
      [{ ...good, cdrCsv: undefined }, 'cdrCsv'],
      [{ ...good, adapter: 'freepbx-mysql' }, 'adapter'],
      [{ ...good, quietSeconds: 0 }, 'quietSeconds'],
      [{ ...good, cdrEncoding: 'latin1' }, 'cdrEncoding'],
      [{ id: 'x', adapter: 'drop-folder' }, 'dropDir'],
      [{ id: 'x', adapter: 'drop-folder', dropDir: '/d', manifest: { columns: {} } }, 'start'],
    ];
    for (const [input, field] of bad) {
      const r = pbxConfigSchema.safeParse(input);
      assert.equal(r.success, false, field);
      assert.ok(r.error!.issues.some((i) => i.path.includes(field)), `${field}: ${JSON.stringify(r.error!.issues)}`);
    }
  });
});
