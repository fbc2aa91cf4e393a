/**
 * Exchanges: goods come back (a refund part) and other goods go out (a sale part), recorded as one
 * fact and settled by the difference only: balance = sale.total − refund.total. Positive, the
 * customer pays it (tenders in, cash rounding and change as for a sale); negative, the shop pays
 * it back (tenders out, cash rounding as for a refund); zero, no money moves. `cashRounding` is
 * relative to the money that moves: Σ tenders = |balance| + cashRounding.
 */
import { saleRecord, type Cart } from './cart.js';
import { CurrencyMismatchError, KassaError } from './errors.js';
import { money } from './money.js';
import type { CompletedExchange } from './order-schema.js';
import { refundRecord, type RefundRecordInput } from './refund.js';
import { toSafeInteger } from './rounding.js';
import { settlePayout, settleTenders, type PayoutInput, type Settlement, type TenderInput } from './tender.js';

/** How the balance is settled: tenders in when the customer pays, out when the shop pays back. */
export type ExchangeTenders =
  | { readonly direction: 'customer_pays'; readonly tenders: readonly TenderInput[] }
  | { readonly direction: 'shop_pays'; readonly tenders: readonly PayoutInput[] }
  | { readonly direction: 'even' };

/** What {@link completeExchange} needs. */
export interface CompleteExchangeInput {
  readonly exchangeId: string;
  readonly receiptNo: string;
  /** The goods coming back. */
  readonly returned: RefundRecordInput;
  /** The goods going out, and the ids of the sale part and its lines. */
  readonly cart: Cart;
  readonly orderId: string;
  readonly lineIds: readonly string[];
  readonly settle: ExchangeTenders;
}

/** The tenders given settle the balance in the wrong direction (e.g. payout tenders when the customer owes). */
export class ExchangeDirectionError extends KassaError {
  readonly code = 'exchange_direction';
  constructor(
    readonly expected: ExchangeTenders['direction'],
    readonly given: ExchangeTenders['direction'],
    readonly balance: number,
  ) {
    super(`a balance of ${balance} is settled as ${expected}, not ${given}`);
  }
}

/** The sign of `balance` as a direction, so the register knows which tenders to ask for. */
export function exchangeDirection(balance: number): ExchangeTenders['direction'] {
  return balance > 0 ? 'customer_pays' : balance < 0 ? 'shop_pays' : 'even';
}

/**
 * Completes an exchange: the refund part (with or without receipt), the sale part from the cart,
 * and the balance settled through tenders in the direction the balance asks for.
 *
 * @throws CurrencyMismatchError when the two parts are in different currencies.
 * @throws ExchangeDirectionError when `settle.direction` does not match the balance's sign.
 * @throws everything {@link refundRecord}, {@link saleRecord} and the tender settlement throw.
 * @example
 * ```ts
 * // back: a shirt of €39.99; out: a shirt of €29.99 → the shop pays back €10.00
 * completeExchange({ exchangeId, receiptNo, returned, cart, orderId, lineIds,
 *   settle: { direction: 'shop_pays', tenders: [{ tenderId, kind: 'cash' }] } }).balance // -1000
 * ```
 */
export function completeExchange(input: CompleteExchangeInput): CompletedExchange {
  const refund = refundRecord(input.returned);
  const currency = input.cart.settings.currency;
  if (refund.currency !== currency) throw new CurrencyMismatchError(currency, refund.currency);
  const sale = saleRecord(input.cart, input.orderId, input.lineIds);
  const balance = toSafeInteger(BigInt(sale.total) - BigInt(refund.total));
  const direction = exchangeDirection(balance);
  if (input.settle.direction !== direction) {
    throw new ExchangeDirectionError(direction, input.settle.direction, balance);
  }
  const increment = input.cart.settings.cashRoundingIncrement;
  const paid: Settlement =
    input.settle.direction === 'customer_pays'
      ? settleTenders(money(balance, currency), input.settle.tenders, increment)
      : input.settle.direction === 'shop_pays'
        ? settlePayout(money(-balance, currency), input.settle.tenders, increment)
        : { tenders: [], cashRounding: 0, change: 0 };
  const { currency: _c, ...refundPart } = refund;
  return {
    exchangeId: input.exchangeId,
    receiptNo: input.receiptNo,
    currency,
    refund: refundPart,
    sale,
    balance,
    cashRounding: paid.cashRounding,
    tenders: paid.tenders,
    change: paid.change,
  };
}
