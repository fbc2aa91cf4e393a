// Builds the store harness page and its worker for the Chromium contract run (chromium-store.test.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  // sqlite-wasm finds its .wasm next to itself through import.meta.url; pre-bundling would move it.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  worker: { format: 'es' },
  build: { target: 'es2022', emptyOutDir: true, minify: false, sourcemap: false },
});
