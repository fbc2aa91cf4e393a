/**
 * Crash safety, the real thing: Chromium (spawned here, on its own persistent profile) sells in a
 * loop from the page while this test SIGKILLs its whole process group at a random moment; then
 * Chromium is relaunched OFFLINE on the same profile — the static server that served the harness
 * is gone, the page comes from the harness's service worker — and the register's database must
 * hold each sale wholly or not at all, everything the page reported committed, a gapless seq and
 * an unbroken receipt chain. `KASSA_CRASH_TRIALS` (default 20) sets the number of crashes and
 * `KASSA_CRASH_SEED` replays a run's kill moments. Without Chromium this file FAILS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { OpSchema, receiptHash, verifyChain, type ChainedReceipt, type ReceiptPayload } from '@kassa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEntry, ReceiptEntry, StoreDump } from '../store/register-engine.js';
import type { RegisterMeta } from '../store/meta.js';
import { FIXTURE } from '../store/store-fixtures.js';
import { buildTabHarness, ensureChromium, seededRandom, serveStatic, spawnChromium, waitUntil, type SpawnedChromium, type StaticServer } from './testing/chromium.js';

const TRIALS = Number(process.env.KASSA_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.KASSA_CRASH_SEED ?? Date.now() % 2 ** 31);
const POOL = 'crash';

/** What the page reported after a sale's COMMIT. */
interface Committed {
  readonly note: string;
  readonly orderId: string;
  readonly seq: number;
  readonly receiptNo: string;
}

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

interface Harness {
  ready: Promise<{ role: string; phase: string; error: Record<string, unknown> | null }>;
  swReady: Promise<boolean>;
  call(method: string, args: unknown[]): Promise<Answer>;
  seed(): Promise<Answer>;
  startSelling(prefix: string): void;
}

let executablePath = '';
let outDir = '';
let profileDir = '';
let server: StaticServer | undefined;
let chrome: SpawnedChromium | undefined;
let url = '';

beforeAll(async () => {
  executablePath = ensureChromium();
  outDir = mkdtempSync(join(tmpdir(), 'kassa-crash-harness-'));
  profileDir = mkdtempSync(join(tmpdir(), 'kassa-crash-profile-'));
  await buildTabHarness(outDir);
  server = await serveStatic(outDir);
  url = `${server.url}/tab.html?pool=${POOL}&sw`;
}, 120_000);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
  if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  if (profileDir !== '') rmSync(profileDir, { recursive: true, force: true });
});

/** Launches Chromium on the profile and opens the harness; `committed` and `attempts` hear every sale. */
async function launch(committed: Committed[], attempts: string[]): Promise<Page> {
  chrome = await spawnChromium(executablePath, profileDir, ['--hide-crash-restore-bubble']);
  const context = chrome.browser.contexts()[0];
  if (context === undefined) throw new Error('Chromium has no default context');
  await context.exposeBinding('kassaCommitted', (_source, c: Committed) => {
    committed.push(c);
  });
  await context.exposeBinding('kassaAttempt', (_source, note: string) => {
    attempts.push(note);
  });
  const page = await context.newPage();
  await page.goto(url);
  const status = await page.evaluate(() => (globalThis as unknown as { kassaTab: Harness }).kassaTab.ready);
  expect(status, 'the register reopens as the owner of a usable database').toMatchObject({ role: 'owner', phase: 'ready', error: null });
  return page;
}

async function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  const answer = await page.evaluate(([m, a]) => (globalThis as unknown as { kassaTab: Harness }).kassaTab.call(m, a), [method, args] as [string, unknown[]]);
  if (!answer.ok) throw Object.assign(new Error(String(answer.error.message)), answer.error);
  return answer.value as T;
}

interface SaleOp {
  readonly id: string;
  readonly seq: number;
  readonly type: string;
  readonly payload: ReceiptPayload & { readonly orderId: string; readonly note?: string };
}

/**
 * Everything the database must say after a crash: see the module comment. `reported` is what the
 * page reported committed before every kill so far; returns the notes of the sales present.
 */
async function verify(page: Page, reported: readonly Committed[], context: string): Promise<Set<string>> {
  const outbox = await call<OutboxEntry[]>(page, 'outbox', 100_000);
  const meta = await call<RegisterMeta>(page, 'meta');
  const dump = await call<StoreDump>(page, 'dump');
  const receipts = await call<ReceiptEntry[]>(page, 'receipts');

  // Seq gapless from 1, and meta's next seq right after the last.
  expect(outbox.map((e) => e.seq), `${context}: seq gapless`).toEqual(outbox.map((_, i) => i + 1));
  expect(meta.nextSeq, context).toBe(outbox.length + 1);
  const ops = outbox.map((e) => OpSchema.parse(e.op) as unknown as SaleOp);
  const sales = ops.filter((op) => op.type === 'sale.completed');
  expect(ops.length - sales.length, `${context}: only the shift opening besides sales`).toBe(1);

  // Each sale wholly there: its op, its order row, its receipt row, its stock — and nothing else.
  const orders = dump.orders ?? [];
  expect(orders.map((o) => o.op_id).sort(), `${context}: one order per sale op`).toEqual(sales.map((s) => s.id).sort());
  for (const sale of sales) {
    const order = orders.find((o) => o.id === sale.payload.orderId);
    expect(order?.receipt_no, context).toBe(sale.payload.receiptNo);
  }
  expect(receipts.map((r) => r.opId), `${context}: one receipt per sale, in order`).toEqual(sales.map((s) => s.id));
  const stock = new Map((dump.stock_levels ?? []).map((r) => [r.product_id, r.on_hand]));
  expect(stock.get(FIXTURE.mug), `${context}: mugs on hand`).toBe(10_000 - 1000 * sales.length);
  expect(stock.get(FIXTURE.tea), `${context}: teas on hand`).toBe(5_000 - 1000 * sales.length);

  // The receipt chain verifies and ends where meta and the receipts table say.
  const chained: ChainedReceipt[] = sales.map((s) => ({ type: s.type, payload: s.payload }));
  const chain = verifyChain(chained);
  expect(chain, `${context}: receipt chain`).toMatchObject({ ok: true });
  if (chain.ok) expect(meta.chainHeadHash, context).toBe(chain.head.hash);
  expect(meta.lastReceiptSeq, context).toBe(sales.length);
  expect(receipts.map((r) => r.hash), context).toEqual(chained.map((r) => receiptHash(r)));

  // Everything the page reported committed is there, as reported.
  const byNote = new Map(sales.map((s) => [s.payload.note ?? '', s]));
  for (const c of reported) {
    const sale = byNote.get(c.note);
    expect(sale, `${context}: reported committed sale ${c.note} (seq ${String(c.seq)}) is there`).toBeDefined();
    expect({ orderId: sale?.payload.orderId, seq: sale?.seq, receiptNo: sale?.payload.receiptNo }, context).toEqual({ orderId: c.orderId, seq: c.seq, receiptNo: c.receiptNo });
  }

  // The loop sells one at a time, so the sales of each trial that survived are its first k.
  const perTrial = new Map<string, number[]>();
  for (const note of byNote.keys()) {
    const [trial, index] = note.split('-');
    perTrial.set(trial ?? '', [...(perTrial.get(trial ?? '') ?? []), Number(index)]);
  }
  for (const [trial, indexes] of perTrial) {
    expect(indexes, `${context}: sales of ${trial} are a prefix`).toEqual(indexes.map((_, i) => i));
  }
  return new Set(byNote.keys());
}

describe('crash safety in Chromium', () => {
  it(`SIGKILL of the browser during completeSale, relaunched offline: each sale wholly there or absent (${String(TRIALS)} trials, seed ${String(SEED)})`, { timeout: 60_000 + TRIALS * 15_000 }, async () => {
    const random = seededRandom(SEED);
    const reported: Committed[] = [];
    const attempts: string[] = [];
    // Where each kill landed, as far as the page told: after a sale it reported (between sales),
    // inside a sale that then turned out committed, or inside one that turned out absent.
    const landed = { between: 0, committedUnreported: 0, rolledBack: 0 };
    const where = (trial: number): string => `trial ${String(trial)} (KASSA_CRASH_SEED=${String(SEED)})`;

    // Online once: install the service worker (it caches the whole harness) and pair the register.
    let page = await launch(reported, attempts);
    expect(await page.evaluate(() => (globalThis as unknown as { kassaTab: Harness }).kassaTab.swReady)).toBe(true);
    await page.evaluate(() => (globalThis as unknown as { kassaTab: Harness }).kassaTab.seed());
    // From here on there is no server: every relaunch is offline.
    await server?.close();
    server = undefined;

    let sold = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const prefix = `t${String(trial)}`;
      const before = reported.length;
      const waitFor = 1 + Math.floor(random() * 8);
      const extraMs = Math.floor(random() * 30);
      await page.evaluate((p) => (globalThis as unknown as { kassaTab: Harness }).kassaTab.startSelling(p), prefix);
      await waitUntil(() => reported.length - before >= waitFor, `${where(trial)}: ${String(waitFor)} sales committed`, 30_000, 2);
      // A random moment after that, most likely inside the next sale's transaction.
      await new Promise((resolve) => setTimeout(resolve, extraMs));
      await chrome?.kill();
      const reportedBeforeKill = [...reported];

      page = await launch(reported, attempts);
      const present = await verify(page, reportedBeforeKill, where(trial));
      sold = present.size;
      expect(sold, where(trial)).toBeGreaterThanOrEqual(reportedBeforeKill.length);
      const inFlight = attempts.filter((note) => note.startsWith(`${prefix}-`) && !reportedBeforeKill.some((c) => c.note === note));
      if (inFlight.length === 0) landed.between += 1;
      else if (inFlight.every((note) => present.has(note))) landed.committedUnreported += 1;
      else landed.rolledBack += 1;
    }
    expect(sold).toBeGreaterThanOrEqual(TRIALS);
    console.info(`crash test: ${String(TRIALS)} kills (seed ${String(SEED)}), ${String(sold)} sales kept; kills landed between sales ${String(landed.between)}, in a sale that committed ${String(landed.committedUnreported)}, in a sale rolled back ${String(landed.rolledBack)}`);
  });
});
