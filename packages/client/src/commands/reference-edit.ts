/**
 * Editing reference documents at the till: customers and products. An edit is a set of per-field
 * writes (core's `diffToWrites`), each based on the HLC of the value the cashier saw, merged into
 * the local document with core's `applyWrites` (so the register shows what the server will
 * compute), and sent as one op.
 */
import {
  applyWrites,
  docHlcs,
  docValues,
  emptyDoc,
  diffToWrites,
  isDeletedDoc,
  JsonValueSchema,
  ReferenceDocSchema,
  type Conflict,
  type FieldWrite,
  type JsonValue,
  type OpOf,
  type ReferenceDoc,
} from '@kassa/core';
import { z } from 'zod';
import { CorruptRowError, NotFoundError, SealingRequiredError, StaleReadError } from '../store/errors.js';
import type { SqlDb } from '../store/sql-db.js';
import { authorizeStaff } from './authorize-staff.js';
import { runCommand, step, type CommandContext } from './context.js';
import { appendOp, buildOp, loadRegister, opTime, stamp } from './op-writer.js';

function parseDoc(table: string, json: string): ReferenceDoc {
  const parsed = ReferenceDocSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new CorruptRowError(table, parsed.error.message);
  return parsed.data;
}

function recordConflicts(db: SqlDb, docType: string, docId: string, conflicts: readonly Conflict[], now: number): void {
  for (const c of conflicts) {
    db.run('INSERT OR IGNORE INTO conflicts (id, doc_type, doc_id, field, detail_json, detected_at) VALUES (?, ?, ?, ?, ?, ?)', [
      `${docType}:${docId}:${c.id}`,
      docType,
      docId,
      c.field,
      JSON.stringify(c),
      now,
    ]);
  }
}

/** Field values of a customer, e.g. `{ name: 'Ada', phone: '+49…', deleted: true }`. */
export const CustomerChangesSchema = z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/), JsonValueSchema);

/** What {@link saveCustomer} needs. */
export interface SaveCustomerInput {
  /** Omit to create a customer. */
  readonly customerId?: string;
  /** The fields to set (others keep their value); `deleted: true` deletes. */
  readonly changes: Readonly<Record<string, JsonValue>>;
  readonly staffId: string;
  readonly approvedBy?: string;
}

/** What a save returns; `op` is null when nothing changed (nothing was written). */
export interface SaveCustomerResult {
  readonly customerId: string;
  readonly op: OpOf<'customer.upserted'> | null;
}

/**
 * Creates or edits a customer.
 *
 * @throws NotFoundError for an unknown customer id; EditBeforeBaseError (core) when the
 *   register's clock is behind the value edited; PermissionDeniedError.
 */
export function saveCustomer(ctx: CommandContext, input: SaveCustomerInput): SaveCustomerResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    if (ctx.db.get('SELECT 1 AS x FROM register_keys') !== undefined) throw new SealingRequiredError('saveCustomer', 'saveCustomerSealed');
    const changes = CustomerChangesSchema.parse(input.changes);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'edit_customers' });
    let doc = emptyDoc();
    if (input.customerId !== undefined) {
      const row = ctx.db.get<{ doc_json: string }>('SELECT doc_json FROM customers WHERE id = ?', [input.customerId]);
      if (row === undefined) throw new NotFoundError('customer', input.customerId);
      doc = parseDoc('customers', row.doc_json);
    }
    const customerId = input.customerId ?? ctx.ids.next();
    step(ctx, 'build');
    const before = docValues(doc);
    const hlc = stamp(ctx, reg);
    const writes = diffToWrites(before, { ...before, ...changes }, docHlcs(doc), hlc);
    if (writes.length === 0) return { customerId, op: null };
    const op = buildOp(ctx, reg, { type: 'customer.upserted', payload: { customerId, writes }, hlc, staffId: input.staffId, approvedBy });
    const merged = applyWrites(doc, writes);
    step(ctx, 'state:customer');
    ctx.db.run(
      `INSERT INTO customers (id, deleted, doc_json, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, doc_json = excluded.doc_json, updated_at = excluded.updated_at`,
      [customerId, isDeletedDoc(merged.doc) ? 1 : 0, JSON.stringify(merged.doc), opTime(op)],
    );
    recordConflicts(ctx.db, 'customer', customerId, merged.conflicts, opTime(op));
    appendOp(ctx, reg, op);
    return { customerId, op };
  });
}

/** One changed customer field, sealed twice: for the register's table and for the op. */
export interface SealedFieldChange {
  readonly field: string;
  /** Sealed to the register's key, AAD `fieldAad('customers', field, customerId)`; `deleted` in clear. */
  readonly local: JsonValue;
  /** Sealed to the server's key, AAD `fieldAad('customer.upserted', field, customerId)`; `deleted` in clear. */
  readonly wire: JsonValue;
}

/** What {@link saveSealedCustomer} needs: the fields the caller found changed, already sealed. */
export interface SaveSealedCustomerInput {
  readonly customerId: string;
  /** The `doc_json` the caller opened and compared against (null: a new customer). */
  readonly basedOn: string | null;
  readonly fields: readonly SealedFieldChange[];
  /** The customer's search tokens after the edit, and the key id they were made with. */
  readonly tokens: { readonly keyId: string; readonly tokens: readonly string[] };
  readonly staffId: string;
  readonly approvedBy?: string;
}

/**
 * The transaction of a customer edit on a register whose personal data is sealed (the store's
 * vault seals first, asynchronously, then calls this): writes stamped now and based on the HLCs of
 * the doc the vault opened, the merged doc (register-sealed values), the op (server-sealed values),
 * the register-sealed copy of the writes for replay over pulls, and the search tokens.
 *
 * @throws StaleReadError when the doc changed since the vault read it (the vault retries);
 *   PermissionDeniedError; EditBeforeBaseError (core).
 */
export function saveSealedCustomer(ctx: CommandContext, input: SaveSealedCustomerInput): SaveCustomerResult {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'edit_customers' });
    const row = ctx.db.get<{ doc_json: string }>('SELECT doc_json FROM customers WHERE id = ?', [input.customerId]);
    if ((row?.doc_json ?? null) !== input.basedOn) throw new StaleReadError('customer', input.customerId);
    const doc = row === undefined ? emptyDoc() : parseDoc('customers', row.doc_json);
    const { customerId } = input;
    if (input.fields.length === 0) return { customerId, op: null };
    step(ctx, 'build');
    const hlc = stamp(ctx, reg);
    const bases = docHlcs(doc);
    const localWrites: FieldWrite[] = input.fields.map((f) => ({ field: f.field, value: f.local, hlc, base: bases[f.field] ?? null }));
    const wireWrites: FieldWrite[] = input.fields.map((f) => ({ field: f.field, value: f.wire, hlc, base: bases[f.field] ?? null }));
    const op = buildOp(ctx, reg, { type: 'customer.upserted', payload: { customerId, writes: wireWrites }, hlc, staffId: input.staffId, approvedBy });
    const merged = applyWrites(doc, localWrites);
    step(ctx, 'state:customer');
    ctx.db.run(
      `INSERT INTO customers (id, deleted, doc_json, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, doc_json = excluded.doc_json, updated_at = excluded.updated_at`,
      [customerId, isDeletedDoc(merged.doc) ? 1 : 0, JSON.stringify(merged.doc), opTime(op)],
    );
    ctx.db.run('DELETE FROM customer_tokens WHERE customer_id = ?', [customerId]);
    for (const t of new Set(input.tokens.tokens)) ctx.db.run('INSERT INTO customer_tokens (token, customer_id) VALUES (?, ?)', [t, customerId]);
    ctx.db.run('UPDATE customers SET tokens_key_id = ? WHERE id = ?', [input.tokens.keyId, customerId]);
    ctx.db.run('DELETE FROM customer_local_writes WHERE op_id NOT IN (SELECT op_id FROM outbox)');
    ctx.db.run('INSERT INTO customer_local_writes (op_id, customer_id, writes_json) VALUES (?, ?, ?)', [op.id, customerId, JSON.stringify(localWrites)]);
    recordConflicts(ctx.db, 'customer', customerId, merged.conflicts, opTime(op));
    appendOp(ctx, reg, op);
    return { customerId, op };
  });
}

/** The product fields a register may edit, and their column values. */
export const ProductChangesSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    sku: z.string().trim().min(1).max(64),
    /** Minor units in the store's price mode. */
    price: z.int().min(0),
    taxRateIds: z.array(z.string().min(1).max(64)).max(8),
    categoryId: z.string().nullable(),
    active: z.boolean(),
  })
  .partial();

/** See {@link ProductChangesSchema}. */
export type ProductChanges = z.infer<typeof ProductChangesSchema>;

/** What {@link editProduct} needs. */
export interface EditProductInput {
  readonly productId: string;
  readonly changes: ProductChanges;
  readonly staffId: string;
  /** Cashiers need a manager's approval to change the catalog. */
  readonly approvedBy?: string;
}

const ProductRowSchema = z.object({
  name: z.string(),
  sku: z.string(),
  unit_price: z.int(),
  tax_rate_ids_json: z.string(),
  category_id: z.string().nullable(),
  active: z.int(),
  doc_json: z.string(),
});

/**
 * Edits a product: the changed fields become writes based on what the register showed, the
 * product row (and so the search index, by trigger) follows the merged values.
 *
 * @throws NotFoundError; PermissionDeniedError; EditBeforeBaseError (core).
 */
export function editProduct(ctx: CommandContext, input: EditProductInput): { readonly op: OpOf<'product.edited'> | null } {
  return runCommand(ctx, () => {
    const reg = loadRegister(ctx);
    const changes = ProductChangesSchema.parse(input.changes);
    const approvedBy = authorizeStaff(ctx, { staffId: input.staffId, approvedBy: input.approvedBy, action: 'edit_products' });
    const raw = ctx.db.get('SELECT name, sku, unit_price, tax_rate_ids_json, category_id, active, doc_json FROM products WHERE id = ?', [input.productId]);
    if (raw === undefined) throw new NotFoundError('product', input.productId);
    const row = ProductRowSchema.parse(raw);
    const doc = parseDoc('products', row.doc_json);
    step(ctx, 'build');
    // What the cashier saw: the row's columns, overlaid by the merged document where it has a value.
    const shown: Record<string, JsonValue> = {
      name: row.name,
      sku: row.sku,
      price: row.unit_price,
      taxRateIds: z.array(z.string()).parse(JSON.parse(row.tax_rate_ids_json)),
      categoryId: row.category_id,
      active: row.active === 1,
      ...docValues(doc),
    };
    const hlc = stamp(ctx, reg);
    const edited: Record<string, JsonValue> = { ...shown };
    for (const [k, value] of Object.entries(changes)) if (value !== undefined) edited[k] = value;
    const writes: FieldWrite[] = diffToWrites(shown, edited, docHlcs(doc), hlc);
    if (writes.length === 0) return { op: null };
    const op = buildOp(ctx, reg, { type: 'product.edited', payload: { productId: input.productId, writes }, hlc, staffId: input.staffId, approvedBy });
    const merged = applyWrites(doc, writes);
    const v = ProductChangesSchema.parse(
      Object.fromEntries(Object.entries({ ...shown, ...docValues(merged.doc) }).filter(([k]) => k in ProductChangesSchema.shape)),
    );
    step(ctx, 'state:product');
    ctx.db.run(
      'UPDATE products SET name = ?, sku = ?, unit_price = ?, tax_rate_ids_json = ?, category_id = ?, active = ?, doc_json = ? WHERE id = ?',
      [
        v.name ?? row.name,
        v.sku ?? row.sku,
        v.price ?? row.unit_price,
        JSON.stringify(v.taxRateIds ?? []),
        v.categoryId ?? null,
        (v.active ?? true) && !isDeletedDoc(merged.doc) ? 1 : 0,
        JSON.stringify(merged.doc),
        input.productId,
      ],
    );
    recordConflicts(ctx.db, 'product', input.productId, merged.conflicts, opTime(op));
    appendOp(ctx, reg, op);
    return { op };
  });
}
