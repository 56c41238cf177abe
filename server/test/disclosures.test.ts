/**
 * Disclosure requests end to end on real PostgreSQL, Redis (BullMQ worker), S3, ffmpeg and Chromium (the pack's PDF):
 * hq records a request; the requester's calls are found at two sites (and nobody else's); decisions are checked;
 * the response package is built by the worker, downloaded, verified with sha256sum, and measured: the stereo
 * recording's operator channel is silent while the caller's samples are unchanged, the chosen range of the mixed
 * recording is silent, the camera window's region is blurred while the rest matches the footage; withheld and
 * masked originals are not in it. Every step leaves its audit event.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { CallPayload } from '@mamoru/contract';
import { agentClient, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload, sha256 } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { makeTsSegments, registerCamera, uploadSegment } from './helpers/footage.ts';
import { api, type Api } from './helpers/incidents.ts';

const exec = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };
const ffmpeg = (args: string[]) => exec('ffmpeg', ['-nostdin', '-hide_banner', '-y', ...args], { env, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function channelPcm(file: string, channel: number): Promise<Buffer> {
  return (await ffmpeg(['-v', 'error', '-i', file, '-af', `pan=mono|c0=c${channel}`, '-f', 's16le', '-c:a', 'pcm_s16le', '-'])).stdout;
}
async function maxVolumeDb(file: string, channel: number, range?: { from: number; to: number }): Promise<number> {
  const trim = range ? `,atrim=start=${range.from}:end=${range.to}` : '';
  const { stderr } = await ffmpeg(['-i', file, '-af', `pan=mono|c0=c${channel}${trim},volumedetect`, '-f', 'null', '-']);
  const m = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr.toString());
  assert.ok(m, 'volumedetect printed nothing');
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}
async function psnr(a: string, b: string, o: { crop?: { x: number; y: number; w: number; h: number }; cover?: { x: number; y: number; w: number; h: number }; from: number; to: number }): Promise<number> {
  const f = (i: number) => {
    let s = `[${i}:v]trim=start=${o.from}:end=${o.to},setpts=PTS-STARTPTS,format=yuv420p`;
    if (o.crop) s += `,crop=${o.crop.w}:${o.crop.h}:${o.crop.x}:${o.crop.y}`;
    if (o.cover) s += `,drawbox=x=${o.cover.x}:y=${o.cover.y}:w=${o.cover.w}:h=${o.cover.h}:color=black:t=fill`;
    return `${s}[s${i}]`;
  };
  const { stderr } = await ffmpeg(['-i', a, '-i', b, '-lavfi', `${f(0)};${f(1)};[s0][s1]psnr`, '-f', 'null', '-']);
  const m = /PSNR .*average:([\d.]+|inf)/.exec(stderr.toString());
  assert.ok(m, `psnr printed nothing: ${stderr.toString().slice(-300)}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

type Item = { id: string; kind: string; site: { code: string }; call: { id: string }; recording: { id: string; name: string; role: string } | null; camera: { key: string } | null; decision: string | null };
type Detail = { id: string; reference: string; status: string; items: Item[]; counts: Record<string, number>; response: { sha256: string | null; size: number | null; error: string | null; progress: Record<string, unknown> | null } };

async function expect201(r: Promise<Response>) {
  const res = await r;
  assert.equal(res.status, 201, await res.text());
}

describe('disclosure requests', () => {
  let centre: TestCentre;
  let hq: Api;
  let hqCookie: string;
  let dir: string;
  let siteA: { siteId: string; code: string };
  let siteB: { siteId: string; code: string };
  let stereoBytes: Buffer;
  let segFiles: string[];
  let detail: Detail;
  const today = new Date().toISOString().slice(0, 10);
  const REQUEST = { requesterName: '山田 太郎', requesterNumber: '03-1234-5678', receivedOn: today, identityCheck: 'photo_id_in_person', identityNote: '運転免許証', deadline: today, searchFrom: '2026-11-01T00:00:00Z', searchTo: '2026-12-01T00:00:00Z' };
  const T0 = new Date('2026-11-23T18:04:58Z'); // footage from here: 3 segments of 10 s

  before(async () => {
    centre = await startCentre({ incidents: { marginBeforeSeconds: 1, marginAfterSeconds: 1 } });
    centre.startWorker();
    hqCookie = await centre.hqCookie();
    hq = api(centre, hqCookie);
    dir = await mkdtemp(path.join(tmpdir(), 'mamoru-disclosure-'));
    const a = await centre.createSite();
    const b = await centre.createSite();
    siteA = a;
    siteB = b;
    const agentA = (await centre.enrollAgent(a.token)).credential;
    const agentB = (await centre.enrollAgent(b.token)).credential;

    // Site A: the fixture call from 0312345678 with its mixed, caller and operator files plus a stereo one, and a camera.
    const caller = FIXTURE_FILES.find((f) => f.role === 'caller')!;
    const operator = FIXTURE_FILES.find((f) => f.role === 'operator')!;
    const stereoPath = path.join(dir, 'in-0501234567-0312345678-20261123-180500-1795457100.0-stereo.wav');
    await ffmpeg(['-v', 'error', '-i', caller.path, '-i', operator.path, '-filter_complex', '[0:a][1:a]amerge=inputs=2', '-c:a', 'pcm_s16le', '-fflags', '+bitexact', '-flags', '+bitexact', stereoPath]);
    stereoBytes = await readFile(stereoPath);
    const base = fixturePayload();
    const payloadA: CallPayload = {
      ...base,
      recordings: [...base.recordings, { name: path.basename(stereoPath), role: 'stereo', format: 'wav', sampleRate: 8000, channels: 2, durationS: 26.48, size: stereoBytes.length, sha256: sha256(stereoBytes) }],
    };
    const ca = agentClient(() => centre.url, agentA);
    await expect201(ca.putVersion(FIXTURE_CALL_KEY, 1, payloadA));
    for (const f of FIXTURE_FILES) await expect201(ca.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes));
    await expect201(ca.putRecording(FIXTURE_CALL_KEY, path.basename(stereoPath), stereoBytes));
    await registerCamera(centre.url, agentA, 'cam-a', { name: 'レジ前', place: '1F' });
    const segs = await makeTsSegments(dir, 3, 10);
    segFiles = segs.map((s) => s.path);
    for (const [i, s] of segs.entries()) {
      const up = await uploadSegment(centre.url, agentA, 'cam-a', new Date(T0.getTime() + i * 10_000), { bytes: s.bytes, sha256: s.sha256, durationMs: 10_000 });
      assert.equal(up.status, 201);
    }

    // Site B: an outbound call to the requester (E.164 only on the called side), and two calls of other numbers.
    const cb = agentClient(() => centre.url, agentB);
    const mixed = FIXTURE_FILES.find((f) => f.role === 'mixed')!;
    const out = (linkedId: string, number: string, e164: string | null, start: string, recordings: CallPayload['recordings'] = []): CallPayload => ({
      ...base,
      linkedId,
      direction: 'outbound',
      caller: { number: '201', name: null, e164: null },
      called: { number, e164 },
      times: { ...base.times, startUtc: start, answerUtc: start, endUtc: new Date(Date.parse(start) + 26_000).toISOString() },
      legs: [],
      recordings,
    });
    await expect201(cb.putVersion('main-pbx:1.1', 1, out('1.1', '+81 3-1234-5678', '+81312345678', '2026-11-25T01:00:00Z', [base.recordings.find((r) => r.role === 'mixed')!])));
    await expect201(cb.putRecording('main-pbx:1.1', mixed.name, mixed.bytes));
    await expect201(cb.putVersion('main-pbx:1.2', 1, out('1.2', '0399990000', '+81399990000', '2026-11-25T02:00:00Z')));
    await expect201(cb.putVersion('main-pbx:1.3', 1, out('1.3', '03123456789', null, '2026-11-25T03:00:00Z')));
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  const auditActions = async (targetId: string) =>
    (await centre.db.selectFrom('auditEvent').select('action').where(sql<boolean>`target_id = ${targetId} OR details->>'requestId' = ${targetId}`).orderBy('id').execute()).map((r) => r.action);
  const rows = async () => Number((await centre.db.selectFrom('disclosureRequest').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('only hq may record a request; bad input is a 400 and stores nothing', async () => {
    for (const role of ['store_manager', 'security', 'auditor', 'admin'] as const) {
      const u = await centre.createUser({ role, siteIds: role === 'store_manager' || role === 'security' ? [siteA.siteId] : [] });
      const r = await api(centre, await centre.sessionCookie(u.id)).post('/disclosures', REQUEST);
      assert.equal(r.status, 403, role);
    }
    const bad: [Record<string, unknown>, string][] = [
      [{ requesterNumber: 'abc-12' }, 'invalid_number'],
      [{ requesterNumber: '123' }, 'invalid_number'],
      [{ deadline: '2020-01-01' }, 'invalid_deadline'],
      [{ receivedOn: '2026-02-30' }, 'invalid_date'],
      [{ identityCheck: 'hearsay' }, 'invalid_request'],
      [{ searchFrom: '2026-12-01T00:00:00Z', searchTo: '2026-11-01T00:00:00Z' }, 'invalid_window'],
    ];
    for (const [patch, code] of bad) {
      const r = await hq.post('/disclosures', { ...REQUEST, ...patch });
      assert.equal(r.status, 400, JSON.stringify(patch));
      assert.equal(r.body.error.code, code, JSON.stringify(patch));
    }
    assert.equal(await rows(), 0);
  });

  test("hq records a request: the requester's calls at both sites are found, nobody else's", async () => {
    const r = await hq.post<Detail>('/disclosures', REQUEST);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    detail = r.body;
    assert.match(detail.reference, /^DR-\d{4}-\d{4}$/);
    assert.equal(detail.status, 'open');
    const shape = detail.items.map((i) => `${i.site.code}:${i.kind}:${i.recording?.role ?? i.camera?.key}`).sort();
    assert.deepEqual(shape, [`${siteA.code}:camera_window:cam-a`, `${siteA.code}:recording:caller`, `${siteA.code}:recording:mixed`, `${siteA.code}:recording:operator`, `${siteA.code}:recording:stereo`, `${siteB.code}:recording:mixed`].sort());
    assert.deepEqual(detail.counts, { items: 6, undecided: 6, disclose: 0, discloseMasked: 0, withhold: 0 });
    // Searching again finds nothing new and keeps the items.
    const again = await hq.post<Detail & { added: number }>(`/disclosures/${detail.id}/search`);
    assert.equal(again.status, 200);
    assert.equal(again.body.added, 0);
    assert.equal(again.body.items.length, 6);
    const list = await hq.get(`/disclosures`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.requests.map((x: { id: string }) => x.id), [detail.id]);
  });

  const item = (pred: (i: Item) => boolean) => detail.items.find(pred)!;
  const put = async (p: string, body: unknown) => {
    const r = await fetch(`${centre.url}/api/v1${p}`, { method: 'PUT', headers: { cookie: hqCookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const decide = (i: Item, body: unknown) => put(`/disclosures/${detail.id}/items/${i.id}/decision`, body);

  test('decisions are checked against the item; nothing changes on a refusal', async () => {
    const op = item((i) => i.recording?.role === 'operator');
    const mixedA = item((i) => i.recording?.role === 'mixed' && i.site.code === siteA.code);
    const cam = item((i) => i.kind === 'camera_window');
    const refusals: [Item, unknown, number, string][] = [
      [op, { decision: 'withhold' }, 400, 'withhold_reason_required'],
      [op, { decision: 'disclose_masked', masking: { muteRanges: [] } }, 400, 'nothing_left_after_masking'],
      [mixedA, { decision: 'disclose_masked', masking: { muteRanges: [] } }, 400, 'masking_empty'],
      [mixedA, { decision: 'disclose', masking: { muteRanges: [{ fromS: 1, toS: 2 }] } }, 400, 'masking_not_applicable'],
      [mixedA, { decision: 'disclose_masked', masking: { muteRanges: [{ fromS: 5, toS: 2 }] } }, 400, 'invalid_masking'],
      [cam, { decision: 'disclose_masked', masking: { regions: [{ x: 0.8, y: 0, w: 0.5, h: 0.5, fromS: 0, toS: 1 }] } }, 400, 'invalid_masking'],
      [cam, { decision: 'disclose_masked', masking: { regions: [] } }, 400, 'masking_empty'],
      [cam, { decision: 'disclose_masked', masking: { regions: [], blurFaces: false, keepFaces: [{ x: 0, y: 0, w: 1, h: 1, fromS: 0, toS: 1 }] } }, 400, 'masking_empty'],
    ];
    for (const [i, body, status, code] of refusals) {
      const r = await decide(i, body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.body.error.code, code, JSON.stringify(body));
    }
    const early = await hq.post(`/disclosures/${detail.id}/response`);
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'undecided_items');
    assert.equal(early.body.error.details.itemIds.length, 6);
    const notFound = await put(`/disclosures/${detail.id}/items/00000000-0000-4000-8000-000000000000/decision`, { decision: 'disclose' });
    assert.equal(notFound.status, 404);
    const d = await hq.get<Detail>(`/disclosures/${detail.id}`);
    assert.equal(d.body.counts.undecided, 6);
  });

  test('the response: built by the worker, masked as decided, verifiable, audited', async () => {
    const op = item((i) => i.recording?.role === 'operator');
    const callerRec = item((i) => i.recording?.role === 'caller');
    const stereo = item((i) => i.recording?.role === 'stereo');
    const mixedA = item((i) => i.recording?.role === 'mixed' && i.site.code === siteA.code);
    const mixedB = item((i) => i.site.code === siteB.code);
    const cam = item((i) => i.kind === 'camera_window');
    const region = { x: 0.25, y: 0.25, w: 0.4, h: 0.4, fromS: 2, toS: 6 };
    for (const [i, body] of [
      [op, { decision: 'withhold', withholdReason: '応対者の音声のみで、請求者の個人データを含まないため' }],
      [callerRec, { decision: 'disclose' }],
      [stereo, { decision: 'disclose_masked', masking: { muteRanges: [] } }],
      [mixedA, { decision: 'disclose_masked', masking: { muteRanges: [{ fromS: 3, toS: 7.5 }] } }],
      [mixedB, { decision: 'disclose' }],
      [cam, { decision: 'disclose_masked', masking: { regions: [region], style: 'blur' } }],
    ] as const) {
      const r = await decide(i, body);
      assert.equal(r.status, 200, `${i.recording?.name ?? i.camera?.key}: ${JSON.stringify(r.body)}`);
    }
    const q = await hq.post(`/disclosures/${detail.id}/response`);
    assert.equal(q.status, 202, JSON.stringify(q.body));
    const busy = await decide(callerRec, { decision: 'disclose' });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'response_building');

    let d: Detail | undefined;
    const t0 = Date.now();
    for (;;) {
      d = (await hq.get<Detail>(`/disclosures/${detail.id}`)).body;
      if (d.status !== 'building') break;
      assert.ok(Date.now() - t0 < 240_000, 'the response took more than 4 minutes');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(d.status, 'ready', `build failed: ${d.response.error}`);
    assert.ok(d.response.progress && (d.response.progress as { percent: number }).percent === 100, JSON.stringify(d.response.progress));

    // Download: the bytes hash to what the request records and what the header says.
    const dl = await fetch(`${centre.url}/api/v1/disclosures/${detail.id}/response`, { headers: { cookie: hqCookie } });
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-type'), 'application/zip');
    const zip = Buffer.from(await dl.arrayBuffer());
    assert.equal(hex(zip), d.response.sha256);
    assert.equal(dl.headers.get('x-content-sha256'), d.response.sha256);
    assert.equal(zip.length, d.response.size);

    const out = path.join(dir, 'response');
    await writeFile(`${out}.zip`, zip);
    await exec('unzip', ['-q', `${out}.zip`, '-d', out]);
    await exec('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: out });
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.kind, 'disclosure');
    assert.equal(manifest.purpose.code, 'data_subject_request');
    assert.equal(manifest.reference, detail.reference);
    assert.equal(manifest.disclosure.decisions.length, 6);
    const masking = manifest.disclosure.masking as { kind: string; role?: string; mutedChannels?: number[]; mutedRanges?: unknown[]; regions?: { x: number; y: number; w: number; h: number; fromS: number; toS: number }[] }[];
    assert.deepEqual(masking.map((m) => `${m.kind}:${m.role ?? ''}`).sort(), ['camera_window:', 'recording:mixed', 'recording:stereo']);
    assert.deepEqual(masking.find((m) => m.role === 'stereo')!.mutedChannels, [1]);
    assert.deepEqual(masking.find((m) => m.role === 'mixed')!.mutedRanges, [{ fromS: 3, toS: 7.5 }]);

    // What is in it: the disclosed originals; not the withheld operator file nor the masked recordings' originals.
    const files = (manifest.files as { path: string; role: string }[]).map((f) => f.path);
    const originals = files.filter((f) => f.startsWith('originals/'));
    const txName = FIXTURE_FILES.find((f) => f.role === 'operator')!.name;
    const rxName = FIXTURE_FILES.find((f) => f.role === 'caller')!.name;
    const mixedName = FIXTURE_FILES.find((f) => f.role === 'mixed')!.name;
    assert.ok(originals.some((f) => f.endsWith(rxName)), 'caller original missing');
    assert.equal(originals.filter((f) => f.endsWith(mixedName)).length, 1, 'only site B mixed original (site A mixed was masked)');
    assert.ok(!files.some((f) => f.includes(txName.replace(/\.wav$/, ''))), 'withheld operator recording is in the package');
    assert.ok(!originals.some((f) => f.endsWith('.ts')), 'camera segments are not disclosed as originals');
    assert.equal(hex(await readFile(path.join(out, originals.find((f) => f.endsWith(rxName))!))), sha256(FIXTURE_FILES.find((f) => f.role === 'caller')!.bytes));

    // Stereo: operator channel silent, caller channel sample for sample the caller's.
    const stereoOut = path.join(out, files.find((f) => f.includes('-stereo_masked.wav'))!);
    assert.ok((await maxVolumeDb(stereoOut, 1)) <= -90, 'operator channel not silent');
    assert.equal(hex(await channelPcm(stereoOut, 0)), hex(await channelPcm(path.join(dir, 'in-0501234567-0312345678-20261123-180500-1795457100.0-stereo.wav'), 0)));
    assert.ok((await maxVolumeDb(stereoOut, 0)) > -20, 'caller channel has speech');
    // Mixed: the range silent, the rest the source's.
    const mixedOut = path.join(out, files.find((f) => f.endsWith('1795457100.0_masked.wav'))!);
    assert.ok((await maxVolumeDb(mixedOut, 0, { from: 3, to: 7.5 })) <= -90);
    const src = await channelPcm(FIXTURE_FILES.find((f) => f.role === 'mixed')!.path, 0);
    const got = await channelPcm(mixedOut, 0);
    assert.equal(hex(got.subarray(0, 3 * 16000 - 2)), hex(src.subarray(0, 3 * 16000 - 2)));
    assert.equal(hex(got.subarray(7.5 * 16000 + 4)), hex(src.subarray(7.5 * 16000 + 4)));

    // Camera: the masked MP4 against the footage itself (both start at the first segment's first frame).
    const video = path.join(out, files.find((f) => f.startsWith('video/') && f.endsWith('_masked.mp4'))!);
    const ref = path.join(dir, 'ref.ts');
    await writeFile(ref, Buffer.concat(await Promise.all(segFiles.map((f) => readFile(f)))));
    const camMask = masking.find((m) => m.kind === 'camera_window')!;
    const px = camMask.regions![0]!;
    assert.deepEqual({ x: px.x, y: px.y, w: px.w, h: px.h }, { x: 80, y: 60, w: 128, h: 96 });
    // The window starts 1 s after the footage; the region's times (2-6 s of the window) are 3-7 s of the MP4.
    assert.deepEqual([px.fromS, px.toS], [3, 7]);
    assert.ok((await psnr(video, ref, { crop: px, from: 3.3, to: 6.7 })) < 22, 'region not blurred');
    assert.ok((await psnr(video, ref, { cover: px, from: 3.3, to: 6.7 })) > 35, 'outside the region changed');
    assert.ok((await psnr(video, ref, { crop: px, from: 0, to: 2.7 })) > 35, 'region changed before its time');
    const probe = JSON.parse((await exec('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'json', video], { env })).stdout) as { streams: { codec_type: string }[] };
    assert.deepEqual(probe.streams.map((s) => s.codec_type), ['video'], 'masked copy has no audio');

    // Sent; afterwards decisions are final.
    const sent = await hq.post<Detail>(`/disclosures/${detail.id}/sent`, { method: '簡易書留で郵送' });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.status, 'sent');
    const late = await decide(callerRec, { decision: 'withhold', withholdReason: 'x' });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'disclosure_sent');

    const actions = await auditActions(detail.id);
    for (const a of ['disclosure.create', 'disclosure.search', 'disclosure.view', 'disclosure.response.request', 'disclosure.response.build', 'disclosure.response.download', 'disclosure.response.send']) assert.ok(actions.includes(a), `${a} not audited`);
    assert.equal(actions.filter((a) => a === 'disclosure.item.decide').length, 6);
    const build = await centre.db.selectFrom('auditEvent').select(['actorType', 'actorLabel', 'details']).where('action', '=', 'disclosure.response.build').executeTakeFirstOrThrow();
    assert.equal(build.actorType, 'system');
    assert.equal((build.details as { sha256: string }).sha256, d.response.sha256);
  });
});
