/**
 * Completing a sale at the till: the order, its stock movements, the receipt and the op, in one
 * transaction.
 */
import { completeSale as coreCompleteSale, discountRatePpm, opStockMovements, type Cart, type OpOf, type TenderInput } from '@kassa/core';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { applyStock, requireOpenShift } from './local-state.js';
import { appendOp, buildOp, loadRegister, nextReceipt, opTime, stamp } from './op-writer.js';

/** What {@link completeSale} needs. */
export interface CompleteSaleInput {
  /** The cart as built with core's cart functions (`createCart`, `addLine`, …). */
  readonly cart: Cart;
  /** How the customer pays; each with an id the caller made (the payment terminal's, or a new one). */
  readonly tenders: readonly TenderInput[];
  readonly staffId: string;
  /** A manager who approved something in the sale the cashier may not do alone. */
  readonly approvedBy?: string;
  readonly note?: string;
}

/** What a completed sale returns: the op as queued, and what to print and hand back. */
export interface CompleteSaleResult {
  readonly op: OpOf<'sale.completed'>;
  readonly orderId: string;
  readonly receiptNo: string;
  /** Cash to hand back (minor units). */
  readonly change: number;
}

/**
 * Completes the cart as a sale: core prices it and settles the tenders, then the order, the stock
 * it takes, the receipt (next number, chained) and the `sale.completed` op are written in ONE
 * transaction. Returns after COMMIT.
 *
 * @throws EmptyCartError, InsufficientTenderError, OverTenderError (core); NoOpenShiftError;
 *   PermissionDeniedError; RegisterNotPairedError; StorageFullError. Nothing is written then.
 * @example
 * ```ts
 * const { receiptNo, change } = completeSale(ctx, { cart, staffId, tenders: [{ tenderId, kind: 'cash', given: 2000 }] });
 * ```
 */
export function completeSale(ctx: CommandContext, input: CompleteSaleInput): CompleteSaleResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const shift = requireOpenShift(ctx.db);
    let approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'sell' });
    // The cart let a discount above the cashier's limit through because someone approved it; here
    // the register checks that the approver may give it (core's matrix and the store's limits).
    const discounts = [
      ...input.cart.lines.filter((l) => l.discount !== undefined).map((l) => ({ target: l.key as number | 'order', by: l.discountApprovedBy })),
      ...(input.cart.orderDiscount === undefined ? [] : [{ target: 'order' as const, by: input.cart.orderDiscountApprovedBy }]),
    ];
    for (const d of discounts) {
      const approval = authorizeStaff(ctx, {
        staffId: input.staffId,
        approvedBy: d.by ?? input.approvedBy,
        action: 'discount',
        discountPpm: discountRatePpm(input.cart, d.target),
      });
      approvedBy ??= approval;
    }
    step(ctx, 'build');
    const link = nextReceipt(reg);
    const orderId = ctx.ids.next();
    const sale = coreCompleteSale(input.cart, {
      orderId,
      receiptNo: link.receiptNo,
      lineIds: input.cart.lines.map(() => ctx.ids.next()),
      tenders: input.tenders,
      ...(input.note === undefined ? {} : { note: input.note }),
    });
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'sale.completed',
      payload: { ...sale, prevHash: link.prevHash },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    const at = opTime(op);
    step(ctx, 'state:order');
    ctx.db.run(
      `INSERT INTO orders (id, receipt_no, status, shift_id, staff_id, customer_id, currency, total, at, op_id, payload_json)
       VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?)`,
      [orderId, sale.receiptNo, shift.id, input.staffId, sale.customerId ?? null, sale.currency, sale.total, at, op.id, JSON.stringify(op.payload)],
    );
    step(ctx, 'state:stock');
    applyStock(ctx.db, opStockMovements(op), at);
    appendOp(ctx, reg, op);
    return { op, orderId, receiptNo: sale.receiptNo, change: sale.change };
  });
}
