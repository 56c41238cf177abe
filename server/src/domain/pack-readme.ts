/** README.txt of a pack, in Japanese and English: what is in it and three ways to verify it. */
import type { PackKind } from './pack.ts';

export function packReadme(o: { kind: PackKind; caseNumber: string | null; packId: string; fingerprint: string; builtAt: Date }): string {
  const title = o.kind === 'disclosure' ? '開示資料パッケージ / Disclosure response package' : '証拠パッケージ / Evidence package';
  return `${title}
${o.caseNumber ? `事案番号 / Case: ${o.caseNumber}\n` : ''}パッケージID / Pack ID: ${o.packId}
作成日時 / Built (UTC): ${o.builtAt.toISOString()}
署名鍵の指紋 / Signing key fingerprint (SHA-256 of the public key, DER):
  ${o.fingerprint}

======================================================================
日本語
======================================================================
このフォルダには、店舗のカメラ映像と通話録音の原本、再生用のMP4・音声、報告書（HTML/PDF）、
manifest.json（全ファイルのサイズとSHA-256）、その電子署名（Ed25519）が入っています。
原本（originals/）のSHA-256は、店舗の機器がファイルを閉じた時点で計算し記録した値です。
MP4（video/）は原本から再エンコードせずに切り出したもの（ストリームコピー）で、どの原本から
作られたかは manifest.json の videos[].cutFrom に記載されています。

改ざんがないことの確認方法（いずれか一つで足ります）:

1) ブラウザで確認（インターネット不要）
   ZIPを展開し、フォルダ内の verify.html をブラウザ（Chrome/Edge 等）で開きます。
   「フォルダを選択」で展開したフォルダを選ぶと、署名と全ファイルのハッシュを確認し、
   結果を日本語と英語で表示します。

2) 標準コマンドで確認（Linux / macOS / WSL）
   展開したフォルダで次を実行します。
     openssl pkey -pubin -in public-key.pem -outform DER | sha256sum
       → 表示された値が上記の「署名鍵の指紋」および当社から別途お知らせした値と一致すること
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.json.sig
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
       → どちらも "Signature Verified Successfully" と表示されること
     sha256sum -c SHA256SUMS
       → すべての行が OK であること（1バイトでも変わったファイルは FAILED と表示されます）

3) 検証ツールで確認（Node.js 20 以降）
     npx @mamoru/verify-pack <展開したフォルダ>
   署名、全ファイルのハッシュに加え、ffmpeg があれば各MP4が原本のパケットを
   そのまま切り出したもの（無劣化の切り出し）であることも確認します。

======================================================================
English
======================================================================
This folder holds the store's camera footage and call recordings as originals, playable MP4 and audio copies, a
report (HTML/PDF), manifest.json (every file with its size and SHA-256) and Ed25519 signatures over it.
The SHA-256 of every original (originals/) is the one the store's device computed when it closed the file.
Each MP4 (video/) was cut from the originals without re-encoding (stream copy); manifest.json videos[].cutFrom
names the originals it was cut from.

To check that nothing was changed (any one of these is enough):

1) In a browser (no internet needed)
   Unzip, open verify.html from the folder in a browser (Chrome, Edge, ...), press "Choose folder" and pick the
   unzipped folder. It checks the signature and every file's hash and says what passed, in Japanese and English.

2) With standard tools (Linux, macOS, WSL), in the unzipped folder:
     openssl pkey -pubin -in public-key.pem -outform DER | sha256sum
       -> must equal the fingerprint above and the one we gave you separately
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.json.sig
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
       -> both print "Signature Verified Successfully"
     sha256sum -c SHA256SUMS
       -> every line OK (a file with even one changed byte shows FAILED)

3) With our verifier (Node.js 20 or later)
     npx @mamoru/verify-pack <unzipped folder>
   Checks the signatures and every hash and, where ffmpeg is installed, that each MP4 is a lossless cut of the
   originals it names (its video packets are theirs, in order).
`;
}
