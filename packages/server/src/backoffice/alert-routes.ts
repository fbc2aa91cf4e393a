/**
 * Alerts for review: oversell, over-refund, negative balance, quarantine, seq conflict, receipt
 * chain break, clock skew, … (rows of `alerts`, raised by the sync layer — `sync/apply/alerts.ts`).
 *
 * ```
 *             acknowledge (seen; stays open)
 *   open ──────────────────────────────────► open + acknowledged
 *    │  ▲                                          │
 *    │  └──── raised again (condition back) ───────┤
 *    ▼                                             ▼
 *   resolved ◄──── resolve {note} (by hand) ───────┘      or cleared by itself (condition gone)
 * ```
 *
 * An alert's id in the API is its key (`oversell:<product>@<store>`, …) in base64url: keys hold
 * free text (gift-card codes, receipt numbers) that does not belong in a URL path as is. A hand
 * resolution's note is kept in `alert_resolutions` under the alert's `resolved_at`, so it shows
 * exactly while that resolution stands.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { plainText } from '../auth/plain-text.js';
import { userOf } from '../auth/session.js';
import type { AlertsTable, Database } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { PageInfoShape, PageQueryShape } from './paging.js';
import { accessHooks, callerOf, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The API id of an alert key. */
export function alertId(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

const AlertIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,1400}$/, 'an alert id (base64url)')
  .transform((id) => Buffer.from(id, 'base64url').toString('utf8'))
  // No key holds a control character, and PostgreSQL would refuse a NUL in the lookup (a 500).
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((key) => !/[\u0000-\u001f\u007f]/.test(key), 'not an alert id');
const ParamsSchema = z.strictObject({ id: AlertIdSchema });

/** An alert as listed. */
export const AlertViewSchema = z
  .object({
    id: z.string().describe('base64url of `key`; use it in paths'),
    key: z.string().describe('stable key naming the alert’s subject'),
    kind: z.string().describe('`oversell`, `over_refund`, `negative_balance`, `quarantine`, `seq_conflict`, `receipt_chain_break`, `clock_skew`, …'),
    status: z.enum(['open', 'resolved']),
    storeId: z.string().nullable(),
    registerId: z.string().nullable(),
    data: z.unknown().describe('the alert’s current figures'),
    occurrences: z.int(),
    firstSeenAt: z.int(),
    lastSeenAt: z.int(),
    acknowledgedAt: z.int().nullable(),
    acknowledgedBy: z.string().nullable(),
    resolvedAt: z.int().nullable(),
    resolution: z.object({ by: z.string(), note: z.string() }).nullable().describe('who resolved it by hand and why; null when it cleared by itself or is open'),
  })
  .meta({ id: 'Alert' });

type AlertView = z.infer<typeof AlertViewSchema>;

async function views(db: Db, orgId: string, rows: readonly Selectable<AlertsTable>[]): Promise<AlertView[]> {
  const resolvedKeys = rows.filter((r) => r.status === 'resolved' && r.resolved_at !== null).map((r) => r.key);
  const notes = new Map<string, { by: string; note: string; at: number }>();
  if (resolvedKeys.length > 0) {
    const rs = await db.selectFrom('alert_resolutions').selectAll().where('org_id', '=', orgId).where('alert_key', 'in', resolvedKeys).execute();
    for (const r of rs) {
      const seen = notes.get(r.alert_key);
      if (seen === undefined || r.resolved_at > seen.at) notes.set(r.alert_key, { by: r.resolved_by, note: r.note, at: r.resolved_at });
    }
  }
  return rows.map((r) => {
    const note = notes.get(r.key);
    return {
      id: alertId(r.key),
      key: r.key,
      kind: r.kind,
      status: r.status,
      storeId: r.store_id,
      registerId: r.register_id,
      data: JSON.parse(r.data_json) as unknown,
      occurrences: r.occurrences,
      firstSeenAt: r.first_seen_at,
      lastSeenAt: r.last_seen_at,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: r.acknowledged_by,
      resolvedAt: r.resolved_at,
      resolution: r.status === 'resolved' && note !== undefined && note.at === r.resolved_at ? { by: note.by, note: note.note } : null,
    };
  });
}

async function findAlert(db: Db, orgId: string, key: string): Promise<Selectable<AlertsTable>> {
  const row = await db.selectFrom('alerts').selectAll().where('org_id', '=', orgId).where('key', '=', key).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such alert');
  return row;
}

async function oneView(db: Db, orgId: string, key: string): Promise<AlertView> {
  const [v] = await views(db, orgId, [await findAlert(db, orgId, key)]);
  if (v === undefined) throw new ApiError(404, 'not_found', 'no such alert');
  return v;
}

/** Registers the alert routes. */
export const alertRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock } = options;
  const db = storage.db;
  const { managers, managersOrDevice } = accessHooks(options);

  app.get(
    '/api/v1/alerts',
    {
      onRequest: managersOrDevice,
      schema: {
        summary: 'List alerts',
        description: 'Managers see the organisation’s alerts; a register (device token) sees its own store’s. Most recent first.',
        tags: [TAGS.review],
        querystring: z.strictObject({
          ...PageQueryShape,
          status: z.enum(['open', 'resolved', 'all']).default('open'),
          kind: z
            .string()
            .regex(/^[a-z_]{1,40}$/, 'an alert kind such as oversell')
            .optional(),
          storeId: z.uuid().optional().describe('managers only: one store’s alerts'),
        }),
        response: { 200: z.object({ alerts: z.array(AlertViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, offset, status, kind, storeId } = request.query;
      let query = db.selectFrom('alerts').where('org_id', '=', caller.orgId);
      if (caller.kind === 'device') {
        query = query.where('store_id', '=', caller.device.storeId);
      } else if (storeId !== undefined) {
        const own = await db.selectFrom('stores').select('id').where('org_id', '=', caller.orgId).where('id', '=', storeId).executeTakeFirst();
        if (!own) throw new ApiError(404, 'not_found', 'no such store');
        query = query.where('store_id', '=', storeId);
      }
      if (status !== 'all') query = query.where('status', '=', status);
      if (kind !== undefined) query = query.where('kind', '=', kind);
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('last_seen_at', 'desc').orderBy('key').limit(limit).offset(offset).execute();
      return { alerts: await views(db, caller.orgId, rows), total: Number(n), limit, offset };
    },
  );

  app.post(
    '/api/v1/alerts/:id/acknowledge',
    {
      onRequest: managers,
      schema: {
        summary: 'Acknowledge an open alert (seen; it stays open)',
        description: 'Acknowledging twice keeps the first acknowledgement. A resolved alert cannot be acknowledged (409 `alert_resolved`).',
        tags: [TAGS.review],
        params: ParamsSchema,
        response: { 200: AlertViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const key = request.params.id;
      return db.transaction().execute(async (trx) => {
        const row = await findAlert(trx, user.orgId, key);
        if (row.status !== 'open') throw new ApiError(409, 'alert_resolved', 'the alert is resolved; nothing to acknowledge');
        if (row.acknowledged_at === null) {
          const now = clock.now();
          await trx
            .updateTable('alerts')
            .set({ acknowledged_at: now, acknowledged_by: user.userId })
            .where('org_id', '=', user.orgId)
            .where('key', '=', key)
            .where('status', '=', 'open')
            .execute();
          await audit(trx, { orgId: user.orgId, storeId: row.store_id, actorType: 'user', actorId: user.userId, action: 'alert.acknowledged', target: { kind: 'alert', id: key }, details: { kind: row.kind }, at: now });
        }
        return oneView(trx, user.orgId, key);
      });
    },
  );

  app.post(
    '/api/v1/alerts/:id/resolve',
    {
      onRequest: managers,
      schema: {
        summary: 'Resolve an alert by hand, saying why',
        description: 'If its condition comes back (another oversell of the product, say), the alert opens again.',
        tags: [TAGS.review],
        params: ParamsSchema,
        body: z.strictObject({ note: plainText(1, 500).describe('what was done about it') }),
        response: { 200: AlertViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const key = request.params.id;
      return db.transaction().execute(async (trx) => {
        const row = await findAlert(trx, user.orgId, key);
        if (row.status !== 'open') throw new ApiError(409, 'alert_resolved', 'the alert is resolved already', { resolvedAt: row.resolved_at });
        const now = clock.now();
        await trx.updateTable('alerts').set({ status: 'resolved', resolved_at: now }).where('org_id', '=', user.orgId).where('key', '=', key).execute();
        await trx
          .insertInto('alert_resolutions')
          .values({ org_id: user.orgId, alert_key: key, resolved_at: now, resolved_by: user.userId, note: request.body.note })
          .onConflict((oc) => oc.columns(['org_id', 'alert_key', 'resolved_at']).doUpdateSet({ resolved_by: user.userId, note: request.body.note }))
          .execute();
        await audit(trx, {
          orgId: user.orgId,
          storeId: row.store_id,
          actorType: 'user',
          actorId: user.userId,
          action: 'alert.resolved',
          target: { kind: 'alert', id: key },
          details: { kind: row.kind, note: request.body.note },
          at: now,
        });
        return oneView(trx, user.orgId, key);
      });
    },
  );
};
