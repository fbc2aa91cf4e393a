/**
 * Quarantined ops for review (DESIGN §3): ops that could not be understood or were not allowed,
 * kept with why, acknowledged to their register so nothing behind them waited.
 *
 * ```
 *   open ──dismiss {note}──────────────────────────────► dismissed   (the op stays unapplied)
 *    │ ▲
 *    │ └── retry, still not acceptable (recorded) ─┐
 *    └──── retry {approve?, note?} ────────────────┴──► retried     (applied: see quarantine-retry.ts)
 * ```
 *
 * Every dismiss and retry attempt is kept in `quarantine_actions` with its note and outcome, and
 * audited; leaving `open` clears the entry's `quarantine` alert.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { plainText } from '../auth/plain-text.js';
import { userOf } from '../auth/session.js';
import type { Database, QuarantineTable } from '../db/schema.js';
import { ApiError, ErrorBodySchema } from '../http/api-error.js';
import { clearAlerts } from '../sync/apply/alerts.js';
import { PageInfoShape, PageQueryShape } from './paging.js';
import { retryQuarantinedOp } from './quarantine-retry.js';
import { accessHooks, callerOf, TAGS } from './route-options.js';
import type { BackofficeRouteOptions } from './route-options.js';

type Db = Kysely<Database> | Transaction<Database>;

const ParamsSchema = z.strictObject({ id: z.uuid() });

const ActionViewSchema = z.object({
  action: z.enum(['dismissed', 'retried', 'retry_failed']),
  note: z.string().nullable(),
  outcome: z.unknown(),
  by: z.string(),
  at: z.int(),
});

/** A quarantined op as reviewed. */
export const QuarantineViewSchema = z
  .object({
    id: z.string(),
    storeId: z.string(),
    registerId: z.string(),
    seq: z.int().nullable(),
    opId: z.string().nullable(),
    opType: z.string().nullable(),
    reason: z.string().describe('`unreadable`, `invalid`, `unsupported_version`, `forged`, `forbidden`, `duplicate_id`'),
    details: z.unknown().describe('why, in detail: the validator’s issues, the permission decision, …'),
    op: z.unknown().describe('the op exactly as the register sent it'),
    receivedAt: z.int(),
    status: z.enum(['open', 'dismissed', 'retried']),
    resolvedAt: z.int().nullable(),
    resolvedBy: z.string().nullable(),
    actions: z.array(ActionViewSchema).describe('dismiss and retry attempts, oldest first'),
  })
  .meta({ id: 'QuarantinedOp' });

type QuarantineView = z.infer<typeof QuarantineViewSchema>;

const RetryOutcomeSchema = z
  .object({
    status: z.enum(['applied', 'still_quarantined']),
    reason: z.string().optional().describe('why it still cannot be applied'),
    message: z.string(),
    opType: z.string().optional(),
    clamped: z.boolean().optional().describe('its HLC was beyond the skew bound and replaced by the server’s'),
    approvedBy: z.string().nullable().optional(),
    denial: z.unknown().optional(),
  })
  .meta({ id: 'RetryOutcome' });

async function views(db: Db, orgId: string, rows: readonly Selectable<QuarantineTable>[]): Promise<QuarantineView[]> {
  const ids = rows.map((r) => r.id);
  const actions = ids.length === 0 ? [] : await db.selectFrom('quarantine_actions').selectAll().where('org_id', '=', orgId).where('quarantine_id', 'in', ids).orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    storeId: r.store_id,
    registerId: r.register_id,
    seq: r.seq,
    opId: r.op_id,
    opType: r.op_type,
    reason: r.reason,
    details: JSON.parse(r.details_json) as unknown,
    op: JSON.parse(r.op_json) as unknown,
    receivedAt: r.received_at,
    status: r.status,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    actions: actions
      .filter((a) => a.quarantine_id === r.id)
      .map((a) => ({ action: a.action, note: a.note, outcome: JSON.parse(a.outcome_json) as unknown, by: a.user_id, at: a.at })),
  }));
}

async function findEntry(db: Db, orgId: string, id: string): Promise<Selectable<QuarantineTable>> {
  const row = await db.selectFrom('quarantine').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ApiError(404, 'not_found', 'no such quarantined op');
  return row;
}

async function oneView(db: Db, orgId: string, id: string): Promise<QuarantineView> {
  const [v] = await views(db, orgId, [await findEntry(db, orgId, id)]);
  if (v === undefined) throw new ApiError(404, 'not_found', 'no such quarantined op');
  return v;
}

/** Registers the quarantine routes. */
export const quarantineRoutes: FastifyPluginAsyncZod<BackofficeRouteOptions> = async (app, options) => {
  const { storage, clock, changeFeed } = options;
  const db = storage.db;
  const { managers, managersOrDevice } = accessHooks(options);

  app.get(
    '/api/v1/quarantine',
    {
      onRequest: managersOrDevice,
      schema: {
        summary: 'List quarantined ops',
        description: 'Managers see the organisation’s; a register (device token) sees its own. Most recent first.',
        tags: [TAGS.review],
        querystring: z.strictObject({
          ...PageQueryShape,
          status: z.enum(['open', 'dismissed', 'retried', 'all']).default('open'),
          storeId: z.uuid().optional(),
          registerId: z.uuid().optional(),
        }),
        response: { 200: z.object({ quarantine: z.array(QuarantineViewSchema), ...PageInfoShape }), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, offset, status, storeId, registerId } = request.query;
      let query = db.selectFrom('quarantine').where('org_id', '=', caller.orgId);
      if (caller.kind === 'device') {
        query = query.where('register_id', '=', caller.device.registerId);
      } else {
        if (storeId !== undefined) {
          const own = await db.selectFrom('stores').select('id').where('org_id', '=', caller.orgId).where('id', '=', storeId).executeTakeFirst();
          if (!own) throw new ApiError(404, 'not_found', 'no such store');
          query = query.where('store_id', '=', storeId);
        }
        if (registerId !== undefined) {
          const own = await db.selectFrom('registers').select('id').where('org_id', '=', caller.orgId).where('id', '=', registerId).executeTakeFirst();
          if (!own) throw new ApiError(404, 'not_found', 'no such register');
          query = query.where('register_id', '=', registerId);
        }
      }
      if (status !== 'all') query = query.where('status', '=', status);
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await query.selectAll().orderBy('received_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
      return { quarantine: await views(db, caller.orgId, rows), total: Number(n), limit, offset };
    },
  );

  app.get(
    '/api/v1/quarantine/:id',
    {
      onRequest: managers,
      schema: { summary: 'One quarantined op', tags: [TAGS.review], params: ParamsSchema, response: { 200: QuarantineViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema } },
    },
    async (request) => oneView(db, userOf(request).orgId, request.params.id),
  );

  app.post(
    '/api/v1/quarantine/:id/dismiss',
    {
      onRequest: managers,
      schema: {
        summary: 'Dismiss a quarantined op: it stays unapplied, with the reason why',
        tags: [TAGS.review],
        params: ParamsSchema,
        body: z.strictObject({ note: plainText(1, 500).describe('why it is dismissed') }),
        response: { 200: QuarantineViewSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const { note } = request.body;
      return db.transaction().execute(async (trx) => {
        const row = await findEntry(trx, user.orgId, id);
        if (row.status !== 'open') throw new ApiError(409, 'quarantine_closed', `this op was ${row.status} already`);
        const now = clock.now();
        await trx.updateTable('quarantine').set({ status: 'dismissed', resolved_at: now, resolved_by: user.userId }).where('org_id', '=', user.orgId).where('id', '=', id).execute();
        await trx
          .insertInto('quarantine_actions')
          .values({ id: randomUUID(), org_id: user.orgId, quarantine_id: id, action: 'dismissed', note, outcome_json: JSON.stringify({ status: 'dismissed' }), user_id: user.userId, at: now })
          .execute();
        await clearAlerts(trx, user.orgId, [`quarantine:${id}`], now);
        await audit(trx, {
          orgId: user.orgId,
          storeId: row.store_id,
          actorType: 'user',
          actorId: user.userId,
          action: 'quarantine.dismissed',
          target: { kind: 'quarantine', id },
          details: { opId: row.op_id, reason: row.reason, note },
          at: now,
        });
        return oneView(trx, user.orgId, id);
      });
    },
  );

  app.post(
    '/api/v1/quarantine/:id/retry',
    {
      onRequest: managers,
      schema: {
        summary: 'Retry a quarantined op after a fix',
        description: [
          'The stored op is judged again as a push would (parse, register, permissions at the op’s time) and applied when it passes.',
          '`approve: true` counts your approval as the op’s `approvedBy` (with your role), as a manager’s at the till would.',
          'The answer says what happened; an attempt that still fails leaves the op quarantined and is recorded.',
        ].join(' '),
        tags: [TAGS.review],
        params: ParamsSchema,
        body: z.strictObject({ note: plainText(1, 500).optional(), approve: z.boolean().default(false) }).default({ approve: false }),
        response: { 200: z.object({ outcome: RetryOutcomeSchema, quarantine: QuarantineViewSchema }), 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
    },
    async (request) => {
      const user = userOf(request);
      const { id } = request.params;
      const { note, approve } = request.body;
      const out = await db.transaction().execute(async (trx) => {
        const row = await findEntry(trx, user.orgId, id);
        if (row.status !== 'open') throw new ApiError(409, 'quarantine_closed', `this op was ${row.status} already`);
        const approver = approve ? { userId: user.userId, role: user.role } : undefined;
        const { outcome, logged } = await retryQuarantinedOp(trx, { orgId: user.orgId, row, clock, approver });
        const now = clock.now();
        const applied = outcome.status === 'applied';
        if (applied) {
          await trx.updateTable('quarantine').set({ status: 'retried', resolved_at: now, resolved_by: user.userId }).where('org_id', '=', user.orgId).where('id', '=', id).execute();
          await clearAlerts(trx, user.orgId, [`quarantine:${id}`], now);
        }
        await trx
          .insertInto('quarantine_actions')
          .values({ id: randomUUID(), org_id: user.orgId, quarantine_id: id, action: applied ? 'retried' : 'retry_failed', note: note ?? null, outcome_json: JSON.stringify(outcome), user_id: user.userId, at: now })
          .execute();
        await audit(trx, {
          orgId: user.orgId,
          storeId: row.store_id,
          actorType: 'user',
          actorId: user.userId,
          action: 'quarantine.retried',
          target: { kind: 'quarantine', id },
          details: { opId: row.op_id, outcome: outcome.status, ...(outcome.status === 'applied' ? { approved: approve } : { why: outcome.reason }), ...(note === undefined ? {} : { note }) },
          at: now,
        });
        return { outcome, logged, quarantine: await oneView(trx, user.orgId, id) };
      });
      if (out.logged) await changeFeed.publish(user.orgId);
      return { outcome: out.outcome, quarantine: out.quarantine };
    },
  );
};
