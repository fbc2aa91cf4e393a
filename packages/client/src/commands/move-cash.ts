/** Cash put into or taken out of the drawer outside a sale (float top-up, safe drop, paid-out). */
import type { OpOf } from '@kassa/core';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { requireOpenShift } from './local-state.js';
import { appendOp, buildOp, loadRegister, opTime, stamp } from './op-writer.js';

/** What {@link moveCash} needs. */
export interface MoveCashInput {
  readonly direction: 'in' | 'out';
  /** Minor units, > 0. */
  readonly amount: number;
  readonly reason: string;
  readonly staffId: string;
  readonly approvedBy?: string;
}

/**
 * Records a cash movement in the open shift (in the shift's currency).
 *
 * @throws NoOpenShiftError; PermissionDeniedError (cashiers need approval); InvalidOpError for a
 *   non-positive amount or empty reason.
 */
export function moveCash(ctx: CommandContext, input: MoveCashInput): { readonly op: OpOf<'cash.moved'> } {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const shift = requireOpenShift(ctx.db);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'cash_in_out' });
    step(ctx, 'build');
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, {
      type: 'cash.moved',
      payload: { shiftId: shift.id, direction: input.direction, currency: shift.currency, amount: input.amount, reason: input.reason },
      hlc,
      staffId: input.staffId,
      approvedBy,
    });
    step(ctx, 'state:cash');
    ctx.db.run('INSERT INTO cash_movements (op_id, shift_id, direction, amount, currency, reason, staff_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      op.id,
      shift.id,
      input.direction,
      input.amount,
      shift.currency,
      op.payload.reason,
      input.staffId,
      opTime(op),
    ]);
    appendOp(ctx, reg, op);
    return { op };
  });
}
