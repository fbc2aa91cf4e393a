/**
 * Which permission limits a store had when (DESIGN §4: the server checks an op against the roles
 * AND limits in force at the op's time). A discount given at 14:00 under a 20 % cashier limit stays
 * allowed when the manager lowers the limit to 10 % at 15:00 and the register syncs at 16:00.
 *
 * `store_limits_history` holds one row per change of `settings.limits`, in force from
 * `effective_from` (server ms, like `staff_role_history`) until the next row's. The store's settings
 * keep the current limits; the history is what the push reads.
 *
 * ```
 *   op time t ──► latest row with effective_from ≤ t ─ found ─► its limits
 *                   │ none: t is before the first row (a clock far behind, before the store existed)
 *                   └─► the first row: the limits the store was created with
 *                         │ no rows at all: the limits never changed
 *                         └─► the store's current settings (core's defaults when they have none)
 * ```
 */
import type { Kysely, Transaction } from 'kysely';
import { DEFAULT_STORE_LIMITS, StoreLimitsSchema } from '@kassa/core';
import type { StoreLimits } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import { parseStoreSettings } from '../../store-settings.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One store's limits over time, oldest first, and its current ones. */
export interface StoreLimitsTimeline {
  readonly history: readonly { readonly from: number; readonly limits: StoreLimits }[];
  readonly current: StoreLimits;
}

const limitsOf = (json: string | null): StoreLimits => (json === null ? DEFAULT_STORE_LIMITS : StoreLimitsSchema.parse(JSON.parse(json)));

/**
 * Reads a store's limits timeline (its history and current settings). An unknown store gives core's
 * defaults.
 *
 * @example
 * ```ts
 * const timeline = await loadStoreLimits(trx, orgId, storeId);
 * const limits = storeLimitsAt(timeline, decodeHlc(op.hlc).wallMs);
 * ```
 */
export async function loadStoreLimits(db: Db, orgId: string, storeId: string): Promise<StoreLimitsTimeline> {
  const rows = await db
    .selectFrom('store_limits_history')
    .select(['effective_from', 'limits_json'])
    .where('org_id', '=', orgId)
    .where('store_id', '=', storeId)
    .orderBy('effective_from')
    .execute();
  const store = await db.selectFrom('stores').select('settings_json').where('org_id', '=', orgId).where('id', '=', storeId).executeTakeFirst();
  const current = store === undefined ? DEFAULT_STORE_LIMITS : (parseStoreSettings(store.settings_json).limits ?? DEFAULT_STORE_LIMITS);
  return { history: rows.map((r) => ({ from: r.effective_from, limits: limitsOf(r.limits_json) })), current };
}

/** The limits in force at `atMs` (see the file comment). */
export function storeLimitsAt(timeline: StoreLimitsTimeline, atMs: number): StoreLimits {
  const { history } = timeline;
  const first = history[0];
  if (first === undefined) return timeline.current;
  return history.findLast((r) => r.from <= atMs)?.limits ?? first.limits;
}

/**
 * Records a change of a store's limits, in the transaction that changes its settings: `before`
 * (undefined: core's defaults) from the store's creation when the history is still empty, then
 * `after` from `effectiveFrom`. Two changes in one millisecond: the later wins.
 */
export async function recordStoreLimits(
  trx: Transaction<Database>,
  change: { orgId: string; storeId: string; storeCreatedAt: number; before: StoreLimits | undefined; after: StoreLimits | undefined; effectiveFrom: number },
): Promise<void> {
  const json = (l: StoreLimits | undefined) => (l === undefined ? null : JSON.stringify(l));
  const any = await trx.selectFrom('store_limits_history').select('effective_from').where('org_id', '=', change.orgId).where('store_id', '=', change.storeId).limit(1).executeTakeFirst();
  if (any === undefined && change.storeCreatedAt < change.effectiveFrom) {
    await trx
      .insertInto('store_limits_history')
      .values({ org_id: change.orgId, store_id: change.storeId, effective_from: change.storeCreatedAt, limits_json: json(change.before) })
      .execute();
  }
  await trx
    .insertInto('store_limits_history')
    .values({ org_id: change.orgId, store_id: change.storeId, effective_from: change.effectiveFrom, limits_json: json(change.after) })
    .onConflict((oc) => oc.columns(['org_id', 'store_id', 'effective_from']).doUpdateSet({ limits_json: json(change.after) }))
    .execute();
}
