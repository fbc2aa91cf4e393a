/**
 * Closing the shift: the drawer count, the Z report computed by core from the shift's recorded
 * facts, its receipt in the chain, and the op, in one transaction.
 */
import {
  applyShiftEvents,
  decodeHlc,
  emptyShift,
  RefundCompletedPayloadSchema,
  SaleCompletedPayloadSchema,
  zReport,
  type OpOf,
  type OpPayload,
  type ShiftEvent,
} from '@kassa/core';
import { z } from 'zod';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { requireOpenShift, type OpenShift } from './local-state.js';
import type { CashCountInput } from './open-shift.js';
import { appendOp, buildOp, loadRegister, nextReceipt, opTime, stamp } from './op-writer.js';
import type { SqlDb } from '../store/sql-db.js';

/** What {@link closeShift} needs. */
export interface CloseShiftInput {
  readonly counted: CashCountInput;
  readonly staffId: string;
  readonly approvedBy?: string;
}

/** What a close returns: the op (its payload holds the Z report totals) and the receipt number. */
export interface CloseShiftResult {
  readonly op: OpOf<'shift.closed'>;
  readonly receiptNo: string;
}

const CountSchema = z.object({ denominations: z.array(z.object({ denomination: z.int(), count: z.int() })), total: z.int() });

/** The shift's facts as core's shift reducer takes them, read from the local tables. */
function shiftEvents(db: SqlDb, shift: OpenShift): ShiftEvent[] {
  const events: ShiftEvent[] = [];
  const opened = db.get<{ float_json: string }>('SELECT float_json FROM shifts WHERE id = ?', [shift.id]);
  events.push({ kind: 'opened', id: shift.openOpId, at: shift.openedAt, float: CountSchema.parse(JSON.parse(opened?.float_json ?? 'null')) });
  for (const r of db.all<{ op_id: string; at: number; payload_json: string }>('SELECT op_id, at, payload_json FROM orders WHERE shift_id = ?', [shift.id])) {
    events.push({ kind: 'sale', id: r.op_id, at: r.at, sale: SaleCompletedPayloadSchema.parse(JSON.parse(r.payload_json)) });
  }
  for (const r of db.all<{ op_id: string; at: number; order_id: string }>('SELECT op_id, at, order_id FROM voids WHERE shift_id = ?', [shift.id])) {
    events.push({ kind: 'void', id: r.op_id, at: r.at, orderId: r.order_id });
  }
  for (const r of db.all<{ op_id: string; at: number; payload_json: string }>('SELECT op_id, at, payload_json FROM refunds WHERE shift_id = ?', [shift.id])) {
    events.push({ kind: 'refund', id: r.op_id, at: r.at, refund: RefundCompletedPayloadSchema.parse(JSON.parse(r.payload_json)) });
  }
  for (const r of db.all<{ op_id: string; at: number; direction: 'in' | 'out'; amount: number; currency: string; reason: string }>(
    'SELECT op_id, at, direction, amount, currency, reason FROM cash_movements WHERE shift_id = ?',
    [shift.id],
  )) {
    events.push({ kind: 'cash_moved', id: r.op_id, at: r.at, direction: r.direction, amount: { amount: r.amount, currency: r.currency }, reason: r.reason });
  }
  return events;
}

/**
 * Closes the open shift with the drawer count. Core's shift reducer computes the Z report (what
 * the drawer should hold, the variance, totals per tender and tax rate); the Z report is a
 * receipt in the register's chain.
 *
 * @throws NoOpenShiftError; PermissionDeniedError.
 */
export function closeShift(ctx: CommandContext, input: CloseShiftInput): CloseShiftResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const shift = requireOpenShift(ctx.db);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'close_shift' });
    step(ctx, 'build');
    const link = nextReceipt(reg);
    const hlc = stamp(ctx, reg);
    const at = decodeHlc(hlc).wallMs;
    const events = shiftEvents(ctx.db, shift);
    events.push({ kind: 'closed', id: `${shift.id}:close`, at, counted: input.counted });
    const z = zReport(applyShiftEvents(emptyShift(shift.id, shift.currency), events).state);
    const tenderNet = (kind: string) => z.tenders.find((t) => t.kind === kind)?.net.amount;
    const totals: OpPayload<'shift.closed'>['totals'] = {
      saleCount: z.sales.count,
      salesTotal: z.sales.total.amount,
      refundCount: z.refunds.count,
      refundsTotal: z.refunds.total.amount,
      voidCount: z.voids.count,
      voidsTotal: z.voids.amount.amount,
      exchangeCount: z.exchanges.count,
      exchangesBalance: z.exchanges.balance.amount,
      discountTotal: z.discounts.amount,
      taxSummary: z.taxByRate.map((r) => ({ rateId: r.rateId, name: r.name, ratePpm: r.ratePpm ?? 0, net: r.net.amount, tax: r.tax.amount, gross: r.gross.amount })),
      tenders: z.tenders.map((t) => ({ kind: t.kind, amount: tenderNet(t.kind) ?? 0 })),
      cashIn: z.cashMovements.in.amount,
      cashOut: z.cashMovements.out.amount,
      noSaleCount: 0,
    };
    const op = buildOp(ctx, reg, {
      type: 'shift.closed',
      payload: {
        shiftId: shift.id,
        currency: shift.currency,
        counted: input.counted,
        expected: z.cash.expected.amount,
        variance: z.cash.variance?.amount ?? 0,
        receiptNo: link.receiptNo,
        prevHash: link.prevHash,
        totals,
      },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    step(ctx, 'state:shift');
    ctx.db.run("UPDATE shifts SET status = 'closed', closed_by = ?, closed_at = ?, close_json = ?, close_op_id = ? WHERE id = ?", [
      input.staffId,
      opTime(op),
      JSON.stringify(op.payload),
      op.id,
      shift.id,
    ]);
    appendOp(ctx, reg, op);
    return { op, receiptNo: link.receiptNo };
  });
}
