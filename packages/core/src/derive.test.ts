import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allBalances, giftCardBalance } from './balances.js';
import { canonicalJson } from './canonical-json.js';
import {
  deriveState,
  derivedAlerts,
  emptyDerivedState,
  noSaleCount,
  referenceConflicts,
  referenceDoc,
  shiftOfReceipt,
  unassignedReceipts,
  type DerivedState,
} from './derive.js';
import { docValues } from './merge.js';
import type { SaleLine, TaxSummaryRow, Tender } from './order-schema.js';
import { OpSchema, type Op, type OpOf, type OpPayload, type OpType } from './ops/op-schema.js';
import { qtyMilli } from './quantity.js';
import { formatReceiptNo } from './receipt-number.js';
import { GENESIS_HASH } from './receipt-chain.js';
import { refundLineFor } from './refund.js';
import { divRound, toSafeInteger } from './rounding.js';
import { xReport } from './shift.js';
import { onHand, stockLevels } from './stock-ledger.js';
import { SAMPLE_IDS, SAMPLE_PREV_HASH, SAMPLE_TIME, sampleId, sampleOp } from './test-fixtures/ops.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: ids, ops made valid by construction and parsed with OpSchema.

const DEVICES = [sampleId(200), sampleId(201)] as const;
const PRODUCTS = [sampleId(300), sampleId(301), sampleId(302)] as const;
/** Product 0 is sold in two sizes; the others have no variants. */
const VARIANTS = [sampleId(310), sampleId(311)] as const;
const GIFT_CARDS = [sampleId(400), sampleId(401)] as const;
const CUSTOMERS = [sampleId(500), sampleId(501)] as const;
const VAT = { rateId: 'vat-std', name: 'VAT 19%', ratePpm: 190_000 };

const pick = <T,>(list: readonly T[], i: number): T => {
  const v = list[i % list.length];
  if (v === undefined) throw new Error('empty list');
  return v;
};

/** HLC of a device's op: wall time grows with seq, and two devices never share a stamp. */
const opHlc = (dev: number, seq: number): string =>
  `${(SAMPLE_TIME + seq * 1000 + dev).toString(16).padStart(12, '0')}-0000-${pick(DEVICES, dev)}`;

interface LineSpec {
  readonly product: number;
  readonly variant: number;
  readonly units: number;
  readonly price: number;
}

type Action =
  | { readonly t: 'sale'; readonly dev: number; readonly lines: readonly LineSpec[]; readonly card: boolean }
  | { readonly t: 'refund'; readonly dev: number; readonly sale: number; readonly line: number; readonly units: number; readonly restock: boolean }
  | { readonly t: 'void'; readonly dev: number; readonly sale: number }
  | { readonly t: 'exchange'; readonly dev: number; readonly sale: number; readonly line: number; readonly units: number; readonly out: LineSpec }
  | { readonly t: 'cash'; readonly dev: number; readonly out: boolean; readonly amount: number }
  | { readonly t: 'drawer'; readonly dev: number }
  | { readonly t: 'rollover'; readonly dev: number; readonly counted: number; readonly reopen: boolean }
  | { readonly t: 'adjust'; readonly dev: number; readonly product: number; readonly delta: number }
  | { readonly t: 'receive'; readonly dev: number; readonly product: number; readonly variant: number; readonly units: number }
  | { readonly t: 'count'; readonly dev: number; readonly product: number; readonly counted: number; readonly expected: number }
  | { readonly t: 'transfer'; readonly dev: number; readonly product: number; readonly units: number; readonly out: boolean }
  | { readonly t: 'gift'; readonly dev: number; readonly kind: 'issued' | 'reloaded' | 'redeemed'; readonly card: number; readonly amount: number }
  | { readonly t: 'credit'; readonly dev: number; readonly issued: boolean; readonly customer: number; readonly amount: number }
  | { readonly t: 'loyalty'; readonly dev: number; readonly accrued: boolean; readonly customer: number; readonly points: number };

interface Scenario {
  /** Whether each device's first shift opening is among the ops (else its first receipts have no shift). */
  readonly opened: readonly boolean[];
  readonly actions: readonly Action[];
}

interface SoldLine {
  readonly orderId: string;
  readonly line: SaleLine;
  /** Quantity refunded by refunds and exchanges (not voids). */
  refunded: number;
}

interface SaleRecord {
  readonly payload: OpPayload<'sale.completed'>;
  readonly lines: SoldLine[];
  voided: boolean;
}

const saleLine = (lineId: string, spec: LineSpec): SaleLine => {
  const productId = pick(PRODUCTS, spec.product);
  const variantId = spec.product % PRODUCTS.length === 0 ? pick(VARIANTS, spec.variant) : undefined;
  const gross = spec.price * spec.units;
  // Prices include 19 % VAT: tax = gross × 19 / 119, half up.
  const tax = toSafeInteger(divRound(BigInt(gross) * 19n, 119n));
  return {
    lineId,
    productId,
    ...(variantId === undefined ? {} : { variantId }),
    sku: `SKU-${String(spec.product)}`,
    name: `Product ${String(spec.product)}`,
    unitPrice: spec.price,
    qty: spec.units * 1000,
    taxes: [VAT],
    gross,
    lineDiscount: 0,
    orderDiscount: 0,
    net: gross,
    tax: [{ rateId: VAT.rateId, amount: tax }],
    total: gross,
  };
};

const summary = (lines: readonly SaleLine[]): TaxSummaryRow[] => {
  const gross = lines.reduce((s, l) => s + l.total, 0);
  const tax = lines.reduce((s, l) => s + l.tax.reduce((t, x) => t + x.amount, 0), 0);
  return [{ ...VAT, net: gross - tax, tax, gross }];
};

/** Builds the ops of a scenario in till order; every op is parsed with `OpSchema`. */
class OpsBuilder {
  readonly ops: Op[] = [];
  readonly sales: SaleRecord[] = [];
  private next = 1000;
  private opCount = 0;
  private readonly seq = [0, 0];
  private readonly receipts = [0, 0];
  private readonly shift: string[] = [this.id(), this.id()];

  id(): string {
    return sampleId(this.next++);
  }

  emit<T extends OpType>(dev: number, type: T, payload: OpPayload<T>): void {
    const seq = (this.seq[dev] ?? 0) + 1;
    this.seq[dev] = seq;
    // Op ids in no relation to seq (40503 is odd, so k ↦ 40503·k mod 2^16 is a bijection): shift
    // membership must follow seq, not id order.
    const opId = sampleId(0x10_0000 + ((this.opCount++ * 40_503) % 0x1_0000));
    const raw = {
      v: 1,
      id: opId,
      deviceId: pick(DEVICES, dev),
      seq,
      hlc: opHlc(dev, seq),
      deviceTime: SAMPLE_TIME + seq * 1000,
      type,
      storeId: SAMPLE_IDS.store,
      staffId: SAMPLE_IDS.staff,
      payload,
    };
    this.ops.push(OpSchema.parse(raw));
  }

  receiptNo(dev: number): string {
    const n = (this.receipts[dev] ?? 0) + 1;
    this.receipts[dev] = n;
    return formatReceiptNo({ storeCode: 'S01', registerCode: `R0${String(dev + 1)}`, seq: n });
  }

  open(dev: number): void {
    this.emit(dev, 'shift.opened', {
      shiftId: pick(this.shift, dev),
      currency: 'EUR',
      float: { denominations: [{ denomination: 1000, count: 10 }], total: 10_000 },
    });
  }

  /** The refund line for `units` more of a sold line: cumulative shares while within the sale, pro rata beyond it. */
  refundLine(sold: SoldLine, units: number, restock: boolean) {
    const qty = units * 1000;
    const { line } = sold;
    const out =
      sold.refunded + qty <= line.qty
        ? refundLineFor(line, qtyMilli(qty), sold.refunded, true, restock)
        : (() => {
            const share = (x: number) => toSafeInteger(divRound(BigInt(x) * BigInt(qty), BigInt(line.qty)));
            const net = share(line.net);
            return { saleLineId: line.lineId, productId: line.productId, qty, net, tax: line.tax.map((t) => ({ rateId: t.rateId, amount: share(t.amount) })), total: net, restock };
          })();
    sold.refunded += qty;
    return out;
  }

  cashTender(amount: number): Tender {
    return { tenderId: this.id(), kind: 'cash', amount, given: amount };
  }

  apply(a: Action): void {
    const dev = a.dev;
    switch (a.t) {
      case 'sale': {
        const orderId = this.id();
        const lines = a.lines.map((spec) => saleLine(this.id(), spec));
        const total = lines.reduce((s, l) => s + l.total, 0);
        const tenders: Tender[] = a.card
          ? [{ tenderId: this.id(), kind: 'card', amount: total, brand: 'VISA', last4: '4242', approvalCode: 'A1B2C3', providerRef: 'psp-ref-1' }]
          : [this.cashTender(total)];
        const payload: OpPayload<'sale.completed'> = {
          orderId,
          receiptNo: this.receiptNo(dev),
          currency: 'EUR',
          pricesIncludeTax: true,
          taxRounding: 'line',
          lines,
          subtotal: total,
          discountTotal: 0,
          taxTotal: summary(lines)[0]?.tax ?? 0,
          total,
          taxSummary: summary(lines),
          cashRounding: 0,
          tenders,
          change: 0,
          prevHash: GENESIS_HASH,
        };
        this.emit(dev, 'sale.completed', payload);
        this.sales.push({ payload, lines: lines.map((line) => ({ orderId, line, refunded: 0 })), voided: false });
        return;
      }
      case 'refund': {
        if (this.sales.length === 0) return;
        const sale = pick(this.sales, a.sale);
        const line = this.refundLine(pick(sale.lines, a.line), a.units, a.restock);
        this.emit(dev, 'refund.completed', {
          refundId: this.id(),
          receiptNo: this.receiptNo(dev),
          originalOrderId: sale.payload.orderId,
          currency: 'EUR',
          lines: [line],
          taxTotal: line.tax.reduce((s, t) => s + t.amount, 0),
          total: line.total,
          cashRounding: 0,
          tenders: [this.cashTender(line.total)],
          reason: 'Did not fit',
          prevHash: SAMPLE_PREV_HASH,
        });
        return;
      }
      case 'void': {
        if (this.sales.length === 0) return;
        const sale = pick(this.sales, a.sale);
        const p = sale.payload;
        this.emit(dev, 'sale.voided', {
          orderId: p.orderId,
          originalReceiptNo: p.receiptNo,
          receiptNo: this.receiptNo(dev),
          prevHash: SAMPLE_PREV_HASH,
          reason: 'Rung up by mistake',
          currency: 'EUR',
          total: p.total,
          taxTotal: p.taxTotal,
          taxSummary: p.taxSummary,
          cashRounding: 0,
          tenders: p.tenders.map((t) => ({ ...t, tenderId: this.id() })),
        });
        sale.voided = true;
        return;
      }
      case 'exchange': {
        if (this.sales.length === 0) return;
        const sale = pick(this.sales, a.sale);
        const back = this.refundLine(pick(sale.lines, a.line), a.units, true);
        const lines = [saleLine(this.id(), a.out)];
        const saleTotal = lines[0]?.total ?? 0;
        const balance = saleTotal - back.total;
        this.emit(dev, 'exchange.completed', {
          exchangeId: this.id(),
          receiptNo: this.receiptNo(dev),
          currency: 'EUR',
          refund: {
            refundId: this.id(),
            originalOrderId: sale.payload.orderId,
            lines: [back],
            taxTotal: back.tax.reduce((s, t) => s + t.amount, 0),
            total: back.total,
            reason: 'Wrong size',
          },
          sale: {
            orderId: this.id(),
            pricesIncludeTax: true,
            taxRounding: 'line',
            lines,
            subtotal: saleTotal,
            discountTotal: 0,
            taxTotal: summary(lines)[0]?.tax ?? 0,
            total: saleTotal,
            taxSummary: summary(lines),
          },
          balance,
          cashRounding: 0,
          tenders: balance === 0 ? [] : [this.cashTender(Math.abs(balance))],
          change: 0,
          prevHash: SAMPLE_PREV_HASH,
        });
        return;
      }
      case 'cash':
        this.emit(dev, 'cash.moved', { shiftId: pick(this.shift, dev), direction: a.out ? 'out' : 'in', currency: 'EUR', amount: a.amount, reason: 'Safe drop' });
        return;
      case 'drawer':
        this.emit(dev, 'drawer.opened', { shiftId: pick(this.shift, dev), reason: 'Change for a customer' });
        return;
      case 'rollover': {
        this.emit(dev, 'shift.closed', {
          shiftId: pick(this.shift, dev),
          currency: 'EUR',
          counted: { denominations: [], total: a.counted },
          expected: a.counted,
          variance: 0,
          receiptNo: this.receiptNo(dev),
          prevHash: SAMPLE_PREV_HASH,
          totals: {
            saleCount: 0, salesTotal: 0, refundCount: 0, refundsTotal: 0, voidCount: 0, voidsTotal: 0, exchangeCount: 0,
            exchangesBalance: 0, discountTotal: 0, taxSummary: [], tenders: [], cashIn: 0, cashOut: 0, noSaleCount: 0,
          },
        });
        // Without a reopening, the register's later receipts still fall in the closed shift (an
        // `event_outside_shift`), and its cash ops name a shift that was never opened.
        this.shift[dev] = this.id();
        if (a.reopen) this.open(dev);
        return;
      }
      case 'adjust':
        this.emit(dev, 'stock.adjusted', {
          movementId: this.id(),
          productId: pick(PRODUCTS, a.product),
          qtyDelta: a.delta * 1000,
          reason: a.delta < 0 ? 'damaged' : 'found',
        });
        return;
      case 'receive': {
        const productId = pick(PRODUCTS, a.product);
        const variantId = a.product % PRODUCTS.length === 0 ? pick(VARIANTS, a.variant) : undefined;
        this.emit(dev, 'stock.received', {
          movementId: this.id(),
          currency: 'EUR',
          lines: [{ productId, ...(variantId === undefined ? {} : { variantId }), qty: a.units * 1000, unitCost: 120 }],
        });
        return;
      }
      case 'count':
        this.emit(dev, 'stock.counted', {
          countId: this.id(),
          lines: [{ productId: pick(PRODUCTS, a.product), counted: a.counted * 1000, expected: a.expected * 1000 }],
        });
        return;
      case 'transfer':
        this.emit(dev, 'stock.transferred', {
          transferId: this.id(),
          direction: a.out ? 'out' : 'in',
          fromStoreId: a.out ? SAMPLE_IDS.store : SAMPLE_IDS.otherStore,
          toStoreId: a.out ? SAMPLE_IDS.otherStore : SAMPLE_IDS.store,
          lines: [{ productId: pick(PRODUCTS, a.product), qty: a.units * 1000 }],
        });
        return;
      case 'gift':
        this.emit(dev, `gift_card.${a.kind}`, {
          giftCardId: pick(GIFT_CARDS, a.card),
          code: `GC-TEST-${String(a.card)}`,
          currency: 'EUR',
          amount: a.amount,
        });
        return;
      case 'credit':
        this.emit(dev, a.issued ? 'store_credit.issued' : 'store_credit.redeemed', {
          customerId: pick(CUSTOMERS, a.customer),
          currency: 'EUR',
          amount: a.amount,
          reason: 'Goodwill',
        });
        return;
      case 'loyalty':
        this.emit(dev, a.accrued ? 'loyalty.accrued' : 'loyalty.redeemed', { customerId: pick(CUSTOMERS, a.customer), points: a.points, reason: 'Promotion' });
        return;
    }
  }
}

function build(s: Scenario): OpsBuilder {
  const b = new OpsBuilder();
  s.opened.forEach((open, dev) => {
    if (open) b.open(dev);
  });
  for (const a of s.actions) b.apply(a);
  return b;
}

const devArb = fc.integer({ min: 0, max: 1 });
const lineArb: fc.Arbitrary<LineSpec> = fc.record({
  product: fc.nat(2),
  variant: fc.nat(1),
  units: fc.integer({ min: 1, max: 3 }),
  price: fc.integer({ min: 1, max: 5000 }),
});
const receiptActionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ t: fc.constant('sale' as const), dev: devArb, lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }), card: fc.boolean() }),
  fc.record({ t: fc.constant('refund' as const), dev: devArb, sale: fc.nat(), line: fc.nat(), units: fc.integer({ min: 1, max: 2 }), restock: fc.boolean() }),
  fc.record({ t: fc.constant('void' as const), dev: devArb, sale: fc.nat() }),
  fc.record({ t: fc.constant('exchange' as const), dev: devArb, sale: fc.nat(), line: fc.nat(), units: fc.integer({ min: 1, max: 2 }), out: lineArb }),
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: receiptActionArb, weight: 4 },
  fc.record({ t: fc.constant('cash' as const), dev: devArb, out: fc.boolean(), amount: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ t: fc.constant('drawer' as const), dev: devArb }),
  fc.record({ t: fc.constant('rollover' as const), dev: devArb, counted: fc.integer({ min: 0, max: 50_000 }), reopen: fc.boolean() }),
  fc.record({ t: fc.constant('adjust' as const), dev: devArb, product: fc.nat(2), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
  fc.record({ t: fc.constant('receive' as const), dev: devArb, product: fc.nat(2), variant: fc.nat(1), units: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ t: fc.constant('count' as const), dev: devArb, product: fc.nat(2), counted: fc.nat(5), expected: fc.integer({ min: -3, max: 5 }) }),
  fc.record({ t: fc.constant('transfer' as const), dev: devArb, product: fc.nat(2), units: fc.integer({ min: 1, max: 3 }), out: fc.boolean() }),
  fc.record({ t: fc.constant('gift' as const), dev: devArb, kind: fc.constantFrom('issued' as const, 'reloaded' as const, 'redeemed' as const), card: fc.nat(1), amount: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ t: fc.constant('credit' as const), dev: devArb, issued: fc.boolean(), customer: fc.nat(1), amount: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ t: fc.constant('loyalty' as const), dev: devArb, accrued: fc.boolean(), customer: fc.nat(1), points: fc.integer({ min: 1, max: 500 }) }),
);
const scenarioArb = (actions: fc.Arbitrary<Action>, maxLength: number): fc.Arbitrary<Scenario> =>
  fc.record({ opened: fc.tuple(fc.boolean(), fc.boolean()), actions: fc.array(actions, { minLength: 4, maxLength, size: 'max' }) });

/** Generated ops, a permutation of them, and batch sizes to deliver them in. */
const deliveryArb = <T,>(items: readonly T[]) =>
  fc.tuple(fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length }), fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 8 }));

function applyInBatches(ops: readonly Op[], sizes: readonly number[], check?: (s: DerivedState, alerts: readonly unknown[]) => void): DerivedState {
  let state = emptyDerivedState('EUR');
  let i = 0;
  let k = 0;
  while (i < ops.length) {
    const size = sizes.length === 0 ? ops.length : (sizes[k++ % sizes.length] ?? 1);
    const r = deriveState(state, ops.slice(i, i + size));
    state = r.state;
    check?.(state, r.alerts);
    i += size;
  }
  return state;
}

/** Everything derived, as one canonical string: stock, shifts (X report and no-sales), balances, alerts, docs. */
function snapshot(s: DerivedState): string {
  return canonicalJson({
    stock: stockLevels(s.stock),
    shifts: [...s.shifts.keys()].sort().map((id) => {
      const shift = s.shifts.get(id);
      return { id, report: shift ? xReport(shift) : null, noSales: noSaleCount(s, id) };
    }),
    balances: allBalances(s.balances),
    alerts: derivedAlerts(s),
    unassigned: unassignedReceipts(s),
    docs: [...s.docs.keys()].sort().map((k) => {
      const e = s.docs.get(k);
      return { k, values: e ? docValues(e.doc) : null };
    }),
    conflicts: referenceConflicts(s).map((c) => c.id),
  });
}

/** Every number in a JSON value. */
function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbers);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(numbers);
  return [];
}

const factsArb = scenarioArb(actionArb, 24).map(build);

// ---------------------------------------------------------------------------------------------

describe('deriveState: properties over fact ops', () => {
  it('gives the same derived state for any permutation and batching of the same fact ops', () => {
    fc.assert(
      fc.property(
        factsArb.chain((b) => fc.tuple(fc.constant(b.ops), deliveryArb(b.ops))),
        ([ops, [shuffled, sizes]]) => {
          const expected = snapshot(applyInBatches(ops, []));
          const got = applyInBatches(shuffled, sizes, (state, alerts) => {
            // What a batch reports is open in the state it returns.
            const open = new Set(derivedAlerts(state).map((a) => canonicalJson(a)));
            for (const a of alerts) expect(open.has(canonicalJson(a))).toBe(true);
          });
          expect(snapshot(got)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('applying an op twice, or any duplicated subset interleaved, equals applying it once', () => {
    fc.assert(
      fc.property(
        factsArb.chain((b) =>
          fc.tuple(
            fc.constant(b.ops),
            fc.subarray(b.ops).chain((dups) => deliveryArb([...b.ops, ...dups])),
          ),
        ),
        ([ops, [delivered, sizes]]) => {
          const once = applyInBatches(ops, []);
          expect(snapshot(applyInBatches(delivered, sizes))).toBe(snapshot(once));
          // The whole set again changes nothing.
          expect(snapshot(deriveState(once, ops).state)).toBe(snapshot(once));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never leaves refunded > sold without an over_refund alert, and money stays integer', () => {
    const refundsArb = scenarioArb(receiptActionArb, 20).map(build);
    fc.assert(
      fc.property(
        refundsArb.chain((b) => fc.tuple(fc.constant(b), deliveryArb(b.ops))),
        ([b, [shuffled, sizes]]) => {
          const state = applyInBatches(shuffled, sizes);
          const overRefunds = new Map(derivedAlerts(state).flatMap((a) => (a.kind === 'over_refund' ? [[a.key, a] as const] : [])));
          let expectedAlerts = 0;
          for (const sale of b.sales) {
            for (const sold of sale.lines) {
              // A void gives back the whole line once, however often the sale is voided.
              const refunded = sold.refunded + (sale.voided ? sold.line.qty : 0);
              const found = overRefunds.get(`over_refund:${sold.orderId}:${sold.line.lineId}`);
              if (refunded > sold.line.qty) {
                expectedAlerts += 1;
                expect(found).toMatchObject({ sold: sold.line.qty, refunded, productId: sold.line.productId });
              } else {
                expect(found).toBeUndefined();
              }
            }
          }
          expect(overRefunds.size).toBe(expectedAlerts);
          for (const n of numbers(JSON.parse(snapshot(state)))) expect(Number.isSafeInteger(n)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

interface EditSpec {
  readonly doc: number;
  readonly field: number;
  readonly value: number;
  /** Which earlier write of the same field the editor saw; null: none. */
  readonly base: number | null;
  readonly dev: number;
}

const FIELDS = ['name', 'price', 'active'] as const;

function buildEdits(specs: readonly EditSpec[]): Op[] {
  const seen = new Map<string, string[]>();
  return specs.map((e, k) => {
    const field = pick(FIELDS, e.field);
    const hlc = `${(SAMPLE_TIME + k * 1000).toString(16).padStart(12, '0')}-0000-${pick(DEVICES, e.dev)}`;
    const key = `${String(e.doc % 3)}:${field}`;
    const earlier = seen.get(key) ?? [];
    const base = e.base === null || earlier.length === 0 ? null : pick(earlier, e.base);
    seen.set(key, [...earlier, hlc]);
    const value = field === 'name' ? `Name ${String(e.value)}` : field === 'price' ? e.value : e.value % 2 === 0;
    const writes = [{ field, value, hlc, base }];
    const envelope = { id: sampleId(2000 + k), deviceId: pick(DEVICES, e.dev), seq: k + 1, hlc };
    const raw =
      e.doc % 3 === 0
        ? sampleOp('product.edited', { ...envelope, payload: { productId: PRODUCTS[0], writes } })
        : e.doc % 3 === 1
          ? sampleOp('customer.upserted', { ...envelope, payload: { customerId: CUSTOMERS[0], writes } })
          : sampleOp('reference.edited', { ...envelope, payload: { docType: 'tax_rate', docId: SAMPLE_IDS.taxRate, writes } });
    return OpSchema.parse(raw);
  });
}

describe('deriveState: reference edits', () => {
  const editsArb = fc
    .array(
      fc.record({
        doc: fc.nat(2),
        field: fc.nat(2),
        value: fc.nat(100),
        base: fc.option(fc.nat(), { nil: null }),
        dev: devArb,
      }),
      { maxLength: 16 },
    )
    .map(buildEdits);

  it('gives the same doc values and the same conflict set for any permutation of the same edit ops', () => {
    const run = (ops: readonly Op[], sizes: readonly number[]) => {
      let state = emptyDerivedState('EUR');
      const reported = new Set<string>();
      let i = 0;
      let k = 0;
      while (i < ops.length) {
        const size = sizes.length === 0 ? ops.length : (sizes[k++ % sizes.length] ?? 1);
        const r = deriveState(state, ops.slice(i, i + size));
        state = r.state;
        for (const c of r.conflicts) reported.add(c.id);
        i += size;
      }
      const docs = [...state.docs.keys()].sort().map((key) => [key, docValues(state.docs.get(key)?.doc ?? { fields: {} })]);
      const held = referenceConflicts(state).map((c) => c.id);
      // Every conflict is reported once it arises, whatever the order.
      expect([...reported].sort()).toEqual(held);
      return canonicalJson({ docs, held });
    };
    fc.assert(
      fc.property(editsArb.chain((ops) => fc.tuple(fc.constant(ops), deliveryArb(ops))), ([ops, [shuffled, sizes]]) => {
        expect(run(shuffled, sizes)).toBe(run(ops, []));
      }),
      { numRuns: 500 },
    );
  });

  it('keys documents by type and id and names the doc in each conflict', () => {
    const ops = buildEdits([
      { doc: 0, field: 1, value: 250, base: null, dev: 0 },
      // Both based on the first write: the later one wins, and the two conflict.
      { doc: 0, field: 1, value: 260, base: 0, dev: 0 },
      { doc: 0, field: 1, value: 270, base: 0, dev: 1 },
      { doc: 2, field: 1, value: 80_000, base: null, dev: 1 },
    ]);
    const { state, conflicts } = deriveState(emptyDerivedState('EUR'), ops);
    expect(docValues(referenceDoc(state, 'product', PRODUCTS[0]) ?? { fields: {} })).toEqual({ price: 270 });
    expect(docValues(referenceDoc(state, 'tax_rate', SAMPLE_IDS.taxRate) ?? { fields: {} })).toEqual({ price: 80_000 });
    expect(conflicts.map((c) => [c.docType, c.docId, c.conflict.loser.value, c.conflict.winner.value])).toEqual([['product', PRODUCTS[0], 260, 270]]);
    expect(conflicts[0]?.id.startsWith(`product:${PRODUCTS[0]}:price:`)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('deriveState: examples', () => {
  const parse = <T extends OpType>(op: OpOf<T>): Op => OpSchema.parse(op);

  it('raises one oversell when two registers sell the last mug offline', () => {
    const received = parse(sampleOp('stock.received', { id: sampleId(600), payload: { lines: [{ productId: SAMPLE_IDS.product, qty: 1000 }] } }));
    const sale = (n: number, dev: string) => {
      const base = sampleOp('sale.completed');
      const line = { ...base.payload.lines[0], lineId: sampleId(n + 1), qty: 1000, gross: 250, net: 250, tax: [{ rateId: 'vat-std', amount: 40 }], total: 250 };
      return parse(
        sampleOp('sale.completed', {
          id: sampleId(n),
          deviceId: dev,
          payload: {
            orderId: sampleId(n + 2),
            lines: [line as SaleLine],
            subtotal: 250,
            taxTotal: 40,
            total: 250,
            taxSummary: [{ rateId: 'vat-std', name: 'VAT 19%', ratePpm: 190_000, net: 210, tax: 40, gross: 250 }],
            tenders: [{ tenderId: sampleId(n + 3), kind: 'cash', amount: 250, given: 250 }],
            change: 0,
          },
        }),
      );
    };
    const { state, alerts } = deriveState(emptyDerivedState('EUR'), [received, sale(610, DEVICES[0]), sale(620, DEVICES[1])]);
    // 1 received − 1 − 1 sold = −1 mug = −1000 thousandths.
    expect(onHand(state.stock, SAMPLE_IDS.product)).toBe(-1000);
    const oversells = alerts.filter((a) => a.kind === 'oversell');
    expect(oversells).toEqual([{ kind: 'oversell', productId: SAMPLE_IDS.product, onHand: -1000, key: `oversell:${SAMPLE_IDS.product}` }]);
    expect(derivedAlerts(state).filter((a) => a.kind === 'oversell')).toEqual(oversells);
  });

  it('applies a gift-card redemption below zero and raises negative_balance', () => {
    const issued = parse(sampleOp('gift_card.issued', { id: sampleId(700), payload: { amount: 2000 } }));
    const redeemed = parse(sampleOp('gift_card.redeemed', { id: sampleId(701), payload: { amount: 2500 } }));
    const { state, alerts } = deriveState(emptyDerivedState('EUR'), [redeemed, issued]);
    // 20.00 issued − 25.00 redeemed = −5.00.
    expect(giftCardBalance(state.balances, SAMPLE_IDS.giftCard, 'EUR')).toEqual({ amount: -500, currency: 'EUR' });
    expect(alerts).toEqual([
      { kind: 'negative_balance', account: 'gift_card', id: SAMPLE_IDS.giftCard, unit: 'EUR', balance: -500, key: `negative_balance:gift_card:${SAMPLE_IDS.giftCard}:EUR` },
    ]);
  });

  it('puts receipts in the shift their register had open, by seq, whatever the arrival order', () => {
    const b = new OpsBuilder();
    const sale: Action = { t: 'sale', dev: 0, lines: [{ product: 1, variant: 0, units: 1, price: 500 }], card: false };
    b.apply(sale); // seq 1: before any opening of this register
    b.open(0); // seq 2: shift A
    b.apply(sale); // seq 3
    b.apply({ t: 'drawer', dev: 0 }); // seq 4
    b.apply({ t: 'rollover', dev: 0, counted: 10_500, reopen: true }); // seq 5 closes A, seq 6 opens B
    b.apply(sale); // seq 7
    b.apply(sale); // seq 8
    const [early, openA, inA, , , openB, inB1, inB2] = b.ops;
    const state = deriveState(emptyDerivedState('EUR'), [...b.ops].reverse()).state;
    const shiftA = openA?.type === 'shift.opened' ? openA.payload.shiftId : '';
    const shiftB = openB?.type === 'shift.opened' ? openB.payload.shiftId : '';
    expect(unassignedReceipts(state)).toEqual([early?.id]);
    expect(shiftOfReceipt(state, inA?.id ?? '')).toBe(shiftA);
    expect(shiftOfReceipt(state, inB1?.id ?? '')).toBe(shiftB);
    expect(shiftOfReceipt(state, inB2?.id ?? '')).toBe(shiftB);
    const a = state.shifts.get(shiftA);
    const bShift = state.shifts.get(shiftB);
    // Shift A: float 100.00 + one 5.00 cash sale = 105.00 expected.
    expect(a && xReport(a).cash.expected).toEqual({ amount: 10_500, currency: 'EUR' });
    expect(a && xReport(a).sales.count).toBe(1);
    expect(noSaleCount(state, shiftA)).toBe(1);
    // Shift B: float 100.00 + two 5.00 cash sales = 110.00.
    expect(bShift && xReport(bShift).cash.expected).toEqual({ amount: 11_000, currency: 'EUR' });
  });

  it('restocks a voided sale, to the variant it was sold as, even when the void arrives first', () => {
    const b = new OpsBuilder();
    b.open(0);
    b.apply({ t: 'sale', dev: 0, lines: [{ product: 0, variant: 1, units: 2, price: 1000 }], card: false });
    b.apply({ t: 'void', dev: 0, sale: 0 });
    const [open, sale, voided] = b.ops;
    if (!open || !sale || !voided) throw new Error('ops missing');
    const first = deriveState(emptyDerivedState('EUR'), [open, voided]).state;
    expect(stockLevels(first.stock)).toEqual([]);
    const { state } = deriveState(first, [sale]);
    // −2 sold + 2 back from the void = 0 of size VARIANTS[1].
    expect(stockLevels(state.stock)).toEqual([{ productId: PRODUCTS[0], variantId: VARIANTS[1], onHand: 0 }]);
    const shiftId = open.type === 'shift.opened' ? open.payload.shiftId : '';
    const shift = state.shifts.get(shiftId);
    const report = shift && xReport(shift);
    // The voided 20.00 (2 × 10.00) is not in sales; it is under voids.
    expect(report?.sales.count).toBe(0);
    expect(report?.voids).toEqual({ count: 1, amount: { amount: 2000, currency: 'EUR' } });
  });

  it('reports a refund of a line the sale does not have as an over-refund of nothing sold', () => {
    const sale = parse(sampleOp('sale.completed', { id: sampleId(800) }));
    const refund = sampleOp('refund.completed', { id: sampleId(801) });
    const stray = { ...refund.payload.lines[0], saleLineId: sampleId(802) };
    const bad = parse(sampleOp('refund.completed', { id: sampleId(801), payload: { lines: [stray as (typeof refund.payload.lines)[number]] } }));
    const { alerts } = deriveState(emptyDerivedState('EUR'), [bad, sale]);
    expect(alerts.filter((a) => a.kind === 'over_refund')).toEqual([
      // One mug refunded against line 802, which the sale (one line, 11) never had.
      { kind: 'over_refund', orderId: SAMPLE_IDS.order, lineId: sampleId(802), productId: SAMPLE_IDS.product, sold: 0, refunded: 1000, key: `over_refund:${SAMPLE_IDS.order}:${sampleId(802)}` },
    ]);
  });

  it('keeps one of two different ops under one id, whichever came first, and raises conflicting_fact', () => {
    const a = parse(sampleOp('gift_card.issued', { id: sampleId(900), payload: { amount: 1000 } }));
    const b = parse(sampleOp('gift_card.issued', { id: sampleId(900), payload: { amount: 3000 } }));
    const ab = deriveState(deriveState(emptyDerivedState('EUR'), [a]).state, [b]);
    const ba = deriveState(deriveState(emptyDerivedState('EUR'), [b]).state, [a]);
    expect(snapshot(ab.state)).toBe(snapshot(ba.state));
    expect(ab.alerts.map((x) => x.key)).toEqual([`conflicting_fact:balance_event:${sampleId(900)}`]);
    // Canonical JSON of the 1000 op sorts before the 3000 one ("1" < "3"), so 10.00 is kept.
    expect(giftCardBalance(ab.state.balances, SAMPLE_IDS.giftCard, 'EUR')).toEqual({ amount: 1000, currency: 'EUR' });
  });
});
