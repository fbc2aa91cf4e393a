/**
 * Who may do what at the till. One literal matrix of roles × actions plus a store's limits, and one
 * function, {@link authorize}, that the register calls before acting and the server calls again
 * when the op arrives (with the roles and limits in force at the op's time, DESIGN.md §3).
 *
 * An action the actor's role lacks is still allowed when another staff member whose role has it
 * approves; the approver is recorded as `approvedBy` on the op.
 */
import { z } from 'zod';
import { InvalidArgumentError, KassaError } from './errors.js';
import { NonNegativeMinorUnitsSchema, PpmSchema } from './wire-primitives.js';

/** Every staff role, least to most trusted. */
export const ROLES = ['cashier', 'manager', 'owner'] as const;

/** A staff role. */
export type Role = (typeof ROLES)[number];

/** zod enum of {@link ROLES}, for op and staff schemas. */
export const RoleSchema = z.enum(ROLES);

/** Every action the permission matrix decides. */
export const ACTIONS = [
  'sell',
  'discount',
  'discount_above_limit',
  'price_override',
  'refund_with_receipt',
  'refund_without_receipt',
  'void',
  'no_sale',
  'cash_in_out',
  'stock_adjust',
  'stock_count',
  'stock_receive',
  'stock_transfer',
  'close_shift',
  'edit_products',
  'edit_customers',
] as const;

/** An action that needs permission. `discount` is a discount up to the store's limit; `void` voids a completed sale. */
export type Action = (typeof ACTIONS)[number];

/** zod enum of {@link ACTIONS}, for op schemas. */
export const ActionSchema = z.enum(ACTIONS);

/**
 * The permission matrix. `true` means the role may do the action on its own, subject to the
 * limits of {@link LIMITED_GRANTS}; `false` means it needs the approval of someone whose role may.
 *
 * Cashiers run the till (sell, small discounts, refunds against a receipt, count and receive
 * stock, close their own shift, sign customers up); whatever moves money or stock without a sale
 * behind it, or changes the catalog, is a manager's. Managers and owners may do everything; only
 * limits tell them apart.
 */
export const PERMISSIONS: Readonly<Record<Role, Readonly<Record<Action, boolean>>>> = Object.freeze({
  cashier: Object.freeze({
    sell: true,
    discount: true,
    discount_above_limit: false,
    price_override: false,
    refund_with_receipt: true,
    refund_without_receipt: false,
    void: false,
    no_sale: false,
    cash_in_out: false,
    stock_adjust: false,
    stock_count: true,
    stock_receive: true,
    stock_transfer: false,
    close_shift: true,
    edit_products: false,
    edit_customers: true,
  }),
  manager: Object.freeze({
    sell: true,
    discount: true,
    discount_above_limit: true,
    price_override: true,
    refund_with_receipt: true,
    refund_without_receipt: true,
    void: true,
    no_sale: true,
    cash_in_out: true,
    stock_adjust: true,
    stock_count: true,
    stock_receive: true,
    stock_transfer: true,
    close_shift: true,
    edit_products: true,
    edit_customers: true,
  }),
  owner: Object.freeze({
    sell: true,
    discount: true,
    discount_above_limit: true,
    price_override: true,
    refund_with_receipt: true,
    refund_without_receipt: true,
    void: true,
    no_sale: true,
    cash_in_out: true,
    stock_adjust: true,
    stock_count: true,
    stock_receive: true,
    stock_transfer: true,
    close_shift: true,
    edit_products: true,
    edit_customers: true,
  }),
});

/**
 * A store's limits, a store setting (a reference doc, merged per field like any other).
 *
 * - `cashierDiscountLimitPpm`: the largest discount that is plain `discount` (inclusive); anything
 *   above is `discount_above_limit`. 100 000 = 10 %.
 * - `managerDiscountLimitPpm`: the largest discount a manager may give or approve; above it only an
 *   owner may. Absent: managers are unbounded.
 * - `refundWithoutReceiptLimit`: the largest refund without a receipt, in the store currency's
 *   minor units, a manager may give or approve; above it only an owner may. Absent: unbounded.
 *
 * Owners are never bound by a limit, so every action can always be approved by someone.
 */
export const StoreLimitsSchema = z
  .strictObject({
    cashierDiscountLimitPpm: PpmSchema,
    managerDiscountLimitPpm: PpmSchema.optional(),
    refundWithoutReceiptLimit: NonNegativeMinorUnitsSchema.optional(),
  })
  .refine((l) => l.managerDiscountLimitPpm === undefined || l.managerDiscountLimitPpm >= l.cashierDiscountLimitPpm, {
    message: 'managerDiscountLimitPpm must not be below cashierDiscountLimitPpm',
    path: ['managerDiscountLimitPpm'],
  });

/** A store's permission limits; see {@link StoreLimitsSchema}. */
export type StoreLimits = z.infer<typeof StoreLimitsSchema>;

/** Limits of a new store: cashiers may discount up to 10 %; managers are unbounded until the owner sets limits. */
export const DEFAULT_STORE_LIMITS: StoreLimits = Object.freeze({ cashierDiscountLimitPpm: 100_000 });

/**
 * Which grants of the matrix are bounded, and by which field of {@link StoreLimits}. A grant not
 * listed here is unbounded.
 */
export const LIMITED_GRANTS: Readonly<
  Partial<Record<Role, Partial<Record<Action, 'managerDiscountLimitPpm' | 'refundWithoutReceiptLimit'>>>>
> = Object.freeze({
  manager: Object.freeze({
    discount_above_limit: 'managerDiscountLimitPpm',
    refund_without_receipt: 'refundWithoutReceiptLimit',
  }),
});

/** A staff member as the permission check sees them. */
export interface StaffMember {
  readonly staffId: string;
  readonly role: Role;
}

/** What {@link authorize} is asked. */
export interface AuthorizeRequest {
  /** Who does it. */
  readonly actor: StaffMember;
  /** What they do. `discount` above `cashierDiscountLimitPpm` is treated as `discount_above_limit`. */
  readonly action: Action;
  /** Who approves it, when the actor's role cannot do it alone. */
  readonly approver?: StaffMember | undefined;
  /** The refund's amount in the store currency's minor units; required for `refund_without_receipt`. */
  readonly amount?: number | undefined;
  /** The discount rate in ppm; required for `discount` and `discount_above_limit`. */
  readonly discountPpm?: number | undefined;
  /** The store's limits in force at the time of the action. */
  readonly limits: StoreLimits;
}

/**
 * Why an action was refused.
 *
 * - `not_permitted`: the actor's role lacks the action and nobody approved.
 * - `over_limit`: the actor's role has the action, but the amount or rate exceeds its limit.
 * - `self_approval`: the approver is the actor.
 * - `approver_not_permitted`: the approver's role lacks the action too.
 * - `approver_over_limit`: the approver's role has the action, but not for this amount or rate.
 */
export type DenialReason = 'not_permitted' | 'over_limit' | 'self_approval' | 'approver_not_permitted' | 'approver_over_limit';

/**
 * The answer of {@link authorize}. `action` is the action actually checked (a discount above the
 * limit becomes `discount_above_limit`); `approvedBy` is set only when the approval was needed.
 */
export type Authorization =
  | { readonly allowed: true; readonly action: Action; readonly approvedBy?: string }
  | { readonly allowed: false; readonly action: Action; readonly reason: DenialReason; readonly needsApproval: boolean };

/** An action was refused; thrown by {@link assertAuthorized}. */
export class PermissionDeniedError extends KassaError {
  readonly code = 'permission_denied';
  constructor(
    readonly action: Action,
    readonly role: Role,
    readonly reason: DenialReason,
    readonly needsApproval: boolean,
  ) {
    super(`${role} may not ${action}: ${reason}${needsApproval ? ' (approval needed)' : ''}`);
  }
}

/**
 * Whether the role has the action in the matrix, ignoring limits: for showing or hiding a button.
 *
 * @example
 * ```ts
 * roleHasPermission('cashier', 'no_sale') // false
 * ```
 */
export function roleHasPermission(role: Role, action: Action): boolean {
  return PERMISSIONS[role][action];
}

type GrantCheck = 'ok' | 'not_permitted' | 'over_limit';

function checkRole(role: Role, action: Action, request: AuthorizeRequest): GrantCheck {
  if (!PERMISSIONS[role][action]) return 'not_permitted';
  const limitField = LIMITED_GRANTS[role]?.[action];
  if (limitField === undefined) return 'ok';
  const limit = request.limits[limitField];
  if (limit === undefined) return 'ok';
  // The request's validation guarantees the measured value is present for limited actions.
  const value = limitField === 'managerDiscountLimitPpm' ? request.discountPpm : request.amount;
  return value !== undefined && value <= limit ? 'ok' : 'over_limit';
}

function effectiveAction(request: AuthorizeRequest): Action {
  const { action, discountPpm } = request;
  if (action === 'discount' || action === 'discount_above_limit') {
    if (discountPpm === undefined) throw new InvalidArgumentError('discountPpm', `required for ${action}`);
    if (!Number.isSafeInteger(discountPpm) || discountPpm < 0 || discountPpm > 1_000_000) {
      throw new InvalidArgumentError('discountPpm', `must be an integer 0–1 000 000, got ${String(discountPpm)}`);
    }
    // The limit, not the caller's label, decides which action a discount is.
    return discountPpm <= request.limits.cashierDiscountLimitPpm ? 'discount' : 'discount_above_limit';
  }
  if (action === 'refund_without_receipt' && request.amount === undefined) {
    throw new InvalidArgumentError('amount', 'required for refund_without_receipt');
  }
  if (request.amount !== undefined && (!Number.isSafeInteger(request.amount) || request.amount < 0)) {
    throw new InvalidArgumentError('amount', `must be a non-negative integer of minor units, got ${String(request.amount)}`);
  }
  return action;
}

/**
 * Decides whether `actor` may do `action`, alone or with `approver`'s approval. The register and
 * the server both call it; the server passes the roles and limits in force at the op's time.
 *
 * The approval counts only when it comes from another staff member whose own role may do the
 * action at this amount or rate.
 *
 * @throws InvalidArgumentError when a discount action lacks `discountPpm`, a refund without
 *   receipt lacks `amount`, or either is out of range.
 * @example
 * ```ts
 * authorize({ actor: { staffId: 'c1', role: 'cashier' }, action: 'void', limits: DEFAULT_STORE_LIMITS })
 * // { allowed: false, action: 'void', reason: 'not_permitted', needsApproval: true }
 * authorize({ actor: { staffId: 'c1', role: 'cashier' }, approver: { staffId: 'm1', role: 'manager' },
 *   action: 'void', limits: DEFAULT_STORE_LIMITS })
 * // { allowed: true, action: 'void', approvedBy: 'm1' }
 * ```
 */
export function authorize(request: AuthorizeRequest): Authorization {
  const action = effectiveAction(request);
  const own = checkRole(request.actor.role, action, request);
  if (own === 'ok') return { allowed: true, action };

  const needsApproval = ROLES.some((role) => checkRole(role, action, request) === 'ok');
  const { approver } = request;
  if (approver === undefined) return { allowed: false, action, reason: own, needsApproval };
  if (approver.staffId === request.actor.staffId) {
    return { allowed: false, action, reason: 'self_approval', needsApproval };
  }
  const approval = checkRole(approver.role, action, request);
  if (approval === 'ok') return { allowed: true, action, approvedBy: approver.staffId };
  const reason = approval === 'over_limit' ? 'approver_over_limit' : 'approver_not_permitted';
  return { allowed: false, action, reason, needsApproval };
}

/**
 * Like {@link authorize}, but throws when the action is refused.
 *
 * @throws PermissionDeniedError with the action checked, the actor's role and the reason.
 * @example
 * ```ts
 * const { approvedBy } = assertAuthorized({ actor, approver, action: 'no_sale', limits })
 * ```
 */
export function assertAuthorized(request: AuthorizeRequest): Extract<Authorization, { allowed: true }> {
  const result = authorize(request);
  if (!result.allowed) {
    throw new PermissionDeniedError(result.action, request.actor.role, result.reason, result.needsApproval);
  }
  return result;
}
