import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PermanentJobError } from '../src/jobs/definitions.ts';
import { fixedClock } from '../src/adapters/clock.ts';
import type { JobWorker } from '../src/jobs/queue.ts';
import { orphanSweepService } from '../src/services/orphan-sweep.service.ts';
import { timeRefusals } from '../src/services/time-refusal.ts';
import { callIngestService } from '../src/services/call-ingest.service.ts';
import { agentClient, errorOf, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload, sha256 } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

type Link = { url: string; expiresAt: string };
type RecordingView = {
  id: string;
  name: string;
  role: string;
  sha256: string;
  size: number;
  stored: boolean;
  original: Link | null;
  playable: (Link & { mediaType: string; codec: string; size: number; durationS: number }) | null;
  waveform: (Link & { bucketMs: number }) | null;
  derive: { status: string; error: string | null; attempts: number; jobId: string | null };
};
type CallDetail = { id: string; site: { timezone: string }; legs: { raw: string }[]; versions: { version: number; payloadSha256: string }[]; recordings: RecordingView[] };

async function ffprobe(file: string) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels:format=duration,format_name', '-of', 'json', file], { env: { ...process.env, TZ: 'UTC' } });
  const j = JSON.parse(stdout) as { streams: { codec_name: string; sample_rate: string; channels: number }[]; format: { duration: string; format_name: string } };
  return { codec: j.streams[0]?.codec_name, channels: j.streams[0]?.channels, durationS: Number(j.format.duration), format: j.format.format_name };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('calls: recordings derived by the worker', () => {
  let centre: TestCentre;
  let agent: ReturnType<typeof agentClient>;
  let callId: string;
  let dir: string;
  let worker: JobWorker;
  let stereo: { bytes: Buffer; name: string; callKey: string; recordingId?: string };
  const admin = () => ({ authorization: `Bearer ${centre.adminToken}` });
  const detail = async (id: string) => {
    const r = await fetch(`${centre.url}/api/v1/calls/${id}`, { headers: admin() });
    assert.equal(r.status, 200);
    return (await r.json()) as CallDetail;
  };
  const fetchBytes = async (url: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${centre.url}${url}`, { headers });
    return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'calls-derive-'));
    centre = await startCentre();
    const s = await centre.createSite();
    agent = agentClient(() => centre.url, (await centre.enrollAgent(s.token)).credential);
    const r = await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(r.status, 201);
    callId = ((await r.json()) as { callId: string }).callId;

    // A 5 s stereo recording (caller left, operator right at a tenth of the level), generated here.
    const file = path.join(dir, 'stereo.wav');
    await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=5', '-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=8000:duration=5', '-filter_complex', '[1]volume=0.1[r];[0][r]join=inputs=2:channel_layout=stereo', '-c:a', 'pcm_s16le', file], { env: { ...process.env, TZ: 'UTC' } });
    stereo = { bytes: await readFile(file), name: 'stereo-1795459000.5.wav', callKey: 'main-pbx:1795459000.5' };
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an original whose stored bytes no longer match its hash is never derived', async () => {
    const decl = { name: stereo.name, role: 'stereo' as const, format: 'wav', sampleRate: 8000, channels: 2, durationS: 5, size: stereo.bytes.length, sha256: sha256(stereo.bytes) };
    assert.equal((await agent.putVersion(stereo.callKey, 1, fixturePayload({ linkedId: '1795459000.5', legs: [], recordings: [decl] }))).status, 201);
    const up = await agent.putRecording(stereo.callKey, stereo.name, stereo.bytes);
    assert.equal(up.status, 201);
    const { recordingId, callId: stereoCall } = (await up.json()) as { recordingId: string; callId: string };
    stereo.recordingId = recordingId;
    const rec = (await centre.services.repos.recordings.findById(recordingId))!;

    // Someone alters the object behind the database's back (no worker is running yet).
    const altered = Buffer.from(stereo.bytes);
    altered[5000] = altered[5000]! ^ 0x55;
    await centre.store.put(rec.objectKey!, Readable.from(altered), altered.length);
    await assert.rejects(
      centre.workerServices().derive.derive(recordingId, { attempt: 1, maxAttempts: 5, jobId: null, progress: async () => undefined }),
      (e: Error) => e instanceof PermanentJobError && e.message.startsWith('original_hash_mismatch'),
    );
    const after = (await centre.services.repos.recordings.findById(recordingId))!;
    assert.equal(after.derive.status, 'failed');
    assert.match(after.derive.error ?? '', /original_hash_mismatch/);
    assert.equal(after.playable, null);
    assert.equal(await centre.objectCount(`calls/${rec.siteId}/${stereoCall}/`), 1, 'no derivative was written');

    // Put the genuine bytes back: the queued job (run by the worker in the next test) derives it.
    await centre.store.put(rec.objectKey!, Readable.from(stereo.bytes), stereo.bytes.length);
  });

  test('the worker makes a playable AAC copy and a waveform of each recording', async () => {
    for (const f of FIXTURE_FILES) assert.equal((await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes)).status, 201);
    worker = centre.startWorker(1);
    const d = await waitFor('derivations', async () => {
      const x = await detail(callId);
      return x.recordings.every((r) => r.derive.status === 'done') ? x : undefined;
    });
    assert.equal(d.site.timezone, 'Asia/Tokyo');
    assert.equal(d.legs.length, 3);
    assert.ok(d.legs.some((l) => l.raw.includes('"Dial","Local/201@operator-phone/n,30"')));
    assert.equal(d.versions.length, 1);
    assert.equal(d.recordings.length, 3);

    for (const r of d.recordings) {
      const f = FIXTURE_FILES.find((x) => x.name === r.name)!;
      assert.equal(r.role, f.role);
      assert.equal(r.sha256, sha256(f.bytes));
      assert.equal(r.derive.attempts, 1);
      assert.equal(r.derive.error, null);
      // Playable copy, through the signed link alone (no bearer): AAC, same length as the original.
      const p = await fetchBytes(r.playable!.url);
      assert.equal(p.status, 200);
      assert.equal(p.headers.get('content-type'), 'audio/mp4');
      const file = path.join(dir, `${r.id}.m4a`);
      await writeFile(file, p.bytes);
      const probe = await ffprobe(file);
      assert.equal(probe.codec, 'aac');
      assert.ok(Math.abs(probe.durationS - 26.48) < 0.1, `playable lasts ${probe.durationS} s`);
      assert.ok(Math.abs(r.playable!.durationS - 26.48) < 0.1);
      // Waveform: peaks per 100 ms over the whole recording.
      const w = await fetchBytes(r.waveform!.url);
      assert.equal(w.status, 200);
      const wf = JSON.parse(w.bytes.toString()) as { bucketMs: number; channels: number; durationMs: number; peaks: number[][]; sourceSha256: string };
      assert.equal(wf.bucketMs, 100);
      assert.equal(wf.channels, 1);
      assert.equal(wf.sourceSha256, r.sha256);
      assert.ok(Math.abs(wf.durationMs - 26_480) <= 1, `waveform covers ${wf.durationMs} ms`);
      assert.equal(wf.peaks[0]!.length, 265);
      assert.ok(wf.peaks[0]!.every((v) => v >= 0 && v <= 1));
      assert.ok(Math.max(...wf.peaks[0]!) > 0.05, 'the recording is not silent');
      // The original, byte for byte.
      const o = await fetchBytes(r.original!.url);
      assert.equal(sha256(o.bytes), sha256(f.bytes));
      assert.equal(o.headers.get('x-content-sha256'), r.sha256);
    }
    // The caller channel (rx) is silent during the notice (0-5.1 s); the operator channel (tx) carries it.
    const wave = async (role: string) => JSON.parse((await fetchBytes(d.recordings.find((r) => r.role === role)!.waveform!.url)).bytes.toString()) as { peaks: number[][] };
    const rx = (await wave('caller')).peaks[0]!;
    const tx = (await wave('operator')).peaks[0]!;
    assert.ok(Math.max(...tx.slice(5, 45)) > Math.max(...rx.slice(5, 45)), 'notice is on the operator side');

    // The stereo recording whose original was put back is derived too, per channel.
    const s = await waitFor('stereo derivation', async () => {
      const r = await centre.services.repos.recordings.findById(stereo.recordingId!);
      return r?.derive.status === 'done' ? r : undefined;
    });
    const swf = JSON.parse((await fetchBytes(`/api/v1/media/recordings/${s.id}/waveform`, admin())).bytes.toString()) as { channels: number; peaks: number[][] };
    assert.equal(swf.channels, 2);
    assert.ok(Math.max(...swf.peaks[0]!) > 5 * Math.max(...swf.peaks[1]!), 'left louder than right');
    const sp = await fetchBytes(`/api/v1/media/recordings/${s.id}/playable`, admin());
    await writeFile(path.join(dir, 'stereo.m4a'), sp.bytes);
    const sprobe = await ffprobe(path.join(dir, 'stereo.m4a'));
    assert.deepEqual([sprobe.codec, sprobe.channels], ['aac', 2]);
    assert.ok(Math.abs(sprobe.durationS - 5) < 0.1);
  });

  test('media answers Range requests with 206 and refuses bad or expired links', async () => {
    const d = await detail(callId);
    const r = d.recordings[0]!;
    const full = await fetchBytes(r.playable!.url);
    const part = await fetchBytes(r.playable!.url, { range: 'bytes=100-1099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-1099/${full.bytes.length}`);
    assert.deepEqual(part.bytes, full.bytes.subarray(100, 1100));
    const tail = await fetchBytes(r.original!.url, { range: 'bytes=-44' });
    assert.equal(tail.status, 206);
    assert.equal(tail.bytes.length, 44);
    const f = FIXTURE_FILES.find((x) => x.name === r.name)!;
    assert.deepEqual(tail.bytes, f.bytes.subarray(f.bytes.length - 44));

    const bad = await fetch(`${centre.url}${r.original!.url.replace(/sig=[^&]+/, 'sig=forged')}`);
    assert.equal(bad.status, 403);
    assert.equal((await errorOf(bad)).code, 'media_link_invalid');
    const other = await fetch(`${centre.url}${r.original!.url.replace('/original?', '/playable?')}`);
    assert.equal(other.status, 403, 'a link is for one object kind only');
    const expired = await fetch(`${centre.url}${r.original!.url.replace(/exp=\d+/, `exp=${Math.floor(Date.now() / 1000) - 10}`)}`);
    assert.equal(expired.status, 403);
    const range = await fetch(`${centre.url}${r.original!.url}`, { headers: { range: `bytes=${r.size}-` } });
    assert.equal(range.status, 416);
    assert.equal(range.headers.get('content-range'), `bytes */${r.size}`);
    assert.equal((await errorOf(range)).code, 'range_not_satisfiable');
    const nothing = await fetch(`${centre.url}/api/v1/media/recordings/${r.id}/original`);
    assert.equal(nothing.status, 403);
    const unknown = await fetch(`${centre.url}/api/v1/media/recordings/00000000-0000-4000-8000-000000000000/original`, { headers: admin() });
    assert.equal(unknown.status, 404);
    const notACall = await fetch(`${centre.url}/api/v1/calls/not-a-uuid`, { headers: admin() });
    assert.equal(notACall.status, 404);
    assert.equal((await fetch(`${centre.url}/api/v1/calls/${callId}`)).status, 401);
  });

  test('Chromium plays the playable copy', async (t) => {
    if (!existsSync(CHROMIUM)) return t.skip(`no browser at ${CHROMIUM}`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${centre.url}/api/v1/time`); // same origin as the media links
      const r = (await detail(callId)).recordings.find((x) => x.role === 'mixed')!;
      // Browser code as text: this project's TypeScript has no DOM library.
      const played = (await page.evaluate(`(async (src) => {
        const a = document.createElement('audio');
        a.muted = true;
        a.preload = 'auto';
        a.src = src;
        document.body.appendChild(a);
        await new Promise((resolve, reject) => {
          a.onloadedmetadata = resolve;
          a.onerror = () => reject(new Error('media error ' + (a.error && a.error.code)));
        });
        const duration = a.duration;
        await a.play();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return { duration, currentTime: a.currentTime, paused: a.paused, error: a.error ? a.error.code : null };
      })(${JSON.stringify(r.playable!.url)})`)) as { duration: number; currentTime: number; paused: boolean; error: number | null };
      assert.equal(played.error, null);
      assert.ok(Math.abs(played.duration - 26.48) < 0.1, `browser duration ${played.duration}`);
      assert.ok(played.currentTime > 0.5, `playback advanced to ${played.currentTime} s`);
      assert.equal(played.paused, false);
    } finally {
      await browser.close();
    }
  });

  test('running the derivation again creates no second object or row, and the original never changes', async () => {
    const objects = await centre.objectCount('calls/');
    assert.equal(objects, 4 * 3, 'four originals, each with a playable copy and a waveform');
    const rows = await centre.db.selectFrom('recording').selectAll().orderBy('id').execute();
    const r0 = rows.find((r) => r.callId === callId)!;
    const noop = async () => undefined;
    // Done already: the handler skips.
    const again = await centre.workerServices().derive.derive(r0.id, { attempt: 1, maxAttempts: 5, jobId: null, progress: noop });
    assert.deepEqual(again, { status: 'skipped', reason: 'already_derived' });
    // Forced (status reset, as after a crash between upload and the row update): same keys, overwritten.
    await centre.db.updateTable('recording').set({ deriveStatus: 'pending' }).where('id', '=', r0.id).execute();
    const forced = await centre.workerServices().derive.derive(r0.id, { attempt: 1, maxAttempts: 5, jobId: null, progress: noop });
    assert.equal(forced.status, 'derived');
    assert.equal(forced.playableKey, r0.playableKey);
    assert.equal(forced.waveformKey, r0.waveformKey);
    // The same job enqueued again is the same job (dedupe id) and does not run twice.
    const jobId = await centre.jobs.enqueue('recording.derive', { recordingId: r0.id });
    assert.equal(jobId, r0.deriveJobId);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await centre.objectCount('calls/'), objects);
    const rowsAfter = await centre.db.selectFrom('recording').selectAll().orderBy('id').execute();
    assert.equal(rowsAfter.length, rows.length);
    for (const r of rowsAfter) {
      assert.equal(r.deriveStatus, 'done');
      const chunks: Buffer[] = [];
      for await (const c of await centre.store.read(r.objectKey!)) chunks.push(c as Buffer);
      assert.equal(sha256(Buffer.concat(chunks)), r.sha256.toString('hex'), `${r.name}: original unchanged`);
    }
  });

  test('the orphan sweep, given recordings as the owner of calls/, keeps every original and derivative', async () => {
    const before = await centre.objectCount('calls/');
    // A derivative uploaded by a worker that died before updating the row: nothing points at it.
    await centre.store.put('calls/x/y/z/playable.m4a', Readable.from([Buffer.alloc(100)]), 100);
    const recs = centre.services.repos.recordings;
    const sweep = orphanSweepService({ store: centre.store, clock: fixedClock(new Date(Date.now() + 2 * 86400_000)), graceSeconds: 86400, owners: [{ prefix: 'calls/', referenced: (keys) => recs.referencedObjectKeys(keys) }] });
    const r = await sweep.sweep();
    assert.deepEqual(r.removed, ['calls/x/y/z/playable.m4a']);
    assert.equal(await centre.objectCount('calls/'), before);
  });

  test('job state is visible in the API', async () => {
    const d = await detail(callId);
    const jobId = d.recordings[0]!.derive.jobId!;
    const r = await fetch(`${centre.url}/api/v1/jobs/${encodeURIComponent(jobId)}`, { headers: admin() });
    assert.equal(r.status, 200);
    const job = (await r.json()) as { name: string; state: string; progress: { step: string }; attemptsMade: number; maxAttempts: number; result: { status: string } };
    assert.equal(job.name, 'recording.derive');
    assert.equal(job.state, 'completed');
    assert.deepEqual(job.progress, { step: 'done' });
    assert.equal(job.maxAttempts, 5);
    assert.equal(job.result.status, 'derived');
    assert.equal((await fetch(`${centre.url}/api/v1/jobs/${encodeURIComponent(jobId)}`)).status, 401);
    const missing = await fetch(`${centre.url}/api/v1/jobs/nope`, { headers: admin() });
    assert.equal(missing.status, 404);
    assert.equal((await errorOf(missing)).code, 'job_not_found');
    // The stereo recording's job failed once by hand (hash mismatch) and then succeeded in the worker.
    const s = (await centre.services.repos.recordings.findById(stereo.recordingId!))!;
    assert.equal(s.derive.attempts, 2);
    assert.equal(s.derive.error, null);
  });

  test('an upload succeeds when the queue is down, and the sweep queues derivations that lost their job', async () => {
    await worker.close();
    const s = await centre.createSite();
    const a2 = agentClient(() => centre.url, (await centre.enrollAgent(s.token)).credential);
    const [f0, f1] = FIXTURE_FILES as [(typeof FIXTURE_FILES)[0], (typeof FIXTURE_FILES)[0]];
    const r = await a2.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload({ recordings: fixturePayload().recordings.slice(0, 2) }));
    assert.equal(r.status, 201);

    // Redis down at upload time: the original is stored, the job is not queued, the answer is still success.
    const ingest = callIngestService({
      calls: centre.services.repos.calls,
      recordings: centre.services.repos.recordings,
      store: centre.store,
      clock: { now: () => new Date() },
      jobs: { enqueue: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) },
      maxRecordingBytes: 1024 ** 2,
      timeChecks: timeRefusals({ agents: centre.services.repos.agents, audit: centre.services.audit, clock: { now: () => new Date() } }),
    });
    const principal = { kind: 'agent' as const, agentId: (await centre.db.selectFrom('agent').select('id').where('siteId', '=', s.siteId).executeTakeFirstOrThrow()).id, siteId: s.siteId, origin: { ip: null, userAgent: null, requestId: null, purpose: null } };
    const lost = await ingest.putRecording(principal, FIXTURE_CALL_KEY, f0.name, { sha256: sha256(f0.bytes), size: f0.bytes.length, mediaType: 'audio/wav' }, Readable.from(f0.bytes), f0.bytes.length);
    assert.equal(lost.status, 'created');
    assert.deepEqual([lost.recording.derive.status, lost.recording.derive.jobId], ['pending', null]);

    // A job that vanished from Redis (e.g. a Redis restart without persistence).
    const up = await a2.putRecording(FIXTURE_CALL_KEY, f1.name, f1.bytes);
    const vanished = (await up.json()) as { recordingId: string; derive: { jobId: string } };
    await centre.jobs.remove(vanished.derive.jobId);
    assert.equal(await centre.jobs.get(vanished.derive.jobId), null);

    const ids = [lost.recording.id, vanished.recordingId];
    await centre.db.updateTable('recording').set({ deriveUpdatedAt: new Date(Date.now() - 3600_000) }).where('id', 'in', ids).execute();
    const sweep = centre.workerServices().derivationSweep;
    assert.deepEqual(await sweep.sweep(), { requeued: 2 });
    centre.startWorker(1);
    await waitFor('swept derivations', async () => {
      const rows = await Promise.all(ids.map((id) => centre.services.repos.recordings.findById(id)));
      return rows.every((x) => x?.derive.status === 'done') ? true : undefined;
    });
    assert.deepEqual(await sweep.sweep(), { requeued: 0 }, 'nothing left to sweep');
  });
});
