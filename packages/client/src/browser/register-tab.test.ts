/**
 * The tab state machine in Node, where its races can be staged exactly: a fake Web Locks manager,
 * Node's own BroadcastChannel, the store on a better-sqlite3 file shared by the "tabs", and fake
 * timers for the timeouts. The same behaviour in a real Chromium is chromium-tabs.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLine, createCart, units } from '@kassa/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openNodeStore } from '../node.js';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import { FIXTURE, FIXTURE_IDENTITY, FIXTURE_SETTINGS, fixtureCatalog, fixtureId } from '../store/store-fixtures.js';
import type { BrowserRegisterStore } from './browser-store.js';
import { slotMarkerStore, type MarkerSlot, type MarkerStore } from './pairing-marker.js';
import { openRegisterInTab, type RegisterTab, type RegisterTabOptions } from './register-tab.js';
import type { SyncStatus } from '../sync/status.js';
import { syncWhileOwner, type TabSyncEngine } from './tab-sync.js';
import { FakeLockManager } from './testing/fake-locks.js';

let dir = '';
let pool = '';
let pools = 0;
let tabs: RegisterTab[] = [];
let locks: FakeLockManager;
let slot: MarkerSlot & { text: string | null };
let markers: MarkerStore;
let opens = 0;

function memorySlot(): MarkerSlot & { text: string | null } {
  const s = {
    name: 'memory',
    text: null as string | null,
    read: () => Promise.resolve(s.text),
    write: (text: string) => {
      s.text = text;
      return Promise.resolve();
    },
    remove: () => {
      s.text = null;
      return Promise.resolve();
    },
  };
  return s;
}

function openStore(file = 'register.sqlite'): () => Promise<BrowserRegisterStore> {
  return () => {
    opens += 1;
    const { store } = openNodeStore(join(dir, file));
    return Promise.resolve({ ...store, terminate: () => undefined, destroy: () => store.close() } as BrowserRegisterStore);
  };
}

async function tab(tabId: string, options: Partial<RegisterTabOptions> = {}): Promise<RegisterTab> {
  const t = await openRegisterInTab({ openStore: openStore(), locks: locks.asLockManager(), markers, location: { pool, file: '/r.sqlite' }, tabId, ...options });
  tabs.push(t);
  return t;
}

async function seed(store: AsyncRegisterStore): Promise<void> {
  await store.pair(FIXTURE_IDENTITY);
  await store.writeSettings(FIXTURE_SETTINGS);
  await store.importCatalog(fixtureCatalog());
  await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
}

let tenders = 0;
async function sell(store: AsyncRegisterStore): Promise<{ seq: number; receiptNo: string }> {
  const cart = addLine(createCart(await store.cartSettings()), await store.getItem(FIXTURE.mug), units(1));
  tenders += 1;
  const sale = await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x500000 + tenders), kind: 'cash', given: 1000 }] });
  return { seq: sale.op.seq, receiptNo: sale.receiptNo };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kassa-tab-'));
  pools += 1;
  pool = `p${String(pools)}x${String(Date.now())}`;
  tabs = [];
  locks = new FakeLockManager();
  slot = memorySlot();
  markers = slotMarkerStore([slot]);
  opens = 0;
});

afterEach(async () => {
  vi.useRealTimers();
  for (const t of tabs) await t.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('openRegisterInTab (Node, fake locks)', () => {
  it('the first tab owns the database, the second follows and hears the owner status and what it publishes', async () => {
    const a = await tab('A');
    expect(a.role).toBe('owner');
    expect(a.status$.value).toMatchObject({ phase: 'ready', owner: { tabId: 'A', phase: 'ready' } });
    await seed(a.store as AsyncRegisterStore);
    const b = await tab('B');
    expect(b.role).toBe('follower');
    expect(b.store).toBeUndefined();
    await vi.waitFor(() => expect(b.status$.value.owner).toMatchObject({ tabId: 'A', register: { storeCode: 'S01', registerCode: 'R02' }, lastSeq: 1 }));
    a.publish({ sync: 'offline', waiting: 1 });
    await vi.waitFor(() => expect(b.status$.value.owner?.detail).toEqual({ sync: 'offline', waiting: 1 }));
    expect(locks.queued(`kassa-db:${pool}`)).toBe(1);
  });

  it('when the owner closes, the waiting tab owns the same database and carries on its numbering', async () => {
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    expect(await sell(a.store as AsyncRegisterStore)).toEqual({ seq: 2, receiptNo: 'S01-R02-000001' });
    const b = await tab('B');
    await a.close();
    await vi.waitFor(() => expect(b.status$.value).toMatchObject({ role: 'owner', phase: 'ready' }));
    expect(await sell(b.store as AsyncRegisterStore)).toEqual({ seq: 3, receiptNo: 'S01-R02-000002' });
  });

  it('takeOver: the owner closes its store and hands off; its old store refuses; it follows and gets the register back when the taker closes', async () => {
    const a = await tab('A');
    const aStore = a.store as AsyncRegisterStore;
    await seed(aStore);
    const b = await tab('B');
    const bStore = await b.takeOver();
    expect(b.status$.value).toMatchObject({ role: 'owner', phase: 'ready' });
    await vi.waitFor(() => expect(a.status$.value).toMatchObject({ role: 'follower', phase: 'following', owner: { tabId: 'B' } }));
    await expect(aStore.meta()).rejects.toMatchObject({ name: 'NotOwnerError', code: 'not_owner' });
    expect(await sell(bStore)).toMatchObject({ seq: 2 });
    await b.close();
    await vi.waitFor(() => expect(a.status$.value).toMatchObject({ role: 'owner', phase: 'ready' }));
    expect(await sell(a.store as AsyncRegisterStore)).toMatchObject({ seq: 3 });
  });

  it('takeOver from the owner itself answers its store; from a closed tab refuses', async () => {
    const a = await tab('A');
    expect(await a.takeOver()).toBe(a.store);
    await a.close();
    await expect(a.takeOver()).rejects.toMatchObject({ name: 'NotOwnerError' });
  });

  it('two tabs taking over at once end with one owner that every tab follows', async () => {
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    const b = await tab('B');
    const c = await tab('C');
    const results = await Promise.allSettled([b.takeOver(), c.takeOver()]);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    await vi.waitFor(() => {
      const all = [a, b, c].map((t) => t.status$.value);
      const owners = all.filter((s) => s.role === 'owner');
      expect(owners).toHaveLength(1);
      expect(owners[0]?.phase).toBe('ready');
      for (const s of all.filter((x) => x.role === 'follower')) expect(s.owner?.tabId).toBe(owners[0]?.tabId);
    });
    expect(locks.held(`kassa-db:${pool}`)).toBe(true);
  });

  it('takeOver rejects with TakeOverTimeoutError when nothing answers, and the tab goes back to following', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Something that is not a tab of this version holds the lock and never answers.
    let releaseForeign: () => void = () => undefined;
    void locks.request(`kassa-db:${pool}`, () => new Promise<void>((resolve) => (releaseForeign = resolve)));
    const b = await tab('B', { takeOverTimeoutMs: 5_000 });
    expect(b.role).toBe('follower');
    const taking = b.takeOver();
    const outcome = expect(taking).rejects.toMatchObject({ name: 'TakeOverTimeoutError', code: 'take_over_timeout', waitedMs: 5_000 });
    expect(b.status$.value.phase).toBe('taking-over');
    await vi.advanceTimersByTimeAsync(5_000);
    await outcome;
    expect(b.status$.value).toMatchObject({ role: 'follower', phase: 'following' });
    // Still queued: when the holder lets go, this tab owns the register.
    releaseForeign();
    await vi.waitFor(() => expect(b.status$.value).toMatchObject({ role: 'owner', phase: 'ready' }));
  });

  it('an owner whose taker never takes the lock reopens its database after handoffTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const a = await tab('A', { handoffTimeoutMs: 3_000 });
    await seed(a.store as AsyncRegisterStore);
    const ghost = new BroadcastChannel(`kassa-tabs:${pool}`);
    const heard: unknown[] = [];
    ghost.addEventListener('message', (e) => heard.push((e as MessageEvent).data));
    try {
      ghost.postMessage({ v: 1, type: 'takeover-request', from: 'ghost' });
      await vi.waitFor(() => expect(heard).toContainEqual({ v: 1, type: 'handoff', from: 'A', to: 'ghost' }), { interval: 5 });
      expect(a.status$.value.phase).toBe('releasing');
      expect(a.store).toBeUndefined();
      const opensBefore = opens;
      await vi.advanceTimersByTimeAsync(3_000);
      await vi.waitFor(() => expect(a.status$.value).toMatchObject({ role: 'owner', phase: 'ready' }));
      expect(opens).toBe(opensBefore + 1);
      expect(await sell(a.store as AsyncRegisterStore)).toMatchObject({ seq: 2 });
    } finally {
      ghost.close();
    }
  });

  it('ignores messages that are not of the protocol', async () => {
    const a = await tab('A');
    const ghost = new BroadcastChannel(`kassa-tabs:${pool}`);
    try {
      for (const junk of [null, 42, 'takeover-request', { type: 'takeover-request' }, { v: 2, type: 'takeover-request', from: 'x' }, { v: 1, type: 'handoff', from: 'x' }]) ghost.postMessage(junk);
      // A well-formed hello after the junk is answered: everything before it was read and ignored.
      const answered = new Promise((resolve) => ghost.addEventListener('message', (e) => resolve((e as MessageEvent).data)));
      ghost.postMessage({ v: 1, type: 'hello', from: 'ghost' });
      expect(await answered).toMatchObject({ type: 'status', from: 'A', owner: { phase: 'ready' } });
      expect(a.status$.value.phase).toBe('ready');
    } finally {
      ghost.close();
    }
  });
});

describe('a lost database (Node)', () => {
  it('marker says paired, database empty: database-lost with the register and last seq, no store; recoverStore + re-pair clears it', async () => {
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    await sell(a.store as AsyncRegisterStore);
    await a.close();
    rmSync(join(dir, 'register.sqlite'));

    const b = await tab('B');
    expect(b.status$.value).toMatchObject({ role: 'owner', phase: 'database-lost', owner: { phase: 'database-lost', register: { registerCode: 'R02' }, lastSeq: 2 } });
    expect(b.status$.value.error).toMatchObject({ name: 'DatabaseLostError', reason: 'missing', registerCode: 'R02', storeCode: 'S01', lastSeq: 2, lastReceiptNo: 'S01-R02-000001' });
    expect(b.store).toBeUndefined();
    await expect(b.takeOver()).rejects.toMatchObject({ name: 'DatabaseLostError' });
    const c = await tab('C');
    await vi.waitFor(() => expect(c.status$.value.owner).toMatchObject({ phase: 'database-lost', error: { code: 'database_lost' } }));

    const store = await b.recoverStore();
    expect(await store.meta()).toMatchObject({ deviceId: null });
    expect(b.status$.value.error).toMatchObject({ name: 'DatabaseLostError' });
    await store.pair({ ...FIXTURE_IDENTITY, resume: { lastSeq: 2, lastReceiptNumber: 1, chainHead: null }, pairedAt: FIXTURE_IDENTITY.pairedAt + 1 });
    await b.close();
    // Tab C waited in the queue: it gets the register, paired again, so nothing is lost any more.
    await vi.waitFor(() => expect(c.status$.value).toMatchObject({ role: 'owner', phase: 'ready', error: null }));
  });

  it('recovery pairs again as itself through the tab: the loss is recorded and the marker rewritten, so the next start is not "rolled back"', async () => {
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    for (let i = 0; i < 3; i++) await sell(a.store as AsyncRegisterStore);
    await vi.waitFor(async () => expect((await markers.read())?.lastSeq).toBe(4));
    await a.close();
    rmSync(join(dir, 'register.sqlite'));

    const b = await tab('B');
    expect(b.status$.value.error).toMatchObject({ name: 'DatabaseLostError', reason: 'missing', lastSeq: 4, lastReceiptNo: 'S01-R02-000003' });
    const store = await b.recoverStore();
    // The server had ops up to seq 2 and receipt 1 (what recoverRegister's pairing answers).
    const loss = await store.pairAfterLoss(
      { ...FIXTURE_IDENTITY, resume: { lastSeq: 2, lastReceiptNumber: 1, chainHead: null }, pairedAt: FIXTURE_IDENTITY.pairedAt + 1 },
      { reason: 'missing', localLastSeq: 4, localLastReceiptNo: 'S01-R02-000003' },
    );
    expect(loss).toMatchObject({ missingSeqs: { from: 3, to: 4, count: 2 }, missingReceipts: { from: 'S01-R02-000002', to: 'S01-R02-000003', count: 2 } });
    expect(b.status$.value).toMatchObject({ role: 'owner', phase: 'ready', error: null });
    expect(await markers.read()).toMatchObject({ lastSeq: 2, pairedAt: FIXTURE_IDENTITY.pairedAt + 1 });
    await b.close();
    // Opened again: the database and its marker agree.
    const c = await tab('C');
    expect(c.status$.value).toMatchObject({ role: 'owner', phase: 'ready', error: null });
    expect((await (c.store as AsyncRegisterStore).reviewInfo()).dataLoss).toMatchObject({ id: loss.id });
  });

  it('sync runs only in the tab that owns the register: started there, stopped before another tab’s starts, its status published to every tab', async () => {
    const log: string[] = [];
    const engines = (tabId: string) => (store: AsyncRegisterStore): TabSyncEngine => {
      let listener: ((s: SyncStatus) => void) | null = null;
      return {
        start: async () => {
          log.push(`${tabId} start`);
          await store.meta(); // it uses the store it was given: the owner's
          listener?.({ phase: 'idle', opsWaiting: 0 } as unknown as SyncStatus);
        },
        stop: () => {
          log.push(`${tabId} stop`);
          return Promise.resolve();
        },
        subscribe: (l) => {
          listener = l;
          return () => undefined;
        },
      };
    };
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    const b = await tab('B');
    const syncA = syncWhileOwner(a, engines('A'));
    const syncB = syncWhileOwner(b, engines('B'));
    await vi.waitFor(() => expect(log).toEqual(['A start']));
    expect(syncB.engine()).toBeNull();
    await vi.waitFor(() => expect(b.status$.value.owner?.detail).toMatchObject({ phase: 'idle' }));
    // B takes over: A's engine stops, then B's starts on B's store.
    await b.takeOver();
    await vi.waitFor(() => expect(log).toEqual(['A start', 'A stop', 'B start']));
    expect(syncA.engine()).toBeNull();
    await syncB.stop();
    expect(log.at(-1)).toBe('B stop');
    await syncA.stop();
    expect(log).toEqual(['A start', 'A stop', 'B start', 'B stop']);
  });

  it('a database older than the marker (rolled back) is lost too, and one of another device', async () => {
    const a = await tab('A');
    await seed(a.store as AsyncRegisterStore);
    await a.close();
    const marker = JSON.parse(slot.text ?? 'null') as Record<string, unknown>;
    slot.text = JSON.stringify({ ...marker, lastSeq: 10 });
    const b = await tab('B');
    expect(b.status$.value.error).toMatchObject({ name: 'DatabaseLostError', reason: 'rolled_back', lastSeq: 10 });
    await b.close();
    slot.text = JSON.stringify({ ...marker, deviceId: fixtureId(0x77) });
    const c = await tab('C');
    expect(c.status$.value.error).toMatchObject({ name: 'DatabaseLostError', reason: 'other_register' });
  });

  it('a database that cannot be opened without a marker is DatabaseOpenError (failed), not lost', async () => {
    const t = await openRegisterInTab({ openStore: () => Promise.reject(new Error('SQLITE_NOTADB: file is not a database')), locks: locks.asLockManager(), markers, location: { pool, file: '/r.sqlite' }, tabId: 'X' });
    tabs.push(t);
    expect(t.status$.value).toMatchObject({ role: 'owner', phase: 'failed', error: { name: 'DatabaseOpenError', code: 'database_open_failed' } });
  });

  it('pairing asks for persistent storage and keeps the answer; commands move the marker last seq', async () => {
    const storage = { persist: vi.fn(() => Promise.resolve(true)), persisted: () => Promise.resolve(true), estimate: () => Promise.resolve({ usage: 1234, quota: 99_999 }) } as unknown as StorageManager;
    const a = await tab('A', { storage });
    expect((await a.storage()).persistedAtPairing).toBeNull();
    await seed(a.store as AsyncRegisterStore);
    expect(storage.persist).toHaveBeenCalledTimes(1);
    await sell(a.store as AsyncRegisterStore);
    await vi.waitFor(() => expect(JSON.parse(slot.text ?? 'null')).toMatchObject({ persisted: true, lastSeq: 2, lastReceiptNo: 'S01-R02-000001' }));
    expect(await a.storage()).toEqual({ usage: 1234, quota: 99_999, persisted: true, persistedAtPairing: true });
  });
});
