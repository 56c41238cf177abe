/**
 * verify.html: a self-contained page inside every pack. A recipient opens it from the unzipped folder in an
 * ordinary browser, offline, and picks that folder (a page opened from file:// cannot read its neighbours by
 * itself). It checks the Ed25519 signatures over manifest.json and SHA256SUMS with WebCrypto, and the size and
 * SHA-256 of every file the manifest lists, and says in Japanese and English what passed and what failed, by name.
 * No network, no external script: the page's Content-Security-Policy forbids any connection.
 */
export const VERIFY_PAGE_HTML = `<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>証拠パッケージの検証 / Verify evidence package</title>
<style>
body { font-family: system-ui, "IPAGothic", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #111; }
h1 { font-size: 1.4rem; } .en { color: #555; font-size: 0.92em; }
#summary { font-size: 1.2rem; font-weight: bold; padding: 0.8rem 1rem; border-radius: 6px; margin: 1rem 0; }
#summary[data-status="pass"] { background: #e3f5e1; border: 2px solid #2e7d32; color: #1b5e20; }
#summary[data-status="fail"] { background: #fdecea; border: 2px solid #c62828; color: #b71c1c; }
#summary[data-status="running"] { background: #eef3fb; border: 2px solid #1e5bb8; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; } th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; }
td.ok { color: #1b5e20; } td.bad { color: #b71c1c; font-weight: bold; } .mono { font-family: monospace; word-break: break-all; }
label.pick { display: inline-block; background: #1e5bb8; color: #fff; padding: 0.6rem 1rem; border-radius: 6px; cursor: pointer; }
</style></head><body>
<h1>証拠パッケージの検証 <span class="en">/ Verify this evidence package</span></h1>
<p>ZIPを展開したフォルダを選んでください。ファイルはこのパソコンの中だけで確認され、どこにも送信されません。<br>
<span class="en">Choose the unzipped folder. Files are checked on this computer only and sent nowhere.</span></p>
<label class="pick">フォルダを選択 / Choose folder <input id="folder" type="file" webkitdirectory directory multiple hidden></label>
<div id="summary" data-status="idle">未確認 / Not checked yet</div>
<div id="key"></div>
<table id="checks"><thead><tr><th>確認項目 / Check</th><th>結果 / Result</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
(function () {
  var tbody = document.querySelector("#checks tbody");
  var summary = document.getElementById("summary");
  var failures = [];
  function row(what, ok, detail, file) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-ok", ok ? "true" : "false");
    if (file) tr.setAttribute("data-file", file);
    var a = document.createElement("td"); a.className = "mono"; a.textContent = what;
    var b = document.createElement("td"); b.className = ok ? "ok" : "bad";
    b.textContent = (ok ? "OK 合格" : "NG 不合格 / FAILED") + (detail ? " — " + detail : "");
    tr.appendChild(a); tr.appendChild(b); tbody.appendChild(tr);
    if (!ok) failures.push(file || what);
  }
  function hex(buf) { return Array.prototype.map.call(new Uint8Array(buf), function (x) { return ("0" + x.toString(16)).slice(-2); }).join(""); }
  function pemToDer(pem) {
    var b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\\s+/g, "");
    var bin = atob(b64); var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function sha256(file) { return hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer())); }
  async function run(list) {
    failures = []; tbody.textContent = ""; document.getElementById("key").textContent = "";
    summary.setAttribute("data-status", "running"); summary.textContent = "確認中… / Checking…";
    var files = {};
    for (var i = 0; i < list.length; i++) {
      var f = list[i]; var rel = (f.webkitRelativePath || f.name);
      var cut = rel.indexOf("/"); if (f.webkitRelativePath && cut >= 0) rel = rel.slice(cut + 1);
      files[rel] = f;
    }
    var need = ["manifest.json", "manifest.json.sig", "public-key.pem", "SHA256SUMS", "SHA256SUMS.sig"];
    for (var n = 0; n < need.length; n++) if (!files[need[n]]) row(need[n], false, "ファイルがありません / file missing", need[n]);
    if (failures.length) return finish();
    var manifestBytes = new Uint8Array(await files["manifest.json"].arrayBuffer());
    var manifest;
    try { manifest = JSON.parse(new TextDecoder().decode(manifestBytes)); } catch (e) { row("manifest.json", false, "JSONとして読めません / not valid JSON", "manifest.json"); return finish(); }
    var der = pemToDer(await files["public-key.pem"].text());
    var fp = hex(await crypto.subtle.digest("SHA-256", der));
    var keyDiv = document.getElementById("key");
    keyDiv.innerHTML = "署名鍵の指紋 / Signing key fingerprint: <span class=\\"mono\\" id=\\"fingerprint\\"></span><br><span class=\\"en\\">当社から別途お知らせした値と一致することを確認してください。 / Compare it with the value we gave you separately.</span>";
    document.getElementById("fingerprint").textContent = fp;
    var key;
    try { key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]); }
    catch (e) { row("public-key.pem", false, "このブラウザはEd25519に対応していないか、鍵が壊れています / Ed25519 unsupported by this browser or bad key: " + e.message, "public-key.pem"); return finish(); }
    row("public-key.pem ↔ manifest.json", manifest.signing && manifest.signing.publicKeyFingerprintSha256 === fp, "指紋 / fingerprint " + fp.slice(0, 16) + "…", "public-key.pem");
    var okSig = await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(await files["manifest.json.sig"].arrayBuffer()), manifestBytes);
    row("manifest.json の署名 / signature of manifest.json", okSig, okSig ? "" : "署名が一致しません / signature does not match", okSig ? null : "manifest.json");
    var sumsBytes = new Uint8Array(await files["SHA256SUMS"].arrayBuffer());
    var okSums = await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(await files["SHA256SUMS.sig"].arrayBuffer()), sumsBytes);
    row("SHA256SUMS の署名 / signature of SHA256SUMS", okSums, okSums ? "" : "署名が一致しません / signature does not match", okSums ? null : "SHA256SUMS");
    var listed = {}; (manifest.files || []).forEach(function (f) { listed[f.path] = f; });
    var sumsLines = new TextDecoder().decode(sumsBytes).split("\\n").filter(Boolean);
    var sumsOk = sumsLines.length === (manifest.files || []).length + 1;
    sumsLines.forEach(function (l) {
      var h = l.slice(0, 64), p = l.slice(66);
      if (p === "manifest.json") return;
      if (!listed[p] || listed[p].sha256 !== h) sumsOk = false;
    });
    row("SHA256SUMS ↔ manifest.json", sumsOk, sumsOk ? "" : "一覧が一致しません / lists differ", sumsOk ? null : "SHA256SUMS");
    var mh = await sha256(files["manifest.json"]);
    var mline = sumsLines.filter(function (l) { return l.slice(66) === "manifest.json"; })[0];
    row("manifest.json (SHA256SUMS)", !!mline && mline.slice(0, 64) === mh, "", "manifest.json");
    var total = (manifest.files || []).length;
    for (var k = 0; k < total; k++) {
      var m = manifest.files[k];
      summary.textContent = "確認中… / Checking… " + (k + 1) + " / " + total;
      var f2 = files[m.path];
      if (!f2) { row(m.path, false, "ファイルがありません / file missing", m.path); continue; }
      if (f2.size !== m.size) { row(m.path, false, "サイズが違います / size differs (" + f2.size + " ≠ " + m.size + ")", m.path); continue; }
      var h2 = await sha256(f2);
      row(m.path, h2 === m.sha256, h2 === m.sha256 ? "SHA-256 " + h2.slice(0, 16) + "…" : "SHA-256 が違います / SHA-256 differs", m.path);
    }
    var known = { "manifest.json": 1, "manifest.json.sig": 1, "SHA256SUMS": 1, "SHA256SUMS.sig": 1 };
    Object.keys(files).forEach(function (p) { if (!listed[p] && !known[p]) row(p, false, "一覧にないファイルです / not listed in the manifest", p); });
    finish(manifest);
  }
  function finish(manifest) {
    if (failures.length === 0) {
      summary.setAttribute("data-status", "pass");
      summary.textContent = "合格：署名とすべてのファイル（" + manifest.files.length + "個）のハッシュが一致しました。改ざんは見つかりませんでした。 / PASSED: the signatures and all " + manifest.files.length + " files' hashes match. Nothing was changed.";
    } else {
      summary.setAttribute("data-status", "fail");
      summary.setAttribute("data-failed", failures.join("\\n"));
      summary.textContent = "不合格：" + failures.length + " 件の確認に失敗しました / FAILED: " + failures.length + " check(s) failed: " + failures.join(", ");
    }
  }
  document.getElementById("folder").addEventListener("change", function (e) {
    run(e.target.files).catch(function (err) { row("検証 / verification", false, String(err && err.message || err)); finish(); });
  });
})();
</script>
</body></html>
`;
