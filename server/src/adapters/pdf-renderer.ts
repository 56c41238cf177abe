/**
 * HTML to PDF through headless Chromium's print-to-PDF (playwright-core drives the system's /usr/bin/chromium; no
 * browser is downloaded). Japanese text renders with the installed IPA fonts (fonts-ipafont-gothic). The page gets
 * no network: it is set with setContent and every request it would make is aborted.
 */
// playwright-core is loaded when the first PDF is rendered, not with the worker: it costs about 80 MB of RSS.

export interface PdfRenderer {
  render(html: string): Promise<Buffer>;
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumPdfRenderer(o: { executablePath?: string | undefined; timeoutMs?: number } = {}): PdfRenderer {
  return {
    async render(html) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: o.executablePath ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: o.timeoutMs ?? 60_000 });
      try {
        const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
        const page = await context.newPage();
        await page.route('**/*', (r) => r.abort());
        await page.setContent(html, { waitUntil: 'load', timeout: o.timeoutMs ?? 60_000 });
        return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
      } finally {
        await browser.close();
      }
    },
  };
}
