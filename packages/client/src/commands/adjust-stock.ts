/** Stock adjusted by hand (damaged, lost, found…) and stock counts. */
import { opStockMovements, type OpOf, type OpPayload } from '@kassa/core';
import { getItem } from '../store/lookups.js';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { applyStock, onHandOf } from './local-state.js';
import { appendOp, buildOp, loadRegister, opTime, stamp } from './op-writer.js';

/** What {@link adjustStock} needs. */
export interface AdjustStockInput {
  readonly productId: string;
  readonly variantId?: string;
  /** Signed change in thousandths (−2000: two pieces damaged). */
  readonly qtyDelta: number;
  readonly reason: OpPayload<'stock.adjusted'>['reason'];
  /** Required when the reason is `other`. */
  readonly note?: string;
  readonly staffId: string;
  readonly approvedBy?: string;
}

/**
 * Adjusts one product's stock by a signed quantity, with a reason.
 *
 * @throws NotFoundError for an unknown product; PermissionDeniedError (cashiers need approval);
 *   InvalidOpError for a zero delta or `other` without a note.
 */
export function adjustStock(ctx: CommandContext, input: AdjustStockInput): { readonly op: OpOf<'stock.adjusted'>; readonly onHand: number } {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    getItem(ctx.db, input.productId, input.variantId);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'stock_adjust' });
    step(ctx, 'build');
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'stock.adjusted',
      payload: {
        movementId: ctx.ids.next(),
        productId: input.productId,
        ...(input.variantId === undefined ? {} : { variantId: input.variantId }),
        qtyDelta: input.qtyDelta,
        reason: input.reason,
        ...(input.note === undefined ? {} : { note: input.note }),
      },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    step(ctx, 'state:stock');
    applyStock(ctx.db, opStockMovements(op), opTime(op));
    appendOp(ctx, reg, op);
    return { op, onHand: onHandOf(ctx.db, input.productId, input.variantId) };
  });
}

/** One counted product. */
export interface CountLineInput {
  readonly productId: string;
  readonly variantId?: string;
  /** What is on the shelf, thousandths. */
  readonly counted: number;
}

/** What {@link countStock} needs. */
export interface CountStockInput {
  readonly lines: readonly CountLineInput[];
  readonly note?: string;
  readonly staffId: string;
  readonly approvedBy?: string;
}

/**
 * Records a stocktake of the listed products. Each line carries what the register believed was on
 * hand (`expected`), so the op records the difference and sales that reach the server later still
 * count (ADR 0021); locally the level becomes the counted figure.
 *
 * @throws NotFoundError for an unknown product; PermissionDeniedError; InvalidOpError (no lines).
 */
export function countStock(ctx: CommandContext, input: CountStockInput): { readonly op: OpOf<'stock.counted'> } {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    for (const l of input.lines) getItem(ctx.db, l.productId, l.variantId);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'stock_count' });
    step(ctx, 'build');
    const lines = input.lines.map((l) => ({
      productId: l.productId,
      ...(l.variantId === undefined ? {} : { variantId: l.variantId }),
      counted: l.counted,
      expected: onHandOf(ctx.db, l.productId, l.variantId),
    }));
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'stock.counted',
      payload: { countId: ctx.ids.next(), lines, ...(input.note === undefined ? {} : { note: input.note }) },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    step(ctx, 'state:stock');
    applyStock(ctx.db, opStockMovements(op), opTime(op));
    appendOp(ctx, reg, op);
    return { op };
  });
}
