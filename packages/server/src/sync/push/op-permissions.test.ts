import { DEFAULT_STORE_LIMITS, OP_TYPES } from '@kassa/core';
import type { Role } from '@kassa/core';
import { SAMPLE_IDS, sampleOp } from '@kassa/core/test-fixtures/ops';
import { describe, expect, it } from 'vitest';
import { checkOpPermissions, discountPpm, permissionChecks } from './op-permissions.js';

const roles = (map: Record<string, Role>) => (id: string) => Promise.resolve(map[id]);
const cashierAndManager = roles({ [SAMPLE_IDS.staff]: 'cashier', [SAMPLE_IDS.manager]: 'manager' });

describe('permissionChecks', () => {
  it('maps every op type to the actions it needs', () => {
    const actions = Object.fromEntries(OP_TYPES.map((t) => [t, permissionChecks(sampleOp(t)).map((c) => c.action)]));
    expect(actions).toEqual({
      'sale.completed': ['sell'],
      'sale.voided': ['void'],
      'refund.completed': ['refund_with_receipt'],
      'exchange.completed': ['refund_with_receipt', 'sell'],
      'cash.moved': ['cash_in_out'],
      'shift.opened': [],
      'shift.closed': ['close_shift'],
      'drawer.opened': ['no_sale'],
      'stock.adjusted': ['stock_adjust'],
      'stock.received': ['stock_receive'],
      'stock.counted': ['stock_count'],
      'stock.transferred': ['stock_transfer'],
      'customer.upserted': ['edit_customers'],
      'product.edited': ['edit_products'],
      'reference.edited': ['edit_products'],
      'gift_card.issued': ['sell'],
      'gift_card.reloaded': ['sell'],
      'gift_card.redeemed': ['sell'],
      'store_credit.issued': ['sell'],
      'store_credit.redeemed': ['sell'],
      'loyalty.accrued': ['sell'],
      'loyalty.redeemed': ['sell'],
    });
  });

  it('a refund without receipt carries its total; store credit with no order behind it is one too', () => {
    const refund = sampleOp('refund.completed', { payload: { originalOrderId: undefined } });
    delete (refund.payload as { originalOrderId?: string }).originalOrderId;
    expect(permissionChecks(refund)).toEqual([{ action: 'refund_without_receipt', amount: 250, approvedBy: undefined, what: 'op' }]);
    const credit = sampleOp('store_credit.issued');
    delete (credit.payload as { orderId?: string }).orderId;
    expect(permissionChecks(credit)).toEqual([{ action: 'refund_without_receipt', amount: 250, approvedBy: undefined, what: 'op' }]);
  });

  it('asks for each discount and price override, with the approver recorded on it or on the op', () => {
    const sale = sampleOp('sale.completed', { approvedBy: SAMPLE_IDS.manager });
    const line = sale.payload.lines[0];
    if (line === undefined) throw new Error('no line');
    sale.payload.lines[0] = {
      ...line,
      discount: { kind: 'amount', amount: 50, approvedBy: SAMPLE_IDS.staff },
      lineDiscount: 50,
      priceOverride: { originalUnitPrice: 300, reason: 'Shelf label' },
    };
    sale.payload.orderDiscount = { kind: 'percent', ppm: 50_000 };
    expect(permissionChecks(sale)).toEqual([
      { action: 'sell', approvedBy: SAMPLE_IDS.manager, what: 'op' },
      { action: 'discount', discountPpm: 100_000, approvedBy: SAMPLE_IDS.staff, what: 'lines[0].discount' },
      { action: 'price_override', approvedBy: SAMPLE_IDS.manager, what: 'lines[0].priceOverride' },
      { action: 'discount', discountPpm: 50_000, approvedBy: SAMPLE_IDS.manager, what: 'orderDiscount' },
    ]);
  });

  it('measures an amount discount against what it was taken from', () => {
    expect(discountPpm({ kind: 'percent', ppm: 123_456 }, 0, 1000)).toBe(123_456);
    expect(discountPpm({ kind: 'amount', amount: 25 }, 25, 1000)).toBe(25_000);
    expect(discountPpm(undefined, 333, 1000)).toBe(333_000);
    expect(discountPpm(undefined, 0, 1000)).toBe(0);
    expect(discountPpm({ kind: 'amount', amount: 5 }, 5, 0)).toBe(1_000_000);
    expect(discountPpm({ kind: 'amount', amount: 5000 }, 5000, 1000)).toBe(1_000_000);
  });
});

describe('checkOpPermissions', () => {
  it('allows what the role may do, and what a permitted approver approved', async () => {
    expect(await checkOpPermissions(sampleOp('sale.completed'), DEFAULT_STORE_LIMITS, cashierAndManager)).toBeUndefined();
    expect(await checkOpPermissions(sampleOp('sale.voided', { approvedBy: SAMPLE_IDS.manager }), DEFAULT_STORE_LIMITS, cashierAndManager)).toBeUndefined();
    expect(await checkOpPermissions(sampleOp('shift.opened', { staffId: 'nobody' }), DEFAULT_STORE_LIMITS, cashierAndManager)).toBeUndefined();
  });

  it('names the first check that fails and why', async () => {
    expect(await checkOpPermissions(sampleOp('sale.voided'), DEFAULT_STORE_LIMITS, cashierAndManager)).toEqual({
      action: 'void',
      what: 'op',
      reason: 'not_permitted',
      staffId: SAMPLE_IDS.staff,
      role: 'cashier',
      approvedBy: null,
      approverRole: null,
      needsApproval: true,
    });
    const byCashier = roles({ [SAMPLE_IDS.staff]: 'cashier', [SAMPLE_IDS.manager]: 'cashier' });
    expect(await checkOpPermissions(sampleOp('sale.voided', { approvedBy: SAMPLE_IDS.manager }), DEFAULT_STORE_LIMITS, byCashier)).toMatchObject({
      reason: 'approver_not_permitted',
      approverRole: 'cashier',
    });
    expect(await checkOpPermissions(sampleOp('sale.completed'), DEFAULT_STORE_LIMITS, roles({}))).toMatchObject({ reason: 'unknown_staff', role: null });
  });

  it('honours the store limits: a refund without receipt above the manager limit needs an owner', async () => {
    const refund = sampleOp('refund.completed', { staffId: SAMPLE_IDS.manager });
    delete (refund.payload as { originalOrderId?: string }).originalOrderId;
    const limits = { ...DEFAULT_STORE_LIMITS, refundWithoutReceiptLimit: 100 };
    expect(await checkOpPermissions(refund, limits, cashierAndManager)).toMatchObject({ action: 'refund_without_receipt', reason: 'over_limit' });
    const withOwner = { ...refund, approvedBy: 'owner-1' };
    expect(await checkOpPermissions(withOwner, limits, roles({ [SAMPLE_IDS.manager]: 'manager', 'owner-1': 'owner' }))).toBeUndefined();
  });
});
