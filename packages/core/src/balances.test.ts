import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allBalances,
  applyBalanceEvents,
  balanceAlerts,
  emptyBalances,
  giftCardBalance,
  loyaltyPoints,
  storeCreditBalance,
  type BalanceEvent,
  type Balances,
} from './balances.js';
import { InvalidArgumentError } from './errors.js';
import { money } from './money.js';

const eur = (amount: number) => money(amount, 'EUR');
const apply = (events: BalanceEvent[], state: Balances = emptyBalances()): Balances => applyBalanceEvents(state, events).state;

describe('balances', () => {
  it('sums a gift card: issued + reloaded − redeemed', () => {
    const state = apply([
      { kind: 'gift_card_issued', id: 'e1', giftCardId: 'GC-1', amount: eur(5000) },
      { kind: 'gift_card_reloaded', id: 'e2', giftCardId: 'GC-1', amount: eur(2000) },
      { kind: 'gift_card_redeemed', id: 'e3', giftCardId: 'GC-1', amount: eur(1250) },
    ]);
    expect(giftCardBalance(state, 'GC-1', 'EUR')).toEqual(eur(5750)); // 50.00 + 20.00 − 12.50
    expect(giftCardBalance(state, 'GC-2', 'EUR')).toEqual(eur(0));
  });

  it('sums store credit per customer and currency, and loyalty points', () => {
    const state = apply([
      { kind: 'store_credit_issued', id: 'e1', customerId: 'c1', amount: eur(3000) },
      { kind: 'store_credit_redeemed', id: 'e2', customerId: 'c1', amount: eur(1000) },
      { kind: 'store_credit_issued', id: 'e3', customerId: 'c1', amount: money(500, 'CHF') },
      { kind: 'loyalty_accrued', id: 'e4', customerId: 'c1', points: 120 },
      { kind: 'loyalty_redeemed', id: 'e5', customerId: 'c1', points: 100 },
    ]);
    expect(storeCreditBalance(state, 'c1', 'EUR')).toEqual(eur(2000)); // 30.00 − 10.00
    expect(storeCreditBalance(state, 'c1', 'CHF')).toEqual(money(500, 'CHF'));
    expect(loyaltyPoints(state, 'c1')).toBe(20); // 120 − 100
    expect(allBalances(state)).toEqual([
      { account: 'loyalty', id: 'c1', unit: 'points', balance: 20 },
      { account: 'store_credit', id: 'c1', unit: 'CHF', balance: 500 },
      { account: 'store_credit', id: 'c1', unit: 'EUR', balance: 2000 },
    ]);
  });

  it('applies an event id once', () => {
    const e: BalanceEvent = { kind: 'loyalty_accrued', id: 'e1', customerId: 'c1', points: 10 };
    expect(loyaltyPoints(apply([e], apply([e, e])), 'c1')).toBe(10);
  });

  it('applies a redemption below zero and reports it', () => {
    // Two registers offline each took the last 20.00 of the card.
    const { state, alerts } = applyBalanceEvents(emptyBalances(), [
      { kind: 'gift_card_issued', id: 'e1', giftCardId: 'GC-1', amount: eur(2000) },
      { kind: 'gift_card_redeemed', id: 'e2', giftCardId: 'GC-1', amount: eur(2000) },
      { kind: 'gift_card_redeemed', id: 'e3', giftCardId: 'GC-1', amount: eur(2000) },
    ]);
    expect(giftCardBalance(state, 'GC-1', 'EUR')).toEqual(eur(-2000)); // 20 − 20 − 20
    expect(alerts).toEqual([
      { kind: 'negative_balance', key: 'negative_balance:gift_card:GC-1:EUR', account: 'gift_card', id: 'GC-1', unit: 'EUR', balance: -2000 },
    ]);
    // Reloading clears it.
    const after = applyBalanceEvents(state, [{ kind: 'gift_card_reloaded', id: 'e4', giftCardId: 'GC-1', amount: eur(2000) }]);
    expect(after.alerts).toEqual([]);
    expect(balanceAlerts(after.state)).toEqual([]);
  });

  it('refuses a negative amount (the kind gives the sign)', () => {
    expect(() => apply([{ kind: 'gift_card_issued', id: 'e1', giftCardId: 'GC-1', amount: eur(-1) }])).toThrow(InvalidArgumentError);
  });

  it('keeps one of two different events under one id whatever the order, and says so', () => {
    const a: BalanceEvent = { kind: 'loyalty_accrued', id: 'e1', customerId: 'c1', points: 10 };
    const b: BalanceEvent = { kind: 'loyalty_accrued', id: 'e1', customerId: 'c1', points: 30 };
    expect(loyaltyPoints(apply([a, b]), 'c1')).toBe(loyaltyPoints(apply([b, a]), 'c1'));
    expect(balanceAlerts(apply([a, b])).map((x) => x.key)).toEqual(['conflicting_fact:balance_event:e1']);
  });
});

// ---- properties ---------------------------------------------------------------------------------------

const amt = fc.integer({ min: 0, max: 10_000 });
const who = fc.constantFrom('a', 'b', 'c');
const cur = fc.constantFrom('EUR', 'CHF');

const eventArb = (id: string): fc.Arbitrary<BalanceEvent> =>
  fc.oneof(
    fc.tuple(who, amt, cur).map(([giftCardId, a, c]): BalanceEvent => ({ kind: 'gift_card_issued', id, giftCardId, amount: money(a, c) })),
    fc.tuple(who, amt, cur).map(([giftCardId, a, c]): BalanceEvent => ({ kind: 'gift_card_reloaded', id, giftCardId, amount: money(a, c) })),
    fc.tuple(who, amt, cur).map(([giftCardId, a, c]): BalanceEvent => ({ kind: 'gift_card_redeemed', id, giftCardId, amount: money(a, c) })),
    fc.tuple(who, amt, cur).map(([customerId, a, c]): BalanceEvent => ({ kind: 'store_credit_issued', id, customerId, amount: money(a, c) })),
    fc.tuple(who, amt, cur).map(([customerId, a, c]): BalanceEvent => ({ kind: 'store_credit_redeemed', id, customerId, amount: money(a, c) })),
    fc.tuple(who, amt).map(([customerId, points]): BalanceEvent => ({ kind: 'loyalty_accrued', id, customerId, points })),
    fc.tuple(who, amt).map(([customerId, points]): BalanceEvent => ({ kind: 'loyalty_redeemed', id, customerId, points })),
  );

/** Events plus, for some, a different event under the same id. */
const factsArb = fc
  .integer({ min: 0, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => eventArb(`e${i}`))))
  .chain((es) => fc.subarray(es).chain((twins) => fc.tuple(...twins.map((t) => eventArb(t.id))).map((ts) => [...es, ...ts])));

describe('balance properties', () => {
  it('any order, batching and repetition of the same events gives the same balances and alerts', () => {
    fc.assert(
      fc.property(
        factsArb.chain((facts) =>
          fc
            .tuple(fc.subarray(facts), fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 8 }))
            .chain(([dups, cuts]) => fc.shuffledSubarray([...facts, ...dups], { minLength: facts.length + dups.length }).map((all) => ({ facts, all, cuts }))),
        ),
        ({ facts, all, cuts }) => {
          const reference = apply(facts);
          let state = emptyBalances();
          let rest = all;
          for (const c of [...cuts, rest.length]) {
            state = apply(rest.slice(0, c), state);
            rest = rest.slice(c);
          }
          expect(allBalances(state)).toEqual(allBalances(reference));
          expect(balanceAlerts(state)).toEqual(balanceAlerts(reference));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('balances are integers, and every negative one has its alert', () => {
    fc.assert(
      fc.property(factsArb, (facts) => {
        const state = apply(facts);
        const all = allBalances(state);
        for (const b of all) expect(Number.isSafeInteger(b.balance)).toBe(true);
        const negatives = all.filter((b) => b.balance < 0).length;
        expect(balanceAlerts(state).filter((a) => a.kind === 'negative_balance')).toHaveLength(negatives);
      }),
      { numRuns: 500 },
    );
  });
});
