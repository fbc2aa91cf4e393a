/**
 * Stock in the back office: levels (what the push side keeps as sums of movements), and stock
 * adjustments and deliveries booked in the back office.
 *
 * A back-office adjustment is a fact like a register's `stock.adjusted` / `stock.received`: an op
 * valid by core's `OpSchema`, whose movements come from core's `opStockMovements` and go through
 * the push side's `recordMovements` and `DerivedEffects` (so levels and oversell alerts follow the
 * same rules), and which reaches the store's registers as a `fact` in the change log. Its identity:
 *
 * - `id`: chosen by the client (a UUID), so a retried request is recognised — the same request
 *   again answers the fact it made (200), another request under that id is 409 `id_in_use`;
 * - `deviceId` and `staffId`: the user (the back office is that user's "device"), with a gapless
 *   `seq` of the user's own; `hlc`: a fresh server stamp.
 *
 * They are kept in `backoffice_facts`, not `facts`, whose rows belong to a register's seq space.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { canonicalJson, OP_SCHEMA_VERSION, OpSchema, opStockMovements, StockAdjustedPayloadSchema, StockReceivedPayloadSchema } from '@kassa/core';
import type { FactOp } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { userOf } from '../auth/session.js';
import type { BackofficeFactsTable, Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { FACT_ENTITY } from '../sync/apply/apply-fact.js';
import { DerivedEffects } from '../sync/apply/derived-effects.js';
import { lockServerHlc, tickServerHlc } from '../sync/apply/server-hlc.js';
import { recordMovements } from '../sync/apply/stock-movements.js';
import { appendChanges } from '../sync/change-log.js';
import { PageInfoShape, PageQueryShape } from './paging.js';
import { refuseControlChars } from './control-chars.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One stock level: on hand in thousandths (1 piece = 1000; 1 kg = 1000 for weighed goods). */
const StockLevelSchema = z
  .object({
    storeId: z.string(),
    productId: z.string(),
    variantId: z.string().nullable(),
    onHand: z.int().describe('thousandths; negative after overselling'),
    updatedAt: z.int(),
    product: z.object({ sku: z.string(), name: z.string() }).nullable().describe('null when the catalog does not know the product'),
  })
  .meta({ id: 'StockLevel' });

/** A stock fact booked in the back office. */
const StockFactSchema = z
  .object({
    id: z.string(),
    storeId: z.string(),
    type: z.enum(['stock.adjusted', 'stock.received']),
    seq: z.int(),
    hlc: z.string(),
    createdAt: z.int(),
    createdBy: z.string(),
    op: z.unknown().describe('the fact as registers receive it (an op valid by the `Op` schema)'),
  })
  .meta({ id: 'StockFact' });

const AdjustmentBodySchema = z.discriminatedUnion('type', [
  z.strictObject({
    id: z.uuid().describe('the fact’s id, chosen by the client: the same request again is recognised'),
    storeId: z.uuid(),
    type: z.literal('stock.adjusted'),
    payload: StockAdjustedPayloadSchema,
  }),
  z.strictObject({
    id: z.uuid().describe('the fact’s id, chosen by the client: the same request again is recognised'),
    storeId: z.uuid(),
    type: z.literal('stock.received'),
    payload: StockReceivedPayloadSchema,
  }),
]).superRefine((body, ctx) => refuseControlChars(body.payload, ctx, ['payload']));

function factView(row: Selectable<BackofficeFactsTable>): z.infer<typeof StockFactSchema> {
  return {
    id: row.id,
    storeId: row.store_id,
    type: row.type === 'stock.received' ? 'stock.received' : 'stock.adjusted',
    seq: row.seq,
    hlc: row.hlc,
    createdAt: row.created_at,
    createdBy: row.user_id,
    op: JSON.parse(row.op_json) as unknown,
  };
}

async function levels(db: Db, orgId: string, filter: { storeId?: string | undefined; productIds?: readonly string[] | undefined }, page?: { limit: number; offset: number }) {
  let query = db.selectFrom('stock_levels').leftJoin('products', (j) => j.onRef('products.id', '=', 'stock_levels.product_id').onRef('products.org_id', '=', 'stock_levels.org_id')).where('stock_levels.org_id', '=', orgId);
  if (filter.storeId !== undefined) query = query.where('stock_levels.store_id', '=', filter.storeId);
  if (filter.productIds !== undefined) query = query.where('stock_levels.product_id', 'in', filter.productIds);
  const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  let rows = query
    .select(['stock_levels.store_id', 'stock_levels.product_id', 'stock_levels.variant_id', 'stock_levels.on_hand', 'stock_levels.updated_at', 'products.sku', 'products.name'])
    .orderBy('stock_levels.store_id')
    .orderBy('stock_levels.product_id')
    .orderBy('stock_levels.variant_id');
  if (page !== undefined) rows = rows.limit(page.limit).offset(page.offset);
  const found = await rows.execute();
  return {
    total: Number(n),
    levels: found.map((r) => ({
      storeId: r.store_id,
      productId: r.product_id,
      variantId: r.variant_id === '' ? null : r.variant_id,
      onHand: r.on_hand,
      updatedAt: r.updated_at,
      product: r.sku === null || r.name === null ? null : { sku: r.sku, name: r.name },
    })),
  };
}

/** The product ids a stock payload names. */
function productIdsOf(body: z.infer<typeof AdjustmentBodySchema>): string[] {
  return [...new Set(body.type === 'stock.adjusted' ? [body.payload.productId] : body.payload.lines.map((l) => l.productId))].sort();
}

/** Registers the stock routes. */
export const stockRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/stock',
    {
      onRequest: signedIn,
      schema: {
        summary: 'Stock on hand per store and product',
        description: 'Sums of the stock movements of every fact the server holds (sales, refunds, adjustments, deliveries, counts, transfers).',
        tags: [TAGS.stock],
        querystring: z.strictObject({ ...PageQueryShape, storeId: z.uuid().optional(), productId: z.uuid().optional() }),
        response: { 200: z.object({ levels: z.array(StockLevelSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const { orgId } = userOf(request);
      const { limit, offset, storeId, productId } = request.query;
      if (storeId !== undefined && !(await db.selectFrom('stores').select('id').where('org_id', '=', orgId).where('id', '=', storeId).executeTakeFirst())) {
        throw new ApiError(404, 'not_found', 'no such store');
      }
      if (productId !== undefined && !(await db.selectFrom('products').select('id').where('org_id', '=', orgId).where('id', '=', productId).executeTakeFirst())) {
        throw new ApiError(404, 'not_found', 'no such product');
      }
      const out = await levels(db, orgId, { storeId, productIds: productId === undefined ? undefined : [productId] }, { limit, offset });
      return { ...out, limit, offset };
    },
  );

  app.post(
    '/api/v1/stock/adjustments',
    {
      onRequest: managers,
      schema: {
        summary: 'Book a stock adjustment or a delivery',
        description: [
          'A fact like a register’s `stock.adjusted` (a signed change with a reason) or `stock.received` (a delivery): it moves the store’s stock and reaches the store’s registers.',
          'Quantities are thousandths (1 piece = 1000). Choose `id` yourself: sending the same request again answers the fact already made (200) and changes nothing.',
        ].join(' '),
        tags: [TAGS.stock],
        body: AdjustmentBodySchema,
        response: {
          200: z.object({ fact: StockFactSchema, levels: z.array(StockLevelSchema) }).describe('this request was made before: nothing changed'),
          201: z.object({ fact: StockFactSchema, levels: z.array(StockLevelSchema) }).describe('booked; `levels` are the touched products’ levels after it'),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
          404: ErrorBodySchema,
          409: ErrorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const body = request.body;
      const productIds = productIdsOf(body);
      const out = await db.transaction().execute(async (trx) => {
        // The organisation's writer lock first (as a push and every back-office write take it).
        await lockServerHlc(trx, user.orgId, clock.now());
        const existing = await trx.selectFrom('backoffice_facts').selectAll().where('org_id', '=', user.orgId).where('id', '=', body.id).executeTakeFirst();
        if (existing !== undefined) {
          const op = JSON.parse(existing.op_json) as { type: string; storeId: string; payload: unknown };
          if (canonicalJson({ type: op.type, storeId: op.storeId, payload: op.payload }) !== canonicalJson({ type: body.type, storeId: body.storeId, payload: body.payload })) {
            throw new ApiError(409, 'id_in_use', 'another stock fact was booked under this id');
          }
          return { created: false, fact: factView(existing) };
        }
        if (await trx.selectFrom('facts').select('id').where('org_id', '=', user.orgId).where('id', '=', body.id).executeTakeFirst()) {
          throw new ApiError(409, 'id_in_use', 'a register’s fact has this id');
        }
        const store = await trx.selectFrom('stores').select('id').where('org_id', '=', user.orgId).where('id', '=', body.storeId).executeTakeFirst();
        if (!store) throw new ApiError(404, 'not_found', 'no such store');
        const known = await trx.selectFrom('products').select('id').where('org_id', '=', user.orgId).where('id', 'in', productIds).execute();
        if (known.length !== productIds.length) throw new ApiError(404, 'not_found', 'no such product');

        const hlc = await tickServerHlc(trx, user.orgId, clock);
        const now = clock.now();
        const last = await trx
          .selectFrom('backoffice_facts')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('org_id', '=', user.orgId)
          .where('user_id', '=', user.userId)
          .executeTakeFirst();
        const seq = Number(last?.seq ?? 0) + 1;
        const op = OpSchema.parse({
          v: OP_SCHEMA_VERSION,
          id: body.id,
          deviceId: user.userId,
          seq,
          hlc,
          deviceTime: now,
          type: body.type,
          storeId: body.storeId,
          staffId: user.userId,
          payload: body.payload,
        }) as FactOp;

        const effects = new DerivedEffects(user.orgId);
        const movements = opStockMovements(op).map((movement) => ({ storeId: body.storeId, opId: body.id, movement }));
        await recordMovements(trx, user.orgId, now, movements, effects, 'new');
        await effects.flush(trx, now, () => Promise.resolve(new Map()));
        const row = { org_id: user.orgId, id: body.id, store_id: body.storeId, user_id: user.userId, seq, type: body.type, hlc, op_json: JSON.stringify(op), created_at: now };
        await trx.insertInto('backoffice_facts').values(row).execute();
        await appendChanges(trx, user.orgId, [{ entity: FACT_ENTITY, entityId: body.id, storeId: body.storeId, op: 'upsert', data: op }], { clock });
        await audit(trx, {
          orgId: user.orgId,
          storeId: body.storeId,
          actorType: 'user',
          actorId: user.userId,
          action: body.type,
          target: { kind: 'fact', id: body.id },
          details: { products: productIds, ...(body.type === 'stock.adjusted' ? { qtyDelta: body.payload.qtyDelta, reason: body.payload.reason } : { lines: body.payload.lines.length }) },
          at: now,
        });
        return { created: true, fact: factView(row) };
      });
      if (out.created) await changeFeed.publish(user.orgId);
      const after = await levels(db, user.orgId, { storeId: body.storeId, productIds });
      return reply.status(out.created ? 201 : 200).send({ fact: out.fact, levels: after.levels });
    },
  );
};
