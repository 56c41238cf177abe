/**
 * HTML to PDF through headless Chromium's print-to-PDF (playwright-core drives the system's /usr/bin/chromium; no
 * browser is downloaded). Japanese text renders with the installed IPA fonts (fonts-ipafont-gothic). The page gets
 * no network: it is set with setContent and every request it would make is aborted, in a fresh offline context per
 * render (nothing is shared between two reports).
 *
 * One Chromium per renderer (per worker process), started lazily: `warm()` starts it in the background (the pack
 * builder calls it while the footage is still going into the ZIP, so the launch overlaps it) and makes the next
 * render's fresh context and page ahead, `render` reuses the browser, and it is closed by
 * `close()` (the worker's shutdown, a test centre's close) or after `idleMs` without a render. A browser that died is started again.
 */
// playwright-core is loaded when the browser is first needed, not with the worker: it costs about 80 MB of RSS.
import type { Browser, BrowserContext, Page } from 'playwright-core';

export interface PdfRenderer {
  render(html: string): Promise<Buffer>;
  /** Starts what `render` needs in the background (no-op where nothing needs starting). */
  warm?(): void;
  /** Releases what the renderer keeps (the browser); a later render starts it again. */
  close?(): Promise<void>;
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumPdfRenderer(o: { executablePath?: string | undefined; timeoutMs?: number; /** Close the browser after this long without a render (default 60 s). */ idleMs?: number } = {}): PdfRenderer {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const idleMs = o.idleMs ?? 60_000;
  let browser: Promise<Browser> | null = null;
  let active = 0;
  let idleTimer: NodeJS.Timeout | null = null;

  const launch = (): Promise<Browser> => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (!browser) {
      const p = import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath: o.executablePath ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: timeoutMs }));
      browser = p;
      p.then(
        (b) =>
          b.on('disconnected', () => {
            if (browser === p) browser = null;
          }),
        () => {
          if (browser === p) browser = null;
        },
      );
    }
    return browser;
  };
  const close = async () => {
    spare = null;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const b = browser;
    browser = null;
    if (b) await b.then((x) => x.close()).catch(() => undefined);
  };
  const idleLater = (ms = idleMs) => {
    if (active > 0 || !browser) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => void close(), ms);
    idleTimer.unref();
  };

  type Fresh = { context: BrowserContext; page: Page };
  /** A fresh offline context and page made ahead for the next render (making them takes about half a second). */
  let spare: Promise<Fresh> | null = null;
  const fresh = async (): Promise<Fresh> => {
    const context = await (await launch()).newContext({ offline: true, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.route('**/*', (r) => r.abort());
    return { context, page };
  };

  return {
    warm() {
      // Warmed for a build whose footage may take a while: kept for the build's render, or half an hour at most.
      launch().then(() => idleLater(Math.max(idleMs, 30 * 60_000)), () => undefined);
      if (!spare) {
        spare = fresh();
        spare.catch(() => (spare = null));
      }
    },
    close,
    async render(html) {
      active++;
      try {
        // The spare made by warm() when it is ready and its browser still runs, else a new one; used once.
        const ready = spare;
        spare = null;
        const made = ready ? await ready.catch(() => null) : null;
        const { context, page } = made && made.context.browser()?.isConnected() ? made : await fresh();
        try {
          await page.setContent(html, { waitUntil: 'load', timeout: timeoutMs });
          return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
        } finally {
          await context.close().catch(() => undefined);
        }
      } finally {
        active--;
        idleLater(idleMs);
      }
    },
  };
}
