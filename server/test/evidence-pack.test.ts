/**
 * Evidence packs (issue 11, parts 1 and 2a): a pack of a case built by the real worker from real footage (ffmpeg
 * segments through the agent API) and the Asterisk fixture call, downloaded and unzipped, verifies with our CLI,
 * with `sha256sum -c` + `openssl pkeyutl -verify`, and one flipped byte anywhere fails each of them, naming the file.
 * The MP4s are stream-copied cuts that start within one keyframe interval of the window; the PDF report is Japanese.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FIXTURE_FILES } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';
import { api } from './helpers/incidents.ts';
import { buildPack, downloadAndUnzip, PACK_REQUEST, type PackCase, setupPackCase } from './helpers/pack.ts';

const run = promisify(execFile);
const env = { ...process.env, TZ: 'UTC' };
const VERIFY_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../verifier/bin/verify-pack.mjs');

/** Runs a command in `cwd`; answers its exit status and output (never throws). */
function sh(cmd: string, args: string[], cwd?: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function flipByte(file: string, at?: number) {
  const b = await readFile(file);
  const i = at ?? Math.floor(b.length / 2);
  b[i] = b[i]! ^ 0x01;
  await writeFile(file, b);
}

describe('evidence packs', () => {
  let centre: TestCentre;
  let dir: string;
  let c: PackCase;
  let pack: any;
  let progressSeen: any[];
  let unzipped: string;
  let manifest: any;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evidence-pack-'));
    centre = await startCentre();
    c = await setupPackCase(centre, dir);
    centre.startWorker();
    const b = await buildPack(centre, c);
    pack = b.pack;
    progressSeen = b.seen;
    unzipped = (await downloadAndUnzip(centre, c, pack.id, path.join(dir, 'pack'))).dir;
    manifest = JSON.parse(await readFile(path.join(unzipped, 'manifest.json'), 'utf8'));
  });
  after(async () => {
    await centre.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the pack is ready, with its hash, signature, fingerprint and progress; request, build and download are audited', async () => {
    assert.equal(pack.status, 'ready');
    assert.equal(pack.purpose, 'police_request');
    assert.equal(pack.reference, PACK_REQUEST.reference);
    assert.equal(pack.legalBasis, PACK_REQUEST.legalBasis);
    assert.match(pack.manifestSha256, /^[0-9a-f]{64}$/);
    const key = await c.hq.get('/pack-signing-key');
    assert.equal(key.status, 200);
    assert.equal(pack.keyFingerprint, key.body.fingerprintSha256);
    assert.equal(pack.progress.percent, 100);
    const job = await centre.jobs.get(`pack.build.${pack.id}`);
    assert.deepEqual([job?.state, (job?.progress as { phase: string }).phase], ['completed', 'done'], 'the job reported its progress');
    const actions = (await centre.db.selectFrom('auditEvent').select(['action', 'outcome', 'targetId', 'actorType']).where('targetId', '=', pack.id).orderBy('id').execute()).map((e) => `${e.actorType}:${e.action}:${e.outcome}`);
    for (const a of ['user:pack.request:success', 'system:pack.build:success', 'user:pack.download:success']) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
    const mode = (await stat(centre.signingKeyFile)).mode & 0o777;
    assert.equal(mode, 0o600, 'the signing key file is 0600');
  });

  test('the ZIP holds the originals byte for byte, one MP4 per camera, the playable calls, the report, the manifest and signatures', async () => {
    const paths = manifest.files.map((f: { path: string }) => f.path);
    const segs = paths.filter((p: string) => p.startsWith('originals/cameras/cam1/'));
    // Segments overlapping [18:05:00, 18:05:26): 18:04:58 … 18:05:26 → 7 of cam1's 9.
    assert.equal(segs.length, 7);
    for (const [i, p] of segs.entries()) assert.ok((await readFile(path.join(unzipped, p))).equals(c.segs1[i]!.bytes), `${p} is the uploaded segment byte for byte`);
    for (const f of FIXTURE_FILES) {
      const p = paths.find((x: string) => x.startsWith('originals/calls/') && x.endsWith(f.name));
      assert.ok(p, `${f.name} in the pack`);
      assert.ok((await readFile(path.join(unzipped, p))).equals(f.bytes), `${f.name} byte for byte`);
    }
    assert.equal(paths.filter((p: string) => p.startsWith('calls/') && p.endsWith('.m4a')).length, 3);
    for (const p of ['report/report.html', 'report/report.pdf', 'README.txt', 'verify.html', 'public-key.pem']) assert.ok(paths.includes(p), p);
    assert.equal(manifest.kind, 'evidence');
    assert.equal(manifest.case.caseNumber, c.caseNumber);
    assert.equal(manifest.purpose.code, 'police_request');
    assert.equal(manifest.builtBy.name, '本部 佐藤');
    assert.deepEqual(manifest.videos.map((v: { camera: { key: string } }) => v.camera.key), ['cam1', 'cam2']);
    const v1 = manifest.videos[0];
    assert.equal(v1.cutFrom.length, 7);
    assert.deepEqual(v1.cutFrom.map((s: { edgeSha256: string }) => s.edgeSha256), c.segs1.slice(0, 7).map((s) => s.sha256));
    for (const s of v1.cutFrom) assert.ok(s.receivedAt && s.storedAt, 'arrival at the centre recorded');
    assert.equal(manifest.videos[1].gaps[0].reason, 'camera_offline');
    assert.equal(manifest.calls[0].recordingNotice, 'yes');
    assert.ok(manifest.custody.some((e: { action: string }) => e.action === 'pack.request'));
    const zipList = sh('unzip', ['-Z1', path.join(dir, 'pack.zip')]);
    assert.equal(zipList.status, 0);
    assert.equal(sh('unzip', ['-tq', path.join(dir, 'pack.zip')]).status, 0, 'unzip -t passes');
  });

  test('each MP4 is a fast-start stream copy that starts within one keyframe interval of the window and lasts to its end, with local-time subtitles', async () => {
    for (const v of manifest.videos) {
      const file = path.join(unzipped, v.path);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:format_tags:stream=codec_type,codec_name', '-of', 'json', file], { env });
      const j = JSON.parse(stdout);
      assert.deepEqual(j.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`), ['video:h264', 'audio:aac', 'subtitle:mov_text']);
      assert.match(j.format.tags.site_local_start, /\+09:00$/);
      assert.match(j.format.tags.comment, /Asia\/Tokyo/);
      const head = (await readFile(file)).subarray(0, 64 * 1024);
      assert.ok(head.indexOf('moov') >= 0 && head.indexOf('moov') < head.indexOf('mdat'), 'moov before mdat (fast start)');
      const start = Date.parse(v.start);
      const windowFrom = Date.parse(v.window.from);
      const windowTo = Date.parse(v.window.to);
      const firstFootage = Math.max(windowFrom, Date.parse(v.cutFrom[0].start));
      assert.ok(start <= firstFootage + 1 && firstFootage - start <= 1000, `${v.camera.key}: starts ${firstFootage - start} ms before the footage of the window (keyframe interval 1 s)`);
      const duration = Number(j.format.duration) * 1000;
      const lastFootage = Math.min(windowTo, Date.parse(v.cutFrom.at(-1).end));
      assert.ok(Math.abs(start + duration - lastFootage) <= 1000, `${v.camera.key}: ends within 1 s of the window's end or its last footage (${start + duration - lastFootage} ms)`);
    }
    const v1 = manifest.videos[0];
    assert.ok(Date.parse(v1.start) <= Date.parse(v1.window.from) && Date.parse(v1.window.from) - Date.parse(v1.start) <= 1000, 'cam1 starts at the last keyframe at or before the window start');
    const subs = (await run('ffmpeg', ['-v', 'error', '-i', path.join(unzipped, v1.path), '-map', '0:s:0', '-f', 'srt', '-'], { env })).stdout;
    // Cues on whole wall-clock seconds of the site's zone: the first from the MP4's start, then each second.
    const startMs = Date.parse(v1.start);
    const toNext = 1000 - (startMs % 1000 || 1000);
    const first = new Date(startMs + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    assert.ok(subs.startsWith(`1\n00:00:00,000 --> 00:00:00,${String(toNext).padStart(3, '0')}\n${first} (Asia/Tokyo UTC+09:00)\n`) || toNext === 0, subs.slice(0, 120));
    assert.match(subs, /\n2026-11-24 03:05:00 \(Asia\/Tokyo UTC\+09:00\)\n/);
  });

  test('the CLI verifier passes the pack, proving each MP4 a lossless cut of its originals', async () => {
    const r = sh(process.execPath, [VERIFY_BIN, unzipped, '--fingerprint', pack.keyFingerprint]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /RESULT: PASS/);
    for (const v of manifest.videos) assert.match(r.out, new RegExp(`OK    ${v.path.replace(/[.]/g, '\\.')}: lossless cut — \\d+ video packets, \\d+ audio packets`));
    const wrongKey = sh(process.execPath, [VERIFY_BIN, unzipped, '--fingerprint', '00'.repeat(32)]);
    assert.equal(wrongKey.status, 1);
    assert.match(wrongKey.out, /FAIL  public-key\.pem/);
  });

  test('the CLI verifier reads the ZIP itself, and a flipped byte inside the ZIP fails it, naming the file', async () => {
    const zip = path.join(dir, 'pack.zip');
    const r = sh(process.execPath, [VERIFY_BIN, zip, '--fingerprint', pack.keyFingerprint]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /RESULT: PASS/);
    assert.ok(r.out.includes(`${manifest.files.length} files match`), r.out);
    for (const v of manifest.videos) assert.match(r.out, new RegExp(`OK    ${v.path.replace(/[.]/g, '\\.')}: lossless cut — \\d+ video packets, \\d+ audio packets`));

    const bytes = await readFile(zip);
    /** Where `name`'s bytes start in the archive: after its local header (a local header signature, then its name). */
    const dataAt = (name: string) => {
      const n = Buffer.from(name, 'utf8');
      for (let at = bytes.indexOf(n); at >= 0; at = bytes.indexOf(n, at + 1)) {
        const h = at - 30;
        if (h >= 0 && bytes.readUInt32LE(h) === 0x04034b50 && bytes.readUInt16LE(h + 26) === n.length) return h + 30 + n.length + bytes.readUInt16LE(h + 28);
      }
      assert.fail(`no local header of ${name}`);
    };
    const v1 = manifest.videos[0];
    const cases = [
      { name: 'original segment', file: v1.cutFrom[1].path, at: (f: any) => dataAt(f.path) + Math.floor(f.size / 2) },
      { name: 'MP4', file: v1.path, at: (f: any) => dataAt(f.path) + Math.floor(f.size / 3) },
      { name: 'manifest', file: 'manifest.json', at: () => dataAt('manifest.json') + bytes.subarray(dataAt('manifest.json')).indexOf('"sha256": "') + 12 },
    ];
    for (const k of cases) {
      const f = manifest.files.find((x: any) => x.path === k.file) ?? { path: k.file, size: 0 };
      const copy = path.join(dir, `tamper-zip-${k.name.replace(/\W+/g, '-')}.zip`);
      const b = Buffer.from(bytes);
      const at = k.at(f);
      b[at] = b[at]! ^ 0x01;
      await writeFile(copy, b);
      const cli = sh(process.execPath, [VERIFY_BIN, copy, '--no-media']);
      assert.equal(cli.status, 1, `${k.name}: CLI fails\n${cli.out}`);
      assert.ok(cli.out.includes(`FAIL  ${k.file}`), `${k.name}: CLI names ${k.file}\n${cli.out}`);
      // A changed media file fails alone; a changed manifest also fails the signature and SHA256SUMS agreement.
      if (k.file !== 'manifest.json') assert.equal(cli.out.split('\n').filter((l) => l.startsWith('FAIL')).length, 1, `${k.name}: only that file fails\n${cli.out}`);
      await rm(copy);
    }
    // Not a ZIP at all (the end record cut off): a clear failure, not a crash.
    const cut = path.join(dir, 'truncated.zip');
    await writeFile(cut, bytes.subarray(0, bytes.length - 200));
    const bad = sh(process.execPath, [VERIFY_BIN, cut]);
    assert.equal(bad.status, 1, bad.out);
    assert.match(bad.out, /FAIL  \(zip\): /);
  });

  test('standard tools verify it: openssl checks both signatures and the fingerprint, sha256sum -c every file', async () => {
    for (const [data, sig] of [['manifest.json', 'manifest.json.sig'], ['SHA256SUMS', 'SHA256SUMS.sig']]) {
      const r = sh('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', 'public-key.pem', '-rawin', '-in', data!, '-sigfile', sig!], unzipped);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Signature Verified Successfully/);
    }
    const fp = sh('bash', ['-c', 'openssl pkey -pubin -in public-key.pem -outform DER | sha256sum'], unzipped);
    assert.equal(fp.out.split(' ')[0], pack.keyFingerprint);
    const sums = sh('sha256sum', ['-c', 'SHA256SUMS'], unzipped);
    assert.equal(sums.status, 0, sums.out);
    assert.equal(sums.out.trim().split('\n').length, manifest.files.length + 1);
  });

  test('one flipped byte in an original, a recording, an MP4, the report, the manifest or a signature fails every verifier, naming the file', async () => {
    const v1 = manifest.videos[0];
    const cases: { name: string; file: string; expectNamed: string }[] = [
      { name: 'original segment', file: v1.cutFrom[2].path, expectNamed: v1.cutFrom[2].path },
      { name: 'original recording', file: manifest.calls[0].recordings[0].path, expectNamed: manifest.calls[0].recordings[0].path },
      { name: 'MP4', file: v1.path, expectNamed: v1.path },
      { name: 'report PDF', file: 'report/report.pdf', expectNamed: 'report/report.pdf' },
      { name: 'manifest', file: 'manifest.json', expectNamed: 'manifest.json' },
      { name: 'signature', file: 'manifest.json.sig', expectNamed: 'manifest.json' },
    ];
    for (const k of cases) {
      const copy = path.join(dir, `tamper-${k.name.replace(/\W+/g, '-')}`);
      await cp(unzipped, copy, { recursive: true });
      // In the manifest, flip a byte inside a hash value so the JSON stays valid.
      const at = k.file === 'manifest.json' ? (await readFile(path.join(copy, k.file), 'utf8')).indexOf('"sha256": "') + 12 : undefined;
      await flipByte(path.join(copy, k.file), at);
      const cli = sh(process.execPath, [VERIFY_BIN, copy]);
      assert.equal(cli.status, 1, `${k.name}: CLI fails\n${cli.out}`);
      assert.ok(cli.out.includes(`FAIL  ${k.expectNamed}`), `${k.name}: CLI names ${k.expectNamed}\n${cli.out}`);
      assert.match(cli.out, /RESULT: FAIL/);
      const sums = sh('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], copy);
      const sig = sh('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', 'public-key.pem', '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.json.sig'], copy);
      if (k.file === 'manifest.json' || k.file === 'manifest.json.sig') {
        assert.notEqual(sig.status, 0, `${k.name}: openssl rejects the signature`);
        if (k.file === 'manifest.json') assert.match(sums.out, /manifest\.json: FAILED/);
      } else {
        assert.equal(sig.status, 0);
        assert.notEqual(sums.status, 0, `${k.name}: sha256sum -c fails`);
        assert.ok(sums.out.includes(`${k.file}: FAILED`), `${k.name}: sha256sum names the file\n${sums.out}`);
      }
      await rm(copy, { recursive: true, force: true });
    }
  });

  test('the PDF report is Japanese: the text reads back and the page renders', async () => {
    const pdf = path.join(unzipped, 'report/report.pdf');
    const text = (await run('pdftotext', ['-layout', pdf, '-'], { env })).stdout;
    for (const s of ['証拠資料報告書', c.caseNumber, '捜査関係事項照会書', '録音告知', '再生あり', '防犯カメラ作動中', 'レジ前で大声', 'カメラ停止', 'チェーン・オブ・カストディ', 'Asia/Tokyo']) assert.ok(text.includes(s), `PDF text has ${s}`);
    await run('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdf, path.join(dir, 'report')], { env });
    const png = await readFile(path.join(dir, 'report-1.png'));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    // docs/screens/pack-report.png (PACK_SCREENSHOT_DIR=docs/screens): the first page at a readable 100 dpi.
    if (process.env.PACK_SCREENSHOT_DIR) {
      await run('pdftoppm', ['-png', '-r', '100', '-f', '1', '-l', '1', '-singlefile', pdf, path.join(process.env.PACK_SCREENSHOT_DIR, 'pack-report')], { env });
      assert.equal((await readFile(path.join(process.env.PACK_SCREENSHOT_DIR, 'pack-report.png'))).subarray(1, 4).toString(), 'PNG');
    }
  });

  test('only hq asks for packs; bad requests are 400 with a code and store nothing', async () => {
    const before = Number((await centre.db.selectFrom('evidencePack').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    for (const role of ['store_manager', 'security'] as const) {
      const u = api(centre, await centre.sessionCookie((await centre.createUser({ role, siteIds: [c.siteId] })).id));
      assert.equal((await u.post(`/incidents/${c.caseId}/packs`, PACK_REQUEST)).status, 403, role);
      assert.equal((await u.get(`/packs/${pack.id}`)).status, 403, role);
      assert.equal((await u.get('/pack-signing-key')).status, 403, role);
    }
    const bad: [Record<string, unknown>, string][] = [
      [{ ...PACK_REQUEST, purpose: 'curiosity' }, 'invalid_request'],
      [{ ...PACK_REQUEST, reference: '  ' }, 'reference_required'],
      [{ ...PACK_REQUEST, legalBasis: '' }, 'legal_basis_required'],
      [{ ...PACK_REQUEST, callIds: ['00000000-0000-4000-8000-000000000000'] }, 'call_not_linked'],
      [{ ...PACK_REQUEST, from: '2026-11-23T18:06:00Z', to: '2026-11-23T18:05:00Z' }, 'invalid_range'],
      [{ ...PACK_REQUEST, callIds: [], cameraWindowIds: [] }, 'pack_empty'],
    ];
    for (const [body, code] of bad) {
      const r = await c.hq.post(`/incidents/${c.caseId}/packs`, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
    }
    assert.equal((await c.hq.get('/packs/00000000-0000-4000-8000-000000000000')).status, 404);
    const afterCount = Number((await centre.db.selectFrom('evidencePack').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(afterCount, before);
  });
});

describe('evidence packs with the originals copied inside S3 (PACK_COPY_ORIGINALS_IN_S3)', () => {
  // The test's segments are shorter than a copied part needs (10 MiB), so this checks the mode's pack end to end; the
  // copies themselves are tested in upload-copy.test.ts.
  test('the pack verifies with the CLI and sha256sum', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'evidence-pack-copy-'));
    const centre = await startCentre({ packCopyOriginalsInS3: true });
    try {
      const c = await setupPackCase(centre, dir);
      centre.startWorker();
      const { pack } = await buildPack(centre, c);
      assert.equal(pack.status, 'ready');
      const { dir: unzipped } = await downloadAndUnzip(centre, c, pack.id, path.join(dir, 'pack'));
      const r = sh(process.execPath, [VERIFY_BIN, unzipped, '--fingerprint', pack.keyFingerprint]);
      assert.equal(r.status, 0, r.out);
      assert.equal(sh('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], unzipped).status, 0);
      const manifest = JSON.parse(await readFile(path.join(unzipped, 'manifest.json'), 'utf8'));
      const originals = manifest.files.filter((f: { role: string }) => f.role === 'original-segment');
      assert.ok(originals.length >= 2, 'the case has original segments');
    } finally {
      await centre.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
