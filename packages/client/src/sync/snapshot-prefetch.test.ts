/**
 * The bootstrap asks for snapshot page k+1 while page k is applied. These tests fail the page asked
 * for ahead (an error, a 410) and check that page k is still stored with exactly the progress it
 * covers, and that the bootstrap then ends as an undisturbed one does. Fake server, fake timers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, type Clock } from '@kassa/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openNodeStore, type NodeRegisterStore } from '../node.js';
import { counterRandom, FIXTURE, FIXTURE_IDENTITY } from '../store/store-fixtures.js';
import { createInProcessLock } from './owner-lock.js';
import type { BootstrapProgress } from '../store/sync-store.js';
import { SyncEngine, type OnlineSignal } from './sync-engine.js';
import type { FetchLike } from './sync-api.js';
import { FakeSyncServer } from './sync-test-kit.js';

const T0 = Date.UTC(2026, 0, 15, 9);
const clock: Clock = { now: () => Date.now() };
const online: OnlineSignal = { isOnline: () => true, subscribe: () => () => undefined };
const PAGE = 4;

const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.useRealTimers();
});

interface SnapshotCall {
  /** The `page` asked for (null: the first). */
  readonly page: string | null;
  /** Where the store's bootstrap stood when the request left. */
  readonly storedAtRequest: BootstrapProgress | null;
}

/**
 * A register and the fake server, whose `fetch` is wrapped: `failSnapshot(n)` answers the n-th
 * snapshot request (1-based) instead of the server.
 */
function rig(failSnapshot: (n: number, page: string | null) => Response | undefined): { node: NodeRegisterStore; server: FakeSyncServer; calls: SnapshotCall[]; engine: SyncEngine } {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-prefetch-'));
  const file = join(dir, 'register.sqlite');
  const node = openNodeStore(file, { random: counterRandom(3) });
  const server = new FakeSyncServer(clock, { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) });
  const calls: SnapshotCall[] = [];
  const fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    if (u.pathname.endsWith('/snapshot')) {
      const page = u.searchParams.get('page');
      calls.push({ page, storedAtRequest: (await node.store.syncInfo()).bootstrap });
      const answer = failSnapshot(calls.length, page);
      if (answer !== undefined) return answer;
    }
    return server.fetch(url, init);
  };
  const engine = new SyncEngine({ store: node.store, baseUrl: 'http://kassa.test', database: file, fetch, clock, random: seededRandom(11), online, lock: createInProcessLock(), snapshotLimit: PAGE });
  cleanups.push(() => {
    node.engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  cleanups.push(() => engine.stop());
  return { node, server, calls, engine };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, maxMs = 120_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 50) {
    if (await cond()) return;
    await vi.advanceTimersByTimeAsync(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** What an undisturbed bootstrap leaves (the fixture's catalog and stock). */
async function expectBootstrapped(node: NodeRegisterStore): Promise<void> {
  const info = await node.store.syncInfo();
  expect(info.pullCursor).not.toBeNull();
  expect(info.bootstrap).toBeNull();
  expect((await node.store.findByBarcode(FIXTURE.mugBarcode))?.item).toMatchObject({ productId: FIXTURE.mug, unitPrice: { amount: 250 } });
  expect(await node.store.onHand(FIXTURE.mug)).toBe(10_000);
  expect(await node.store.serverOnHand(FIXTURE.mug)).toBe(10_000);
  expect((await node.store.settings()).currency).toBe('EUR');
}

describe('snapshot pages asked for one ahead', () => {
  it('asks for page 2 before page 1 is stored; with no fault the bootstrap ends as before', async () => {
    const r = rig(() => undefined);
    await r.node.store.pair(FIXTURE_IDENTITY);
    await r.engine.start();
    await until('bootstrap', async () => (await r.node.store.syncInfo()).pullCursor !== null && r.engine.status().phase === 'idle');
    await expectBootstrapped(r.node);
    expect(r.calls.length).toBeGreaterThan(2);
    expect(r.calls[0]).toEqual({ page: null, storedAtRequest: null });
    // Page 2 left while page 1 was being applied: the store had not recorded page 1 yet.
    expect(r.calls[1]?.page).not.toBeNull();
    expect(r.calls[1]?.storedAtRequest).toBeNull();
    // Each page asked for once, in order: none skipped, none twice.
    const pages = r.calls.map((c) => c.page);
    expect(new Set(pages).size).toBe(pages.length);
  });

  it('an error on page 2 while page 1 applies: page 1 stays stored with its progress, and the bootstrap resumes at page 2', async () => {
    const r = rig((n) => (n === 2 ? json(503, { error: 'unavailable', message: 'injected' }) : undefined));
    await r.node.store.pair(FIXTURE_IDENTITY);
    await r.engine.start();
    await until('the failed page', () => r.calls.length === 2 && r.engine.status().pull.state === 'backoff');
    const second = r.calls[1]?.page ?? null;
    expect(second).not.toBeNull();
    const mid = await r.node.store.syncInfo();
    // Page 1's items and exactly page 1's progress; no cursor yet.
    expect(mid.pullCursor).toBeNull();
    expect(mid.bootstrap).toMatchObject({ done: PAGE, nextPage: second });
    await until('bootstrap', async () => (await r.node.store.syncInfo()).pullCursor !== null && r.engine.status().phase === 'idle');
    // After the backoff, the same page 2 again (not the snapshot from the start).
    expect(r.calls[2]?.page).toBe(second);
    await expectBootstrapped(r.node);
  });

  it('410 on page 2 while page 1 applies: the snapshot starts over from page 1 and ends consistent', async () => {
    const r = rig((n) => (n === 2 ? json(410, { error: 'resync_required', message: 'start the snapshot again', details: { reason: 'pruned' } }) : undefined));
    await r.node.store.pair(FIXTURE_IDENTITY);
    await r.engine.start();
    await until('bootstrap', async () => (await r.node.store.syncInfo()).pullCursor !== null && r.engine.status().phase === 'idle');
    expect(r.calls[1]?.page).not.toBeNull();
    // Started over: the third request is a first page, stored over what page 1 of the old snapshot wrote.
    expect(r.calls[2]?.page).toBeNull();
    await expectBootstrapped(r.node);
  });
});
