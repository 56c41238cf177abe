import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // `npm run dev -w web` talks to a centre running on MAMORU_API (default: the server's default port).
  server: { proxy: { '/api': process.env.MAMORU_API ?? 'http://127.0.0.1:8080' } },
});
