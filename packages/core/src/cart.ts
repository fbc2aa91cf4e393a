/**
 * The cart: an immutable value the register builds a sale in. Every function returns a new cart
 * (or throws a named error and leaves the old one as it was), and {@link cartTotals} derives every
 * amount from the lines, so there is no stored total to drift.
 *
 * How a line's amounts are derived, in the store's price mode (tax-inclusive or not):
 * gross = unitPrice × qty (rounded once) → line discount → order discount share (largest
 * remainder over the lines' amounts after line discounts) → net → tax (see `tax.ts`) → total.
 *
 * Cart lines are addressed by a cart-local `key` (1, 2, 3, … in the order they were added). The
 * ids of the recorded sale and its lines are passed in by the caller at completion, never made here.
 */
import type { CurrencyCode } from './currency.js';
import { CurrencyMismatchError, InvalidArgumentError, KassaError } from './errors.js';
import { allocate, money, multiplyByQty, type Money } from './money.js';
import type { CompletedSale, Discount, SaleLine, TaxRateSnapshot, TaxRounding, TaxSummaryRow } from './order-schema.js';
import type { Qty } from './quantity.js';
import { assertInteger, divRound, toSafeInteger } from './rounding.js';
import { computeTax, type TaxAmount } from './tax.js';
import { settleTenders, type TenderInput } from './tender.js';

/** The store settings a cart prices by. */
export interface StoreSettings {
  readonly currency: CurrencyCode;
  /** True when shelf prices include tax (EU VAT); false when tax is added at the till (US). */
  readonly pricesIncludeTax: boolean;
  readonly taxRounding: TaxRounding;
  /** Smallest coin in minor units for cash (5 for CHF/CAD 0.05); null when cash is not rounded. */
  readonly cashRoundingIncrement: number | null;
  /**
   * Largest discount (line or order, as a share of what it applies to, in ppm) a cashier may give
   * without a manager's `approvedBy`; null for no limit.
   */
  readonly discountLimitPpm: number | null;
}

/** A product as the cart takes it from the catalog at the moment it is added. */
export interface ProductSnapshot {
  readonly productId: string;
  readonly variantId?: string;
  readonly sku: string;
  readonly name: string;
  /** In the store's price mode. */
  readonly unitPrice: Money;
  readonly taxes: readonly TaxRateSnapshot[];
}

/** A discount as the cashier enters it: a percentage in ppm, or an amount of money. */
export type DiscountInput =
  | { readonly kind: 'percent'; readonly ppm: number; readonly reason?: string }
  | { readonly kind: 'amount'; readonly amount: Money; readonly reason?: string };

/** Who approved something beyond a cashier's limit. */
export interface Approval {
  /** Staff id of the manager who approved. */
  readonly approvedBy?: string;
}

/** A line in a cart. */
export interface CartLine {
  /** Cart-local address of the line. */
  readonly key: number;
  readonly productId: string;
  readonly variantId?: string;
  readonly sku: string;
  readonly name: string;
  /** Minor units, in the price mode; the overriding price when there is a price override. */
  readonly unitPrice: number;
  readonly qty: Qty;
  readonly taxes: readonly TaxRateSnapshot[];
  readonly discount?: Discount;
  /** Manager who approved a discount above the limit. */
  readonly discountApprovedBy?: string;
  readonly priceOverride?: NonNullable<SaleLine['priceOverride']>;
}

/** A cart: the lines, an order discount and the customer, for one store's settings. */
export interface Cart {
  readonly settings: StoreSettings;
  readonly lines: readonly CartLine[];
  readonly orderDiscount?: Discount;
  /** Manager who approved an order discount above the limit. */
  readonly orderDiscountApprovedBy?: string;
  readonly customerId?: string;
  /** The key the next added line gets. */
  readonly nextKey: number;
}

/** The derived amounts of one line, in minor units (the fields a recorded sale line carries). */
export interface CartLineTotals {
  readonly key: number;
  readonly gross: number;
  readonly lineDiscount: number;
  readonly orderDiscount: number;
  readonly net: number;
  readonly tax: TaxAmount[];
  readonly total: number;
}

/** Everything a cart adds up to. */
export interface CartTotals {
  readonly lines: CartLineTotals[];
  /** Σ line gross. */
  readonly subtotal: Money;
  /** Σ line and order discounts. */
  readonly discountTotal: Money;
  readonly taxTotal: Money;
  /** What is owed including tax, before cash rounding. */
  readonly total: Money;
  readonly taxSummary: TaxSummaryRow[];
}

/** What {@link completeSale} needs besides the cart. */
export interface CompleteSaleInput {
  readonly orderId: string;
  readonly receiptNo: string;
  /** One id per cart line, in the cart's line order. */
  readonly lineIds: readonly string[];
  readonly tenders: readonly TenderInput[];
  readonly note?: string;
}

/** A quantity that is not a positive integer count of thousandths. */
export class InvalidQuantityError extends KassaError {
  readonly code = 'invalid_quantity';
  constructor(readonly qty: number) {
    super(`quantity must be a positive integer count of thousandths, got ${String(qty)}`);
  }
}

/** No line with this key in the cart. */
export class UnknownCartLineError extends KassaError {
  readonly code = 'unknown_cart_line';
  constructor(readonly key: number) {
    super(`no cart line ${key}`);
  }
}

/** A line discount larger than the line's gross. */
export class DiscountExceedsLineError extends KassaError {
  readonly code = 'discount_exceeds_line';
  constructor(
    readonly key: number,
    readonly gross: number,
    readonly discount: number,
  ) {
    super(`discount ${discount} exceeds line ${key} of ${gross}`);
  }
}

/** An order discount larger than what the lines come to after their own discounts. */
export class DiscountExceedsOrderError extends KassaError {
  readonly code = 'discount_exceeds_order';
  constructor(
    readonly base: number,
    readonly discount: number,
  ) {
    super(`order discount ${discount} exceeds the order's ${base}`);
  }
}

/** A discount beyond the store's limit without a manager's approval. */
export class DiscountLimitExceededError extends KassaError {
  readonly code = 'discount_limit_exceeded';
  constructor(
    readonly limitPpm: number,
    readonly base: number,
    readonly discount: number,
  ) {
    super(`a discount of ${discount} on ${base} is above the limit of ${limitPpm} ppm without approval`);
  }
}

/** A sale completed with no lines. */
export class EmptyCartError extends KassaError {
  readonly code = 'empty_cart';
  constructor() {
    super('the cart has no lines');
  }
}

const PPM = 1_000_000n;

function checkQty(qty: number): Qty {
  if (!Number.isSafeInteger(qty) || qty <= 0 || qty > 1_000_000_000) throw new InvalidQuantityError(qty);
  return qty as Qty;
}

function checkMoney(settings: StoreSettings, m: Money, what: string): number {
  if (m.currency !== settings.currency) throw new CurrencyMismatchError(settings.currency, m.currency);
  assertInteger(m.amount, what);
  if (m.amount < 0) throw new InvalidArgumentError(what, 'must not be negative');
  return m.amount;
}

function toDiscount(settings: StoreSettings, d: DiscountInput): Discount {
  const reason = d.reason === undefined ? {} : { reason: d.reason };
  if (d.kind === 'percent') {
    assertInteger(d.ppm, 'discount ppm');
    if (d.ppm < 0 || d.ppm > 1_000_000) throw new InvalidArgumentError('discount ppm', 'must be between 0 and 1 000 000');
    return { kind: 'percent', ppm: d.ppm, ...reason };
  }
  return { kind: 'amount', amount: checkMoney(settings, d.amount, 'discount amount'), ...reason };
}

function discountAmount(d: Discount | undefined, base: number): number {
  if (!d) return 0;
  return d.kind === 'percent' ? toSafeInteger(divRound(BigInt(base) * BigInt(d.ppm), PPM)) : d.amount;
}

function checkLimit(settings: StoreSettings, base: number, discount: number, approval: Approval): void {
  const limit = settings.discountLimitPpm;
  if (limit === null || approval.approvedBy !== undefined || discount === 0) return;
  if (BigInt(discount) * PPM > BigInt(limit) * BigInt(base)) throw new DiscountLimitExceededError(limit, base, discount);
}

function lineGross(cart: Cart, line: CartLine): number {
  return multiplyByQty(money(line.unitPrice, cart.settings.currency), line.qty).amount;
}

function findLine(cart: Cart, key: number): CartLine {
  const line = cart.lines.find((l) => l.key === key);
  if (!line) throw new UnknownCartLineError(key);
  return line;
}

function replaceLine(cart: Cart, line: CartLine): Cart {
  return checked({ ...cart, lines: cart.lines.map((l) => (l.key === line.key ? line : l)) });
}

/** Every change goes through here, so a cart that exists always has totals. */
function checked(cart: Cart): Cart {
  cartTotals(cart);
  return cart;
}

/**
 * An empty cart for a store.
 *
 * @example
 * ```ts
 * const cart = createCart({ currency: 'EUR', pricesIncludeTax: true, taxRounding: 'line',
 *   cashRoundingIncrement: null, discountLimitPpm: 200_000 });
 * ```
 */
export function createCart(settings: StoreSettings): Cart {
  money(0, settings.currency);
  if (settings.cashRoundingIncrement !== null) {
    assertInteger(settings.cashRoundingIncrement, 'cashRoundingIncrement');
    if (settings.cashRoundingIncrement <= 0) throw new InvalidArgumentError('cashRoundingIncrement', 'must be positive');
  }
  if (settings.discountLimitPpm !== null) {
    assertInteger(settings.discountLimitPpm, 'discountLimitPpm');
    if (settings.discountLimitPpm < 0 || settings.discountLimitPpm > 1_000_000) {
      throw new InvalidArgumentError('discountLimitPpm', 'must be between 0 and 1 000 000');
    }
  }
  return { settings, lines: [], nextKey: 1 };
}

/**
 * Adds a line for `qty` thousandths of a product (a new line even when the product is already in
 * the cart). The new line's key is `cart.nextKey`.
 *
 * @throws CurrencyMismatchError when the price is in another currency than the store's.
 * @throws InvalidQuantityError for a quantity that is not positive.
 * @example
 * ```ts
 * const next = addLine(cart, { productId, sku: 'APL', name: 'Apples', unitPrice: money(299, 'EUR'),
 *   taxes: [{ rateId: 'de-7', name: 'MwSt 7 %', ratePpm: 70000 }] }, qtyMilli(375));
 * ```
 */
export function addLine(cart: Cart, product: ProductSnapshot, qty: Qty): Cart {
  const line: CartLine = {
    key: cart.nextKey,
    productId: product.productId,
    ...(product.variantId === undefined ? {} : { variantId: product.variantId }),
    sku: product.sku,
    name: product.name,
    unitPrice: checkMoney(cart.settings, product.unitPrice, 'unitPrice'),
    qty: checkQty(qty),
    taxes: [...product.taxes],
  };
  return checked({ ...cart, lines: [...cart.lines, line], nextKey: cart.nextKey + 1 });
}

/**
 * Sets a line's quantity.
 *
 * @throws InvalidQuantityError for a quantity that is not positive (remove the line instead).
 * @throws DiscountExceedsLineError when the line's amount discount would exceed the smaller line.
 */
export function setQty(cart: Cart, key: number, qty: Qty): Cart {
  return replaceLine(cart, { ...findLine(cart, key), qty: checkQty(qty) });
}

/** Removes a line. @throws UnknownCartLineError when there is no such line. */
export function removeLine(cart: Cart, key: number): Cart {
  findLine(cart, key);
  return checked({ ...cart, lines: cart.lines.filter((l) => l.key !== key) });
}

/**
 * Sets (replaces) a line's discount.
 *
 * @throws DiscountExceedsLineError when the discount is larger than the line.
 * @throws DiscountLimitExceededError when it is above the store's limit and nobody approved it.
 * @example
 * ```ts
 * setLineDiscount(cart, 1, { kind: 'percent', ppm: 100_000 }) // 10 % off line 1
 * ```
 */
export function setLineDiscount(cart: Cart, key: number, discount: DiscountInput, approval: Approval = {}): Cart {
  const line = findLine(cart, key);
  const d = toDiscount(cart.settings, discount);
  const gross = lineGross(cart, line);
  const amount = discountAmount(d, gross);
  if (amount > gross) throw new DiscountExceedsLineError(key, gross, amount);
  checkLimit(cart.settings, gross, amount, approval);
  const { discountApprovedBy: _old, ...rest } = line;
  return replaceLine(cart, {
    ...rest,
    discount: d,
    ...(approval.approvedBy === undefined ? {} : { discountApprovedBy: approval.approvedBy }),
  });
}

/** Removes a line's discount. */
export function clearLineDiscount(cart: Cart, key: number): Cart {
  const { discount: _d, discountApprovedBy: _a, ...rest } = findLine(cart, key);
  return replaceLine(cart, rest);
}

/**
 * Sets (replaces) the order discount, spread over the lines by their amounts after line discounts.
 *
 * @throws DiscountExceedsOrderError when it is larger than the order.
 * @throws DiscountLimitExceededError when it is above the store's limit and nobody approved it.
 * @example
 * ```ts
 * setOrderDiscount(cart, { kind: 'amount', amount: money(1000, 'EUR') }) // €10 off the order
 * ```
 */
export function setOrderDiscount(cart: Cart, discount: DiscountInput, approval: Approval = {}): Cart {
  const d = toDiscount(cart.settings, discount);
  const base = afterLineDiscounts(cart).reduce((s, a) => s + a, 0);
  const amount = discountAmount(d, base);
  if (amount > base) throw new DiscountExceedsOrderError(base, amount);
  checkLimit(cart.settings, base, amount, approval);
  const { orderDiscountApprovedBy: _old, ...rest } = cart;
  return checked({
    ...rest,
    orderDiscount: d,
    ...(approval.approvedBy === undefined ? {} : { orderDiscountApprovedBy: approval.approvedBy }),
  });
}

/** Removes the order discount. */
export function clearOrderDiscount(cart: Cart): Cart {
  const { orderDiscount: _d, orderDiscountApprovedBy: _a, ...rest } = cart;
  return rest;
}

/**
 * Sells a line at a price other than the catalog's. The catalog price is kept as
 * `originalUnitPrice` (the first one, however often the price is overridden).
 *
 * @throws CurrencyMismatchError when the price is in another currency.
 * @throws DiscountExceedsLineError when the line's amount discount would exceed the new price.
 * @example
 * ```ts
 * overridePrice(cart, 1, money(500, 'EUR'), { reason: 'damaged box', approvedBy: managerId })
 * ```
 */
export function overridePrice(cart: Cart, key: number, unitPrice: Money, why: { readonly reason: string; readonly approvedBy?: string }): Cart {
  const line = findLine(cart, key);
  const price = checkMoney(cart.settings, unitPrice, 'unitPrice');
  if (why.reason.trim() === '') throw new InvalidArgumentError('reason', 'a price override needs a reason');
  return replaceLine(cart, {
    ...line,
    unitPrice: price,
    priceOverride: {
      originalUnitPrice: line.priceOverride?.originalUnitPrice ?? line.unitPrice,
      reason: why.reason,
      ...(why.approvedBy === undefined ? {} : { approvedBy: why.approvedBy }),
    },
  });
}

/** Attaches a customer (replacing any other). */
export function attachCustomer(cart: Cart, customerId: string): Cart {
  return { ...cart, customerId };
}

/** Detaches the customer. */
export function detachCustomer(cart: Cart): Cart {
  const { customerId: _c, ...rest } = cart;
  return rest;
}

function afterLineDiscounts(cart: Cart): number[] {
  return cart.lines.map((line) => {
    const gross = lineGross(cart, line);
    const discount = discountAmount(line.discount, gross);
    if (discount > gross) throw new DiscountExceedsLineError(line.key, gross, discount);
    return gross - discount;
  });
}

/**
 * The rate of a line's discount (by key) or of the order discount (`'order'`) as a share of what it
 * applies to, in ppm rounded up, so a discount a hair above a limit never reads as at the limit.
 * This is the `discountPpm` the permission check (`authorize` in `permissions.ts`) asks for.
 *
 * @example
 * ```ts
 * discountRatePpm(cart, 1) // €2.50 off a €10.00 line → 250 000
 * ```
 */
export function discountRatePpm(cart: Cart, target: number | 'order'): number {
  let base: number;
  let discount: number;
  if (target === 'order') {
    base = afterLineDiscounts(cart).reduce((s, a) => s + a, 0);
    discount = discountAmount(cart.orderDiscount, base);
  } else {
    const line = findLine(cart, target);
    base = lineGross(cart, line);
    discount = discountAmount(line.discount, base);
  }
  if (discount === 0) return 0;
  if (base === 0) return 1_000_000;
  return toSafeInteger(divRound(BigInt(discount) * PPM, BigInt(base), 'up'));
}

/**
 * Derives every amount of the cart: per line (gross, discounts, net, tax, total) and in total, with
 * the receipt's tax summary.
 *
 * @throws DiscountExceedsLineError / DiscountExceedsOrderError when a discount no longer fits.
 * @example
 * ```ts
 * cartTotals(cart).total // { amount: 1190, currency: 'EUR' }
 * ```
 */
export function cartTotals(cart: Cart): CartTotals {
  const cur = cart.settings.currency;
  const gross = cart.lines.map((l) => lineGross(cart, l));
  const after = afterLineDiscounts(cart);
  const base = after.reduce((s, a) => s + a, 0);
  const orderDiscount = discountAmount(cart.orderDiscount, base);
  if (orderDiscount > base) throw new DiscountExceedsOrderError(base, orderDiscount);
  const shares = cart.lines.length === 0 ? [] : allocate(money(orderDiscount, cur), after).map((m) => m.amount);
  const nets = after.map((a, i) => a - (shares[i] ?? 0));
  const tax = computeTax(
    cart.lines.map((l, i) => ({ net: nets[i] ?? 0, taxes: l.taxes })),
    cart.settings,
  );
  const lines = cart.lines.map((l, i): CartLineTotals => {
    const g = gross[i] ?? 0;
    const taxed = tax.lines[i];
    return {
      key: l.key,
      gross: g,
      lineDiscount: g - (after[i] ?? 0),
      orderDiscount: shares[i] ?? 0,
      net: nets[i] ?? 0,
      tax: taxed?.tax ?? [],
      total: taxed?.total ?? 0,
    };
  });
  const total = (f: (l: CartLineTotals) => number): Money => money(toSafeInteger(lines.reduce((s, l) => s + BigInt(f(l)), 0n)), cur);
  return {
    lines,
    subtotal: total((l) => l.gross),
    discountTotal: total((l) => l.lineDiscount + l.orderDiscount),
    taxTotal: money(tax.taxTotal, cur),
    total: total((l) => l.total),
    taxSummary: tax.summary,
  };
}

/** The recorded sale without its receipt number and payment: what a sale and an exchange share. */
export type SaleRecord = Omit<CompletedSale, 'receiptNo' | 'tenders' | 'cashRounding' | 'change' | 'currency'>;

/**
 * The lines and amounts of the sale a cart records, under the ids the caller made.
 *
 * @throws EmptyCartError when the cart has no lines.
 * @throws InvalidArgumentError when `lineIds` does not have one id per line.
 */
export function saleRecord(cart: Cart, orderId: string, lineIds: readonly string[]): SaleRecord {
  if (cart.lines.length === 0) throw new EmptyCartError();
  if (lineIds.length !== cart.lines.length || new Set(lineIds).size !== lineIds.length) {
    throw new InvalidArgumentError('lineIds', `needs ${cart.lines.length} distinct ids, one per cart line`);
  }
  const totals = cartTotals(cart);
  const lines = cart.lines.map((l, i): SaleLine => {
    const t = totals.lines[i];
    return {
      lineId: lineIds[i] ?? '',
      productId: l.productId,
      ...(l.variantId === undefined ? {} : { variantId: l.variantId }),
      sku: l.sku,
      name: l.name,
      unitPrice: l.unitPrice,
      qty: l.qty,
      taxes: l.taxes.map((x) => ({ ...x })),
      ...(l.discount === undefined ? {} : { discount: l.discount }),
      ...(l.priceOverride === undefined ? {} : { priceOverride: l.priceOverride }),
      gross: t?.gross ?? 0,
      lineDiscount: t?.lineDiscount ?? 0,
      orderDiscount: t?.orderDiscount ?? 0,
      net: t?.net ?? 0,
      tax: t?.tax ?? [],
      total: t?.total ?? 0,
    };
  });
  return {
    orderId,
    pricesIncludeTax: cart.settings.pricesIncludeTax,
    taxRounding: cart.settings.taxRounding,
    lines,
    ...(cart.orderDiscount === undefined ? {} : { orderDiscount: cart.orderDiscount }),
    subtotal: totals.subtotal.amount,
    discountTotal: totals.discountTotal.amount,
    taxTotal: totals.taxTotal.amount,
    total: totals.total.amount,
    taxSummary: totals.taxSummary,
    ...(cart.customerId === undefined ? {} : { customerId: cart.customerId }),
  };
}

/**
 * Completes the sale: derives every amount, settles the tenders against the total (cash rounding
 * and change included) and returns the `CompletedSale` to record.
 *
 * @throws EmptyCartError, InsufficientTenderError, OverTenderError, InvalidArgumentError (line ids).
 * @example
 * ```ts
 * const sale = completeSale(cart, { orderId, receiptNo: 'S01-R02-000123', lineIds: [lineId],
 *   tenders: [{ tenderId, kind: 'cash', given: 2000 }] });
 * sale.change // what to hand back
 * ```
 */
export function completeSale(cart: Cart, input: CompleteSaleInput): CompletedSale {
  const record = saleRecord(cart, input.orderId, input.lineIds);
  const { orderId, ...rest } = record;
  const paid = settleTenders(money(record.total, cart.settings.currency), input.tenders, cart.settings.cashRoundingIncrement);
  return {
    orderId,
    receiptNo: input.receiptNo,
    currency: cart.settings.currency,
    ...rest,
    cashRounding: paid.cashRounding,
    tenders: paid.tenders,
    change: paid.change,
    ...(input.note === undefined ? {} : { note: input.note }),
  };
}
