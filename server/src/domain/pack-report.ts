/**
 * The pack's report, in Japanese: one self-contained HTML page (no scripts, no external resources) that is also
 * printed to PDF. Every time is shown in the site's zone, and the zone is named.
 */
import type { PackBuildInput } from '../services/pack-builder.ts';
import { localParts, type CustodyEvent, type ManifestCall, type ManifestFile, type ManifestVideo } from './pack.ts';

const esc = (s: unknown) =>
  String(s ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

const NOTICE_LABELS: Record<string, string> = { yes: '再生あり（録音告知済み）', no: '再生なし', unknown: '不明' };
const DIRECTION_LABELS: Record<string, string> = { inbound: '着信', outbound: '発信', internal: '内線', unknown: '不明' };
const GAP_LABELS: Record<string, string> = { camera_offline: 'カメラ停止', recorder_restart: '録画再起動', evicted: '容量不足で削除', agent_down: '店舗機器停止', disk_full: '容量不足で録画停止', other: 'その他', missing: '映像なし' };
const ROLE_LABELS: Record<string, string> = { mixed: '双方', caller: '発信者側', operator: '応対者側', stereo: 'ステレオ' };

export type ReportData = {
  input: PackBuildInput;
  videos: ManifestVideo[];
  calls: ManifestCall[];
  custody: CustodyEvent[];
  purpose: { ja: string; en: string };
  keyFingerprint: string;
  files: ManifestFile[];
};

function describeNotice(n: unknown): string {
  if (n == null) return '登録なし';
  if (typeof n === 'string') return n;
  if (typeof n === 'object') {
    const o = n as Record<string, unknown>;
    const parts = [o.text && `掲示文: ${o.text}`, o.place && `掲示場所: ${o.place}`, o.since && `掲示開始: ${o.since}`].filter(Boolean);
    return parts.length ? parts.join(' / ') : JSON.stringify(n);
  }
  return String(n);
}

export function renderPackReport(d: ReportData): string {
  const { input } = d;
  const tz = input.site.timezone;
  const t = (iso: string | Date) => localParts(new Date(iso).getTime(), tz).text;
  const kindTitle = input.kind === 'disclosure' ? '開示資料報告書' : '証拠資料報告書';
  type Row = { at: number; what: string; detail: string };
  const timeline: Row[] = [];
  for (const c of d.calls) {
    timeline.push({ at: Date.parse(c.start), what: `通話開始（${DIRECTION_LABELS[c.direction] ?? c.direction}）`, detail: `${c.callerNumber ?? '番号非通知'} → ${c.operator ?? '—'}（録音告知: ${NOTICE_LABELS[c.recordingNotice] ?? c.recordingNotice}）` });
    timeline.push({ at: Date.parse(c.end), what: '通話終了', detail: c.pbxCallId });
  }
  for (const b of input.bookmarks) timeline.push({ at: b.at.getTime(), what: 'ブックマーク', detail: `${b.note}${b.target ? `（${b.target}）` : ''}` });
  for (const v of d.videos) {
    if (v.path) timeline.push({ at: Date.parse(v.start), what: `映像開始: ${v.camera.name}`, detail: v.path });
    for (const g of v.gaps) timeline.push({ at: Date.parse(g.from), what: `映像の欠落: ${v.camera.name}`, detail: `${t(g.from)} 〜 ${t(g.to)}（${GAP_LABELS[g.reason] ?? g.reason}）` });
  }
  timeline.sort((a, b) => a.at - b.at);

  const offsets = input.cameraWindows.map((w) => {
    const o = w.segments.map((s) => s.clockOffsetMs).filter((x): x is number => x !== null);
    return { camera: w.camera.name, min: o.length ? Math.min(...o) : null, max: o.length ? Math.max(...o) : null, n: w.segments.length };
  });
  const originals = d.files.filter((f) => f.role === 'original-segment' || f.role === 'original-recording');
  const c = input.case;

  return `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>${esc(kindTitle)} ${esc(c?.caseNumber ?? '')}</title>
<style>
body { font-family: "IPAGothic", "IPAPGothic", "Noto Sans CJK JP", sans-serif; font-size: 10.5pt; color: #111; margin: 0; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 12.5pt; border-bottom: 1.5pt solid #333; padding-bottom: 2pt; margin: 16pt 0 6pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; } th, td { border: 0.6pt solid #888; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #eee; white-space: nowrap; } .mono { font-family: monospace; font-size: 8.5pt; word-break: break-all; } .note { color: #444; font-size: 9pt; }
</style></head><body>
<h1>${esc(kindTitle)}</h1>
<p class="note">時刻はすべて店舗の現地時刻（${esc(tz)}）で表示しています。Times are site-local (${esc(tz)}).</p>
<table>
<tr><th>事案番号</th><td>${esc(c?.caseNumber ?? '—')}</td><th>店舗</th><td>${esc(input.site.name)}（${esc(input.site.code)}）</td></tr>
<tr><th>件名</th><td colspan="3">${esc(c?.title ?? '—')}</td></tr>
<tr><th>提供目的</th><td>${esc(d.purpose.ja)}</td><th>照会番号等</th><td>${esc(input.reference)}</td></tr>
<tr><th>提供の法的根拠</th><td colspan="3">${esc(input.legalBasis)}</td></tr>
<tr><th>作成者</th><td>${esc(input.builtBy.name ?? input.builtBy.login)}（${esc(input.builtBy.login)}）</td><th>作成日時</th><td>${esc(t(input.builtAt))}</td></tr>
<tr><th>パッケージID</th><td class="mono" colspan="3">${esc(input.packId)}</td></tr>
<tr><th>署名鍵の指紋</th><td class="mono" colspan="3">${esc(d.keyFingerprint)}</td></tr>
</table>

<h2>1. 事案の概要</h2>
${
  c
    ? `<table><tr><th>区分</th><td>${esc(c.category)}</td><th>重大度</th><td>${esc(c.severity)}</td><th>状態</th><td>${esc(c.status)}</td></tr>
<tr><th>発生時間帯</th><td colspan="5">${esc(t(c.window.from))} 〜 ${esc(t(c.window.to))}</td></tr>
<tr><th>経緯</th><td colspan="5">${esc(c.narrative || '（記載なし）').replaceAll('\n', '<br>')}</td></tr></table>`
    : '<p>事案に紐づかない資料です。</p>'
}
${(input.reportNotes ?? []).map((n) => `<p>${esc(n)}</p>`).join('\n')}

<h2>2. 時系列</h2>
<table><tr><th>時刻</th><th>出来事</th><th>詳細</th></tr>
${timeline.map((r) => `<tr><td>${esc(t(new Date(r.at)))}</td><td>${esc(r.what)}</td><td>${esc(r.detail)}</td></tr>`).join('\n') || '<tr><td colspan="3">なし</td></tr>'}
</table>

<h2>3. カメラ映像</h2>
<table><tr><th>カメラ</th><th>設置場所</th><th>対象時間帯</th><th>MP4 の開始</th><th>長さ</th><th>原本</th><th>ファイル</th></tr>
${d.videos.map((v) => `<tr><td>${esc(v.camera.name)}</td><td>${esc(v.camera.place ?? '—')}</td><td>${esc(t(v.window.from))} 〜 ${esc(t(v.window.to))}</td><td>${v.path ? esc(t(v.start)) : '映像なし'}</td><td>${v.path ? `${v.durationS.toFixed(1)} 秒` : '—'}</td><td>${v.cutFrom.length} 個</td><td class="mono">${esc(v.path || '—')}</td></tr>`).join('\n') || '<tr><td colspan="7">なし</td></tr>'}
</table>
<p class="note">MP4 は原本から再エンコードせずに切り出したもの（ストリームコピー）です。映像内の字幕に現地時刻を表示しています。</p>
<h3>映像の欠落</h3>
<table><tr><th>カメラ</th><th>時間帯</th><th>理由</th></tr>
${d.videos.flatMap((v) => v.gaps.map((g) => `<tr><td>${esc(v.camera.name)}</td><td>${esc(t(g.from))} 〜 ${esc(t(g.to))}</td><td>${esc(GAP_LABELS[g.reason] ?? g.reason)}</td></tr>`)).join('\n') || '<tr><td colspan="3">なし</td></tr>'}
</table>

<h2>4. 通話</h2>
<table><tr><th>開始</th><th>終了</th><th>方向</th><th>発信者</th><th>応対者</th><th>録音告知</th><th>録音</th></tr>
${d.calls.map((cl) => `<tr><td>${esc(t(cl.start))}</td><td>${esc(t(cl.end))}</td><td>${esc(DIRECTION_LABELS[cl.direction] ?? cl.direction)}</td><td>${esc(cl.callerNumber ?? '非通知')}</td><td>${esc(cl.operator ?? '—')}</td><td>${esc(NOTICE_LABELS[cl.recordingNotice] ?? cl.recordingNotice)}</td><td>${cl.recordings.map((r) => `${esc(ROLE_LABELS[r.role] ?? r.role)}: <span class="mono">${esc(r.path || '（原本は含まれていません）')}</span>`).join('<br>')}</td></tr>`).join('\n') || '<tr><td colspan="7">なし</td></tr>'}
</table>
<p class="note">店舗の電話録音告知文: ${esc(input.site.pbxNoticeText ?? '登録なし')}</p>

<h2>5. ブックマーク</h2>
<table><tr><th>時刻</th><th>対象</th><th>メモ</th><th>登録者</th></tr>
${input.bookmarks.map((b) => `<tr><td>${esc(t(b.at))}</td><td>${esc(b.target ?? '事案全体')}</td><td>${esc(b.note)}</td><td>${esc(b.by ?? '—')}</td></tr>`).join('\n') || '<tr><td colspan="4">なし</td></tr>'}
</table>

<h2>6. 店舗のカメラ掲示（撮影の告知）</h2>
<p>${esc(describeNotice(input.site.cameraNotice))}</p>

<h2>7. 時計のずれ</h2>
<p class="note">店舗機器は映像の区切りごとにセンターの時計との差を測って記録しています（正の値は店舗機器の時計が進んでいることを示します）。</p>
<table><tr><th>カメラ</th><th>原本数</th><th>時計の差（最小〜最大）</th></tr>
${offsets.map((o) => `<tr><td>${esc(o.camera)}</td><td>${o.n}</td><td>${o.min === null ? '記録なし' : `${o.min} ms 〜 ${o.max} ms`}</td></tr>`).join('\n') || '<tr><td colspan="3">なし</td></tr>'}
</table>
${input.site.agentClockOffsetMs !== null ? `<p>店舗機器の直近の時計の差: ${input.site.agentClockOffsetMs} ms</p>` : ''}

<h2>8. 証拠の保管経過（チェーン・オブ・カストディ）</h2>
<table><tr><th>日時</th><th>内容</th><th>実施者</th><th>詳細</th></tr>
${d.custody.map((e) => `<tr><td>${esc(t(e.at))}</td><td>${esc(e.action)}</td><td>${esc(e.actor ?? '—')}</td><td>${esc(e.detail ?? '')}</td></tr>`).join('\n')}
</table>

<h2>9. 収録ファイルと検証方法</h2>
<p>原本 ${originals.length} 個、MP4 ${d.videos.filter((v) => v.path).length} 個、全 ${d.files.length} ファイルのサイズと SHA-256 を manifest.json に記載し、Ed25519 で署名しています（manifest.json.sig）。
検証方法は README.txt をご覧ください（verify.html をブラウザで開く、sha256sum と openssl、または npx @mamoru/verify-pack）。</p>
</body></html>
`;
}
