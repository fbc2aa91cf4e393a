/**
 * Small readers and writers of local state that several commands share: the open shift, stock
 * levels, and recorded sales and refunds read back through core's schemas.
 */
import {
  movementDelta,
  RefundCompletedPayloadSchema,
  SaleCompletedPayloadSchema,
  type CompletedRefund,
  type CompletedSale,
  type StockMovement,
} from '@kassa/core';
import { CorruptRowError, NoOpenShiftError, NotFoundError } from '../store/errors.js';
import type { SqlDb } from '../store/sql-db.js';

/** The open shift: its id and currency. */
export interface OpenShift {
  readonly id: string;
  readonly currency: string;
  readonly openOpId: string;
  readonly openedAt: number;
}

/** The open shift, or undefined. */
export function findOpenShift(db: SqlDb): OpenShift | undefined {
  const row = db.get<{ id: string; currency: string; open_op_id: string; opened_at: number }>(
    "SELECT id, currency, open_op_id, opened_at FROM shifts WHERE status = 'open'",
  );
  return row === undefined ? undefined : { id: row.id, currency: row.currency, openOpId: row.open_op_id, openedAt: row.opened_at };
}

/** The open shift. @throws NoOpenShiftError. */
export function requireOpenShift(db: SqlDb): OpenShift {
  const shift = findOpenShift(db);
  if (shift === undefined) throw new NoOpenShiftError();
  return shift;
}

/** Stock on hand as known (thousandths; 0 for a product never seen). */
export function onHandOf(db: SqlDb, productId: string, variantId: string | undefined): number {
  return db.get<{ on_hand: number }>('SELECT on_hand FROM stock_levels WHERE product_id = ? AND variant_id = ?', [productId, variantId ?? ''])?.on_hand ?? 0;
}

/** Moves stock levels by the deltas of core's stock movements. Levels may go negative (an oversell). */
export function applyStock(db: SqlDb, movements: readonly StockMovement[], now: number): void {
  for (const m of movements) {
    const delta = movementDelta(m);
    if (delta === 0) continue;
    db.run(
      `INSERT INTO stock_levels (product_id, variant_id, on_hand, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (product_id, variant_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at`,
      [m.productId, m.variantId ?? '', delta, now],
    );
  }
}

/** A recorded sale with its status. */
export interface RecordedSale {
  readonly sale: CompletedSale & { readonly prevHash: string };
  readonly status: string;
  readonly shiftId: string;
}

/** A sale recorded on this register. @throws NotFoundError. */
export function readSale(db: SqlDb, orderId: string): RecordedSale {
  const row = db.get<{ payload_json: string; status: string; shift_id: string }>('SELECT payload_json, status, shift_id FROM orders WHERE id = ?', [orderId]);
  if (row === undefined) throw new NotFoundError('order', orderId);
  const parsed = SaleCompletedPayloadSchema.safeParse(JSON.parse(row.payload_json));
  if (!parsed.success) throw new CorruptRowError('orders', parsed.error.message);
  return { sale: parsed.data, status: row.status, shiftId: row.shift_id };
}

/** Every refund of a sale recorded on this register, in the order they were made. */
export function readRefundsOf(db: SqlDb, orderId: string): CompletedRefund[] {
  return db.all<{ payload_json: string }>('SELECT payload_json FROM refunds WHERE original_order_id = ? ORDER BY at, id', [orderId]).map((r) => {
    const parsed = RefundCompletedPayloadSchema.safeParse(JSON.parse(r.payload_json));
    if (!parsed.success) throw new CorruptRowError('refunds', parsed.error.message);
    return parsed.data;
  });
}
