/**
 * Categories in the back office: list (paged, `?q=` over the name, `?parentId=`), get, create, edit,
 * delete. Edits merge per field like a register's `reference.edited` of a category; deleting one
 * that still holds products or sub-categories is refused (409 `category_in_use`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Transaction } from 'kysely';
import type { JsonValue } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { userOf } from '../auth/session.js';
import type { Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { catalogTransaction, editCatalogDoc, editCatalogDocAudited } from './catalog-edit.js';
import { CategoryFieldSchemas as F, SeenHlcsSchema } from './catalog-fields.js';
import { categoryView, CategoryViewSchema } from './catalog-views.js';
import { ConflictViewSchema } from './conflict-view.js';
import { contains, PageInfoShape, PageQueryShape, SearchQuerySchema } from './paging.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const IdParamsSchema = z.strictObject({ id: z.uuid() });

const CreateCategorySchema = z.strictObject({ name: F.name, parentId: F.parentId.optional(), sortOrder: F.sortOrder.optional() });
const EditCategorySchema = z
  .strictObject({ name: F.name.optional(), parentId: F.parentId.optional(), sortOrder: F.sortOrder.optional(), fieldHlc: SeenHlcsSchema.optional() })
  .refine((b) => Object.keys(b).some((k) => k !== 'fieldHlc'), 'give at least one field to change');

async function findCategory(db: Db, orgId: string, id: string) {
  const row = await db.selectFrom('categories').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such category');
  return categoryView(row);
}

function fieldValues(body: Record<string, unknown>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(body).filter(([k, v]) => k !== 'fieldHlc' && v !== undefined)) as Record<string, JsonValue>;
}

/** Registers the category routes. */
export const categoryRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/categories',
    {
      onRequest: signedIn,
      schema: {
        summary: 'List categories',
        description: 'Sorted by `sortOrder`, then name. `parentId` lists the sub-categories of one category.',
        tags: [TAGS.catalog],
        querystring: z.strictObject({ ...PageQueryShape, q: SearchQuerySchema.optional(), parentId: z.uuid().optional() }),
        response: { 200: z.object({ categories: z.array(CategoryViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      const { limit, offset, q, parentId } = request.query;
      let query = db.selectFrom('categories').where('org_id', '=', orgId);
      if (parentId !== undefined) {
        await findCategory(db, orgId, parentId);
        query = query.where('parent_id', '=', parentId);
      }
      if (q !== undefined) query = query.where((eb) => contains(eb.ref('name'), q));
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('sort_order').orderBy('name').orderBy('id').limit(limit).offset(offset).execute();
      return { categories: rows.map(categoryView), total: Number(n), limit, offset };
    },
  );

  app.get(
    '/api/v1/categories/:id',
    {
      onRequest: signedIn,
      schema: { summary: 'One category', tags: [TAGS.catalog], params: IdParamsSchema, response: { 200: CategoryViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => findCategory(db, userOf(request).orgId, request.params.id),
  );

  app.post(
    '/api/v1/categories',
    {
      onRequest: managers,
      schema: {
        summary: 'Create a category',
        tags: [TAGS.catalog],
        body: CreateCategorySchema,
        response: { 201: CategoryViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const id = randomUUID();
      const values = { name: request.body.name, parentId: request.body.parentId ?? null, sortOrder: request.body.sortOrder ?? 0 };
      const view = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'category', docId: id, values, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.created', target: { kind: 'category', id }, details: { values }, at: clock.now() });
        return findCategory(trx, user.orgId, id);
      });
      await changeFeed.publish(user.orgId);
      return reply.status(201).send(view);
    },
  );

  app.patch(
    '/api/v1/categories/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Edit a category',
        description: 'Per-field writes; send back the `fieldHlc` you read (see `PATCH /api/v1/products/{id}`).',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        body: EditCategorySchema,
        response: {
          200: z.object({ category: CategoryViewSchema, conflicts: z.array(ConflictViewSchema) }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          409: ErrorBodySchema,
        },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const values = fieldValues(request.body);
      const out = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findCategory(trx, user.orgId, id);
        const result = await editCatalogDocAudited(trx, { orgId: user.orgId, userId: user.userId, docType: 'category', docId: id, values, seen: request.body.fieldHlc, clock });
        return { changed: result.changed, category: await findCategory(trx, user.orgId, id), conflicts: result.conflicts };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return { category: out.category, conflicts: out.conflicts };
    },
  );

  app.delete(
    '/api/v1/categories/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Delete a category',
        description: 'Writes `deleted: true`; registers receive a delete. Refused (409 `category_in_use`) while products or sub-categories are in it.',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        response: { 204: z.null().describe('deleted'), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params;
      await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findCategory(trx, user.orgId, id);
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'category', docId: id, values: { deleted: true }, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.deleted', target: { kind: 'category', id }, at: clock.now() });
      });
      await changeFeed.publish(user.orgId);
      return reply.status(204).send(null);
    },
  );
};
