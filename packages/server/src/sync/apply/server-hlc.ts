/**
 * The server's hybrid logical clock, one per organisation, kept in `server_hlc` so it survives
 * restarts and is shared by every server process on one PostgreSQL (DESIGN §3, ADR 6).
 *
 * The row doubles as the organisation's write lock for pushes: {@link lockServerHlc} reads it
 * `for update` on PostgreSQL, so two batches of one organisation apply one after the other (their
 * derived state — stock levels, sale-line tallies, balances, a sale and its refunds — is then never
 * computed from two half-views). SQLite has one writer at a time anyway (`begin immediate`).
 * Lock order, everywhere: `registers` row → `server_hlc` row → `change_log_heads` row.
 */
import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import { encodeHlc, tickHlc } from '@kassa/core';
import type { Clock, Hlc } from '@kassa/core';
import type { Database } from '../../db/schema.js';

type Db = Transaction<Database> | Kysely<Database>;

/** The node id of every stamp the server issues: [A-Za-z0-9_-], never a register's UUID. */
export const SERVER_HLC_NODE = 'server';

/** Whether `db` talks to PostgreSQL (row locks) rather than SQLite (one writer, no `for update`). */
export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Reads the organisation's last server stamp, creating the row when missing, and on PostgreSQL
 * locks it until the transaction ends. Call inside a transaction.
 */
export async function lockServerHlc(trx: Transaction<Database>, orgId: string, now: number): Promise<Hlc> {
  // One statement, one round trip: the upsert creates the row when missing and otherwise "updates"
  // it to itself, which takes the row lock until the transaction ends (as `select … for update`
  // would) and returns the stamp as it is.
  const row = await trx
    .insertInto('server_hlc')
    .values({ org_id: orgId, wall_ms: 0, counter: 0, updated_at: now })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ wall_ms: sql<number>`server_hlc.wall_ms` }))
    .returning(['wall_ms', 'counter'])
    .executeTakeFirstOrThrow();
  return { wallMs: row.wall_ms, counter: row.counter, node: SERVER_HLC_NODE };
}

/** Stores the organisation's last server stamp (after {@link lockServerHlc} in the same transaction). */
export async function saveServerHlc(trx: Transaction<Database>, orgId: string, hlc: Hlc, now: number): Promise<void> {
  await trx
    .updateTable('server_hlc')
    .set({ wall_ms: hlc.wallMs, counter: hlc.counter, updated_at: now })
    .where('org_id', '=', orgId)
    .execute();
}

/**
 * A fresh server stamp for a local event (a back-office edit), encoded: later than every stamp the
 * server issued or received for the organisation. Call inside the transaction that uses it.
 *
 * @example
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   const hlc = await tickServerHlc(trx, orgId, clock);
 *   await applyReferenceEdit(trx, { orgId, docType: 'product', docId, writes: [{ field: 'price', value: 299, hlc, base }], source, clock });
 * });
 * ```
 */
export async function tickServerHlc(trx: Transaction<Database>, orgId: string, clock: Clock): Promise<string> {
  const now = clock.now();
  const next = tickHlc(await lockServerHlc(trx, orgId, now), now);
  await saveServerHlc(trx, orgId, next, now);
  return encodeHlc(next);
}
