/** axe-core run inside the page: the serious and critical violations, each with a few of its elements. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type Violation = { id: string; impact: string | null; help: string; targets: string[] };

export async function seriousViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the debugging protocol, not as a <script> tag: the app's Content-Security-Policy (rightly)
  // refuses inline scripts, and the pages are checked under the policy they really have.
  await page.evaluate(AXE);
  const all: Violation[] = await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
  );
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
