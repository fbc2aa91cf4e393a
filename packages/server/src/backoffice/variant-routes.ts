/**
 * Variants of a product (a size, a colour; its own price or the product's). The server keeps them
 * as merge docs only (`reference_docs`, doc type `variant`, as a register's `reference.edited`
 * writes them): registers receive them through the log and the snapshot as `{id, values,
 * fieldHlc}`. Edits are per-field HLC writes like every catalog edit (`catalog-edit.ts`).
 *
 * Not yet: variant barcodes (the `barcodes` table has no variant column) and SKU uniqueness among
 * variants (no table to hold the constraint).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Transaction } from 'kysely';
import { docHlcs, docValues, ReferenceDocSchema } from '@kassa/core';
import type { JsonValue } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { userOf } from '../auth/session.js';
import type { Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { catalogTransaction, editCatalogDoc, editCatalogDocAudited } from './catalog-edit.js';
import { FieldHlcSchema, SeenHlcsSchema, VariantFieldSchemas as F } from './catalog-fields.js';
import { ConflictViewSchema } from './conflict-view.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const IdParamsSchema = z.strictObject({ id: z.uuid() });

/** A variant as the back office sees it; a field its doc does not hold (a register's partial edit) is null. */
export const VariantViewSchema = z
  .object({
    id: z.string(),
    productId: z.string().nullable(),
    sku: z.string().nullable(),
    name: z.string().nullable(),
    price: z.int().nullable().describe('minor units; null: the product’s price'),
    active: z.boolean(),
    deleted: z.boolean(),
    fieldHlc: FieldHlcSchema,
    updatedAt: z.int(),
  })
  .meta({ id: 'Variant' });

type VariantView = z.infer<typeof VariantViewSchema>;

const CreateVariantSchema = z.strictObject({ sku: F.sku, name: F.name, price: F.price.optional(), active: F.active.optional() });
const EditVariantSchema = z
  .strictObject({ sku: F.sku.optional(), name: F.name.optional(), price: F.price.optional(), active: F.active.optional(), fieldHlc: SeenHlcsSchema.optional() })
  .refine((b) => Object.keys(b).some((k) => k !== 'fieldHlc'), 'give at least one field to change');

function view(docId: string, docJson: string, updatedAt: number): VariantView {
  const doc = ReferenceDocSchema.parse(JSON.parse(docJson));
  const v = docValues(doc);
  const pick = <T>(field: string, schema: z.ZodType<T>): T | null => {
    const r = schema.safeParse(v[field]);
    return r.success ? r.data : null;
  };
  return {
    id: docId,
    productId: pick('productId', z.string()),
    sku: pick('sku', z.string()),
    name: pick('name', z.string()),
    price: pick('price', z.int()),
    active: v['active'] !== false,
    deleted: v['deleted'] === true,
    fieldHlc: docHlcs(doc),
    updatedAt,
  };
}

async function findVariant(db: Db, orgId: string, id: string): Promise<VariantView> {
  const row = await db.selectFrom('reference_docs').select(['doc_json', 'updated_at']).where('org_id', '=', orgId).where('doc_type', '=', 'variant').where('doc_id', '=', id).executeTakeFirst();
  const found = row === undefined ? undefined : view(id, row.doc_json, row.updated_at);
  if (found === undefined || found.deleted) throw new ApiError(404, 'not_found', 'no such variant');
  return found;
}

async function requireProduct(db: Db, orgId: string, id: string): Promise<void> {
  const row = await db.selectFrom('products').select('id').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new ApiError(404, 'not_found', 'no such product');
}

/** Registers the variant routes. */
export const variantRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/products/:id/variants',
    {
      onRequest: signedIn,
      schema: {
        summary: 'A product’s variants',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        querystring: z.strictObject({}),
        response: { 200: z.object({ variants: z.array(VariantViewSchema) }), 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      const productId = request.params.id;
      await requireProduct(db, orgId, productId);
      // The product's id appears in the JSON of its variants' docs: a cheap prefilter, confirmed by parsing.
      const rows = await db
        .selectFrom('reference_docs')
        .select(['doc_id', 'doc_json', 'updated_at'])
        .where('org_id', '=', orgId)
        .where('doc_type', '=', 'variant')
        .where('doc_json', 'like', `%${productId}%`)
        .orderBy('doc_id')
        .execute();
      const variants = rows.map((r) => view(r.doc_id, r.doc_json, r.updated_at)).filter((v) => v.productId === productId && !v.deleted);
      return { variants: variants.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.id < b.id ? -1 : 1)) };
    },
  );

  app.get(
    '/api/v1/variants/:id',
    {
      onRequest: signedIn,
      schema: { summary: 'One variant', tags: [TAGS.catalog], params: IdParamsSchema, response: { 200: VariantViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => findVariant(db, userOf(request).orgId, request.params.id),
  );

  app.post(
    '/api/v1/products/:id/variants',
    {
      onRequest: managers,
      schema: {
        summary: 'Add a variant to a product',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        body: CreateVariantSchema,
        response: { 201: VariantViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const productId = request.params.id;
      const id = randomUUID();
      const values: Record<string, JsonValue> = { productId, sku: request.body.sku, name: request.body.name, price: request.body.price ?? null, active: request.body.active ?? true };
      const created = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await requireProduct(trx, user.orgId, productId);
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'variant', docId: id, values, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.created', target: { kind: 'variant', id }, details: { values }, at: clock.now() });
        return findVariant(trx, user.orgId, id);
      });
      await changeFeed.publish(user.orgId);
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/v1/variants/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Edit a variant',
        description: 'Per-field writes; send back the `fieldHlc` you read (see `PATCH /api/v1/products/{id}`).',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        body: EditVariantSchema,
        response: { 200: z.object({ variant: VariantViewSchema, conflicts: z.array(ConflictViewSchema) }), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const values = Object.fromEntries(Object.entries(request.body).filter(([k, v]) => k !== 'fieldHlc' && v !== undefined)) as Record<string, JsonValue>;
      const out = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findVariant(trx, user.orgId, id);
        const result = await editCatalogDocAudited(trx, { orgId: user.orgId, userId: user.userId, docType: 'variant', docId: id, values, seen: request.body.fieldHlc, clock });
        return { changed: result.changed, variant: await findVariant(trx, user.orgId, id), conflicts: result.conflicts };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return { variant: out.variant, conflicts: out.conflicts };
    },
  );

  app.delete(
    '/api/v1/variants/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Delete a variant',
        description: 'Writes `deleted: true`; registers receive a delete.',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        response: { 204: z.null().describe('deleted'), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params;
      await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findVariant(trx, user.orgId, id);
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'variant', docId: id, values: { deleted: true }, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.deleted', target: { kind: 'variant', id }, at: clock.now() });
      });
      await changeFeed.publish(user.orgId);
      return reply.status(204).send(null);
    },
  );
};
