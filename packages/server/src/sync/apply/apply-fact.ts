/**
 * Applying a fact op (DESIGN §2): the fact is inserted once, by op id, with its typed projection
 * (`sales`, `refunds`), and its contributions to derived state — stock movements (core's
 * `opStockMovements`, so register and server agree), balance events — go to the batch's
 * {@link DerivedEffects}. Facts are never merged and never rejected for what they say.
 *
 * A refund, exchange or void needs the sale it names to know its movements (the variant of a
 * refunded line, every line of a voided sale). When it arrives first it is applied with what is
 * known; when the sale arrives, the movements of every op depending on it are derived again. So
 * the result is the same in any arrival order, as core's `deriveState` promises.
 */
import type { Transaction } from 'kysely';
import { decodeHlc, isFactOp, OpSchema, opBalanceEvent, opStockMovements } from '@kassa/core';
import type { FactOp, SaleRef } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import type { ChangeInput } from '../change-log.js';
import type { DerivedEffects } from './derived-effects.js';
import { recordMovements } from './stock-movements.js';

/** Where and when a fact is applied. */
export interface FactContext {
  readonly trx: Transaction<Database>;
  readonly orgId: string;
  /** The register that pushed it (the token's). */
  readonly registerId: string;
  readonly now: number;
  readonly effects: DerivedEffects;
}

/** The change-log entity of an applied fact; `data` is the op. */
export const FACT_ENTITY = 'fact';

/** Reads a stored fact back (`facts.op_json`, written from a parsed op). */
export function readFactOp(json: string): FactOp {
  const op = OpSchema.parse(JSON.parse(json));
  if (!isFactOp(op)) throw new Error(`stored fact ${op.id} is a ${op.type}, not a fact`);
  return op;
}

/** The sale of `orderId` as stored (a sale, or an exchange's sale part), or undefined. */
async function storedSale(ctx: FactContext, orderId: string): Promise<SaleRef | undefined> {
  const row = await ctx.trx
    .selectFrom('sales')
    .innerJoin('facts', (j) => j.onRef('facts.org_id', '=', 'sales.org_id').onRef('facts.id', '=', 'sales.op_id'))
    .select('facts.op_json')
    .where('sales.org_id', '=', ctx.orgId)
    .where('sales.order_id', '=', orderId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const op = readFactOp(row.op_json);
  if (op.type === 'sale.completed') return op.payload;
  if (op.type === 'exchange.completed') return op.payload.sale;
  return undefined;
}

/** The sale of `orderId` arrived: derive the movements of the ops that depend on it again. */
async function rederiveDependents(ctx: FactContext, orderId: string, sale: SaleRef): Promise<void> {
  const rows = await ctx.trx
    .selectFrom('refunds')
    .innerJoin('facts', (j) => j.onRef('facts.org_id', '=', 'refunds.org_id').onRef('facts.id', '=', 'refunds.op_id'))
    .select(['facts.id', 'facts.store_id', 'facts.op_json'])
    .where('refunds.org_id', '=', ctx.orgId)
    .where('refunds.original_order_id', '=', orderId)
    .orderBy('facts.id')
    .execute();
  for (const row of rows) {
    const dependent = readFactOp(row.op_json);
    const source = { orgId: ctx.orgId, storeId: row.store_id, opId: row.id, now: ctx.now };
    await recordMovements(ctx.trx, source, opStockMovements(dependent, sale), ctx.effects, 'rederive');
  }
  ctx.effects.touchOrder(orderId);
}

/** Records the sale part of a sale or exchange; true when this op is the first to claim the order. */
async function insertSale(
  ctx: FactContext,
  op: FactOp,
  sale: { orderId: string; total: number; taxTotal: number; discountTotal: number; customerId?: string | undefined },
  receipt: { receiptNo: string; currency: string },
  at: number,
): Promise<boolean> {
  const rows = await ctx.trx
    .insertInto('sales')
    .values({
      org_id: ctx.orgId,
      order_id: sale.orderId,
      store_id: op.storeId,
      op_id: op.id,
      register_id: ctx.registerId,
      receipt_no: receipt.receiptNo,
      currency: receipt.currency,
      total: sale.total,
      tax_total: sale.taxTotal,
      discount_total: sale.discountTotal,
      customer_id: sale.customerId ?? null,
      sold_at: at,
    })
    .onConflict((oc) => oc.columns(['org_id', 'order_id']).doNothing())
    .returning('order_id')
    .execute();
  return rows.length > 0;
}

async function insertRefund(
  ctx: FactContext,
  op: FactOp,
  row: { kind: 'refund' | 'exchange' | 'void'; refundId: string | null; originalOrderId: string | null; receiptNo: string; currency: string; total: number },
  at: number,
): Promise<void> {
  await ctx.trx
    .insertInto('refunds')
    .values({
      org_id: ctx.orgId,
      op_id: op.id,
      kind: row.kind,
      store_id: op.storeId,
      refund_id: row.refundId,
      original_order_id: row.originalOrderId,
      receipt_no: row.receiptNo,
      currency: row.currency,
      total: row.total,
      refunded_at: at,
    })
    .onConflict((oc) => oc.columns(['org_id', 'op_id']).doNothing())
    .execute();
}

/**
 * Inserts a fact op (already known to be new: the caller deduplicated it by id) and adds its
 * contributions to the batch's derived state.
 *
 * @param op the op at the current schema version, its `hlc` the one the server applied.
 * @param seq the pushing register's seq it took.
 * @param deviceHlc the HLC the register sent (differs from `op.hlc` when it was clamped).
 * @returns the changes to append to the change log for it.
 */
export async function applyFact(ctx: FactContext, op: FactOp, seq: number, deviceHlc: string): Promise<ChangeInput[]> {
  await ctx.trx
    .insertInto('facts')
    .values({
      org_id: ctx.orgId,
      id: op.id,
      store_id: op.storeId,
      register_id: ctx.registerId,
      seq,
      type: op.type,
      staff_id: op.staffId,
      approved_by: op.approvedBy ?? null,
      hlc: op.hlc,
      device_hlc: deviceHlc,
      device_time: op.deviceTime,
      op_json: JSON.stringify(op),
      received_at: ctx.now,
    })
    .execute();

  const at = decodeHlc(op.hlc).wallMs;
  const source = { orgId: ctx.orgId, storeId: op.storeId, opId: op.id, now: ctx.now };
  const movements = (sale?: SaleRef) => recordMovements(ctx.trx, source, opStockMovements(op, sale), ctx.effects, 'new');

  switch (op.type) {
    case 'sale.completed': {
      const p = op.payload;
      const first = await insertSale(ctx, op, p, p, at);
      await movements();
      if (first) await rederiveDependents(ctx, p.orderId, p);
      break;
    }
    case 'exchange.completed': {
      const p = op.payload;
      const original = p.refund.originalOrderId;
      await insertRefund(ctx, op, { kind: 'exchange', refundId: p.refund.refundId, originalOrderId: original ?? null, receiptNo: p.receiptNo, currency: p.currency, total: p.refund.total }, at);
      const first = await insertSale(ctx, op, p.sale, p, at);
      await movements(original === undefined ? undefined : await storedSale(ctx, original));
      if (first) await rederiveDependents(ctx, p.sale.orderId, p.sale);
      break;
    }
    case 'refund.completed': {
      const p = op.payload;
      const original = p.originalOrderId;
      await insertRefund(ctx, op, { kind: 'refund', refundId: p.refundId, originalOrderId: original ?? null, receiptNo: p.receiptNo, currency: p.currency, total: p.total }, at);
      await movements(original === undefined ? undefined : await storedSale(ctx, original));
      break;
    }
    case 'sale.voided': {
      const p = op.payload;
      await insertRefund(ctx, op, { kind: 'void', refundId: null, originalOrderId: p.orderId, receiptNo: p.receiptNo, currency: p.currency, total: p.total }, at);
      await movements(await storedSale(ctx, p.orderId));
      break;
    }
    default: {
      await movements();
      const event = opBalanceEvent(op);
      if (event !== undefined) ctx.effects.addBalance(event);
    }
  }

  const changes: ChangeInput[] = [{ entity: FACT_ENTITY, entityId: op.id, storeId: op.storeId, op: 'upsert', data: op }];
  // A transfer out is addressed to the receiving store: its registers see it coming.
  if (op.type === 'stock.transferred' && op.payload.direction === 'out' && op.payload.toStoreId !== op.storeId) {
    changes.push({ entity: FACT_ENTITY, entityId: op.id, storeId: op.payload.toStoreId, op: 'upsert', data: op });
  }
  return changes;
}
