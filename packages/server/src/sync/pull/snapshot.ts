/**
 * `GET /api/v1/sync/snapshot`: a new register's paged bootstrap of its store's reference data —
 * the tables of {@link REFERENCE_ENTITIES} (store, tax rates, categories, products, staff), then the
 * merge docs that have no table (the store's own customers, variants, barcodes, price lists,
 * promotions).
 *
 * ```
 *   page 1:  capture the log head H ─► the store's stock levels at H (and its facts still waiting
 *            for their sale, see readStockLevels) ─► count (total) ─► first items
 *   page n:  items after (entity, id) named in the page token            (token carries H, total)
 *   done:    follow the log from H with GET /api/v1/sync/pull?since=<cursor>
 * ```
 *
 * Stock levels are different from documents: a level is a SUM of every fact up to some point, and
 * the register counts each fact it pulls after the cursor on top of it (by op id, ADR 0033). A
 * level read later than H would already contain a fact logged after H, which the register then
 * pulls and counts a second time. So all of the store's levels are read on page 1, in the same
 * read transaction as H (REPEATABLE READ on PostgreSQL; on SQLite the one connection's transaction,
 * which no writer can interleave with): a push commits its stock levels and its log rows in one
 * transaction (`push-batch.ts` → `appendChanges`), so "levels at H" is exactly "every fact with
 * seq ≤ H". Page 1 therefore carries every level plus up to `limit` reference items; later pages,
 * which read live rows, never carry levels.
 *
 * Pages after the first read the live tables, not the state at H: an entity changed after H may
 * arrive newer than H, which is harmless because its change is in the log after H too and the
 * register replays it (documents are whole, so the last one applied wins). What must never happen
 * is an item OLDER than H — a change before H the register would not see again — so the head is
 * always read before any item: on PostgreSQL the first page runs in one REPEATABLE READ
 * transaction (head and items from one snapshot); on SQLite the head is read first and items after.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DbKind } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import { ApiError } from '../../http/api-error.js';
import { changeIdAt, ensureLog, readLogHead } from '../change-log.js';
import type { LogHead } from '../change-log.js';
import { resyncRequired } from './cursor.js';
import type { CursorPosition } from './cursor.js';
import type { PullScope } from './pull-page.js';
import type { ChangeInput } from '../change-log.js';
import { ENTITY_READERS, mergeDocReader, REFERENCE_ENTITIES } from './reference-docs.js';

/** A page of the snapshot. */
export interface SnapshotPage {
  /** Changes to apply as pulled ones: upserts, and deletes of merge docs deleted since (no-ops). */
  readonly items: ChangeInput[];
  /** Token of the next page; null after the last. */
  readonly nextPage: string | null;
  /** Where to follow the log from once every page is applied (the head captured on page 1). */
  readonly cursor: CursorPosition;
  /** Items in the whole snapshot (counted on page 1), for a progress bar. */
  readonly total: number;
}

const ID = z.string().regex(/^[0-9a-f-]{36}$/);
const PageTokenSchema = z.strictObject({
  v: z.literal(1),
  e: ID,
  s: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  c: ID.nullable(),
  /** Index into REFERENCE_ENTITIES of the entity the next page starts in; its length: the merge docs. */
  k: z.int().min(0).max(REFERENCE_ENTITIES.length),
  /** Position of the last item served of that kind; null: start at its first. */
  a: z.string().min(1).max(400).nullable(),
  t: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
type PageToken = z.infer<typeof PageTokenSchema>;

/** The page token's wire form, as the route declares it. */
export const PageTokenStringSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+$/, 'the nextPage token of the previous snapshot page')
  .describe('`nextPage` of the previous page; omit for the first page');

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64url');
}

function decodeToken(text: string): PageToken {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = PageTokenSchema.safeParse(json);
  if (!parsed.success || (parsed.data.s === 0) !== (parsed.data.c === null)) {
    throw new ApiError(400, 'invalid_page', 'the page token is not one this server issued');
  }
  return parsed.data;
}

async function headPosition(db: Kysely<Database>, orgId: string, head: LogHead): Promise<CursorPosition> {
  if (head.head === 0) return { epoch: head.epoch, seq: 0, changeId: null };
  if (head.head === head.horizon) return { epoch: head.epoch, seq: head.head, changeId: head.horizonChangeId };
  const id = await changeIdAt(db, orgId, head.head);
  if (id === undefined) throw new Error(`change ${head.head} of organisation ${orgId} is missing below the head`);
  return { epoch: head.epoch, seq: head.head, changeId: id };
}

/** Snapshot entity of a store's on-hand level (client: `entity-mapping.ts`, snapshot only). */
export const STOCK_LEVEL_ENTITY = 'stock_level';

/** Rows per `in (…)` list. */
const CHUNK = 500;

/**
 * Every stock level of the register's store, as snapshot items, and the store's facts that still
 * wait for their sale. Must run in the transaction that read the head (see the file comment).
 * `entityId` is `productId`, or `productId:variantId` for a variant (the register keys by `data`,
 * the id only has to be unique). `onHand` in thousandths, as core's `movementDelta` and the
 * register's `server_stock`.
 *
 * A refund, void or exchange stored before the sale it takes back from (another register's sale
 * not pushed yet) is counted with provisional movements (a void of an unknown sale moves nothing);
 * when the sale arrives after the head, the sale's transaction re-derives them, and a register
 * counts the difference only if it holds the refund — it "recounts dependents" of a sale it pulls
 * (ADR 33). So such facts are not folded into the levels: each level is served WITHOUT their
 * provisional movements, and the facts themselves follow the levels as `fact` items, which the
 * register counts exactly as a pulled fact (provisionally, recorded as waiting for the sale).
 * Levels + those facts = the level at the head, and the sale's later arrival moves the register
 * by the same difference as the server.
 */
async function readStockLevels(db: Kysely<Database>, scope: PullScope): Promise<ChangeInput[]> {
  const waiting = await db
    .selectFrom('refunds as r')
    .innerJoin('facts as f', (j) => j.onRef('f.org_id', '=', 'r.org_id').onRef('f.id', '=', 'r.op_id'))
    .select(['f.id', 'f.store_id', 'f.op_json'])
    .where('r.org_id', '=', scope.orgId)
    .where('r.store_id', '=', scope.storeId)
    .where('r.original_order_id', 'is not', null)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('sales as s').select('s.order_id').whereRef('s.org_id', '=', 'r.org_id').whereRef('s.order_id', '=', 'r.original_order_id'))),
    )
    .orderBy('f.id')
    .execute();
  const facts = [...new Map(waiting.map((w) => [w.id, w])).values()];
  const provisional = new Map<string, number>();
  for (let i = 0; i < facts.length; i += CHUNK) {
    const moves = await db
      .selectFrom('stock_movements')
      .select(['product_id', 'variant_id', 'delta'])
      .where('org_id', '=', scope.orgId)
      .where('store_id', '=', scope.storeId)
      .where(
        'op_id',
        'in',
        facts.slice(i, i + CHUNK).map((f) => f.id),
      )
      .execute();
    for (const m of moves) provisional.set(`${m.product_id}\u0000${m.variant_id}`, (provisional.get(`${m.product_id}\u0000${m.variant_id}`) ?? 0) + Number(m.delta));
  }
  const rows = await db
    .selectFrom('stock_levels')
    .select(['product_id', 'variant_id', 'on_hand'])
    .where('org_id', '=', scope.orgId)
    .where('store_id', '=', scope.storeId)
    .orderBy('product_id')
    .orderBy('variant_id')
    .execute();
  const levels = rows.map((r) => ({
    entity: STOCK_LEVEL_ENTITY,
    entityId: r.variant_id === '' ? r.product_id : `${r.product_id}:${r.variant_id}`,
    storeId: scope.storeId,
    op: 'upsert' as const,
    data: { productId: r.product_id, variantId: r.variant_id === '' ? null : r.variant_id, onHand: Number(r.on_hand) - (provisional.get(`${r.product_id}\u0000${r.variant_id}`) ?? 0) },
  }));
  // As the log carries a fact: the op with the HLC it was applied with.
  const waitingFacts = facts.map((f) => ({ entity: 'fact', entityId: f.id, storeId: f.store_id, op: 'upsert' as const, data: JSON.parse(f.op_json) as unknown }));
  return [...levels, ...waitingFacts];
}

/** Kinds in snapshot order: the table-backed entities, then the merge docs that have no table. */
const KINDS = REFERENCE_ENTITIES.length + 1;

async function readKind(db: Kysely<Database>, scope: PullScope, k: number, after: string | null, limit: number): Promise<{ items: ChangeInput[]; last: string | null }> {
  const entity = REFERENCE_ENTITIES[k];
  if (entity === undefined) {
    const items = await mergeDocReader.page(db, scope, after, limit);
    const last = items.at(-1);
    return { items, last: last ? mergeDocReader.positionOf(last) : null };
  }
  const items = await ENTITY_READERS[entity].page(db, scope, after, limit);
  return { items, last: items.at(-1)?.entityId ?? null };
}

async function readItems(db: Kysely<Database>, scope: PullScope, from: { k: number; a: string | null }, limit: number) {
  const items: ChangeInput[] = [];
  let k = from.k;
  let after = from.a;
  while (k < KINDS && items.length < limit) {
    const want = limit - items.length;
    const got = await readKind(db, scope, k, after, want);
    items.push(...got.items);
    if (got.items.length < want) {
      k += 1;
      after = null;
    } else {
      after = got.last;
    }
  }
  return { items, next: k < KINDS ? { k, a: after } : undefined };
}

async function countAll(db: Kysely<Database>, scope: PullScope): Promise<number> {
  let total = await mergeDocReader.count(db, scope);
  for (const entity of REFERENCE_ENTITIES) total += await ENTITY_READERS[entity].count(db, scope);
  return total;
}

/**
 * Reads one snapshot page for a register of `scope` (its store's settings and staff, the
 * organisation's catalog).
 *
 * @throws ApiError 400 `invalid_page` for a garbled token; 410 `resync_required` when the log the
 *   snapshot started at was replaced or pruned past its cursor (start the snapshot again).
 */
export async function readSnapshotPage(
  db: Kysely<Database>,
  dbKind: DbKind,
  scope: PullScope,
  page: string | undefined,
  limit: number,
): Promise<SnapshotPage> {
  if (page === undefined) {
    // Start the log (if this org has none yet) outside the REPEATABLE READ transaction: an insert
    // there that races another one would fail to serialise instead of doing nothing.
    await ensureLog(db, scope.orgId);
    const first = async (trx: Kysely<Database>) => {
      const head = await readLogHead(trx, scope.orgId);
      if (!head) throw new Error(`the change log of organisation ${scope.orgId} vanished`);
      const cursor = await headPosition(trx, scope.orgId, head);
      const levels = await readStockLevels(trx, scope);
      const total = levels.length + (await countAll(trx, scope));
      const { items, next } = await readItems(trx, scope, { k: 0, a: null }, limit);
      return { cursor, total, items: [...levels, ...items], next };
    };
    // One read transaction for head and levels on both databases. On SQLite it is `begin
    // immediate` on the one connection: no push can commit between the head and the levels.
    const r =
      dbKind === 'postgres'
        ? await db.transaction().setIsolationLevel('repeatable read').execute((trx) => first(trx))
        : await db.transaction().execute((trx) => first(trx));
    const nextPage =
      r.next === undefined ? null : encodeToken({ v: 1, e: r.cursor.epoch, s: r.cursor.seq, c: r.cursor.changeId, k: r.next.k, a: r.next.a, t: r.total });
    return { items: r.items, nextPage, cursor: r.cursor, total: r.total };
  }

  const token = decodeToken(page);
  const head = await readLogHead(db, scope.orgId);
  if (!head || head.epoch !== token.e) throw resyncRequired('other_log');
  if (token.s > head.head) throw resyncRequired('ahead_of_log');
  if (token.s < head.horizon) throw resyncRequired('pruned');
  const cursor: CursorPosition = { epoch: token.e, seq: token.s, changeId: token.c };
  const { items, next } = await readItems(db, scope, { k: token.k, a: token.a }, limit);
  const nextPage = next === undefined ? null : encodeToken({ ...token, k: next.k, a: next.a });
  return { items, nextPage, cursor, total: token.t };
}
