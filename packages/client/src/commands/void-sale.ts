/**
 * Voiding a completed sale as a whole: goods back, money back the way it came, the void's own
 * receipt and the op, in one transaction.
 */
import { opStockMovements, type OpOf, type Tender } from '@kassa/core';
import { OrderStatusError } from '../store/errors.js';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { applyStock, readSale, requireOpenShift } from './local-state.js';
import { appendOp, buildOp, loadRegister, nextReceipt, opTime, stamp } from './op-writer.js';

/** What {@link voidSale} needs. */
export interface VoidSaleInput {
  readonly orderId: string;
  readonly reason: string;
  readonly staffId: string;
  /** A manager's approval: cashiers may not void alone. */
  readonly approvedBy?: string;
}

/** What a void returns. */
export interface VoidSaleResult {
  readonly op: OpOf<'sale.voided'>;
  readonly receiptNo: string;
}

/**
 * Voids a completed sale that nothing was refunded from. Each tender is reversed under a new
 * tender id (cash goes back as counted, `given` = `amount`); every line goes back to stock.
 *
 * @throws OrderStatusError when the sale is voided or (partly) refunded already; NotFoundError;
 *   PermissionDeniedError (a cashier without approval); NoOpenShiftError.
 */
export function voidSale(ctx: CommandContext, input: VoidSaleInput): VoidSaleResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const shift = requireOpenShift(ctx.db);
    const { sale, status } = readSale(ctx.db, input.orderId);
    if (status !== 'completed') throw new OrderStatusError(input.orderId, status, 'void');
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'void' });
    step(ctx, 'build');
    const link = nextReceipt(reg);
    const tenders = sale.tenders.map((t): Tender => (t.kind === 'cash' ? { ...t, tenderId: ctx.ids.next(), given: t.amount } : { ...t, tenderId: ctx.ids.next() }));
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'sale.voided',
      payload: {
        orderId: sale.orderId,
        originalReceiptNo: sale.receiptNo,
        receiptNo: link.receiptNo,
        prevHash: link.prevHash,
        reason: input.reason,
        currency: sale.currency,
        total: sale.total,
        taxTotal: sale.taxTotal,
        taxSummary: sale.taxSummary,
        cashRounding: sale.cashRounding,
        tenders,
      },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    const at = opTime(op);
    step(ctx, 'state:void');
    ctx.db.run('INSERT INTO voids (op_id, order_id, receipt_no, shift_id, staff_id, at, payload_json) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      op.id,
      sale.orderId,
      link.receiptNo,
      shift.id,
      input.staffId,
      at,
      JSON.stringify(op.payload),
    ]);
    step(ctx, 'state:order');
    ctx.db.run("UPDATE orders SET status = 'voided', void_op_id = ? WHERE id = ?", [op.id, sale.orderId]);
    step(ctx, 'state:stock');
    applyStock(ctx.db, opStockMovements(op, sale), at);
    appendOp(ctx, reg, op);
    return { op, receiptNo: link.receiptNo };
  });
}
