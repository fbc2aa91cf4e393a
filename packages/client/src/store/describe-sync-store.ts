/**
 * The store's sync contract: what the sync engine relies on the store to do in ONE transaction —
 * push batches and their answers, pulled pages with their cursor, the snapshot, echoes, restores,
 * export and import. Part of `describeStore`, so it runs on better-sqlite3 and in Chromium alike.
 */
import { addLine, createCart, qtyMilli, type Op } from '@kassa/core';
import { describe, expect, it } from 'vitest';
import type { PushResponse } from '../sync/wire-schemas.js';
import type { AsyncRegisterStore } from './register-engine.js';
import { ean13, FIXTURE, FIXTURE_IDENTITY, fixtureId } from './store-fixtures.js';
import type { PushEntry } from './sync-store.js';

/** What the contract needs of a store under test (see `describe-store.ts`). */
export interface SyncStoreUnderTest {
  readonly store: AsyncRegisterStore;
  reopen(): Promise<AsyncRegisterStore>;
  dispose(): Promise<void>;
}

let tenders = 0;

async function sell(store: AsyncRegisterStore, qty = 2000): Promise<Op> {
  if ((await store.currentShift()) === undefined) await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
  const cart = addLine(createCart(await store.cartSettings()), await store.getItem(FIXTURE.mug), qtyMilli(qty));
  tenders += 1;
  const s = await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x400000 + tenders), kind: 'cash', given: 100_000 }] });
  return s.op as Op;
}

function answer(entries: readonly PushEntry[], status: (e: PushEntry) => PushResponse['results'][number]['status'], ackedSeq: number): PushResponse {
  return { ackedSeq, serverTime: 1, results: entries.map((e) => ({ id: e.opId, status: status(e) })) };
}

const fact = (op: Op, seq: number) => ({ seq, id: `c${String(seq)}`, entity: 'fact', entityId: op.id, storeId: FIXTURE.store, op: 'upsert' as const, data: op });

async function expectName(p: Promise<unknown>, name: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect((caught as Error | undefined)?.name, `expected ${name}`).toBe(name);
}

/**
 * Declares the sync contract cases; `seed` pairs the store and loads the fixture (from
 * `describe-store.ts`, so both suites seed alike).
 */
export function describeSyncStore(name: string, factory: () => Promise<SyncStoreUnderTest>, seed: (store: AsyncRegisterStore) => Promise<void>, timeout: number): void {
  const withStore = (fn: (t: SyncStoreUnderTest) => Promise<void>) => async () => {
    const t = await factory();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  describe(`store sync contract: ${name}`, { timeout }, () => {
    it('push batches go in seq order, bounded by count and bytes, byte for byte as queued; a push stays in doubt until answered', withStore(async ({ store }) => {
      await seed(store);
      for (let i = 0; i < 5; i++) await sell(store);
      const outbox = await store.outbox();
      expect(await store.nextPushBatch({ maxOps: 10, maxBytes: 10 })).toMatchObject({ entries: [{ seq: 1 }] }); // one op always goes
      const four = await store.nextPushBatch({ maxOps: 4, maxBytes: 1 << 20 });
      expect(four?.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect((JSON.parse(four?.body ?? '{}') as { ops: unknown[] }).ops).toEqual(outbox.slice(0, 4).map((e) => e.op));
      const two = await store.nextPushBatch({ maxOps: 500, maxBytes: (four?.bytes ?? 0) / 2 });
      expect(two?.entries.length).toBeLessThan(4);
      expect(two?.bytes).toBeLessThanOrEqual((four?.bytes ?? 0) / 2);
      expect((await store.syncInfo()).pushInDoubt).toBe(true);
      await store.clearPushInDoubt();
      expect((await store.syncInfo()).pushInDoubt).toBe(false);
      expect(await store.outbox()).toEqual(outbox);
    }));

    it('an answer moves ops to the journal in one transaction: stored and refused ones leave the outbox, gaps and deferred stay', withStore(async ({ store }) => {
      await seed(store);
      await sell(store); // 1 shift, 2 sale
      const refused = await sell(store, 3000); // 3
      const conflicted = await sell(store, 1000); // 4
      await sell(store, 1000); // 5
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 7000);
      const batch = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
      const entries = batch?.entries ?? [];
      const response = answer(entries, (e) => (e.seq <= 2 ? 'applied' : e.seq === 3 ? 'quarantined' : e.seq === 4 ? 'seq_conflict' : 'pending_gap'), 4);
      const outcome = await store.recordPushResults({ entries, response });
      expect(outcome).toMatchObject({ removed: 4, outboxLeft: 1, resendLeft: 0, counts: { applied: 2, quarantined: 1, seq_conflict: 1, pending_gap: 1 } });
      expect((await store.journal()).map((j) => [j.seq, j.status])).toEqual([
        [1, 'applied'],
        [2, 'applied'],
        [3, 'quarantined'],
        [4, 'seq_conflict'],
      ]);
      expect((await store.outbox()).map((o) => o.seq)).toEqual([5]);
      expect((await store.quarantineNotices()).map((n) => [n.opId, n.reason])).toEqual([
        [refused.id, 'quarantined'],
        [conflicted.id, 'seq_conflict'],
      ]);
      // The server will never count those two: the till stops counting them too.
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 3000);
      expect(await store.syncInfo()).toMatchObject({ pushInDoubt: false, serverAckedSeq: 4, opsWaiting: 1, quarantined: 2 });
      // The same answer recorded twice changes nothing more.
      const dump = await store.dump();
      await store.recordPushResults({ entries, response });
      expect((await store.dump())['journal']).toEqual(dump['journal']);
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 3000);
    }));

    it('a pulled page is applied with its cursor in one transaction; a stale page is refused whole; a fact counts once; the own op echoed counts on the server side only', withStore(async ({ store }) => {
      await seed(store);
      const own = await sell(store); // −2000, pending
      const foreign = { ...own, id: fixtureId(0x5001), deviceId: fixtureId(0x5002), seq: 1 } as Op;
      const product = {
        seq: 3,
        id: 'c3',
        entity: 'product',
        entityId: FIXTURE.tea,
        storeId: null,
        op: 'upsert' as const,
        data: { id: FIXTURE.tea, sku: 'TEA-20', name: 'Jasmine tea', priceMinor: 450, currency: 'EUR', taxRateIds: ['vat-7'], weighed: false, unit: 'piece', active: true, barcodes: [], fieldHlc: {} },
      };
      const page = { since: null, changes: [fact(foreign, 1), fact(own, 2), product], cursor: 'k3' };
      const before = await store.dump();
      await expectName(store.applyPullPage({ ...page, since: 'elsewhere' }), 'CursorMovedError');
      expect(await store.dump()).toEqual(before);
      expect(await store.applyPullPage(page)).toMatchObject({ applied: 3, echoes: 1, ignored: 0 });
      expect((await store.meta()).pullCursor).toBe('k3');
      expect(await store.serverOnHand(FIXTURE.mug)).toBe(-4000);
      // Shown: the foreign sale once, the own sale once (it was already shown).
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 4000);
      expect((await store.getItem(FIXTURE.tea)).unitPrice.amount).toBe(450);
      expect((await store.search('jasm')).map((i) => i.productId)).toEqual([FIXTURE.tea]);
      // Delivered again (a replayed page after a crash before the client saw the answer): nothing moves.
      expect(await store.applyPullPage({ since: 'k3', changes: [fact(foreign, 1), fact(own, 2)], cursor: 'k4' })).toMatchObject({ applied: 0, duplicates: 2 });
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 4000);
      // The ack after the echo: nothing moves either.
      const batch = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
      await store.recordPushResults({ entries: batch?.entries ?? [], response: answer(batch?.entries ?? [], () => 'applied', 2) });
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 4000);
      // Retention: an acknowledged op whose echo came back may go; one not yet echoed stays.
      expect(await store.pruneJournal(Number.MAX_SAFE_INTEGER)).toBe(1);
      expect((await store.journal()).map((j) => j.type)).toEqual(['shift.opened']);
    }));

    it('the register’s unacknowledged edit stays shown over a pulled document until it is acknowledged', withStore(async ({ store }) => {
      await seed(store);
      await store.editProduct({ productId: FIXTURE.mug, changes: { name: 'Espresso mug' }, staffId: FIXTURE.manager });
      const doc = { id: FIXTURE.mug, sku: 'MUG-01', name: 'Coffee mug', priceMinor: 300, currency: 'EUR', taxRateIds: ['vat-19'], weighed: false, unit: 'piece', active: true, barcodes: [FIXTURE.mugBarcode], fieldHlc: {} };
      await store.applyPullPage({ since: null, changes: [{ seq: 1, id: 'c1', entity: 'product', entityId: FIXTURE.mug, storeId: null, op: 'upsert', data: doc }], cursor: 'k1' });
      expect(await store.getItem(FIXTURE.mug)).toMatchObject({ name: 'Espresso mug', unitPrice: { amount: 300 } });
      expect((await store.findByBarcode(FIXTURE.mugBarcode))?.item.productId).toBe(FIXTURE.mug);
    }));

    it('a snapshot reports progress per page; the last page saves the cursor and shows the server’s stock plus the outbox', withStore(async (t) => {
      const { store } = t;
      await seed(store);
      await sell(store); // −2000, queued
      const level = (productId: string, onHand: number) => ({ entity: 'stock_level', entityId: productId, storeId: FIXTURE.store, op: 'upsert' as const, data: { productId, variantId: null, onHand } });
      const p1 = await store.applySnapshotPage({ first: true, items: [level(FIXTURE.mug, 7000)], nextPage: 'p2', cursor: 'h9', total: 2 });
      expect(p1).toMatchObject({ done: 1, total: 2, finished: false });
      expect(await store.syncInfo()).toMatchObject({ pullCursor: null, bootstrap: { done: 1, total: 2, nextPage: 'p2' } });
      // A restart mid-bootstrap resumes from the saved page.
      const again = await t.reopen();
      expect((await again.syncInfo()).bootstrap?.nextPage).toBe('p2');
      const p2 = await again.applySnapshotPage({ first: false, items: [level(FIXTURE.tea, 100)], nextPage: null, cursor: 'h9', total: 2 });
      expect(p2).toMatchObject({ done: 2, finished: true });
      expect(await again.syncInfo()).toMatchObject({ pullCursor: 'h9', bootstrap: null, opsWaiting: 2 });
      expect(await again.onHand(FIXTURE.mug)).toBe(7000 - 2000);
      expect(await again.onHand(FIXTURE.tea)).toBe(100);
    }));

    it('a snapshot page writes its products and barcodes as one by one would: a code moved ends with the last claim, a dropped one is released, a variant’s stays, search follows', withStore(async ({ store }) => {
      await seed(store);
      const product = (id: string, sku: string, name: string, barcodes: string[]) => ({
        entity: 'product',
        entityId: id,
        storeId: null,
        op: 'upsert' as const,
        data: { id, sku, name, priceMinor: 500, currency: 'EUR', taxRateIds: ['vat-19'], weighed: false, unit: 'piece', active: true, barcodes, fieldHlc: {} },
      });
      const x = ean13('401234500001');
      const y = ean13('401234500002');
      const items = [
        product(FIXTURE.mug, 'MUG-01', 'Coffee mug', []),
        product(FIXTURE.tea, 'TEA-20', 'Green tea 20 bags', [FIXTURE.mugBarcode]), // the mug's code moves; the tea's own is dropped
        product(FIXTURE.shirt, 'TSH', 'T-shirt', []), // its variant's code is not the product's
        product(FIXTURE.cafe, 'CAF-500', 'Café crème beans 500 g', [x]),
        product(FIXTURE.cafe, 'ESP-1000', 'Espresso beans 1 kg', [y]), // the same product again: its last version holds
      ];
      expect(await store.applySnapshotPage({ first: true, items, nextPage: null, cursor: 'h1', total: items.length })).toMatchObject({ applied: 5, finished: true });
      expect((await store.findByBarcode(FIXTURE.mugBarcode))?.item.productId).toBe(FIXTURE.tea);
      expect(await store.findByBarcode(FIXTURE.teaUpcA)).toBeUndefined();
      expect((await store.findByBarcode(FIXTURE.shirtMBarcode))?.item).toMatchObject({ productId: FIXTURE.shirt, variantId: FIXTURE.shirtM });
      expect(await store.findByBarcode(x)).toBeUndefined();
      expect((await store.findByBarcode(y))?.item).toMatchObject({ productId: FIXTURE.cafe, name: 'Espresso beans 1 kg', unitPrice: { amount: 500 } });
      expect((await store.getItem(FIXTURE.apples)).name).toBe('Apples Elstar'); // not in the page: untouched
      expect((await store.search('espresso')).map((i) => i.productId)).toEqual([FIXTURE.cafe]);
      expect(await store.search('cafe cr')).toEqual([]);
      expect((await store.search('esp-1')).map((i) => i.productId)).toEqual([FIXTURE.cafe]);
      expect((await store.getItem(FIXTURE.mug)).unitPrice.amount).toBe(500);
    }));

    it('a server that acknowledges less than the journal holds (restored) gets the journal re-sent before the outbox', withStore(async ({ store }) => {
      await seed(store);
      await sell(store);
      await sell(store); // seqs 1..3
      const first = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
      await store.recordPushResults({ entries: first?.entries ?? [], response: answer(first?.entries ?? [], () => 'applied', 3) });
      await sell(store); // seq 4
      const probe = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
      expect(probe?.entries.map((e) => [e.seq, e.from])).toEqual([[4, 'outbox']]);
      const gap = await store.recordPushResults({ entries: probe?.entries ?? [], response: answer(probe?.entries ?? [], () => 'pending_gap', 1) });
      expect(gap).toMatchObject({ resendLeft: 2, outboxLeft: 1 });
      const resend = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
      expect(resend?.entries.map((e) => [e.seq, e.from])).toEqual([
        [2, 'journal'],
        [3, 'journal'],
        [4, 'outbox'],
      ]);
      await store.recordPushResults({ entries: resend?.entries ?? [], response: answer(resend?.entries ?? [], () => 'applied', 4) });
      expect(await store.syncInfo()).toMatchObject({ resendWaiting: 0, opsWaiting: 0, serverAckedSeq: 4 });
      expect((await store.journal()).map((j) => j.seq)).toEqual([1, 2, 3, 4]);
    }));

    it('exports what is not acknowledged; importing it again adds nothing; another register’s export or a seq clash is refused whole', withStore(async ({ store }) => {
      await seed(store);
      await sell(store);
      const doc = await store.exportUnsynced();
      expect(doc.ops.map((o) => [o.seq, o.type])).toEqual([
        [1, 'shift.opened'],
        [2, 'sale.completed'],
      ]);
      expect(await store.importUnsynced(doc)).toMatchObject({ queued: 0, present: 2 });
      await expectName(store.importUnsynced({ ...doc, register: { ...doc.register, deviceId: fixtureId(0x6001) } }), 'InvalidExportError');
      await expectName(store.importUnsynced({ nope: true }), 'InvalidExportError');
      const clash = { ...doc, ops: doc.ops.map((o) => ({ ...o, opId: fixtureId(0x6100 + o.seq), op: { ...o.op, id: fixtureId(0x6100 + o.seq) } })) };
      const before = await store.dump();
      await expectName(store.importUnsynced(clash), 'ImportConflictError');
      expect(await store.dump()).toEqual(before);
    }));

    it('a revocation locks the register until it is paired with a new token', withStore(async ({ store }) => {
      await seed(store);
      await store.markRevoked();
      expect((await store.syncInfo()).revoked).toBe(true);
      await store.pair({ ...FIXTURE_IDENTITY, token: 'another-token' });
      expect((await store.syncInfo()).revoked).toBe(false);
    }));
  });
}
