/**
 * Issue 14 part 1: the Asterisk hard cases, each run through the real agent (runAgent with a `pbx` section, the
 * asterisk-files adapter, the outbox and the uploader) into a real centre, and checked there (database rows and the
 * read API), not only in the parser.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { agentDeps, runAgent } from '../src/agent.ts';
import type { Logger } from '../src/lib/logger.ts';
import { enrollAgent, testConfig, waitFor } from './helpers/agent.ts';
import { FIXTURE, PbxTree, cdrLine, naive, type RowSpec, timestr, wavBytes } from './pbx-helpers.ts';

const E = (ms: number) => Math.floor(ms / 1000);
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A cel_custom row in the sample order (20 fields). */
function celLine(c: { type: string; atMs: number; cidNum?: string; exten?: string; context?: string; channel: string; app?: string; appdata?: string; uniqueid: string; linkedid: string; peer?: string; userdeftype?: string; extra?: unknown }): string {
  const f = [c.type, (c.atMs / 1000).toFixed(6), '', c.cidNum ?? '', c.cidNum ?? '', '', '', c.exten ?? '', c.context ?? '', c.channel, c.app ?? '', c.appdata ?? '', '3', '', c.uniqueid, c.linkedid, c.peer ?? '', '', c.userdeftype ?? '', c.extra === undefined ? '' : JSON.stringify(c.extra)];
  return `${f.map(q).join(',')}\n`;
}

type Captured = { level: string; msg: string; fields?: Record<string, unknown> };
function captureLogger(lines: Captured[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), addSecrets() {} };
}

describe('Asterisk hard cases through the agent into a real centre', () => {
  let centre: TestCentre;
  let cookie: string;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    centre = await startCentre();
    cookie = await centre.hqCookie();
  });
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await centre.close();
  });

  /** A fake PBX tree, an agent enrolled at a new site, running with the asterisk-files adapter on it. */
  async function store(pbx: Record<string, unknown> = {}, tree?: PbxTree) {
    let t = tree;
    if (!t) {
      const made = await PbxTree.create('pbx-hard-');
      stops.push(made.cleanup);
      t = made.tree;
    }
    const base = join(t.root, `agent-${Math.random().toString(36).slice(2, 8)}`);
    const site = await enrollAgent(centre, join(base, 'state'));
    const log: Captured[] = [];
    const config = testConfig({
      server: { url: centre.url },
      stateDir: join(base, 'state'),
      spoolDir: join(base, 'spool'),
      heartbeatSeconds: 60,
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      pbx: {
        id: 'pbx',
        adapter: 'asterisk-files',
        timezone: 'Asia/Tokyo',
        monitorDir: t.monitor,
        cdrCsv: t.master,
        operators: { '201': '田中', '202': '佐藤', '203': '鈴木' },
        quietSeconds: 0.3,
        pollSeconds: 0.1,
        recordingWaitSeconds: 0.5,
        cdrWaitSeconds: 1,
        backfillHours: null,
        ...pbx,
      },
    });
    const agent = await runAgent(config, agentDeps(config, captureLogger(log)));
    let stopped = false;
    const stop = async () => {
      if (!stopped) await agent.stop();
      stopped = true;
    };
    stops.push(stop);
    const calls = () => centre.db.selectFrom('call').selectAll().where('siteId', '=', site.siteId).orderBy('startAt').execute();
    const drained = () => waitFor('outbox drained', () => agent.outbox.stats().count === 0 && agent.uploader.inFlight === null, 20_000);
    return { tree: t, site, agent, log, calls, drained, stop };
  }

  async function detail(id: string) {
    const r = await fetch(`${centre.url}/api/v1/calls/${id}`, { headers: { cookie } });
    assert.equal(r.status, 200);
    return (await r.json()) as Record<string, any>;
  }

  const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));

  test('a truncated copy of a row already read never becomes a phantom call: it joins the sealed call, as on a fresh start', async () => {
    const t0 = Date.UTC(2026, 10, 23, 9, 0, 0);
    const uid = `${E(t0)}.7`;
    const row: RowSpec = { src: '0312345678', dst: '0501234567', channel: 'PJSIP/ntt-00000007', dstchannel: 'PJSIP/201-00000008', lastdata: 'PJSIP/201,30', start: naive(t0, 9), answer: naive(t0 + 3e3, 9), end: naive(t0 + 40e3, 9), duration: 40, billsec: 37, disposition: 'ANSWERED', uniqueid: uid, linkedid: uid, sequence: 4 };
    const line = cdrLine(row, 21);
    const s = await store();
    await s.tree.append(line);
    const [first] = await waitFor('the call at the centre', async () => {
      const c = await s.calls();
      return c.length === 1 && c;
    });
    assert.equal(first!.callKey, `pbx:${uid}`);
    // A PBX crash / log replay appends the first 200 bytes of the same row again.
    const fragment = line.slice(0, 200);
    await s.tree.append(`${fragment}\n`);
    const v2 = await waitFor('the fragment joins the sealed call as version 2', async () => {
      const c = await s.calls();
      assert.deepEqual(c.map((x) => x.callKey), [`pbx:${uid}`], 'no phantom call');
      return c[0]!.currentVersion === 2 && c;
    });
    await settle();
    await s.drained();
    const after = await s.calls();
    assert.deepEqual(after.map((c) => c.callKey), [`pbx:${uid}`], 'no phantom call');
    assert.deepEqual(v2[0]!.flags, ['no_recording', 'truncated_row']);
    const d = await detail(v2[0]!.id);
    assert.deepEqual(d.legs.map((l: { raw: string }) => l.raw), [fragment, line.trimEnd()]);
    await s.stop();

    // The same file read by a fresh agent: one call, the same legs, in one version.
    const fresh = await store({}, s.tree);
    const [c] = await waitFor('fresh start: the call', async () => {
      const c = await fresh.calls();
      return c.length >= 1 && c;
    });
    await settle();
    assert.equal((await fresh.calls()).length, 1);
    assert.deepEqual(c!.flags, ['no_recording', 'truncated_row']);
    assert.deepEqual((await detail(c!.id)).legs.map((l: { raw: string }) => l.raw), [fragment, line.trimEnd()]);
  });

  test('unanswered and busy calls keep who was rung: searching by that operator finds them', async () => {
    const t1 = Date.UTC(2026, 10, 23, 10, 0, 0);
    const t2 = t1 + 120e3;
    const s = await store();
    await s.tree.append(cdrLine({ src: '0311112222', dst: '0501234567', channel: 'PJSIP/ntt-00000010', dstchannel: 'PJSIP/201-00000011', lastdata: 'PJSIP/201,20', start: naive(t1, 9), end: naive(t1 + 20e3, 9), duration: 20, billsec: 0, disposition: 'NO ANSWER', uniqueid: `${E(t1)}.10`, linkedid: `${E(t1)}.10`, sequence: 1 }, 21));
    await s.tree.append(cdrLine({ src: '0333334444', dst: '0501234567', channel: 'PJSIP/ntt-00000012', dstchannel: 'PJSIP/202-00000013', lastdata: 'PJSIP/202,20', start: naive(t2, 9), end: naive(t2 + 2e3, 9), duration: 2, billsec: 0, disposition: 'BUSY', uniqueid: `${E(t2)}.12`, linkedid: `${E(t2)}.12`, sequence: 2 }, 21));
    await waitFor('both calls', async () => (await s.calls()).length === 2);
    await s.drained();
    const search = async (op: string) => {
      const r = await fetch(`${centre.url}/api/v1/calls?site=${s.site.siteId}&operator=${op}`, { headers: { cookie } });
      assert.equal(r.status, 200);
      return ((await r.json()) as { calls: { caller: { number: string }; disposition: string; operator: unknown; operatorExtensions: string[] }[] }).calls;
    };
    const by201 = await search('201');
    assert.deepEqual(by201.map((c) => [c.caller.number, c.disposition, c.operator, c.operatorExtensions]), [['0311112222', 'no_answer', null, ['201']]]);
    const by202 = await search('202');
    assert.deepEqual(by202.map((c) => [c.caller.number, c.disposition, c.operatorExtensions]), [['0333334444', 'busy', ['202']]]);
    const d = await detail((await s.calls())[0]!.id);
    assert.deepEqual(d.operators, [{ extension: '201', name: '田中', rungUtc: '2026-11-23T10:00:00Z', answeredUtc: null, source: 'dstchannel' }]);
  });

  test('no recording, a blind and an attended transfer: direction from the trunk channel, the dialled number kept, transfers shown', async () => {
    const t = Date.UTC(2026, 10, 23, 9, 8, 57);
    const e = E(t);
    const caller = `${e}.23`;
    const made = await PbxTree.create('pbx-hard-xfer-');
    stops.push(made.cleanup);
    const cel = join(made.tree.root, 'log', 'cel-custom', 'Master.csv');
    const common = { src: '0312345678', clid: '"Yamada Taro" <0312345678>', linkedid: caller };
    // After the blind transfer every row shows dst=202 / dcontext=operator-phone: the DID is only in the CEL.
    await made.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/ntt-0000000a', dstchannel: 'PJSIP/201-0000000b', start: naive(t, 9), answer: naive(t, 9), end: naive(t + 12e3, 9), duration: 12, billsec: 12, disposition: 'ANSWERED', uniqueid: caller, sequence: 14 }, 21));
    await made.tree.append(cdrLine({ ...common, dst: '202', dcontext: 'operator-phone', channel: 'PJSIP/ntt-0000000a', dstchannel: 'PJSIP/202-0000000d', start: naive(t + 12e3, 9), answer: naive(t + 12e3, 9), end: naive(t + 26e3, 9), duration: 14, billsec: 14, disposition: 'ANSWERED', uniqueid: caller, sequence: 18 }, 21));
    const ev = (type: string, dt: number, channel: string, uniqueid: string, more: Partial<Parameters<typeof celLine>[0]> = {}) => celLine({ type, atMs: t + dt, cidNum: '0312345678', channel, uniqueid, linkedid: caller, ...more });
    await made.tree.append(
      [
        ev('CHAN_START', 0, 'PJSIP/ntt-0000000a', caller, { exten: '0501234567', context: 'from-trunk' }),
        ev('CHAN_START', 100, 'PJSIP/201-0000000b', `${e}.24`, { exten: 's', context: 'operator-phone' }),
        ev('BRIDGE_ENTER', 2000, 'PJSIP/ntt-0000000a', caller, { exten: '0501234567', context: 'from-trunk', peer: 'PJSIP/201-0000000b' }),
        ev('BLINDTRANSFER', 12000, 'PJSIP/201-0000000b', `${e}.24`, { extra: { extension: '202', context: 'operator-phone', transferee_channel_name: 'PJSIP/ntt-0000000a' } }),
        ev('CHAN_START', 12100, 'PJSIP/202-0000000d', `${e + 12}.26`, { exten: 's', context: 'operator-phone' }),
        ev('LINKEDID_END', 26000, 'PJSIP/ntt-0000000a', caller),
      ].join(''),
      cel,
    );
    // A second call: 201 hands the caller to 203 after asking (attended transfer), no CEL exten to help.
    const t2 = t + 600e3;
    const c2 = `${E(t2)}.40`;
    await made.tree.append(cdrLine({ src: '0398765432', dst: '0501234567', dcontext: 'from-trunk', channel: 'PJSIP/ntt-00000040', dstchannel: 'PJSIP/201-00000041', start: naive(t2, 9), answer: naive(t2 + 1e3, 9), end: naive(t2 + 60e3, 9), duration: 60, billsec: 59, disposition: 'ANSWERED', uniqueid: c2, linkedid: c2, sequence: 30 }, 21));
    await made.tree.append(celLine({ type: 'ATTENDEDTRANSFER', atMs: t2 + 30e3, cidNum: '0398765432', channel: 'PJSIP/201-00000041', uniqueid: `${E(t2)}.41`, linkedid: c2, extra: { bridge1_id: 'b1', channel2_name: 'PJSIP/201-00000043', transferee_channel_name: 'PJSIP/ntt-00000040', transfer_target_channel_name: 'PJSIP/203-00000044' } }), cel);
    await made.tree.append(celLine({ type: 'LINKEDID_END', atMs: t2 + 60e3, channel: 'PJSIP/ntt-00000040', uniqueid: c2, linkedid: c2 }), cel);

    const s = await store({ cel, trunkEndpoints: ['ntt'] }, made.tree);
    const rows = await waitFor('both calls', async () => {
      const c = await s.calls();
      return c.length === 2 && c;
    });
    await s.drained();
    const [blind, attended] = rows;
    assert.deepEqual([blind!.direction, blind!.directionSource, blind!.calledNumber], ['inbound', 'channels', '0501234567']);
    const d = await detail(blind!.id);
    assert.deepEqual(d.transfers.map((x: Record<string, unknown>) => [x.kind, x.atUtc, x.by, x.to]), [['blind', '2026-11-23T09:09:09Z', '201', '202']]);
    assert.deepEqual(d.operators.map((o: Record<string, unknown>) => [o.extension, o.answeredUtc]), [['201', '2026-11-23T09:08:59Z'], ['202', '2026-11-23T09:09:09Z']]);
    assert.equal(d.times.pickupUtc, '2026-11-23T09:08:59.000Z');
    assert.ok(d.legs.some((l: { lastApp: string; channel: string; dst: string }) => l.lastApp === 'BLINDTRANSFER' && l.channel === 'PJSIP/201-0000000b' && l.dst === '202'), 'the transfer is one of the legs, with its raw CEL line');
    assert.deepEqual([attended!.direction, attended!.calledNumber], ['inbound', '0501234567']);
    const d2 = await detail(attended!.id);
    assert.deepEqual(d2.transfers.map((x: Record<string, unknown>) => [x.kind, x.by, x.to]), [['attended', '201', '203']]);
  });

  test('the real fixture: the lines that decided "notice played" travel with the call; the PBX answer and the operator pickup both kept', async () => {
    const made = await PbxTree.create('pbx-hard-fx-');
    stops.push(made.cleanup);
    const s = await store(
      {
        monitorDir: join(FIXTURE, 'monitor'),
        cdrCsv: join(FIXTURE, 'cdr-csv', 'Master.csv'),
        cdrCustom: join(FIXTURE, 'cdr-custom', 'cdr_master.json'),
        cel: join(FIXTURE, 'cel-custom', 'Master.csv'),
        noticeSound: 'custom/notice',
        timezone: 'UTC',
      },
      made.tree,
    );
    const [c] = await waitFor('the fixture call', async () => {
      const c = await s.calls();
      return c.length === 1 && c;
    }, 30_000);
    await s.drained();
    const d = await detail(c!.id);
    const custom = (await readFile(join(FIXTURE, 'cdr-custom', 'cdr_master.json'), 'utf8')).split('\n').find((l) => l.includes('"rec_notice":"played"'))!;
    assert.deepEqual(d.noticeEvidence.map((x: { source: string; raw: string }) => x.source), ['cdr_custom', 'cel']);
    assert.ok(d.noticeEvidence[1].raw.startsWith('"STREAM_BEGIN","1795457100.493339",'), d.noticeEvidence[1].raw);
    assert.equal(d.noticeEvidence[0].raw, custom);
    assert.deepEqual([d.times.answerUtc, d.times.talkS, d.times.pickupUtc, d.times.operatorTalkS], ['2026-11-23T18:05:00.000Z', 26, '2026-11-23T18:05:05.636Z', 20]);
  });

  test('first start with backfillHours: what was skipped, and why, is logged', async () => {
    const now = Date.now();
    // 56 h ago, at any hour of the day: its CDR rows (written in +09:00, 47 h ago read as UTC) are older than
    // backfillHours (24 h) plus the CDR rule's 14 h of zone slack, and its recording's day folder (+09:00) is not
    // before the recording scan's cutoff day (the UTC day 60 h ago), so the skipped recording is counted. Three days
    // ago, that folder fell before the cutoff day between 12:00 and 15:00 UTC, and the count was 0 then.
    const old = now - 56 * 3600e3;
    const recent = now - 10 * 60e3;
    const made = await PbxTree.create('pbx-hard-bf-');
    stops.push(made.cleanup);
    const spec = (at: number, n: number): RowSpec => ({ src: `03000000${n}`, dst: '0501234567', channel: `PJSIP/ntt-0000010${n}`, dstchannel: 'PJSIP/201-00000200', start: naive(at, 9), answer: naive(at, 9), end: naive(at + 30e3, 9), duration: 30, billsec: 30, disposition: 'ANSWERED', uniqueid: `${E(at)}.${n}`, linkedid: `${E(at)}.${n}`, sequence: n });
    await made.tree.append(cdrLine(spec(old, 1), 21));
    await made.tree.append(cdrLine(spec(old + 60e3, 2), 21));
    await made.tree.append(cdrLine(spec(recent, 3), 21));
    const oldRec = await made.tree.recording(naive(old, 9).slice(0, 10).replace(/-/g, '/'), `in-0501234567-030000001-${timestr(old, 9)}-${E(old)}.1.wav`, wavBytes(1));
    await utimes(oldRec, new Date(old), new Date(old));
    const s = await store({ backfillHours: 24 }, made.tree);
    const [c] = await waitFor('the recent call', async () => {
      const c = await s.calls();
      return c.length === 1 && c;
    });
    await settle();
    assert.equal((await s.calls()).length, 1);
    assert.equal(c!.callerNumber, '030000003');
    const line = await waitFor('the skip is logged', () => s.log.find((l) => l.msg === 'PBX history older than backfillHours skipped'));
    assert.equal(line.level, 'info');
    assert.equal(line.fields!.cdrRows, 2);
    assert.equal(line.fields!.recordings, 1);
    assert.equal(line.fields!.oldest, naive(old + 30e3, 9), 'the end of the oldest skipped call, as the PBX wrote it');
    assert.match(String(line.fields!.why), /backfillHours=24/);
  });

  test('two concurrent calls from one number without a linkedid column: the real linkedids from CEL keep them apart; grouping by time is flagged', async () => {
    const t = Date.UTC(2026, 10, 23, 11, 0, 0);
    const made = await PbxTree.create('pbx-hard-lk-');
    stops.push(made.cleanup);
    const cel = join(made.tree.root, 'log', 'cel-custom', 'Master.csv');
    const L1 = `${E(t)}.50`;
    const L2 = `${E(t + 5e3)}.52`;
    // 16 columns (no uniqueid, no linkedid), the same caller, overlapping.
    const rows = [
      cdrLine({ src: '0312345678', dst: '0501234567', channel: 'PJSIP/ntt-00000050', dstchannel: 'PJSIP/201-00000051', start: naive(t, 9), answer: naive(t + 2e3, 9), end: naive(t + 60e3, 9), duration: 60, billsec: 58, disposition: 'ANSWERED' }, 16),
      cdrLine({ src: '0312345678', dst: '0501234568', channel: 'PJSIP/ntt-00000052', dstchannel: 'PJSIP/202-00000053', start: naive(t + 5e3, 9), answer: naive(t + 7e3, 9), end: naive(t + 50e3, 9), duration: 45, billsec: 43, disposition: 'ANSWERED' }, 16),
    ];
    await made.tree.append(rows.join(''));
    await made.tree.append(celLine({ type: 'CHAN_START', atMs: t, cidNum: '0312345678', exten: '0501234567', context: 'from-trunk', channel: 'PJSIP/ntt-00000050', uniqueid: L1, linkedid: L1 }), cel);
    await made.tree.append(celLine({ type: 'CHAN_START', atMs: t + 5e3, cidNum: '0312345678', exten: '0501234568', context: 'from-trunk', channel: 'PJSIP/ntt-00000052', uniqueid: L2, linkedid: L2 }), cel);

    const withCel = await store({ cel }, made.tree);
    const apart = await waitFor('two calls', async () => {
      const c = await withCel.calls();
      return c.length === 2 && c;
    });
    await settle();
    assert.equal((await withCel.calls()).length, 2);
    assert.deepEqual(apart.map((c) => [c.callKey, c.operatorExtension, c.flags]), [
      [`pbx:${L1}`, '201', ['no_recording']],
      [`pbx:${L2}`, '202', ['no_recording']],
    ]);
    await withCel.stop();

    const without = await store({}, made.tree);
    const merged = await waitFor('one merged call', async () => {
      const c = await without.calls();
      return c.length === 1 && c;
    });
    assert.ok(merged[0]!.flags.includes('grouped_by_time') && merged[0]!.flags.includes('weak_match'), `flags ${merged[0]!.flags}`);
  });
});
