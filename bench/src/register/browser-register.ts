/**
 * The register in Debian's Chromium: the bench page (`packages/client/test-browser/bench.html`,
 * built with Vite) runs the real browser store — sqlite-wasm on OPFS (`opfs-sahpool`) in its
 * dedicated worker, over Comlink — and the client's `SyncEngine` in the page. A small static
 * server on a free localhost port serves the page (a secure context, so OPFS works) and forwards
 * `/api/` to the real Kassa server process, so the page syncs same-origin as a register app served
 * by the Kassa server would.
 *
 * In one page, in order: the register bootstraps the server's large catalog from its snapshot
 * (checked: every page applied, the cursor saved), the JS heap of the page and of the store's
 * worker is read over CDP (`Runtime.getHeapUsage` after `HeapProfiler.collectGarbage`), then sales,
 * barcode lookups and searches are timed on the UI thread, from the call to its answer, and their
 * results checked.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { build } from 'vite';
import type { RegisterIdentity as StoreIdentity } from '@kassa/client';
import type { KassaServer } from '../kassa-server.js';
import { REPO_ROOT } from '../kassa-server.js';
import type { BenchWorld, RegisterIdentity } from '../registers.js';
import type { SeededProduct } from './catalog-seed.js';

const HARNESS_DIR = path.join(REPO_ROOT, 'packages/client/test-browser');

/** The flags the client's Chromium tests use: headless, quiet, no network beyond loopback. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Chromium from `scripts/ensure-chromium` (`CHROMIUM_PATH`, then `/usr/bin/chromium`). */
function ensureChromium(): string {
  const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/ensure-chromium')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`no Chromium for the register's browser figures (scripts/ensure-chromium said: ${run.stderr.trim()})`);
  return run.stdout.trim();
}

/** Serves `dir` and forwards `/api/` to `upstream`, on a free port of 127.0.0.1. */
function serve(dir: string, upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/')) {
      const forward = http.request(
        { host: target.hostname, port: target.port, path: `${url.pathname}${url.search}`, method: req.method, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`bench proxy: ${e.message}`);
      });
      req.pipe(forward);
      return;
    }
    const file = path.join(dir, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(dir) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://localhost:${String((server.address() as AddressInfo).port)}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

type Answer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Record<string, unknown> };

/** Calls `kassaBench[method](...args)` in the page and rethrows its error with its message. */
async function inPage<T>(page: Page, method: string, args: unknown[]): Promise<T> {
  const answer = await page.evaluate(
    ([m, a]): Promise<Answer<unknown>> => {
      const fn = (globalThis as unknown as { kassaBench: Record<string, ((...x: unknown[]) => Promise<Answer<unknown>>) | undefined> }).kassaBench[m];
      return fn === undefined ? Promise.resolve({ ok: false, error: { message: `no ${m}` } }) : fn(...a);
    },
    [method, args] as [string, unknown[]],
  );
  if (answer.ok) return answer.value as T;
  throw new Error(`in Chromium, ${method}: ${String(answer.error['name'] ?? 'Error')}: ${String(answer.error['message'] ?? '')}\n${String(answer.error['stack'] ?? '')}`);
}

/** JS heap of the page and of each dedicated worker it started, after a full GC, over CDP. */
interface HeapReading {
  readonly pageUsedMb: number;
  readonly workersUsedMb: number;
  readonly workers: number;
  /** Before the GC, for comparison. */
  readonly beforeGcMb: number;
}

/**
 * Reads `Runtime.getHeapUsage` of the page and of its workers. Workers are reached through the
 * page's CDP session with `Target.setAutoAttach` (non-flattened: messages go through
 * `Target.sendMessageToTarget`), each collected first with `HeapProfiler.collectGarbage`.
 */
async function heapOf(cdp: CDPSession): Promise<HeapReading> {
  const mb = (bytes: number): number => bytes / 2 ** 20;
  const sessions: string[] = [];
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') sessions.push(e.sessionId);
  });
  let nextId = 1;
  const pending = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id !== undefined) pending.get(message.id)?.(message);
  });
  const inWorker = async <T>(sessionId: string, method: string, params: Record<string, unknown> = {}): Promise<T> => {
    const id = nextId++;
    const answer = new Promise<{ result?: unknown; error?: { message: string } }>((resolve) => pending.set(id, resolve));
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    let timer: NodeJS.Timeout | undefined;
    const message = await Promise.race([
      answer,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`CDP ${method} in the store worker did not answer within 20 s`)), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (message.error !== undefined) throw new Error(`${method} in the worker: ${message.error.message}`);
    return message.result as T;
  };
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  if (sessions.length === 0) throw new Error('CDP attached to no worker of the bench page: the store worker is not measured');

  const pageBefore = await cdp.send('Runtime.getHeapUsage');
  let workersBefore = 0;
  for (const s of sessions) workersBefore += (await inWorker<{ usedSize: number }>(s, 'Runtime.getHeapUsage')).usedSize;
  await cdp.send('HeapProfiler.collectGarbage');
  let workersUsed = 0;
  for (const s of sessions) {
    await inWorker(s, 'HeapProfiler.collectGarbage');
    workersUsed += (await inWorker<{ usedSize: number }>(s, 'Runtime.getHeapUsage')).usedSize;
  }
  const pageAfter = await cdp.send('Runtime.getHeapUsage');
  return { pageUsedMb: mb(pageAfter.usedSize), workersUsedMb: mb(workersUsed), workers: sessions.length, beforeGcMb: mb(pageBefore.usedSize + workersBefore) };
}

/** The shape of one browser run. */
export interface BrowserShape {
  /** Timed sales (after `warmup` untimed ones). */
  readonly sales: number;
  readonly warmup: number;
  readonly lookups: number;
  readonly searches: number;
  /** Products the server's snapshot holds at least (the register must end with as many). */
  readonly minProducts: number;
}

/** What the browser run measured (milliseconds per call, on the UI thread). */
export interface BrowserResult {
  readonly chromium: string;
  readonly store: string;
  readonly bootstrap: { readonly seconds: number; readonly items: number; readonly progressEvents: number };
  readonly heap: HeapReading;
  readonly saleMs: readonly number[];
  readonly barcodeMs: readonly number[];
  readonly searchMs: readonly number[];
  readonly searchQueries: readonly string[];
  readonly searchCounts: readonly number[];
  /** Round trips to the worker that touch no table: the RPC and scheduling floor under each call. */
  readonly pingMs: readonly number[];
}

/** The cashier's searches: first letters of one, two and three words, a SKU prefix, brand + goods. */
export function searchQueries(n: number, sample: readonly SeededProduct[]): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const p = sample[(i * 7) % sample.length];
    if (p === undefined) break;
    const words = p.name.split(' ');
    const pre = (w: string | undefined, k: number): string => (w ?? '').slice(0, k);
    switch (i % 5) {
      case 0:
        out.push(pre(words[2], 4));
        break;
      case 1:
        out.push(`${pre(words[0], 3)} ${pre(words[2], 3)}`);
        break;
      case 2:
        out.push(`${pre(words[1], 4)} ${pre(words[2], 3)} ${pre(words[3], 2)}`);
        break;
      case 3:
        out.push(p.sku.slice(0, 7));
        break;
      default:
        out.push(`${words[0] ?? ''} ${words[2] ?? ''}`);
    }
  }
  return out;
}

/** Builds the bench page, starts Chromium, runs the register there and reads what it measured. */
export async function runInChromium(server: KassaServer, world: BenchWorld, identity: RegisterIdentity, sample: readonly SeededProduct[], shape: BrowserShape, log: (line: string) => void): Promise<BrowserResult> {
  const executablePath = ensureChromium();
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-page-'));
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-profile-'));
  let context: BrowserContext | undefined;
  let site: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    log('  chromium: building the bench page');
    await build({ configFile: path.join(HARNESS_DIR, 'bench.vite.config.ts'), build: { outDir }, logLevel: 'warn' });
    site = await serve(outDir, server.baseUrl);
    context = await chromium.launchPersistentContext(profileDir, { executablePath, args: CHROMIUM_ARGS });
    // The context's own first page: no second tab in the run.
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site.url}/bench.html?pool=bench${String(Date.now())}`);
    const description = await page.evaluate(() => (globalThis as unknown as { kassaBench: { ready: Promise<string> } }).kassaBench.ready);
    const version = context.browser()?.version() ?? 'unknown';

    const pairing: StoreIdentity = {
      deviceId: identity.deviceId,
      storeId: world.storeId,
      storeCode: world.storeCode,
      registerCode: identity.code,
      token: identity.token,
      resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
      pairedAt: Date.now(),
    };
    log(`  chromium: register ${identity.code} bootstraps from the server's snapshot (timed)`);
    const boot = await inPage<{ seconds: number; total: number; progressEvents: number; pullCursor: string | null }>(page, 'bootstrap', [pairing, 900_000]);
    if (boot.pullCursor === null) throw new Error('the browser register has no pull cursor after its bootstrap');

    log('  chromium: JS heap of the page and its store worker (CDP)');
    const cdp = await context.newCDPSession(page);
    const heap = await heapOf(cdp);

    // Every sample product must be in the browser's store now, found by its barcode.
    const codes = Array.from({ length: shape.lookups }, (_, i) => sample[(i * 13) % sample.length] as SeededProduct);
    log(`  chromium: ${shape.lookups} barcode lookups, ${shape.searches} searches, ${shape.sales} sales of 5 lines (timed in the page)`);
    const lookups = await inPage<{ ms: number[]; found: (string | null)[] }>(page, 'barcodes', [codes.map((p) => p.barcode)]);
    lookups.found.forEach((id, i) => {
      if (id !== codes[i]?.id) throw new Error(`barcode ${codes[i]?.barcode ?? ''} found ${String(id)}, expected ${codes[i]?.sku ?? ''}`);
    });
    const queries = searchQueries(shape.searches, sample);
    const found = await inPage<{ ms: number[]; counts: number[]; first: (string | null)[] }>(page, 'searches', [queries]);
    found.counts.forEach((n, i) => {
      if (n === 0) throw new Error(`the search "${queries[i] ?? ''}" found nothing`);
    });
    const cashier = world.cashierIds[0];
    if (cashier === undefined) throw new Error('no cashier');
    const sold = await inPage<{ ms: number[]; orderIds: string[]; receiptNos: string[]; seqs: number[] }>(page, 'sales', [
      { staffId: cashier, productIds: sample.slice(0, 50).map((p) => p.id), count: shape.sales, lines: 5, warmup: shape.warmup },
    ]);
    // Each timed sale is committed: its order is there and its op is in the outbox, seqs gapless.
    const outbox = await inPage<{ seq: number; opId: string; type: string }[]>(page, 'call', ['outbox', [100_000]]);
    const bySeq = new Map(outbox.map((e) => [e.seq, e]));
    for (let i = 0; i < sold.orderIds.length; i++) {
      const order = await inPage<{ receiptNo: string } | undefined>(page, 'call', ['order', [sold.orderIds[i]]]);
      if (order?.receiptNo !== sold.receiptNos[i]) throw new Error(`sale ${sold.receiptNos[i] ?? ''} is not in the browser store`);
      const seq = sold.seqs[i] ?? 0;
      if (bySeq.get(seq)?.type !== 'sale.completed') throw new Error(`sale ${sold.receiptNos[i] ?? ''} (seq ${seq}) is not in the outbox`);
      if (i > 0 && seq !== (sold.seqs[i - 1] ?? 0) + 1) throw new Error(`seq gap between ${sold.seqs[i - 1] ?? 0} and ${seq}`);
    }
    const pinged = await inPage<{ ms: number[] }>(page, 'pings', [shape.lookups]);
    if (errors.length > 0) throw new Error(`the bench page threw: ${errors.join('; ')}`);
    await inPage(page, 'call', ['destroy', []]);
    return {
      chromium: version,
      store: description,
      bootstrap: { seconds: boot.seconds, items: boot.total, progressEvents: boot.progressEvents },
      heap,
      saleMs: sold.ms,
      barcodeMs: lookups.ms,
      searchMs: found.ms,
      searchQueries: queries,
      searchCounts: found.counts,
      pingMs: pinged.ms,
    };
  } finally {
    await context?.close().catch(() => undefined);
    await site?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
}
