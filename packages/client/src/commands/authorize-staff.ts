/**
 * The permission check of a command: core's `authorize` over the staff rows the register holds and
 * the store's limits, so the register refuses at the till what the server would quarantine later.
 */
import { assertAuthorized, RoleSchema, type Action, type StaffMember } from '@kassa/core';
import { NotFoundError } from '../store/errors.js';
import { readSettings } from '../store/settings.js';
import type { CommandContext } from './context.js';

/** Reads an active staff member. @throws NotFoundError when there is none with the id. */
export function requireStaff(ctx: CommandContext, staffId: string): StaffMember {
  const row = ctx.db.get<{ id: string; role: string }>('SELECT id, role FROM staff WHERE id = ? AND active = 1', [staffId]);
  if (row === undefined) throw new NotFoundError('staff', staffId);
  return { staffId: row.id, role: RoleSchema.parse(row.role) };
}

/** What the command asks permission for. */
export interface PermissionRequest {
  readonly staffId: string;
  readonly approvedBy?: string | undefined;
  readonly action: Action;
  readonly amount?: number;
  readonly discountPpm?: number;
}

/**
 * Checks the permission and returns the `approvedBy` the op must carry (set only when the approval
 * was needed).
 *
 * @throws PermissionDeniedError (core) when refused; NotFoundError for an unknown staff id.
 */
export function authorizeStaff(ctx: CommandContext, req: PermissionRequest): string | undefined {
  const actor = requireStaff(ctx, req.staffId);
  const approver = req.approvedBy === undefined ? undefined : requireStaff(ctx, req.approvedBy);
  const result = assertAuthorized({
    actor,
    approver,
    action: req.action,
    limits: readSettings(ctx.db).limits,
    ...(req.amount === undefined ? {} : { amount: req.amount }),
    ...(req.discountPpm === undefined ? {} : { discountPpm: req.discountPpm }),
  });
  return result.approvedBy;
}
