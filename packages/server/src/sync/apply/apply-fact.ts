/**
 * Applying fact ops (DESIGN §2): each fact is inserted once, by op id, with its typed projection
 * (`sales`, `refunds`), and its contributions to derived state — stock movements (core's
 * `opStockMovements`, so register and server agree) and balance events — go to the batch's
 * {@link DerivedEffects}. Facts are never merged and never rejected for what they say.
 *
 * A refund, exchange or void needs the sale it names to know its movements (the variant of a
 * refunded line, every line of a voided sale). When it arrives first it is applied with what is
 * known; when the sale arrives, the movements of every op depending on it are derived again. So the
 * result is the same in any arrival order, as core's `deriveState` promises.
 *
 * A {@link FactBatch} collects a push batch's facts and writes them at the end in a few multi-row
 * statements:
 *
 * ```
 *   add(op) × n:  rows and movements collected; a sale of this batch is known to later ops at once
 *   flush():      facts → refunds → sales (which orders are new?) → movements (new) →
 *                 movements of the new orders' dependents (rederive) → derived sums and alerts
 * ```
 */
import type { Insertable, Transaction } from 'kysely';
import { decodeHlc, isFactOp, OpSchema, opBalanceEvent, opStockMovements } from '@kassa/core';
import type { FactOp, SaleRef, StockMovement } from '@kassa/core';
import type { Database, FactsTable, RefundsTable, SalesTable } from '../../db/schema.js';
import type { ChangeInput } from '../change-log.js';
import { DerivedEffects } from './derived-effects.js';
import { recordMovements } from './stock-movements.js';
import type { SourcedMovement } from './stock-movements.js';

/** The change-log entity of an applied fact; `data` is the op. */
export const FACT_ENTITY = 'fact';

/** Reads a stored fact back (`facts.op_json`, written from a parsed op). */
export function readFactOp(json: string): FactOp {
  const op = OpSchema.parse(JSON.parse(json));
  if (!isFactOp(op)) throw new Error(`stored fact ${op.id} is a ${op.type}, not a fact`);
  return op;
}

/** Fact types whose stock movements core derives with the sale they name (`opStockMovements(op, sale)`). */
const DEPENDS_ON_SALE: ReadonlySet<string> = new Set(['refund.completed', 'exchange.completed', 'sale.voided']);

/** Rows per multi-row insert / `in (…)` list: 500 rows of ≤ 14 columns stay far below either database's parameter limit. */
const CHUNK = 500;

async function insertChunked<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

/** The facts of one push batch, applied together at {@link FactBatch.flush}. */
export class FactBatch {
  readonly effects: DerivedEffects;
  readonly #trx: Transaction<Database>;
  readonly #orgId: string;
  readonly #registerId: string;
  readonly #now: number;
  readonly #facts: Insertable<FactsTable>[] = [];
  readonly #refunds: Insertable<RefundsTable>[] = [];
  readonly #sales: Insertable<SalesTable>[] = [];
  readonly #movements: SourcedMovement[] = [];
  /** Sales of this batch by order id (the first op to claim an order), for later ops and rederiving. */
  readonly #batchSales = new Map<string, SaleRef>();

  constructor(trx: Transaction<Database>, orgId: string, registerId: string, now: number) {
    this.#trx = trx;
    this.#orgId = orgId;
    this.#registerId = registerId;
    this.#now = now;
    this.effects = new DerivedEffects(orgId);
  }

  /** The sale of `orderId`: of this batch, else as stored (a sale, or an exchange's sale part). */
  async #saleOf(orderId: string): Promise<SaleRef | undefined> {
    const inBatch = this.#batchSales.get(orderId);
    if (inBatch !== undefined) return inBatch;
    const row = await this.#trx
      .selectFrom('sales')
      .innerJoin('facts', (j) => j.onRef('facts.org_id', '=', 'sales.org_id').onRef('facts.id', '=', 'sales.op_id'))
      .select('facts.op_json')
      .where('sales.org_id', '=', this.#orgId)
      .where('sales.order_id', '=', orderId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const op = readFactOp(row.op_json);
    if (op.type === 'sale.completed') return op.payload;
    if (op.type === 'exchange.completed') return op.payload.sale;
    return undefined;
  }

  /** The sales of several orders: this batch's, then the stored ones in a few queries. */
  async #salesOf(orderIds: readonly string[]): Promise<Map<string, SaleRef>> {
    const out = new Map<string, SaleRef>();
    const missing: string[] = [];
    for (const id of orderIds) {
      const sale = this.#batchSales.get(id);
      if (sale === undefined) missing.push(id);
      else out.set(id, sale);
    }
    await insertChunked(missing, async (ids) => {
      const rows = await this.#trx
        .selectFrom('sales')
        .innerJoin('facts', (j) => j.onRef('facts.org_id', '=', 'sales.org_id').onRef('facts.id', '=', 'sales.op_id'))
        .select(['sales.order_id', 'facts.op_json'])
        .where('sales.org_id', '=', this.#orgId)
        .where('sales.order_id', 'in', ids)
        .execute();
      for (const row of rows) {
        const op = readFactOp(row.op_json);
        if (op.type === 'sale.completed') out.set(row.order_id, op.payload);
        else if (op.type === 'exchange.completed') out.set(row.order_id, op.payload.sale);
      }
    });
    return out;
  }

  #sale(op: FactOp, sale: SaleRef & { total: number; taxTotal: number; discountTotal: number; customerId?: string | undefined }, receipt: { receiptNo: string; currency: string }, at: number): void {
    if (this.#batchSales.has(sale.orderId)) return;
    this.#batchSales.set(sale.orderId, { orderId: sale.orderId, lines: sale.lines });
    this.#sales.push({
      org_id: this.#orgId,
      order_id: sale.orderId,
      store_id: op.storeId,
      op_id: op.id,
      register_id: this.#registerId,
      receipt_no: receipt.receiptNo,
      currency: receipt.currency,
      total: sale.total,
      tax_total: sale.taxTotal,
      discount_total: sale.discountTotal,
      customer_id: sale.customerId ?? null,
      sold_at: at,
    });
  }

  #refund(op: FactOp, kind: RefundsTable['kind'], refundId: string | null, originalOrderId: string | null, receipt: { receiptNo: string; currency: string; total: number }, at: number): void {
    this.#refunds.push({
      org_id: this.#orgId,
      op_id: op.id,
      kind,
      store_id: op.storeId,
      refund_id: refundId,
      original_order_id: originalOrderId,
      receipt_no: receipt.receiptNo,
      currency: receipt.currency,
      total: receipt.total,
      refunded_at: at,
    });
  }

  #move(op: FactOp, movements: readonly StockMovement[]): void {
    // What core derives from the op alone is stored without its JSON (stock-movements.ts).
    const derivable = !DEPENDS_ON_SALE.has(op.type);
    for (const movement of movements) this.#movements.push({ storeId: op.storeId, opId: op.id, movement, derivable });
  }

  /**
   * Adds a fact op (already known to be new: the caller deduplicated it by id).
   *
   * @param op the op at the current schema version, its `hlc` the one the server applied.
   * @param seq the pushing register's seq it took.
   * @param deviceHlc the HLC the register sent (differs from `op.hlc` when it was clamped).
   * @returns the changes to append to the change log for it, by reference to the fact: append
   *   them in the transaction that calls {@link FactBatch.flush}.
   */
  async add(op: FactOp, seq: number, deviceHlc: string): Promise<ChangeInput[]> {
    this.#facts.push({
      org_id: this.#orgId,
      id: op.id,
      store_id: op.storeId,
      register_id: this.#registerId,
      seq,
      type: op.type,
      staff_id: op.staffId,
      approved_by: op.approvedBy ?? null,
      hlc: op.hlc,
      device_hlc: deviceHlc,
      device_time: op.deviceTime,
      op_json: JSON.stringify(op),
      received_at: this.#now,
    });
    const at = decodeHlc(op.hlc).wallMs;
    switch (op.type) {
      case 'sale.completed':
        this.#sale(op, op.payload, op.payload, at);
        this.#move(op, opStockMovements(op));
        break;
      case 'exchange.completed': {
        const p = op.payload;
        const original = p.refund.originalOrderId;
        this.#refund(op, 'exchange', p.refund.refundId, original ?? null, { ...p, total: p.refund.total }, at);
        const sale = original === undefined ? undefined : await this.#saleOf(original);
        this.#sale(op, p.sale, p, at);
        this.#move(op, opStockMovements(op, sale));
        break;
      }
      case 'refund.completed': {
        const p = op.payload;
        this.#refund(op, 'refund', p.refundId, p.originalOrderId ?? null, p, at);
        this.#move(op, opStockMovements(op, p.originalOrderId === undefined ? undefined : await this.#saleOf(p.originalOrderId)));
        break;
      }
      case 'sale.voided':
        this.#refund(op, 'void', null, op.payload.orderId, op.payload, at);
        this.#move(op, opStockMovements(op, await this.#saleOf(op.payload.orderId)));
        break;
      default: {
        this.#move(op, opStockMovements(op));
        const event = opBalanceEvent(op);
        if (event !== undefined) this.effects.addBalance(event);
      }
    }

    // Logged by reference: the change log points at the `facts` row written by flush() in this
    // transaction instead of holding a second copy of the op.
    const changes: ChangeInput[] = [{ entity: FACT_ENTITY, entityId: op.id, storeId: op.storeId, op: 'upsert', data: op, stored: 'facts' }];
    // A transfer out is addressed to the receiving store: its registers see it coming.
    if (op.type === 'stock.transferred' && op.payload.direction === 'out' && op.payload.toStoreId !== op.storeId) {
      changes.push({ entity: FACT_ENTITY, entityId: op.id, storeId: op.payload.toStoreId, op: 'upsert', data: op, stored: 'facts' });
    }
    return changes;
  }

  /** Writes the batch's facts, projections, movements and derived sums (see the drawing above). */
  async flush(): Promise<void> {
    const trx = this.#trx;
    await insertChunked(this.#facts, (rows) => trx.insertInto('facts').values(rows).execute());
    await insertChunked(this.#refunds, (rows) => trx.insertInto('refunds').values(rows).onConflict((oc) => oc.columns(['org_id', 'op_id']).doNothing()).execute());
    // An order first claimed now: ops that depend on it and arrived before it get their movements again.
    const arrived: string[] = [];
    await insertChunked(this.#sales, async (rows) => {
      const inserted = await trx.insertInto('sales').values(rows).onConflict((oc) => oc.columns(['org_id', 'order_id']).doNothing()).returning('order_id').execute();
      arrived.push(...inserted.map((r) => r.order_id));
    });
    await recordMovements(trx, this.#orgId, this.#now, this.#movements, this.effects, 'new');
    await this.#rederive(arrived);
    await this.effects.flush(trx, this.#now, (ids) => this.#salesOf(ids));
  }

  async #rederive(orderIds: readonly string[]): Promise<void> {
    const again: SourcedMovement[] = [];
    await insertChunked(orderIds, async (ids) => {
      const rows = await this.#trx
        .selectFrom('refunds')
        .innerJoin('facts', (j) => j.onRef('facts.org_id', '=', 'refunds.org_id').onRef('facts.id', '=', 'refunds.op_id'))
        .select(['facts.id', 'facts.store_id', 'facts.op_json', 'refunds.original_order_id'])
        .where('refunds.org_id', '=', this.#orgId)
        .where('refunds.original_order_id', 'in', ids)
        .orderBy('facts.id')
        .execute();
      for (const row of rows) {
        const sale = row.original_order_id === null ? undefined : this.#batchSales.get(row.original_order_id);
        if (sale === undefined) continue;
        for (const movement of opStockMovements(readFactOp(row.op_json), sale)) again.push({ storeId: row.store_id, opId: row.id, movement });
      }
    });
    await recordMovements(this.#trx, this.#orgId, this.#now, again, this.effects, 'rederive');
    for (const orderId of orderIds) this.effects.touchOrder(orderId);
  }
}
