/**
 * Derived state from ops: the adapter from the op types of `ops/` onto the domain reducers (stock
 * ledger, shifts, balances) and the per-field merge of reference documents (DESIGN.md §2).
 *
 * Facts are kept by op id, so an op applied twice changes nothing; a different op under a known id
 * keeps the one with the smaller canonical JSON and raises `conflicting_fact`. Every number derived
 * here is a function of the SET of ops seen, never of their arrival order:
 *
 * - Stock movements of an op depend on the op and, for refunds, exchanges and voids, on the sale
 *   they name (a refund line carries no variant; a void names only the order). When a sale
 *   arrives after ops that depend on it, the ledger is rebuilt from the facts, so the late sale
 *   gives the same movements an early one would have.
 * - Sales, refunds, exchanges and voids carry no shift id. A register runs one shift at a time and
 *   numbers its ops gaplessly (`seq`), so a receipt op belongs to the shift whose `shift.opened`
 *   op on the same device has the greatest `seq` below the receipt's. Membership changes when a
 *   late `shift.opened` arrives, so the shifts of every device a batch touches are rebuilt from the
 *   facts (a shift is small). A receipt with no opening before it belongs to no shift
 *   ({@link unassignedReceipts}). Events are timed by the op's HLC wall time, which never goes
 *   backwards on one device, so "after close" agrees with `seq` order.
 * - Reference edits are merged per field by `merge.ts`, keyed by (docType, docId).
 *
 * One derived state is one store's view: stock has no store dimension (and stock alert keys name
 * no store), so feed it the ops of one store.
 */
import type { z } from 'zod';
import { alert, resolveSameId, sortAlerts, type Alert, type FactSubject } from './alerts.js';
import { balanceAlerts, applyBalanceEvents, emptyBalances, type BalanceEvent, type Balances } from './balances.js';
import type { CurrencyCode } from './currency.js';
import type { FieldWrite } from './field-patch.js';
import { decodeHlc } from './hlc.js';
import { applyWrites, docConflicts, emptyDoc, type Conflict, type ReferenceDoc } from './merge.js';
import { money } from './money.js';
import type { CompletedSale } from './order-schema.js';
import { isReferenceOp, type FactOp, type ReferenceOp } from './ops/op-kinds.js';
import type { Op, OpOf } from './ops/op-schema.js';
import type { ReferenceDocTypeSchema } from './ops/reference-ops.js';
import { qtyMilli } from './quantity.js';
import { applyShiftEvents, emptyShift, shiftAlerts, type Shift, type ShiftEvent } from './shift.js';
import {
  applyMovements,
  emptyStockLedger,
  exchangeMovements,
  refundMovements,
  saleMovements,
  stockAlerts,
  type RefundMovement,
  type StockLedger,
  type StockMovement,
} from './stock-ledger.js';

/** The kind of a reference document: customers and products have their own op types, the rest share `reference.edited`. */
export type DocType = 'customer' | 'product' | z.infer<typeof ReferenceDocTypeSchema>;

/** One reference document and the merged writes it holds. */
export interface ReferenceDocEntry {
  readonly docType: DocType;
  readonly docId: string;
  readonly doc: ReferenceDoc;
}

/** A merge conflict in one document; `id` is `docType:docId:` + the field-level conflict id, unique across docs. */
export interface DocConflict {
  readonly id: string;
  readonly docType: DocType;
  readonly docId: string;
  readonly conflict: Conflict;
}

/** What a sale looks like to the ops that depend on it: its order id and lines. */
export type SaleRef = Pick<CompletedSale, 'orderId' | 'lines'>;

type SetIndex = ReadonlyMap<string, ReadonlySet<string>>;

/** Which facts name which order, device and shift: what dependencies and shift membership need. */
export interface FactIndex {
  /** orderId → ids of the ops that completed that sale (a sale, or an exchange's sale part). */
  readonly sales: SetIndex;
  /** orderId → ids of the refunds, exchanges and voids of it. */
  readonly dependents: SetIndex;
  /** deviceId → ids of its receipt ops (sale, refund, exchange, void) and `shift.opened` ops. */
  readonly byDevice: SetIndex;
  /** shiftId → ids of the ops that name it (opened, closed, cash moved, drawer opened). */
  readonly byShift: SetIndex;
}

/**
 * Everything derived from the ops seen so far. Never mutated; {@link deriveState} returns a new one.
 * Read it with the reducers' own queries (`onHand(state.stock, …)`, `xReport(state.shifts.get(id))`,
 * `giftCardBalance(state.balances, …)`, `docValues(entry.doc)`) and the functions below.
 */
export interface DerivedState {
  /** The currency of a shift none of whose ops names one (only `drawer.opened` seen so far). */
  readonly currency: CurrencyCode;
  /** Every fact op applied, by op id. */
  readonly facts: ReadonlyMap<string, FactOp>;
  /** Op ids under which two different ops arrived. */
  readonly factConflicts: ReadonlySet<string>;
  readonly index: FactIndex;
  readonly stock: StockLedger;
  readonly balances: Balances;
  /** By shift id. */
  readonly shifts: ReadonlyMap<string, Shift>;
  /** By `JSON.stringify([docType, docId])`. */
  readonly docs: ReadonlyMap<string, ReferenceDocEntry>;
}

/** What {@link deriveState} returns. */
export interface DeriveResult {
  readonly state: DerivedState;
  /** The alerts now open among the products, sale lines, accounts and shifts the batch touched, sorted by key. */
  readonly alerts: Alert[];
  /** The merge conflicts the batch revealed, sorted by id: record them for review. */
  readonly conflicts: DocConflict[];
}

/**
 * A state that has seen no ops.
 *
 * @example
 * ```ts
 * const { state, alerts } = deriveState(emptyDerivedState('EUR'), ops);
 * ```
 */
export function emptyDerivedState(currency: CurrencyCode): DerivedState {
  money(0, currency); // refuses an unknown currency now rather than when a shift needs it
  return {
    currency,
    facts: new Map(),
    factConflicts: new Set(),
    index: { sales: new Map(), dependents: new Map(), byDevice: new Map(), byShift: new Map() },
    stock: emptyStockLedger(),
    balances: emptyBalances(),
    shifts: new Map(),
    docs: new Map(),
  };
}

const docKey = (docType: DocType, docId: string): string => JSON.stringify([docType, docId]);
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function docTarget(op: ReferenceOp): { readonly docType: DocType; readonly docId: string } {
  switch (op.type) {
    case 'customer.upserted':
      return { docType: 'customer', docId: op.payload.customerId };
    case 'product.edited':
      return { docType: 'product', docId: op.payload.productId };
    case 'reference.edited':
      return { docType: op.payload.docType, docId: op.payload.docId };
  }
}

/**
 * Applies ops: facts onto the stock ledger, shifts and balances, reference edits onto their
 * documents. An op already applied is a no-op; the resulting state does not depend on the order
 * or the batching of the ops. Breaches are applied and reported as alerts.
 *
 * @example
 * ```ts
 * let derived = emptyDerivedState('EUR');
 * const r = deriveState(derived, [receiveTwoMugs, saleOfThreeMugs]);
 * onHand(r.state.stock, mugId) // −1000; r.alerts: [{ kind: 'oversell', productId: mugId, … }]
 * ```
 */
export function deriveState(state: DerivedState, ops: Iterable<Op>): DeriveResult {
  const facts = new Map(state.facts);
  const factConflicts = new Set(state.factConflicts);
  const added = new Set<string>();
  const conflictIds = new Set<string>();
  let replacedOld = false;
  const edits = new Map<string, { docType: DocType; docId: string; writes: FieldWrite[] }>();

  for (const op of ops) {
    if (isReferenceOp(op)) {
      const { docType, docId } = docTarget(op);
      const key = docKey(docType, docId);
      const entry = edits.get(key) ?? { docType, docId, writes: [] };
      entry.writes.push(...op.payload.writes);
      edits.set(key, entry);
      continue;
    }
    const old = facts.get(op.id);
    if (old === undefined) {
      facts.set(op.id, op);
      added.add(op.id);
      continue;
    }
    const { fact, conflict } = resolveSameId(old, op);
    if (!conflict) continue;
    factConflicts.add(op.id);
    conflictIds.add(op.id);
    if (fact !== old) {
      facts.set(op.id, fact);
      // A fact replaced that the reducers had already applied: they cannot take a fact back.
      if (state.facts.has(op.id)) replacedOld = true;
    }
  }

  const docs = new Map(state.docs);
  const conflicts: DocConflict[] = [];
  for (const key of [...edits.keys()].sort()) {
    const e = edits.get(key);
    if (e === undefined) continue;
    const { doc, conflicts: found } = applyWrites(docs.get(key)?.doc ?? emptyDoc(), e.writes);
    docs.set(key, { docType: e.docType, docId: e.docId, doc });
    for (const c of found) conflicts.push(docConflict(e.docType, e.docId, c));
  }

  const withDocs: DerivedState = { ...state, docs };
  if (replacedOld) {
    // Rare (the sync layer refuses a different op under a known id): rebuild from the facts kept.
    const fresh = applyFacts({ ...emptyDerivedState(state.currency), docs }, facts, [...facts.keys()].sort(), factConflicts).state;
    return { state: fresh, alerts: derivedAlerts(fresh), conflicts: conflicts.sort((a, b) => byString(a.id, b.id)) };
  }
  const next = applyFacts(withDocs, facts, [...added].sort(), factConflicts);
  const alerts = [...next.alerts];
  for (const id of conflictIds) alerts.push(opConflictAlert(next.state, id));
  return { state: next.state, alerts: sortAlerts(alerts), conflicts: conflicts.sort((a, b) => byString(a.id, b.id)) };
}

function docConflict(docType: DocType, docId: string, conflict: Conflict): DocConflict {
  return { id: `${docType}:${docId}:${conflict.id}`, docType, docId, conflict };
}

function addTo(index: Map<string, ReadonlySet<string>>, key: string, id: string): void {
  index.set(key, new Set(index.get(key)).add(id));
}

type ReceiptFact = OpOf<'sale.completed'> | OpOf<'refund.completed'> | OpOf<'exchange.completed'> | OpOf<'sale.voided'>;

/** The order a sale-bearing op completes. */
function saleOrderId(op: FactOp): string | undefined {
  if (op.type === 'sale.completed') return op.payload.orderId;
  if (op.type === 'exchange.completed') return op.payload.sale.orderId;
  return undefined;
}

/** The order whose sale an op's stock movements depend on. */
function dependsOnOrder(op: FactOp): string | undefined {
  if (op.type === 'refund.completed') return op.payload.originalOrderId;
  if (op.type === 'exchange.completed') return op.payload.refund.originalOrderId;
  if (op.type === 'sale.voided') return op.payload.orderId;
  return undefined;
}

function isReceiptFact(op: FactOp): op is ReceiptFact {
  return op.type === 'sale.completed' || op.type === 'refund.completed' || op.type === 'exchange.completed' || op.type === 'sale.voided';
}

function shiftIdOf(op: FactOp): string | undefined {
  switch (op.type) {
    case 'shift.opened':
    case 'shift.closed':
    case 'cash.moved':
    case 'drawer.opened':
      return op.payload.shiftId;
    default:
      return undefined;
  }
}

function indexFacts(index: FactIndex, facts: ReadonlyMap<string, FactOp>, ids: readonly string[]): FactIndex {
  const sales = new Map(index.sales);
  const dependents = new Map(index.dependents);
  const byDevice = new Map(index.byDevice);
  const byShift = new Map(index.byShift);
  for (const id of ids) {
    const op = facts.get(id);
    if (op === undefined) continue;
    const orderId = saleOrderId(op);
    if (orderId !== undefined) addTo(sales, orderId, id);
    const dep = dependsOnOrder(op);
    if (dep !== undefined) addTo(dependents, dep, id);
    if (isReceiptFact(op) || op.type === 'shift.opened') addTo(byDevice, op.deviceId, id);
    const shiftId = shiftIdOf(op);
    if (shiftId !== undefined) addTo(byShift, shiftId, id);
  }
  return { sales, dependents, byDevice, byShift };
}

/** The sale of `orderId` as the facts know it; of two ops claiming it, the one with the smaller op id. */
function saleFor(facts: ReadonlyMap<string, FactOp>, index: FactIndex, orderId: string | undefined): SaleRef | undefined {
  if (orderId === undefined) return undefined;
  const ids = [...(index.sales.get(orderId) ?? [])].sort();
  for (const id of ids) {
    const op = facts.get(id);
    if (op?.type === 'sale.completed') return op.payload;
    if (op?.type === 'exchange.completed') return op.payload.sale;
  }
  return undefined;
}

/**
 * The stock movements of a fact op. Refunds, exchanges and voids need the sale they name (pass
 * it when known): a refund line takes its variant from the sale line, and a void puts back every
 * line of its sale, so a void whose sale is unknown moves nothing yet.
 *
 * Movement ids are deterministic and prefixed by op kind (`received:`, `adjusted:`, …) so ids of
 * different op types never collide; sales and refunds use the ledger's own ids.
 *
 * @example
 * ```ts
 * opStockMovements(stockCountedOp) // [{ kind: 'count', id: `counted:${countId}:${productId}:`, counted, expected, … }]
 * ```
 */
export function opStockMovements(op: FactOp, sale?: SaleRef): StockMovement[] {
  const variant = (v: string | undefined) => (v === undefined ? {} : { variantId: v });
  switch (op.type) {
    case 'sale.completed':
      return saleMovements(op.payload);
    case 'refund.completed':
      return refundMovements(op.payload, sale);
    case 'exchange.completed':
      return exchangeMovements(op.payload, sale);
    case 'sale.voided': {
      if (sale === undefined || sale.orderId !== op.payload.orderId) return [];
      const orderId = op.payload.orderId;
      // A void is the whole sale coming back; two voids of one sale give the same movements, so the
      // goods come back once.
      return sale.lines.map(
        (l): RefundMovement => ({
          kind: 'refund',
          id: `void:${orderId}:${l.lineId}`,
          productId: l.productId,
          ...variant(l.variantId),
          qty: qtyMilli(l.qty),
          restock: true,
          refundId: `void:${orderId}`,
          originalOrderId: orderId,
          saleLineId: l.lineId,
        }),
      );
    }
    case 'stock.adjusted': {
      const p = op.payload;
      return [{ kind: 'adjustment', id: `adjusted:${p.movementId}`, productId: p.productId, ...variant(p.variantId), delta: qtyMilli(p.qtyDelta), reason: p.reason }];
    }
    case 'stock.received':
      return op.payload.lines.map((l, i) => ({
        kind: 'receipt',
        id: `received:${op.payload.movementId}:${String(i)}`,
        productId: l.productId,
        ...variant(l.variantId),
        qty: qtyMilli(l.qty),
      }));
    case 'stock.counted': {
      // Ids by product, not by line position: one count may span several ops sharing `countId`.
      const seen = new Map<string, number>();
      return op.payload.lines.map((l) => {
        const base = `counted:${op.payload.countId}:${l.productId}:${l.variantId ?? ''}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        return {
          kind: 'count',
          id: n === 1 ? base : `${base}:${String(n)}`,
          productId: l.productId,
          ...variant(l.variantId),
          counted: qtyMilli(l.counted),
          expected: qtyMilli(l.expected),
        };
      });
    }
    case 'stock.transferred': {
      const { transferId, direction } = op.payload;
      return op.payload.lines.map((l, i) => ({
        kind: direction === 'out' ? 'transfer_out' : 'transfer_in',
        id: `transfer:${transferId}:${direction}:${String(i)}`,
        productId: l.productId,
        ...variant(l.variantId),
        qty: qtyMilli(l.qty),
        transferId,
      }));
    }
    default:
      return [];
  }
}

/**
 * The balance event of a gift-card, store-credit or loyalty op (keyed by the op id), or
 * `undefined` for any other op.
 *
 * @example
 * ```ts
 * opBalanceEvent(giftCardRedeemedOp) // { kind: 'gift_card_redeemed', id: op.id, giftCardId, amount: money(1250, 'EUR') }
 * ```
 */
export function opBalanceEvent(op: FactOp): BalanceEvent | undefined {
  switch (op.type) {
    case 'gift_card.issued':
    case 'gift_card.reloaded':
    case 'gift_card.redeemed': {
      const kind = op.type === 'gift_card.issued' ? 'gift_card_issued' : op.type === 'gift_card.reloaded' ? 'gift_card_reloaded' : 'gift_card_redeemed';
      return { kind, id: op.id, giftCardId: op.payload.giftCardId, amount: money(op.payload.amount, op.payload.currency) };
    }
    case 'store_credit.issued':
    case 'store_credit.redeemed': {
      const kind = op.type === 'store_credit.issued' ? 'store_credit_issued' : 'store_credit_redeemed';
      return { kind, id: op.id, customerId: op.payload.customerId, amount: money(op.payload.amount, op.payload.currency) };
    }
    case 'loyalty.accrued':
    case 'loyalty.redeemed': {
      const kind = op.type === 'loyalty.accrued' ? 'loyalty_accrued' : 'loyalty_redeemed';
      return { kind, id: op.id, customerId: op.payload.customerId, points: op.payload.points };
    }
    default:
      return undefined;
  }
}

/**
 * The shift event of an op (keyed by the op id, timed by its HLC wall time), or `undefined` for
 * ops that are not shift events (`drawer.opened` is counted by {@link noSaleCount} instead, as
 * `shift.ts` has no no-sale event).
 */
export function opShiftEvent(op: FactOp): ShiftEvent | undefined {
  const base = { id: op.id, at: decodeHlc(op.hlc).wallMs };
  switch (op.type) {
    case 'sale.completed':
      return { ...base, kind: 'sale', sale: op.payload };
    case 'refund.completed':
      return { ...base, kind: 'refund', refund: op.payload };
    case 'exchange.completed':
      return { ...base, kind: 'exchange', exchange: op.payload };
    case 'sale.voided':
      return { ...base, kind: 'void', orderId: op.payload.orderId, reason: op.payload.reason };
    case 'shift.opened':
      return { ...base, kind: 'opened', float: op.payload.float };
    case 'shift.closed':
      return { ...base, kind: 'closed', counted: op.payload.counted };
    case 'cash.moved':
      return {
        ...base,
        kind: 'cash_moved',
        direction: op.payload.direction,
        amount: money(op.payload.amount, op.payload.currency),
        reason: op.payload.reason,
      };
    default:
      return undefined;
  }
}

const bySeqThenId = (a: FactOp, b: FactOp): number => (a.seq !== b.seq ? a.seq - b.seq : byString(a.id, b.id));

/** A device's shift openings in `seq` order, and receipt op id → shift id: the opening last before the receipt. */
interface DeviceShifts {
  readonly opens: readonly OpOf<'shift.opened'>[];
  readonly assignment: ReadonlyMap<string, string>;
}

function deviceShifts(facts: ReadonlyMap<string, FactOp>, index: FactIndex, deviceId: string): DeviceShifts {
  const ops = [...(index.byDevice.get(deviceId) ?? [])].flatMap((id) => {
    const op = facts.get(id);
    return op === undefined ? [] : [op];
  });
  ops.sort(bySeqThenId);
  const opens: OpOf<'shift.opened'>[] = [];
  const assignment = new Map<string, string>();
  for (const op of ops) {
    if (op.type === 'shift.opened') opens.push(op);
    else {
      const current = opens.at(-1);
      if (current !== undefined) assignment.set(op.id, current.payload.shiftId);
    }
  }
  return { opens, assignment };
}

/** The shift's currency from its own ops, whatever order they came in: opening, else closing, else cash moved. */
function shiftCurrency(ops: readonly FactOp[], fallback: CurrencyCode): CurrencyCode {
  for (const type of ['shift.opened', 'shift.closed', 'cash.moved'] as const) {
    const found = ops.flatMap((op) => (op.type === type ? [op.payload.currency] : [])).sort();
    if (found[0] !== undefined) return found[0];
  }
  return fallback;
}

function rebuildShift(
  facts: ReadonlyMap<string, FactOp>,
  index: FactIndex,
  shiftId: string,
  fallback: CurrencyCode,
  assignments: (deviceId: string) => DeviceShifts,
): { readonly shift: Shift; readonly alerts: Alert[] } {
  const own = [...(index.byShift.get(shiftId) ?? [])].flatMap((id) => {
    const op = facts.get(id);
    return op === undefined ? [] : [op];
  });
  const devices = new Set(own.flatMap((op) => (op.type === 'shift.opened' ? [op.deviceId] : [])));
  const receipts: FactOp[] = [];
  for (const d of [...devices].sort()) {
    for (const [id, s] of assignments(d).assignment) {
      const op = facts.get(id);
      if (s === shiftId && op !== undefined) receipts.push(op);
    }
  }
  const events = [...own, ...receipts].flatMap((op) => {
    const e = opShiftEvent(op);
    return e === undefined ? [] : [e];
  });
  const { state, alerts } = applyShiftEvents(emptyShift(shiftId, shiftCurrency(own, fallback)), events);
  return { shift: state, alerts };
}

/** Over-refunds of sale lines the sale does not have: sold 0, which the ledger (seeing no sale of the line) cannot tell. */
function unknownLineAlerts(facts: ReadonlyMap<string, FactOp>, index: FactIndex, orderIds: Iterable<string>): Alert[] {
  const out: Alert[] = [];
  for (const orderId of orderIds) {
    const sale = saleFor(facts, index, orderId);
    if (sale === undefined) continue;
    const known = new Set(sale.lines.map((l) => l.lineId));
    const unknown = new Map<string, { refunded: number; productId: string }>();
    for (const id of index.dependents.get(orderId) ?? []) {
      const op = facts.get(id);
      const lines = op?.type === 'refund.completed' ? op.payload.lines : op?.type === 'exchange.completed' ? op.payload.refund.lines : [];
      for (const l of lines) {
        if (known.has(l.saleLineId)) continue;
        const acc = unknown.get(l.saleLineId);
        const productId = acc === undefined || l.productId < acc.productId ? l.productId : acc.productId;
        unknown.set(l.saleLineId, { refunded: (acc?.refunded ?? 0) + l.qty, productId });
      }
    }
    for (const [lineId, u] of unknown) {
      out.push(alert({ kind: 'over_refund', orderId, lineId, productId: u.productId, sold: qtyMilli(0), refunded: qtyMilli(u.refunded) }));
    }
  }
  return out;
}

function subjectOf(op: FactOp): FactSubject {
  if (opBalanceEvent(op) !== undefined) return 'balance_event';
  if (op.type.startsWith('stock.')) return 'stock_movement';
  return 'shift_event';
}

function opConflictAlert(state: DerivedState, id: string): Alert {
  const op = state.facts.get(id);
  // alerts.ts has no subject for a whole op; the reducer the kept op feeds names it.
  return alert({ kind: 'conflicting_fact', subject: op === undefined ? 'shift_event' : subjectOf(op), id });
}

/** Applies the facts `ids` (already in `facts`, not yet in `prev`'s reducers). */
function applyFacts(
  prev: DerivedState,
  facts: ReadonlyMap<string, FactOp>,
  ids: readonly string[],
  factConflicts: ReadonlySet<string>,
): { readonly state: DerivedState; readonly alerts: Alert[] } {
  const index = indexFacts(prev.index, facts, ids);
  const ops = ids.flatMap((id) => {
    const op = facts.get(id);
    return op === undefined ? [] : [op];
  });
  const alerts: Alert[] = [];

  const balanceEvents = ops.flatMap((op) => {
    const e = opBalanceEvent(op);
    return e === undefined ? [] : [e];
  });
  const balances = applyBalanceEvents(prev.balances, balanceEvents);
  alerts.push(...balances.alerts);

  // A sale that arrives after a refund, exchange or void of it changes their movements.
  const lateSale = ops.some((op) => {
    const orderId = saleOrderId(op);
    return orderId !== undefined && prev.index.dependents.has(orderId);
  });
  const movementsOf = (list: Iterable<FactOp>): StockMovement[] =>
    [...list].flatMap((op) => opStockMovements(op, saleFor(facts, index, dependsOnOrder(op))));
  const stock = lateSale
    ? applyMovements(emptyStockLedger(), movementsOf([...facts.values()].sort((a, b) => byString(a.id, b.id))))
    : applyMovements(prev.stock, movementsOf(ops));
  alerts.push(...stock.alerts);

  const touchedOrders = new Set<string>();
  for (const op of ops) {
    const sold = saleOrderId(op);
    if (sold !== undefined) touchedOrders.add(sold);
    const dep = dependsOnOrder(op);
    if (dep !== undefined) touchedOrders.add(dep);
  }
  alerts.push(...unknownLineAlerts(facts, index, touchedOrders));

  const cache = new Map<string, DeviceShifts>();
  const assignments = (deviceId: string): DeviceShifts => {
    let a = cache.get(deviceId);
    if (a === undefined) {
      a = deviceShifts(facts, index, deviceId);
      cache.set(deviceId, a);
    }
    return a;
  };
  // Only the shifts whose events change: a new receipt's own shift; for a new opening, its shift
  // and the one it splits (the device's previous opening, whose later receipts move over).
  const affected = new Set<string>();
  for (const op of ops) {
    const shiftId = shiftIdOf(op);
    if (shiftId !== undefined) affected.add(shiftId);
    if (isReceiptFact(op)) {
      const s = assignments(op.deviceId).assignment.get(op.id);
      if (s !== undefined) affected.add(s);
    } else if (op.type === 'shift.opened') {
      const { opens } = assignments(op.deviceId);
      const before = opens[opens.indexOf(op) - 1];
      if (before !== undefined) affected.add(before.payload.shiftId);
    }
  }
  const shifts = new Map(prev.shifts);
  for (const shiftId of [...affected].sort()) {
    const r = rebuildShift(facts, index, shiftId, prev.currency, assignments);
    shifts.set(shiftId, r.shift);
    alerts.push(...r.alerts);
  }

  const next: DerivedState = { ...prev, facts, factConflicts, index, stock: stock.state, balances: balances.state, shifts };
  return { state: next, alerts };
}

/**
 * Every alert the state holds now: oversells, over-refunds, negative balances, shift alerts and
 * conflicting facts, sorted by key.
 *
 * @example
 * ```ts
 * derivedAlerts(state).filter((a) => a.kind === 'oversell')
 * ```
 */
export function derivedAlerts(state: DerivedState): Alert[] {
  const out: Alert[] = [...stockAlerts(state.stock), ...balanceAlerts(state.balances)];
  for (const id of [...state.shifts.keys()].sort()) {
    const shift = state.shifts.get(id);
    if (shift !== undefined) out.push(...shiftAlerts(shift));
  }
  out.push(...unknownLineAlerts(state.facts, state.index, state.index.dependents.keys()));
  for (const id of state.factConflicts) out.push(opConflictAlert(state, id));
  return sortAlerts(out);
}

/** How often the drawer of a shift was opened without a sale (`drawer.opened` ops naming it). */
export function noSaleCount(state: DerivedState, shiftId: string): number {
  let n = 0;
  for (const id of state.index.byShift.get(shiftId) ?? []) if (state.facts.get(id)?.type === 'drawer.opened') n += 1;
  return n;
}

/**
 * The shift a receipt op (sale, refund, exchange, void) counts in, or `undefined` when no
 * `shift.opened` of its device precedes it (by `seq`) among the facts seen.
 */
export function shiftOfReceipt(state: DerivedState, opId: string): string | undefined {
  const op = state.facts.get(opId);
  if (op === undefined || !isReceiptFact(op)) return undefined;
  return deviceShifts(state.facts, state.index, op.deviceId).assignment.get(opId);
}

/**
 * Receipt ops in no shift, sorted by op id: their register's `shift.opened` has not arrived (or
 * was never made). They count in stock and nowhere in shift totals until it does.
 */
export function unassignedReceipts(state: DerivedState): string[] {
  const out: string[] = [];
  for (const deviceId of state.index.byDevice.keys()) {
    const assigned = deviceShifts(state.facts, state.index, deviceId).assignment;
    for (const id of state.index.byDevice.get(deviceId) ?? []) {
      const op = state.facts.get(id);
      if (op !== undefined && isReceiptFact(op) && !assigned.has(id)) out.push(id);
    }
  }
  return out.sort();
}

/**
 * The merged document of (docType, docId), or `undefined` when no edit of it was seen.
 *
 * @example
 * ```ts
 * docValues(referenceDoc(state, 'product', productId) ?? emptyDoc()).price // 275
 * ```
 */
export function referenceDoc(state: DerivedState, docType: DocType, docId: string): ReferenceDoc | undefined {
  return state.docs.get(docKey(docType, docId))?.doc;
}

/** Every merge conflict among the writes the documents hold, sorted by id. */
export function referenceConflicts(state: DerivedState): DocConflict[] {
  const out: DocConflict[] = [];
  for (const e of state.docs.values()) for (const c of docConflicts(e.doc)) out.push(docConflict(e.docType, e.docId, c));
  return out.sort((a, b) => byString(a.id, b.id));
}
