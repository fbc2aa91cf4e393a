/**
 * Paying for a sale (tenders in) and paying money back (tenders out), split across cash, card,
 * gift card, store credit and other, with the cash part rounded to the store's smallest coin.
 *
 * Cash rounding applies only to the cash that settles what is still due: CHF 12.32 all in cash is
 * paid as 12.30 (`cashRounding` −2); card 10.00 then cash for the rest 2.32 → cash 2.30 (−2); all
 * by card → no rounding. A payment is settled when Σ tender amounts = due + cashRounding. Only cash
 * may be handed over beyond what is due; the excess is change.
 */
import { CurrencyMismatchError, InvalidArgumentError, KassaError } from './errors.js';
import { money, roundCash, type Money } from './money.js';
import type { Tender } from './order-schema.js';
import { assertInteger } from './rounding.js';

/** A cash tender as recorded. */
export type CashTender = Extract<Tender, { kind: 'cash' }>;

/** A tender that is not cash: its amount is exactly what it paid. */
export type NonCashTender = Exclude<Tender, { kind: 'cash' }>;

/** A tender the cashier enters to pay: cash states what was handed over, the rest their amount. */
export type TenderInput = NonCashTender | { readonly tenderId: string; readonly kind: 'cash'; readonly given: number };

/**
 * A tender the shop pays back with: cash without an amount pays the rest (rounded to the coin),
 * cash with an amount pays that much; the others pay their amount.
 */
export type PayoutInput = NonCashTender | { readonly tenderId: string; readonly kind: 'cash'; readonly amount?: number };

/** How a payment came out: the tenders as recorded, the cash rounding and the change. */
export interface Settlement {
  readonly tenders: Tender[];
  /** Signed: what the cash that settled the payment differs from what was due. */
  readonly cashRounding: number;
  /** Cash handed back (always 0 for a payout). */
  readonly change: number;
}

/** The cash paid for what is still due, if a customer hands over `given`. */
export interface CashPayment {
  /** What is due in cash: the remaining amount rounded to the smallest coin. */
  readonly due: Money;
  /** What the cash pays towards the sale (`due` when it settles, else all of `given`). */
  readonly amount: Money;
  /** Cash handed back. */
  readonly change: Money;
  /** Signed rounding applied, non-zero only when the cash settles the payment. */
  readonly cashRounding: Money;
  /** True when nothing is left to pay. */
  readonly settled: boolean;
}

/** The tenders do not cover what is due. */
export class InsufficientTenderError extends KassaError {
  readonly code = 'insufficient_tender';
  constructor(
    readonly due: Money,
    readonly given: Money,
  ) {
    super(`tenders of ${given.amount} do not cover ${due.amount} ${due.currency}`);
  }
}

/** A tender other than cash pays more than is still due (or anything once the payment is settled). */
export class OverTenderError extends KassaError {
  readonly code = 'over_tender';
  constructor(
    readonly tenderId: string,
    readonly kind: Tender['kind'],
    readonly due: Money,
    readonly amount: Money,
  ) {
    super(`${kind} tender ${tenderId} of ${amount.amount} exceeds the ${due.amount} ${due.currency} still due`);
  }
}


/**
 * What a customer pays in cash for `remaining` and what they get back, given `given`.
 *
 * Cash that covers the rounded amount settles the payment with the rounding; cash that covers the
 * exact amount but not the rounded-up one settles it exactly; less is a partial payment.
 *
 * @example
 * ```ts
 * cashPayment(money(1232, 'CHF'), money(2000, 'CHF'), 5)
 * // due 12.30, amount 12.30, change 7.70, cashRounding −0.02, settled
 * ```
 */
export function cashPayment(remaining: Money, given: Money, increment: number | null): CashPayment {
  const cur = remaining.currency;
  const due = roundCash(remaining, increment);
  if (given.currency !== cur) throw new CurrencyMismatchError(cur, given.currency);
  if (given.amount >= due.amount) {
    return {
      due,
      amount: due,
      change: money(given.amount - due.amount, cur),
      cashRounding: money(due.amount - remaining.amount, cur),
      settled: true,
    };
  }
  if (given.amount >= remaining.amount) {
    return { due, amount: remaining, change: money(given.amount - remaining.amount, cur), cashRounding: money(0, cur), settled: true };
  }
  return { due, amount: given, change: money(0, cur), cashRounding: money(0, cur), settled: false };
}

/**
 * The amount a customer still has to pay after the tenders so far (never below zero).
 *
 * @example
 * ```ts
 * remainingDue(money(1232, 'CHF'), [cardTenderOf1000]) // CHF 2.32
 * ```
 */
export function remainingDue(due: Money, tenders: readonly Pick<Tender, 'amount'>[]): Money {
  const paid = tenders.reduce((s, t) => s + t.amount, 0);
  return money(Math.max(0, due.amount - paid), due.currency);
}

/**
 * Applies the tenders in the order given to `due` and returns what is recorded: each tender's
 * amount, the cash rounding and the change.
 *
 * @throws OverTenderError when a non-cash tender pays more than is still due, or any tender comes
 *   after the payment is settled.
 * @throws InsufficientTenderError when the tenders do not settle the payment.
 * @example
 * ```ts
 * settleTenders(money(1232, 'CHF'), [
 *   { tenderId, kind: 'card', amount: 1000, brand: 'visa', last4: '4242', approvalCode: 'A1', providerRef: 'p1' },
 *   { tenderId: id2, kind: 'cash', given: 500 },
 * ], 5) // cash amount 230, cashRounding −2, change 270
 * ```
 */
export function settleTenders(due: Money, tenders: readonly TenderInput[], increment: number | null): Settlement {
  if (due.amount < 0) throw new InvalidArgumentError('due', 'must not be negative');
  const cur = due.currency;
  let remaining = due.amount;
  let settled = false;
  let cashRounding = 0;
  let change = 0;
  let given = 0;
  const out: Tender[] = [];
  for (const t of tenders) {
    if (settled) {
      throw new OverTenderError(t.tenderId, t.kind, money(0, cur), money(t.kind === 'cash' ? t.given : t.amount, cur));
    }
    if (t.kind === 'cash') {
      const pay = cashPayment(money(remaining, cur), money(nonNegativeAmount(t.given, 'given'), cur), increment);
      out.push({ tenderId: t.tenderId, kind: 'cash', amount: pay.amount.amount, given: t.given });
      given += t.given;
      remaining -= pay.amount.amount;
      if (pay.settled) {
        settled = true;
        cashRounding = pay.cashRounding.amount;
        change = pay.change.amount;
      }
    } else {
      nonNegativeAmount(t.amount, 'amount');
      if (t.amount > remaining) throw new OverTenderError(t.tenderId, t.kind, money(remaining, cur), money(t.amount, cur));
      out.push(t);
      given += t.amount;
      remaining -= t.amount;
      settled = remaining === 0;
    }
  }
  if (!settled) throw new InsufficientTenderError(due, money(given, cur));
  return { tenders: out, cashRounding, change };
}

/**
 * Pays `due` back to a customer (a refund, or an exchange in the customer's favour). Non-cash
 * tenders and cash with an amount pay exactly that; cash without an amount pays the rest rounded
 * to the smallest coin, which is the payout's cash rounding.
 *
 * @throws OverTenderError when a tender pays back more than is still owed.
 * @throws InsufficientTenderError when the tenders do not pay back everything owed.
 * @example
 * ```ts
 * settlePayout(money(1232, 'CHF'), [{ tenderId, kind: 'cash' }], 5)
 * // tenders [{ kind: 'cash', amount: 1230, given: 1230 }], cashRounding −2, change 0
 * ```
 */
export function settlePayout(due: Money, tenders: readonly PayoutInput[], increment: number | null): Settlement {
  if (due.amount < 0) throw new InvalidArgumentError('due', 'must not be negative');
  const cur = due.currency;
  let remaining = due.amount;
  let settled = false;
  let cashRounding = 0;
  let paid = 0;
  const out: Tender[] = [];
  for (const t of tenders) {
    const requested = t.amount === undefined ? undefined : nonNegativeAmount(t.amount, 'amount');
    if (settled) throw new OverTenderError(t.tenderId, t.kind, money(0, cur), money(requested ?? 0, cur));
    if (t.kind === 'cash' && requested === undefined) {
      const amount = roundCash(money(remaining, cur), increment).amount;
      out.push({ tenderId: t.tenderId, kind: 'cash', amount, given: amount });
      cashRounding = amount - remaining;
      paid += amount;
      remaining = 0;
      settled = true;
      continue;
    }
    const amount = requested ?? 0;
    if (amount > remaining) throw new OverTenderError(t.tenderId, t.kind, money(remaining, cur), money(amount, cur));
    out.push(t.kind === 'cash' ? { tenderId: t.tenderId, kind: 'cash', amount, given: amount } : t);
    paid += amount;
    remaining -= amount;
    settled = remaining === 0;
  }
  if (!settled) throw new InsufficientTenderError(due, money(paid, cur));
  return { tenders: out, cashRounding, change: 0 };
}

function nonNegativeAmount(value: number, what: string): number {
  assertInteger(value, `tender ${what}`);
  if (value < 0) throw new InvalidArgumentError(`tender ${what}`, 'must not be negative');
  return value;
}
