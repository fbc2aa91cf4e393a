import { describe, expect, it } from 'vitest';
import { addLine, completeSale, createCart, type Cart, type StoreSettings } from './cart.js';
import { CurrencyMismatchError } from './errors.js';
import { completeExchange, exchangeDirection, ExchangeDirectionError, type CompleteExchangeInput } from './exchange.js';
import { money } from './money.js';
import { CompletedExchangeSchema, type CompletedSale, type TaxRateSnapshot } from './order-schema.js';
import { units } from './quantity.js';
import { RefundExceedsSaleError } from './refund.js';

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CH: TaxRateSnapshot = { rateId: 'ch-std', name: 'MWST 8.1 %', ratePpm: 81_000 };
const CHF: StoreSettings = { currency: 'CHF', pricesIncludeTax: true, taxRounding: 'line', cashRoundingIncrement: 5, discountLimitPpm: null };

const cartWith = (settings: StoreSettings, price: number): Cart =>
  addLine(createCart(settings), { productId: id(2), sku: 'NEW', name: 'New shoes', unitPrice: money(price, settings.currency), taxes: [CH] }, units(1));

function shoeSale(): CompletedSale {
  const cart = addLine(createCart(CHF), { productId: id(1), sku: 'OLD', name: 'Shoes', unitPrice: money(8990, 'CHF'), taxes: [CH] }, units(1));
  return completeSale(cart, { orderId: id(100), receiptNo: 'S01-R01-000001', lineIds: [id(101)], tenders: [{ tenderId: id(102), kind: 'cash', given: 9000 }] });
}

const input = (sale: CompletedSale, cart: Cart, settle: CompleteExchangeInput['settle']): CompleteExchangeInput => ({
  exchangeId: id(300),
  receiptNo: 'S01-R01-000002',
  returned: { refundId: id(301), reason: 'wrong size', goods: { kind: 'receipt', sale, priorRefunds: [], lines: [{ saleLineId: id(101), qty: units(1), restock: true }] } },
  cart,
  orderId: id(302),
  lineIds: [id(303)],
  settle,
});

describe('completeExchange', () => {
  const sale = shoeSale();

  it('lets the customer pay the difference, cash rounded, with change', () => {
    // back 89.90, out 102.33: balance 1243 → cash 1245 (nearest 5), +2; given 2000 → change 755
    const ex = completeExchange(input(sale, cartWith(CHF, 10233), { direction: 'customer_pays', tenders: [{ tenderId: id(304), kind: 'cash', given: 2000 }] }));
    expect(CompletedExchangeSchema.parse(ex)).toEqual(ex);
    expect(ex).toMatchObject({ balance: 1243, cashRounding: 2, change: 755, tenders: [{ kind: 'cash', amount: 1245, given: 2000 }] });
    expect(ex.refund).toMatchObject({ refundId: id(301), originalOrderId: id(100), total: 8990 });
    expect(ex.sale).toMatchObject({ orderId: id(302), total: 10233 });
  });

  it('pays the customer back when the new goods cost less', () => {
    // back 89.90, out 59.92: balance −2998 → 29.98 owed, paid as 30.00 in cash (+2)
    const ex = completeExchange(input(sale, cartWith(CHF, 5992), { direction: 'shop_pays', tenders: [{ tenderId: id(304), kind: 'cash' }] }));
    CompletedExchangeSchema.parse(ex);
    expect(ex).toMatchObject({ balance: -2998, cashRounding: 2, change: 0, tenders: [{ kind: 'cash', amount: 3000 }] });
  });

  it('moves no money on an even exchange', () => {
    const ex = completeExchange(input(sale, cartWith(CHF, 8990), { direction: 'even' }));
    CompletedExchangeSchema.parse(ex);
    expect(ex).toMatchObject({ balance: 0, cashRounding: 0, change: 0, tenders: [] });
  });

  it('refuses tenders in the wrong direction, mixed currencies and returning more than was sold', () => {
    expect(() => completeExchange(input(sale, cartWith(CHF, 5992), { direction: 'customer_pays', tenders: [] }))).toThrow(ExchangeDirectionError);
    const eur: StoreSettings = { ...CHF, currency: 'EUR', cashRoundingIncrement: null };
    expect(() => completeExchange(input(sale, cartWith(eur, 5992), { direction: 'shop_pays', tenders: [] }))).toThrow(CurrencyMismatchError);
    const twice = input(sale, cartWith(CHF, 8990), { direction: 'even' });
    const goods = twice.returned.goods;
    if (goods.kind !== 'receipt') throw new Error('receipted goods expected');
    expect(() =>
      completeExchange({ ...twice, returned: { ...twice.returned, goods: { ...goods, priorRefunds: [{ originalOrderId: id(100), lines: [{ saleLineId: id(101), qty: units(1) }] }] } } }),
    ).toThrow(RefundExceedsSaleError);
  });

  it('names the direction of a balance', () => {
    expect([exchangeDirection(1), exchangeDirection(-1), exchangeDirection(0)]).toEqual(['customer_pays', 'shop_pays', 'even']);
  });
});
