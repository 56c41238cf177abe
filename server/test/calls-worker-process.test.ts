import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TEST_ENV } from '../../test-support/src/env.ts';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('calls: the worker process (server/src/worker.ts)', () => {
  let centre: TestCentre;
  before(async () => {
    centre = await startCentre();
  });
  after(() => centre.close());

  test('reads its config from the environment, derives a recording, registers its schedules and stops on SIGTERM', async () => {
    const bad = spawn(process.execPath, ['--import', 'tsx', 'server/src/worker.ts'], { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: 'mysql://x' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let badErr = '';
    bad.stderr.on('data', (c: Buffer) => (badErr += c.toString()));
    assert.equal(await new Promise((r) => bad.on('close', r)), 2, 'bad config: exit 2');
    assert.match(badErr, /DATABASE_URL: must be a postgres:\/\/ URL/);
    assert.match(badErr, /S3_BUCKET/);

    const s = await centre.createSite();
    const agent = agentClient(() => centre.url, (await centre.enrollAgent(s.token)).credential);
    const f = FIXTURE_FILES[0]!;
    assert.equal((await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload({ recordings: [fixturePayload().recordings[0]!] }))).status, 201);
    const up = (await (await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).json()) as { recordingId: string };

    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: centre.databaseUrl,
      REDIS_URL: TEST_ENV.redisUrl,
      S3_ENDPOINT: TEST_ENV.s3Endpoint,
      S3_ACCESS_KEY: TEST_ENV.s3AccessKey,
      S3_SECRET_KEY: TEST_ENV.s3SecretKey,
      S3_BUCKET: centre.store.bucket,
      QUEUE_PREFIX: centre.queuePrefix,
    };
    const w = spawn(process.execPath, ['--import', 'tsx', 'server/src/worker.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    w.stdout.on('data', (c: Buffer) => (out += c.toString()));
    w.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => w.on('close', r));
    try {
      const t0 = Date.now();
      for (;;) {
        const r = await centre.services.repos.recordings.findById(up.recordingId);
        if (r?.derive.status === 'done') break;
        assert.notEqual(r?.derive.status, 'failed', r?.derive.error ?? '');
        if (Date.now() - t0 > 40_000) assert.fail(`worker did not derive in time; its output:\n${out}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.match(out, /"msg":"worker started"/);
      const schedulers = await centre.redis.keys(`${centre.queuePrefix}:mamoru:repeat*`);
      assert.ok(schedulers.length > 0, 'recording.derive-sweep is scheduled');
    } finally {
      w.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `clean exit on SIGTERM; output:\n${out}`);
    assert.match(out, /"msg":"stopping: finishing active jobs"/);
  });
});
