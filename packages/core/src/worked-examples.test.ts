/**
 * Receipts worked by hand, checked to the cent. Every expected value is written out with its
 * arithmetic beside it; none is captured from the code.
 */
import { describe, expect, it } from 'vitest';
import { addLine, cartTotals, completeSale, createCart, setLineDiscount, setOrderDiscount, type Cart, type StoreSettings } from './cart.js';
import { completeExchange } from './exchange.js';
import { money, toDecimalString } from './money.js';
import { CompletedExchangeSchema, CompletedSaleSchema, type TaxRateSnapshot } from './order-schema.js';
import { qtyMilli, units, type Qty } from './quantity.js';
import { completeRefund } from './refund.js';
import { applyShiftEvents, emptyShift, zReport } from './shift.js';
import type { TenderInput } from './tender.js';

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => id(from + i));

const DE19: TaxRateSnapshot = { rateId: 'de-19', name: 'MwSt 19 %', ratePpm: 190_000 };
const DE7: TaxRateSnapshot = { rateId: 'de-7', name: 'MwSt 7 %', ratePpm: 70_000 };
const NY: TaxRateSnapshot = { rateId: 'ny-nyc', name: 'NYC sales tax 8.875 %', ratePpm: 88_750 };
const CH: TaxRateSnapshot = { rateId: 'ch-std', name: 'MWST 8.1 %', ratePpm: 81_000 };
const JP10: TaxRateSnapshot = { rateId: 'jp-10', name: '消費税 10 %', ratePpm: 100_000 };
const JP8: TaxRateSnapshot = { rateId: 'jp-8', name: '消費税 8 % (軽減)', ratePpm: 80_000 };
const BH: TaxRateSnapshot = { rateId: 'bh-vat', name: 'VAT 10 %', ratePpm: 100_000 };

const store = (currency: string, over: Partial<StoreSettings> = {}): StoreSettings => ({
  currency,
  pricesIncludeTax: true,
  taxRounding: 'line',
  cashRoundingIncrement: null,
  discountLimitPpm: null,
  ...over,
});

type Item = [name: string, price: number, qty: Qty, taxes: TaxRateSnapshot[]];

let productNo = 100;
function cartOf(settings: StoreSettings, items: Item[]): Cart {
  return items.reduce(
    (cart, [name, price, qty, taxes]) =>
      addLine(cart, { productId: id(productNo++), sku: name.slice(0, 8).toUpperCase(), name, unitPrice: money(price, settings.currency), taxes }, qty),
    createCart(settings),
  );
}

function sell(cart: Cart, tenders: TenderInput[]) {
  const sale = completeSale(cart, { orderId: id(1), receiptNo: 'S01-R01-000001', lineIds: ids(10, cart.lines.length), tenders });
  return CompletedSaleSchema.parse(sale);
}

const cash = (given: number): TenderInput => ({ tenderId: id(900), kind: 'cash', given });
const card = (amount: number): TenderInput => ({
  tenderId: id(901),
  kind: 'card',
  amount,
  brand: 'visa',
  last4: '4242',
  approvalCode: 'A1B2C3',
  providerRef: 'psp-123',
});

interface Example {
  readonly name: string;
  readonly actual: () => unknown;
  readonly expected: unknown;
}

const examples: Example[] = [
  {
    name: 'German receipt, 19 % and 7 % VAT inclusive, tax summary by rate (line rounding)',
    actual: () => {
      const t = cartTotals(
        cartOf(store('EUR'), [
          ['Kaffee 500 g', 899, units(2), [DE7]], // gross 2 × 8.99 = 17.98
          ['Milch 1 l', 119, units(1), [DE7]], // 1.19
          ['Spülmittel', 249, units(1), [DE19]], // 2.49
          ['Batterien AA', 595, units(1), [DE19]], // 5.95
        ]),
      );
      return { lineTax: t.lines.map((l) => l.tax[0]?.amount), total: t.total.amount, taxTotal: t.taxTotal.amount, summary: t.taxSummary };
    },
    expected: {
      lineTax: [
        118, // 1798 × 7/107 = 12586/107 = 117.63 → 118
        8, // 119 × 7/107 = 833/107 = 7.79 → 8
        40, // 249 × 19/119 = 4731/119 = 39.76 → 40
        95, // 595 × 19/119 = 95 exactly (595 = 5 × 119)
      ],
      total: 2761, // 1798 + 119 + 249 + 595
      taxTotal: 261, // 118 + 8 + 40 + 95
      summary: [
        // 19 % first: gross 249 + 595 = 844, tax 40 + 95 = 135, net 844 − 135 = 709
        { rateId: 'de-19', name: 'MwSt 19 %', ratePpm: 190_000, net: 709, tax: 135, gross: 844 },
        // 7 %: gross 1798 + 119 = 1917, tax 118 + 8 = 126, net 1917 − 126 = 1791
        { rateId: 'de-7', name: 'MwSt 7 %', ratePpm: 70_000, net: 1791, tax: 126, gross: 1917 },
      ],
    },
  },
  {
    name: 'New York, 8.875 % on top, rounded per line',
    actual: () => {
      const t = cartTotals(cartOf(store('USD', { pricesIncludeTax: false }), [['Soda', 99, units(1), [NY]], ['Soda', 99, units(1), [NY]], ['Soda', 99, units(1), [NY]]]));
      return { lineTax: t.lines.map((l) => l.tax[0]?.amount), taxTotal: t.taxTotal.amount, total: t.total.amount };
    },
    expected: {
      lineTax: [9, 9, 9], // 99 × 0.08875 = 8.78625 → 9 on each line
      taxTotal: 27, // 3 × 9
      total: 324, // 297 + 27 = $3.24
    },
  },
  {
    name: 'New York, 8.875 % on top, rounded once per order: one cent less than per line',
    actual: () => {
      const t = cartTotals(
        cartOf(store('USD', { pricesIncludeTax: false, taxRounding: 'order' }), [['Soda', 99, units(1), [NY]], ['Soda', 99, units(1), [NY]], ['Soda', 99, units(1), [NY]]]),
      );
      return { lineTax: t.lines.map((l) => l.tax[0]?.amount), taxTotal: t.taxTotal.amount, total: t.total.amount };
    },
    expected: {
      // order: 297 × 0.08875 = 26.35875 → 26; floors 8 + 8 + 8 = 24, the 2 left go to the
      // largest remainders (all .78625, ties to the earliest lines)
      lineTax: [9, 9, 8],
      taxTotal: 26,
      total: 323, // 297 + 26 = $3.23
    },
  },
  {
    name: 'Swiss cash rounding to 0.05, down: CHF 12.32 paid as 12.30',
    actual: () => {
      const s = sell(cartOf(store('CHF', { cashRoundingIncrement: 5 }), [['Käse', 1232, units(1), [CH]]]), [cash(2000)]);
      return { total: s.total, cash: s.tenders[0]?.amount, cashRounding: s.cashRounding, change: s.change };
    },
    expected: {
      total: 1232,
      cash: 1230, // 1232 / 5 = 246.4 → 246 × 5 = 1230
      cashRounding: -2, // 1230 − 1232
      change: 770, // 2000 − 1230
    },
  },
  {
    name: 'Swiss cash rounding to 0.05, up: CHF 7.48 paid as 7.50',
    actual: () => {
      const s = sell(cartOf(store('CHF', { cashRoundingIncrement: 5 }), [['Brot', 748, units(1), [CH]]]), [cash(1000)]);
      return { total: s.total, cash: s.tenders[0]?.amount, cashRounding: s.cashRounding, change: s.change };
    },
    expected: {
      total: 748,
      cash: 750, // 748 / 5 = 149.6 → 150 × 5 = 750
      cashRounding: 2, // 750 − 748
      change: 250, // 1000 − 750
    },
  },
  {
    name: '€10.00 off three equal lines does not lose a cent',
    actual: () => {
      let cart = cartOf(store('EUR'), [['Tasse', 1000, units(1), [DE19]], ['Tasse', 1000, units(1), [DE19]], ['Tasse', 1000, units(1), [DE19]]]);
      cart = setOrderDiscount(cart, { kind: 'amount', amount: money(1000, 'EUR') });
      const t = cartTotals(cart);
      return { shares: t.lines.map((l) => l.orderDiscount), nets: t.lines.map((l) => l.net), discountTotal: t.discountTotal.amount, total: t.total.amount };
    },
    expected: {
      shares: [334, 333, 333], // 1000/3 = 333.33 each: floors 333 × 3 = 999, the 1 left to the first
      nets: [666, 667, 667], // 1000 − share
      discountTotal: 1000, // 334 + 333 + 333
      total: 2000, // 3000 − 1000
    },
  },
  {
    name: 'JPY, no decimals: 10 % and reduced 8 % inclusive, rounded per rate over the invoice',
    actual: () => {
      const s = sell(
        cartOf(store('JPY', { taxRounding: 'order' }), [
          ['雑誌', 880, units(1), [JP10]], // ¥880
          ['弁当', 598, units(1), [JP8]], // ¥598
        ]),
        [cash(2000)],
      );
      return { total: s.total, taxTotal: s.taxTotal, summary: s.taxSummary.map((r) => [r.rateId, r.net, r.tax, r.gross]), change: s.change };
    },
    expected: {
      total: 1478, // 880 + 598
      taxTotal: 124, // 80 + 44
      summary: [
        ['jp-10', 800, 80, 880], // 880 × 10/110 = 80 exactly; net 880 − 80 = 800
        ['jp-8', 554, 44, 598], // 598 × 8/108 = 4784/108 = 44.30 → 44; net 598 − 44 = 554
      ],
      change: 522, // 2000 − 1478
    },
  },
  {
    name: 'BHD, three decimals: 10 % VAT on top',
    actual: () => {
      const t = cartTotals(cartOf(store('BHD', { pricesIncludeTax: false }), [['Dates 1 kg', 1235, units(3), [BH]]]));
      return { subtotal: toDecimalString(t.subtotal), tax: toDecimalString(t.taxTotal), total: toDecimalString(t.total) };
    },
    expected: {
      subtotal: '3.705', // 3 × 1.235
      tax: '0.371', // 3705 × 0.10 = 370.5 fils → 371 (half up)
      total: '4.076', // 3705 + 371 = 4076 fils
    },
  },
  {
    name: 'weighed item: 0.375 kg at €12.99/kg, 7 % inclusive',
    actual: () => {
      const t = cartTotals(cartOf(store('EUR'), [['Gouda', 1299, qtyMilli(375), [DE7]]]));
      const line = t.lines[0];
      return { gross: line?.gross, tax: line?.tax[0]?.amount, total: t.total.amount };
    },
    expected: {
      gross: 487, // 1299 × 0.375 = 487.125 → 487
      tax: 32, // 487 × 7/107 = 3409/107 = 31.86 → 32
      total: 487,
    },
  },
  {
    name: 'partial refunds of a discounted line: one of two, then the other',
    actual: () => {
      let cart = cartOf(store('EUR'), [['Hemd', 1999, units(2), [DE19]]]);
      cart = setLineDiscount(cart, 1, { kind: 'percent', ppm: 150_000 });
      const sale = sell(cart, [card(3398)]);
      const refund = (refundId: number, priorRefunds: ReturnType<typeof completeRefund>[]) =>
        completeRefund({
          refundId: id(refundId),
          receiptNo: `S01-R01-00000${refundId}`,
          reason: 'zu klein',
          cashRoundingIncrement: null,
          goods: { kind: 'receipt', sale, priorRefunds, lines: [{ saleLineId: id(10), qty: units(1), restock: true }] },
          tenders: [{ tenderId: id(950 + refundId), kind: 'cash' }],
        });
      const first = refund(2, []);
      const second = refund(3, [first]);
      const pick = (r: typeof first) => ({ net: r.lines[0]?.net, tax: r.lines[0]?.tax[0]?.amount, total: r.total });
      return { sale: { net: sale.lines[0]?.net, tax: sale.taxTotal }, first: pick(first), second: pick(second) };
    },
    expected: {
      // gross 2 × 19.99 = 3998; 15 % = 599.7 → 600; net 3398; tax 3398 × 19/119 = 64562/119 = 542.54 → 543
      sale: { net: 3398, tax: 543 },
      // 1 of 2: net round(3398 × 1/2) = 1699; tax round(543 × 1/2 = 271.5) = 272
      first: { net: 1699, tax: 272, total: 1699 },
      // 2 of 2: net 3398 − 1699 = 1699; tax 543 − 272 = 271 (the half cent came back on the first)
      second: { net: 1699, tax: 271, total: 1699 },
    },
  },
  {
    name: 'exchange: a €39.99 shirt back, a €29.99 shirt out, €10.00 owed to the customer',
    actual: () => {
      const settings = store('EUR');
      const sale = sell(cartOf(settings, [['Hemd blau L', 3999, units(1), [DE19]]]), [card(3999)]);
      const ex = completeExchange({
        exchangeId: id(500),
        receiptNo: 'S01-R01-000002',
        returned: { refundId: id(501), reason: 'andere Farbe', goods: { kind: 'receipt', sale, priorRefunds: [], lines: [{ saleLineId: id(10), qty: units(1), restock: true }] } },
        cart: cartOf(settings, [['Hemd grün L', 2999, units(1), [DE19]]]),
        orderId: id(502),
        lineIds: [id(503)],
        settle: { direction: 'shop_pays', tenders: [{ tenderId: id(504), kind: 'cash' }] },
      });
      CompletedExchangeSchema.parse(ex);
      return { refund: ex.refund.total, sale: ex.sale.total, balance: ex.balance, paidBack: ex.tenders.map((t) => [t.kind, t.amount]) };
    },
    expected: {
      refund: 3999,
      sale: 2999,
      balance: -1000, // 2999 − 3999
      paidBack: [['cash', 1000]], // |−1000|, EUR cash is not rounded
    },
  },
  {
    name: 'split tender: €30.00 by card, €20.00 cash handed over for the rest, change',
    actual: () => {
      const s = sell(cartOf(store('EUR'), [['Pfanne', 4780, units(1), [DE19]]]), [card(3000), cash(2000)]);
      return { tenders: s.tenders.map((t) => [t.kind, t.amount]), cashRounding: s.cashRounding, change: s.change };
    },
    expected: {
      tenders: [
        ['card', 3000],
        ['cash', 1780], // 4780 − 3000
      ],
      cashRounding: 0,
      change: 220, // 2000 − 1780
    },
  },
  {
    name: 'a shift whose Z report balances: float, cash and card sales, a cash refund, a safe drop, a short count',
    actual: () => {
      const sale1 = completeSale(cartOf(store('EUR'), [['Kaffee 500 g', 899, units(1), [DE7]], ['Spülmittel', 249, units(1), [DE19]]]), {
        orderId: id(601),
        receiptNo: 'S01-R01-000001',
        lineIds: [id(611), id(612)],
        tenders: [cash(2000)],
      });
      const sale2 = completeSale(cartOf(store('EUR'), [['Batterien AA', 595, units(1), [DE19]]]), {
        orderId: id(602),
        receiptNo: 'S01-R01-000002',
        lineIds: [id(621)],
        tenders: [card(595)],
      });
      const refund = completeRefund({
        refundId: id(603),
        receiptNo: 'S01-R01-000003',
        reason: 'beschädigt',
        cashRoundingIncrement: null,
        goods: { kind: 'receipt', sale: sale1, priorRefunds: [], lines: [{ saleLineId: id(612), qty: units(1), restock: false }] },
        tenders: [{ tenderId: id(604), kind: 'cash' }],
      });
      const eur = (n: number) => money(n, 'EUR');
      const t0 = Date.UTC(2026, 10, 25, 8, 0);
      const { state } = applyShiftEvents(emptyShift(id(600), 'EUR'), [
        { kind: 'opened', id: id(600), at: t0, float: { denominations: [{ denomination: 2000, count: 4 }, { denomination: 200, count: 10 }] } },
        { kind: 'sale', id: id(601), at: t0 + 1, sale: sale1 },
        { kind: 'sale', id: id(602), at: t0 + 2, sale: sale2 },
        { kind: 'refund', id: id(603), at: t0 + 3, refund },
        { kind: 'cash_moved', id: id(605), at: t0 + 4, direction: 'out', amount: eur(5000), reason: 'Tresor' },
        {
          kind: 'closed',
          id: id(606),
          at: t0 + 5,
          counted: {
            denominations: [
              { denomination: 2000, count: 2 },
              { denomination: 200, count: 9 },
              { denomination: 50, count: 1 },
              { denomination: 20, count: 2 },
            ],
          },
        },
      ]);
      const z = zReport(state);
      return {
        transactions: z.transactionCount,
        sales: [z.sales.count, z.sales.gross.amount, z.sales.tax.amount, z.sales.total.amount],
        refunds: [z.refunds.count, z.refunds.tax.amount, z.refunds.total.amount],
        netSales: z.netSales.amount,
        taxByRate: z.taxByRate.map((r) => [r.rateId, r.net.amount, r.tax.amount, r.gross.amount]),
        tenders: z.tenders.map((t) => [t.kind, t.received.amount, t.paidOut.amount, t.net.amount]),
        cash: [z.cash.float, z.cash.sales, z.cash.refunds, z.cash.movements, z.cash.expected, z.cash.counted, z.cash.variance].map((m) => m?.amount),
      };
    },
    expected: {
      transactions: 3, // two sales and one refund
      // gross 899 + 249 + 595 = 1743; tax: Kaffee 899 × 7/107 = 58.81 → 59, Spülmittel 249 × 19/119 = 39.76 → 40,
      // Batterien 595 × 19/119 = 95 exactly; 59 + 40 + 95 = 194; no discounts, so total = gross
      sales: [2, 1743, 194, 1743],
      refunds: [1, 40, 249], // the Spülmittel line as sold: 2.49 with 0.40 tax
      netSales: 1494, // 1743 − 249
      taxByRate: [
        ['de-19', 500, 95, 595], // gross 249 + 595 − 249 = 595; tax 40 + 95 − 40 = 95; net 595 − 95 = 500
        ['de-7', 840, 59, 899], // gross 899; tax 59; net 899 − 59 = 840
      ],
      tenders: [
        ['cash', 1148, 249, 899], // sale 1 paid 8.99 + 2.49 = 11.48 from 20.00 (change 8.52); 2.49 refunded in cash
        ['card', 595, 0, 595],
      ],
      cash: [
        10000, // float: 4 × 20.00 + 10 × 2.00
        1148,
        249,
        -5000, // safe drop
        5899, // 10000 + 1148 − 249 − 5000
        5890, // 2 × 20.00 + 9 × 2.00 + 1 × 0.50 + 2 × 0.20 = 40.00 + 18.00 + 0.50 + 0.40
        -9, // 5890 − 5899: nine cents short
      ],
    },
  },
];

describe('worked examples', () => {
  it.each(examples)('$name', ({ actual, expected }) => {
    expect(actual()).toEqual(expected);
  });
});
