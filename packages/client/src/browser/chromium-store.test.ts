/**
 * The store contract suite in a real Chromium, on SQLite WASM over OPFS (`opfs-sahpool`) in a
 * dedicated worker: the harness page (test-browser/) is built with Vite, served from a tiny static
 * server on a free localhost port (a secure context, so OPFS works), and driven with
 * playwright-core. Chromium comes from `scripts/ensure-chromium`; without one this file FAILS.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { addLine, createCart, units } from '@kassa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import { describeStore, seedFixture } from '../store/describe-store.js';
import { FIXTURE, fixtureId } from '../store/store-fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '../../../..');
const harnessDir = join(here, '../../test-browser');

/** The flags every browser test here launches Chromium with (quiet, no network beyond loopback). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

function ensureChromium(): string {
  const run = spawnSync('bash', [join(repoRoot, 'scripts/ensure-chromium')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`no Chromium for the browser tests (scripts/ensure-chromium said: ${run.stderr.trim()})`);
  return run.stdout.trim();
}

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Answer {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: Record<string, unknown>;
}

/** Calls a store method in the page and rethrows its error with name, code and data. */
async function call(page: Page, method: string, args: unknown[]): Promise<unknown> {
  const answer = await page.evaluate(
    ([m, a]) => (globalThis as unknown as { kassa: { call(m: string, a: unknown[]): Promise<Answer> } }).kassa.call(m, a),
    [method, args] as [string, unknown[]],
  );
  if (answer.ok) return answer.value;
  const data = answer.error ?? {};
  const err = new Error(String(data.message ?? 'error in the page'));
  Object.assign(err, data);
  err.name = String(data.name ?? 'Error');
  throw err;
}

function remoteStore(page: () => Page): AsyncRegisterStore {
  return new Proxy({} as AsyncRegisterStore, {
    get: (_target, prop) => (prop === 'then' ? undefined : (...args: unknown[]) => call(page(), String(prop), args)),
  });
}

async function ready(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { kassa: { ready: Promise<string> } }).kassa.ready);
}

let outDir = '';
let profileDir = '';
let server: Server | undefined;
let context: BrowserContext | undefined;
let baseUrl = '';
let pools = 0;

beforeAll(async () => {
  const executablePath = ensureChromium();
  outDir = mkdtempSync(join(tmpdir(), 'kassa-harness-'));
  profileDir = mkdtempSync(join(tmpdir(), 'kassa-profile-'));
  await build({ configFile: join(harnessDir, 'vite.config.ts'), build: { outDir }, logLevel: 'warn' });
  server = await serve(outDir);
  baseUrl = `http://localhost:${String((server.address() as AddressInfo).port)}`;
  context = await chromium.launchPersistentContext(profileDir, { executablePath, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  if (profileDir !== '') rmSync(profileDir, { recursive: true, force: true });
});

describe('browser bundle', () => {
  it('carries sqlite-wasm and never better-sqlite3', () => {
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.some((f) => f.endsWith('.wasm'))).toBe(true);
    for (const f of assets.filter((name) => name.endsWith('.js'))) {
      expect(readFileSync(join(outDir, 'assets', f), 'utf8'), f).not.toMatch(/better-sqlite3|node:fs/);
    }
  });
});

describeStore(
  'sqlite-wasm on OPFS (opfs-sahpool) in Chromium',
  async () => {
    if (context === undefined) throw new Error('Chromium did not start');
    pools += 1;
    const ctx = context;
    let page = await ctx.newPage();
    const url = `${baseUrl}/index.html?pool=t${String(pools)}x${String(Date.now())}`;
    await page.goto(url);
    await ready(page);
    const store = remoteStore(() => page);
    return {
      store,
      async reopen() {
        // A restart of the register: the worker closes the database, the page goes away, and a
        // new page (new worker, new sqlite-wasm instance) opens the same OPFS files.
        await store.close();
        await page.close();
        page = await ctx.newPage();
        await page.goto(url);
        await ready(page);
        return store;
      },
      async dispose() {
        await call(page, 'destroy', []).catch(() => undefined);
        await page.close();
      },
    };
  },
  { timeout: 240_000 },
);

describe('OPFS quota in Chromium', () => {
  it('a write beyond the origin quota (QuotaExceededError under opfs-sahpool) rolls back and says StorageFullError', { timeout: 120_000 }, async () => {
    if (context === undefined) throw new Error('Chromium did not start');
    const page = await context.newPage();
    try {
      await page.goto(`${baseUrl}/index.html?pool=quota${String(Date.now())}`);
      await ready(page);
      const store = remoteStore(() => page);
      await seedFixture(store);
      await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
      const cdp = await context.newCDPSession(page);
      const usage = (await page.evaluate(() => navigator.storage.estimate())).usage ?? 0;
      // Room for a handful of pages more than the store uses now.
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: baseUrl, quotaSize: usage + 64 * 1024 });
      const settings = await store.cartSettings();
      const items = await Promise.all([FIXTURE.mug, FIXTURE.tea, FIXTURE.cafe].map((id) => store.getItem(id)));
      let full: Error | undefined;
      let before: unknown;
      for (let i = 0; i < 2000 && full === undefined; i++) {
        before = await store.dump();
        let cart = createCart(settings);
        for (const item of items) cart = addLine(cart, item, units(1));
        try {
          await store.completeSale({ cart, staffId: FIXTURE.cashier, note: 'x'.repeat(400), tenders: [{ tenderId: fixtureId(0x200000 + i), kind: 'cash', given: 100_000 }] });
        } catch (e) {
          full = e as Error;
        }
      }
      expect(full?.name).toBe('StorageFullError');
      expect(full?.message).toMatch(/QuotaExceeded/);
      expect(await store.dump()).toEqual(before);
      const outbox = await store.outbox();
      expect((await store.meta()).nextSeq).toBe(outbox.length + 1);
      // With room again, the register carries on where it stopped.
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: baseUrl });
      const next = await store.completeSale({ cart: addLine(createCart(settings), items[0] ?? (await store.getItem(FIXTURE.mug)), units(1)), staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x2fffff), kind: 'cash', given: 1000 }] });
      expect(next.op.seq).toBe(outbox.length + 1);
      await call(page, 'destroy', []).catch(() => undefined);
    } finally {
      await page.close();
    }
  });
});
