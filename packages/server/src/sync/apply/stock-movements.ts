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
import { alert, canonicalJson, isFactOp, movementDelta, OpSchema, opStockMovements, resolveSameId } from '@kassa/core';
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

/** A movement and where it comes from: the store whose stock moves and the op it belongs to. */
export interface SourcedMovement {
  readonly storeId: string;
  readonly opId: string;
  readonly movement: StockMovement;
  /**
   * The movement is what core's `opStockMovements` derives from its op (stored in `facts`) alone,
   * with no sale: it is stored without its JSON (`movement_json` ''), read back by deriving it
   * again. Refunds, exchanges and voids depend on their sale and keep their JSON.
   */
  readonly derivable?: boolean;
}

/** `movement_json` of a movement derivable from its op (see {@link SourcedMovement.derivable}). */
export const DERIVED_MOVEMENT = '';

/** A movement stored without its JSON, derived again from its op (the `facts` row `opId`). */
async function derivedMovement(trx: Transaction<Database>, orgId: string, opId: string, id: string): Promise<StockMovement> {
  const row = await trx.selectFrom('facts').select('op_json').where('org_id', '=', orgId).where('id', '=', opId).executeTakeFirst();
  const op = row === undefined ? undefined : OpSchema.parse(JSON.parse(row.op_json));
  const movement = op !== undefined && isFactOp(op) ? opStockMovements(op).find((m) => m.id === id) : undefined;
  if (movement === undefined) throw new Error(`stock movement ${id} of organisation ${orgId} is stored without its JSON, and op ${opId} does not derive it`);
  return movement;
}

/** Rows per multi-row insert: 10 columns × 1,000 stays far below either database's parameter limit. */
const CHUNK = 1000;

const key = (storeId: string, id: string): string => JSON.stringify([storeId, id]);

/**
 * Stores movements once each and adds their contributions to `effects`.
 *
 * @param mode `new` for facts just applied, `rederive` when a late sale re-derives its dependents.
 */
export async function recordMovements(
  trx: Transaction<Database>,
  orgId: string,
  now: number,
  movements: readonly SourcedMovement[],
  effects: DerivedEffects,
  mode: 'new' | 'rederive',
): Promise<void> {
  if (movements.length === 0) return;
  const rowOf = ({ storeId, opId, movement: m, derivable }: SourcedMovement) => ({
    org_id: orgId,
    store_id: storeId,
    id: m.id,
    op_id: opId,
    kind: m.kind,
    product_id: m.productId,
    variant_id: m.variantId ?? '',
    delta: movementDelta(m),
    movement_json: derivable === true ? DERIVED_MOVEMENT : canonicalJson(m),
    created_at: now,
  });

  // In a statement that meets one id twice, the first row is stored and the second is an "other".
  const inserted = new Set<string>();
  for (let i = 0; i < movements.length; i += CHUNK) {
    const rows = await trx
      .insertInto('stock_movements')
      .values(movements.slice(i, i + CHUNK).map(rowOf))
      .onConflict((oc) => oc.columns(['org_id', 'store_id', 'id']).doNothing())
      .returning(['store_id', 'id'])
      .execute();
    for (const r of rows) inserted.add(key(r.store_id, r.id));
  }
  const others: SourcedMovement[] = [];
  for (const s of movements) {
    const k = key(s.storeId, s.movement.id);
    if (inserted.has(k)) {
      effects.addMovement(s.storeId, s.movement, 1);
      inserted.delete(k); // a second movement under this id in the same call is an "other"
    } else {
      others.push(s);
    }
  }
  for (const s of others) {
    const { storeId, opId, movement: m, derivable } = s;
    const row = await trx
      .selectFrom('stock_movements')
      .select(['movement_json', 'op_id'])
      .where('org_id', '=', orgId)
      .where('store_id', '=', storeId)
      .where('id', '=', m.id)
      .executeTakeFirstOrThrow();
    const old = row.movement_json === DERIVED_MOVEMENT ? await derivedMovement(trx, orgId, row.op_id, m.id) : readMovement(row.movement_json);
    if (canonicalJson(old) === canonicalJson(m)) continue;
    let replace = mode === 'rederive';
    if (mode === 'new') {
      replace = resolveSameId(old, m).fact === m;
      const data = alert({ kind: 'conflicting_fact', subject: 'stock_movement', id: m.id });
      await raiseAlert(trx, orgId, { key: `${data.key}@${storeId}`, kind: 'conflicting_fact', storeId, data: { ...data, opId } }, now);
    }
    if (!replace) continue;
    await trx
      .updateTable('stock_movements')
      .set({ op_id: opId, kind: m.kind, product_id: m.productId, variant_id: m.variantId ?? '', delta: movementDelta(m), movement_json: derivable === true ? DERIVED_MOVEMENT : canonicalJson(m) })
      .where('org_id', '=', orgId)
      .where('store_id', '=', storeId)
      .where('id', '=', m.id)
      .execute();
    effects.addMovement(storeId, old, -1);
    effects.addMovement(storeId, m, 1);
  }
}
