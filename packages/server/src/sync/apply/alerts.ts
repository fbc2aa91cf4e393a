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

/** Rows per multi-row upsert (13 parameters each). */
const CHUNK = 200;

/**
 * Opens (or updates) the alerts `inputs` of `orgId`, in as few statements as it takes. Given the
 * same key twice, the last input wins.
 *
 * @example
 * ```ts
 * await raiseAlerts(trx, orgId, [{ key: `clock_skew:${registerId}`, kind: 'clock_skew', registerId, data: { skewMs } }], now);
 * ```
 */
export async function raiseAlerts(db: Db, orgId: string, inputs: readonly AlertInput[], now: number): Promise<void> {
  // One statement may not update a row twice (PostgreSQL refuses), so each key goes in once.
  const byKey = new Map(inputs.map((i) => [i.key, i]));
  const rows = [...byKey.values()].map((input) => ({
    org_id: orgId,
    key: input.key,
    kind: input.kind,
    store_id: input.storeId ?? null,
    register_id: input.registerId ?? null,
    status: 'open' as const,
    data_json: JSON.stringify(input.data ?? null),
    first_seen_at: now,
    last_seen_at: now,
    resolved_at: null,
    acknowledged_at: null,
    acknowledged_by: null,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('alerts')
      .values(rows.slice(i, i + CHUNK))
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
}

/** Opens (or updates) one alert; see {@link raiseAlerts}. */
export async function raiseAlert(db: Db, orgId: string, input: AlertInput, now: number): Promise<void> {
  await raiseAlerts(db, orgId, [input], now);
}

/** Marks the open alerts among `keys` resolved because their condition no longer holds. */
export async function clearAlerts(db: Db, orgId: string, keys: readonly string[], now: number): Promise<void> {
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += CHUNK * 2) {
    await db
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now })
      .where('org_id', '=', orgId)
      .where('status', '=', 'open')
      .where('key', 'in', unique.slice(i, i + CHUNK * 2))
      .execute();
  }
}
