/**
 * Stores and their settings. Store settings are back-office-only reference data (ADR 22: registers
 * never edit them), so the change log's order decides, as for staff: a settings change is a whole
 * new store document in the log, scoped to that store's registers, with no per-field HLCs.
 *
 * Settings are validated with core's schemas — currency, tax rounding, the permission limits and
 * the variable-measure layouts — so a register never receives settings its own code would refuse.
 * The store's code is not editable: it is part of every receipt number already printed.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { CurrencySchema, DEFAULT_STORE_LIMITS, StoreLimitsSchema, TaxRoundingSchema, VariableMeasureLayoutsSchema } from '@kassa/core';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { plainText } from '../auth/plain-text.js';
import { userOf } from '../auth/session.js';
import type { Database, StoresTable } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { parseStoreSettings, StoreSettingsSchema } from '../store-settings.js';
import type { StoreSettings } from '../store-settings.js';
import { lockServerHlc } from '../sync/apply/server-hlc.js';
import { appendChanges } from '../sync/change-log.js';
import { referenceChanges } from '../sync/pull/reference-docs.js';
import { recordStoreLimits } from '../sync/push/store-limits.js';
import { accessHooks, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const IdParamsSchema = z.strictObject({ id: z.uuid() });

/** A BCP 47 language tag the runtime's `Intl` accepts, e.g. `de-DE`. */
const LocaleSchema = z
  .string()
  .min(2)
  .max(35)
  .regex(/^[A-Za-z0-9-]+$/, 'a BCP 47 language tag such as de-DE')
  .refine((tag) => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, 'not a valid BCP 47 language tag');

/** A store as the back office sees it: its settings with the defaults registers apply filled in. */
export const StoreViewSchema = z
  .object({
    id: z.string(),
    code: z.string().describe('part of every receipt number: not editable'),
    name: z.string(),
    currency: z.string(),
    locale: z.string(),
    settings: z.object({
      currency: z.string(),
      locale: z.string(),
      taxMode: z.enum(['inclusive', 'exclusive']).describe('`inclusive`: shelf prices include tax'),
      taxRounding: z.enum(['line', 'order']),
      cashRoundingMinor: z.int().nullable().describe('smallest cash step in minor units; null: none'),
      receiptHeader: z.array(z.string()),
      variableMeasureLayouts: z.array(z.record(z.string(), z.unknown())),
      limits: z.object({
        cashierDiscountLimitPpm: z.int(),
        managerDiscountLimitPpm: z.int().optional(),
        refundWithoutReceiptLimit: z.int().optional(),
      }),
    }),
    createdAt: z.int(),
    updatedAt: z.int(),
  })
  .meta({ id: 'Store' });

type StoreView = z.infer<typeof StoreViewSchema>;

const EditStoreSchema = z
  .strictObject({
    name: plainText(1, 80).optional(),
    currency: CurrencySchema.optional(),
    locale: LocaleSchema.optional(),
    taxMode: z.enum(['inclusive', 'exclusive']).optional().describe('`inclusive`: prices include tax (EU retail); `exclusive`: tax is added at the till'),
    taxRounding: TaxRoundingSchema.optional().describe('round tax per `line` or per `order`'),
    cashRoundingMinor: z.int().min(1).max(100).nullable().optional(),
    receiptHeader: z.array(plainText(0, 80)).max(8).optional(),
    variableMeasureLayouts: VariableMeasureLayoutsSchema.refine((l) => l.length <= 10, 'at most 10 layouts').optional().describe('how the store’s scales print weight or price labels'),
    limits: StoreLimitsSchema.optional().describe('discount and refund limits of the permission check (replaces the whole object)'),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one setting to change');

function view(row: Selectable<StoresTable>): StoreView {
  const s = parseStoreSettings(row.settings_json);
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    currency: row.currency,
    locale: row.locale,
    settings: {
      currency: s.currency,
      locale: s.locale,
      taxMode: s.taxMode,
      taxRounding: s.taxRounding ?? 'line',
      cashRoundingMinor: s.cashRoundingMinor,
      receiptHeader: s.receiptHeader,
      variableMeasureLayouts: s.variableMeasureLayouts,
      limits: s.limits ?? DEFAULT_STORE_LIMITS,
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function findStore(db: Db, orgId: string, id: string): Promise<Selectable<StoresTable>> {
  const row = await db.selectFrom('stores').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such store');
  return row;
}

/** Registers the store routes. */
export const storeRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { signedIn, managers } = accessHooks(options);

  app.get(
    '/api/v1/stores',
    {
      onRequest: signedIn,
      schema: {
        summary: 'List the organisation’s stores',
        tags: [TAGS.stores],
        querystring: z.strictObject({}),
        response: { 200: z.object({ stores: z.array(StoreViewSchema) }), 400: ErrorBodySchema, 401: ErrorBodySchema },
      },
    },
    async (request) => {
      const rows = await db.selectFrom('stores').selectAll().where('org_id', '=', userOf(request).orgId).orderBy('code').orderBy('id').execute();
      return { stores: rows.map(view) };
    },
  );

  app.get(
    '/api/v1/stores/:id',
    {
      onRequest: signedIn,
      schema: { summary: 'One store', tags: [TAGS.stores], params: IdParamsSchema, response: { 200: StoreViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => view(await findStore(db, userOf(request).orgId, request.params.id)),
  );

  app.patch(
    '/api/v1/stores/:id',
    {
      onRequest: managers,
      schema: {
        summary: 'Change a store’s name or settings',
        description: 'Only the settings given change. The store’s registers receive the whole new store document on their next pull.',
        tags: [TAGS.stores],
        params: IdParamsSchema,
        body: EditStoreSchema,
        response: { 200: StoreViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const { name, ...patch } = request.body;
      const out = await db.transaction().execute(async (trx) => {
        // The organisation's writer lock (as catalog edits and pushes take it) keeps the log's order
        // equal to the order of the changes.
        await lockServerHlc(trx, user.orgId, clock.now());
        const row = await findStore(trx, user.orgId, id);
        const before = parseStoreSettings(row.settings_json);
        const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<StoreSettings>;
        const after: StoreSettings = StoreSettingsSchema.parse({ ...before, ...defined });
        const changed = Object.keys(defined).filter((k) => JSON.stringify(before[k as keyof StoreSettings]) !== JSON.stringify(after[k as keyof StoreSettings]));
        const renamed = name !== undefined && name !== row.name;
        if (changed.length === 0 && !renamed) return { changed: false, store: view(row) };
        const now = clock.now();
        await trx
          .updateTable('stores')
          .set({ name: name ?? row.name, currency: after.currency, locale: after.locale, settings_json: JSON.stringify(after), updated_at: now })
          .where('org_id', '=', user.orgId)
          .where('id', '=', id)
          .execute();
        // Ops made before now are still judged by the limits they were made under.
        if (changed.includes('limits')) {
          await recordStoreLimits(trx, { orgId: user.orgId, storeId: id, storeCreatedAt: row.created_at, before: before.limits, after: after.limits, effectiveFrom: now });
        }
        await appendChanges(trx, user.orgId, await referenceChanges(trx, user.orgId, 'store', [id]), { clock });
        await audit(trx, {
          orgId: user.orgId,
          storeId: id,
          actorType: 'user',
          actorId: user.userId,
          action: 'store.updated',
          target: { kind: 'store', id },
          details: {
            ...(renamed ? { name: { from: row.name, to: name } } : {}),
            settings: Object.fromEntries(changed.map((k) => [k, { from: before[k as keyof StoreSettings] ?? null, to: after[k as keyof StoreSettings] ?? null }])),
          },
          at: now,
        });
        return { changed: true, store: view(await findStore(trx, user.orgId, id)) };
      });
      if (out.changed) await changeFeed.publish(user.orgId);
      return out.store;
    },
  );
};
