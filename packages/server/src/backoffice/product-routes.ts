/**
 * Products in the back office: list (paged, `?q=` over name, SKU and barcode, `?categoryId=`,
 * `?active=`), get, create, edit, delete. Creates and edits are per-field HLC writes through the
 * same merge as a register's `product.edited` (`catalog-edit.ts`, `reference-write.ts`), so an
 * edit that did not see a register's concurrent one is answered with the conflict it revealed.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Transaction } from 'kysely';
import type { JsonValue } from '@kassa/core';
import { normalizeGtin } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { userOf } from '../auth/session.js';
import type { Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { catalogTransaction, editCatalogDoc, editCatalogDocAudited } from './catalog-edit.js';
import { ProductFieldSchemas as F, SeenHlcsSchema } from './catalog-fields.js';
import { ProductViewSchema, productViews } from './catalog-views.js';
import type { ProductView } from './catalog-views.js';
import { ConflictViewSchema } from './conflict-view.js';
import { contains, PageInfoShape, PageQueryShape, QueryBooleanSchema, SearchQuerySchema } from './paging.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const IdParamsSchema = z.strictObject({ id: z.uuid() });

const CreateProductSchema = z
  .strictObject({
    name: F.name,
    sku: F.sku,
    price: F.price,
    currency: F.currency,
    categoryId: F.categoryId.optional(),
    taxRateIds: F.taxRateIds.optional(),
    weighed: F.weighed.optional(),
    unit: F.unit.optional().describe('`kg` when weighed, else `piece`, when not given'),
    active: F.active.optional(),
    barcodes: F.barcodes.optional(),
  })
  .refine((b) => !(b.weighed === true && b.unit === 'piece'), { message: 'a weighed product is sold per kg', path: ['unit'] });

const EditProductSchema = z
  .strictObject({
    name: F.name.optional(),
    sku: F.sku.optional(),
    price: F.price.optional(),
    currency: F.currency.optional(),
    categoryId: F.categoryId.optional(),
    taxRateIds: F.taxRateIds.optional(),
    weighed: F.weighed.optional(),
    unit: F.unit.optional(),
    active: F.active.optional(),
    barcodes: F.barcodes.optional(),
    fieldHlc: SeenHlcsSchema.optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'fieldHlc'), 'give at least one field to change');

/** The answer to an edit: the product after it, and the conflicts it revealed (usually none). */
const EditResultSchema = z.object({ product: ProductViewSchema, conflicts: z.array(ConflictViewSchema) });

async function findProduct(db: Db, orgId: string, id: string): Promise<ProductView> {
  const row = await db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  const [view] = row === undefined ? [] : await productViews(db, orgId, [row]);
  if (view === undefined) throw new ApiError(404, 'not_found', 'no such product');
  return view;
}

/** The body's field values (without `fieldHlc`), barcodes in a canonical order. */
function fieldValues(body: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'fieldHlc' || v === undefined) continue;
    out[k] = k === 'barcodes' && Array.isArray(v) ? [...(v as string[])].sort() : (v as JsonValue);
  }
  return out;
}

/** Registers the product routes. */
export const productRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/products',
    {
      onRequest: signedIn,
      schema: {
        summary: 'List products',
        description: '`q` matches a part of the name or SKU (case-insensitive) or a whole barcode; sorted by name.',
        tags: [TAGS.catalog],
        querystring: z.strictObject({
          ...PageQueryShape,
          q: SearchQuerySchema.optional(),
          categoryId: z.uuid().optional(),
          active: QueryBooleanSchema.optional(),
        }),
        response: { 200: z.object({ products: z.array(ProductViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      const { limit, offset, q, categoryId, active } = request.query;
      let query = db.selectFrom('products').where('products.org_id', '=', orgId);
      if (categoryId !== undefined) {
        const own = await db.selectFrom('categories').select('id').where('org_id', '=', orgId).where('id', '=', categoryId).executeTakeFirst();
        if (!own) throw new ApiError(404, 'not_found', 'no such category');
        query = query.where('products.category_id', '=', categoryId);
      }
      if (active !== undefined) query = query.where('products.active', '=', active ? 1 : 0);
      if (q !== undefined) {
        const gtin = /^\d+$/.test(q) ? safeGtin(q) : undefined;
        query = query.where((eb) =>
          eb.or([
            contains(eb.ref('products.name'), q),
            contains(eb.ref('products.sku'), q),
            ...(gtin === undefined
              ? []
              : [
                  eb.exists(
                    eb
                      .selectFrom('barcodes')
                      .select('barcodes.code')
                      .whereRef('barcodes.product_id', '=', 'products.id')
                      .where('barcodes.org_id', '=', orgId)
                      .where('barcodes.code', '=', gtin),
                  ),
                ]),
          ]),
        );
      }
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll('products').orderBy('products.name').orderBy('products.id').limit(limit).offset(offset).execute();
      return { products: await productViews(db, orgId, rows), total: Number(n), limit, offset };
    },
  );

  app.get(
    '/api/v1/products/:id',
    {
      onRequest: signedIn,
      schema: {
        summary: 'One product',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        response: { 200: ProductViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => findProduct(db, userOf(request).orgId, request.params.id),
  );

  app.post(
    '/api/v1/products',
    {
      onRequest: managers,
      schema: {
        summary: 'Create a product',
        description: 'Written as per-field edits stamped with the server’s HLC; registers receive it on their next pull.',
        tags: [TAGS.catalog],
        body: CreateProductSchema,
        response: { 201: ProductViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const b = request.body;
      const id = randomUUID();
      const weighed = b.weighed ?? false;
      const values = fieldValues({
        name: b.name,
        sku: b.sku,
        price: b.price,
        currency: b.currency,
        categoryId: b.categoryId ?? null,
        taxRateIds: b.taxRateIds ?? [],
        weighed,
        unit: b.unit ?? (weighed ? 'kg' : 'piece'),
        active: b.active ?? true,
        barcodes: b.barcodes ?? [],
      });
      const view = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'product', docId: id, values, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.created', target: { kind: 'product', id }, details: { values }, at: clock.now() });
        return findProduct(trx, user.orgId, id);
      });
      await changeFeed.publish(user.orgId);
      return reply.status(201).send(view);
    },
  );

  app.patch(
    '/api/v1/products/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Edit a product',
        description: [
          'Only the fields given are written, each stamped with the server’s HLC. Send back the `fieldHlc` you read with the product:',
          'a field edited meanwhile by a register (or another user) then yields a conflict, returned here and listed under `/api/v1/conflicts`.',
          'The later write still wins the merge; the conflict asks someone to confirm or pick the value.',
        ].join(' '),
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        body: EditProductSchema,
        response: { 200: EditResultSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const values = fieldValues(request.body);
      const out = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        const before = await findProduct(trx, user.orgId, id);
        const merged = { weighed: request.body.weighed ?? before.weighed, unit: request.body.unit ?? before.unit };
        if (merged.weighed && merged.unit === 'piece') throw new ApiError(400, 'invalid_input', 'a weighed product is sold per kg', { issues: [{ path: '/unit', code: 'custom', message: 'a weighed product is sold per kg' }] });
        const result = await editCatalogDocAudited(trx, { orgId: user.orgId, userId: user.userId, docType: 'product', docId: id, values, seen: request.body.fieldHlc, clock });
        return { changed: result.changed, product: await findProduct(trx, user.orgId, id), conflicts: result.conflicts };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return { product: out.product, conflicts: out.conflicts };
    },
  );

  app.delete(
    '/api/v1/products/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Delete a product',
        description: 'Writes `deleted: true` (a field like any other, so it merges with register edits) and frees its barcodes; the row stays, inactive, for history.',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        response: { 200: ProductViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const out = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findProduct(trx, user.orgId, id);
        const result = await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'product', docId: id, values: { deleted: true }, clock });
        if (result.changed) {
          await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.deleted', target: { kind: 'product', id }, at: clock.now() });
        }
        return { changed: result.changed, product: await findProduct(trx, user.orgId, id) };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return out.product;
    },
  );
};

/** The normalised GTIN of a search text, or undefined when it is not one. */
function safeGtin(text: string): string | undefined {
  try {
    return normalizeGtin(text);
  } catch {
    return undefined;
  }
}
