import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addLine,
  attachCustomer,
  cartTotals,
  clearLineDiscount,
  clearOrderDiscount,
  completeSale,
  createCart,
  detachCustomer,
  discountRatePpm,
  DiscountExceedsLineError,
  DiscountExceedsOrderError,
  DiscountLimitExceededError,
  EmptyCartError,
  InvalidQuantityError,
  overridePrice,
  removeLine,
  setLineDiscount,
  setOrderDiscount,
  setQty,
  UnknownCartLineError,
  type Cart,
  type ProductSnapshot,
  type StoreSettings,
} from './cart.js';
import { CurrencyMismatchError, InvalidArgumentError } from './errors.js';
import { money } from './money.js';
import { CompletedSaleSchema, type TaxRateSnapshot } from './order-schema.js';
import { qtyMilli, units } from './quantity.js';
import { InsufficientTenderError } from './tender.js';

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const DE19: TaxRateSnapshot = { rateId: 'de-19', name: 'MwSt 19 %', ratePpm: 190_000 };
const DE7: TaxRateSnapshot = { rateId: 'de-7', name: 'MwSt 7 %', ratePpm: 70_000 };
const NY: TaxRateSnapshot = { rateId: 'ny', name: 'NY 8.875 %', ratePpm: 88_750 };

const EUR: StoreSettings = { currency: 'EUR', pricesIncludeTax: true, taxRounding: 'line', cashRoundingIncrement: null, discountLimitPpm: null };
const product = (n: number, price: number, taxes: TaxRateSnapshot[] = [DE19], currency = 'EUR'): ProductSnapshot => ({
  productId: id(n),
  sku: `SKU-${n}`,
  name: `Product ${n}`,
  unitPrice: money(price, currency),
  taxes,
});
const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('cart lines', () => {
  it('adds lines with keys in order and leaves the old cart as it was', () => {
    const empty = createCart(EUR);
    const one = addLine(empty, product(1, 1190), units(1));
    const two = addLine(one, product(1, 1190), units(2));
    expect(empty.lines).toEqual([]);
    expect(one.lines.map((l) => l.key)).toEqual([1]);
    expect(two.lines.map((l) => [l.key, l.qty])).toEqual([
      [1, 1000],
      [2, 2000],
    ]);
  });

  it('prices a line from unit price × qty, rounded once', () => {
    // 0.375 kg at 12.99 = 4.87125 → 4.87; 7 % inclusive: 487 × 7/107 = 31.86 → 32
    const t = cartTotals(addLine(createCart(EUR), product(1, 1299, [DE7]), qtyMilli(375)));
    expect(t.lines[0]).toEqual({ key: 1, gross: 487, lineDiscount: 0, orderDiscount: 0, net: 487, tax: [{ rateId: 'de-7', amount: 32 }], total: 487 });
  });

  it('sets the quantity and removes lines', () => {
    let cart = addLine(addLine(createCart(EUR), product(1, 500), units(1)), product(2, 300), units(1));
    cart = setQty(cart, 1, units(3));
    expect(cartTotals(cart).subtotal).toEqual(money(1800, 'EUR')); // 3 × 500 + 300
    cart = removeLine(cart, 2);
    expect(cartTotals(cart).total).toEqual(money(1500, 'EUR'));
  });

  it('refuses a negative or zero quantity, a fraction of a thousandth and an unknown line', () => {
    const cart = addLine(createCart(EUR), product(1, 500), units(1));
    expect(() => addLine(cart, product(2, 100), qtyMilli(-1000))).toThrow(InvalidQuantityError);
    expect(caught(() => setQty(cart, 1, qtyMilli(0)))).toMatchObject({ code: 'invalid_quantity', qty: 0 });
    expect(() => setQty(cart, 1, 1.5 as never)).toThrow(InvalidQuantityError);
    expect(caught(() => removeLine(cart, 9))).toMatchObject({ code: 'unknown_cart_line', key: 9 });
    expect(() => setQty(cart, 9, units(1))).toThrow(UnknownCartLineError);
  });

  it('refuses a price in another currency', () => {
    expect(caught(() => addLine(createCart(EUR), product(1, 500, [DE19], 'USD'), units(1)))).toBeInstanceOf(CurrencyMismatchError);
  });
});

describe('discounts', () => {
  const cart = addLine(addLine(createCart(EUR), product(1, 1000), units(2)), product(2, 500), units(1));

  it('takes a percentage or an amount off a line', () => {
    // 10 % of 2000 = 200; net 1800
    const pct = cartTotals(setLineDiscount(cart, 1, { kind: 'percent', ppm: 100_000 }));
    expect(pct.lines[0]).toMatchObject({ gross: 2000, lineDiscount: 200, net: 1800 });
    const amt = cartTotals(setLineDiscount(cart, 2, { kind: 'amount', amount: money(150, 'EUR'), reason: 'dented' }));
    expect(amt.lines[1]).toMatchObject({ gross: 500, lineDiscount: 150, net: 350 });
    expect(amt.discountTotal).toEqual(money(150, 'EUR'));
    expect(cartTotals(clearLineDiscount(setLineDiscount(cart, 1, { kind: 'percent', ppm: 100_000 }), 1)).discountTotal.amount).toBe(0);
  });

  it('refuses a line discount larger than the line, also after the quantity shrinks', () => {
    expect(caught(() => setLineDiscount(cart, 2, { kind: 'amount', amount: money(501, 'EUR') }))).toMatchObject({
      code: 'discount_exceeds_line',
      key: 2,
      gross: 500,
      discount: 501,
    });
    const discounted = setLineDiscount(cart, 1, { kind: 'amount', amount: money(1500, 'EUR') });
    expect(() => setQty(discounted, 1, units(1))).toThrow(DiscountExceedsLineError);
    expect(() => setLineDiscount(cart, 1, { kind: 'percent', ppm: 1_000_001 })).toThrow(InvalidArgumentError);
    expect(() => setLineDiscount(cart, 1, { kind: 'amount', amount: money(1, 'USD') })).toThrow(CurrencyMismatchError);
  });

  it('spreads an order discount over the lines by their amounts after line discounts', () => {
    // after line discount: 2000 − 200 = 1800 and 500; 10 % of 2300 = 230
    // shares: 230 × 1800/2300 = 180, 230 × 500/2300 = 50
    let c = setLineDiscount(cart, 1, { kind: 'percent', ppm: 100_000 });
    c = setOrderDiscount(c, { kind: 'percent', ppm: 100_000 });
    const t = cartTotals(c);
    expect(t.lines.map((l) => [l.orderDiscount, l.net])).toEqual([
      [180, 1620],
      [50, 450],
    ]);
    expect(t.discountTotal).toEqual(money(430, 'EUR')); // 200 + 230
    expect(t.total).toEqual(money(2070, 'EUR')); // 2500 − 430
    expect(cartTotals(clearOrderDiscount(c)).total).toEqual(money(2300, 'EUR'));
  });

  it('refuses an order discount larger than the order, also after a line is removed', () => {
    expect(caught(() => setOrderDiscount(cart, { kind: 'amount', amount: money(2501, 'EUR') }))).toMatchObject({
      code: 'discount_exceeds_order',
      base: 2500,
      discount: 2501,
    });
    const c = setOrderDiscount(cart, { kind: 'amount', amount: money(1000, 'EUR') });
    expect(() => removeLine(c, 1)).toThrow(DiscountExceedsOrderError);
  });

  it('gives the rate of a discount for the permission check, rounded up', () => {
    // 250 off 2000 = 12.5 % = 125 000 ppm
    expect(discountRatePpm(setLineDiscount(cart, 1, { kind: 'amount', amount: money(250, 'EUR') }), 1)).toBe(125_000);
    // 1 off 3 (a 0.03 line) = 333 333.33… ppm → 333 334
    const tiny = addLine(createCart(EUR), product(9, 3), units(1));
    expect(discountRatePpm(setLineDiscount(tiny, 1, { kind: 'amount', amount: money(1, 'EUR') }), 1)).toBe(333_334);
    // order: 10 % of 2500 = 250 → 100 000
    expect(discountRatePpm(setOrderDiscount(cart, { kind: 'percent', ppm: 100_000 }), 'order')).toBe(100_000);
    expect(discountRatePpm(cart, 'order')).toBe(0);
  });

  it('needs a manager above the store limit', () => {
    const limited = { ...cart, settings: { ...EUR, discountLimitPpm: 200_000 } } satisfies Cart;
    // 20 % of 2000 = 400 is at the limit; 401 is above
    expect(() => setLineDiscount(limited, 1, { kind: 'amount', amount: money(400, 'EUR') })).not.toThrow();
    expect(caught(() => setLineDiscount(limited, 1, { kind: 'amount', amount: money(401, 'EUR') }))).toMatchObject({
      code: 'discount_limit_exceeded',
      limitPpm: 200_000,
      base: 2000,
      discount: 401,
    });
    expect(() => setOrderDiscount(limited, { kind: 'percent', ppm: 250_000 })).toThrow(DiscountLimitExceededError);
    const approved = setOrderDiscount(limited, { kind: 'percent', ppm: 250_000 }, { approvedBy: id(77) });
    expect(approved.orderDiscountApprovedBy).toBe(id(77));
    expect(setLineDiscount(limited, 1, { kind: 'percent', ppm: 500_000 }, { approvedBy: id(77) }).lines[0]?.discountApprovedBy).toBe(id(77));
  });
});

describe('price override, customer and tax modes', () => {
  it('keeps the catalog price as the original through several overrides', () => {
    let cart = addLine(createCart(EUR), product(1, 1000), units(1));
    cart = overridePrice(cart, 1, money(800, 'EUR'), { reason: 'price match', approvedBy: id(7) });
    cart = overridePrice(cart, 1, money(700, 'EUR'), { reason: 'price match' });
    expect(cart.lines[0]).toMatchObject({ unitPrice: 700, priceOverride: { originalUnitPrice: 1000, reason: 'price match' } });
    expect(cartTotals(cart).total).toEqual(money(700, 'EUR'));
    expect(() => overridePrice(cart, 1, money(700, 'EUR'), { reason: '  ' })).toThrow(InvalidArgumentError);
  });

  it('attaches and detaches a customer', () => {
    const cart = attachCustomer(createCart(EUR), id(55));
    expect(cart.customerId).toBe(id(55));
    expect(detachCustomer(cart).customerId).toBeUndefined();
  });

  it('adds tax on top for a tax-exclusive store', () => {
    const us: StoreSettings = { ...EUR, currency: 'USD', pricesIncludeTax: false };
    // 2 × 10.00 = 20.00; 2000 × 0.08875 = 177.5 → 178
    const t = cartTotals(addLine(createCart(us), product(1, 1000, [NY], 'USD'), units(2)));
    expect([t.subtotal.amount, t.taxTotal.amount, t.total.amount]).toEqual([2000, 178, 2178]);
    expect(t.taxSummary).toEqual([{ rateId: 'ny', name: 'NY 8.875 %', ratePpm: 88_750, net: 2000, tax: 178, gross: 2178 }]);
  });
});

describe('completeSale', () => {
  const cart = attachCustomer(addLine(addLine(createCart(EUR), product(1, 1190), units(1)), product(2, 107, [DE7]), units(2)), id(60));

  it('records a sale that the wire schema accepts', () => {
    const sale = completeSale(cart, {
      orderId: id(100),
      receiptNo: 'S01-R01-000042',
      lineIds: [id(101), id(102)],
      tenders: [{ tenderId: id(103), kind: 'cash', given: 2000 }],
      note: 'gift wrap',
    });
    expect(CompletedSaleSchema.parse(sale)).toEqual(sale);
    // 1190 + 2 × 107 = 1404; tax 190 (1190 × 19/119) + 14 (214 × 7/107)
    expect(sale).toMatchObject({ subtotal: 1404, total: 1404, taxTotal: 204, change: 596, cashRounding: 0, customerId: id(60), note: 'gift wrap' });
    expect(sale.lines.map((l) => l.lineId)).toEqual([id(101), id(102)]);
  });

  it('refuses an empty cart, a wrong number of line ids and too little money', () => {
    const base = { orderId: id(1), receiptNo: 'S01-R01-000001', tenders: [{ tenderId: id(2), kind: 'cash' as const, given: 5000 }] };
    expect(() => completeSale(createCart(EUR), { ...base, lineIds: [] })).toThrow(EmptyCartError);
    expect(() => completeSale(cart, { ...base, lineIds: [id(3)] })).toThrow(InvalidArgumentError);
    expect(() => completeSale(cart, { ...base, lineIds: [id(3), id(3)] })).toThrow(InvalidArgumentError);
    expect(() => completeSale(cart, { ...base, lineIds: [id(3), id(4)], tenders: [{ tenderId: id(2), kind: 'cash', given: 100 }] })).toThrow(
      InsufficientTenderError,
    );
  });
});

const RATES = [DE19, DE7, NY, { rateId: 'zero', name: 'Zero', ratePpm: 0 }];
const arbDiscount = (max: number) =>
  fc.option(
    fc.oneof(
      fc.record({ kind: fc.constant('percent' as const), ppm: fc.integer({ min: 0, max: 1_000_000 }) }),
      fc.record({ kind: fc.constant('amount' as const), amount: fc.integer({ min: 0, max }).map((a) => money(a, 'EUR')) }),
    ),
    { nil: undefined },
  );
const arbLine = fc.record({
  price: fc.integer({ min: 0, max: 500_000 }),
  qty: fc.integer({ min: 1, max: 50_000 }),
  taxes: fc.subarray(RATES, { maxLength: 2 }),
  discount: arbDiscount(100_000),
});
const arbCart = fc.record({
  pricesIncludeTax: fc.boolean(),
  taxRounding: fc.constantFrom('line' as const, 'order' as const),
  lines: fc.array(arbLine, { minLength: 1, maxLength: 10 }),
  orderDiscount: arbDiscount(1_000_000),
});

function buildCart(spec: ValueOf<typeof arbCart>): Cart {
  let cart = createCart({ ...EUR, pricesIncludeTax: spec.pricesIncludeTax, taxRounding: spec.taxRounding });
  spec.lines.forEach((l, i) => {
    cart = addLine(cart, { ...product(i + 1, l.price, l.taxes) }, qtyMilli(l.qty));
    try {
      if (l.discount) cart = setLineDiscount(cart, i + 1, l.discount);
    } catch (e) {
      if (!(e instanceof DiscountExceedsLineError)) throw e;
    }
  });
  try {
    if (spec.orderDiscount) cart = setOrderDiscount(cart, spec.orderDiscount);
  } catch (e) {
    if (!(e instanceof DiscountExceedsOrderError)) throw e;
  }
  return cart;
}

describe('cart properties', () => {
  it('keeps every amount an integer and every total the sum of its lines, and records a valid sale', () => {
    fc.assert(
      fc.property(arbCart, (spec) => {
        const cart = buildCart(spec);
        const t = cartTotals(cart);
        const ints = [t.subtotal, t.discountTotal, t.taxTotal, t.total].map((m) => m.amount);
        for (const l of t.lines) ints.push(l.gross, l.lineDiscount, l.orderDiscount, l.net, l.total, ...l.tax.map((x) => x.amount));
        for (const n of ints) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
        for (const l of t.lines) expect(l.gross - l.lineDiscount - l.orderDiscount).toBe(l.net);
        expect(t.subtotal.amount - t.discountTotal.amount).toBe(t.lines.reduce((s, l) => s + l.net, 0));
        expect(t.total.amount).toBe(spec.pricesIncludeTax ? t.subtotal.amount - t.discountTotal.amount : t.subtotal.amount - t.discountTotal.amount + t.taxTotal.amount);
        const sale = completeSale(cart, {
          orderId: id(1),
          receiptNo: 'S01-R01-000001',
          lineIds: cart.lines.map((_, i) => id(1000 + i)),
          tenders: [{ tenderId: id(2), kind: 'cash', given: t.total.amount }],
        });
        CompletedSaleSchema.parse(sale);
      }),
      { numRuns: 500 },
    );
  });

  it('spreads an order discount in parts that sum to the whole, each within a cent of its exact share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (prices, ppm) => {
          const cart = setOrderDiscount(
            prices.reduce((c, p, i) => addLine(c, product(i + 1, p), units(1)), createCart(EUR)),
            { kind: 'percent', ppm },
          );
          const t = cartTotals(cart);
          const whole = t.discountTotal.amount;
          const base = prices.reduce((s, p) => s + p, 0);
          expect(t.lines.reduce((s, l) => s + l.orderDiscount, 0)).toBe(whole);
          t.lines.forEach((l, i) => {
            // |share − whole × price/base| < 1  ⇔  |share × base − whole × price| < base
            if (base === 0) return expect(l.orderDiscount).toBe(0);
            const err = BigInt(l.orderDiscount) * BigInt(base) - BigInt(whole) * BigInt(prices[i] ?? 0);
            expect((err < 0n ? -err : err) < BigInt(base)).toBe(true);
            expect(l.net).toBeGreaterThanOrEqual(0);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
