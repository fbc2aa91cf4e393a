/**
 * Tax rates in the back office: list (paged, `?q=` over the name), get, create, edit, delete. A
 * rate is in parts per million (19 % = 190000). Edits merge per field like a register's
 * `reference.edited` of a tax rate; deleting one a product still uses is refused (409
 * `tax_rate_in_use`). A changed rate applies to sales from then on: a sale keeps the tax it was
 * sold with.
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
import { TaxRateFieldSchemas as F, SeenHlcsSchema } from './catalog-fields.js';
import { taxRateView, TaxRateViewSchema } from './catalog-views.js';
import { ConflictViewSchema } from './conflict-view.js';
import { contains, PageInfoShape, PageQueryShape, SearchQuerySchema } from './paging.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const IdParamsSchema = z.strictObject({ id: z.uuid() });

const CreateTaxRateSchema = z.strictObject({ name: F.name, ratePpm: F.ratePpm });
const EditTaxRateSchema = z
  .strictObject({ name: F.name.optional(), ratePpm: F.ratePpm.optional(), fieldHlc: SeenHlcsSchema.optional() })
  .refine((b) => Object.keys(b).some((k) => k !== 'fieldHlc'), 'give at least one field to change');

async function findTaxRate(db: Db, orgId: string, id: string) {
  const row = await db.selectFrom('tax_rates').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such tax rate');
  return taxRateView(row);
}

function fieldValues(body: Record<string, unknown>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(body).filter(([k, v]) => k !== 'fieldHlc' && v !== undefined)) as Record<string, JsonValue>;
}

/** Registers the tax rate routes. */
export const taxRateRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/tax-rates',
    {
      onRequest: signedIn,
      schema: {
        summary: 'List tax rates',
        description: 'Sorted by name.',
        tags: [TAGS.catalog],
        querystring: z.strictObject({ ...PageQueryShape, q: SearchQuerySchema.optional() }),
        response: { 200: z.object({ taxRates: z.array(TaxRateViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      const { limit, offset, q } = request.query;
      let query = db.selectFrom('tax_rates').where('org_id', '=', orgId);
      if (q !== undefined) query = query.where((eb) => contains(eb.ref('name'), q));
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('name').orderBy('id').limit(limit).offset(offset).execute();
      return { taxRates: rows.map(taxRateView), total: Number(n), limit, offset };
    },
  );

  app.get(
    '/api/v1/tax-rates/:id',
    {
      onRequest: signedIn,
      schema: { summary: 'One tax rate', tags: [TAGS.catalog], params: IdParamsSchema, response: { 200: TaxRateViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => findTaxRate(db, userOf(request).orgId, request.params.id),
  );

  app.post(
    '/api/v1/tax-rates',
    {
      onRequest: managers,
      schema: {
        summary: 'Create a tax rate',
        tags: [TAGS.catalog],
        body: CreateTaxRateSchema,
        response: { 201: TaxRateViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const id = randomUUID();
      const values = { name: request.body.name, ratePpm: request.body.ratePpm };
      const view = await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'tax_rate', docId: id, values, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.created', target: { kind: 'tax_rate', id }, details: { values }, at: clock.now() });
        return findTaxRate(trx, user.orgId, id);
      });
      await changeFeed.publish(user.orgId);
      return reply.status(201).send(view);
    },
  );

  app.patch(
    '/api/v1/tax-rates/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Edit a tax rate',
        description: 'Per-field writes; send back the `fieldHlc` you read (see `PATCH /api/v1/products/{id}`).',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        body: EditTaxRateSchema,
        response: {
          200: z.object({ taxRate: TaxRateViewSchema, conflicts: z.array(ConflictViewSchema) }),
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
        await findTaxRate(trx, user.orgId, id);
        const result = await editCatalogDocAudited(trx, { orgId: user.orgId, userId: user.userId, docType: 'tax_rate', docId: id, values, seen: request.body.fieldHlc, clock });
        return { changed: result.changed, taxRate: await findTaxRate(trx, user.orgId, id), conflicts: result.conflicts };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return { taxRate: out.taxRate, conflicts: out.conflicts };
    },
  );

  app.delete(
    '/api/v1/tax-rates/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Delete a tax rate',
        description: 'Writes `deleted: true`; registers receive a delete. Refused (409 `tax_rate_in_use`) while a product uses it.',
        tags: [TAGS.catalog],
        params: IdParamsSchema,
        response: { 204: z.null().describe('deleted'), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params;
      await catalogTransaction(db, user.orgId, clock, async (trx) => {
        await findTaxRate(trx, user.orgId, id);
        await editCatalogDoc(trx, { orgId: user.orgId, userId: user.userId, docType: 'tax_rate', docId: id, values: { deleted: true }, clock });
        await audit(trx, { orgId: user.orgId, actorType: 'user', actorId: user.userId, action: 'catalog.deleted', target: { kind: 'tax_rate', id }, at: clock.now() });
      });
      await changeFeed.publish(user.orgId);
      return reply.status(204).send(null);
    },
  );
};
