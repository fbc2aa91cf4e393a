/**
 * The page the Chromium contract run drives: it opens the browser store (worker + sqlite-wasm on
 * OPFS) on the pool named in `?pool=` and offers one entry point, `window.kassa.call(method,
 * args)`, which answers `{ ok, value }` or `{ ok: false, error }` with the error's name, message
 * and data, because a thrown error does not survive `page.evaluate` with its fields.
 */
import { openBrowserStore, type BrowserRegisterStore } from '../src/browser/browser-store.js';

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

interface Harness {
  readonly ready: Promise<string>;
  call(method: string, args: unknown[]): Promise<Answer>;
}

const params = new URLSearchParams(location.search);
const pool = params.get('pool') ?? 'harness';
const worker = new Worker(new URL('../src/browser/store-worker.ts', import.meta.url), { type: 'module' });
const opening: Promise<BrowserRegisterStore> = openBrowserStore(worker, { pool, file: '/register.sqlite' });
const status = document.getElementById('status');

const harness: Harness = {
  ready: opening.then(
    async (store) => {
      const description = await store.describe();
      if (status !== null) status.textContent = `ready: ${description}`;
      return description;
    },
    (e: unknown) => {
      if (status !== null) status.textContent = `failed: ${String(e)}`;
      throw e;
    },
  ),
  async call(method, args) {
    const store = (await opening) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    try {
      const fn = store[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      return { ok: true, value: await fn(...args) };
    } catch (e) {
      const error: Record<string, unknown> = e instanceof Error ? { ...e, name: e.name, message: e.message } : { name: 'Error', message: String(e) };
      return { ok: false, error };
    }
  },
};

(globalThis as unknown as { kassa: Harness }).kassa = harness;
