/** Opening a shift with the float counted into the drawer. */
import type { OpOf, OpPayload } from '@kassa/core';
import { ShiftAlreadyOpenError } from '../store/errors.js';
import { readSettings } from '../store/settings.js';
import { requireStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { findOpenShift } from './local-state.js';
import { appendOp, buildOp, loadRegister, opTime, stamp } from './op-writer.js';

/** A drawer count: by denomination (may be empty) and the counted total, minor units. */
export type CashCountInput = OpPayload<'shift.opened'>['float'];

/** What {@link openShift} needs. */
export interface OpenShiftInput {
  readonly float: CashCountInput;
  readonly staffId: string;
}

/**
 * Opens a shift in the store's currency. A register runs one shift at a time.
 *
 * @throws ShiftAlreadyOpenError; NotFoundError for an unknown staff member.
 */
export function openShift(ctx: CommandContext, input: OpenShiftInput): { readonly op: OpOf<'shift.opened'>; readonly shiftId: string } {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const open = findOpenShift(ctx.db);
    if (open !== undefined) throw new ShiftAlreadyOpenError(open.id);
    requireStaff(ctx, input.staffId);
    const { currency } = readSettings(ctx.db);
    step(ctx, 'build');
    const shiftId = ctx.ids.next();
    const hlc = stamp(ctx, reg);
    const op = buildOp(ctx, reg, { type: 'shift.opened', payload: { shiftId, currency, float: input.float }, hlc, staffId: input.staffId });
    step(ctx, 'state:shift');
    ctx.db.run(
      `INSERT INTO shifts (id, status, currency, opened_by, opened_at, float_json, open_op_id) VALUES (?, 'open', ?, ?, ?, ?, ?)`,
      [shiftId, currency, input.staffId, opTime(op), JSON.stringify(op.payload.float), op.id],
    );
    appendOp(ctx, reg, op);
    return { op, shiftId };
  });
}
