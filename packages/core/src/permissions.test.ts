import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidArgumentError } from './errors.js';
import {
  ACTIONS,
  ActionSchema,
  assertAuthorized,
  authorize,
  PermissionDeniedError,
  PERMISSIONS,
  ROLES,
  roleHasPermission,
  RoleSchema,
  StoreLimitsSchema,
  type Action,
  type Role,
  type StaffMember,
  type StoreLimits,
} from './permissions.js';

// The matrix as the product owner reads it. Written out by hand on purpose: a change to the
// code's matrix must be a change to this table too.
const EXPECTED = `
  action                   cashier  manager  owner
  sell                     yes      yes      yes
  discount                 yes      yes      yes
  discount_above_limit     no       yes      yes
  price_override           no       yes      yes
  refund_with_receipt      yes      yes      yes
  refund_without_receipt   no       yes      yes
  void                     no       yes      yes
  no_sale                  no       yes      yes
  cash_in_out              no       yes      yes
  stock_adjust             no       yes      yes
  stock_count              yes      yes      yes
  stock_receive            yes      yes      yes
  stock_transfer           no       yes      yes
  close_shift              yes      yes      yes
  edit_products            no       yes      yes
  edit_customers           yes      yes      yes
`;

interface Cell {
  action: string;
  role: Role;
  allowed: boolean;
}

function cells(): Cell[] {
  const [header, ...rows] = EXPECTED.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const roles = (header ?? []).slice(1) as Role[];
  return rows.flatMap(([action = '', ...answers]) =>
    answers.map((answer, i) => ({ action, role: roles[i] as Role, allowed: answer === 'yes' })),
  );
}

const cashier: StaffMember = { staffId: 'c-1', role: 'cashier' };
const cashier2: StaffMember = { staffId: 'c-2', role: 'cashier' };
const manager: StaffMember = { staffId: 'm-1', role: 'manager' };
const manager2: StaffMember = { staffId: 'm-2', role: 'manager' };
const owner: StaffMember = { staffId: 'o-1', role: 'owner' };

// 10 % for cashiers, 30 % for managers, refunds without receipt up to 50.00 for managers.
const limits: StoreLimits = {
  cashierDiscountLimitPpm: 100_000,
  managerDiscountLimitPpm: 300_000,
  refundWithoutReceiptLimit: 5_000,
};

/** Inputs that keep every action within every limit that could apply to it. */
function within(action: string): { discountPpm?: number; amount?: number } {
  if (action === 'discount') return { discountPpm: 50_000 };
  if (action === 'discount_above_limit') return { discountPpm: 200_000 };
  if (action === 'refund_without_receipt') return { amount: 2_000 };
  return {};
}

const staffOf: Record<Role, StaffMember> = { cashier, manager, owner };

describe('the permission matrix', () => {
  it('names every role and action once, and the hand-written table covers exactly them', () => {
    const table = cells();
    expect(new Set(table.map((c) => c.action))).toEqual(new Set(ACTIONS));
    expect(table).toHaveLength(3 * 16);
    expect([...ROLES]).toEqual(['cashier', 'manager', 'owner']);
    expect(ACTIONS).toHaveLength(16);
  });

  it.each(cells())('$role / $action → $allowed', ({ action, role, allowed }) => {
    const act = ActionSchema.parse(action);
    expect(roleHasPermission(role, act)).toBe(allowed);
    const result = authorize({ actor: staffOf[role], action: act, limits, ...within(action) });
    expect(result.allowed).toBe(allowed);
    if (!result.allowed) expect(result).toMatchObject({ reason: 'not_permitted', needsApproval: true });
  });

  it('parses roles and actions with the zod enums and refuses others', () => {
    expect(RoleSchema.parse('manager')).toBe('manager');
    expect(RoleSchema.safeParse('admin').success).toBe(false);
    expect(ActionSchema.parse('no_sale')).toBe('no_sale');
    expect(ActionSchema.safeParse('refund').success).toBe(false);
  });

  it('is frozen, so nothing can grant a permission at run time', () => {
    expect(Object.isFrozen(PERMISSIONS)).toBe(true);
    for (const role of ROLES) expect(Object.isFrozen(PERMISSIONS[role])).toBe(true);
  });
});

describe('approval', () => {
  const refund = { action: 'refund_without_receipt', amount: 2_000, limits } as const;

  it('lets a cashier refund without receipt with a manager approving, recording the approver', () => {
    expect(authorize({ actor: cashier, approver: manager, ...refund })).toEqual({
      allowed: true,
      action: 'refund_without_receipt',
      approvedBy: 'm-1',
    });
  });

  it("refuses another cashier's approval", () => {
    expect(authorize({ actor: cashier, approver: cashier2, ...refund })).toEqual({
      allowed: false,
      action: 'refund_without_receipt',
      reason: 'approver_not_permitted',
      needsApproval: true,
    });
  });

  it('refuses self-approval, even by a manager over their own limit', () => {
    expect(authorize({ actor: cashier, approver: cashier, ...refund })).toMatchObject({
      allowed: false,
      reason: 'self_approval',
    });
    // 80.00 is over the managers' 50.00 limit: the manager needs someone else (an owner).
    const big = { ...refund, amount: 8_000 };
    expect(authorize({ actor: manager, approver: manager, ...big })).toMatchObject({ allowed: false, reason: 'self_approval' });
    expect(authorize({ actor: manager, approver: manager2, ...big })).toMatchObject({
      allowed: false,
      reason: 'approver_over_limit',
    });
    expect(authorize({ actor: manager, approver: owner, ...big })).toEqual({
      allowed: true,
      action: 'refund_without_receipt',
      approvedBy: 'o-1',
    });
  });

  it('asks for approval when nobody approved', () => {
    expect(authorize({ actor: cashier, ...refund })).toEqual({
      allowed: false,
      action: 'refund_without_receipt',
      reason: 'not_permitted',
      needsApproval: true,
    });
  });

  it('does not record an approver whose approval was not needed', () => {
    expect(authorize({ actor: cashier, approver: manager, action: 'sell', limits })).toEqual({ allowed: true, action: 'sell' });
  });

  it('lets a manager approve the actions a cashier lacks', () => {
    for (const action of ['price_override', 'void', 'no_sale', 'cash_in_out', 'stock_adjust', 'edit_products'] as const) {
      expect(authorize({ actor: cashier, approver: manager, action, limits })).toEqual({ allowed: true, action, approvedBy: 'm-1' });
    }
  });

  it('refunds without receipt by a manager: at the limit alone, above it only with an owner', () => {
    expect(authorize({ actor: manager, ...refund, amount: 5_000 })).toEqual({ allowed: true, action: 'refund_without_receipt' });
    expect(authorize({ actor: manager, ...refund, amount: 5_001 })).toMatchObject({
      allowed: false,
      reason: 'over_limit',
      needsApproval: true,
    });
    expect(authorize({ actor: owner, ...refund, amount: 1_000_000 })).toEqual({ allowed: true, action: 'refund_without_receipt' });
  });
});

describe('discounts', () => {
  it('lets a cashier discount within the limit, the limit itself included', () => {
    expect(authorize({ actor: cashier, action: 'discount', discountPpm: 0, limits })).toEqual({ allowed: true, action: 'discount' });
    expect(authorize({ actor: cashier, action: 'discount', discountPpm: 100_000, limits })).toEqual({ allowed: true, action: 'discount' });
  });

  it('treats a discount above the limit as discount_above_limit', () => {
    expect(authorize({ actor: cashier, action: 'discount', discountPpm: 100_001, limits })).toEqual({
      allowed: false,
      action: 'discount_above_limit',
      reason: 'not_permitted',
      needsApproval: true,
    });
    expect(authorize({ actor: cashier, approver: manager, action: 'discount', discountPpm: 250_000, limits })).toEqual({
      allowed: true,
      action: 'discount_above_limit',
      approvedBy: 'm-1',
    });
  });

  it('treats a discount labelled above the limit that is within it as a plain discount', () => {
    expect(authorize({ actor: cashier, action: 'discount_above_limit', discountPpm: 50_000, limits })).toEqual({
      allowed: true,
      action: 'discount',
    });
  });

  it("bounds managers by the manager limit, and owners by nothing", () => {
    expect(authorize({ actor: manager, action: 'discount', discountPpm: 300_000, limits })).toMatchObject({ allowed: true });
    expect(authorize({ actor: manager, action: 'discount', discountPpm: 300_001, limits })).toMatchObject({
      allowed: false,
      reason: 'over_limit',
    });
    expect(authorize({ actor: cashier, approver: manager, action: 'discount', discountPpm: 500_000, limits })).toMatchObject({
      allowed: false,
      reason: 'approver_over_limit',
    });
    expect(authorize({ actor: cashier, approver: owner, action: 'discount', discountPpm: 1_000_000, limits })).toEqual({
      allowed: true,
      action: 'discount_above_limit',
      approvedBy: 'o-1',
    });
  });

  it('leaves managers unbounded when the store sets no manager limits', () => {
    const open: StoreLimits = { cashierDiscountLimitPpm: 100_000 };
    expect(authorize({ actor: manager, action: 'discount', discountPpm: 1_000_000, limits: open })).toMatchObject({ allowed: true });
    expect(authorize({ actor: manager, action: 'refund_without_receipt', amount: 9_999_999, limits: open })).toMatchObject({
      allowed: true,
    });
  });

  it('needs the rate for a discount and the amount for a refund without receipt', () => {
    expect(() => authorize({ actor: owner, action: 'discount', limits })).toThrow(InvalidArgumentError);
    expect(() => authorize({ actor: owner, action: 'discount', discountPpm: 1_000_001, limits })).toThrow(InvalidArgumentError);
    expect(() => authorize({ actor: owner, action: 'discount', discountPpm: 0.5, limits })).toThrow(InvalidArgumentError);
    expect(() => authorize({ actor: owner, action: 'refund_without_receipt', limits })).toThrow(InvalidArgumentError);
    expect(() => authorize({ actor: owner, action: 'refund_without_receipt', amount: -1, limits })).toThrow(InvalidArgumentError);
  });
});

describe('assertAuthorized', () => {
  it('returns the approval when allowed', () => {
    expect(assertAuthorized({ actor: cashier, approver: owner, action: 'void', limits })).toEqual({
      allowed: true,
      action: 'void',
      approvedBy: 'o-1',
    });
  });

  it('throws PermissionDeniedError carrying action, role and reason', () => {
    let caught: unknown;
    try {
      assertAuthorized({ actor: cashier, approver: cashier2, action: 'no_sale', limits });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PermissionDeniedError);
    expect(caught).toMatchObject({
      code: 'permission_denied',
      action: 'no_sale',
      role: 'cashier',
      reason: 'approver_not_permitted',
      needsApproval: true,
    });
  });
});

describe('StoreLimitsSchema', () => {
  it('accepts sensible limits and refuses a manager limit below the cashier limit', () => {
    expect(StoreLimitsSchema.safeParse(limits).success).toBe(true);
    expect(StoreLimitsSchema.safeParse({ cashierDiscountLimitPpm: 100_000, managerDiscountLimitPpm: 50_000 }).success).toBe(false);
    expect(StoreLimitsSchema.safeParse({ cashierDiscountLimitPpm: 1_000_001 }).success).toBe(false);
    expect(StoreLimitsSchema.safeParse({ cashierDiscountLimitPpm: 0, extra: 1 }).success).toBe(false);
  });
});

describe('properties', () => {
  const role = fc.constantFrom(...ROLES);
  const action = fc.constantFrom(...ACTIONS);
  const staff = fc.record({ staffId: fc.constantFrom('a', 'b', 'c'), role });
  const request = fc.record({
    actor: staff,
    approver: fc.option(staff, { nil: undefined }),
    action,
    discountPpm: fc.integer({ min: 0, max: 1_000_000 }),
    amount: fc.integer({ min: 0, max: 1_000_000 }),
    limits: fc
      .record({
        cashierDiscountLimitPpm: fc.integer({ min: 0, max: 1_000_000 }),
        managerDiscountLimitPpm: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
        refundWithoutReceiptLimit: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
      })
      .map(({ managerDiscountLimitPpm, refundWithoutReceiptLimit, ...rest }) => ({
        ...rest,
        ...(managerDiscountLimitPpm === undefined ? {} : { managerDiscountLimitPpm: Math.max(managerDiscountLimitPpm, rest.cashierDiscountLimitPpm) }),
        ...(refundWithoutReceiptLimit === undefined ? {} : { refundWithoutReceiptLimit }),
      })),
  });

  it('owners may always act; a refusal always names a way out; approvedBy is never the actor', () => {
    fc.assert(
      fc.property(request, (req) => {
        const result = authorize(req);
        if (req.actor.role === 'owner') expect(result.allowed).toBe(true);
        if (result.allowed) {
          if (result.approvedBy !== undefined) {
            expect(result.approvedBy).not.toBe(req.actor.staffId);
            expect(req.approver?.staffId).toBe(result.approvedBy);
          }
        } else {
          expect(result.needsApproval).toBe(true);
          // An owner other than the actor can always approve what was refused.
          const withOwner = authorize({ ...req, approver: { staffId: 'owner-x', role: 'owner' } });
          expect(withOwner).toMatchObject({ allowed: true, approvedBy: 'owner-x' });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("a cashier's approval never changes the answer", () => {
    fc.assert(
      fc.property(request, (req) => {
        const alone = authorize({ ...req, approver: undefined });
        const withCashier = authorize({ ...req, approver: { staffId: 'cashier-x', role: 'cashier' } });
        expect(withCashier.allowed).toBe(alone.allowed);
      }),
      { numRuns: 1000 },
    );
  });

  it('roleHasPermission agrees with authorize when no limit applies', () => {
    fc.assert(
      fc.property(role, action, (r: Role, a: Action) => {
        const result = authorize({ actor: { staffId: 'x', role: r }, action: a, limits: { cashierDiscountLimitPpm: 1_000_000 }, discountPpm: 0, amount: 0 });
        const checked = result.action;
        expect(result.allowed).toBe(roleHasPermission(r, checked));
      }),
      { numRuns: 500 },
    );
  });
});
