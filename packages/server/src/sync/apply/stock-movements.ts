/**
 * The stock ledger's movements as rows. Movement ids are core's deterministic ids
 * (`opStockMovements`), so the register and the server agree on them and a movement stored twice
 * is one movement.
 *
 * Two ways a movement id can come back with other contents:
 * - `rederive`: a refund, exchange or void arrived before the sale it names; when the sale arrives
 *   its movements are derived again (a refund line takes its variant from the sale line; a void
 *   puts back every line of its sale), and the new movement replaces the old one.
 * - `new`: two different facts claim one movement id (a register reusing a movement id). Core's
 *   rule keeps the one with the smaller canonical JSON, whatever the arrival order, and raises
 *   `conflicting_fact`.
 * Either way the old contribution is taken back and the new one added, so the sums stay right.
 */
import type { Transaction } from 'kysely';
import { alert, canonicalJson, movementDelta, resolveSameId } from '@kassa/core';
import type { StockMovement } from '@kassa/core';
import { z } from 'zod';
import type { Database } from '../../db/schema.js';
import { raiseAlert } from './alerts.js';
import type { DerivedEffects } from './derived-effects.js';

/** A stored `movement_json` read back: checked for the fields the sums use. */
const StoredMovementSchema = z.looseObject({
  kind: z.enum(['sale', 'refund', 'adjustment', 'receipt', 'count', 'transfer_out', 'transfer_in']),
  id: z.string(),
  productId: z.string(),
  variantId: z.string().optional(),
});

function readMovement(json: string): StockMovement {
  // Written by recordMovements from a core StockMovement; the check guards against a hand-edited row.
  return StoredMovementSchema.parse(JSON.parse(json)) as unknown as StockMovement;
}

/** Where movements come from. */
export interface MovementSource {
  readonly orgId: string;
  /** The store whose stock moves: the store of the op's register. */
  readonly storeId: string;
  readonly opId: string;
  readonly now: number;
}

const CHUNK = 200;

/**
 * Stores movements once each and adds their contributions to `effects`.
 *
 * @param mode `new` for a fact just applied, `rederive` when a late sale re-derives its dependents.
 */
export async function recordMovements(
  trx: Transaction<Database>,
  source: MovementSource,
  movements: readonly StockMovement[],
  effects: DerivedEffects,
  mode: 'new' | 'rederive',
): Promise<void> {
  if (movements.length === 0) return;
  const rowOf = (m: StockMovement) => ({
    org_id: source.orgId,
    store_id: source.storeId,
    id: m.id,
    op_id: source.opId,
    kind: m.kind,
    product_id: m.productId,
    variant_id: m.variantId ?? '',
    delta: movementDelta(m),
    movement_json: canonicalJson(m),
    created_at: source.now,
  });

  const inserted = new Set<string>();
  for (let i = 0; i < movements.length; i += CHUNK) {
    const rows = await trx
      .insertInto('stock_movements')
      .values(movements.slice(i, i + CHUNK).map(rowOf))
      .onConflict((oc) => oc.columns(['org_id', 'store_id', 'id']).doNothing())
      .returning('id')
      .execute();
    for (const r of rows) inserted.add(r.id);
  }
  const others: StockMovement[] = [];
  for (const m of movements) {
    if (inserted.has(m.id)) effects.addMovement(source.storeId, m, 1);
    else others.push(m);
  }
  if (others.length === 0) return;

  const existing = new Map<string, string>();
  for (let i = 0; i < others.length; i += CHUNK) {
    const rows = await trx
      .selectFrom('stock_movements')
      .select(['id', 'movement_json'])
      .where('org_id', '=', source.orgId)
      .where('store_id', '=', source.storeId)
      .where(
        'id',
        'in',
        others.slice(i, i + CHUNK).map((m) => m.id),
      )
      .execute();
    for (const r of rows) existing.set(r.id, r.movement_json);
  }
  for (const m of others) {
    const json = existing.get(m.id);
    // The insert met a row under this id, so `json` is there; equal contents: nothing to do.
    if (json === undefined || json === canonicalJson(m)) continue;
    const old = readMovement(json);
    let replace = mode === 'rederive';
    if (mode === 'new') {
      const { fact } = resolveSameId(old, m);
      replace = fact === m;
      const data = alert({ kind: 'conflicting_fact', subject: 'stock_movement', id: m.id });
      await raiseAlert(trx, source.orgId, { key: `${data.key}@${source.storeId}`, kind: 'conflicting_fact', storeId: source.storeId, data: { ...data, opId: source.opId } }, source.now);
    }
    if (!replace) continue;
    await trx
      .updateTable('stock_movements')
      .set({ op_id: source.opId, kind: m.kind, product_id: m.productId, variant_id: m.variantId ?? '', delta: movementDelta(m), movement_json: canonicalJson(m) })
      .where('org_id', '=', source.orgId)
      .where('store_id', '=', source.storeId)
      .where('id', '=', m.id)
      .execute();
    effects.addMovement(source.storeId, old, -1);
    effects.addMovement(source.storeId, m, 1);
  }
}
