/**
 * Alerts as rows (DESIGN §3): one row per (org, key), where the key names the alert's subject
 * (core's `alertKey` for derived-state breaches, `clock_skew:<register>` and the like for the sync
 * layer's own), never its figures. Raising an alert twice updates its figures; clearing it marks it
 * resolved; raising a resolved one opens it again and forgets the old acknowledgement.
 *
 * ```
 *            raise                 clear (condition gone)
 *   (none) ───────► open ◄──────────────────────────┐
 *                    │  ▲ raise                      │
 *                    │  └─────────── resolved ◄──────┘
 *                    └──── clear ───────►
 * ```
 */
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Transaction<Database> | Kysely<Database>;

/** An alert to raise: its stable key, its kind, where it happened, and its current figures. */
export interface AlertInput {
  readonly key: string;
  readonly kind: string;
  readonly storeId?: string | null;
  readonly registerId?: string | null;
  readonly data: unknown;
}

/**
 * Opens (or updates) the alert `input.key` of `orgId`.
 *
 * @example
 * ```ts
 * await raiseAlert(trx, orgId, { key: `clock_skew:${registerId}`, kind: 'clock_skew', registerId, data: { skewMs } }, now);
 * ```
 */
export async function raiseAlert(db: Db, orgId: string, input: AlertInput, now: number): Promise<void> {
  await db
    .insertInto('alerts')
    .values({
      org_id: orgId,
      key: input.key,
      kind: input.kind,
      store_id: input.storeId ?? null,
      register_id: input.registerId ?? null,
      status: 'open',
      data_json: JSON.stringify(input.data ?? null),
      first_seen_at: now,
      last_seen_at: now,
      resolved_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
    })
    .onConflict((oc) =>
      oc.columns(['org_id', 'key']).doUpdateSet({
        status: 'open',
        data_json: sql<string>`excluded.data_json`,
        last_seen_at: sql<number>`excluded.last_seen_at`,
        resolved_at: null,
        occurrences: sql<number>`alerts.occurrences + 1`,
        // A resolved alert that comes back is news again: whoever acknowledged it saw the old one.
        acknowledged_at: sql<number | null>`case when alerts.status = 'resolved' then null else alerts.acknowledged_at end`,
        acknowledged_by: sql<string | null>`case when alerts.status = 'resolved' then null else alerts.acknowledged_by end`,
      }),
    )
    .execute();
}

/** Marks the open alert `key` resolved because its condition no longer holds; no-op otherwise. */
export async function clearAlert(db: Db, orgId: string, key: string, now: number): Promise<void> {
  await db
    .updateTable('alerts')
    .set({ status: 'resolved', resolved_at: now })
    .where('org_id', '=', orgId)
    .where('key', '=', key)
    .where('status', '=', 'open')
    .execute();
}
