import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** A single-page app (no SSR) built to static files that the centre serves from WEB_ROOT with an index.html fallback. */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: false, strict: true }),
    // The fallback page is served for every deep link (/cameras/…), so asset URLs must be absolute.
    paths: { relative: false },
    typescript: {
      config: (c) => ({ ...c, compilerOptions: { ...c.compilerOptions, allowImportingTsExtensions: true } }),
    },
  },
};
