import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

/** The route whose code app.html's inline script preloads on its own pages (a case: the page with the players). */
const CASE_ROUTE = 'src/routes/incidents/[id]/+page.svelte';

/**
 * The built case route's files (its node's module, the modules it imports, its CSS), as absolute URLs, from the
 * client build's manifest: which node is the case route is read from SvelteKit's generated node modules.
 */
export function caseRouteFiles(outDir = '.svelte-kit'): string[] {
  const nodes = `${outDir}/generated/client-optimized/nodes`;
  const node = readdirSync(nodes).find((f) => readFileSync(`${nodes}/${f}`, 'utf8').includes(`${CASE_ROUTE}"`));
  if (!node) throw new Error(`no SvelteKit node for ${CASE_ROUTE}`);
  const manifest = JSON.parse(readFileSync(`${outDir}/output/client/.vite/manifest.json`, 'utf8')) as Record<string, { file: string; imports?: string[]; css?: string[] }>;
  const files = new Set<string>();
  const css = new Set<string>();
  const visit = (key: string) => {
    const e = manifest[key];
    if (!e || files.has(e.file)) return;
    files.add(e.file);
    for (const c of e.css ?? []) css.add(c);
    for (const i of e.imports ?? []) visit(i);
  };
  visit(`.svelte-kit/generated/client-optimized/nodes/${node}`);
  if (files.size === 0) throw new Error(`${node} is not in the client manifest`);
  return [...files, ...css].map((f) => `/${f}`);
}

/**
 * Names the case route's files in build/index.html (`<meta name="mamoru-case-modules">`), whose inline script
 * preloads them on a case's address: the route's ~400 KB of code then loads and compiles while the app starts and
 * the case's answers come, instead of after the router has started. Runs after the adapter wrote the page.
 */
function casePreload(): Plugin {
  let ssr = false;
  let root = '.';
  return {
    name: 'mamoru-case-preload',
    apply: 'build',
    configResolved(c) {
      ssr = !!c.build.ssr;
      root = c.root;
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      handler() {
        const index = `${root}/build/index.html`;
        if (!ssr || !existsSync(index)) return;
        const html = readFileSync(index, 'utf8');
        // What the page preloads for every route anyway is not named twice.
        const files = caseRouteFiles(`${root}/.svelte-kit`).filter((f) => !html.includes(`href="${f}"`));
        const marker = '<meta name="mamoru-case-modules" content="" />';
        if (!html.includes(marker)) throw new Error('build/index.html has no case-modules meta (src/app.html)');
        writeFileSync(index, html.replace(marker, `<meta name="mamoru-case-modules" content="${files.join(' ')}" />`));
      },
    },
  };
}

export default defineConfig({
  plugins: [sveltekit(), casePreload()],
  // Every module two or more entries or pages import goes into one `shared` chunk: the page then asks for 5 modules
  // and 2 style sheets at its start instead of 11 and 1 (HTTP/1.1 gives a host 6 connections, and the case page's
  // first answers wait behind them). docs/benchmarks.md, "Case page".
  build: { rolldownOptions: { output: { codeSplitting: { groups: [{ name: 'shared', minShareCount: 2 }] } } } },
  // `npm run dev -w web` talks to a centre running on MAMORU_API (default: the server's default port).
  server: { proxy: { '/api': process.env.MAMORU_API ?? 'http://127.0.0.1:8080' } },
});
