/**
 * Which permissions an op needs, and whether its author had them at the op's time (DESIGN §3/§4,
 * docs/adr/0008-permissions.md). The register checked before acting; the server checks again with
 * core's `authorize`, against the roles in force when the op was made, honouring approvals.
 *
 * An op may need several actions: a sale is `sell`, plus `discount` for each discount (which
 * `authorize` turns into `discount_above_limit` above the store's limit) and `price_override` for
 * each overridden price. Each check takes its approver from where the register recorded it: the
 * discount's or override's own `approvedBy`, else the op's.
 */
import { authorize } from '@kassa/core';
import type { Action, DenialReason, Discount, Op, Role, StoreLimits } from '@kassa/core';

/** One permission an op needs. */
export interface PermissionCheck {
  readonly action: Action;
  /** Who approved it, when someone did. */
  readonly approvedBy?: string | undefined;
  /** For `refund_without_receipt`: the refund's amount in minor units. */
  readonly amount?: number | undefined;
  /** For `discount`: the rate in ppm. */
  readonly discountPpm?: number | undefined;
  /** What in the op needs it, for the quarantine reason: `op`, `lines[2].discount`, … */
  readonly what: string;
}

const MAX_PPM = 1_000_000;

/**
 * The rate of a discount in ppm: as entered for a percentage; for an amount, its share of what it
 * was taken from (rounded to the nearest ppm, at most 100 %).
 */
export function discountPpm(discount: Discount | undefined, amountTaken: number, base: number): number {
  if (discount?.kind === 'percent') return discount.ppm;
  const amount = discount?.kind === 'amount' ? discount.amount : amountTaken;
  if (amount <= 0) return 0;
  if (base <= 0) return MAX_PPM;
  return Math.min(MAX_PPM, Math.round((amount * MAX_PPM) / base));
}

interface SaleLike {
  readonly lines: readonly {
    readonly gross: number;
    readonly lineDiscount: number;
    readonly orderDiscount: number;
    readonly discount?: Discount | undefined;
    readonly priceOverride?: { readonly approvedBy?: string | undefined } | undefined;
  }[];
  readonly orderDiscount?: Discount | undefined;
}

function saleChecks(sale: SaleLike, opApprover: string | undefined, prefix: string): PermissionCheck[] {
  const checks: PermissionCheck[] = [{ action: 'sell', approvedBy: opApprover, what: prefix || 'op' }];
  sale.lines.forEach((line, i) => {
    if (line.discount !== undefined || line.lineDiscount > 0) {
      checks.push({
        action: 'discount',
        discountPpm: discountPpm(line.discount, line.lineDiscount, line.gross),
        approvedBy: line.discount?.approvedBy ?? opApprover,
        what: `${prefix}lines[${i}].discount`,
      });
    }
    if (line.priceOverride !== undefined) {
      checks.push({ action: 'price_override', approvedBy: line.priceOverride.approvedBy ?? opApprover, what: `${prefix}lines[${i}].priceOverride` });
    }
  });
  const orderTaken = sale.lines.reduce((s, l) => s + l.orderDiscount, 0);
  if (sale.orderDiscount !== undefined || orderTaken > 0) {
    // An order discount is taken from what the lines cost after their own discounts.
    const base = sale.lines.reduce((s, l) => s + l.gross - l.lineDiscount, 0);
    checks.push({
      action: 'discount',
      discountPpm: discountPpm(sale.orderDiscount, orderTaken, base),
      approvedBy: sale.orderDiscount?.approvedBy ?? opApprover,
      what: `${prefix}orderDiscount`,
    });
  }
  return checks;
}

function refundCheck(originalOrderId: string | undefined, total: number, approvedBy: string | undefined, what: string): PermissionCheck {
  return originalOrderId === undefined
    ? { action: 'refund_without_receipt', amount: total, approvedBy, what }
    : { action: 'refund_with_receipt', approvedBy, what };
}

/**
 * The permission checks an op needs. Ops every signed-in staff member may make (opening a shift)
 * need none.
 *
 * | op | actions |
 * |---|---|
 * | `sale.completed` | `sell`; `discount` per line/order discount (above the limit → `discount_above_limit`); `price_override` per override |
 * | `exchange.completed` | the refund part as a refund, the sale part as a sale |
 * | `refund.completed` | `refund_with_receipt`, or `refund_without_receipt` with its total |
 * | `sale.voided` | `void` |
 * | `cash.moved` | `cash_in_out` · `drawer.opened` `no_sale` · `shift.closed` `close_shift` |
 * | `stock.adjusted` / `counted` / `received` / `transferred` | `stock_adjust` / `stock_count` / `stock_receive` / `stock_transfer` |
 * | `customer.upserted` | `edit_customers` · `product.edited`, `reference.edited` `edit_products` |
 * | gift card, loyalty, store credit redeemed | `sell` |
 * | `store_credit.issued` | `sell` with an order behind it; without one it is money given with no sale: `refund_without_receipt` |
 *
 * @example
 * ```ts
 * permissionChecks(sampleOp('sale.voided')) // [{ action: 'void', what: 'op' }]
 * ```
 */
export function permissionChecks(op: Op): PermissionCheck[] {
  const by = op.approvedBy;
  const one = (action: Action): PermissionCheck[] => [{ action, approvedBy: by, what: 'op' }];
  switch (op.type) {
    case 'sale.completed':
      return saleChecks(op.payload, by, '');
    case 'exchange.completed':
      return [
        refundCheck(op.payload.refund.originalOrderId, op.payload.refund.total, by, 'refund'),
        ...saleChecks(op.payload.sale, by, 'sale.'),
      ];
    case 'refund.completed':
      return [refundCheck(op.payload.originalOrderId, op.payload.total, by, 'op')];
    case 'sale.voided':
      return one('void');
    case 'cash.moved':
      return one('cash_in_out');
    case 'drawer.opened':
      return one('no_sale');
    case 'shift.opened':
      return [];
    case 'shift.closed':
      return one('close_shift');
    case 'stock.adjusted':
      return one('stock_adjust');
    case 'stock.counted':
      return one('stock_count');
    case 'stock.received':
      return one('stock_receive');
    case 'stock.transferred':
      return one('stock_transfer');
    case 'customer.upserted':
      return one('edit_customers');
    case 'product.edited':
    case 'reference.edited':
      return one('edit_products');
    case 'store_credit.issued':
      return op.payload.orderId === undefined
        ? [{ action: 'refund_without_receipt', amount: op.payload.amount, approvedBy: by, what: 'op' }]
        : one('sell');
    case 'gift_card.issued':
    case 'gift_card.reloaded':
    case 'gift_card.redeemed':
    case 'store_credit.redeemed':
    case 'loyalty.accrued':
    case 'loyalty.redeemed':
      return one('sell');
  }
}

/** Why an op was refused: the first check that failed. */
export interface PermissionDenial {
  readonly action: Action;
  readonly what: string;
  readonly reason: DenialReason | 'unknown_staff';
  readonly staffId: string;
  readonly role: Role | null;
  readonly approvedBy: string | null;
  readonly approverRole: Role | null;
  readonly needsApproval: boolean;
}

/** Looks up the role a staff member of the op's organisation held at the op's time (undefined: no such staff). */
export type RoleOf = (staffId: string) => Promise<Role | undefined>;

/**
 * Checks every permission the op needs against the roles `roleOf` gives (the roles at the op's
 * time) and the store's limits. Returns the first denial, or undefined when the op is allowed.
 * A staff member the organisation does not know is a denial (`unknown_staff`); an approver it does
 * not know counts as no approval.
 */
export async function checkOpPermissions(op: Op, limits: StoreLimits, roleOf: RoleOf): Promise<PermissionDenial | undefined> {
  const checks = permissionChecks(op);
  if (checks.length === 0) return undefined;
  const role = await roleOf(op.staffId);
  for (const check of checks) {
    const approverRole = check.approvedBy === undefined ? undefined : await roleOf(check.approvedBy);
    const base = {
      action: check.action,
      what: check.what,
      staffId: op.staffId,
      role: role ?? null,
      approvedBy: check.approvedBy ?? null,
      approverRole: approverRole ?? null,
    };
    if (role === undefined) return { ...base, reason: 'unknown_staff', needsApproval: false };
    const decision = authorize({
      actor: { staffId: op.staffId, role },
      action: check.action,
      approver: check.approvedBy === undefined || approverRole === undefined ? undefined : { staffId: check.approvedBy, role: approverRole },
      amount: check.amount,
      discountPpm: check.discountPpm,
      limits,
    });
    if (!decision.allowed) return { ...base, action: decision.action, reason: decision.reason, needsApproval: decision.needsApproval };
  }
  return undefined;
}
