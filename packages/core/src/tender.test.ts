import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CurrencyMismatchError, InvalidArgumentError } from './errors.js';
import { money } from './money.js';
import { TenderSchema } from './order-schema.js';
import { cashPayment, InsufficientTenderError, OverTenderError, remainingDue, settlePayout, settleTenders, type TenderInput } from './tender.js';

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const chf = (amount: number) => money(amount, 'CHF');
const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};
const cash = (given: number, n = 1): TenderInput => ({ tenderId: id(n), kind: 'cash', given });
const card = (amount: number, n = 2): TenderInput => ({
  tenderId: id(n),
  kind: 'card',
  amount,
  brand: 'mastercard',
  last4: '0005',
  approvalCode: 'OK1234',
  providerRef: 'ref-1',
});

describe('settleTenders', () => {
  it('rounds CHF 12.32 all in cash to 12.30', () => {
    // 1232 → 1230 (nearest 5); change 2000 − 1230 = 770
    expect(settleTenders(chf(1232), [cash(2000)], 5)).toEqual({
      tenders: [{ tenderId: id(1), kind: 'cash', amount: 1230, given: 2000 }],
      cashRounding: -2,
      change: 770,
    });
  });

  it('rounds only the cash part after a card: 10.00 card + 2.32 → cash 2.30', () => {
    const s = settleTenders(chf(1232), [card(1000), cash(500)], 5);
    expect(s.tenders.map((t) => t.amount)).toEqual([1000, 230]);
    expect(s.cashRounding).toBe(-2);
    expect(s.change).toBe(270); // 500 − 230
  });

  it('does not round a payment made all by card', () => {
    expect(settleTenders(chf(1232), [card(1232)], 5)).toMatchObject({ cashRounding: 0, change: 0 });
  });

  it('rounds up to the coin when the rest is nearer the next one', () => {
    // 1233 → 1235; given exactly 1235 → no change
    expect(settleTenders(chf(1233), [cash(1235)], 5)).toMatchObject({ cashRounding: 2, change: 0 });
  });

  it('does not round without an increment', () => {
    expect(settleTenders(money(1232, 'EUR'), [cash(1232)], null)).toMatchObject({ cashRounding: 0, change: 0 });
  });

  it('takes partial cash first and card for the rest, without rounding', () => {
    // cash 5.00 does not settle; card pays 7.32
    const s = settleTenders(chf(1232), [cash(500), card(732)], 5);
    expect(s).toEqual({
      tenders: [
        { tenderId: id(1), kind: 'cash', amount: 500, given: 500 },
        { tenderId: id(2), kind: 'card', amount: 732, brand: 'mastercard', last4: '0005', approvalCode: 'OK1234', providerRef: 'ref-1' },
      ],
      cashRounding: 0,
      change: 0,
    });
    for (const t of s.tenders) TenderSchema.parse(t);
  });

  it('throws InsufficientTenderError with what was due and given', () => {
    const err = caught(() => settleTenders(chf(1232), [card(1000), cash(200)], 5));
    expect(err).toBeInstanceOf(InsufficientTenderError);
    // 200 in cash is short of the 230 due in cash
    expect(err).toMatchObject({ code: 'insufficient_tender', due: chf(1232), given: chf(1200) });
  });

  it('throws OverTenderError for a card paying more than due, or any tender after settlement', () => {
    expect(() => settleTenders(chf(1000), [card(1001)], 5)).toThrow(OverTenderError);
    expect(caught(() => settleTenders(chf(1000), [card(600), card(500, 3)], 5))).toMatchObject({
      code: 'over_tender',
      kind: 'card',
      due: chf(400),
      amount: chf(500),
    });
    expect(() => settleTenders(chf(1000), [card(1000), cash(0, 3)], 5)).toThrow(OverTenderError);
  });

  it('settles a zero total with a zero cash tender, and refuses no tender at all', () => {
    expect(settleTenders(chf(0), [cash(0)], 5)).toMatchObject({ cashRounding: 0, change: 0 });
    expect(() => settleTenders(chf(0), [], 5)).toThrow(InsufficientTenderError);
  });

  it('refuses negative amounts', () => {
    expect(() => settleTenders(chf(100), [cash(-1)], 5)).toThrow(InvalidArgumentError);
    expect(() => settleTenders(chf(-100), [cash(0)], 5)).toThrow(InvalidArgumentError);
  });
});

describe('cashPayment', () => {
  it('computes the amount due in cash and the change', () => {
    expect(cashPayment(chf(1232), chf(2000), 5)).toEqual({ due: chf(1230), amount: chf(1230), change: chf(770), cashRounding: chf(-2), settled: true });
  });

  it('accepts the exact amount when the coin rounding goes up', () => {
    // due 1233 → 1235 in cash; handing over 1233 pays it exactly, without rounding
    expect(cashPayment(chf(1233), chf(1233), 5)).toEqual({ due: chf(1235), amount: chf(1233), change: chf(0), cashRounding: chf(0), settled: true });
  });

  it('takes less than due as a partial payment', () => {
    expect(cashPayment(chf(1232), chf(1000), 5)).toMatchObject({ amount: chf(1000), change: chf(0), settled: false });
  });

  it('refuses cash in another currency', () => {
    expect(() => cashPayment(chf(100), money(100, 'EUR'), 5)).toThrow(CurrencyMismatchError);
  });
});

describe('remainingDue', () => {
  it('is what the tenders leave, never below zero', () => {
    expect(remainingDue(chf(1232), [{ amount: 1000 }])).toEqual(chf(232));
    expect(remainingDue(chf(1232), [{ amount: 1300 }])).toEqual(chf(0));
  });
});

describe('settlePayout', () => {
  it('pays the rest in cash rounded to the coin', () => {
    expect(settlePayout(chf(1232), [{ tenderId: id(1), kind: 'cash' }], 5)).toEqual({
      tenders: [{ tenderId: id(1), kind: 'cash', amount: 1230, given: 1230 }],
      cashRounding: -2,
      change: 0,
    });
  });

  it('pays part to the card and the rest in cash', () => {
    const s = settlePayout(chf(1232), [card(1000), { tenderId: id(3), kind: 'cash' }], 5);
    expect(s.tenders.map((t) => t.amount)).toEqual([1000, 230]);
    expect(s.cashRounding).toBe(-2);
  });

  it('pays an exact cash amount without rounding', () => {
    expect(settlePayout(chf(1232), [{ tenderId: id(1), kind: 'cash', amount: 1232 }], 5)).toMatchObject({ cashRounding: 0 });
  });

  it('refuses paying back more, or less, than owed', () => {
    expect(() => settlePayout(chf(1000), [card(1001)], 5)).toThrow(OverTenderError);
    expect(() => settlePayout(chf(1000), [card(999)], 5)).toThrow(InsufficientTenderError);
  });
});

const arbTenders = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('cash' as const), given: fc.integer({ min: 0, max: 50_000 }) }),
    fc.record({ kind: fc.constant('card' as const), amount: fc.integer({ min: 0, max: 50_000 }) }),
  ),
  { minLength: 1, maxLength: 5 },
);

describe('tender properties', () => {
  it('settled means Σ amounts = due + cash rounding, rounding under half a coin, change never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), arbTenders, fc.boolean(), fc.constantFrom(null, 5, 10, 50), (due, raw, closeWithCash, increment) => {
        const tenders: TenderInput[] = raw.map((t, i) =>
          t.kind === 'cash' ? { tenderId: id(i), kind: 'cash', given: t.given } : { ...card(t.amount, i), tenderId: id(i) },
        );
        // a large note at the end settles most payments, so the property is not only about failures
        if (closeWithCash) tenders.push(cash(200_000, 99));
        let s;
        try {
          s = settleTenders(chf(due), tenders, increment);
        } catch (e) {
          expect(e instanceof InsufficientTenderError || e instanceof OverTenderError).toBe(true);
          return;
        }
        const paid = s.tenders.reduce((sum, t) => sum + t.amount, 0);
        expect(paid).toBe(due + s.cashRounding);
        expect(Math.abs(s.cashRounding) * 2).toBeLessThanOrEqual(increment ?? 0);
        expect(s.change).toBeGreaterThanOrEqual(0);
        for (const t of s.tenders) expect(t.kind === 'cash' ? t.given >= t.amount : t.amount >= 0).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
