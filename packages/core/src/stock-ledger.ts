/**
 * The stock ledger: on-hand per product (and variant) is the sum of the deltas of its movements.
 *
 * Every movement is a fact keyed by its id, so applying one twice changes nothing, and a sum does
 * not care about order: registers that sold offline, a receipt booked in the back office and a
 * count taken in the stock room converge on the same number whatever order they arrive in. Stock
 * may go below zero (the sale happened); that is an `oversell` alert, never a refusal. The ledger
 * also tallies what was sold and refunded per sale line, so a refund beyond the sale is an
 * `over_refund` alert.
 *
 * A count does not set the stock to the counted figure (that would depend on arrival order); it
 * records `counted − expected`, where `expected` is what the counting device knew at count time.
 */
import { alert, resolveSameId, sortAlerts, type Alert } from './alerts.js';
import { InvalidArgumentError } from './errors.js';
import type { CompletedExchange, CompletedRefund, CompletedSale } from './order-schema.js';
import { qtyMilli, type Qty } from './quantity.js';
import { assertInteger } from './rounding.js';

/** What every movement names: which stock it moves. */
interface MovementBase {
  /** Unique and deterministic for the fact it comes from, e.g. `${orderId}:${lineId}`. */
  readonly id: string;
  readonly productId: string;
  readonly variantId?: string;
}

/** A sold line takes `qty` (> 0) out of stock. */
export interface SaleMovement extends MovementBase {
  readonly kind: 'sale';
  readonly qty: Qty;
  readonly orderId: string;
  readonly lineId: string;
}

/** A refunded line puts `qty` (> 0) back when `restock`; either way it counts against the sale line. */
export interface RefundMovement extends MovementBase {
  readonly kind: 'refund';
  readonly qty: Qty;
  readonly restock: boolean;
  readonly refundId: string;
  /** The sale refunded; absent for a refund without receipt (then no over-refund check). */
  readonly originalOrderId?: string;
  readonly saleLineId: string;
}

/** A signed correction (breakage, theft, found goods) with why. */
export interface AdjustmentMovement extends MovementBase {
  readonly kind: 'adjustment';
  readonly delta: Qty;
  readonly reason: string;
}

/** Goods received from a supplier: `qty` (> 0) in. */
export interface ReceiptMovement extends MovementBase {
  readonly kind: 'receipt';
  readonly qty: Qty;
}

/** A stock count: the delta is `counted − expected`, `expected` being on-hand as known at count time. */
export interface CountMovement extends MovementBase {
  readonly kind: 'count';
  readonly counted: Qty;
  readonly expected: Qty;
}

/** Goods sent to another store: `qty` (> 0) out. */
export interface TransferOutMovement extends MovementBase {
  readonly kind: 'transfer_out';
  readonly qty: Qty;
  readonly transferId: string;
}

/** Goods received from another store: `qty` (> 0) in. */
export interface TransferInMovement extends MovementBase {
  readonly kind: 'transfer_in';
  readonly qty: Qty;
  readonly transferId: string;
}

/** A fact that moves stock. A later adapter maps ops onto these. */
export type StockMovement =
  | SaleMovement
  | RefundMovement
  | AdjustmentMovement
  | ReceiptMovement
  | CountMovement
  | TransferOutMovement
  | TransferInMovement;

/** On-hand of one product, or one variant of it. */
export interface StockLevel {
  readonly productId: string;
  readonly variantId?: string;
  readonly onHand: Qty;
}

interface SkuTally {
  readonly productId: string;
  readonly variantId?: string;
  readonly onHand: number;
  /** How many kept movements touch this SKU: the entry exists exactly while some do. */
  readonly movements: number;
}

interface LineTally {
  readonly orderId: string;
  readonly lineId: string;
  /** Products named by the line's sale movements, then by its refunds, with how many name each. */
  readonly soldProducts: ReadonlyMap<string, number>;
  readonly refundProducts: ReadonlyMap<string, number>;
  readonly sold: number;
  readonly refunded: number;
  readonly movements: number;
}

/** The ledger's state: the movements applied and the sums derived from them. Never mutated. */
export interface StockLedger {
  readonly movements: ReadonlyMap<string, StockMovement>;
  readonly skus: ReadonlyMap<string, SkuTally>;
  readonly lines: ReadonlyMap<string, LineTally>;
  /** Ids under which two different movements arrived. */
  readonly conflicts: ReadonlySet<string>;
}

/** The new state and the alerts now open among the products and sale lines the batch touched. */
export interface StockApplyResult {
  readonly state: StockLedger;
  readonly alerts: Alert[];
}

/** An empty ledger. */
export function emptyStockLedger(): StockLedger {
  return { movements: new Map(), skus: new Map(), lines: new Map(), conflicts: new Set() };
}

const skuKey = (productId: string, variantId: string | undefined): string =>
  variantId === undefined ? JSON.stringify([productId]) : JSON.stringify([productId, variantId]);
const lineKey = (orderId: string, lineId: string): string => JSON.stringify([orderId, lineId]);

function positive(qty: number, m: StockMovement): number {
  assertInteger(qty, `${m.kind} movement ${m.id} qty`);
  if (qty <= 0) throw new InvalidArgumentError(`${m.kind} movement ${m.id} qty`, 'must be positive');
  return qty;
}

/**
 * The signed change a movement makes to on-hand, in thousandths.
 *
 * @example
 * ```ts
 * movementDelta({ kind: 'count', id: 'c1', productId: 'p', counted: units(7), expected: units(9) }) // −2000
 * ```
 */
export function movementDelta(m: StockMovement): Qty {
  switch (m.kind) {
    case 'sale':
    case 'transfer_out':
      return qtyMilli(-positive(m.qty, m));
    case 'receipt':
    case 'transfer_in':
      return qtyMilli(positive(m.qty, m));
    case 'refund': {
      const qty = positive(m.qty, m);
      return qtyMilli(m.restock ? qty : 0);
    }
    case 'adjustment':
      return qtyMilli(m.delta);
    case 'count':
      return qtyMilli(assertInteger(m.counted, 'counted') - assertInteger(m.expected, 'expected'));
  }
}

/** Adds (`sign` 1) or takes back (`sign` −1) one movement's contribution to the tallies. */
function contribute(skus: Map<string, SkuTally>, lines: Map<string, LineTally>, m: StockMovement, sign: 1 | -1): void {
  const sk = skuKey(m.productId, m.variantId);
  const sku = skus.get(sk) ?? { productId: m.productId, ...(m.variantId === undefined ? {} : { variantId: m.variantId }), onHand: 0, movements: 0 };
  const next = { ...sku, onHand: assertInteger(sku.onHand + sign * movementDelta(m), 'on-hand'), movements: sku.movements + sign };
  if (next.movements === 0) skus.delete(sk);
  else skus.set(sk, next);

  const ref =
    m.kind === 'sale'
      ? { orderId: m.orderId, lineId: m.lineId, sold: m.qty, refunded: 0 }
      : m.kind === 'refund' && m.originalOrderId !== undefined
        ? { orderId: m.originalOrderId, lineId: m.saleLineId, sold: 0, refunded: m.qty }
        : undefined;
  if (!ref) return;
  const lk = lineKey(ref.orderId, ref.lineId);
  const line = lines.get(lk) ?? { orderId: ref.orderId, lineId: ref.lineId, soldProducts: new Map(), refundProducts: new Map(), sold: 0, refunded: 0, movements: 0 };
  const products = new Map(m.kind === 'sale' ? line.soldProducts : line.refundProducts);
  const n = (products.get(m.productId) ?? 0) + sign;
  if (n === 0) products.delete(m.productId);
  else products.set(m.productId, n);
  const updated: LineTally = {
    ...line,
    ...(m.kind === 'sale' ? { soldProducts: products } : { refundProducts: products }),
    sold: line.sold + sign * ref.sold,
    refunded: line.refunded + sign * ref.refunded,
    movements: line.movements + sign,
  };
  if (updated.movements === 0) lines.delete(lk);
  else lines.set(lk, updated);
}

/**
 * Applies movements: a movement id already applied is a no-op, and the result does not depend on
 * the order the movements arrive in or on how they are batched. Stock going below zero is applied
 * and reported as an `oversell` alert.
 *
 * @example
 * ```ts
 * const { state, alerts } = applyMovements(emptyStockLedger(), [
 *   { kind: 'receipt', id: 'r1', productId: 'p', qty: units(2) },
 *   { kind: 'sale', id: 'o1:l1', productId: 'p', qty: units(3), orderId: 'o1', lineId: 'l1' },
 * ]);
 * onHand(state, 'p') // −1000; alerts: [{ kind: 'oversell', productId: 'p', onHand: −1000, … }]
 * ```
 */
export function applyMovements(state: StockLedger, movements: Iterable<StockMovement>): StockApplyResult {
  const kept = new Map(state.movements);
  const skus = new Map(state.skus);
  const lines = new Map(state.lines);
  const conflicts = new Set(state.conflicts);
  const touchedSkus = new Set<string>();
  const touchedLines = new Set<string>();
  const touchedIds = new Set<string>();

  const touch = (m: StockMovement): void => {
    touchedSkus.add(skuKey(m.productId, m.variantId));
    if (m.kind === 'sale') touchedLines.add(lineKey(m.orderId, m.lineId));
    if (m.kind === 'refund' && m.originalOrderId !== undefined) touchedLines.add(lineKey(m.originalOrderId, m.saleLineId));
  };

  for (const m of movements) {
    const old = kept.get(m.id);
    if (old === undefined) {
      movementDelta(m); // validates before anything is changed for this movement
      kept.set(m.id, m);
      contribute(skus, lines, m, 1);
      touch(m);
      continue;
    }
    const { fact, conflict } = resolveSameId(old, m);
    if (!conflict) continue;
    conflicts.add(m.id);
    touchedIds.add(m.id);
    if (fact !== old) {
      movementDelta(fact);
      contribute(skus, lines, old, -1);
      contribute(skus, lines, fact, 1);
      kept.set(m.id, fact);
      touch(old);
      touch(fact);
    }
  }

  const next: StockLedger = { movements: kept, skus, lines, conflicts };
  return { state: next, alerts: collectAlerts(next, touchedSkus, touchedLines, touchedIds) };
}

/**
 * The product a sale line is for: the one its sale names (a refund's is a fallback). Should
 * movements of one line disagree, the smallest id is taken, so the answer never depends on order.
 */
function lineProduct(l: LineTally): string {
  const names = [...(l.soldProducts.size > 0 ? l.soldProducts : l.refundProducts).keys()].sort();
  return names[0] ?? '';
}

function collectAlerts(
  state: StockLedger,
  skuKeys: Iterable<string>,
  lineKeys: Iterable<string>,
  conflictIds: Iterable<string>,
): Alert[] {
  const out: Alert[] = [];
  for (const k of skuKeys) {
    const s = state.skus.get(k);
    if (s && s.onHand < 0) {
      out.push(
        alert({ kind: 'oversell', productId: s.productId, ...(s.variantId === undefined ? {} : { variantId: s.variantId }), onHand: qtyMilli(s.onHand) }),
      );
    }
  }
  for (const k of lineKeys) {
    const l = state.lines.get(k);
    // A refund whose sale the ledger has not seen is not an over-refund: the sale may be older
    // than the ledger's history or still on its way.
    if (l && l.sold > 0 && l.refunded > l.sold) {
      out.push(
        alert({ kind: 'over_refund', orderId: l.orderId, lineId: l.lineId, productId: lineProduct(l), sold: qtyMilli(l.sold), refunded: qtyMilli(l.refunded) }),
      );
    }
  }
  for (const id of conflictIds) if (state.conflicts.has(id)) out.push(alert({ kind: 'conflicting_fact', subject: 'stock_movement', id }));
  return sortAlerts(out);
}

/** Every alert the ledger holds now (oversells, over-refunds, conflicting movements), sorted by key. */
export function stockAlerts(state: StockLedger): Alert[] {
  return collectAlerts(state, state.skus.keys(), state.lines.keys(), state.conflicts);
}

/**
 * On-hand in thousandths: of one variant when `variantId` is given, else of the product as a
 * whole (its variants and any movements booked without a variant). Unknown products have 0.
 *
 * @example
 * ```ts
 * onHand(state, 'shirt', 'shirt-m') // the M size only
 * onHand(state, 'shirt') // every size together
 * ```
 */
export function onHand(state: StockLedger, productId: string, variantId?: string): Qty {
  if (variantId !== undefined) return qtyMilli(state.skus.get(skuKey(productId, variantId))?.onHand ?? 0);
  let total = 0;
  for (const s of state.skus.values()) if (s.productId === productId) total += s.onHand;
  return qtyMilli(total);
}

/** On-hand of every product and variant the ledger has movements for, sorted by product then variant. */
export function stockLevels(state: StockLedger): StockLevel[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...state.skus.values()]
    .sort((x, y) => {
      if (x.productId !== y.productId) return cmp(x.productId, y.productId);
      if (x.variantId === undefined || y.variantId === undefined) return x.variantId === undefined ? -1 : 1;
      return cmp(x.variantId, y.variantId);
    })
    .map((s) => ({ productId: s.productId, ...(s.variantId === undefined ? {} : { variantId: s.variantId }), onHand: qtyMilli(s.onHand) }));
}

/**
 * The movements of a completed sale: one `sale` movement per line, with id `${orderId}:${lineId}`,
 * so the same sale mapped twice gives the same ids.
 *
 * @example
 * ```ts
 * saleMovements(sale) // [{ kind: 'sale', id: `${sale.orderId}:${line.lineId}`, qty: line.qty, … }]
 * ```
 */
export function saleMovements(sale: Pick<CompletedSale, 'orderId' | 'lines'>): SaleMovement[] {
  return sale.lines.map((line) => ({
    kind: 'sale',
    id: `${sale.orderId}:${line.lineId}`,
    productId: line.productId,
    ...(line.variantId === undefined ? {} : { variantId: line.variantId }),
    qty: qtyMilli(line.qty),
    orderId: sale.orderId,
    lineId: line.lineId,
  }));
}

/**
 * The movements of a completed refund: one `refund` movement per line, id
 * `${refundId}:${saleLineId}` (with `:2`, `:3`… should one refund name a sale line twice). A line
 * that is not restocked still yields a movement of delta 0, which counts against its sale line.
 *
 * A refund line does not carry the variant; pass the original sale (when the register has it) so
 * restocked goods go back to the variant they were sold as.
 */
export function refundMovements(
  refund: Pick<CompletedRefund, 'refundId' | 'originalOrderId' | 'lines'>,
  originalSale?: Pick<CompletedSale, 'orderId' | 'lines'>,
): RefundMovement[] {
  const variants = new Map<string, string>();
  if (originalSale && originalSale.orderId === refund.originalOrderId) {
    for (const l of originalSale.lines) if (l.variantId !== undefined) variants.set(l.lineId, l.variantId);
  }
  const seen = new Map<string, number>();
  return refund.lines.map((line) => {
    const n = (seen.get(line.saleLineId) ?? 0) + 1;
    seen.set(line.saleLineId, n);
    const variantId = variants.get(line.saleLineId);
    return {
      kind: 'refund',
      id: n === 1 ? `${refund.refundId}:${line.saleLineId}` : `${refund.refundId}:${line.saleLineId}:${n}`,
      productId: line.productId,
      ...(variantId === undefined ? {} : { variantId }),
      qty: qtyMilli(line.qty),
      restock: line.restock,
      refundId: refund.refundId,
      ...(refund.originalOrderId === undefined ? {} : { originalOrderId: refund.originalOrderId }),
      saleLineId: line.saleLineId,
    };
  });
}

/**
 * The movements of an exchange: the returned goods as refund movements, the goods given as sale
 * movements, with the same ids a plain refund and sale would have.
 */
export function exchangeMovements(
  exchange: {
    readonly refund: Pick<CompletedExchange['refund'], 'refundId' | 'originalOrderId' | 'lines'>;
    readonly sale: Pick<CompletedExchange['sale'], 'orderId' | 'lines'>;
  },
  originalSale?: Pick<CompletedSale, 'orderId' | 'lines'>,
): StockMovement[] {
  return [...refundMovements(exchange.refund, originalSale), ...saleMovements(exchange.sale)];
}
