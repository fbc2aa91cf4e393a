/**
 * Sample ops for tests: one valid, realistic op of every type, with fixed ids and times so tests
 * are deterministic. Other test suites (and later packages) build on these instead of writing ops
 * by hand. Amounts are consistent: the comments show the arithmetic.
 */
import type { OpOf, OpPayload, OpType } from '../ops/op-schema.js';
import { GENESIS_HASH } from '../receipt-chain.js';

/** A fixed UUIDv7-shaped id; `n` tells them apart. */
export function sampleId(n: number): string {
  return `0192f5a0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** The ids the sample ops use, by role. */
export const SAMPLE_IDS = {
  op: sampleId(1),
  device: sampleId(2),
  store: sampleId(3),
  otherStore: sampleId(4),
  staff: sampleId(5),
  manager: sampleId(6),
  order: sampleId(10),
  saleLine: sampleId(11),
  tender: sampleId(12),
  refund: sampleId(13),
  exchange: sampleId(14),
  exchangeOrder: sampleId(15),
  exchangeLine: sampleId(16),
  product: sampleId(20),
  otherProduct: sampleId(21),
  customer: sampleId(30),
  shift: sampleId(40),
  movement: sampleId(50),
  count: sampleId(51),
  transfer: sampleId(52),
  taxRate: sampleId(60),
  giftCard: sampleId(70),
} as const;

/** 2026-01-15T10:00:00Z, the sample ops' device time. */
export const SAMPLE_TIME = Date.UTC(2026, 0, 15, 10, 0, 0);

/** An HLC string at `ms` (counter 0) on the sample device. */
export function sampleHlc(ms: number = SAMPLE_TIME, counter = 0): string {
  return `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${SAMPLE_IDS.device}`;
}

/** A receipt hash standing for "the previous receipt's": any 64 hex digits will do in a sample. */
export const SAMPLE_PREV_HASH = 'ab'.repeat(32);

/** A Kassa gift-card number ("98" + 13 digits + Damm check digit). */
export const SAMPLE_GIFT_CARD_CODE = '9852601815908305';

const VAT = { rateId: 'vat-std', name: 'VAT 19%', ratePpm: 190_000 };

// Every payload is made fresh on each call so a test can change its copy freely.
const payloads: { readonly [T in OpType]: () => OpPayload<T> } = {
  // Two mugs at 2.50 incl. 19 % VAT: gross 500; tax 500 × 19/119 = 79.83 → 80; net of tax 420.
  'sale.completed': () => ({
    orderId: SAMPLE_IDS.order,
    receiptNo: 'S01-R02-000123',
    currency: 'EUR',
    pricesIncludeTax: true,
    taxRounding: 'line',
    lines: [
      {
        lineId: SAMPLE_IDS.saleLine,
        productId: SAMPLE_IDS.product,
        sku: 'MUG-01',
        name: 'Coffee mug',
        unitPrice: 250,
        qty: 2000,
        taxes: [VAT],
        gross: 500,
        lineDiscount: 0,
        orderDiscount: 0,
        net: 500,
        tax: [{ rateId: 'vat-std', amount: 80 }],
        total: 500,
      },
    ],
    subtotal: 500,
    discountTotal: 0,
    taxTotal: 80,
    total: 500,
    taxSummary: [{ ...VAT, net: 420, tax: 80, gross: 500 }],
    cashRounding: 0,
    // 10.00 handed over for 5.00: 5.00 change.
    tenders: [{ tenderId: SAMPLE_IDS.tender, kind: 'cash', amount: 500, given: 1000 }],
    change: 500,
    prevHash: GENESIS_HASH,
  }),
  // The sale above, voided: everything reversed.
  'sale.voided': () => ({
    orderId: SAMPLE_IDS.order,
    originalReceiptNo: 'S01-R02-000123',
    receiptNo: 'S01-R02-000124',
    prevHash: SAMPLE_PREV_HASH,
    reason: 'Customer changed their mind',
    currency: 'EUR',
    total: 500,
    taxTotal: 80,
    taxSummary: [{ ...VAT, net: 420, tax: 80, gross: 500 }],
    cashRounding: 0,
    tenders: [{ tenderId: sampleId(17), kind: 'cash', amount: 500, given: 500 }],
  }),
  // One of the two mugs back: 250 incl. tax; tax 250 × 19/119 = 39.92 → 40.
  'refund.completed': () => ({
    refundId: SAMPLE_IDS.refund,
    receiptNo: 'S01-R02-000125',
    originalOrderId: SAMPLE_IDS.order,
    currency: 'EUR',
    lines: [
      {
        saleLineId: SAMPLE_IDS.saleLine,
        productId: SAMPLE_IDS.product,
        qty: 1000,
        net: 250,
        tax: [{ rateId: 'vat-std', amount: 40 }],
        total: 250,
        restock: true,
      },
    ],
    taxTotal: 40,
    total: 250,
    cashRounding: 0,
    tenders: [{ tenderId: sampleId(18), kind: 'cash', amount: 250, given: 250 }],
    reason: 'Chipped on arrival',
    prevHash: SAMPLE_PREV_HASH,
  }),
  // One mug (2.50) back for a blue one (3.00): balance 300 − 250 = 50, paid in cash.
  // Tax on the blue mug: 300 × 19/119 = 47.90 → 48; net of tax 252.
  'exchange.completed': () => ({
    exchangeId: SAMPLE_IDS.exchange,
    receiptNo: 'S01-R02-000126',
    currency: 'EUR',
    refund: {
      refundId: SAMPLE_IDS.refund,
      originalOrderId: SAMPLE_IDS.order,
      lines: [
        {
          saleLineId: SAMPLE_IDS.saleLine,
          productId: SAMPLE_IDS.product,
          qty: 1000,
          net: 250,
          tax: [{ rateId: 'vat-std', amount: 40 }],
          total: 250,
          restock: true,
        },
      ],
      taxTotal: 40,
      total: 250,
      reason: 'Wrong colour',
    },
    sale: {
      orderId: SAMPLE_IDS.exchangeOrder,
      pricesIncludeTax: true,
      taxRounding: 'line',
      lines: [
        {
          lineId: SAMPLE_IDS.exchangeLine,
          productId: SAMPLE_IDS.otherProduct,
          sku: 'MUG-02',
          name: 'Coffee mug, blue',
          unitPrice: 300,
          qty: 1000,
          taxes: [VAT],
          gross: 300,
          lineDiscount: 0,
          orderDiscount: 0,
          net: 300,
          tax: [{ rateId: 'vat-std', amount: 48 }],
          total: 300,
        },
      ],
      subtotal: 300,
      discountTotal: 0,
      taxTotal: 48,
      total: 300,
      taxSummary: [{ ...VAT, net: 252, tax: 48, gross: 300 }],
    },
    balance: 50,
    cashRounding: 0,
    tenders: [{ tenderId: sampleId(19), kind: 'cash', amount: 50, given: 50 }],
    change: 0,
    prevHash: SAMPLE_PREV_HASH,
  }),
  'cash.moved': () => ({
    shiftId: SAMPLE_IDS.shift,
    direction: 'out',
    currency: 'EUR',
    amount: 5000,
    reason: 'Safe drop',
  }),
  // 5 × 20.00 + 5 × 10.00 + 10 × 2.00 + 20 × 0.50 = 100 + 50 + 20 + 10 = 180.00.
  'shift.opened': () => ({
    shiftId: SAMPLE_IDS.shift,
    currency: 'EUR',
    float: {
      denominations: [
        { denomination: 2000, count: 5 },
        { denomination: 1000, count: 5 },
        { denomination: 200, count: 10 },
        { denomination: 50, count: 20 },
      ],
      total: 18_000,
    },
  }),
  // Counted 50 + 6 × 20 + 4 × 10 + 10 × 2 + 19 × 0.50 = 50 + 120 + 40 + 20 + 9.50 = 239.50.
  // Expected 180.00 float + 60.00 cash takings = 240.00; variance 239.50 − 240.00 = −0.50.
  'shift.closed': () => ({
    shiftId: SAMPLE_IDS.shift,
    currency: 'EUR',
    counted: {
      denominations: [
        { denomination: 5000, count: 1 },
        { denomination: 2000, count: 6 },
        { denomination: 1000, count: 4 },
        { denomination: 200, count: 10 },
        { denomination: 50, count: 19 },
      ],
      total: 23_950,
    },
    expected: 24_000,
    variance: -50,
    receiptNo: 'S01-R02-000127',
    prevHash: SAMPLE_PREV_HASH,
    // Net takings 110.00 − 2.50 refunded + 0.50 exchange balance = 108.00 (60.00 cash + 48.00
    // card); tax 10 800 × 19/119 = 1724.37 → 1724, net of tax 9076. The voided 5.00 is not in it.
    totals: {
      saleCount: 3,
      salesTotal: 11_000,
      refundCount: 1,
      refundsTotal: 250,
      voidCount: 1,
      voidsTotal: 500,
      exchangeCount: 1,
      exchangesBalance: 50,
      discountTotal: 0,
      taxSummary: [{ ...VAT, net: 9076, tax: 1724, gross: 10_800 }],
      tenders: [
        { kind: 'cash', amount: 6000 },
        { kind: 'card', amount: 4800 },
      ],
      cashIn: 0,
      cashOut: 0,
      noSaleCount: 1,
    },
  }),
  'drawer.opened': () => ({ shiftId: SAMPLE_IDS.shift, reason: 'Change for a customer' }),
  'stock.adjusted': () => ({
    movementId: SAMPLE_IDS.movement,
    productId: SAMPLE_IDS.product,
    qtyDelta: -2000,
    reason: 'damaged',
    note: 'Dropped while shelving',
  }),
  'stock.received': () => ({
    movementId: SAMPLE_IDS.movement,
    supplierRef: 'DN-2026-0042',
    currency: 'EUR',
    lines: [{ productId: SAMPLE_IDS.product, qty: 24_000, unitCost: 120 }],
  }),
  // 17 on the shelf where the register expected 18: a change of −1.
  'stock.counted': () => ({
    countId: SAMPLE_IDS.count,
    lines: [{ productId: SAMPLE_IDS.product, counted: 17_000, expected: 18_000 }],
  }),
  'stock.transferred': () => ({
    transferId: SAMPLE_IDS.transfer,
    direction: 'out',
    fromStoreId: SAMPLE_IDS.store,
    toStoreId: SAMPLE_IDS.otherStore,
    lines: [{ productId: SAMPLE_IDS.product, qty: 6000 }],
  }),
  'customer.upserted': () => ({
    customerId: SAMPLE_IDS.customer,
    writes: [
      { field: 'name', value: 'Ada Lovelace', hlc: sampleHlc(), base: null },
      { field: 'marketingOptIn', value: false, hlc: sampleHlc(), base: null },
    ],
  }),
  // A price change from 2.50 to 2.75, made having seen the value written an hour earlier.
  'product.edited': () => ({
    productId: SAMPLE_IDS.product,
    writes: [{ field: 'price', value: 275, hlc: sampleHlc(), base: sampleHlc(SAMPLE_TIME - 3_600_000) }],
  }),
  // The reduced VAT rate going from 7 % to 8 %.
  'reference.edited': () => ({
    docType: 'tax_rate',
    docId: SAMPLE_IDS.taxRate,
    writes: [{ field: 'ratePpm', value: 80_000, hlc: sampleHlc(), base: sampleHlc(SAMPLE_TIME - 86_400_000) }],
  }),
  'gift_card.issued': () => ({
    giftCardId: SAMPLE_IDS.giftCard,
    code: SAMPLE_GIFT_CARD_CODE,
    currency: 'EUR',
    amount: 5000,
    orderId: SAMPLE_IDS.order,
  }),
  'gift_card.reloaded': () => ({
    giftCardId: SAMPLE_IDS.giftCard,
    code: SAMPLE_GIFT_CARD_CODE,
    currency: 'EUR',
    amount: 2500,
    orderId: SAMPLE_IDS.order,
  }),
  'gift_card.redeemed': () => ({
    giftCardId: SAMPLE_IDS.giftCard,
    code: SAMPLE_GIFT_CARD_CODE,
    currency: 'EUR',
    amount: 1250,
    orderId: SAMPLE_IDS.order,
  }),
  'store_credit.issued': () => ({
    customerId: SAMPLE_IDS.customer,
    currency: 'EUR',
    amount: 250,
    orderId: SAMPLE_IDS.refund,
    reason: 'Refund to store credit',
  }),
  'store_credit.redeemed': () => ({
    customerId: SAMPLE_IDS.customer,
    currency: 'EUR',
    amount: 250,
    orderId: SAMPLE_IDS.order,
  }),
  'loyalty.accrued': () => ({ customerId: SAMPLE_IDS.customer, points: 50, orderId: SAMPLE_IDS.order }),
  'loyalty.redeemed': () => ({ customerId: SAMPLE_IDS.customer, points: 100, orderId: SAMPLE_IDS.order }),
};

/** What {@link sampleOp} lets a test change: envelope fields, and payload fields (shallowly). */
export type SampleOpOverrides<T extends OpType> = Partial<Omit<OpOf<T>, 'type' | 'payload'>> & {
  readonly payload?: Partial<OpPayload<T>>;
};

/**
 * A valid op of `type` (fresh on every call), with `overrides` applied: envelope fields replaced,
 * payload fields merged shallowly. Not parsed, so a test may override into an invalid op.
 *
 * @example
 * ```ts
 * const op = sampleOp('cash.moved', { seq: 7, payload: { amount: 1250 } });
 * ```
 */
export function sampleOp<T extends OpType>(type: T, overrides: SampleOpOverrides<T> = {}): OpOf<T> {
  const { payload, ...envelope } = overrides;
  const makePayload: () => object = payloads[type];
  const op: Record<string, unknown> = {
    v: 1,
    id: SAMPLE_IDS.op,
    deviceId: SAMPLE_IDS.device,
    seq: 1,
    hlc: sampleHlc(),
    deviceTime: SAMPLE_TIME,
    type,
    storeId: SAMPLE_IDS.store,
    staffId: SAMPLE_IDS.staff,
    ...envelope,
    payload: { ...makePayload(), ...payload },
  };
  // TypeScript cannot tie the generic `type` to its payload; `payloads` is checked per type above.
  return op as unknown as OpOf<T>;
}
