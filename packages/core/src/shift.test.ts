import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from './alerts.js';
import { InvalidArgumentError } from './errors.js';
import { money } from './money.js';
import type { CompletedExchange, CompletedRefund, CompletedSale, RefundLine, SaleLine, TaxSummaryRow, Tender } from './order-schema.js';
import {
  applyShiftEvents,
  countTotal,
  emptyShift,
  expectedCash,
  shiftAlerts,
  ShiftNotClosedError,
  xReport,
  zReport,
  type Shift,
  type ShiftEvent,
  type ShiftOpened,
} from './shift.js';

// ---- fixtures: just enough of a completed sale for the shift's sums --------------------------

const T0 = Date.UTC(2026, 2, 2, 8, 0);
const min = (n: number): number => T0 + n * 60_000;

function line(lineId: string, total: number): SaleLine {
  return {
    lineId,
    productId: `p-${lineId}`,
    sku: 'SKU-1',
    name: 'Item',
    unitPrice: total,
    qty: 1000,
    taxes: [],
    gross: total,
    lineDiscount: 0,
    orderDiscount: 0,
    net: total,
    tax: [],
    total,
  };
}

const row = (rateId: string, ratePpm: number, net: number, tax: number): TaxSummaryRow => ({
  rateId,
  name: rateId === 'vat-std' ? 'VAT 8.1 %' : `rate ${rateId}`,
  ratePpm,
  net,
  tax,
  gross: net + tax,
});
const std = (net: number, tax: number) => row('vat-std', 81_000, net, tax);
const red = (net: number, tax: number) => row('vat-red', 26_000, net, tax);

const cash = (tenderId: string, amount: number, given = amount): Tender => ({ tenderId, kind: 'cash', amount, given });
const card = (tenderId: string, amount: number): Tender => ({
  tenderId,
  kind: 'card',
  amount,
  brand: 'visa',
  last4: '4242',
  approvalCode: 'A1',
  providerRef: 'ref-1',
});
const gift = (tenderId: string, amount: number): Tender => ({ tenderId, kind: 'gift_card', amount, giftCardCode: 'GC-1' });

interface SaleSpec {
  orderId: string;
  subtotal: number;
  discountTotal?: number;
  total: number;
  taxSummary: TaxSummaryRow[];
  cashRounding?: number;
  tenders: Tender[];
  change?: number;
  currency?: string;
}

function sale(s: SaleSpec): CompletedSale {
  return {
    orderId: s.orderId,
    receiptNo: `R-${s.orderId}`,
    currency: s.currency ?? 'CHF',
    pricesIncludeTax: true,
    taxRounding: 'line',
    lines: [line(`${s.orderId}-l1`, s.total)],
    subtotal: s.subtotal,
    discountTotal: s.discountTotal ?? 0,
    taxTotal: s.taxSummary.reduce((t, r) => t + r.tax, 0),
    total: s.total,
    taxSummary: s.taxSummary,
    cashRounding: s.cashRounding ?? 0,
    tenders: s.tenders,
    change: s.change ?? 0,
  };
}

const refundLine = (saleLineId: string, total: number, tax: { rateId: string; amount: number }[]): RefundLine => ({
  saleLineId,
  productId: `p-${saleLineId}`,
  qty: 1000,
  net: total,
  tax,
  total,
  restock: true,
});

function refund(refundId: string, lines: RefundLine[], tenders: Tender[], cashRounding = 0, currency = 'CHF'): CompletedRefund {
  return {
    refundId,
    receiptNo: `R-${refundId}`,
    currency,
    lines,
    taxTotal: lines.reduce((t, l) => t + l.tax.reduce((s, x) => s + x.amount, 0), 0),
    total: lines.reduce((t, l) => t + l.total, 0),
    cashRounding,
    tenders,
    reason: 'changed mind',
  };
}

const apply = (events: ShiftEvent[], shift: Shift = emptyShift('shift-1', 'CHF')): Shift => applyShiftEvents(shift, events).state;

// ---- the worked shift ---------------------------------------------------------------------------
// CHF, prices include tax, cash rounded to 0.05. Tax = gross × ppm / (1e6 + ppm), half up.

const opened: ShiftOpened = {
  kind: 'opened',
  id: 'ev-open',
  at: min(0),
  // 2 × 50.00 + 10 × 2.00 + 20 × 0.50 = 100.00 + 20.00 + 10.00 = 130.00
  float: {
    denominations: [
      { denomination: 5000, count: 2 },
      { denomination: 200, count: 10 },
      { denomination: 50, count: 20 },
    ],
    total: 13000,
  },
};

// A: 12.32 at 8.1 %: tax 1232 × 81/1081 = 92.31 → 92, net 1140. Paid cash 20.00: due rounds to
// 12.30 (rounding −2), change 7.70.
const saleA = sale({ orderId: 'A', subtotal: 1232, total: 1232, taxSummary: [std(1140, 92)], cashRounding: -2, tenders: [cash('tA', 1230, 2000)], change: 770 });

// B: 30.00 at 8.1 % less 10 % (3.00) = 27.00, plus 5.00 at 2.6 %. subtotal 35.00, discounts 3.00,
// total 32.00. Tax 2700 × 81/1081 = 202.31 → 202 (net 2498); 500 × 26/1026 = 12.67 → 13 (net 487).
// Paid by card.
const saleB = sale({ orderId: 'B', subtotal: 3500, discountTotal: 300, total: 3200, taxSummary: [std(2498, 202), red(487, 13)], tenders: [card('tB', 3200)] });

// C: 10.00 at 8.1 %: tax 1000 × 81/1081 = 74.93 → 75, net 925. Gift card 4.00 + cash 6.00 (given 10.00).
const saleC = sale({ orderId: 'C', subtotal: 1000, total: 1000, taxSummary: [std(925, 75)], tenders: [gift('tC1', 400), cash('tC2', 600, 1000)], change: 400 });

// D: 8.50 at 8.1 %: tax 850 × 81/1081 = 63.69 → 64, net 786. Paid cash, then voided.
const saleD = sale({ orderId: 'D', subtotal: 850, total: 850, taxSummary: [std(786, 64)], tenders: [cash('tD', 850)] });

// R: B's 5.00 line at 2.6 % back in cash (tax 13).
const refundR = refund('R', [refundLine('B-l2', 500, [{ rateId: 'vat-red', amount: 13 }])], [cash('tR', 500)]);

// X: A's 12.32 line back (tax 92), a 15.01 item at 8.1 % out (tax 1501 × 81/1081 = 112.47 → 112,
// net 1389). Balance 15.01 − 12.32 = 2.69, rounded to 2.70 in cash (rounding +1), given 5.00.
const exchangeX: CompletedExchange = {
  exchangeId: 'X',
  receiptNo: 'R-X',
  currency: 'CHF',
  refund: {
    refundId: 'X-r',
    originalOrderId: 'A',
    lines: [refundLine('A-l1', 1232, [{ rateId: 'vat-std', amount: 92 }])],
    taxTotal: 92,
    total: 1232,
    reason: 'wrong size',
  },
  sale: (({ receiptNo: _r, tenders: _t, cashRounding: _c, change: _ch, currency: _cur, ...rest }) => rest)(
    sale({ orderId: 'X-s', subtotal: 1501, total: 1501, taxSummary: [std(1389, 112)], tenders: [] }),
  ),
  balance: 269,
  cashRounding: 1,
  tenders: [cash('tX', 270, 500)],
  change: 230,
};

const workedShift: ShiftEvent[] = [
  opened,
  { kind: 'sale', id: 'ev-A', at: min(10), sale: saleA },
  { kind: 'sale', id: 'ev-B', at: min(20), sale: saleB },
  { kind: 'sale', id: 'ev-C', at: min(30), sale: saleC },
  { kind: 'sale', id: 'ev-D', at: min(40), sale: saleD },
  { kind: 'void', id: 'ev-void-D', at: min(41), orderId: 'D', reason: 'wrong item' },
  { kind: 'refund', id: 'ev-R', at: min(50), refund: refundR },
  { kind: 'exchange', id: 'ev-X', at: min(60), exchange: exchangeX },
  { kind: 'cash_moved', id: 'ev-drop', at: min(70), direction: 'out', amount: money(5000, 'CHF'), reason: 'safe drop' },
  { kind: 'cash_moved', id: 'ev-topup', at: min(80), direction: 'in', amount: money(1000, 'CHF'), reason: 'coins for change' },
  {
    kind: 'closed',
    id: 'ev-close',
    at: min(90),
    // 1 × 50.00 + 20 × 2.00 + 3 × 5.00 + 1 × 0.50 = 50.00 + 40.00 + 15.00 + 0.50 = 105.50
    counted: {
      denominations: [
        { denomination: 5000, count: 1 },
        { denomination: 200, count: 20 },
        { denomination: 500, count: 3 },
        { denomination: 50, count: 1 },
      ],
    },
  },
];

const chf = (amount: number) => money(amount, 'CHF');

describe('countTotal', () => {
  it('sums denominations times counts', () => {
    // 3 × 20.00 + 4 × 0.50 = 60.00 + 2.00 = 62.00
    expect(countTotal([{ denomination: 2000, count: 3 }, { denomination: 50, count: 4 }], 'EUR')).toEqual(money(6200, 'EUR'));
  });

  it('refuses a zero denomination and a negative count', () => {
    expect(() => countTotal([{ denomination: 0, count: 1 }], 'EUR')).toThrow(InvalidArgumentError);
    expect(() => countTotal([{ denomination: 100, count: -1 }], 'EUR')).toThrow(InvalidArgumentError);
  });
});

describe('Z report of a worked shift', () => {
  const z = zReport(apply(workedShift));

  it('balances the drawer to the cent', () => {
    expect(z.cash).toEqual({
      float: chf(13000), // 130.00
      sales: chf(1830), // A 12.30 + C 6.00 (D voided)
      refunds: chf(500), // R 5.00
      exchanges: chf(270), // X 2.70
      movements: chf(-4000), // +10.00 − 50.00
      expected: chf(10600), // 130.00 + 18.30 − 5.00 + 2.70 − 40.00 = 106.00
      counted: chf(10550), // 105.50
      variance: chf(-50), // 105.50 − 106.00: fifty centimes short
    });
  });

  it('totals sales, refunds, exchanges and voids', () => {
    expect(z.type).toBe('Z');
    expect(z.openedAt).toBe(min(0));
    expect(z.closedAt).toBe(min(90));
    // A + B + C; D is voided. gross 12.32 + 35.00 + 10.00; tax 92 + 215 + 75; total 12.32 + 32.00 + 10.00
    expect(z.sales).toEqual({ count: 3, gross: chf(5732), discounts: chf(300), tax: chf(382), total: chf(5432) });
    expect(z.refunds).toEqual({ count: 1, tax: chf(13), total: chf(500) });
    expect(z.exchanges).toEqual({ count: 1, salesTotal: chf(1501), refundsTotal: chf(1232), balance: chf(269) });
    expect(z.voids).toEqual({ count: 1, amount: chf(850) });
    expect(z.netSales).toEqual(chf(5201)); // 54.32 − 5.00 + 2.69
    expect(z.discounts).toEqual(chf(300));
    expect(z.transactionCount).toBe(6); // A, B, C, D (voided), R, X
    expect(z.cashRounding).toEqual(chf(-1)); // A −2, X +1
    expect(z.cashMovements).toEqual({ count: 2, in: chf(1000), out: chf(5000) });
    expect(z.alerts).toEqual([]);
  });

  it('reports tax by rate, sales less refunds', () => {
    expect(z.taxByRate).toEqual([
      // B +(487, 13, 500), R −(500 − 13 = 487, 13, 500)
      { rateId: 'vat-red', name: 'rate vat-red', ratePpm: 26_000, net: chf(0), tax: chf(0), gross: chf(0) },
      // net 1140 + 2498 + 925 + 1389 − 1140 = 4812; tax 92 + 202 + 75 + 112 − 92 = 389;
      // gross 1232 + 2700 + 1000 + 1501 − 1232 = 5201
      { rateId: 'vat-std', name: 'VAT 8.1 %', ratePpm: 81_000, net: chf(4812), tax: chf(389), gross: chf(5201) },
    ]);
  });

  it('reports tenders by kind, received and paid out', () => {
    expect(z.tenders).toEqual([
      // received A 12.30 + C 6.00 + X 2.70 = 21.00; paid out R 5.00
      { kind: 'cash', count: 4, received: chf(2100), paidOut: chf(500), net: chf(1600) },
      { kind: 'card', count: 1, received: chf(3200), paidOut: chf(0), net: chf(3200) },
      { kind: 'gift_card', count: 1, received: chf(400), paidOut: chf(0), net: chf(400) },
    ]);
    // What the tenders took equals the net sales adjusted by cash rounding: 52.00 = 52.01 − 0.01.
    const tendered = z.tenders.reduce((s, t) => s + t.net.amount, 0);
    expect(tendered).toBe(z.netSales.amount + z.cashRounding.amount);
  });
});

describe('X report', () => {
  it('shows the running totals without a count, and a Z report needs a close', () => {
    const midShift = apply(workedShift.slice(0, 4)); // opened, A, B, C
    const x = xReport(midShift);
    expect(x.type).toBe('X');
    expect(x.closedAt).toBeNull();
    expect(x.cash.expected).toEqual(chf(14830)); // 130.00 + 12.30 + 6.00
    expect(x.cash.counted).toBeNull();
    expect(x.cash.variance).toBeNull();
    expect(expectedCash(midShift)).toEqual(chf(14830));
    expect(() => zReport(midShift)).toThrow(ShiftNotClosedError);
  });

  it('leaves the count out even once the shift is closed', () => {
    const x = xReport(apply(workedShift));
    expect(x.cash.expected).toEqual(chf(10600));
    expect(x.cash.counted).toBeNull();
  });
});

describe('shift events', () => {
  it('counts an event applied twice once', () => {
    const once = apply(workedShift);
    const twice = apply(workedShift, apply(workedShift));
    expect(zReport(twice)).toEqual(zReport(once));
  });

  it('counts a sale timed after the close and raises an alert', () => {
    const late = sale({ orderId: 'L', subtotal: 400, total: 400, taxSummary: [std(370, 30)], tenders: [cash('tL', 400)] });
    const { state, alerts } = applyShiftEvents(apply(workedShift), [{ kind: 'sale', id: 'ev-L', at: min(95), sale: late }]);
    const z = zReport(state);
    expect(z.cash.expected).toEqual(chf(11000)); // 106.00 + 4.00
    expect(z.cash.variance).toEqual(chf(-450)); // 105.50 − 110.00
    expect(alerts).toEqual([
      { kind: 'event_outside_shift', key: 'event_outside_shift:shift-1:ev-L', shiftId: 'shift-1', eventId: 'ev-L', eventKind: 'sale', position: 'after_close' },
    ]);
  });

  it('reports a void of a sale it does not have, and reverses nothing', () => {
    const { state, alerts } = applyShiftEvents(apply([opened]), [{ kind: 'void', id: 'ev-v', at: min(5), orderId: 'nope' }]);
    expect(alerts.map((a) => a.kind)).toEqual(['unmatched_void']);
    expect(xReport(state).voids).toEqual({ count: 0, amount: chf(0) });
  });

  it('leaves a foreign-currency sale out of the totals and says so', () => {
    const eur = sale({ orderId: 'E', subtotal: 1000, total: 1000, taxSummary: [], tenders: [cash('tE', 1000)], currency: 'EUR' });
    const { state, alerts } = applyShiftEvents(apply([opened]), [{ kind: 'sale', id: 'ev-E', at: min(5), sale: eur }]);
    expect(alerts.map((a) => a.key)).toEqual(['foreign_currency:shift-1:ev-E']);
    expect(xReport(state).sales.count).toBe(0);
    expect(expectedCash(state)).toEqual(chf(13000));
  });

  it('uses the denominations when the entered total disagrees, and says so', () => {
    const typo: ShiftOpened = { ...opened, float: { ...opened.float, total: 1300 } };
    const { state, alerts } = applyShiftEvents(emptyShift('shift-1', 'CHF'), [typo]);
    expect(expectedCash(state)).toEqual(chf(13000));
    expect(alerts).toEqual([
      { kind: 'count_mismatch', key: 'count_mismatch:shift-1:ev-open', shiftId: 'shift-1', eventId: 'ev-open', boundary: 'opened', enteredTotal: 1300, denominationsTotal: 13000 },
    ]);
  });

  it('takes the entered total of a count without denominations', () => {
    const state = apply([{ kind: 'opened', id: 'ev-o', at: min(0), float: { denominations: [], total: 2550 } }]);
    expect(expectedCash(state)).toEqual(chf(2550));
  });

  it('uses the earliest of two opens and reports the duplicate', () => {
    const second: ShiftEvent = { kind: 'opened', id: 'ev-open-2', at: min(1), float: { denominations: [{ denomination: 5000, count: 1 }] } };
    const state = apply([second, opened]);
    expect(expectedCash(state)).toEqual(chf(13000));
    expect(shiftAlerts(state)).toEqual([
      {
        kind: 'duplicate_shift_boundary',
        key: 'duplicate_shift_boundary:shift-1:opened',
        shiftId: 'shift-1',
        boundary: 'opened',
        eventIds: ['ev-open', 'ev-open-2'],
      },
    ]);
  });

  it('keeps one of two different events under one id, whichever came first', () => {
    const a: ShiftEvent = { kind: 'cash_moved', id: 'ev-m', at: min(5), direction: 'in', amount: chf(100), reason: 'x' };
    const b: ShiftEvent = { ...a, amount: chf(200) };
    const ab = apply([opened, a, b]);
    const ba = apply([opened, b, a]);
    expect(xReport(ab)).toEqual(xReport(ba));
    expect(shiftAlerts(ab).map((x) => x.key)).toEqual(['conflicting_fact:shift_event:ev-m']);
  });
});

// ---- properties -----------------------------------------------------------------------------------

const amount = fc.integer({ min: 0, max: 100_000 });
const tenderArb = (tid: string) =>
  fc.oneof(
    amount.map((a) => cash(tid, a, a + 100)),
    amount.map((a) => card(tid, a)),
    amount.map((a) => gift(tid, a)),
  );
const summaryArb = fc.array(
  fc.record({ rateId: fc.constantFrom('r1', 'r2', 'r3'), ppm: fc.constantFrom(0, 26_000, 81_000), net: amount, tax: fc.integer({ min: 0, max: 20_000 }) }),
  { maxLength: 2 },
);

/** An event body; ids are given afterwards so they are unique. */
const eventArb = (i: number): fc.Arbitrary<ShiftEvent> => {
  const id = `e${String(i).padStart(3, '0')}`;
  const at = fc.integer({ min: min(-10), max: min(600) });
  return fc.oneof(
    fc.record({ at, sub: amount, disc: amount, rows: summaryArb, cr: fc.integer({ min: -2, max: 2 }), tenders: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), cur: fc.constantFrom('CHF', 'CHF', 'CHF', 'EUR') }).chain((r) =>
      fc.tuple(...r.tenders.map((_, k) => tenderArb(`${id}-t${k}`))).map(
        (tenders): ShiftEvent => ({
          kind: 'sale',
          id,
          at: r.at,
          sale: sale({
            orderId: `o${i % 7}`,
            subtotal: r.sub + r.disc,
            discountTotal: r.disc,
            total: r.sub,
            taxSummary: r.rows.map((x) => row(x.rateId, x.ppm, x.net, x.tax)),
            cashRounding: r.cr,
            tenders,
            currency: r.cur,
          }),
        }),
      ),
    ),
    fc.record({ at, total: amount, tax: fc.integer({ min: 0, max: 50 }), t: amount, cr: fc.integer({ min: -2, max: 2 }) }).map(
      (r): ShiftEvent => ({ kind: 'refund', id, at: r.at, refund: refund(`rf${i}`, [refundLine(`l${i}`, r.total + r.tax, [{ rateId: 'r1', amount: r.tax }])], [cash(`${id}-t`, r.t)], r.cr) }),
    ),
    fc.record({ at, bal: fc.integer({ min: -5000, max: 5000 }), t: amount, cr: fc.integer({ min: -2, max: 2 }) }).map(
      (r): ShiftEvent => ({ kind: 'exchange', id, at: r.at, exchange: { ...exchangeX, exchangeId: `x${i}`, balance: r.bal, cashRounding: r.cr, tenders: [cash(`${id}-t`, r.t)] } }),
    ),
    fc.record({ at, k: fc.integer({ min: 0, max: 9 }) }).map((r): ShiftEvent => ({ kind: 'void', id, at: r.at, orderId: `o${r.k}` })),
    fc.record({ at, dir: fc.constantFrom('in' as const, 'out' as const), a: amount }).map(
      (r): ShiftEvent => ({ kind: 'cash_moved', id, at: r.at, direction: r.dir, amount: chf(r.a), reason: 'r' }),
    ),
    fc.record({ at, n: fc.integer({ min: 0, max: 50 }) }).map((r): ShiftEvent => ({ kind: 'opened', id, at: r.at, float: { denominations: [{ denomination: 500, count: r.n }], ...(r.n % 3 === 0 ? { total: 7 } : {}) } })),
    fc.record({ at, n: fc.integer({ min: 0, max: 50 }) }).map((r): ShiftEvent => ({ kind: 'closed', id, at: r.at, counted: r.n % 4 === 0 ? { denominations: [], total: r.n * 10 } : { denominations: [{ denomination: 1000, count: r.n }] } })),
  );
};

const eventsArb = fc.integer({ min: 0, max: 25 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => eventArb(i))));

/** Events plus, for some of them, a different event under the same id (a conflicting fact). */
const factsArb = eventsArb.chain((events) =>
  fc.subarray(events).map((twins) => [...events, ...twins.map((e): ShiftEvent => ({ ...e, at: e.at + 1 }))]),
);

/** The same events, shuffled, with a random subset repeated, cut into random batches. */
const rearranged = (events: ShiftEvent[]) =>
  fc
    .tuple(
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      fc.subarray(events),
      fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 10 }),
    )
    .chain(([perm, dups, cuts]) => fc.shuffledSubarray([...perm, ...dups], { minLength: perm.length + dups.length, maxLength: perm.length + dups.length }).map((all) => ({ all, cuts })));

function applyInBatches(events: ShiftEvent[], cuts: number[]): { state: Shift; alerts: Alert[] } {
  let state = emptyShift('shift-1', 'CHF');
  let alerts: Alert[] = [];
  let rest = events;
  for (const c of [...cuts, rest.length]) {
    ({ state, alerts } = applyShiftEvents(state, rest.slice(0, c)));
    rest = rest.slice(c);
  }
  return { state, alerts };
}

function moneyAmounts(value: unknown, out: number[] = []): number[] {
  if (Array.isArray(value)) for (const v of value) moneyAmounts(v, out);
  else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['amount'] === 'number' && typeof o['currency'] === 'string') out.push(o['amount']);
    else for (const v of Object.values(o)) moneyAmounts(v, out);
  }
  return out;
}

describe('shift properties', () => {
  it('any order, batching and repetition of the same events gives the same report and alerts', () => {
    fc.assert(
      fc.property(
        factsArb.chain((events) => rearranged(events).map((r) => ({ events, ...r }))),
        ({ events, all, cuts }) => {
          const reference = applyShiftEvents(emptyShift('shift-1', 'CHF'), events);
          const other = applyInBatches(all, cuts);
          expect(xReport(other.state)).toEqual(xReport(reference.state));
          expect(other.alerts).toEqual(reference.alerts);
          if (reference.state.events.size > 0 && xReport(reference.state).closedAt !== null) {
            expect(zReport(other.state)).toEqual(zReport(reference.state));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every money value of a report is an integer', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const report = xReport(applyShiftEvents(emptyShift('shift-1', 'CHF'), events).state);
        const amounts = moneyAmounts(report);
        expect(amounts.length).toBeGreaterThan(10);
        for (const a of amounts) expect(Number.isSafeInteger(a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
