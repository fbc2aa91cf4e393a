/**
 * Refunding goods, with the receipt (against a recorded sale) or without: the refund, the stock
 * that comes back, the sale's new status, the receipt and the op, in one transaction.
 */
import {
  completeRefund,
  opStockMovements,
  refundState,
  type OpOf,
  type PayoutInput,
  type RefundRequestLine,
  type UnreceiptedLine,
} from '@kassa/core';
import { OrderStatusError } from '../store/errors.js';
import { readSettings } from '../store/settings.js';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { applyStock, readRefundsOf, readSale, requireOpenShift } from './local-state.js';
import { appendOp, buildOp, loadRegister, nextReceipt, opTime, stamp } from './op-writer.js';

/** What the customer brings back. */
export type RefundGoods =
  | { readonly kind: 'receipt'; readonly orderId: string; readonly lines: readonly RefundRequestLine[] }
  | { readonly kind: 'no_receipt'; readonly lines: readonly UnreceiptedLine[] };

/** What {@link refund} needs. */
export interface RefundInput {
  readonly goods: RefundGoods;
  /** How the money goes back (cash without an amount pays the rest, rounded to the coin). */
  readonly tenders: readonly PayoutInput[];
  readonly reason: string;
  readonly staffId: string;
  readonly approvedBy?: string;
  readonly customerId?: string;
}

/** What a refund returns. */
export interface RefundResult {
  readonly op: OpOf<'refund.completed'>;
  readonly refundId: string;
  readonly receiptNo: string;
  /** What the customer gets back (minor units, including tax). */
  readonly total: number;
}

/**
 * Refunds goods. With a receipt, core takes each line's share of what was paid (never today's
 * price) and refuses more than is left of a line; the sale becomes partially or fully refunded.
 * Without a receipt, the prices given are used and the permission check weighs the amount.
 *
 * @throws RefundExceedsSaleError, UnknownSaleLineError, InsufficientTenderError (core);
 *   OrderStatusError for a voided sale; NotFoundError; PermissionDeniedError; NoOpenShiftError.
 */
export function refund(ctx: CommandContext, input: RefundInput): RefundResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const shift = requireOpenShift(ctx.db);
    const settings = readSettings(ctx.db);
    const { goods } = input;
    const recorded = goods.kind === 'receipt' ? readSale(ctx.db, goods.orderId) : undefined;
    if (recorded !== undefined && recorded.status === 'voided') throw new OrderStatusError(recorded.sale.orderId, recorded.status, 'refund');
    const prior = goods.kind === 'receipt' ? readRefundsOf(ctx.db, goods.orderId) : [];
    step(ctx, 'build');
    const link = nextReceipt(reg);
    const refundId = ctx.ids.next();
    const completed = completeRefund({
      refundId,
      receiptNo: link.receiptNo,
      reason: input.reason,
      ...(input.customerId === undefined ? {} : { customerId: input.customerId }),
      cashRoundingIncrement: settings.cashRoundingMinor,
      tenders: input.tenders,
      goods:
        recorded === undefined || goods.kind === 'no_receipt'
          ? {
              kind: 'no_receipt',
              currency: settings.currency,
              pricesIncludeTax: settings.taxMode === 'inclusive',
              taxRounding: settings.taxRounding,
              lines: goods.lines as readonly UnreceiptedLine[],
            }
          : { kind: 'receipt', sale: recorded.sale, priorRefunds: prior, lines: goods.lines },
    });
    const approvedBy = authorizeStaff(ctx, {
      staffId: input.staffId,
      approvedBy: input.approvedBy,
      action: recorded === undefined ? 'refund_without_receipt' : 'refund_with_receipt',
      amount: completed.total,
    });
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'refund.completed',
      payload: { ...completed, prevHash: link.prevHash },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    const at = opTime(op);
    step(ctx, 'state:refund');
    ctx.db.run(
      `INSERT INTO refunds (id, receipt_no, original_order_id, shift_id, staff_id, currency, total, at, op_id, payload_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [refundId, completed.receiptNo, recorded?.sale.orderId ?? null, shift.id, input.staffId, completed.currency, completed.total, at, op.id, JSON.stringify(op.payload)],
    );
    if (recorded !== undefined) {
      step(ctx, 'state:order');
      ctx.db.run('UPDATE orders SET status = ? WHERE id = ?', [refundState(recorded.sale, [...prior, completed]), recorded.sale.orderId]);
    }
    step(ctx, 'state:stock');
    applyStock(ctx.db, opStockMovements(op, recorded?.sale), at);
    appendOp(ctx, reg, op);
    return { op, refundId, receiptNo: completed.receiptNo, total: completed.total };
  });
}
