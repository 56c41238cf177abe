#!/usr/bin/env node
/**
 * npx @mamoru/verify-pack <pack.zip | unzipped pack folder> [--fingerprint <hex>] [--no-media] [--json]
 * The ZIP is read in place (its central directory streamed, each file hashed from its offset): no need to unzip.
 * Exit 0: every check passed. 1: something failed (each failure names its file). 2: bad usage.
 */
import { verifyPack } from '../src/verify.mjs';

const args = process.argv.slice(2);
const opts = { media: true, json: false, fingerprint: undefined };
const positional = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--no-media') opts.media = false;
  else if (a === '--json') opts.json = true;
  else if (a === '--fingerprint') opts.fingerprint = args[++i];
  else if (a === '-h' || a === '--help') positional.length = 99;
  else positional.push(a);
}
if (positional.length !== 1) {
  console.error('usage: verify-pack <pack.zip | unzipped pack folder> [--fingerprint <sha256 hex of the public key>] [--no-media] [--json]');
  process.exit(2);
}
const dir = positional[0];
console.log(`Mamoru evidence pack verifier — ${dir}`);
const r = await verifyPack(dir, { log: opts.json ? undefined : (l) => console.log(l), media: opts.media, fingerprint: opts.fingerprint });
if (opts.json) console.log(JSON.stringify({ ok: r.ok, problems: r.problems, checked: r.checked, fingerprint: r.fingerprint }, null, 2));
if (r.ok) {
  console.log(`RESULT: PASS — signatures valid, ${r.checked} files match their SHA-256${r.manifest?.case ? ` (case ${r.manifest.case.caseNumber})` : ''}`);
  console.log('結果: 合格 — 署名とすべてのファイルのハッシュが一致しました');
  process.exit(0);
}
console.log(`RESULT: FAIL — ${r.problems.length} problem(s): ${[...new Set(r.problems.map((p) => p.file))].join(', ')}`);
console.log(`結果: 不合格 — ${r.problems.length} 件の問題があります`);
process.exit(1);
