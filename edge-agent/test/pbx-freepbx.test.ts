/**
 * The freepbx adapter against a real MariaDB (scripts/services.sh; TEST_MARIADB_URL) holding FreePBX's own
 * asteriskcdrdb.cdr / .cel tables, read through a read-only account:
 * - the real Asterisk 22 fixture call, stored as FreePBX stores it, comes out as the same call the asterisk-files
 *   adapter makes of the CSV files (one correlator);
 * - rows are read incrementally, including a long call inserted after a shorter, later one; a restart on the saved
 *   state reads nothing twice;
 * - a wrong password is a clear error in the log and in source-status.json, without the password;
 * - the config section is validated strictly.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCdrDatabase, type CdrDatabase } from '../../test-support/src/mariadb.ts';
import { validateConfig } from '../src/config.ts';
import { cdrRowFromDb } from '../src/pbx/freepbx-source.ts';
import { createPbxAdapter, type PbxConfigInput } from '../src/pbx/index.ts';
import { fixtureRows } from './freepbx-fixture.ts';
import { FIXTURE, FakeClock, MemorySink, PbxTree, naive, quietLog, tempDir, timestr, dayDir, wavBytes } from './pbx-helpers.ts';
import { parseCdrCsvLine } from '../src/pbx/cdr.ts';

const E = (ms: number) => Math.floor(ms / 1000);

describe('freepbx adapter (real MariaDB, FreePBX schema, read-only account)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let db: CdrDatabase;
  before(async () => {
    db = await createCdrDatabase('fpbx');
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await db.drop();
  });

  async function freshDb() {
    const d = await createCdrDatabase('fpbx');
    cleanups.push(() => d.drop());
    return d;
  }

  async function passwordFile(d: CdrDatabase, password = d.password) {
    const dir = await tempDir('fpbx-secret-');
    cleanups.push(dir.cleanup);
    const p = join(dir.path, 'cdr-password');
    await writeFile(p, `${password}\n`, { mode: 0o600 });
    return p;
  }

  async function config(d: CdrDatabase, over: Record<string, unknown> = {}): Promise<PbxConfigInput> {
    return {
      id: 'freepbx',
      adapter: 'freepbx',
      timezone: 'Asia/Tokyo',
      monitorDir: join(FIXTURE, 'monitor'),
      database: { host: d.host, port: d.port, user: d.user, passwordFile: await passwordFile(d), database: d.database },
      noticeSound: 'custom/notice',
      noticeVariable: 'REC_NOTICE',
      operators: { '201': 'Tanaka' },
      quietSeconds: 5,
      backfillHours: null,
      ...over,
    } as PbxConfigInput;
  }

  async function runTicks(cfg: PbxConfigInput, clock: FakeClock, sink: MemorySink, stateDir: string, ticks = 3) {
    const pbx = createPbxAdapter(cfg, { stateDir, sink, clock, log: quietLog });
    for (let i = 0; i < ticks; i++) {
      await pbx.tick();
      clock.advance(6);
    }
    await pbx.stop();
  }

  test('the fixture call stored as FreePBX stores it = the call the asterisk-files adapter makes of the CSV files', async () => {
    const d = await freshDb();
    const rows = fixtureRows();
    await d.insertCdr(rows.cdr);
    await d.insertCel(rows.cel);

    const state = await tempDir('fpbx-state-');
    cleanups.push(state.cleanup);
    const clock = new FakeClock(Date.parse('2026-11-23T18:06:00Z'));
    const sink = new MemorySink();
    await runTicks(await config(d), clock, sink, state.path);
    assert.equal(sink.calls.length, 1);
    const call = sink.calls[0]!;

    // The same PBX output through the files adapter (Master.csv + CEL; no cdr_custom: FreePBX has no such file).
    const fstate = await tempDir('fpbx-files-');
    cleanups.push(fstate.cleanup);
    const fsink = new MemorySink();
    const fclock = new FakeClock(Date.parse('2026-11-23T18:06:00Z'));
    await runTicks(
      {
        id: 'freepbx',
        adapter: 'asterisk-files',
        timezone: 'Asia/Tokyo',
        monitorDir: join(FIXTURE, 'monitor'),
        cdrCsv: join(FIXTURE, 'cdr-csv', 'Master.csv'),
        cel: join(FIXTURE, 'cel-custom', 'Master.csv'),
        noticeSound: 'custom/notice',
        noticeVariable: 'REC_NOTICE',
        operators: { '201': 'Tanaka' },
        quietSeconds: 5,
        backfillHours: null,
      } as PbxConfigInput,
      fclock,
      fsink,
      fstate.path,
    );
    assert.equal(fsink.calls.length, 1);
    const files = fsink.calls[0]!;

    assert.equal(call.adapter, 'freepbx');
    assert.equal(call.callKey, 'freepbx:1795457100.0');
    // Legs point at their source rows (the table and the CDR sequence instead of Master.csv and a byte offset).
    assert.deepEqual(
      call.legs.map((l) => [l.uniqueId, l.sequence, l.source]),
      [
        ['1795457100.0', 0, { file: `mariadb:${d.database}.cdr`, offset: 0 }],
        ['1795457100.1', 1, { file: `mariadb:${d.database}.cdr`, offset: 1 }],
        ['1795457105.3', 3, { file: `mariadb:${d.database}.cdr`, offset: 3 }],
      ],
    );
    const raw0 = JSON.parse(call.legs[0]!.raw) as Record<string, unknown>;
    assert.equal(raw0.calldate, '2026-11-23 18:05:00');
    assert.equal(raw0.recordingfile, 'in-0501234567-0312345678-20261123-180500-1795457100.0.wav');
    // CEL eventtime is a DATETIME (whole seconds) in FreePBX: the notice time loses its milliseconds, nothing else.
    const { evidence: dbEvidence, ...dbNotice } = call.notice;
    const { evidence: fileEvidence, ...fileNotice } = files.notice;
    assert.deepEqual(dbNotice, { played: 'yes', method: 'cel', atUtc: '2026-11-23T18:05:00Z' });
    assert.deepEqual(fileNotice, { played: 'yes', method: 'cel', atUtc: '2026-11-23T18:05:00.493Z' });
    // The lines that decided it travel with the call: the same CEL events, as table rows here and CSV lines there.
    assert.deepEqual(dbEvidence.map((e) => [e.source, (JSON.parse(e.raw) as { eventtype: string }).eventtype]), [['cel', 'REC_NOTICE'], ['cel', 'STREAM_BEGIN']]);
    assert.deepEqual(fileEvidence.map((e) => [e.source, e.raw.split(',')[0]]), [['cel', '"REC_NOTICE"'], ['cel', '"STREAM_BEGIN"']]);
    // The operator's pickup (CEL BRIDGE_ENTER) also loses its milliseconds in the DATETIME column.
    assert.deepEqual([call.times.pickupUtc, files.times.pickupUtc], ['2026-11-23T18:05:05Z', '2026-11-23T18:05:05.636Z']);
    const facts = (c: typeof call) => {
      const { legs, adapter, notice, ...rest } = c;
      const { pickupUtc, operatorTalkS, ...times } = rest.times;
      return { ...rest, times, operators: rest.operators.map(({ answeredUtc, ...o }) => o), legs: legs.map(({ raw, source, ...l }) => l) };
    };
    assert.deepEqual(facts(call), facts(files));
    // And those facts are the real call's.
    assert.equal(call.direction, 'inbound');
    assert.equal(call.disposition, 'answered');
    assert.deepEqual(call.caller, { number: '0312345678', name: 'Yamada Taro', e164: '+81312345678' });
    assert.deepEqual(call.operator, { extension: '201', name: 'Tanaka', source: 'dstchannel' });
    assert.equal(call.times.startUtc, '2026-11-23T18:05:00Z');
    assert.equal(call.times.endUtc, '2026-11-23T18:05:26Z');
    assert.equal(call.times.zone, 'UTC');
    assert.deepEqual(call.recordings.map((r) => r.role), ['caller', 'operator', 'mixed']);
  });

  test('the mapping: answer and end from calldate + duration − billsec; key as the CSV parser keys the same CDR', async () => {
    const line = (await readFile(join(FIXTURE, 'cdr-csv', 'Master.csv'), 'utf8')).split('\n')[2]!;
    const csv = parseCdrCsvLine(line, { file: 'Master.csv', offset: 0, encoding: 'utf-8', seenAt: 0 }).rows[0]!;
    const r = fixtureRows().cdr[2]!;
    const row = cdrRowFromDb({ ...r, amaflags: 3 } as unknown as Record<string, string | number | null>, { file: 'x', seenAt: 0 });
    for (const k of ['key', 'src', 'dst', 'dcontext', 'clid', 'channel', 'dstchannel', 'lastapp', 'lastdata', 'start', 'answer', 'end', 'duration', 'billsec', 'disposition', 'amaflags', 'uniqueid', 'linkedid', 'sequence'] as const) {
      assert.deepEqual(row[k], csv[k], k);
    }
    const unanswered = cdrRowFromDb({ ...r, disposition: 'NO ANSWER', duration: 30, billsec: 0 } as unknown as Record<string, string | number | null>, { file: 'x', seenAt: 0 });
    assert.equal(unanswered.answer, '');
    assert.equal(unanswered.end, '2026-11-23 18:05:30');
  });

  test('incremental: new rows become calls; a long call inserted after a later short one is not missed; a restart reads nothing twice', async () => {
    const d = await freshDb();
    const made = await PbxTree.create('fpbx-tree-');
    cleanups.push(made.cleanup);
    const tree = made.tree;
    const state = await tempDir('fpbx-inc-');
    cleanups.push(state.cleanup);
    const t0 = Date.UTC(2026, 10, 24, 1, 0, 0);
    const clock = new FakeClock(t0 + 3 * 3600e3);
    const sink = new MemorySink();
    const cfg = await config(d, { monitorDir: tree.monitor, recordingWaitSeconds: 10, cdrWaitSeconds: 30 });
    const call = (startMs: number, seconds: number, n: number) => {
      const uid = `${E(startMs)}.${n}`;
      return {
        uid,
        row: {
          calldate: naive(startMs, 9),
          clid: `"" <0311110${n}>`,
          src: `0311110${n}`,
          dst: '0501234567',
          dcontext: 'from-trunk',
          channel: `PJSIP/trunk-0000000${n}`,
          dstchannel: `PJSIP/201-1000000${n}`,
          lastapp: 'Dial',
          lastdata: 'PJSIP/201,30',
          duration: seconds,
          billsec: seconds - 2,
          disposition: 'ANSWERED',
          uniqueid: uid,
          did: '0501234567',
          recordingfile: `in-0501234567-0311110${n}-${timestr(startMs, 9)}-${uid}.wav`,
          linkedid: uid,
          sequence: n,
        },
        rec: async () => tree.recording(dayDir(startMs, 9), `in-0501234567-0311110${n}-${timestr(startMs, 9)}-${uid}.wav`, wavBytes(1, { seed: n })),
      };
    };
    const a = call(t0, 40, 1);
    await a.rec();
    await d.insertCdr([a.row]);
    const pbx = createPbxAdapter(cfg, { stateDir: state.path, sink, clock, log: quietLog });
    for (let i = 0; i < 3; i++) {
      await pbx.tick();
      clock.advance(6);
    }
    assert.deepEqual(sink.calls.map((c) => c.callKey), [`freepbx:${a.uid}`]);
    // A 2-hour call that started long before a short one ends after it: its row is inserted last but sorts first (a
    // cursor on calldate alone would already be past it).
    const long = call(t0 + 60e3, 7200, 2);
    const short = call(t0 + 3600e3, 30, 3); // starts an hour after the long one, ends 70 min before it
    await long.rec();
    await short.rec();
    await d.insertCdr([short.row]);
    for (let i = 0; i < 3; i++) {
      await pbx.tick();
      clock.advance(6);
    }
    await d.insertCdr([long.row]);
    for (let i = 0; i < 3; i++) {
      await pbx.tick();
      clock.advance(6);
    }
    await pbx.stop();
    assert.deepEqual(sink.calls.map((c) => c.callKey).sort(), [a.uid, long.uid, short.uid].map((u) => `freepbx:${u}`).sort());
    assert.ok(sink.calls.every((c) => c.version === 1 && c.adapter === 'freepbx' && c.recordings.length === 1));
    const longCall = sink.byKey(`freepbx:${long.uid}`)[0]!;
    assert.equal(longCall.times.durationS, 7200);
    assert.equal(longCall.times.zone, 'Asia/Tokyo');

    // The cursor is in state.json with the pending rows; a restart on it reads nothing again.
    const saved = JSON.parse(await readFile(join(state.path, 'pbx', 'freepbx', 'state.json'), 'utf8')) as { source: { cdrMaxEnd: string } };
    assert.equal(saved.source.cdrMaxEnd, naive(t0 + 60e3 + 7200e3, 9));
    const again = createPbxAdapter(cfg, { stateDir: state.path, sink, clock, log: quietLog });
    for (let i = 0; i < 3; i++) {
      await again.tick();
      clock.advance(6);
    }
    await again.stop();
    assert.equal(sink.calls.length, 3);
  });

  test('the account is read-only: the grant refuses writes, and the agent never needs one', async () => {
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
    try {
      await assert.rejects(c.query("INSERT INTO cdr (uniqueid) VALUES ('x')"), (e: { code?: string }) => e.code === 'ER_TABLEACCESS_DENIED_ERROR');
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM cdr');
      assert.equal(Number((rows as { n: number }[])[0]!.n), 0);
    } finally {
      await c.end();
    }
  });

  test('a wrong password: a clear error in the log and in source-status.json, never the password; fixed file → reads', async () => {
    const d = await freshDb();
    await d.insertCdr(fixtureRows().cdr);
    const state = await tempDir('fpbx-badpw-');
    cleanups.push(state.cleanup);
    const wrong = 'Wr0ngPassw0rd-zz';
    const pwFile = await passwordFile(d, wrong);
    const cfg = await config(d);
    (cfg as { database: Record<string, unknown> }).database.passwordFile = pwFile;
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const log = { ...quietLog, error: (msg: string, fields?: Record<string, unknown>) => void lines.push({ level: 'error', msg, fields }), info: (msg: string, fields?: Record<string, unknown>) => void lines.push({ level: 'info', msg, fields }) };
    const clock = new FakeClock(Date.parse('2026-11-23T18:06:00Z'));
    const sink = new MemorySink();
    const pbx = createPbxAdapter(cfg, { stateDir: state.path, sink, clock, log });
    await pbx.tick();
    clock.advance(6);
    await pbx.tick();
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, 'logged once, not on every poll');
    assert.match(errors[0]!.msg, new RegExp(`refused user '${d.user}': wrong password`));
    assert.equal(errors[0]!.fields?.code, 'access_denied');
    assert.ok(!JSON.stringify(lines).includes(wrong));
    const status = JSON.parse(await readFile(join(state.path, 'pbx', 'freepbx', 'source-status.json'), 'utf8')) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(status.ok, false);
    assert.equal(status.error.code, 'access_denied');
    assert.ok(!JSON.stringify(status).includes(wrong));
    // The store fixes the password file: the next poll reads, the status says so.
    await writeFile(pwFile, `${d.password}\n`);
    clock.advance(6);
    await pbx.tick();
    const ok = JSON.parse(await readFile(join(state.path, 'pbx', 'freepbx', 'source-status.json'), 'utf8')) as { ok: boolean; error: unknown };
    assert.equal(ok.ok, true);
    assert.equal(ok.error, null);
    assert.ok(lines.some((l) => l.msg === 'FreePBX database readable again'));
    for (let i = 0; i < 2; i++) {
      clock.advance(6);
      await pbx.tick();
    }
    await pbx.stop();
    assert.equal(sink.calls.length, 1);
  });

  test('first start with backfillHours: rows that ended before it are history, counted in one log line; nobody listening → unreachable', async () => {
    const d = await freshDb();
    const t = Date.UTC(2026, 10, 25, 3, 0, 0);
    const row = (startMs: number, n: number) => ({
      calldate: naive(startMs, 9),
      clid: '"" <0312340000>',
      src: '0312340000',
      dst: '201',
      dcontext: 'from-internal',
      channel: 'PJSIP/trunk-00000001',
      dstchannel: 'PJSIP/201-00000002',
      lastapp: 'Dial',
      lastdata: 'PJSIP/201',
      duration: 30,
      billsec: 20,
      disposition: 'ANSWERED',
      uniqueid: `${E(startMs)}.${n}`,
      linkedid: `${E(startMs)}.${n}`,
      sequence: n,
    });
    await d.insertCdr([row(t - 4 * 86400e3, 1), row(t - 3 * 86400e3, 2), row(t - 3600e3, 3)]);
    const state = await tempDir('fpbx-backfill-');
    cleanups.push(state.cleanup);
    const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
    const log = { ...quietLog, info: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields }) };
    const clock = new FakeClock(t);
    const sink = new MemorySink();
    const made = await PbxTree.create('fpbx-backfill-tree-');
    cleanups.push(made.cleanup);
    const cfg = await config(d, { backfillHours: 24, monitorDir: made.tree.monitor, recordingWaitSeconds: 5 });
    const pbx = createPbxAdapter(cfg, { stateDir: state.path, sink, clock, log });
    for (let i = 0; i < 4; i++) {
      await pbx.tick();
      clock.advance(6);
    }
    await pbx.stop();
    assert.deepEqual(sink.calls.map((c) => c.linkedId), [`${E(t - 3600e3)}.3`]);
    const skipped = lines.filter((l) => l.msg === 'FreePBX CDR history older than backfillHours skipped');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.fields?.rows, 2);

    const nobody = await tempDir('fpbx-unreachable-');
    cleanups.push(nobody.cleanup);
    const cfg2 = await config(d, { monitorDir: made.tree.monitor });
    (cfg2 as { database: Record<string, unknown> }).database.port = 7799; // in this helper's port range; nothing listens
    const p2 = createPbxAdapter(cfg2, { stateDir: nobody.path, sink: new MemorySink(), clock, log: quietLog });
    await p2.tick();
    await p2.stop();
    const st = JSON.parse(await readFile(join(nobody.path, 'pbx', 'freepbx', 'source-status.json'), 'utf8')) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(st.error.code, 'unreachable');
    assert.match(st.error.message, /cannot reach the FreePBX database at 127\.0\.0\.1:7799 \(ECONNREFUSED\)/);
  });

  test('config: unknown keys refused with their path; exactly one of passwordFile / passwordEnv', () => {
    const base = { server: { url: 'http://127.0.0.1:1' }, stateDir: '/tmp/s', spoolDir: '/tmp/p' };
    const pbx = { id: 'f', adapter: 'freepbx', database: { user: 'mamoru_ro', passwordFile: '/etc/mamoru/cdr-password' } };
    const ok = validateConfig({ ...base, pbx });
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(ok.ok && ok.config.pbx?.adapter, 'freepbx');
    const typo = validateConfig({ ...base, pbx: { ...pbx, database: { ...pbx.database, pasword: 'x' } } });
    assert.ok(!typo.ok);
    assert.ok(typo.errors.some((e) => e.startsWith('pbx.database') && e.includes('pasword')), typo.errors.join('\n'));
    const top = validateConfig({ ...base, pbx: { ...pbx, cdrCsv: '/var/log/asterisk/cdr-csv/Master.csv' } });
    assert.ok(!top.ok);
    assert.ok(top.errors.some((e) => e.startsWith('pbx') && e.includes('cdrCsv')), top.errors.join('\n'));
    const both = validateConfig({ ...base, pbx: { ...pbx, database: { ...pbx.database, passwordEnv: 'CDR_PW' } } });
    assert.ok(!both.ok);
    assert.ok(both.errors.some((e) => e.includes('exactly one of passwordFile or passwordEnv')), both.errors.join('\n'));
  });
});
