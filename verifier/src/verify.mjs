/**
 * Verifies a Mamoru evidence pack, unzipped or the ZIP itself (read in place, never whole in memory: see
 * pack-source.mjs), with nothing but Node.js (and ffmpeg, when present, for the MP4 check).
 *
 * 1. public-key.pem: its fingerprint (SHA-256 of the DER SubjectPublicKeyInfo) is printed, must equal the manifest's,
 *    and, when --fingerprint is given, the one the sender told you.
 * 2. manifest.json.sig and SHA256SUMS.sig: Ed25519 signatures over manifest.json and SHA256SUMS.
 * 3. SHA256SUMS lists exactly the manifest's files (and manifest.json itself) with the same hashes.
 * 4. Every file the manifest lists: present, same size, same SHA-256. A file in the folder that is not listed fails.
 * 5. Each MP4 made by stream copy: its video packets (and copied audio packets), hashed one by one, are a contiguous
 *    run of the packets of the originals it names, in order, and as many as the manifest says. Parameter sets and
 *    access-unit delimiters are left out of each packet's hash (an MP4 keeps them in its header, MPEG-TS in the
 *    stream); the file hashes of step 4 already cover every byte.
 */
import { createHash, createPublicKey, verify as verifySig } from 'node:crypto';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPackSource } from './pack-source.mjs';

export const MANIFEST_FORMAT = 'mamoru-evidence-pack/1';
const FIXED = ['manifest.json', 'manifest.json.sig', 'SHA256SUMS', 'SHA256SUMS.sig'];

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    const out = [];
    let err = '';
    p.stdout.on('data', (c) => out.push(c));
    p.stderr.on('data', (c) => (err = (err + c).slice(-2000)));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`${cmd} exited ${code}: ${err.trim().split('\n').pop()}`))));
  });
}

export async function ffmpegAvailable(ffmpeg = 'ffmpeg') {
  return run(ffmpeg, ['-hide_banner', '-version']).then(() => true, () => false);
}

const NORMALIZE = { h264: 'filter_units=remove_types=7|8|9|12', hevc: 'filter_units=remove_types=32|33|34|35|38' };
const TO_ANNEXB = { h264: 'h264_mp4toannexb', hevc: 'hevc_mp4toannexb' };

/**
 * SHA-256 of each packet of the first video stream (and the first audio stream, when `audioCodec` is given) of one
 * input, in order, in ONE ffmpeg run. `input` is a media input of the pack source ({ input, protocols }), or a list of
 * them read one after another (the concat demuxer passes packets through unchanged).
 */
async function packetHashes(ffmpeg, input, videoCodec, audioCodec, fromMp4) {
  if (!NORMALIZE[videoCodec]) throw new Error(`no packet comparison for video codec ${videoCodec}`);
  const vbsf = [...(fromMp4 ? [TO_ANNEXB[videoCodec]] : []), NORMALIZE[videoCodec]].join(',');
  const absf = !fromMp4 && audioCodec === 'aac' ? ['-bsf:a', 'aac_adtstoasc'] : [];
  const inputs = Array.isArray(input) ? input : [input];
  const protocols = [...new Set(inputs.flatMap((i) => (i.protocols ? i.protocols.split(',') : [])))];
  const whitelist = protocols.length ? ['-protocol_whitelist', [...new Set(['file', ...protocols])].join(',')] : [];
  let inputArgs = [...whitelist, '-i', inputs[0].input];
  let list = null;
  if (Array.isArray(input)) {
    list = path.join(tmpdir(), `verify-pack-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.ffconcat`);
    await writeFile(list, `ffconcat version 1.0\n${inputs.map((f) => `file '${f.input.replaceAll("'", "'\\''")}'`).join('\n')}\n`);
    inputArgs = [...whitelist, '-f', 'concat', '-safe', '0', '-i', list];
  }
  try {
    const args = ['-v', 'error', '-nostdin', ...inputArgs, '-map', '0:v:0', ...(audioCodec ? ['-map', '0:a:0'] : []), '-c', 'copy', '-bsf:v', vbsf, ...absf, '-f', 'framehash', '-hash', 'sha256', '-'];
    const out = await run(ffmpeg, args);
    const r = { v: [], a: [] };
    for (const l of out.split('\n')) {
      if (!l || l.startsWith('#')) continue;
      const f = l.split(',').map((x) => x.trim());
      (f[0] === '0' ? r.v : r.a).push(`${f[4]}:${f[5]}`); // size:hash (timestamps differ between containers)
    }
    return r;
  } finally {
    if (list) await rm(list, { force: true });
  }
}

function findRun(haystack, needle) {
  if (needle.length === 0 || needle.length > haystack.length) return -1;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Verifies the pack at `target`: an unzipped folder or the pack's ZIP file. `log(line)` gets the plain report as it
 * goes. Resolves `{ ok, problems: [{ file, reason }], checked, fingerprint, manifest }`. A ZIP that cannot be read as
 * one fails with the problem named `(zip)`.
 */
export async function verifyPack(target, o = {}) {
  const log = o.log ?? (() => undefined);
  let src;
  try {
    src = await openPackSource(target);
  } catch (e) {
    log(`FAIL  (zip): ${e.message}`);
    return { ok: false, problems: [{ file: '(zip)', reason: e.message }], checked: 0, fingerprint: null, manifest: null };
  }
  try {
    return await verifySource(src, o, log);
  } finally {
    await src.close();
  }
}

async function verifySource(src, o, log) {
  const problems = [];
  const fail = (file, reason) => {
    problems.push({ file, reason });
    log(`FAIL  ${file}: ${reason}`);
  };
  const ok = (what) => log(`OK    ${what}`);
  const read = async (name) => src.readSmall(name).catch(() => null);

  const manifestBuf = await read('manifest.json');
  const sig = await read('manifest.json.sig');
  const pem = await read('public-key.pem');
  const sums = await read('SHA256SUMS');
  const sumsSig = await read('SHA256SUMS.sig');
  for (const [n, b] of [['manifest.json', manifestBuf], ['manifest.json.sig', sig], ['public-key.pem', pem], ['SHA256SUMS', sums], ['SHA256SUMS.sig', sumsSig]]) if (!b) fail(n, 'missing');
  if (!manifestBuf || !sig || !pem) return { ok: false, problems, checked: 0, fingerprint: null, manifest: null };

  let manifest;
  try {
    manifest = JSON.parse(manifestBuf.toString('utf8'));
  } catch {
    fail('manifest.json', 'not valid JSON');
    return { ok: false, problems, checked: 0, fingerprint: null, manifest: null };
  }
  if (manifest.format !== MANIFEST_FORMAT) fail('manifest.json', `unknown format ${JSON.stringify(manifest.format)}`);

  let key;
  let fingerprint = null;
  try {
    key = createPublicKey(pem);
    fingerprint = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
    log(`      signing key fingerprint (SHA-256): ${fingerprint}`);
    if (manifest.signing?.publicKeyFingerprintSha256 !== fingerprint) fail('public-key.pem', 'its fingerprint is not the one the manifest names');
    else if (o.fingerprint && o.fingerprint.toLowerCase().replace(/[^0-9a-f]/g, '') !== fingerprint) fail('public-key.pem', `fingerprint ${fingerprint} is not the expected ${o.fingerprint}`);
    else ok(`public-key.pem (Ed25519${o.fingerprint ? ', the expected key' : ''})`);
  } catch (e) {
    fail('public-key.pem', `not a public key: ${e.message}`);
    return { ok: false, problems, checked: 0, fingerprint, manifest };
  }

  if (verifySig(null, manifestBuf, key, sig)) ok('manifest.json.sig: Ed25519 signature over manifest.json');
  else fail('manifest.json', 'the signature (manifest.json.sig) does not match: manifest.json or its signature was changed');
  const manifestSha = createHash('sha256').update(manifestBuf).digest('hex');

  const listed = new Map((manifest.files ?? []).map((f) => [f.path, f]));
  if (sums && sumsSig) {
    if (verifySig(null, sums, key, sumsSig)) ok('SHA256SUMS.sig: Ed25519 signature over SHA256SUMS');
    else fail('SHA256SUMS', 'the signature (SHA256SUMS.sig) does not match: SHA256SUMS or its signature was changed');
    const lines = sums.toString('utf8').split('\n').filter(Boolean);
    const seen = new Set();
    let agree = true;
    for (const l of lines) {
      const h = l.slice(0, 64);
      const p = l.slice(66);
      seen.add(p);
      if (p === 'manifest.json') {
        if (h !== manifestSha) fail('manifest.json', 'its SHA-256 is not the one in SHA256SUMS');
      } else if (listed.get(p)?.sha256 !== h) agree = false;
    }
    if (!seen.has('manifest.json') || lines.length !== listed.size + 1) agree = false;
    if (agree) ok('SHA256SUMS lists the manifest\'s files with the same hashes');
    else fail('SHA256SUMS', 'does not agree with manifest.json');
  }

  let checked = 0;
  for (const f of listed.values()) {
    const size = await src.size(f.path);
    if (size === null) {
      fail(f.path, 'missing');
      continue;
    }
    if (size !== f.size) {
      fail(f.path, `size ${size} differs from the manifest's ${f.size}`);
      continue;
    }
    let h;
    try {
      h = await src.sha256(f.path);
    } catch (e) {
      fail(f.path, `could not be read: ${e.message}`);
      continue;
    }
    checked++;
    if (h !== f.sha256) fail(f.path, `SHA-256 ${h} differs from the manifest's ${f.sha256}`);
    else ok(`${f.path}  ${f.size} bytes  sha256 ${h.slice(0, 16)}…`);
  }
  for (const p of src.names()) if (!listed.has(p) && !FIXED.includes(p)) fail(p, 'not listed in the manifest');

  // Lossless cuts.
  const ffmpeg = o.ffmpeg ?? 'ffmpeg';
  const videos = (manifest.videos ?? []).filter((v) => v.method === 'stream-copy');
  if (o.media === false) log('SKIP  MP4 cut check (--no-media)');
  else if (videos.length && !(await ffmpegAvailable(ffmpeg))) log('SKIP  MP4 cut check: ffmpeg not found (install ffmpeg to prove each MP4 is a lossless cut of its originals)');
  else {
    for (const v of videos) {
      const bad = problems.some((p) => p.file === v.path || v.cutFrom.some((s) => s.path === p.file));
      if (bad) {
        fail(v.path, 'not a proven cut: it or one of its originals failed the hash check');
        continue;
      }
      try {
        const mp4 = await src.mediaInput(v.path);
        const sources = [];
        for (const s of v.cutFrom) sources.push(await src.mediaInput(s.path));
        let audioCodec = null;
        if (v.audio === 'copy') audioCodec = (await run(o.ffprobe ?? 'ffprobe', ['-v', 'error', ...(mp4.protocols ? ['-protocol_whitelist', mp4.protocols] : []), '-select_streams', 'a:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', mp4.input]).catch(() => '')).trim() || null;
        const m = await packetHashes(ffmpeg, mp4, v.videoCodec, audioCodec, true);
        const orig = await packetHashes(ffmpeg, sources, v.videoCodec, audioCodec, false);
        const at = findRun(orig.v, m.v);
        if (at < 0) {
          fail(v.path, `its ${m.v.length} video packets are not a run of the ${orig.v.length} packets of its ${sources.length} original(s)`);
          continue;
        }
        if (typeof v.videoPackets === 'number' && v.videoPackets !== m.v.length) {
          fail(v.path, `has ${m.v.length} video packets, the manifest says ${v.videoPackets}`);
          continue;
        }
        let audio = '';
        if (audioCodec) {
          if (findRun(orig.a, m.a) < 0) {
            fail(v.path, `its ${m.a.length} audio packets are not a run of the originals' audio packets`);
            continue;
          }
          audio = `, ${m.a.length} audio packets`;
        }
        const mv = m.v;
        ok(`${v.path}: lossless cut — ${mv.length} video packets${audio} are packets ${at + 1}–${at + mv.length} of ${sources.length} original(s), in order`);
      } catch (e) {
        fail(v.path, `cut check could not run: ${e.message}`);
      }
    }
  }
  return { ok: problems.length === 0, problems, checked, fingerprint, manifest };
}
