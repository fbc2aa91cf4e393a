// Builds the register bench page (bench.html) and its store worker for `npm run bench`
// (bench/src/register/browser-register.ts). Minified, as a register app would ship.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  // sqlite-wasm finds its .wasm next to itself through import.meta.url; pre-bundling would move it.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  worker: { format: 'es', rollupOptions: { checks: { pluginTimings: false } } },
  build: {
    target: 'es2022',
    emptyOutDir: true,
    minify: true,
    sourcemap: false,
    rollupOptions: { input: { bench: join(root, 'bench.html') }, checks: { pluginTimings: false } },
  },
});
