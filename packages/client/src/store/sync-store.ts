/**
 * The store's half of sync: everything the sync loops need done *inside* one SQLite transaction,
 * run where the database is (the worker in the browser). The loops themselves (`src/sync/`) do the
 * HTTP, timers and backoff and call these through the engine's asynchronous API.
 *
 * What the till shows, and how it stays true (docs/adr/0033):
 *
 * ```
 *   stock_levels (shown) = server_stock (the server's level at the pull cursor)
 *                        + Σ movements of the register's own ops the server has not reflected yet
 *
 *   own op made      ─► shown += Δ               (the command did it; the op is pending)
 *   own op echoed    ─► server += Δ, shown ± 0   (no longer pending: counted once, on the server side)
 *   foreign fact     ─► server += Δ, shown += Δ
 *   own op refused   ─► shown −= Δ               (quarantined / seq_conflict: the server will never count it)
 *   (re)bootstrap    ─► server := snapshot levels; shown := server + Σ outbox ops
 *   acknowledged     ─► nothing moves             (the ack says "stored", the echo says "counted")
 * ```
 *
 * Pending = in the outbox, or acknowledged `applied`/`duplicate` and not yet echoed. Echoes are
 * recognised by op id (`seen_facts`), so a fact delivered twice counts once.
 */
import {
  compareHlc,
  decodeHlc,
  FACT_OP_TYPES,
  isFactOp,
  isValidReceiptNo,
  movementDelta,
  opStockMovements,
  parseOp,
  parseReceiptNo,
  receiptHash,
  applyWrites,
  docValues,
  FieldWriteSchema,
  type FactOp,
  type FieldWrite,
  type JsonValue,
  type Op,
  type ReferenceDoc,
  type SaleRef,
} from '@kassa/core';
import { z } from 'zod';
import { docFromValues, mapChange, projectDoc, type IncomingChange, type IncomingDoc, type LocalChange } from '../sync/entity-mapping.js';
import { CursorMovedError, ImportConflictError, InvalidExportError } from '../sync/errors.js';
import type { PushResponse, PushStatus } from '../sync/wire-schemas.js';
import { writeCatalogRows, writeProductsWithBarcodes, type ProductWithBarcodes } from './catalog.js';
import { isSealed } from '../crypto/seal.js';
import { CorruptRowError, SealingRequiredError } from './errors.js';
import { readMeta, readPairedMeta } from './meta.js';
import { writeSettings } from './settings.js';
import type { SqlDb } from './sql-db.js';

// ───────────────────────────── sync_state ─────────────────────────────

const BootstrapStateSchema = z.object({ done: z.int().min(0), total: z.int().min(0), nextPage: z.string().nullable() });

/** Where an interrupted bootstrap stands. */
export type BootstrapProgress = z.infer<typeof BootstrapStateSchema>;

const STATE = {
  bootstrap: BootstrapStateSchema,
  pushInDoubt: z.boolean(),
  serverAckedSeq: z.int().min(0),
  revokedToken: z.string(),
  ignoredChanges: z.int().min(0),
} as const;
type StateKey = keyof typeof STATE;
type StateValue<K extends StateKey> = z.infer<(typeof STATE)[K]>;

function getState<K extends StateKey>(db: SqlDb, key: K): StateValue<K> | undefined {
  const row = db.get<{ value_json: string }>('SELECT value_json FROM sync_state WHERE key = ?', [key]);
  if (row === undefined) return undefined;
  const parsed = STATE[key].safeParse(JSON.parse(row.value_json));
  if (!parsed.success) throw new CorruptRowError('sync_state', `${key}: ${parsed.error.message}`);
  return parsed.data as StateValue<K>;
}

function setState<K extends StateKey>(db: SqlDb, key: K, value: StateValue<K> | undefined): void {
  if (value === undefined) db.run('DELETE FROM sync_state WHERE key = ?', [key]);
  else db.run('INSERT INTO sync_state (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json', [key, JSON.stringify(value)]);
}

// ───────────────────────────── stock bookkeeping ─────────────────────────────

/** Signed stock deltas by product and variant (`''` = the product itself), thousandths. */
type Deltas = Map<string, { productId: string; variantId: string; delta: number }>;
type DeltaList = [productId: string, variantId: string, delta: number][];

const DeltaListSchema = z.array(z.tuple([z.string(), z.string(), z.int()]));

function deltasOf(op: FactOp, sale: SaleRef | undefined): Deltas {
  const out: Deltas = new Map();
  for (const m of opStockMovements(op, sale)) {
    const d = movementDelta(m);
    if (d === 0) continue;
    const variantId = m.variantId ?? '';
    const key = `${m.productId}\u0000${variantId}`;
    const prev = out.get(key);
    out.set(key, { productId: m.productId, variantId, delta: (prev?.delta ?? 0) + d });
  }
  return out;
}

function toList(d: Deltas): DeltaList {
  return [...d.values()].filter((x) => x.delta !== 0).map((x) => [x.productId, x.variantId, x.delta]);
}

function fromList(list: DeltaList): Deltas {
  const out: Deltas = new Map();
  for (const [productId, variantId, delta] of list) out.set(`${productId}\u0000${variantId}`, { productId, variantId, delta });
  return out;
}

/** target += d, key by key. */
function accumulate(target: Deltas, d: Deltas): void {
  for (const [k, v] of d) {
    if (v.delta === 0) continue;
    target.set(k, { ...v, delta: (target.get(k)?.delta ?? 0) + v.delta });
  }
}

/** a − b, key by key. */
function minus(a: Deltas, b: Deltas): Deltas {
  const out: Deltas = new Map(a);
  for (const [k, v] of b) out.set(k, { ...v, delta: (out.get(k)?.delta ?? 0) - v.delta });
  return out;
}

function addTo(db: SqlDb, table: 'stock_levels' | 'server_stock', deltas: Deltas, now: number): void {
  for (const { productId, variantId, delta } of deltas.values()) {
    if (delta === 0) continue;
    if (table === 'stock_levels') {
      db.run(
        `INSERT INTO stock_levels (product_id, variant_id, on_hand, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (product_id, variant_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at`,
        [productId, variantId, delta, now],
      );
    } else {
      db.run(
        `INSERT INTO server_stock (product_id, variant_id, on_hand) VALUES (?, ?, ?)
         ON CONFLICT (product_id, variant_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand`,
        [productId, variantId, delta],
      );
    }
  }
}

/** The order whose sale an op completes (a sale, or an exchange's sale part). */
function saleOrderId(op: FactOp): string | undefined {
  if (op.type === 'sale.completed') return op.payload.orderId;
  if (op.type === 'exchange.completed') return op.payload.sale.orderId;
  return undefined;
}

/** The order whose sale an op's movements depend on (refund, exchange, void). */
function dependsOnOrder(op: FactOp): string | undefined {
  if (op.type === 'refund.completed') return op.payload.originalOrderId;
  if (op.type === 'exchange.completed') return op.payload.refund.originalOrderId;
  if (op.type === 'sale.voided') return op.payload.orderId;
  return undefined;
}

const SaleLinesSchema = z.object({ orderId: z.string(), lines: z.array(z.looseObject({ lineId: z.string(), productId: z.string() })) });

/** The sale of `orderId` as this register knows it: its own orders first, then sales it pulled. */
function saleRef(db: SqlDb, orderId: string | undefined): SaleRef | undefined {
  if (orderId === undefined) return undefined;
  const own = db.get<{ payload_json: string }>('SELECT payload_json FROM orders WHERE id = ?', [orderId]);
  const pulled = own === undefined ? db.get<{ lines_json: string }>('SELECT lines_json FROM pulled_sales WHERE order_id = ?', [orderId]) : undefined;
  const json = own?.payload_json ?? (pulled === undefined ? undefined : `{"orderId":${JSON.stringify(orderId)},"lines":${pulled.lines_json}}`);
  if (json === undefined) return undefined;
  const parsed = SaleLinesSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new CorruptRowError(own === undefined ? 'pulled_sales' : 'orders', parsed.error.message);
  return parsed.data as unknown as SaleRef;
}

/** The movements an own op moved the shown stock by, as its command computed them. */
function localDeltas(db: SqlDb, op: Op): Deltas {
  if (!isFactOp(op)) return new Map();
  return deltasOf(op, saleRef(db, dependsOnOrder(op)));
}

function parseStored(table: string, json: string): Op {
  const parsed = parseOp(JSON.parse(json));
  if (!parsed.ok) throw new CorruptRowError(table, `an op that no longer parses (${parsed.kind})`);
  return parsed.op;
}

/** What applying pulled changes did, for the status and for tests. */
export interface ApplyCounts {
  /** Changes that changed (or confirmed) local state. */
  readonly applied: number;
  /** Facts already counted (a re-delivery, or an echo already seen). */
  readonly duplicates: number;
  /** The register's own ops recognised in the log. */
  readonly echoes: number;
  /** Changes that did not fit (see `entity-mapping.ts`), skipped so the log can be followed. */
  readonly ignored: number;
}

interface ApplyContext {
  readonly db: SqlDb;
  /** Facts of the page already counted: one query per page, kept up to date as the page applies. */
  readonly seen: Set<string>;
  /** The register's own ops of the page still pending (outbox, or acknowledged and not echoed): one query per page. */
  readonly pending: ReadonlySet<string>;
  /**
   * Stock moved by the page's facts, written once per product when the page is done (the tables
   * hold sums, so the order deltas are added in does not matter; nothing in a page reads them).
   */
  readonly serverDeltas: Deltas;
  readonly shownDeltas: Deltas;
  /** Products of the page not written yet: written together before any other change, and at the page's end. */
  readonly products: ProductWithBarcodes[];
  /** Their ids: a product twice in a page is written in two goes, as one by one would. */
  readonly productIds: Set<string>;
  readonly deviceId: string;
  readonly storeId: string;
  readonly now: number;
  /** The register's unacknowledged reference edits by `docType:docId`, replayed over pulled docs. */
  readonly pendingEdits: ReadonlyMap<string, readonly FieldWrite[][]>;
  counts: { applied: number; duplicates: number; echoes: number; ignored: number };
}

function applyFact(ctx: ApplyContext, op: FactOp, logSeq: number | null): void {
  const { db, now } = ctx;
  if (ctx.seen.has(op.id)) {
    ctx.counts.duplicates += 1;
    return;
  }
  const orderId = saleOrderId(op);
  if (orderId !== undefined) {
    const lines = op.type === 'sale.completed' ? op.payload.lines : op.type === 'exchange.completed' ? op.payload.sale.lines : [];
    db.run('INSERT OR IGNORE INTO pulled_sales (order_id, op_id, lines_json, pulled_at) VALUES (?, ?, ?, ?)', [orderId, op.id, JSON.stringify(lines), now]);
  }
  const dependsOn = dependsOnOrder(op);
  const sale = saleRef(db, dependsOn);
  // A transfer out is logged for the receiving store too; only the store's own ops move its stock.
  const deltas = op.storeId === ctx.storeId ? deltasOf(op, sale) : new Map();
  const own = op.deviceId === ctx.deviceId;
  accumulate(ctx.serverDeltas, deltas);
  if (own && ctx.pending.has(op.id)) {
    ctx.counts.echoes += 1;
    // Already shown since the command ran; only a difference in how it is counted moves it.
    accumulate(ctx.shownDeltas, minus(deltas, localDeltas(db, op)));
  } else {
    accumulate(ctx.shownDeltas, deltas);
  }
  const saleKnown = dependsOn === undefined || sale !== undefined;
  db.run(
    `INSERT INTO seen_facts (op_id, op_type, own, depends_on, sale_known, deltas_json, op_json, log_seq, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [op.id, op.type, own ? 1 : 0, dependsOn ?? null, saleKnown ? 1 : 0, JSON.stringify(toList(deltas)), saleKnown ? null : JSON.stringify(op), logSeq, now],
  );
  ctx.seen.add(op.id);
  ctx.counts.applied += 1;
  if (orderId !== undefined) recountDependents(ctx, orderId);
}

/** A refund or void counted before its sale was known: count it again with the sale, old delta out, new in. */
function recountDependents(ctx: ApplyContext, orderId: string): void {
  const { db } = ctx;
  const rows = db.all<{ op_id: string; deltas_json: string; op_json: string | null }>(
    'SELECT op_id, deltas_json, op_json FROM seen_facts WHERE depends_on = ? AND sale_known = 0',
    [orderId],
  );
  // Nearly always none: the sale is read only when something waits for it.
  if (rows.length === 0) return;
  const sale = saleRef(db, orderId);
  for (const r of rows) {
    if (r.op_json === null) continue;
    const op = parseStored('seen_facts', r.op_json);
    if (!isFactOp(op)) continue;
    const before = fromList(DeltaListSchema.parse(JSON.parse(r.deltas_json)));
    const after = op.storeId === ctx.storeId ? deltasOf(op, sale) : new Map();
    const diff = minus(after, before);
    accumulate(ctx.serverDeltas, diff);
    accumulate(ctx.shownDeltas, diff);
    db.run('UPDATE seen_facts SET deltas_json = ?, sale_known = 1, op_json = NULL WHERE op_id = ?', [JSON.stringify(toList(after)), r.op_id]);
  }
}

/**
 * A staff member deactivated or deleted on the server loses their key record at once, even while
 * the register is locked (they can no longer unlock), and the register keys are marked for rotation
 * at the next unlock by someone else (docs/adr/0032, vault.ts).
 */
function dropKeysOfInactiveStaff(db: SqlDb): void {
  const gone = db.all<{ staff_id: string }>('SELECT staff_id FROM staff_keys WHERE staff_id IN (SELECT id FROM staff WHERE active = 0)');
  if (gone.length === 0) return;
  for (const { staff_id: id } of gone) {
    db.run('DELETE FROM staff_keys WHERE staff_id = ?', [id]);
    db.run('DELETE FROM pin_attempts WHERE scope = ?', [`staff:${id}`]);
  }
  db.run('UPDATE register_keys SET rotation_due = 1 WHERE id = 1');
}

/** Reference docs a register edits through ops, and the doc each edit targets. */
function editTarget(op: Op): { docType: string; docId: string; writes: FieldWrite[] } | undefined {
  if (op.type === 'product.edited') return { docType: 'product', docId: op.payload.productId, writes: op.payload.writes };
  if (op.type === 'customer.upserted') return { docType: 'customer', docId: op.payload.customerId, writes: op.payload.writes };
  if (op.type === 'reference.edited') return { docType: op.payload.docType, docId: op.payload.docId, writes: op.payload.writes };
  return undefined;
}

function pendingEdits(db: SqlDb): Map<string, FieldWrite[][]> {
  const out = new Map<string, FieldWrite[][]>();
  // A customer edit's op carries its values sealed to the server's key; what the register replays
  // is its own copy sealed to the register's key (customer_local_writes, vault.ts).
  const rows = db.all<{ op_json: string; local_json: string | null }>(
    `SELECT o.op_json, l.writes_json AS local_json FROM outbox o LEFT JOIN customer_local_writes l ON l.op_id = o.op_id
     WHERE o.op_type IN ('product.edited', 'customer.upserted', 'reference.edited') ORDER BY o.seq`,
  );
  for (const r of rows) {
    const parsed = editTarget(parseStored('outbox', r.op_json));
    if (parsed === undefined) continue;
    const t = r.local_json === null ? parsed : { ...parsed, writes: FieldWriteSchema.array().parse(JSON.parse(r.local_json)) };
    const key = `${t.docType}:${t.docId}`;
    out.set(key, [...(out.get(key) ?? []), t.writes]);
  }
  return out;
}

const TABLE_DOCS = new Set(['product', 'customer', 'category', 'tax_rate']);

function applyDoc(ctx: ApplyContext, incoming: IncomingDoc): void {
  const { db, now } = ctx;
  const { docType, docId } = incoming;
  // What the server decided, then the register's own unacknowledged edits on top: what it shows.
  let merged: ReferenceDoc = docFromValues(incoming.values, incoming.fieldHlc);
  for (const writes of ctx.pendingEdits.get(`${docType}:${docId}`) ?? []) {
    try {
      merged = applyWrites(merged, writes).doc;
    } catch {
      // an edit the merge refuses now (based on a newer value): the server will decide it
    }
  }
  const values: Record<string, JsonValue> = { ...incoming.values, ...docValues(merged) };
  if (!TABLE_DOCS.has(docType)) {
    db.run(
      `INSERT INTO reference_docs (doc_type, doc_id, values_json, field_hlc_json, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (doc_type, doc_id) DO UPDATE SET values_json = excluded.values_json, field_hlc_json = excluded.field_hlc_json, updated_at = excluded.updated_at`,
      [docType, docId, JSON.stringify(incoming.values), JSON.stringify(incoming.fieldHlc), now],
    );
  }
  const p = projectDoc(docType, docId, values, merged);
  switch (p.table) {
    case 'products':
      if (ctx.productIds.has(docId)) flushProducts(ctx);
      ctx.products.push({ row: p.row, barcodes: p.barcodes });
      ctx.productIds.add(docId);
      break;
    case 'customers':
      if (db.get('SELECT 1 AS x FROM register_keys') !== undefined && Object.entries(values).some(([k, v]) => k !== 'deleted' && !(typeof v === 'string' && isSealed(v)))) {
        throw new SealingRequiredError(`applying customer ${docId} in clear`, "the store's sealPulled before applying (the sync engine's beforeApply)");
      }
      // Personal fields arrive as the server holds them; sealing them before they are stored is the
      // job of the sync engine's `beforeApply` hook (crypto module), which runs before this.
      db.run(
        `INSERT INTO customers (id, deleted, doc_json, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, doc_json = excluded.doc_json, updated_at = excluded.updated_at`,
        [docId, p.deleted ? 1 : 0, JSON.stringify(merged), now],
      );
      break;
    case 'categories':
      writeCatalogRows(db, { categories: [p.row] }, now);
      db.run('UPDATE categories SET doc_json = ? WHERE id = ?', [JSON.stringify(merged), docId]);
      break;
    case 'tax_rates':
      writeCatalogRows(db, { taxRates: [p.row] }, now);
      db.run('UPDATE tax_rates SET doc_json = ? WHERE id = ?', [JSON.stringify(merged), docId]);
      break;
    case 'variants':
      if (db.get('SELECT 1 AS x FROM products WHERE id = ?', [p.row.productId]) === undefined) {
        ctx.counts.ignored += 1;
        return;
      }
      writeCatalogRows(db, { variants: [p.row] }, now);
      db.run('UPDATE variants SET doc_json = ? WHERE id = ?', [JSON.stringify(merged), docId]);
      break;
    case 'none':
      if (TABLE_DOCS.has(docType)) {
        ctx.counts.ignored += 1;
        return;
      }
  }
  ctx.counts.applied += 1;
}

function applyDocDeleted(ctx: ApplyContext, docType: string, docId: string): void {
  const { db } = ctx;
  switch (docType) {
    case 'product':
      // Sales and barcodes refer to it: it stays as an inactive row, its barcodes released.
      db.run('UPDATE products SET active = 0 WHERE id = ?', [docId]);
      db.run('DELETE FROM barcodes WHERE product_id = ?', [docId]);
      break;
    case 'customer':
      // An erasure must reach the register: the row goes (ADR 0032).
      db.run('DELETE FROM customers WHERE id = ?', [docId]);
      break;
    case 'category':
      db.run('DELETE FROM categories WHERE id = ?', [docId]);
      break;
    case 'tax_rate':
      db.run('DELETE FROM tax_rates WHERE id = ?', [docId]);
      break;
    case 'variant':
      db.run('UPDATE variants SET active = 0 WHERE id = ?', [docId]);
      break;
  }
  db.run('DELETE FROM reference_docs WHERE doc_type = ? AND doc_id = ?', [docType, docId]);
  ctx.counts.applied += 1;
}

function applyLocal(ctx: ApplyContext, local: LocalChange, logSeq: number | null, fromSnapshot: boolean): void {
  const { db, now } = ctx;
  // Products are written in bulk; any other change may read them (a variant checks its product).
  if (!(local.kind === 'doc' && local.doc.docType === 'product')) flushProducts(ctx);
  switch (local.kind) {
    case 'fact':
      applyFact(ctx, local.op, logSeq);
      return;
    case 'doc':
      applyDoc(ctx, local.doc);
      return;
    case 'doc_deleted':
      applyDocDeleted(ctx, local.docType, local.docId);
      return;
    case 'settings':
      writeSettings(db, local.settings);
      ctx.counts.applied += 1;
      return;
    case 'staff':
      writeCatalogRows(db, { staff: [local.row] }, now);
      dropKeysOfInactiveStaff(db);
      ctx.counts.applied += 1;
      return;
    case 'staff_deleted':
      db.run('UPDATE staff SET active = 0 WHERE id = ?', [local.staffId]);
      dropKeysOfInactiveStaff(db);
      ctx.counts.applied += 1;
      return;
    case 'stock_level':
      // A level is a sum up to the snapshot's cursor; in the log, facts carry the movements and a
      // level would count them twice.
      if (!fromSnapshot) {
        ctx.counts.ignored += 1;
        return;
      }
      // A level replaces the sum: the page's deltas so far go first.
      flushDeltas(ctx);
      db.run(
        'INSERT INTO server_stock (product_id, variant_id, on_hand) VALUES (?, ?, ?) ON CONFLICT (product_id, variant_id) DO UPDATE SET on_hand = excluded.on_hand',
        [local.productId, local.variantId, local.onHand],
      );
      ctx.counts.applied += 1;
      return;
    case 'ignored':
      ctx.counts.ignored += 1;
      return;
  }
}

/** The ids of `ids` a query over `json_each(?)` returns (one statement for a whole page). */
function idsAmong(db: SqlDb, sql: string, ids: readonly string[], uses = 1): Set<string> {
  if (ids.length === 0) return new Set();
  const json = JSON.stringify(ids);
  return new Set(db.all<{ op_id: string }>(sql, Array.from({ length: uses }, () => json)).map((r) => r.op_id));
}

/** Writes the products the page has collected so far. */
function flushProducts(ctx: ApplyContext): void {
  writeProductsWithBarcodes(ctx.db, ctx.products);
  ctx.products.length = 0;
  ctx.productIds.clear();
}

/** Writes the page's accumulated stock deltas. */
function flushDeltas(ctx: ApplyContext): void {
  addTo(ctx.db, 'server_stock', ctx.serverDeltas, ctx.now);
  addTo(ctx.db, 'stock_levels', ctx.shownDeltas, ctx.now);
  ctx.serverDeltas.clear();
  ctx.shownDeltas.clear();
}

/**
 * Maps and applies a page of changes. Which of its facts were counted already, and which of the
 * register's own ops are still pending, are read once for the page (by id, through `json_each`),
 * not once per change: a drain brings thousands of the register's own ops back as echoes.
 */
function applyChanges(db: SqlDb, now: number, changes: readonly IncomingChange[], logSeq: (i: number) => number | null, fromSnapshot: boolean): ApplyContext {
  const meta = readPairedMeta(db);
  const locals = changes.map((c) => mapChange(c, { storeId: meta.storeId }));
  const factIds: string[] = [];
  const ownIds: string[] = [];
  for (const l of locals) {
    if (l.kind !== 'fact') continue;
    factIds.push(l.op.id);
    if (l.op.deviceId === meta.deviceId) ownIds.push(l.op.id);
  }
  const ctx: ApplyContext = {
    db,
    seen: idsAmong(db, 'SELECT op_id FROM seen_facts WHERE op_id IN (SELECT value FROM json_each(?))', factIds),
    pending: idsAmong(
      db,
      `SELECT op_id FROM outbox WHERE op_id IN (SELECT value FROM json_each(?))
       UNION SELECT op_id FROM journal WHERE status IN ('applied', 'duplicate') AND op_id IN (SELECT value FROM json_each(?))`,
      ownIds,
      2,
    ),
    serverDeltas: new Map(),
    shownDeltas: new Map(),
    products: [],
    productIds: new Set(),
    deviceId: meta.deviceId,
    storeId: meta.storeId,
    now,
    pendingEdits: pendingEdits(db),
    counts: { applied: 0, duplicates: 0, echoes: 0, ignored: 0 },
  };
  locals.forEach((l, i) => applyLocal(ctx, l, logSeq(i), fromSnapshot));
  flushProducts(ctx);
  flushDeltas(ctx);
  return ctx;
}

function countIgnored(db: SqlDb, n: number): void {
  if (n > 0) setState(db, 'ignoredChanges', (getState(db, 'ignoredChanges') ?? 0) + n);
}

// ───────────────────────────── pull ─────────────────────────────

/** A pulled page to apply: the changes and the cursor that covers them. */
export interface PullPageInput {
  /** The cursor the page was pulled with (`since`); the page applies only if it is still the register's. */
  readonly since: string | null;
  readonly changes: readonly (IncomingChange & { readonly seq: number; readonly id?: string })[];
  readonly cursor: string;
}

/**
 * Applies a pulled page and advances the cursor in ONE transaction: the cursor is never saved
 * ahead of the data it covers, and a crash leaves both or neither.
 *
 * @throws CursorMovedError when the register's cursor is no longer `since` (nothing applied).
 */
export function applyPullPage(db: SqlDb, input: PullPageInput, now: number): ApplyCounts {
  return db.transaction(() => {
    const found = readMeta(db).pullCursor;
    if (found !== input.since) throw new CursorMovedError(input.since, found);
    const ctx = applyChanges(db, now, input.changes, (i) => input.changes[i]?.seq ?? null, false);
    db.run('UPDATE meta SET pull_cursor = ?, last_sync_at = ? WHERE id = 1', [input.cursor, now]);
    countIgnored(db, ctx.counts.ignored);
    return { ...ctx.counts };
  });
}

/** A snapshot page to apply. */
export interface SnapshotPageInput {
  /** True for the first page: the bootstrap starts over (server stock and echoes forgotten, cursor cleared). */
  readonly first: boolean;
  readonly items: readonly IncomingChange[];
  readonly nextPage: string | null;
  readonly cursor: string;
  readonly total: number;
}

/** Where a bootstrap stands after a page. */
export interface SnapshotProgress extends ApplyCounts {
  readonly done: number;
  readonly total: number;
  readonly finished: boolean;
}

/**
 * Applies one snapshot page in one transaction. The first page forgets the server's stock and the
 * echoes seen (the snapshot's levels replace them) and clears the pull cursor, so a crash
 * mid-bootstrap resumes the bootstrap, never a stale log position. The last page, in the same
 * transaction as its items, marks every acknowledged own op as counted (the snapshot includes it:
 * the caller made sure no push was in doubt and none ran during the bootstrap), recomputes the
 * shown stock as server + outbox, and saves the snapshot's cursor.
 */
export function applySnapshotPage(db: SqlDb, input: SnapshotPageInput, now: number): SnapshotProgress {
  return db.transaction(() => {
    if (input.first) {
      db.exec('DELETE FROM server_stock; DELETE FROM seen_facts;');
      db.run('UPDATE meta SET pull_cursor = NULL WHERE id = 1');
      setState(db, 'bootstrap', { done: 0, total: input.total, nextPage: null });
    }
    const before = getState(db, 'bootstrap') ?? { done: 0, total: input.total, nextPage: null };
    const ctx = applyChanges(db, now, input.items, () => null, true);
    const done = before.done + input.items.length;
    const finished = input.nextPage === null;
    if (finished) {
      finishBootstrap(db, ctx.deviceId, now);
      db.run('UPDATE meta SET pull_cursor = ?, last_sync_at = ? WHERE id = 1', [input.cursor, now]);
      setState(db, 'bootstrap', undefined);
    } else {
      setState(db, 'bootstrap', { done, total: input.total, nextPage: input.nextPage });
    }
    countIgnored(db, ctx.counts.ignored);
    return { ...ctx.counts, done, total: input.total, finished };
  });
}

function finishBootstrap(db: SqlDb, deviceId: string, now: number): void {
  // Acknowledged before the snapshot began, and still held by the server (not above the seq it
  // last acknowledged: a restored server lost those, and they will be re-sent): the snapshot's
  // levels count them.
  const acked = db.all<{ op_id: string; op_type: string; op_json: string }>(
    `SELECT op_id, op_type, op_json FROM journal WHERE status IN ('applied', 'duplicate') AND seq <= ?
       AND op_id NOT IN (SELECT op_id FROM seen_facts)`,
    [getState(db, 'serverAckedSeq') ?? 0],
  );
  for (const r of acked) {
    db.run('INSERT INTO seen_facts (op_id, op_type, own, deltas_json, seen_at) VALUES (?, ?, 1, ?, ?)', [
      r.op_id,
      r.op_type,
      JSON.stringify(toList(localDeltas(db, parseStored('journal', r.op_json)))),
      now,
    ]);
  }
  recomputeShownStock(db, deviceId, now);
}

/** shown := server + Σ pending own ops. */
function recomputeShownStock(db: SqlDb, _deviceId: string, now: number): void {
  db.exec('DELETE FROM stock_levels');
  db.run('INSERT INTO stock_levels (product_id, variant_id, on_hand, updated_at) SELECT product_id, variant_id, on_hand, ? FROM server_stock', [now]);
  const pending = db.all<{ op_json: string }>(
    `SELECT op_json FROM outbox
     UNION ALL SELECT op_json FROM journal WHERE status IN ('applied', 'duplicate') AND op_id NOT IN (SELECT op_id FROM seen_facts)`,
  );
  for (const r of pending) addTo(db, 'stock_levels', localDeltas(db, parseStored('outbox', r.op_json)), now);
}

// ───────────────────────────── push ─────────────────────────────

/** Limits of one push. */
export interface PushLimits {
  /** Most ops (the server takes ≤ 500). */
  readonly maxOps: number;
  /** Most bytes of the body; one op larger than this still goes, alone. */
  readonly maxBytes: number;
}

/** One op of a push batch. */
export interface PushEntry {
  readonly seq: number;
  readonly opId: string;
  /** `journal`: re-sent because the server acknowledged less than the register recorded (a restore). */
  readonly from: 'outbox' | 'journal';
}

/** The next push: its body, byte-exact as stored, and which ops it carries. */
export interface PushBatch {
  /** `{"ops":[…]}`, the ops as queued. */
  readonly body: string;
  readonly bytes: number;
  readonly entries: readonly PushEntry[];
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

/**
 * The next push batch in seq order — the outbox, and, after the server's acknowledged seq went
 * below what the journal holds (a restored server), the journal's ops above it — bounded by count
 * and bytes. Marks a push "in doubt" until {@link recordPushResults} or {@link clearPushInDoubt}.
 * Returns null when nothing waits.
 */
export function nextPushBatch(db: SqlDb, limits: PushLimits): PushBatch | null {
  return db.transaction(() => {
    const acked = getState(db, 'serverAckedSeq');
    type Row = { seq: number; op_id: string; op_json: string; from: 'outbox' | 'journal' };
    const fromOutbox = db.all<Row>("SELECT seq, op_id, op_json, 'outbox' AS \"from\" FROM outbox ORDER BY seq LIMIT ?", [limits.maxOps]);
    const fromJournal =
      acked === undefined
        ? []
        : db.all<Row>(
            "SELECT seq, op_id, op_json, 'journal' AS \"from\" FROM journal WHERE seq > ? AND status IN ('applied', 'duplicate', 'quarantined') ORDER BY seq LIMIT ?",
            [acked, limits.maxOps],
          );
    const rows = [...fromJournal, ...fromOutbox].sort((a, b) => a.seq - b.seq);
    const parts: string[] = [];
    const entries: PushEntry[] = [];
    let bytes = utf8Length('{"ops":[]}');
    for (const r of rows) {
      if (entries.length >= limits.maxOps) break;
      const size = utf8Length(r.op_json) + (parts.length > 0 ? 1 : 0);
      if (parts.length > 0 && bytes + size > limits.maxBytes) break;
      parts.push(r.op_json);
      entries.push({ seq: r.seq, opId: r.op_id, from: r.from });
      bytes += size;
    }
    if (entries.length === 0) return null;
    setState(db, 'pushInDoubt', true);
    return { body: `{"ops":[${parts.join(',')}]}`, bytes, entries };
  });
}

/** The server answered (with an error status): nothing of the last push can have been stored. */
export function clearPushInDoubt(db: SqlDb): void {
  db.transaction(() => setState(db, 'pushInDoubt', undefined));
}

/** What a push's answer did. */
export interface PushOutcome {
  readonly counts: Readonly<Record<PushStatus | 'missing', number>>;
  /** Ops moved out of the outbox (acknowledged, quarantined or in conflict). */
  readonly removed: number;
  readonly outboxLeft: number;
  /** The server acknowledged less than the register journaled: journal ops wait to be re-sent. */
  readonly resendLeft: number;
  readonly ackedSeq: number;
}

const NOTICE_STATUSES = new Set<PushStatus>(['quarantined', 'seq_conflict']);

/**
 * Records a push's answer in ONE transaction: ops the server stored (`applied`, `duplicate`) or
 * kept for review (`quarantined`, `seq_conflict`) move from the outbox to the journal with their
 * status and acknowledgement time; the latter two also get a quarantine notice for the UI and
 * stop counting in the shown stock (the server will never count them). `pending_gap` and
 * `deferred` stay queued for a later push.
 */
export function recordPushResults(db: SqlDb, input: { readonly entries: readonly PushEntry[]; readonly response: PushResponse }, now: number): PushOutcome {
  return db.transaction(() => {
    const byId = new Map(input.response.results.flatMap((r) => (r.id === null ? [] : [[r.id, r] as const])));
    const counts: Record<PushStatus | 'missing', number> = { applied: 0, duplicate: 0, quarantined: 0, seq_conflict: 0, pending_gap: 0, deferred: 0, missing: 0 };
    let removed = 0;
    for (const e of input.entries) {
      const r = byId.get(e.opId);
      if (r === undefined) {
        counts.missing += 1;
        continue;
      }
      counts[r.status] += 1;
      if (r.status === 'pending_gap' || r.status === 'deferred') continue;
      if (e.from === 'outbox') {
        const row = db.get<{ op_json: string }>('SELECT op_json FROM outbox WHERE op_id = ?', [e.opId]);
        if (row === undefined) continue; // recorded already (two answers to one batch)
        if (NOTICE_STATUSES.has(r.status) && db.get('SELECT 1 AS x FROM seen_facts WHERE op_id = ?', [e.opId]) === undefined) {
          const shown = localDeltas(db, parseStored('outbox', row.op_json));
          addTo(db, 'stock_levels', minus(new Map(), shown), now);
        }
        db.run('INSERT INTO journal (seq, op_id, op_type, op_json, status, acked_at) SELECT seq, op_id, op_type, op_json, ?, ? FROM outbox WHERE op_id = ?', [
          r.status,
          now,
          e.opId,
        ]);
        db.run('DELETE FROM outbox WHERE op_id = ?', [e.opId]);
        removed += 1;
      } else {
        db.run('UPDATE journal SET acked_at = ? WHERE op_id = ?', [now, e.opId]);
      }
      if (NOTICE_STATUSES.has(r.status)) {
        db.run(
          `INSERT INTO quarantine (op_id, seq, reason, detail_json, received_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (op_id) DO UPDATE SET reason = excluded.reason, detail_json = excluded.detail_json, received_at = excluded.received_at`,
          [e.opId, e.seq, r.status === 'seq_conflict' ? 'seq_conflict' : (r.reason ?? 'quarantined'), JSON.stringify({ status: r.status, reason: r.reason ?? null, message: r.message ?? null }), now],
        );
      }
    }
    setState(db, 'serverAckedSeq', input.response.ackedSeq);
    setState(db, 'pushInDoubt', undefined);
    // Ops acknowledged now may be missing from the snapshot an interrupted bootstrap started
    // before: that bootstrap must start over rather than count them as in the snapshot.
    const bootstrap = getState(db, 'bootstrap');
    if (bootstrap !== undefined && bootstrap.nextPage !== null && input.entries.length > 0) setState(db, 'bootstrap', { ...bootstrap, nextPage: null });
    db.run('UPDATE meta SET last_sync_at = ? WHERE id = 1', [now]);
    return { counts, removed, outboxLeft: outboxCount(db), resendLeft: resendCount(db, input.response.ackedSeq), ackedSeq: input.response.ackedSeq };
  });
}

function outboxCount(db: SqlDb): number {
  return db.get<{ n: number }>('SELECT count(*) AS n FROM outbox')?.n ?? 0;
}

function resendCount(db: SqlDb, acked: number | undefined): number {
  if (acked === undefined) return 0;
  return db.get<{ n: number }>("SELECT count(*) AS n FROM journal WHERE seq > ? AND status IN ('applied', 'duplicate', 'quarantined')", [acked])?.n ?? 0;
}

/**
 * Forgets acknowledged ops older than `beforeMs` whose effect the register has seen come back
 * (or that have none to see: reference edits, non-stock facts are still kept until echoed when
 * they are facts). Ops the server might need again — above its acknowledged seq — stay.
 */
export function pruneJournal(db: SqlDb, beforeMs: number): number {
  return db.transaction(() => {
    const acked = getState(db, 'serverAckedSeq') ?? 0;
    const facts = FACT_OP_TYPES.map((t) => `'${t}'`).join(', ');
    return db.run(
      `DELETE FROM journal WHERE acked_at < ? AND seq <= ? AND status IN ('applied', 'duplicate', 'quarantined')
         AND (op_type NOT IN (${facts}) OR status = 'quarantined' OR op_id IN (SELECT op_id FROM seen_facts))`,
      [beforeMs, acked],
    ).changes;
  });
}

// ───────────────────────────── state for the loops and the status ─────────────────────────────

/** The sync-relevant state of the store, read in one go. */
export interface SyncInfo {
  readonly paired: boolean;
  readonly pullCursor: string | null;
  readonly bootstrap: BootstrapProgress | null;
  readonly pushInDoubt: boolean;
  readonly serverAckedSeq: number | null;
  readonly opsWaiting: number;
  /** `created_at` of the oldest op waiting, or null. */
  readonly oldestWaitingAt: number | null;
  readonly resendWaiting: number;
  readonly quarantined: number;
  readonly ignoredChanges: number;
  readonly lastSyncAt: number | null;
  /** The register's current token was revoked: it is locked until paired again. */
  readonly revoked: boolean;
}

/** Reads {@link SyncInfo}. */
export function syncInfo(db: SqlDb): SyncInfo {
  const meta = readMeta(db);
  const acked = getState(db, 'serverAckedSeq');
  const oldest = db.get<{ seq: number; created_at: number }>('SELECT seq, created_at FROM outbox ORDER BY seq LIMIT 1');
  const revokedToken = getState(db, 'revokedToken');
  return {
    paired: meta.deviceId !== null && meta.token !== null,
    pullCursor: meta.pullCursor,
    bootstrap: getState(db, 'bootstrap') ?? null,
    pushInDoubt: getState(db, 'pushInDoubt') ?? false,
    serverAckedSeq: acked ?? null,
    opsWaiting: outboxCount(db),
    oldestWaitingAt: oldest?.created_at ?? null,
    resendWaiting: resendCount(db, acked),
    quarantined: db.get<{ n: number }>('SELECT count(*) AS n FROM quarantine')?.n ?? 0,
    ignoredChanges: getState(db, 'ignoredChanges') ?? 0,
    lastSyncAt: meta.lastSyncAt,
    revoked: revokedToken !== undefined && revokedToken === meta.token,
  };
}

/** Records that the current token was revoked (a 401 `register_revoked`): the register is locked until re-paired. */
export function markRevoked(db: SqlDb): void {
  db.transaction(() => {
    const token = readMeta(db).token;
    if (token !== null) setState(db, 'revokedToken', token);
  });
}

/** A quarantine notice: an op the server kept for review instead of applying. */
export interface QuarantineNotice {
  readonly opId: string;
  readonly seq: number;
  readonly reason: string;
  readonly detail: unknown;
  readonly receivedAt: number;
}

/** Every quarantine notice, by seq. */
export function quarantineNotices(db: SqlDb): QuarantineNotice[] {
  return db
    .all<{ op_id: string; seq: number; reason: string; detail_json: string; received_at: number }>('SELECT * FROM quarantine ORDER BY seq')
    .map((r) => ({ opId: r.op_id, seq: r.seq, reason: r.reason, detail: JSON.parse(r.detail_json) as unknown, receivedAt: r.received_at }));
}

/** One acknowledged op of the journal. */
export interface JournalEntry {
  readonly seq: number;
  readonly opId: string;
  readonly type: string;
  readonly status: string;
  readonly ackedAt: number;
}

/** The journal, by seq. */
export function journalEntries(db: SqlDb): JournalEntry[] {
  return db
    .all<{ seq: number; op_id: string; op_type: string; status: string; acked_at: number }>('SELECT seq, op_id, op_type, status, acked_at FROM journal ORDER BY seq')
    .map((r) => ({ seq: r.seq, opId: r.op_id, type: r.op_type, status: r.status, ackedAt: r.acked_at }));
}

/** The server's stock at the cursor as the register knows it (thousandths). */
export function serverOnHand(db: SqlDb, productId: string, variantId?: string): number {
  return db.get<{ on_hand: number }>('SELECT on_hand FROM server_stock WHERE product_id = ? AND variant_id = ?', [productId, variantId ?? ''])?.on_hand ?? 0;
}

// ───────────────────────────── export / import ─────────────────────────────

/** The format tag of {@link UnsyncedExport}. */
export const UNSYNCED_EXPORT_FORMAT = 'kassa.unsynced';

const ExportedOpSchema = z.object({ seq: z.int().min(1), opId: z.string().min(1), type: z.string().min(1), createdAt: z.int(), op: z.record(z.string(), z.unknown()) });

/** The document `exportUnsynced` writes: everything the server has not acknowledged. */
export const UnsyncedExportSchema = z.object({
  format: z.literal(UNSYNCED_EXPORT_FORMAT),
  version: z.literal(1),
  exportedAt: z.int(),
  register: z.object({
    deviceId: z.string().min(1),
    storeId: z.string().min(1),
    storeCode: z.string().min(1),
    registerCode: z.string().min(1),
    nextSeq: z.int().min(1),
    lastReceiptSeq: z.int().min(0),
    chainHeadHash: z.string(),
  }),
  /** The outbox in seq order: to re-queue. */
  ops: z.array(ExportedOpSchema),
  /** Ops the server answered `seq_conflict` (kept for review, never acknowledged): for the manager's records, not re-queued. */
  notAccepted: z.array(ExportedOpSchema.extend({ status: z.string() })),
  /**
   * Set when personal data in `ops` was sealed to the server's key by the sync engine's
   * `sealExport` hook (the crypto module's job); absent: as stored.
   */
  sealed: z.object({ keyId: z.string() }).optional(),
});

/** See {@link UnsyncedExportSchema}. */
export type UnsyncedExport = z.infer<typeof UnsyncedExportSchema>;

/** Everything not acknowledged by the server, as one JSON-able document. Works on a locked register. */
export function exportUnsynced(db: SqlDb, now: number): UnsyncedExport {
  const meta = readPairedMeta(db);
  const rows = (sql: string) =>
    db.all<{ seq: number; op_id: string; op_type: string; op_json: string; created_at: number; status?: string }>(sql).map((r) => ({
      seq: r.seq,
      opId: r.op_id,
      type: r.op_type,
      createdAt: r.created_at,
      op: JSON.parse(r.op_json) as Record<string, unknown>,
      ...(r.status === undefined ? {} : { status: r.status }),
    }));
  return {
    format: UNSYNCED_EXPORT_FORMAT,
    version: 1,
    exportedAt: now,
    register: {
      deviceId: meta.deviceId,
      storeId: meta.storeId,
      storeCode: meta.storeCode,
      registerCode: meta.registerCode,
      nextSeq: meta.nextSeq,
      lastReceiptSeq: meta.lastReceiptSeq,
      chainHeadHash: meta.chainHeadHash,
    },
    ops: rows('SELECT seq, op_id, op_type, op_json, created_at FROM outbox ORDER BY seq'),
    notAccepted: rows("SELECT seq, op_id, op_type, op_json, acked_at AS created_at, status FROM journal WHERE status = 'seq_conflict' ORDER BY seq").map((r) => ({
      ...r,
      status: 'seq_conflict',
    })),
  };
}

/** What an import did. */
export interface ImportOutcome {
  /** Ops queued in the outbox. */
  readonly queued: number;
  /** Already here (by op id). */
  readonly present: number;
  /** Below the seq the register resumed from: the server has them. */
  readonly acknowledged: number;
  readonly nextSeq: number;
  readonly lastReceiptSeq: number;
}

/**
 * Re-queues an export on a register paired again as the same register (same device id, store and
 * register code), in ONE transaction. Ops already here are skipped; ops below the seq the register
 * resumed from are the server's already; the rest must continue the register's seq without a gap.
 * Receipts among them extend the local receipt chain, so numbering continues after them.
 *
 * @throws InvalidExportError for a document of another shape or register; ImportConflictError
 *   when the register already made other ops under the seqs needed (nothing is imported).
 */
export function importUnsynced(db: SqlDb, raw: unknown, now: number): ImportOutcome {
  const parsed = UnsyncedExportSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidExportError(parsed.error.issues[0]?.message ?? 'not an unsynced export');
  const doc = parsed.data;
  return db.transaction(() => {
    const meta = readPairedMeta(db);
    const r = doc.register;
    if (r.deviceId !== meta.deviceId || r.storeId !== meta.storeId || r.registerCode !== meta.registerCode) {
      throw new InvalidExportError(`it belongs to register ${r.storeCode}-${r.registerCode} (${r.deviceId}), not this one`);
    }
    let present = 0;
    let acknowledged = 0;
    const queue: { seq: number; opId: string; type: string; createdAt: number; op: Op; json: string }[] = [];
    for (const e of [...doc.ops].sort((a, b) => a.seq - b.seq)) {
      const here = db.get<{ op_id: string }>('SELECT op_id FROM outbox WHERE op_id = ? UNION ALL SELECT op_id FROM journal WHERE op_id = ?', [e.opId, e.opId]);
      if (here !== undefined) {
        present += 1;
        continue;
      }
      const holder = db.get<{ op_id: string }>('SELECT op_id FROM outbox WHERE seq = ? UNION ALL SELECT op_id FROM journal WHERE seq = ?', [e.seq, e.seq]);
      if (holder !== undefined) throw new ImportConflictError(e.seq, `the register already holds op ${holder.op_id} at this seq`);
      if (e.seq < meta.nextSeq) {
        acknowledged += 1;
        continue;
      }
      const op = parseOp(e.op);
      if (!op.ok) throw new InvalidExportError(`the op at seq ${e.seq} does not parse (${op.kind})`);
      if (op.op.id !== e.opId || op.op.seq !== e.seq || op.op.deviceId !== meta.deviceId) throw new InvalidExportError(`the op at seq ${e.seq} does not match its entry`);
      queue.push({ seq: e.seq, opId: e.opId, type: e.type, createdAt: e.createdAt, op: op.op, json: JSON.stringify(e.op) });
    }
    let next = meta.nextSeq;
    let lastReceipt = meta.lastReceiptSeq;
    let head = meta.chainHeadHash;
    let hlc = meta.hlcLast;
    for (const q of queue) {
      if (q.seq !== next) throw new ImportConflictError(q.seq, `the register continues at seq ${next}; importing this would leave a gap`);
      db.run('INSERT INTO outbox (seq, op_id, op_type, op_json, created_at) VALUES (?, ?, ?, ?, ?)', [q.seq, q.opId, q.type, q.json, q.createdAt]);
      const payload = q.op.payload as { receiptNo?: unknown; prevHash?: unknown };
      if (typeof payload.receiptNo === 'string' && typeof payload.prevHash === 'string' && isValidReceiptNo(payload.receiptNo)) {
        const parts = parseReceiptNo(payload.receiptNo);
        if (parts.storeCode === meta.storeCode && parts.registerCode === meta.registerCode && parts.seq > lastReceipt) {
          const hash = receiptHash({ type: q.op.type, payload: payload as { receiptNo: string; prevHash: string } });
          db.run('INSERT INTO receipts (receipt_seq, receipt_no, op_type, op_id, prev_hash, hash, at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
            parts.seq,
            payload.receiptNo,
            q.op.type,
            q.opId,
            payload.prevHash,
            hash,
            decodeHlc(q.op.hlc).wallMs,
          ]);
          lastReceipt = parts.seq;
          head = hash;
        }
      }
      if (hlc === null || compareHlc(decodeHlc(q.op.hlc), decodeHlc(hlc)) > 0) hlc = q.op.hlc;
      // Pending like any queued op: the till shows its stock movement until the server counts it.
      addTo(db, 'stock_levels', localDeltas(db, q.op), now);
      next += 1;
    }
    db.run('UPDATE meta SET next_seq = ?, last_receipt_seq = ?, chain_head_hash = ?, hlc_last = ? WHERE id = 1', [next, lastReceipt, head, hlc, ]);
    return { queued: queue.length, present, acknowledged, nextSeq: next, lastReceiptSeq: lastReceipt };
  });
}
