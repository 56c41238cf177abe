/** Agent configuration: every problem listed, env overrides, defaults, secrets never shown. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cameraDeviceInfo, describeCamera, loadConfig, redactConfig, validateConfig } from '../src/config.ts';
import { createLogger } from '../src/lib/logger.ts';
import { tempDir } from './helpers/agent.ts';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

const good = {
  server: { url: 'https://centre.example.test/' },
  stateDir: './state',
  spoolDir: './spool',
  cameras: [
    { key: 'regi1', name: 'レジ1', place: 'レジ前', rtspUrl: 'rtsp://admin:s3cretPass@192.0.2.10:554/stream1', transport: 'udp' },
    { key: 'door', name: '入口', onvif: { host: '192.0.2.11', username: 'viewer', password: 'onvifPw!42', profileToken: 'prof_1' } },
  ],
};

describe('agent config', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  test('a valid YAML file gets defaults and absolute folders', async () => {
    const path = join(dir.path, 'agent.yaml');
    await writeFile(
      path,
      `server:\n  url: https://centre.example.test/\nstateDir: ./state\nspoolDir: ./spool\ncameras:\n  - key: regi1\n    name: レジ1\n    rtspUrl: rtsp://admin:s3cretPass@192.0.2.10:554/stream1\n`,
    );
    const r = await loadConfig(path, {});
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const c = r.config;
    assert.equal(c.server.url, 'https://centre.example.test');
    assert.equal(c.stateDir, join(dir.path, 'state'));
    assert.equal(c.spoolDir, join(dir.path, 'spool'));
    assert.equal(c.heartbeatSeconds, 30);
    assert.equal(c.recording.segmentSeconds, 60);
    assert.equal(c.recording.ffmpegPath, 'ffmpeg');
    assert.equal(c.upload.bandwidthBytesPerSecond, 0);
    assert.deepEqual(c.upload.backoff, { baseMs: 1000, capMs: 300_000 });
    assert.equal(c.cameras[0]!.uploadMode, 'continuous');
    assert.equal(c.cameras[0]!.transport, 'tcp');
    assert.ok(r.secrets.includes('s3cretPass'));
  });

  test('the shipped example config is valid', async () => {
    const r = await loadConfig(new URL('../agent.example.yaml', import.meta.url).pathname, {});
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.equal(r.config.cameras.length, 2);
    assert.ok(r.secrets.includes('change-me'));
  });

  test('JSON works too, and environment variables override the file', () => {
    const r = validateConfig(good, {
      MAMORU_AGENT_SERVER_URL: 'http://127.0.0.1:8080',
      MAMORU_AGENT_STATE_DIR: '/var/lib/mamoru/state',
      MAMORU_AGENT_SPOOL_DIR: '/var/lib/mamoru/spool',
      MAMORU_AGENT_UPLOAD_BPS: '250000',
      MAMORU_AGENT_HEARTBEAT_SECONDS: '5',
      MAMORU_AGENT_BACKOFF_BASE_MS: '200',
      MAMORU_AGENT_BACKOFF_CAP_MS: '9000',
      MAMORU_AGENT_DISK_MAX_USE_PERCENT: '80',
      MAMORU_AGENT_DISK_MIN_FREE_BYTES: '1000',
      MAMORU_AGENT_MAX_SPOOL_BYTES: '5000000',
      MAMORU_AGENT_SEGMENT_SECONDS: '10',
      MAMORU_AGENT_FFMPEG_PATH: '/opt/ffmpeg',
      MAMORU_AGENT_FFPROBE_PATH: '/opt/ffprobe',
      MAMORU_AGENT_LOG_LEVEL: 'debug',
    });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const c = r.config;
    assert.equal(c.server.url, 'http://127.0.0.1:8080');
    assert.equal(c.stateDir, '/var/lib/mamoru/state');
    assert.equal(c.spoolDir, '/var/lib/mamoru/spool');
    assert.equal(c.upload.bandwidthBytesPerSecond, 250_000);
    assert.equal(c.heartbeatSeconds, 5);
    assert.deepEqual(c.upload.backoff, { baseMs: 200, capMs: 9000 });
    assert.deepEqual(c.disk, { maxUsePercent: 80, minFreeBytes: 1000, maxSpoolBytes: 5_000_000, reserveBytes: 512 * 1024 ** 2, checkSeconds: 15 });
    assert.deepEqual(c.recording, { segmentSeconds: 10, ffmpegPath: '/opt/ffmpeg', ffprobePath: '/opt/ffprobe' });
    assert.equal(c.logLevel, 'debug');
  });

  test('every problem is listed at once, env-sourced ones name their variable', () => {
    const r = validateConfig(
      {
        server: { url: 'ftp://centre' },
        stateDir: '/same',
        spoolDir: '/same',
        heartbeatSeconds: 0,
        upload: { backoff: { baseMs: 5000, capMs: 10 }, speed: 3 },
        disk: { maxUsePercent: 150 },
        cameras: [
          { key: 'bad key!', name: '', rtspUrl: 'rtsp://h/s', onvif: { host: 'h' } },
          { key: 'c1', name: 'no source' },
          { key: 'c1', name: 'dup', rtspUrl: 'http://not-rtsp' },
          { key: 'c2', name: 'x', uploadMode: 'sometimes', transport: 'carrier-pigeon', onvif: { host: '', port: 70000 } },
        ],
        extra: true,
      },
      { MAMORU_AGENT_UPLOAD_BPS: 'fast' },
    );
    assert.equal(r.ok, false);
    const errors = (r as { errors: string[] }).errors;
    const expect = [
      /^upload\.bandwidthBytesPerSecond \(from MAMORU_AGENT_UPLOAD_BPS\): 'fast' is not a number$/,
      /^server\.url: /,
      /^heartbeatSeconds: /,
      /^upload\.backoff\.capMs: capMs must be ≥ baseMs$/,
      /^upload\.speed: unknown key \(known keys here: bandwidthBytesPerSecond, backoff, /,
      /^disk\.maxUsePercent: /,
      /^cameras\.0\.key: /,
      /^cameras\.0\.name: /,
      /^cameras\.0: give exactly one of rtspUrl or onvif$/,
      /^cameras\.1: give exactly one of rtspUrl or onvif$/,
      /^cameras\.2\.rtspUrl: must be an rtsp/,
      /^cameras\.2\.key: duplicate camera key 'c1' \(also cameras\.1\)$/,
      /^cameras\.3\.uploadMode: /,
      /^cameras\.3\.transport: /,
      /^cameras\.3\.onvif\.host: /,
      /^cameras\.3\.onvif\.port: /,
      /^extra: unknown key \(known keys here: server, stateDir, /,
      /^stateDir: must not be the same folder as spoolDir$/,
    ];
    for (const re of expect) assert.ok(errors.some((e) => re.test(e)), `missing ${re}\n${errors.join('\n')}`);
    assert.equal(errors.length, expect.length, errors.join('\n'));
  });

  test('a pbx section is validated with the PBX side\'s schema, its problems listed with the rest', () => {
    const ok = validateConfig({ ...good, pbx: { id: 'main-pbx', adapter: 'asterisk-files', monitorDir: '/var/spool/asterisk/monitor', cdrCsv: '/var/log/asterisk/cdr-csv/Master.csv' } });
    assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.errors));
    assert.equal(ok.config.pbx?.timezone, 'Asia/Tokyo');
    assert.equal(validateConfig(good).ok && validateConfig(good).ok, true);
    const bad = validateConfig({ ...good, heartbeatSeconds: 0, pbx: { id: 'bad id', adapter: 'asterisk-files', timezone: 'Mars/Base', cdrCsv: '/x' } });
    assert.equal(bad.ok, false);
    const errors = (bad as { errors: string[] }).errors;
    for (const p of ['heartbeatSeconds: ', 'pbx.id: ', 'pbx.timezone: ', 'pbx.monitorDir: ']) assert.ok(errors.some((e) => e.startsWith(p)), `${p} in\n${errors.join('\n')}`);
  });

  test('misspelt keys inside the pbx section (and anywhere else) are refused with their path and a suggestion', () => {
    const r = validateConfig({
      ...good,
      uplaod: {},
      pbx: { id: 'main-pbx', adapter: 'asterisk-files', monitorDir: '/m', cdrCsv: '/c', timeZone: 'Asia/Tokyo', celFile: '/var/log/asterisk/cel-custom/Master.csv', inboundContext: ['from-trunk'] },
    });
    assert.equal(r.ok, false, 'before: the pbx section ignored unknown keys');
    const errors = (r as { errors: string[] }).errors;
    for (const line of [
      "pbx.timeZone: unknown key (did you mean 'pbx.timezone'?)",
      "pbx.celFile: unknown key (did you mean 'pbx.cel'?)",
      "pbx.inboundContext: unknown key (did you mean 'pbx.inboundContexts'?)",
      "uplaod: unknown key (did you mean 'upload'?)",
    ]) assert.ok(errors.includes(line), `${line} in\n${errors.join('\n')}`);
    const drop = validateConfig({ ...good, pbx: { id: 'p', adapter: 'drop-folder', dropDir: '/d', manifest: { columns: { start: 0, calerNumber: 1 } } } });
    assert.ok(!drop.ok && drop.errors.includes("pbx.manifest.columns.calerNumber: unknown key (did you mean 'pbx.manifest.columns.callerNumber'?)"), JSON.stringify(!drop.ok && drop.errors));
  });

  test('the pbx.ami secret is masked in what is shown and handed to the log masker', () => {
    const r = validateConfig({ ...good, pbx: { id: 'p', adapter: 'asterisk-files', monitorDir: '/m', cdrCsv: '/c', ami: { host: '192.0.2.5', username: 'mamoru', secret: 's3cr3t-value' } } });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.ok(r.secrets.includes('s3cr3t-value'));
    assert.ok(!JSON.stringify(redactConfig(r.config)).includes('s3cr3t-value'));
    assert.equal(r.config.pbx?.adapter === 'asterisk-files' && r.config.pbx.ami?.port, 5038);
  });

  test('env values that are wrong are reported against the variable', () => {
    const r = validateConfig(good, { MAMORU_AGENT_SERVER_URL: 'not a url', MAMORU_AGENT_HEARTBEAT_SECONDS: '-3' });
    assert.equal(r.ok, false);
    const errors = (r as { errors: string[] }).errors;
    assert.ok(errors.includes('server.url (from MAMORU_AGENT_SERVER_URL): must be an http:// or https:// URL'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('heartbeatSeconds (from MAMORU_AGENT_HEARTBEAT_SECONDS): ')), errors.join('\n'));
  });

  test('the CLI lists the problems on stderr and exits 2; a broken or missing file too', async () => {
    const bad = join(dir.path, 'bad.yaml');
    await writeFile(bad, 'server: {url: nope}\ncameras: [{key: "a b", name: x}]\n');
    const e = await run(process.execPath, ['--import', 'tsx', MAIN, 'check-config', '--config', bad]).then(
      () => assert.fail('should exit non-zero'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(e.code, 2);
    assert.match(e.stderr, /invalid configuration/);
    for (const s of ['server.url', 'stateDir', 'spoolDir', 'cameras.0.key', 'cameras.0: give exactly one']) assert.ok(e.stderr.includes(s), `${s} in\n${e.stderr}`);

    const broken = join(dir.path, 'broken.yaml');
    await writeFile(broken, 'server: [unclosed\n');
    const e2 = await run(process.execPath, ['--import', 'tsx', MAIN, 'check-config', '--config', broken]).catch((err: { code: number; stderr: string }) => err);
    assert.equal((e2 as { code: number }).code, 2);
    assert.match((e2 as { stderr: string }).stderr, /not valid YAML\/JSON/);

    // `discover` is wired with its own options; a bad one is a usage error before any probe is sent.
    const e4 = await run(process.execPath, ['--import', 'tsx', MAIN, 'discover', '--timeout', '5']).catch((err: { code: number; stderr: string }) => err);
    assert.equal((e4 as { code: number }).code, 2);
    assert.match((e4 as { stderr: string }).stderr, /--timeout must be an integer/);
    const e5 = await run(process.execPath, ['--import', 'tsx', MAIN, 'frobnicate']).catch((err: { code: number; stderr: string }) => err);
    assert.equal((e5 as { code: number }).code, 2);
    assert.match((e5 as { stderr: string }).stderr, /unknown command 'frobnicate'/);

    const e3 = await run(process.execPath, ['--import', 'tsx', MAIN, 'check-config', '--config', join(dir.path, 'missing.yaml')]).catch((err: { code: number; stderr: string }) => err);
    assert.equal((e3 as { code: number }).code, 2);
    assert.match((e3 as { stderr: string }).stderr, /cannot read the config file \(ENOENT\)/);
  });

  test('camera credentials never appear in what is shown, logged or sent', async () => {
    const r = validateConfig(good, {});
    assert.ok(r.ok);
    const shown = JSON.stringify(redactConfig(r.config)) + JSON.stringify(r.config.cameras.map(describeCamera)) + JSON.stringify(r.config.cameras.map(cameraDeviceInfo));
    for (const secret of ['s3cretPass', 'onvifPw!42', 'admin:', 'viewer']) assert.ok(!shown.includes(secret), `${secret} leaked: ${shown}`);
    assert.match(shown, /rtsp:\/\/\*\*\*@192\.0\.2\.10:554\/stream1/);
    assert.deepEqual(cameraDeviceInfo(r.config.cameras[0]!), { kind: 'rtsp', transport: 'udp' });

    // The logger masks them even if a careless caller logs the raw config.
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.addSecrets(...r.secrets);
    log.info('oops', { cameras: r.config.cameras, url: 'rtsp://someone:pw@cam/x' });
    assert.ok(!lines[0]!.includes('s3cretPass') && !lines[0]!.includes('onvifPw!42') && !lines[0]!.includes('someone:pw'), lines[0]);

    // The CLI's check-config output is redacted.
    const path = join(dir.path, 'good.json');
    await writeFile(path, JSON.stringify(good));
    const out = await run(process.execPath, ['--import', 'tsx', MAIN, 'check-config', '--config', path]);
    assert.ok(!out.stdout.includes('s3cretPass') && !out.stdout.includes('onvifPw!42'), out.stdout);
    assert.match(out.stdout, /"key": "regi1"/);
  });
});
