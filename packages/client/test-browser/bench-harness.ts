/**
 * The page `npm run bench` drives in Chromium (bench/src/register/browser-register.ts): the
 * register's real browser store — sqlite-wasm on OPFS (`opfs-sahpool`) in its dedicated worker,
 * reached over Comlink — and the client's `SyncEngine` running in the page against the server the
 * page was served with (same origin: the bench's static server forwards `/api/` to a real Kassa
 * server process). Every timing is taken here, on the UI thread, from the call to its answer.
 */
import { addLine, createCart, qtyMilli } from '@kassa/core';
import { openBrowserStore, type BrowserRegisterStore } from '../src/browser/browser-store.js';
import type { RegisterIdentity } from '../src/store/meta.js';
import { SyncEngine } from '../src/sync/sync-engine.js';

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

const params = new URLSearchParams(location.search);
const pool = params.get('pool') ?? 'bench';
const worker = new Worker(new URL('../src/browser/store-worker.ts', import.meta.url), { type: 'module' });
const opening: Promise<BrowserRegisterStore> = openBrowserStore(worker, { pool, file: '/register.sqlite' });
const status = document.getElementById('status');

function show(text: string): void {
  if (status !== null) status.textContent = text;
}

async function answer(run: () => Promise<unknown>): Promise<Answer> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? { ...e, name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e) } };
  }
}

/** What the bootstrap measured. */
interface BootstrapAnswer {
  readonly seconds: number;
  readonly total: number;
  readonly progressEvents: number;
  readonly pullCursor: string | null;
}

async function bootstrap(identity: RegisterIdentity, timeoutMs: number): Promise<BootstrapAnswer> {
  const store = await opening;
  await store.pair(identity);
  const sync = new SyncEngine({ store, baseUrl: location.origin, database: `bench:${pool}`, fetch: (url, init) => fetch(url, init), pullWaitS: 1 });
  let total = 0;
  let events = 0;
  let settle: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail?.(new Error(`the bootstrap did not finish within ${String(timeoutMs)} ms`)), timeoutMs);
  sync.subscribe((s) => {
    if (s.bootstrap !== null && s.bootstrap.total > 0) {
      total = s.bootstrap.total;
      events += 1;
      show(`bootstrap ${String(s.bootstrap.done)}/${String(s.bootstrap.total)}`);
    }
    if (s.phase === 'error' || s.phase === 'locked') fail?.(new Error(`sync ${s.phase}: ${s.lastError?.code ?? ''} ${s.lastError?.message ?? ''}`));
    // Idle after the last page: the cursor was saved in the same transaction as that page.
    if (s.phase === 'idle' && s.bootstrap === null && s.lastSuccessfulSyncAt !== null) {
      void store.syncInfo().then((info) => {
        if (info.pullCursor !== null && info.bootstrap === null) settle?.();
      }, fail);
    }
  });
  const started = performance.now();
  await sync.start();
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  await sync.stop();
  const info = await store.syncInfo();
  show(`bootstrapped: ${String(total)} items in ${seconds.toFixed(2)} s`);
  return { seconds, total, progressEvents: events, pullCursor: info.pullCursor };
}

/** Times `count` sales of `lines` products each (cash), each from the call to its answer. */
async function sales(input: { staffId: string; productIds: string[]; count: number; lines: number; warmup: number }): Promise<{ ms: number[]; orderIds: string[]; receiptNos: string[]; seqs: number[] }> {
  const store = await opening;
  if ((await store.currentShift()) === undefined) await store.openShift({ staffId: input.staffId, float: { denominations: [], total: 10_000 } });
  const items = await Promise.all(input.productIds.map((id) => store.getItem(id)));
  const settings = await store.cartSettings();
  const ms: number[] = [];
  const orderIds: string[] = [];
  const receiptNos: string[] = [];
  const seqs: number[] = [];
  for (let i = 0; i < input.warmup + input.count; i++) {
    let cart = createCart(settings);
    for (let l = 0; l < input.lines; l++) {
      const item = items[(i * input.lines + l) % items.length];
      if (item === undefined) throw new Error('no product to sell');
      cart = addLine(cart, item, qtyMilli(1000));
    }
    const tenders = [{ tenderId: crypto.randomUUID(), kind: 'cash' as const, given: 10_000_000 }];
    const t0 = performance.now();
    const sale = await store.completeSale({ cart, staffId: input.staffId, tenders });
    const t1 = performance.now();
    if (i < input.warmup) continue;
    ms.push(t1 - t0);
    orderIds.push(sale.orderId);
    receiptNos.push(sale.receiptNo);
    seqs.push(sale.op.seq);
  }
  show(`sold ${String(ms.length)}`);
  return { ms, orderIds, receiptNos, seqs };
}

/** Times a barcode lookup per code; answers the product id each found (null for none). */
async function barcodes(codes: string[]): Promise<{ ms: number[]; found: (string | null)[] }> {
  const store = await opening;
  const ms: number[] = [];
  const found: (string | null)[] = [];
  for (const code of codes) {
    const t0 = performance.now();
    const hit = await store.findByBarcode(code);
    ms.push(performance.now() - t0);
    found.push(hit?.item.productId ?? null);
  }
  return { ms, found };
}

/** Times a search per query (first 20 matches); answers how many each found and the first's name. */
async function searches(queries: string[]): Promise<{ ms: number[]; counts: number[]; first: (string | null)[] }> {
  const store = await opening;
  const ms: number[] = [];
  const counts: number[] = [];
  const first: (string | null)[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const hits = await store.search(q);
    ms.push(performance.now() - t0);
    counts.push(hits.length);
    first.push(hits[0]?.name ?? null);
  }
  return { ms, counts, first };
}

/** Times a round trip to the worker that touches no table (`describe`): the floor under every call. */
async function pings(n: number): Promise<{ ms: number[] }> {
  const store = await opening;
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await store.describe();
    ms.push(performance.now() - t0);
  }
  return { ms };
}

const bench = {
  ready: opening.then(
    async (store) => {
      const description = await store.describe();
      show(`ready: ${description}`);
      return description;
    },
    (e: unknown) => {
      show(`failed: ${String(e)}`);
      throw e;
    },
  ),
  bootstrap: (identity: RegisterIdentity, timeoutMs: number) => answer(() => bootstrap(identity, timeoutMs)),
  sales: (input: Parameters<typeof sales>[0]) => answer(() => sales(input)),
  barcodes: (codes: string[]) => answer(() => barcodes(codes)),
  searches: (queries: string[]) => answer(() => searches(queries)),
  pings: (n: number) => answer(() => pings(n)),
  call: (method: string, args: unknown[]) =>
    answer(async () => {
      const store = (await opening) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = store[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      return fn(...args);
    }),
};

(globalThis as unknown as { kassaBench: typeof bench }).kassaBench = bench;
