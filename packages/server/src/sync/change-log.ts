/**
 * The change log: every change a register may pull, numbered per organisation (DESIGN §3,
 * docs/adr/0014-change-log-and-pull.md).
 *
 * Writers call {@link appendChanges} inside the same transaction that makes the data change, then
 * `changeFeed.publish(orgId)` after it commits. Readers (`GET /api/v1/sync/pull`) follow it by seq.
 *
 * Why a head row and not a database sequence: on PostgreSQL, `nextval()` hands out numbers at call
 * time but transactions commit in any order. A writer that took seq 41 and commits after the one
 * that took 42 would be invisible to a reader that already moved its cursor past 42 — a silently
 * skipped change. Here the seq comes from `UPDATE change_log_heads SET head = head + n … RETURNING`:
 * the row lock it takes is held until the writer's transaction ends, so the next writer of the same
 * organisation gets its numbers only after the previous one committed (or rolled back, releasing the
 * numbers unused). Seq order is commit order, so what a reader sees is always a prefix of the log.
 *
 * ```
 *   writer A: BEGIN ─ UPDATE head→41 (lock) ─ INSERT 41 ───────── COMMIT (unlock)
 *   writer B: BEGIN ─ UPDATE head … waits on A's row lock ……………… →42 ─ INSERT 42 ─ COMMIT
 *   reader:   sees nothing, or 41, or 41+42 — never 42 without 41
 * ```
 *
 * The cost is that writers of one organisation serialise from their append to their commit; other
 * organisations never wait (the lock is per org, the partition key). On SQLite there is one writer
 * at a time anyway (`begin immediate`).
 *
 * A pushed fact is logged by reference (`data_json` = '', see {@link ChangeInput.stored}): its op is
 * already in `facts`, which is never pruned or deleted, so a pull reads it from there.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Database } from '../db/schema.js';

/** One change to append: an entity's full current document (or a fact), and who may see it. */
export interface ChangeInput {
  /** What kind of thing changed: `product`, `category`, `staff`, `sale`, … */
  entity: string;
  entityId: string;
  /** null: every register of the organisation (reference data); a store id: that store's registers. */
  storeId: string | null;
  op: 'upsert' | 'delete';
  /** The entity's full current JSON (for reference docs: values and per-field HLCs), or the fact. */
  data: unknown;
  /**
   * `facts`: `data` is the `facts` row with id `entityId` (its `op_json`), written in the same
   * transaction. The log then keeps a reference, not a second copy of the op, and a pull reads the
   * fact from there (docs/adr/0017): the same `data` on the wire, half the bytes written per op.
   */
  stored?: 'facts';
}

/**
 * `data_json` of a change logged by reference to its fact (see {@link ChangeInput.stored}). Not
 * JSON, so no stored document can be mistaken for it.
 */
export const FACT_REFERENCE = '';

/** A change as stored and as pulled. */
export interface Change {
  readonly seq: number;
  /** The change's own id (UUID), not the entity's. */
  readonly id: string;
  readonly entity: string;
  readonly entityId: string;
  readonly storeId: string | null;
  readonly op: 'upsert' | 'delete';
  readonly data: unknown;
  /** Server time the change was logged, ms since the epoch. */
  readonly at: number;
}

/** An organisation's log: its identity, newest seq and pruned horizon. */
export interface LogHead {
  readonly epoch: string;
  readonly head: number;
  readonly horizon: number;
  /** Change id at `horizon`, null while nothing was pruned. */
  readonly horizonChangeId: string | null;
}

/** Options of {@link appendChanges}. */
export interface AppendOptions {
  /** Stamps `at` (and the retention window pruning uses); the real clock by default. */
  readonly clock?: Clock;
}

type Db = Transaction<Database> | Kysely<Database>;

/** Rows per INSERT: 9 columns × 500 stays far below SQLite's bound-variable limit. */
const INSERT_CHUNK = 500;

async function bumpHead(db: Db, orgId: string, n: number, now: number): Promise<number | undefined> {
  const row = await db
    .updateTable('change_log_heads')
    .set((eb) => ({ head: eb('head', '+', n), updated_at: now }))
    .where('org_id', '=', orgId)
    .returning('head')
    .executeTakeFirst();
  return row?.head;
}

/**
 * Makes sure the organisation's log exists (a head row with a fresh epoch) and returns its head.
 * Safe to race: the loser's insert does nothing.
 */
export async function ensureLog(db: Db, orgId: string, clock: Clock = systemClock): Promise<LogHead> {
  const existing = await readLogHead(db, orgId);
  if (existing) return existing;
  await db
    .insertInto('change_log_heads')
    .values({ org_id: orgId, epoch: randomUUID(), head: 0, horizon: 0, horizon_change_id: null, updated_at: clock.now() })
    .onConflict((oc) => oc.column('org_id').doNothing())
    .execute();
  const created = await readLogHead(db, orgId);
  if (!created) throw new Error(`change log head of organisation ${orgId} vanished`);
  return created;
}

/** The organisation's log head, or undefined when nothing was ever logged for it. */
export async function readLogHead(db: Db, orgId: string): Promise<LogHead | undefined> {
  const row = await db
    .selectFrom('change_log_heads')
    .select(['epoch', 'head', 'horizon', 'horizon_change_id'])
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return row && { epoch: row.epoch, head: row.head, horizon: row.horizon, horizonChangeId: row.horizon_change_id };
}

/**
 * Appends changes to the organisation's log and returns the new head seq. Call it inside the
 * transaction that makes the data change, then `changeFeed.publish(orgId)` after the commit.
 * Given a plain `Kysely` it opens its own transaction (a lone append must still hold the head
 * lock until its rows commit).
 *
 * @example
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('products').set({ name }).where('id', '=', id).execute();
 *   await appendChanges(trx, orgId, [{ entity: 'product', entityId: id, storeId: null, op: 'upsert', data: doc }]);
 * });
 * await changeFeed.publish(orgId);
 * ```
 */
export async function appendChanges(
  trx: Transaction<Database> | Kysely<Database>,
  orgId: string,
  changes: readonly ChangeInput[],
  options: AppendOptions = {},
): Promise<number> {
  if (!trx.isTransaction) {
    return trx.transaction().execute((t) => appendChanges(t, orgId, changes, options));
  }
  const now = (options.clock ?? systemClock).now();
  const rows = changes.map((c) => {
    if (c.op !== 'upsert' && c.op !== 'delete') throw new TypeError(`change op must be upsert or delete, got ${String(c.op)}`);
    if (c.entity === '' || c.entityId === '') throw new TypeError('a change needs an entity and an entity id');
    const dataJson = c.stored === 'facts' ? FACT_REFERENCE : JSON.stringify(c.data ?? null);
    return { entity: c.entity, entity_id: c.entityId, store_id: c.storeId, op: c.op, data_json: dataJson };
  });
  if (rows.length === 0) return (await readLogHead(trx, orgId))?.head ?? 0;

  let head = await bumpHead(trx, orgId, rows.length, now);
  if (head === undefined) {
    await ensureLog(trx, orgId, options.clock);
    head = await bumpHead(trx, orgId, rows.length, now);
    if (head === undefined) throw new Error(`cannot start the change log of organisation ${orgId}`);
  }
  const first = head - rows.length + 1;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('change_log')
      .values(rows.slice(i, i + INSERT_CHUNK).map((r, j) => ({ ...r, org_id: orgId, seq: first + i + j, change_id: randomUUID(), created_at: now })))
      .execute();
  }
  return head;
}

/**
 * Reads changes of one organisation with `after < seq ≤ upTo`, visible to `storeId`, oldest first.
 * A change logged by reference to its fact is read with the fact's stored op.
 */
export async function readChanges(
  db: Db,
  orgId: string,
  range: { readonly after: number; readonly upTo: number; readonly storeId: string | null; readonly limit: number },
): Promise<Change[]> {
  let q = db
    .selectFrom('change_log as c')
    .leftJoin('facts as f', (j) =>
      j.onRef('f.org_id', '=', 'c.org_id').onRef('f.id', '=', 'c.entity_id').on('c.data_json', '=', FACT_REFERENCE),
    )
    .select(['c.seq', 'c.change_id', 'c.entity', 'c.entity_id', 'c.store_id', 'c.op', 'c.data_json', 'c.created_at', 'f.op_json'])
    .where('c.org_id', '=', orgId)
    .where('c.seq', '>', range.after)
    .where('c.seq', '<=', range.upTo);
  // storeId null = no store filter (every change of the organisation, e.g. for tools and tests).
  if (range.storeId !== null) {
    const storeId = range.storeId;
    q = q.where((eb) => eb.or([eb('c.store_id', 'is', null), eb('c.store_id', '=', storeId)]));
  }
  const rows = await q.orderBy('c.seq').limit(range.limit).execute();
  return rows.map((r) => {
    let json = r.data_json;
    if (json === FACT_REFERENCE) {
      // Facts are never deleted, and the change was written in the fact's own transaction.
      if (r.op_json === null) throw new Error(`change ${r.seq} of organisation ${orgId} refers to fact ${r.entity_id}, which is not stored`);
      json = r.op_json;
    }
    return {
      seq: r.seq,
      id: r.change_id,
      entity: r.entity,
      entityId: r.entity_id,
      storeId: r.store_id,
      op: r.op,
      data: JSON.parse(json) as unknown,
      at: r.created_at,
    };
  });
}

/** The change id stored at `seq`, or undefined when there is no such row (pruned, or never written). */
export async function changeIdAt(db: Db, orgId: string, seq: number): Promise<string | undefined> {
  const row = await db.selectFrom('change_log').select('change_id').where('org_id', '=', orgId).where('seq', '=', seq).executeTakeFirst();
  return row?.change_id;
}

/** What {@link pruneChangeLog} did. */
export interface PruneResult {
  /** Changes deleted by this call. */
  readonly removed: number;
  /** The horizon after the call: every seq ≤ it is gone. */
  readonly horizon: number;
}

/**
 * Prunes the organisation's log: every change older than `beforeMs`, and everything before it in
 * seq order, is deleted and the horizon advances to the newest deleted seq. Cursors at or beyond
 * the horizon keep working; older ones get 410 `resync_required` and bootstrap again from the
 * snapshot, which is built from the live tables — so reference rows need not be kept here (see
 * docs/adr/0014). The horizon is the seq before the first change young enough to keep, so a clock
 * step backwards can only make pruning keep more, never drop a young change.
 *
 * @example
 * ```ts
 * await pruneChangeLog(db, orgId, clock.now() - 30 * 24 * 3600_000); // keep 30 days
 * ```
 */
export async function pruneChangeLog(db: Kysely<Database>, orgId: string, beforeMs: number): Promise<PruneResult> {
  return db.transaction().execute(async (trx) => {
    // Lock the head row first, as appenders do, so pruning and appending never interleave.
    const locked = await trx
      .updateTable('change_log_heads')
      .set((eb) => ({ head: eb.ref('head') }))
      .where('org_id', '=', orgId)
      .returning(['head', 'horizon'])
      .executeTakeFirst();
    if (!locked) return { removed: 0, horizon: 0 };
    const keep = await trx
      .selectFrom('change_log')
      .select((eb) => eb.fn.min<number>('seq').as('seq'))
      .where('org_id', '=', orgId)
      .where('seq', '>', locked.horizon)
      .where('created_at', '>=', beforeMs)
      .executeTakeFirst();
    const horizon = keep?.seq === null || keep?.seq === undefined ? locked.head : keep.seq - 1;
    if (horizon <= locked.horizon) return { removed: 0, horizon: locked.horizon };
    const horizonChangeId = await changeIdAt(trx, orgId, horizon);
    const deleted = await trx.deleteFrom('change_log').where('org_id', '=', orgId).where('seq', '<=', horizon).executeTakeFirst();
    await trx
      .updateTable('change_log_heads')
      .set({ horizon, horizon_change_id: horizonChangeId ?? null })
      .where('org_id', '=', orgId)
      .execute();
    return { removed: Number(deleted.numDeletedRows), horizon };
  });
}
