/**
 * Refunds: goods come back and money goes back, computed from what was paid for them, never from
 * today's price.
 *
 * A refund line takes its share of the original line's net and tax (which already hold the line's
 * and the order's discount) by cumulative rounding: refunding q of a line of quantity Q, after r
 * was refunded before, returns round(x·(r+q)/Q) − round(x·r/Q) of each amount x. The parts of a
 * line refunded in any number of steps therefore add up exactly to what was paid for it: not a
 * cent more, not a cent less. Because the amounts depend only on quantities, two registers that
 * refund the same part compute the same money.
 */
import type { CurrencyCode } from './currency.js';
import { CurrencyMismatchError, InvalidArgumentError, KassaError } from './errors.js';
import { money, multiplyByQty, type Money } from './money.js';
import type { CompletedRefund, CompletedSale, RefundLine, SaleLine, TaxRateSnapshot, TaxRounding } from './order-schema.js';
import type { Qty } from './quantity.js';
import { divRound, toSafeInteger } from './rounding.js';
import { computeTax } from './tax.js';
import { settlePayout, type PayoutInput } from './tender.js';

/** A refund seen by a later one: which sale it refunded and how much of each line. */
export interface PriorRefund {
  readonly originalOrderId?: string | undefined;
  readonly lines: readonly Pick<RefundLine, 'saleLineId' | 'qty'>[];
}

/** A line the customer brings back with the receipt. */
export interface RefundRequestLine {
  readonly saleLineId: string;
  readonly qty: Qty;
  /** False for goods that cannot be sold again (damaged). */
  readonly restock: boolean;
}

/** A line brought back without a receipt, at a price the caller gives. */
export interface UnreceiptedLine {
  /** An id for the refund line (there is no sale line to point at). */
  readonly lineId: string;
  readonly productId: string;
  readonly qty: Qty;
  /** In the store's price mode. */
  readonly unitPrice: Money;
  readonly taxes: readonly TaxRateSnapshot[];
  readonly restock: boolean;
}

/** How the goods come back: against the original sale, or without a receipt. */
export type ReturnedGoods =
  | {
      readonly kind: 'receipt';
      readonly sale: CompletedSale;
      /** Every refund of this sale recorded so far (refunds and exchanges' refund parts). */
      readonly priorRefunds: readonly PriorRefund[];
      readonly lines: readonly RefundRequestLine[];
    }
  | {
      readonly kind: 'no_receipt';
      readonly currency: CurrencyCode;
      readonly pricesIncludeTax: boolean;
      readonly taxRounding: TaxRounding;
      readonly lines: readonly UnreceiptedLine[];
    };

/** What {@link refundRecord} needs. */
export interface RefundRecordInput {
  readonly refundId: string;
  readonly reason: string;
  /** Defaults to the sale's customer. */
  readonly customerId?: string;
  readonly goods: ReturnedGoods;
}

/** What {@link completeRefund} needs: the record's input plus how the money goes back. */
export interface CompleteRefundInput extends RefundRecordInput {
  readonly receiptNo: string;
  readonly tenders: readonly PayoutInput[];
  /** The store's smallest coin for cash (minor units), or null. */
  readonly cashRoundingIncrement: number | null;
}

/** The recorded refund without receipt number and payment: what a refund and an exchange share. */
export type RefundRecord = Omit<CompletedRefund, 'receiptNo' | 'tenders' | 'cashRounding'>;

/** More of a line is refunded than is left of what was sold. */
export class RefundExceedsSaleError extends KassaError {
  readonly code = 'refund_exceeds_sale';
  constructor(
    readonly lineId: string,
    readonly sold: number,
    readonly refunded: number,
    readonly requested: number,
  ) {
    super(`line ${lineId}: ${requested} requested, ${sold} sold, ${refunded} already refunded`);
  }
}

/** A refund names a line the sale does not have. */
export class UnknownSaleLineError extends KassaError {
  readonly code = 'unknown_sale_line';
  constructor(
    readonly orderId: string,
    readonly lineId: string,
  ) {
    super(`sale ${orderId} has no line ${lineId}`);
  }
}

/** A prior refund given for a sale belongs to another sale. */
export class RefundOrderMismatchError extends KassaError {
  readonly code = 'refund_order_mismatch';
  constructor(
    readonly orderId: string,
    readonly refundOrderId: string | undefined,
  ) {
    super(`a refund of ${refundOrderId ?? 'no order'} is not a refund of sale ${orderId}`);
  }
}

function checkQty(qty: number): Qty {
  if (!Number.isSafeInteger(qty) || qty <= 0) throw new InvalidArgumentError('refund qty', 'must be a positive integer of thousandths');
  return qty as Qty;
}

/**
 * How much of each line of `sale` the refunds have taken back so far, by sale line id.
 *
 * @throws RefundOrderMismatchError when a refund belongs to another sale.
 */
export function refundedQty(sale: CompletedSale, refunds: readonly PriorRefund[]): Map<string, number> {
  const done = new Map<string, number>(sale.lines.map((l) => [l.lineId, 0]));
  for (const refund of refunds) {
    if (refund.originalOrderId !== sale.orderId) throw new RefundOrderMismatchError(sale.orderId, refund.originalOrderId);
    for (const line of refund.lines) done.set(line.saleLineId, (done.get(line.saleLineId) ?? 0) + line.qty);
  }
  return done;
}

/**
 * How much of each line can still be refunded, by sale line id (never below zero).
 *
 * @example
 * ```ts
 * refundableQty(sale, [firstRefund]).get(lineId) // 2000: two of three pieces are left
 * ```
 */
export function refundableQty(sale: CompletedSale, refunds: readonly PriorRefund[]): Map<string, Qty> {
  const done = refundedQty(sale, refunds);
  return new Map(sale.lines.map((l) => [l.lineId, Math.max(0, l.qty - (done.get(l.lineId) ?? 0)) as Qty]));
}

/**
 * Where a completed sale stands after its refunds: nothing, part or all of it refunded.
 *
 * @example
 * ```ts
 * refundState(sale, []) // 'completed'
 * ```
 */
export function refundState(sale: CompletedSale, refunds: readonly PriorRefund[]): 'completed' | 'partially_refunded' | 'fully_refunded' {
  const done = refundedQty(sale, refunds);
  const any = sale.lines.some((l) => (done.get(l.lineId) ?? 0) > 0);
  const all = sale.lines.every((l) => (done.get(l.lineId) ?? 0) >= l.qty);
  return all ? 'fully_refunded' : any ? 'partially_refunded' : 'completed';
}

/** The part of `x` that belongs to the units from `from` to `to` out of `of`, by cumulative rounding. */
function slice(x: number, from: number, to: number, of: number): number {
  const X = BigInt(x);
  const Q = BigInt(of);
  return toSafeInteger(divRound(X * BigInt(to), Q) - divRound(X * BigInt(from), Q));
}

/**
 * The refund line for `qty` of a sale line of which `alreadyRefunded` was refunded before: the
 * net, each tax and the total by cumulative rounding. Inclusive prices: total = net; exclusive:
 * total = net + Σ tax (each of those telescopes, so the sum does too).
 *
 * @throws RefundExceedsSaleError when `qty` is more than is left of the line.
 * @example
 * ```ts
 * // a line of 3 pieces with net 1000: refunding 1, then 1, then 1 returns 333, 334, 333
 * refundLineFor(line, 1000, 0, true, false).net // 333
 * ```
 */
export function refundLineFor(line: SaleLine, qty: Qty, alreadyRefunded: number, pricesIncludeTax: boolean, restock: boolean): RefundLine {
  checkQty(qty);
  if (alreadyRefunded + qty > line.qty) throw new RefundExceedsSaleError(line.lineId, line.qty, alreadyRefunded, qty);
  const to = alreadyRefunded + qty;
  const net = slice(line.net, alreadyRefunded, to, line.qty);
  const tax = line.tax.map((t) => ({ rateId: t.rateId, amount: slice(t.amount, alreadyRefunded, to, line.qty) }));
  const taxSum = tax.reduce((s, t) => s + t.amount, 0);
  return {
    saleLineId: line.lineId,
    productId: line.productId,
    qty,
    net,
    tax,
    total: pricesIncludeTax ? net : net + taxSum,
    restock,
  };
}

function receiptedLines(goods: Extract<ReturnedGoods, { kind: 'receipt' }>): RefundLine[] {
  const { sale } = goods;
  const done = refundedQty(sale, goods.priorRefunds);
  return goods.lines.map((req) => {
    const line = sale.lines.find((l) => l.lineId === req.saleLineId);
    if (!line) throw new UnknownSaleLineError(sale.orderId, req.saleLineId);
    const before = done.get(line.lineId) ?? 0;
    const out = refundLineFor(line, req.qty, before, sale.pricesIncludeTax, req.restock);
    // A line named twice in one refund is refunded in two steps.
    done.set(line.lineId, before + req.qty);
    return out;
  });
}

function unreceiptedLines(goods: Extract<ReturnedGoods, { kind: 'no_receipt' }>): RefundLine[] {
  const nets = goods.lines.map((l) => {
    checkQty(l.qty);
    if (l.unitPrice.currency !== goods.currency) throw new CurrencyMismatchError(goods.currency, l.unitPrice.currency);
    if (l.unitPrice.amount < 0) throw new InvalidArgumentError('unitPrice', 'must not be negative');
    return multiplyByQty(l.unitPrice, l.qty);
  });
  const taxed = computeTax(
    goods.lines.map((l, i) => ({ net: nets[i]?.amount ?? 0, taxes: l.taxes })),
    goods,
  );
  return goods.lines.map((l, i) => ({
    saleLineId: l.lineId,
    productId: l.productId,
    qty: l.qty,
    net: nets[i]?.amount ?? 0,
    tax: taxed.lines[i]?.tax ?? [],
    total: taxed.lines[i]?.total ?? 0,
    restock: l.restock,
  }));
}

/**
 * The lines and amounts of a refund, without its payment.
 *
 * @throws RefundExceedsSaleError, UnknownSaleLineError, RefundOrderMismatchError.
 * @example
 * ```ts
 * refundRecord({ refundId, reason: 'too small', goods: { kind: 'receipt', sale, priorRefunds: [],
 *   lines: [{ saleLineId, qty: units(1), restock: true }] } }).total
 * ```
 */
export function refundRecord(input: RefundRecordInput): RefundRecord {
  const { goods } = input;
  if (goods.lines.length === 0) throw new InvalidArgumentError('lines', 'a refund needs at least one line');
  const lines = goods.kind === 'receipt' ? receiptedLines(goods) : unreceiptedLines(goods);
  const customerId = input.customerId ?? (goods.kind === 'receipt' ? goods.sale.customerId : undefined);
  return {
    refundId: input.refundId,
    ...(goods.kind === 'receipt' ? { originalOrderId: goods.sale.orderId } : {}),
    currency: goods.kind === 'receipt' ? goods.sale.currency : goods.currency,
    lines,
    taxTotal: toSafeInteger(lines.reduce((s, l) => s + BigInt(l.tax.reduce((t, x) => t + x.amount, 0)), 0n)),
    total: toSafeInteger(lines.reduce((s, l) => s + BigInt(l.total), 0n)),
    reason: input.reason,
    ...(customerId === undefined ? {} : { customerId }),
  };
}

/**
 * Completes a refund: its lines and amounts, paid back through `tenders` (cash rounded to the
 * store's coin), as the `CompletedRefund` to record.
 *
 * @throws RefundExceedsSaleError, UnknownSaleLineError, InsufficientTenderError, OverTenderError.
 * @example
 * ```ts
 * completeRefund({ refundId, receiptNo: 'S01-R02-000124', reason: 'faulty', cashRoundingIncrement: null,
 *   goods: { kind: 'receipt', sale, priorRefunds, lines: [{ saleLineId, qty: units(1), restock: false }] },
 *   tenders: [{ tenderId, kind: 'cash' }] })
 * ```
 */
export function completeRefund(input: CompleteRefundInput): CompletedRefund {
  const record = refundRecord(input);
  const { refundId, ...rest } = record;
  const paid = settlePayout(money(record.total, record.currency), input.tenders, input.cashRoundingIncrement);
  return { refundId, receiptNo: input.receiptNo, ...rest, cashRounding: paid.cashRounding, tenders: paid.tenders };
}
