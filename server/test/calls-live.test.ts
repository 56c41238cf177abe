/**
 * `PUT /api/v1/agent/calls/{callKey}/live`: a call seen live (AMI) before its CDR row; the sealed version replaces
 * it in the same row; live updates after that, or older than the stored one, change nothing; bad input is a 400.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LiveCallInput } from '@mamoru/contract';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { FIXTURE_CALL_KEY, fixturePayload } from './helpers/calls.ts';

let centre: TestCentre;
let agent: { siteId: string; credential: string };
before(async () => {
  centre = await startCentre();
  const site = await centre.createSite();
  agent = await centre.enrollAgent(site.token);
});
after(async () => {
  await centre.close();
});

const live = (over: Partial<LiveCallInput> = {}): LiveCallInput => ({
  pbxId: 'main-pbx',
  linkedId: '1795457100.0',
  adapter: 'asterisk-files',
  seq: 1,
  state: 'in_progress',
  direction: 'inbound',
  directionSource: 'ami',
  caller: { number: '0312345678', name: 'Yamada Taro', e164: '+81312345678' },
  called: { number: '0501234567', e164: '+81501234567' },
  operator: null,
  operators: [],
  startUtc: '2026-11-23T18:05:00Z',
  answerUtc: null,
  pickupUtc: null,
  endUtc: null,
  observedUtc: '2026-11-23T18:05:01Z',
  ...over,
});

const put = (path: string, body: unknown) =>
  fetch(`${centre.url}/api/v1/agent/calls/${encodeURIComponent(FIXTURE_CALL_KEY)}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${agent.credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const row = () => centre.db.selectFrom('call').selectAll().where('siteId', '=', agent.siteId).execute();

test('live, then ended, then the sealed version takes the same row; later or older live updates change nothing', async () => {
  const a = await put('/live', live());
  assert.equal(a.status, 200);
  const { callId, status } = (await a.json()) as { callId: string; status: string };
  assert.equal(status, 'applied');
  let [r] = await row();
  assert.deepEqual([r!.id, r!.currentVersion, r!.liveState, r!.disposition, r!.callerNumber], [callId, 0, 'in_progress', 'unknown', '0312345678']);

  const op = { extension: '201', name: 'Tanaka', rungUtc: '2026-11-23T18:05:05Z', answeredUtc: '2026-11-23T18:05:05.6Z', source: 'ami' as const };
  assert.equal(((await (await put('/live', live({ seq: 3, state: 'ended', operator: { extension: '201', name: 'Tanaka', source: 'ami' }, operators: [op], pickupUtc: '2026-11-23T18:05:05.6Z', endUtc: '2026-11-23T18:05:26Z' }))).json()) as { status: string }).status, 'applied');
  assert.equal(((await (await put('/live', live({ seq: 2 }))).json()) as { status: string }).status, 'stale');
  [r] = await row();
  assert.deepEqual([r!.liveState, r!.operatorExtension, r!.operatorExtensions, r!.durationS, r!.pickupAt?.toISOString()], ['ended', '201', ['201'], 26, '2026-11-23T18:05:05.600Z']);

  const v = await put('/versions/1', fixturePayload());
  assert.equal(v.status, 201);
  assert.equal(((await v.json()) as { callId: string }).callId, callId, 'the sealed version lands in the live call\'s row');
  const rows = await row();
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0]!.currentVersion, rows[0]!.liveState, rows[0]!.noticePlayed], [1, null, 'yes']);

  const late = await put('/live', live({ seq: 9 }));
  assert.equal(((await late.json()) as { status: string }).status, 'superseded');
  assert.equal((await row())[0]!.liveState, null);
});

test('bad live updates are refused and store nothing', async () => {
  const before = (await row()).length;
  assert.equal((await put('/live', live({ linkedId: 'other.1' }))).status, 400);
  assert.equal((await put('/live', live({ state: 'ended', endUtc: null }))).status, 400);
  assert.equal((await put('/live', live({ endUtc: '2026-11-23T18:04:00Z' }))).status, 400);
  assert.equal((await put('/live', { ...live(), extra: 1 })).status, 400);
  assert.equal((await row()).length, before);
});
