/**
 * The freepbx adapter in the real agent process (`node --import tsx edge-agent/src/main.ts run`) against a real
 * MariaDB with FreePBX's tables (read-only account) and a real centre: rows inserted while the agent runs become calls
 * at the centre with their recordings; kill -9 and restart (while idle, and right after an insert): every call
 * arrives exactly once; a wrong password is a clear error in the agent's log and in `agent status`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { createCdrDatabase, type CdrDatabase } from '../../test-support/src/mariadb.ts';
import { enrollAgent, waitFor } from './helpers/agent.ts';
import { fixtureRows } from './freepbx-fixture.ts';
import { FIXTURE, PbxTree, dayDir, naive, timestr, wavBytes } from './pbx-helpers.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const execP = promisify(execFile);
const E = (ms: number) => Math.floor(ms / 1000);

type Agent = { child: ChildProcess; out: string[]; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> };
function startAgent(config: string): Agent {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out, exited };
}

describe('freepbx adapter in the agent process, into a real centre', { timeout: 180_000 }, () => {
  let centre: TestCentre;
  const cleanups: (() => Promise<void>)[] = [];
  const agents: Agent[] = [];
  before(async () => {
    centre = await startCentre();
  });
  after(async () => {
    for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await centre.close();
  });

  async function store(db: CdrDatabase, password = db.password) {
    const made = await PbxTree.create('fpbx-agent-');
    cleanups.push(made.cleanup);
    const tree = made.tree;
    const stateDir = join(tree.root, 'state');
    const site = await enrollAgent(centre, stateDir);
    const pwFile = join(tree.root, 'cdr-password');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    const path = join(tree.root, 'agent.json');
    await writeFile(
      path,
      JSON.stringify({
        server: { url: centre.url },
        stateDir: './state',
        spoolDir: './spool',
        heartbeatSeconds: 1,
        upload: { backoff: { baseMs: 50, capMs: 500 }, shutdownGraceMs: 300 },
        disk: { maxUsePercent: 100, minFreeBytes: 0 },
        pbx: {
          id: 'freepbx',
          adapter: 'freepbx',
          timezone: 'Asia/Tokyo',
          monitorDir: tree.monitor,
          database: { host: db.host, port: db.port, user: db.user, passwordFile: pwFile, database: db.database },
          noticeSound: 'custom/notice',
          noticeVariable: 'REC_NOTICE',
          operators: { '201': 'Tanaka' },
          quietSeconds: 0.5,
          pollSeconds: 0.2,
          recordingWaitSeconds: 1,
          cdrWaitSeconds: 30,
          backfillHours: null,
        },
      }),
    );
    const calls = () => centre.db.selectFrom('call').selectAll().where('siteId', '=', site.siteId).orderBy('startAt').execute();
    const recordings = async (callId: string) => centre.db.selectFrom('recording').select(['name', 'sha256', 'storedAt']).where('callId', '=', callId).orderBy('name').execute();
    return { tree, site, path, calls, recordings };
  }

  /** A generated inbound call: its cdr row (as FreePBX writes it at hangup) and its MixMonitor file. */
  function genCall(startMs: number, n: number) {
    const uid = `${E(startMs)}.${n}`;
    const name = `in-0501234567-0399990${n}-${timestr(startMs, 9)}-${uid}.wav`;
    return {
      uid,
      name,
      day: dayDir(startMs, 9),
      row: {
        calldate: naive(startMs, 9),
        clid: `"" <0399990${n}>`,
        src: `0399990${n}`,
        dst: '0501234567',
        dcontext: 'from-trunk',
        channel: `PJSIP/trunk-0000010${n}`,
        dstchannel: `PJSIP/201-0000020${n}`,
        lastapp: 'Dial',
        lastdata: 'PJSIP/201,30',
        duration: 20,
        billsec: 17,
        disposition: 'ANSWERED',
        uniqueid: uid,
        did: '0501234567',
        recordingfile: name,
        linkedid: uid,
        sequence: n,
      },
    };
  }

  test('rows inserted while the agent runs become calls at the centre; kill -9 and restart: each call exactly once', async () => {
    const db = await createCdrDatabase('fpbxagent');
    cleanups.push(() => db.drop());
    const s = await store(db);

    let agent = startAgent(s.path);
    agents.push(agent);
    // The real fixture call, inserted while the agent runs (recordings first: MixMonitor writes during the call).
    const mon = join(FIXTURE, 'monitor', '2026', '11', '23');
    await mkdir(join(s.tree.monitor, '2026', '11', '23'), { recursive: true });
    for (const f of ['', '-rx', '-tx']) {
      const name = `in-0501234567-0312345678-20261123-180500-1795457100.0${f}.wav`;
      await copyFile(join(mon, name), join(s.tree.monitor, '2026', '11', '23', name));
    }
    const rows = fixtureRows();
    await db.insertCel(rows.cel);
    await db.insertCdr(rows.cdr);
    const [fixtureCall] = await waitFor(
      'the fixture call at the centre with its three recordings stored',
      async () => {
        const c = await s.calls();
        if (c.length !== 1) return false;
        const r = await s.recordings(c[0]!.id);
        return r.length === 3 && r.every((x) => x.storedAt !== null) && c;
      },
      60_000,
      100,
    );
    assert.equal(fixtureCall!.callKey, 'freepbx:1795457100.0');
    assert.equal(fixtureCall!.adapter, 'freepbx');
    assert.equal(fixtureCall!.direction, 'inbound');
    assert.equal(fixtureCall!.operatorExtension, '201');
    assert.equal(fixtureCall!.operatorName, 'Tanaka');
    assert.equal(fixtureCall!.noticePlayed, 'yes');
    assert.equal(fixtureCall!.startAt.toISOString(), '2026-11-23T18:05:00.000Z');
    const legs = await centre.db.selectFrom('callLeg').select(['sourceFile', 'sourceOffset', 'uniqueId']).where('callId', '=', fixtureCall!.id).orderBy('ordinal').execute();
    assert.deepEqual(legs.map((l) => [l.uniqueId, l.sourceFile, Number(l.sourceOffset)]), [
      ['1795457100.0', `mariadb:${db.database}.cdr`, 0],
      ['1795457100.1', `mariadb:${db.database}.cdr`, 1],
      ['1795457105.3', `mariadb:${db.database}.cdr`, 3],
    ]);

    // kill -9 while idle; calls inserted while the agent is down arrive after the restart.
    agent.child.kill('SIGKILL');
    assert.equal((await agent.exited).signal, 'SIGKILL');
    const t0 = Date.UTC(2026, 10, 24, 2, 0, 0);
    const later = [genCall(t0, 1), genCall(t0 + 60e3, 2)];
    for (const c of later) await s.tree.recording(c.day, c.name, wavBytes(1, { seed: Number(c.uid.split('.')[1]) }));
    await db.insertCdr(later.map((c) => c.row));
    agent = startAgent(s.path);
    agents.push(agent);
    await waitFor('the calls made while the agent was down', async () => (await s.calls()).length === 3, 60_000, 100);

    // kill -9 right after an insert (the row may be read, pending, sealed or sent): restart, it arrives once.
    const racy = genCall(t0 + 120e3, 3);
    await s.tree.recording(racy.day, racy.name, wavBytes(1, { seed: 3 }));
    await db.insertCdr([racy.row]);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
    agent.child.kill('SIGKILL');
    await agent.exited;
    agent = startAgent(s.path);
    agents.push(agent);
    const all = await waitFor(
      'four calls, each with its recording stored',
      async () => {
        const c = await s.calls();
        if (c.length < 4) return false;
        for (const x of c) if (!(await s.recordings(x.id)).every((r) => r.storedAt !== null)) return false;
        return c;
      },
      60_000,
      100,
    );
    // Settle a few polls: nothing more may come.
    await new Promise((r) => setTimeout(r, 1500));
    const final = await s.calls();
    assert.deepEqual(final.map((c) => c.callKey).sort(), ['freepbx:1795457100.0', ...[...later, racy].map((c) => `freepbx:${c.uid}`)].sort());
    assert.deepEqual(final.map((c) => c.currentVersion), [1, 1, 1, 1], 'no call re-sealed as a new version');
    assert.equal(all.length, 4);
    const versions = await centre.db.selectFrom('callVersion').select(['callId']).where('callId', 'in', final.map((c) => c.id)).execute();
    assert.equal(versions.length, 4, 'one version each');
    agent.child.kill('SIGTERM');
    assert.equal((await agent.exited).code, 0);
  });

  test('a wrong password: a clear error in the log and in `agent status`, never the password', async () => {
    const db = await createCdrDatabase('fpbxbadpw');
    cleanups.push(() => db.drop());
    const wrong = 'N0t-The-Passw0rd-42';
    const s = await store(db, wrong);
    const agent = startAgent(s.path);
    agents.push(agent);
    await waitFor('the error in the log', () => agent.out.join('').includes('refused user'), 30_000, 100);
    const st = JSON.parse((await execP(process.execPath, ['--import', 'tsx', MAIN, 'status', '--config', s.path])).stdout) as { pbx: { id: string; adapter: string; source: { ok: boolean; error: { code: string; message: string } } } };
    assert.equal(st.pbx.adapter, 'freepbx');
    assert.equal(st.pbx.source.ok, false);
    assert.equal(st.pbx.source.error.code, 'access_denied');
    assert.match(st.pbx.source.error.message, new RegExp(`refused user '${db.user}': wrong password`));
    agent.child.kill('SIGTERM');
    await agent.exited;
    const log = agent.out.join('');
    assert.ok(!log.includes(wrong), 'the password is never logged');
    assert.equal(log.split('refused user').length - 1, 1, 'logged once, not on every poll');
  });
});
