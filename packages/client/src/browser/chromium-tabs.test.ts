/**
 * Tab ownership, storage persistence and the lost-database alarm in a real Chromium: pages of the
 * tab harness (test-browser/tab.html) in one browser, each test on its own OPFS pool (so its own
 * Web Lock and BroadcastChannel). Without Chromium this file FAILS (scripts/ensure-chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_IDENTITY } from '../store/store-fixtures.js';
import { buildTabHarness, CHROMIUM_ARGS, ensureChromium, serveStatic, waitUntil, type StaticServer } from './testing/chromium.js';

type Answer = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Record<string, unknown> };

interface PlainStatus {
  readonly tabId: string;
  readonly role: string;
  readonly phase: string;
  readonly owner: { tabId: string; phase: string; register: { storeCode: string; registerCode: string } | null; lastSeq: number | null; detail: unknown } | null;
  readonly error: Record<string, unknown> | null;
}

interface Harness {
  ready: Promise<PlainStatus>;
  status(): Promise<PlainStatus>;
  call(method: string, args: unknown[]): Promise<Answer>;
  callKept(method: string, args: unknown[]): Promise<Answer>;
  keepStore(): Promise<void>;
  takeOver(): Promise<Answer>;
  recover(): Promise<Answer>;
  seed(): Promise<Answer>;
  sellOne(note: string): Promise<Answer>;
  storage(): Promise<{ usage: number | null; quota: number | null; persisted: boolean | null; persistedAtPairing: boolean | null }>;
  publish(detail: unknown): Promise<void>;
  marker(pool?: string): unknown;
  deleteDatabaseFiles(pool: string): Promise<Answer>;
  corruptDatabaseFiles(pool: string): Promise<Answer>;
}

let outDir = '';
let profileDir = '';
let server: StaticServer | undefined;
let context: BrowserContext | undefined;
let pools = 0;

beforeAll(async () => {
  const executablePath = ensureChromium();
  outDir = mkdtempSync(join(tmpdir(), 'kassa-tab-harness-'));
  profileDir = mkdtempSync(join(tmpdir(), 'kassa-tab-profile-'));
  await buildTabHarness(outDir);
  server = await serveStatic(outDir);
  context = await chromium.launchPersistentContext(profileDir, { executablePath, args: [...CHROMIUM_ARGS] });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  if (profileDir !== '') rmSync(profileDir, { recursive: true, force: true });
});

function newPool(): string {
  pools += 1;
  return `tabs${String(pools)}x${String(Date.now())}`;
}

/** Opens the harness on `pool` in a new page and waits until the tab knows its role. */
async function openTab(pool: string): Promise<Page> {
  if (context === undefined || server === undefined) throw new Error('Chromium did not start');
  const page = await context.newPage();
  await page.goto(`${server.url}/tab.html?pool=${pool}&takeOverTimeoutMs=15000`);
  await page.evaluate(() => (globalThis as unknown as { kassaTab: Harness }).kassaTab.ready);
  return page;
}

function harness<R>(page: Page, run: (h: Harness, arg: unknown) => R | Promise<R>, arg?: unknown): Promise<R> {
  return page.evaluate(([fn, a]) => (new Function('h', 'a', `return (${fn})(h, a)`) as (h: unknown, a: unknown) => R)((globalThis as unknown as { kassaTab: Harness }).kassaTab, a), [run.toString(), arg] as const);
}

const status = (page: Page): Promise<PlainStatus> => harness(page, (h) => h.status());

async function call(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  const answer = await harness(page, (h, a) => h.call((a as [string, unknown[]])[0], (a as [string, unknown[]])[1]), [method, args]);
  if (!answer.ok) throw Object.assign(new Error(String(answer.error.message)), answer.error);
  return answer.value;
}

async function ok(answer: Promise<Answer>): Promise<unknown> {
  const a = await answer;
  if (!a.ok) throw Object.assign(new Error(String(a.error.message)), a.error);
  return a.value;
}

async function waitForPhase(page: Page, phase: string): Promise<PlainStatus> {
  await waitUntil(async () => (await status(page)).phase === phase, `phase ${phase}`, 30_000, 25);
  return status(page);
}

describe('one tab owns the register', () => {
  it('a second tab says the register is open elsewhere; when the owner closes, it takes over and sells on the same data', { timeout: 120_000 }, async () => {
    const pool = newPool();
    const a = await openTab(pool);
    expect(await status(a)).toMatchObject({ role: 'owner', phase: 'ready' });
    await ok(harness(a, (h) => h.seed()));
    const first = (await ok(harness(a, (h) => h.sellOne('from tab A')))) as { orderId: string; seq: number; receiptNo: string };
    expect(first).toMatchObject({ seq: 2, receiptNo: 'S01-R02-000001' });

    const b = await openTab(pool);
    const bStatus = await status(b);
    expect(bStatus).toMatchObject({ role: 'follower', phase: 'following' });
    // The owner's status reaches the follower, and the follower says so plainly.
    await waitUntil(async () => (await status(b)).owner?.register?.registerCode === 'R02', 'the owner status in tab B');
    expect((await status(b)).owner).toMatchObject({ tabId: (await status(a)).tabId, phase: 'ready', lastSeq: 2 });
    await expect.poll(() => b.getByRole('status').textContent()).toMatch(/open in another tab \(S01-R02\)/);
    expect(await b.getByRole('button', { name: 'Take over here' }).isVisible()).toBe(true);
    expect(await a.getByRole('button', { name: 'Take over here' }).isVisible()).toBe(false);
    // A follower has no store: nothing it could write behind the owner's back.
    await expect(call(b, 'meta')).rejects.toThrow(/no store/);

    await a.close();
    const bOwner = await waitForPhase(b, 'ready');
    expect(bOwner.role).toBe('owner');
    expect(await b.getByRole('status').textContent()).toMatch(/This tab runs register S01-R02/);
    const second = (await ok(harness(b, (h) => h.sellOne('from tab B')))) as { seq: number; receiptNo: string };
    expect(second).toMatchObject({ seq: 3, receiptNo: 'S01-R02-000002' });
    expect(await call(b, 'order', first.orderId)).toMatchObject({ receiptNo: 'S01-R02-000001', status: 'completed' });
    expect(((await call(b, 'outbox')) as { seq: number }[]).map((e) => e.seq)).toEqual([1, 2, 3]);
    await b.close();
  });

  it('take over: the owner closes its database and hands off; its old store refuses; every tab sees the new owner', { timeout: 120_000 }, async () => {
    const pool = newPool();
    const a = await openTab(pool);
    await ok(harness(a, (h) => h.seed()));
    await ok(harness(a, (h) => h.sellOne('a1')));
    await harness(a, (h) => h.keepStore());
    await harness(a, (h) => h.publish({ sync: 'online', waiting: 2 }));
    const b = await openTab(pool);
    const c = await openTab(pool);
    await waitUntil(async () => (await status(c)).owner?.detail !== null && (await status(c)).owner?.detail !== undefined, 'the published detail in tab C');
    expect((await status(c)).owner?.detail).toEqual({ sync: 'online', waiting: 2 });

    // The cashier presses the button in tab B.
    await b.getByRole('button', { name: 'Take over here' }).click();
    const bReady = await waitForPhase(b, 'ready');
    expect(bReady.role).toBe('owner');
    const aNow = await waitForPhase(a, 'following');
    expect(aNow.role).toBe('follower');
    await waitUntil(async () => (await status(a)).owner?.tabId === bReady.tabId && (await status(c)).owner?.tabId === bReady.tabId, 'tabs A and C to follow B');
    expect(await a.getByRole('button', { name: 'Take over here' }).isVisible()).toBe(true);

    // What tab A still holds of its store refuses: it no longer owns the database.
    const refused = await harness(a, (h) => h.callKept('meta', []));
    expect(refused).toMatchObject({ ok: false, error: { name: 'NotOwnerError', code: 'not_owner' } });

    const sale = (await ok(harness(b, (h) => h.sellOne('b1')))) as { seq: number; receiptNo: string };
    expect(sale).toMatchObject({ seq: 3, receiptNo: 'S01-R02-000002' });

    // When B goes, exactly one of the two waiting tabs becomes the owner.
    await b.close();
    await waitUntil(async () => [await status(a), await status(c)].some((s) => s.phase === 'ready'), 'A or C to own the register');
    const roles = [(await status(a)).role, (await status(c)).role].sort();
    expect(roles).toEqual(['follower', 'owner']);
    const owner = (await status(a)).role === 'owner' ? a : c;
    expect(((await call(owner, 'outbox')) as unknown[]).length).toBe(3);
    await a.close();
    await c.close();
  });

  it('asks for persistent storage at pairing, keeps the answer in the pairing marker, and exposes the estimate', { timeout: 60_000 }, async () => {
    const pool = newPool();
    const page = await openTab(pool);
    expect((await harness(page, (h) => h.storage())).persistedAtPairing).toBeNull();
    await ok(harness(page, (h) => h.seed()));
    const info = await harness(page, (h) => h.storage());
    expect(typeof info.persistedAtPairing).toBe('boolean');
    expect(info.usage).toBeGreaterThan(0);
    expect(info.quota).toBeGreaterThan(info.usage ?? 0);
    expect(typeof info.persisted).toBe('boolean');
    const persistedNow = await page.evaluate(() => navigator.storage.persisted());
    expect(info.persistedAtPairing).toBe(persistedNow);
    expect(await harness(page, (h) => h.marker())).toMatchObject({ deviceId: FIXTURE_IDENTITY.deviceId, registerCode: 'R02', lastSeq: 1, persisted: persistedNow });
    await page.close();
  });
});

describe('a paired register whose database is gone says so', () => {
  /** A paired register with three sales, its tab closed and its pool's files released. */
  async function pairedThenClosed(pool: string): Promise<void> {
    const page = await openTab(pool);
    await ok(harness(page, (h) => h.seed()));
    for (const note of ['s1', 's2', 's3']) await ok(harness(page, (h, n) => h.sellOne(n as string), note));
    await page.close();
  }

  /** Runs `change` on the pool's files from a page of another pool, once the closed tab's worker let go of them. */
  async function whileClosed(pool: string, change: 'deleteDatabaseFiles' | 'corruptDatabaseFiles'): Promise<void> {
    const other = await openTab(newPool());
    await waitUntil(
      async () => (await harness(other, (h, a) => h[(a as [typeof change, string])[0]]((a as [typeof change, string])[1]), [change, pool])).ok,
      `the pool's files to be free for ${change}`,
      30_000,
      50,
    );
    await other.close();
  }

  it('deleted OPFS files: DatabaseLostError with the register code and last seq, no store, until it re-pairs as itself', { timeout: 120_000 }, async () => {
    const pool = newPool();
    await pairedThenClosed(pool);
    await whileClosed(pool, 'deleteDatabaseFiles');

    const page = await openTab(pool);
    const lost = await status(page);
    expect(lost).toMatchObject({ role: 'owner', phase: 'database-lost' });
    expect(lost.error).toMatchObject({ name: 'DatabaseLostError', code: 'database_lost', reason: 'missing', storeCode: 'S01', registerCode: 'R02', lastSeq: 4, lastReceiptNo: 'S01-R02-000003' });
    expect(lost.owner).toMatchObject({ phase: 'database-lost', register: { registerCode: 'R02' }, lastSeq: 4 });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/S01-R02 was paired, but its database is missing: it had ops up to seq 4/);
    // Never silently empty: the tab hands out no store.
    await expect(call(page, 'meta')).rejects.toThrow(/no store/);
    // A second tab hears it too.
    const other = await openTab(pool);
    await waitUntil(async () => (await status(other)).owner?.phase === 'database-lost', 'the loss in the other tab');
    await other.close();

    // Recovery (what recoverRegister does after the server's pairing answer): open the empty
    // database on purpose and pair again as the same register, recording what the server lacks —
    // here it had ops up to seq 2 and receipt 1, so ops 3–4 and receipts 2–3 never reached it.
    await ok(harness(page, (h) => h.recover()));
    expect(await call(page, 'meta')).toMatchObject({ deviceId: null, nextSeq: 1 });
    const loss = await call(
      page,
      'pairAfterLoss',
      { ...FIXTURE_IDENTITY, resume: { lastSeq: 2, lastReceiptNumber: 1, chainHead: null }, pairedAt: FIXTURE_IDENTITY.pairedAt + 1 },
      { reason: 'missing', localLastSeq: 4, localLastReceiptNo: 'S01-R02-000003' },
    );
    expect(loss).toMatchObject({ missingSeqs: { from: 3, to: 4, count: 2 }, missingReceipts: { from: 'S01-R02-000002', to: 'S01-R02-000003', count: 2 } });
    // The seq resumes from the server; receipts after the last one printed.
    expect(await call(page, 'meta')).toMatchObject({ deviceId: FIXTURE_IDENTITY.deviceId, nextSeq: 3, lastReceiptSeq: 3 });
    await page.close();

    // The tab rewrote the marker: the recovered database is not "rolled back", and the loss is still shown.
    const again = await openTab(pool);
    expect(await status(again)).toMatchObject({ role: 'owner', phase: 'ready', error: null });
    expect(await call(again, 'reviewInfo')).toMatchObject({ dataLoss: { reason: 'missing', missingSeqs: { count: 2 } } });
    await again.close();
  });

  it('an unreadable database (SQLite header overwritten): DatabaseLostError "unreadable"', { timeout: 120_000 }, async () => {
    const pool = newPool();
    await pairedThenClosed(pool);
    await whileClosed(pool, 'corruptDatabaseFiles');
    const page = await openTab(pool);
    const lost = await status(page);
    expect(lost).toMatchObject({ role: 'owner', phase: 'database-lost' });
    expect(lost.error).toMatchObject({ name: 'DatabaseLostError', reason: 'unreadable', registerCode: 'R02', lastSeq: 4 });
    expect(String(lost.error?.message)).toMatch(/not a database|malformed|SQLITE/i);
    await page.close();
  });
});
