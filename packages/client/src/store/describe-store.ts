/**
 * The store's contract suite: one set of tests run against every implementation of
 * {@link AsyncRegisterStore} — better-sqlite3 in Node, sqlite-wasm on OPFS in Chromium — so the
 * two cannot drift. Everything goes through the asynchronous API, as the UI does.
 */
import {
  addLine,
  createCart,
  OpSchema,
  qtyMilli,
  setLineDiscount,
  units,
  verifyChain,
  type Cart,
  type ChainedReceipt,
  type ReceiptPayload,
  type TenderInput,
} from '@kassa/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSealedStore } from './describe-sealed-store.js';
import { describeSyncStore } from './describe-sync-store.js';
import { SCHEMA_VERSION } from './migrations.js';
import type { AsyncRegisterStore, OutboxEntry, StoreDump } from './register-engine.js';
import { FIXTURE, FIXTURE_IDENTITY, FIXTURE_SETTINGS, fixtureCatalog, fixtureId, manyProducts } from './store-fixtures.js';

/** One store under test, and how to open it again. */
export interface StoreUnderTest {
  readonly store: AsyncRegisterStore;
  /** Closes the store and opens the same database again (a restart of the register). */
  reopen(): Promise<AsyncRegisterStore>;
  /** Releases everything the factory made (files, pages). */
  dispose(): Promise<void>;
}

/** Options of {@link describeStore}. */
export interface DescribeStoreOptions {
  /** Runs of the property tests (default 500). */
  readonly propertyRuns?: number;
  /** Per-test timeout in ms. */
  readonly timeout?: number;
}

/** Makes a fresh, empty store (a new file or a new OPFS database) for each test. */
export type StoreFactory = () => Promise<StoreUnderTest>;

let tenderCounter = 0;
function tenderId(): string {
  tenderCounter += 1;
  return fixtureId(0x100000 + tenderCounter);
}

/** Pairs the store and loads the fixture's settings and catalog. */
export async function seedFixture(store: AsyncRegisterStore): Promise<void> {
  await store.pair(FIXTURE_IDENTITY);
  await store.writeSettings(FIXTURE_SETTINGS);
  await store.importCatalog(fixtureCatalog());
}

/** A cart of `lines` items from the store. */
async function cartOf(store: AsyncRegisterStore, lines: readonly { productId: string; variantId?: string; qty: number }[]): Promise<Cart> {
  let cart = createCart(await store.cartSettings());
  for (const l of lines) {
    const item = await store.getItem(l.productId, l.variantId);
    cart = addLine(cart, item, qtyMilli(l.qty));
  }
  return cart;
}

const cash = (given: number): TenderInput => ({ tenderId: tenderId(), kind: 'cash', given });

/** Rejection of `promise` with an error of this `name` (classes do not survive a worker boundary; names and codes do). */
async function expectError(promise: Promise<unknown>, name: string): Promise<Error & Record<string, unknown>> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${name}`).toBeInstanceOf(Error);
  const err = caught as Error & Record<string, unknown>;
  expect(err.name).toBe(name);
  return err;
}

function receiptsOf(outbox: readonly OutboxEntry[]): ChainedReceipt[] {
  return outbox
    .map((e) => e.op as { type: string; payload: ReceiptPayload })
    .filter((op) => typeof op.payload.receiptNo === 'string' && typeof op.payload.prevHash === 'string')
    .map((op) => ({ type: op.type, payload: op.payload }));
}

/** Seq 1..n without gaps, each op valid, HLCs strictly increasing, the chain unbroken and in meta. */
async function expectConsistent(store: AsyncRegisterStore): Promise<OutboxEntry[]> {
  const outbox = await store.outbox();
  const meta = await store.meta();
  expect(outbox.map((e) => e.seq)).toEqual(outbox.map((_, i) => i + 1));
  expect(meta.nextSeq).toBe(outbox.length + 1);
  const hlcs = outbox.map((e) => OpSchema.parse(e.op).hlc);
  expect([...hlcs].sort()).toEqual(hlcs);
  expect(new Set(hlcs).size).toBe(hlcs.length);
  const chain = verifyChain(receiptsOf(outbox));
  expect(chain).toMatchObject({ ok: true });
  if (chain.ok) {
    expect(meta.chainHeadHash).toBe(chain.head.hash);
    expect((await store.receipts()).map((r) => r.hash).at(-1) ?? chain.head.hash).toBe(chain.head.hash);
  }
  return outbox;
}

/** The commands the atomicity tests drive, each from a state where it succeeds. */
interface CommandCase {
  readonly name: string;
  /** Brings a seeded store to the state the command needs; returns the command. */
  prepare(store: AsyncRegisterStore): Promise<() => Promise<unknown>>;
}

const openShift = (store: AsyncRegisterStore) => store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [{ denomination: 1000, count: 10 }], total: 10_000 } });

async function sell(store: AsyncRegisterStore, lines = [{ productId: FIXTURE.mug, qty: 2000 }]) {
  return store.completeSale({ cart: await cartOf(store, lines), staffId: FIXTURE.cashier, tenders: [cash(100_000)] });
}

const COMMANDS: readonly CommandCase[] = [
  {
    name: 'completeSale',
    async prepare(store) {
      await openShift(store);
      const cart = await cartOf(store, [{ productId: FIXTURE.mug, qty: 2000 }, { productId: FIXTURE.shirt, variantId: FIXTURE.shirtM, qty: 1000 }]);
      return () => store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(7001), kind: 'cash', given: 5000 }] });
    },
  },
  {
    name: 'refund',
    async prepare(store) {
      await openShift(store);
      const sale = await sell(store);
      const line = (sale.op.payload.lines[0]?.lineId ?? '') as string;
      return () =>
        store.refund({
          goods: { kind: 'receipt', orderId: sale.orderId, lines: [{ saleLineId: line, qty: units(1), restock: true }] },
          tenders: [{ tenderId: fixtureId(7002), kind: 'cash' }],
          reason: 'Chipped',
          staffId: FIXTURE.cashier,
        });
    },
  },
  {
    name: 'voidSale',
    async prepare(store) {
      await openShift(store);
      const sale = await sell(store);
      return () => store.voidSale({ orderId: sale.orderId, reason: 'Wrong item', staffId: FIXTURE.cashier, approvedBy: FIXTURE.manager });
    },
  },
  {
    name: 'moveCash',
    async prepare(store) {
      await openShift(store);
      return () => store.moveCash({ direction: 'out', amount: 5000, reason: 'Safe drop', staffId: FIXTURE.manager });
    },
  },
  { name: 'openShift', prepare: (store) => Promise.resolve(() => openShift(store)) },
  {
    name: 'closeShift',
    async prepare(store) {
      await openShift(store);
      await sell(store);
      return () => store.closeShift({ staffId: FIXTURE.cashier, counted: { denominations: [], total: 10_500 } });
    },
  },
  {
    name: 'adjustStock',
    prepare: (store) => Promise.resolve(() => store.adjustStock({ productId: FIXTURE.mug, qtyDelta: -1000, reason: 'damaged', staffId: FIXTURE.manager })),
  },
  {
    name: 'countStock',
    prepare: (store) => Promise.resolve(() => store.countStock({ lines: [{ productId: FIXTURE.mug, counted: 7000 }], staffId: FIXTURE.cashier })),
  },
  {
    name: 'saveCustomer',
    prepare: (store) => Promise.resolve(() => store.saveCustomer({ customerId: fixtureId(8001), changes: { name: 'Ada' }, staffId: FIXTURE.cashier }).catch(() => store.saveCustomer({ changes: { name: 'Ada' }, staffId: FIXTURE.cashier }))),
  },
  {
    name: 'editProduct',
    prepare: (store) => Promise.resolve(() => store.editProduct({ productId: FIXTURE.mug, changes: { name: 'Espresso mug', price: 275 }, staffId: FIXTURE.manager })),
  },
];

/**
 * Declares the store contract suite for one implementation.
 *
 * @example
 * ```ts
 * describeStore('better-sqlite3', async () => { const { store } = openNodeStore(tmpFile()); … });
 * ```
 */
export function describeStore(name: string, factory: StoreFactory, options: DescribeStoreOptions = {}): void {
  const runs = options.propertyRuns ?? 500;
  const timeout = options.timeout ?? 60_000;
  const withStore = (fn: (t: StoreUnderTest) => Promise<void>) => async () => {
    const t = await factory();
    try {
      await fn(t);
    } finally {
      await t.dispose();
    }
  };

  describe(`store contract: ${name}`, { timeout }, () => {
    it('migrates a new database to the latest schema, idempotently, and keeps the version across a reopen', withStore(async (t) => {
      expect(await t.store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(await t.store.migrate()).toEqual([]);
      await seedFixture(t.store);
      const store = await t.reopen();
      expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(await store.migrate()).toEqual([]);
      expect((await store.meta()).deviceId).toBe(FIXTURE.device);
    }));

    it('reports its driver and SQLite build, which has FTS5', withStore(async (t) => {
      expect(await t.store.describe()).toMatch(/SQLite 3\.\d+/);
      await seedFixture(t.store);
      expect((await t.store.search('mug')).map((i) => i.productId)).toEqual([FIXTURE.mug]);
    }));

    it('refuses commands before pairing, writing nothing', withStore(async (t) => {
      const before = await t.store.dump();
      await expectError(openShift(t.store), 'RegisterNotPairedError');
      expect(await t.store.dump()).toEqual(before);
    }));

    it('runs a whole shift: every command appends one op, seq gapless, receipts numbered and chained', withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      await openShift(store);
      const a = await sell(store);
      expect(a.receiptNo).toBe('S01-R02-000001');
      expect(a.change).toBe(100_000 - 500);
      const b = await sell(store, [{ productId: FIXTURE.tea, qty: 1000 }]);
      const c = await sell(store, [{ productId: FIXTURE.mug, qty: 1000 }]);
      expect(await store.onHand(FIXTURE.mug)).toBe(10_000 - 3000);
      const line = a.op.payload.lines[0]?.lineId ?? '';
      const r = await store.refund({
        goods: { kind: 'receipt', orderId: a.orderId, lines: [{ saleLineId: line, qty: units(1), restock: true }] },
        tenders: [{ tenderId: tenderId(), kind: 'cash' }],
        reason: 'Chipped',
        staffId: FIXTURE.cashier,
      });
      expect(r.total).toBe(250);
      expect((await store.order(a.orderId))?.status).toBe('partially_refunded');
      await expectError(store.voidSale({ orderId: b.orderId, reason: 'Wrong', staffId: FIXTURE.cashier }), 'PermissionDeniedError');
      const v = await store.voidSale({ orderId: b.orderId, reason: 'Wrong', staffId: FIXTURE.cashier, approvedBy: FIXTURE.manager });
      expect(v.op.approvedBy).toBe(FIXTURE.manager);
      expect(await store.onHand(FIXTURE.tea)).toBe(5000);
      await expectError(store.voidSale({ orderId: a.orderId, reason: 'Too late', staffId: FIXTURE.manager }), 'OrderStatusError');
      await store.moveCash({ direction: 'out', amount: 2000, reason: 'Safe drop', staffId: FIXTURE.manager });
      await store.adjustStock({ productId: FIXTURE.tea, qtyDelta: -1000, reason: 'damaged', staffId: FIXTURE.manager });
      await store.countStock({ lines: [{ productId: FIXTURE.mug, counted: 6000 }], staffId: FIXTURE.cashier });
      expect(await store.onHand(FIXTURE.mug)).toBe(6000);
      const cust = await store.saveCustomer({ changes: { name: 'Ada Lovelace', loyalty: true }, staffId: FIXTURE.cashier });
      expect(cust.op?.payload.writes.map((w) => w.field)).toEqual(['loyalty', 'name']);
      const again = await store.saveCustomer({ customerId: cust.customerId, changes: { name: 'Ada Lovelace' }, staffId: FIXTURE.cashier });
      expect(again.op).toBeNull();
      const renamed = await store.saveCustomer({ customerId: cust.customerId, changes: { name: 'Ada King' }, staffId: FIXTURE.cashier });
      expect(renamed.op?.payload.writes).toEqual([expect.objectContaining({ field: 'name', base: cust.op?.hlc })]);
      await store.editProduct({ productId: FIXTURE.mug, changes: { name: 'Espresso mug' }, staffId: FIXTURE.manager });
      const z = await store.closeShift({ staffId: FIXTURE.cashier, counted: { denominations: [], total: 8400 } });
      // Sales a (500, refunded 250) and c (250); b voided; float 100.00, 20.00 dropped.
      expect(z.op.payload.totals).toMatchObject({ saleCount: 2, salesTotal: 750, refundCount: 1, refundsTotal: 250, voidCount: 1, voidsTotal: 399, cashOut: 2000 });
      expect(z.op.payload.expected).toBe(10_000 + 750 - 250 - 2000);
      expect(z.op.payload.variance).toBe(8400 - 8500);
      const outbox = await expectConsistent(store);
      expect(outbox.map((e) => e.type)).toEqual([
        'shift.opened', 'sale.completed', 'sale.completed', 'sale.completed', 'refund.completed', 'sale.voided', 'cash.moved',
        'stock.adjusted', 'stock.counted', 'customer.upserted', 'customer.upserted', 'product.edited', 'shift.closed',
      ]);
      expect((await store.receipts()).map((x) => x.receiptNo)).toEqual(['S01-R02-000001', 'S01-R02-000002', 'S01-R02-000003', 'S01-R02-000004', 'S01-R02-000005', 'S01-R02-000006']);
      expect([a, b, c].map((s) => s.receiptNo)).toEqual(['S01-R02-000001', 'S01-R02-000002', 'S01-R02-000003']);
      expect(outbox.every((e) => (e.op as { deviceId: string; storeId: string }).deviceId === FIXTURE.device)).toBe(true);
    }));

    it('keeps everything across a reopen and carries on numbering', withStore(async (t) => {
      await seedFixture(t.store);
      await openShift(t.store);
      await sell(t.store);
      await t.store.saveCustomer({ changes: { name: 'Grace' }, staffId: FIXTURE.cashier });
      const before = await t.store.dump();
      const store = await t.reopen();
      expect(await store.dump()).toEqual(before);
      const next = await sell(store);
      expect(next.receiptNo).toBe('S01-R02-000002');
      expect(next.op.seq).toBe(4);
      await expectConsistent(store);
    }));

    it('resumes numbering from the server at pairing, never going back', withStore(async (t) => {
      await t.store.pair({ ...FIXTURE_IDENTITY, resume: { lastSeq: 41, lastReceiptNumber: 17, chainHead: 'ab'.repeat(32) } });
      await t.store.writeSettings(FIXTURE_SETTINGS);
      await t.store.importCatalog(fixtureCatalog());
      await openShift(t.store);
      const s = await sell(t.store);
      expect(s.op.seq).toBe(43);
      expect(s.receiptNo).toBe('S01-R02-000018');
      expect(s.op.payload.prevHash).toBe('ab'.repeat(32));
      const meta = await t.store.pair({ ...FIXTURE_IDENTITY, resume: { lastSeq: 3, lastReceiptNumber: 2, chainHead: null } });
      expect(meta).toMatchObject({ nextSeq: 44, lastReceiptSeq: 18 });
    }));

    it('finds products by barcode: EAN-13, UPC-A and its EAN-13 form, variants, scale labels', withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      expect((await store.findByBarcode(FIXTURE.mugBarcode))?.item).toMatchObject({ productId: FIXTURE.mug, name: 'Coffee mug', unitPrice: { amount: 250, currency: 'EUR' } });
      expect((await store.findByBarcode(FIXTURE.teaUpcA))?.item.productId).toBe(FIXTURE.tea);
      expect((await store.findByBarcode(`0${FIXTURE.teaUpcA}`))?.item.productId).toBe(FIXTURE.tea);
      expect((await store.findByBarcode(FIXTURE.shirtMBarcode))?.item).toMatchObject({ variantId: FIXTURE.shirtM, unitPrice: { amount: 1600 } });
      const label = `2112345003757`;
      expect(await store.findByBarcode(label)).toMatchObject({ item: { productId: FIXTURE.apples, weighed: true }, qty: 375 });
      expect(await store.findByBarcode('4006381333948')).toBeUndefined();
      await expectError(store.findByBarcode('4006381333932'), 'CheckDigitError');
      await expectError(store.findByBarcode('12ab'), 'MalformedBarcodeError');
    }));

    it('searches names and SKUs by word prefix, diacritics folded, at most 20, inactive left out', withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      expect((await store.search('cof mu')).map((i) => i.name)).toEqual(['Coffee mug']);
      expect((await store.search('cafe cr')).map((i) => i.productId)).toEqual([FIXTURE.cafe]);
      expect((await store.search('tsh-m')).map((i) => i.variantId)).toEqual([FIXTURE.shirtM]);
      expect((await store.search('"; DROP TABLE products; --')).length).toBe(0);
      expect(await store.search('   ')).toEqual([]);
      await store.importCatalog(manyProducts(30, 'widget'));
      expect(await store.search('widg')).toHaveLength(20);
      expect(await store.search('widget item 7')).toHaveLength(1);
      await store.importCatalog({ products: [{ id: fixtureId(1007), sku: 'WIDGET-0007', name: 'widget item 7', unitPrice: 1, currency: 'EUR', taxRateIds: [], active: false }] });
      expect(await store.search('widget item 7')).toHaveLength(0);
      await store.editProduct({ productId: FIXTURE.tea, changes: { name: 'Jasmine tea' }, staffId: FIXTURE.manager });
      expect((await store.search('jasm')).map((i) => i.productId)).toEqual([FIXTURE.tea]);
      expect(await store.search('green')).toEqual([]);
    }));

    it('lets core\'s named errors through and writes nothing', withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      await expectError(sell(store), 'NoOpenShiftError');
      await openShift(store);
      const before = await store.dump();
      const cart = await cartOf(store, [{ productId: FIXTURE.mug, qty: 2000 }]);
      await expectError(store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [cash(100)] }), 'InsufficientTenderError');
      await expectError(store.completeSale({ cart: createCart(await store.cartSettings()), staffId: FIXTURE.cashier, tenders: [cash(100)] }), 'EmptyCartError');
      const discounted = setLineDiscount(cart, 1, { kind: 'percent', ppm: 500_000 }, { approvedBy: FIXTURE.cashier });
      await expectError(store.completeSale({ cart: discounted, staffId: FIXTURE.cashier, tenders: [cash(1000)] }), 'PermissionDeniedError');
      await expectError(store.adjustStock({ productId: FIXTURE.unknownProduct, qtyDelta: 1000, reason: 'found', staffId: FIXTURE.manager }), 'NotFoundError');
      await expectError(store.adjustStock({ productId: FIXTURE.mug, qtyDelta: 1000, reason: 'other', staffId: FIXTURE.manager }), 'InvalidOpError');
      await expectError(openShift(store), 'ShiftAlreadyOpenError');
      expect(await store.dump()).toEqual(before);
      const sale = await sell(store);
      const line = sale.op.payload.lines[0]?.lineId ?? '';
      const refund = (qty: number) =>
        store.refund({ goods: { kind: 'receipt', orderId: sale.orderId, lines: [{ saleLineId: line, qty: units(qty), restock: true }] }, tenders: [{ tenderId: tenderId(), kind: 'cash' }], reason: 'x', staffId: FIXTURE.cashier });
      const mid = await store.dump();
      await expectError(refund(3), 'RefundExceedsSaleError');
      expect(await store.dump()).toEqual(mid);
      await refund(2);
      expect((await store.order(sale.orderId))?.status).toBe('fully_refunded');
    }));

    for (const command of COMMANDS) {
      it(`${command.name}: a crash at any step leaves no trace; without one, exactly one op is added`, withStore(async (t) => {
        const { store } = t;
        await seedFixture(store);
        const run = await command.prepare(store);
        const before = await store.dump();
        await store.setFaultPlan({ record: true, throwAt: 'commit' });
        await expectError(run(), 'InjectedFaultError');
        const steps = await store.recordedSteps();
        expect(steps[0]).toBe('begin');
        expect(steps.at(-1)).toBe('commit');
        expect(steps).toEqual(expect.arrayContaining(['validate', 'outbox', 'meta']));
        for (const s of new Set(steps)) {
          await store.setFaultPlan({ throwAt: s });
          const err = await expectError(run(), 'InjectedFaultError');
          expect(err.message).toContain(s);
          expect(await store.dump(), `after a crash at ${s}`).toEqual(before);
        }
        await store.setFaultPlan(null);
        await run();
        const after = await store.dump();
        expect(after.outbox?.length).toBe((before.outbox?.length ?? 0) + 1);
        await expectConsistent(store);
      }));
    }

    it('a full disk rolls the command back and says StorageFullError; freeing space lets it through', withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      await openShift(store);
      // max_page_count cannot go below the file's size: the cap is "no page more than now".
      expect(await store.setMaxPageCount(1)).toBeGreaterThan(1);
      let full: Error | undefined;
      let before: StoreDump | undefined;
      for (let i = 0; i < 500 && full === undefined; i++) {
        before = await store.dump();
        try {
          await sell(store, [{ productId: FIXTURE.mug, qty: 1000 }, { productId: FIXTURE.tea, qty: 1000 }, { productId: FIXTURE.cafe, qty: 1000 }]);
        } catch (e) {
          full = e as Error;
        }
      }
      expect(full?.name).toBe('StorageFullError');
      expect(await store.dump()).toEqual(before);
      await expectConsistent(store);
      await store.setMaxPageCount(1_000_000_000);
      await sell(store);
      await expectConsistent(store);
    }));

    it(`property: any sequence of commands, failing ones included, keeps seq gapless and the chain whole (${runs} runs)`, withStore(async (t) => {
      const { store } = t;
      await seedFixture(store);
      await openShift(store);
      const action = fc.oneof(
        fc.record({ kind: fc.constant('sale' as const), qty: fc.integer({ min: 1, max: 3 }), given: fc.constantFrom(0, 100, 100_000) }),
        fc.record({ kind: fc.constant('cash' as const), amount: fc.integer({ min: -5, max: 5000 }) }),
        fc.record({ kind: fc.constant('adjust' as const), delta: fc.integer({ min: -3, max: 3 }) }),
        fc.record({ kind: fc.constant('customer' as const), name: fc.constantFrom('', 'Ada', 'Grace', 'Alan') }),
        fc.record({ kind: fc.constant('void' as const), approved: fc.boolean() }),
      );
      let lastOrder: string | undefined;
      // One cart item fetched once: each call crosses to the worker (and in Chromium, to the page).
      const settings = await store.cartSettings();
      const mug = await store.getItem(FIXTURE.mug);
      let expectedOps = (await store.meta()).nextSeq - 1;
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 4 }), async (actions) => {
          for (const a of actions) {
            try {
              if (a.kind === 'sale') {
                const cart = addLine(createCart(settings), mug, qtyMilli(a.qty * 1000));
                const s = await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [cash(a.given)] });
                lastOrder = s.orderId;
              } else if (a.kind === 'cash') await store.moveCash({ direction: 'in', amount: a.amount, reason: 'Top up', staffId: FIXTURE.manager });
              else if (a.kind === 'adjust') await store.adjustStock({ productId: FIXTURE.tea, qtyDelta: a.delta * 1000, reason: 'correction', staffId: FIXTURE.manager });
              else if (a.kind === 'customer') {
                const saved = await store.saveCustomer({ changes: { name: a.name }, staffId: FIXTURE.cashier });
                if (saved.op === null) expectedOps -= 1;
              } else if (lastOrder !== undefined) {
                await store.voidSale({ orderId: lastOrder, reason: 'Void', staffId: FIXTURE.cashier, ...(a.approved ? { approvedBy: FIXTURE.manager } : {}) });
              } else continue;
              expectedOps += 1;
            } catch (e) {
              // Every refusal is a named error (core's or the store's), never a bare Error.
              expect((e as Error).name).not.toBe('Error');
            }
          }
          // Exactly the commands that succeeded took a seq, and no seq was skipped.
          expect((await store.meta()).nextSeq).toBe(expectedOps + 1);
        }),
        { numRuns: runs },
      );
      await expectConsistent(store);
    }));
  });

  describeSyncStore(name, factory, seedFixture, timeout);
  describeSealedStore(name, factory);
}
