/**
 * The police share page: plain server-rendered HTML at /share/{token}, no account, never indexed, never cached.
 * It offers the pack's ZIP (counted against the link's download limit) and plays its MP4s and call audio in the
 * browser (range reads of the stored ZIP; not counted). An unknown token answers 404, an expired, used-up or revoked
 * link 410, a wrong passcode 403; every use is audited by the service.
 */
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { localParts } from '../domain/pack.ts';
import type { RequestOrigin } from '../domain/principal.ts';
import type { AppEnv } from '../http/app-env.ts';
import { DomainError } from '../domain/errors.ts';
import { statusOf } from '../http/errors.ts';
import type { EvidencePackService } from '../services/evidence-pack.service.ts';

const esc = (s: unknown) =>
  String(s ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'x-robots-tag': 'noindex, nofollow, noarchive',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow, noarchive"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:system-ui,"IPAGothic",sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#111}
.en{color:#555;font-size:.92em} .box{border:1px solid #bbb;border-radius:6px;padding:1rem;margin:1rem 0}
a.button,button{display:inline-block;background:#1e5bb8;color:#fff;padding:.6rem 1rem;border-radius:6px;text-decoration:none;border:0;font-size:1rem;cursor:pointer}
video{width:100%;max-height:70vh;background:#000} dt{font-weight:bold} dd{margin:0 0 .5rem 0} .err{color:#b71c1c}</style></head>
<body>${body}</body></html>`;
}

const ERROR_TEXT: Record<number, { ja: string; en: string }> = {
  403: { ja: 'パスコードが正しくありません。', en: 'The passcode is not correct.' },
  404: { ja: 'このリンクは存在しません。', en: 'This link does not exist.' },
  410: { ja: 'このリンクは有効期限切れ、ダウンロード回数の上限到達、または取り消しにより使用できません。', en: 'This link has expired, has been used up, or was revoked.' },
  413: { ja: '送信された内容が大きすぎます。パスコードだけを入力してください。', en: 'What was sent is too large. Enter only the passcode.' },
};

/**
 * A refusal on a share path that no route handled (the body limit, a malformed form): the recipient gets the same
 * plain page as for any other refusal of the link, with the status and code, never the API's JSON.
 */
export function shareRefusalPage(c: Context<AppEnv>, e: DomainError): Response {
  // The token only goes back into the retry link (escaped); a path that does not decode is not a token at all.
  const raw = /^\/share\/([^/]+)/.exec(c.req.path)?.[1] ?? '';
  let token = '';
  try {
    token = decodeURIComponent(raw);
  } catch {
    token = '';
  }
  return errorPage(c, e, token);
}

function errorPage(c: Context<AppEnv>, e: unknown, token: string) {
  if (!(e instanceof DomainError)) throw e;
  const status = statusOf(e);
  const t = ERROR_TEXT[status] ?? { ja: 'このリンクは使用できません。', en: 'This link cannot be used.' };
  const retry = status === 403 ? `<p><a href="/share/${esc(token)}">もう一度入力する / Try again</a></p>` : '';
  return c.body(page('共有リンク / Shared evidence', `<h1>証拠資料の共有 <span class="en">/ Shared evidence</span></h1><p class="err" data-code="${esc(e.code)}">${esc(t.ja)}<br><span class="en">${esc(t.en)}</span></p>${retry}`), status, PAGE_HEADERS);
}

export function shareRoutes(deps: { packs: EvidencePackService; origin: (c: Context<AppEnv>) => RequestOrigin }) {
  const app = new Hono<AppEnv>();

  async function render(c: Context<AppEnv>, token: string, passcode: string | undefined) {
    const v = await deps.packs.openShare(token, deps.origin(c), passcode);
    const tz = 'Asia/Tokyo';
    const expires = localParts(v.link.expiresAt.getTime(), tz);
    const head = `<h1>証拠資料の共有 <span class="en">/ Shared evidence</span></h1>
<dl class="box"><dt>事案番号 / Case</dt><dd>${esc(v.caseNumber ?? '—')}</dd><dt>店舗 / Store</dt><dd>${esc(v.siteName ?? '—')}</dd>
<dt>宛先 / For</dt><dd>${esc(v.link.recipient)}</dd><dt>有効期限 / Expires</dt><dd>${esc(expires.text)} (${tz}, UTC${expires.offset})</dd>
<dt>残りダウンロード回数 / Downloads left</dt><dd id="downloads-left">${v.link.maxDownloads - v.link.downloadCount} / ${v.link.maxDownloads}</dd></dl>
<p>このページへのリンクを他の人に転送しないでください。すべての利用は記録されています。<br><span class="en">Do not forward this link. Every use is recorded.</span></p>`;
    if (!v.unlocked) {
      return c.body(
        page('パスコード / Passcode', `${head}<form method="post" action="/share/${esc(token)}" class="box"><label>パスコード / Passcode <input type="password" name="passcode" autocomplete="off" required minlength="6" maxlength="100"></label> <button type="submit">開く / Open</button></form>`),
        200,
        PAGE_HEADERS,
      );
    }
    const q = v.grant ? `?exp=${v.grant.exp}&sig=${encodeURIComponent(v.grant.sig)}` : '';
    const media = v.pack.contents
      .map((m, i) => {
        const src = `/share/${esc(token)}/media/${i}${q}`;
        const player = m.kind === 'video' ? `<video controls preload="metadata" src="${src}" data-path="${esc(m.path)}"></video>` : `<audio controls preload="metadata" src="${src}" data-path="${esc(m.path)}"></audio>`;
        return `<div class="box"><div>${esc(m.label)}</div>${player}<div class="en">${esc(m.path)}</div></div>`;
      })
      .join('\n');
    return c.body(
      page(
        `証拠資料 ${v.caseNumber ?? ''} / Shared evidence`,
        `${head}
<p><a class="button" id="download" href="/share/${esc(token)}/download${q}">ZIP をダウンロード / Download the ZIP (${((v.pack.size ?? 0) / 1024 / 1024).toFixed(1)} MB)</a></p>
<p>ZIP 内の README.txt と verify.html で、改ざんがないことを確認できます。<br><span class="en">README.txt and verify.html inside the ZIP show how to check that nothing was changed.</span></p>
<p>署名鍵の指紋 / Signing key fingerprint: <code>${esc(v.pack.keyFingerprint)}</code></p>
<h2>再生 <span class="en">/ Play</span></h2>${media || '<p>なし / none</p>'}`,
      ),
      200,
      PAGE_HEADERS,
    );
  }

  app.get('/share/:token', async (c) => {
    const token = c.req.param('token');
    return render(c, token, undefined).catch((e) => errorPage(c, e, token));
  });

  app.post('/share/:token', async (c) => {
    const token = c.req.param('token');
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const passcode = typeof form.passcode === 'string' ? form.passcode.slice(0, 100) : '';
    return render(c, token, passcode).catch((e) => errorPage(c, e, token));
  });

  app.get('/share/:token/download', async (c) => {
    const token = c.req.param('token');
    try {
      const d = await deps.packs.shareDownload(token, deps.origin(c), { exp: c.req.query('exp'), sig: c.req.query('sig') });
      return c.body(Readable.toWeb(d.body) as ReadableStream, 200, {
        'content-type': 'application/zip',
        'content-length': String(d.size),
        'content-disposition': `attachment; filename="${d.fileName}"`,
        'cache-control': 'no-store',
        'x-robots-tag': 'noindex, nofollow, noarchive',
        'referrer-policy': 'no-referrer',
      });
    } catch (e) {
      return errorPage(c, e, token);
    }
  });

  app.get('/share/:token/media/:index{[0-9]+}', async (c) => {
    const token = c.req.param('token');
    try {
      const m = await deps.packs.sharePlay(token, deps.origin(c), Number(c.req.param('index')), c.req.header('range'), { exp: c.req.query('exp'), sig: c.req.query('sig') });
      const headers: Record<string, string> = {
        'content-type': m.entry.mediaType,
        'accept-ranges': 'bytes',
        'cache-control': 'no-store',
        'x-robots-tag': 'noindex, nofollow, noarchive',
      };
      const body = Readable.toWeb(m.body) as ReadableStream;
      if (m.range) {
        headers['content-range'] = `bytes ${m.range.start}-${m.range.end}/${m.entry.size}`;
        headers['content-length'] = String(m.range.end - m.range.start + 1);
        return c.body(body, 206, headers);
      }
      headers['content-length'] = String(m.entry.size);
      return c.body(body, 200, headers);
    } catch (e) {
      if (e instanceof DomainError && e.kind === 'range_not_satisfiable') return c.body(null, 416, { 'content-range': `bytes */${(e.details as { size?: number } | undefined)?.size ?? '*'}` });
      return errorPage(c, e, token);
    }
  });

  return app;
}
