/**
 * Issue 14 part 2: live calls over AMI. A fake AMI server (test-support/src/fake-ami.ts) replays the real Asterisk 22
 * session log of the fixture call over TCP into the real agent; the centre is real. Timing: the call is visible at
 * the centre "in progress" within 2 s of its first event and "ended" within 5 s of the hangup, while no CDR row
 * exists yet; once the PBX's files are written the sealed call replaces the live one under the same key (exactly one
 * call). Disconnects mid-call and a refused login are covered too.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCentre, type TestCentre } from '../../server/test/helpers/centre.ts';
import { FakeAmiServer, readAmiLog, type AmiBlock } from '../../test-support/src/fake-ami.ts';
import { agentDeps, runAgent } from '../src/agent.ts';
import { readAmiStatus } from '../src/pbx/ami.ts';
import type { Logger } from '../src/lib/logger.ts';
import { enrollAgent, testConfig, waitFor } from './helpers/agent.ts';
import { FIXTURE, PbxTree } from './pbx-helpers.ts';

const KEY = 'pbx:1795457100.0';
const get = (b: AmiBlock, k: string) => b.fields.find(([x]) => x === k)?.[1];

describe('live calls over AMI into a real centre', () => {
  let centre: TestCentre;
  let blocks: AmiBlock[];
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    centre = await startCentre();
    blocks = await readAmiLog(join(FIXTURE, 'ami', 'ami_events.txt'));
  });
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await centre.close();
  });

  async function setup(o: { secret?: string; speed?: number } = {}) {
    const ami = new FakeAmiServer({ blocks, username: 'edge', secret: 'edge-test-only', speed: o.speed ?? 2 });
    const port = await ami.listen(0);
    stops.push(() => ami.close());
    const { tree, cleanup } = await PbxTree.create('pbx-ami-');
    stops.push(cleanup);
    const base = join(tree.root, 'agent');
    const site = await enrollAgent(centre, join(base, 'state'));
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
    const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), addSecrets() {} };
    const files = { cdr: tree.master, custom: join(tree.root, 'log', 'cdr-custom', 'cdr_master.json'), cel: join(tree.root, 'log', 'cel-custom', 'Master.csv') };
    const config = testConfig({
      server: { url: centre.url },
      stateDir: join(base, 'state'),
      spoolDir: join(base, 'spool'),
      heartbeatSeconds: 60,
      disk: { maxUsePercent: 100, minFreeBytes: 0 },
      pbx: {
        id: 'pbx',
        adapter: 'asterisk-files',
        timezone: 'UTC',
        monitorDir: tree.monitor,
        cdrCsv: files.cdr,
        cdrCustom: files.custom,
        cel: files.cel,
        noticeSound: 'custom/notice',
        operators: { '201': 'Tanaka' },
        quietSeconds: 0.3,
        pollSeconds: 0.1,
        backfillHours: null,
        ami: { host: '127.0.0.1', port, username: 'edge', secret: o.secret ?? 'edge-test-only', reconnect: { baseMs: 50, capMs: 300 } },
      },
    });
    const agent = await runAgent(config, agentDeps(config, log));
    stops.push(() => agent.stop());
    const row = () => centre.db.selectFrom('call').selectAll().where('siteId', '=', site.siteId).execute();
    /** The PBX writes its records: CDR rows, cdr_custom, CEL and the three recordings, as after the real call. */
    const writeFiles = async () => {
      for (const [from, to] of [
        [join(FIXTURE, 'cdr-csv', 'Master.csv'), files.cdr],
        [join(FIXTURE, 'cdr-custom', 'cdr_master.json'), files.custom],
        [join(FIXTURE, 'cel-custom', 'Master.csv'), files.cel],
      ] as const) {
        await mkdir(dirname(to), { recursive: true });
        await copyFile(from, to);
      }
      // Into today's day folder, where the PBX writes while the call happens (the name carries the call's id).
      const day = join(FIXTURE, 'monitor', '2026', '11', '23');
      const today = join(tree.monitor, ...new Date().toISOString().slice(0, 10).split('-'));
      await mkdir(today, { recursive: true });
      for (const sfx of ['', '-rx', '-tx']) {
        const name = `in-0501234567-0312345678-20261123-180500-1795457100.0${sfx}.wav`;
        await copyFile(join(day, name), join(today, name));
      }
    };
    return { ami, agent, site, row, files, writeFiles, lines, stateDir: join(base, 'state') };
  }

  /** Wall time of the first replayed block that matches. */
  function when(ami: FakeAmiServer, pick: (b: AmiBlock) => boolean): Promise<number> {
    return new Promise((resolve) => {
      const on = (b: AmiBlock, _i: number, at: number) => {
        if (!pick(b)) return;
        ami.off('event', on);
        resolve(at);
      };
      ami.on('event', on);
    });
  }

  test('timing: in progress within 2 s of the first event, ended within 5 s of the hangup, before any CDR row; then exactly one sealed call', async () => {
    const s = await setup();
    await waitFor('AMI connected', () => s.agent.ami!.client.status.state === 'connected');
    const firstEvent = when(s.ami, (b) => get(b, 'Linkedid') === '1795457100.0');
    const answered = when(s.ami, (b) => get(b, 'Event') === 'DialEnd' && get(b, 'DialStatus') === 'ANSWER' && (get(b, 'DestChannel') ?? '').startsWith('Local/201@'));
    const lastHangup = when(s.ami, (b) => get(b, 'Event') === 'Hangup' && get(b, 'Channel') === 'Local/s@customer-phone-00000000;1');
    s.ami.play();

    const t0 = await firstEvent;
    const live = await waitFor('the call in progress at the centre', async () => (await s.row()).find((r) => r.callKey === KEY && r.liveState === 'in_progress'), 5000, 20);
    const visibleAfterMs = Date.now() - t0;
    assert.ok(!existsSync(s.files.cdr), 'no CDR row exists yet');
    assert.equal(live.currentVersion, 0);

    const tAnswer = await answered;
    const withOperator = await waitFor('the operator once one answers', async () => (await s.row()).find((r) => r.callKey === KEY && r.operatorExtension === '201'), 5000, 20);
    const operatorAfterMs = Date.now() - tAnswer;
    assert.deepEqual([withOperator.callerNumber, withOperator.calledNumber, withOperator.direction, withOperator.directionSource, withOperator.operatorName], ['0312345678', '0501234567', 'inbound', 'ami', 'Tanaka']);
    assert.ok(withOperator.pickupAt, 'the operator pickup time is shown live');

    const tHang = await lastHangup;
    const ended = await waitFor('the call ended at the centre', async () => (await s.row()).find((r) => r.callKey === KEY && r.liveState === 'ended'), 8000, 20);
    const endedAfterMs = Date.now() - tHang;
    assert.ok(!existsSync(s.files.cdr), 'still no CDR row');
    assert.ok(ended.endAt >= ended.startAt);
    // Reported for docs/pbx-ami.md (the test asserts the bounds; the figures vary with the machine).
    console.log(`# AMI live timing: visible ${visibleAfterMs} ms after the first event, operator ${operatorAfterMs} ms after DialEnd, ended ${endedAfterMs} ms after the hangup`);
    assert.ok(visibleAfterMs < 2000, `visible after ${visibleAfterMs} ms`);
    assert.ok(endedAfterMs < 5000, `ended after ${endedAfterMs} ms`);

    // The PBX writes its files: the sealed call replaces the live one under the same key.
    await s.writeFiles();
    const sealed = await waitFor('the sealed version', async () => (await s.row()).find((r) => r.callKey === KEY && r.currentVersion === 1), 20_000, 50).catch((e) => {
      console.log(JSON.stringify(s.lines.filter((l) => l.level !== 'debug'), null, 1).slice(0, 6000));
      throw e;
    });
    await waitFor('drained', () => s.agent.outbox.stats().count === 0 && s.agent.uploader.inFlight === null);
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await s.row();
    assert.equal(rows.length, 1, 'exactly one call');
    assert.equal(rows[0]!.id, live.id, 'the same call row: the live one became the sealed one');
    assert.deepEqual([sealed.liveState, sealed.startAt.toISOString(), sealed.pickupAt?.toISOString(), sealed.noticePlayed, sealed.operatorExtension], [null, '2026-11-23T18:05:00.000Z', '2026-11-23T18:05:05.636Z', 'yes', '201']);
    const versions = await centre.db.selectFrom('callVersion').select('version').where('callId', '=', sealed.id).execute();
    assert.deepEqual(versions.map((v) => v.version), [1]);
  });

  test('disconnects mid-call: reconnect with backoff; a hangup lost while disconnected is found by the channel list; the files recover the rest', async () => {
    const s = await setup({ speed: 2 });
    await waitFor('AMI connected', () => s.agent.ami!.client.status.state === 'connected');
    const firstNew = when(s.ami, (b) => get(b, 'Event') === 'Newchannel');
    const answered = when(s.ami, (b) => get(b, 'Event') === 'DialEnd' && get(b, 'DialStatus') === 'ANSWER' && (get(b, 'DestChannel') ?? '').startsWith('Local/201@'));
    const done = new Promise((r) => s.ami.once('done', r));
    s.ami.play();
    // Drop 1: right after the call's first channel appears; reconnecting is allowed at once.
    await firstNew;
    s.ami.dropClients();
    await waitFor('reconnected', () => s.agent.ami!.client.status.connects >= 2, 5000, 10);
    await waitFor('the call in progress despite the drop', async () => (await s.row()).find((r) => r.callKey === KEY && r.liveState === 'in_progress'), 5000, 20);
    // Drop 2: when the operator answers, and the PBX refuses connections until the call is over.
    await answered;
    s.ami.dropClients();
    s.ami.refuse(true);
    await done;
    s.ami.refuse(false);
    const ended = await waitFor('ended, found by CoreShowChannels after the reconnect', async () => (await s.row()).find((r) => r.callKey === KEY && r.liveState === 'ended'), 8000, 20);
    assert.ok(s.agent.ami!.client.status.connects >= 3);
    assert.ok(s.lines.some((l) => l.msg === 'AMI connection lost; reconnecting'));
    assert.ok(!existsSync(s.files.cdr));
    assert.equal(ended.currentVersion, 0);
    await s.writeFiles();
    await waitFor('the sealed version', async () => (await s.row()).find((r) => r.callKey === KEY && r.currentVersion === 1 && r.liveState === null), 20_000, 50);
    assert.equal((await s.row()).length, 1);
  });

  test('a wrong password is a clear error in the agent\'s status, retried with backoff', async () => {
    const s = await setup({ secret: 'wrong' });
    await waitFor('auth_failed in the status file', async () => (await readAmiStatus(s.stateDir)).pbx?.state === 'auth_failed', 5000, 20);
    const st = (await readAmiStatus(s.stateDir)).pbx!;
    assert.equal(st.error, "the PBX refused the login as 'edge': Authentication failed");
    assert.deepEqual([st.host, st.username], ['127.0.0.1', 'edge']);
    assert.ok(!JSON.stringify(st).includes('wrong'), 'the secret is never in the status');
    await waitFor('retried', () => s.ami.logins.failed >= 3, 5000, 20);
    assert.equal(s.ami.logins.ok, 0);
    const err = s.lines.find((l) => l.msg.startsWith('AMI login refused'));
    assert.ok(err && err.level === 'error');
  });
});
