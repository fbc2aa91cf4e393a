// Builds the register-tab harness (tab.html), its store worker and its service worker (sw.js) for
// chromium-tabs.test.ts and chromium-crash.test.ts; lists every built file in precache.json for
// the service worker to cache.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Writes precache.json: every file of the build but the service worker and the list itself. */
function precacheList(): Plugin {
  let outDir = '';
  return {
    name: 'kassa-precache-list',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const files = filesUnder(outDir)
        .map((f) => relative(outDir, f).split('\\').join('/'))
        .filter((f) => f !== 'sw.js' && f !== 'precache.json' && !f.endsWith('index.html'))
        .map((f) => `./${f}`);
      writeFileSync(join(outDir, 'precache.json'), JSON.stringify(files));
    },
  };
}

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  plugins: [precacheList()],
  // sqlite-wasm finds its .wasm next to itself through import.meta.url; pre-bundling would move it.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: { tab: join(root, 'tab.html'), sw: join(root, 'tab-sw.ts') },
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
});
