/**
 * `GET /api/v1/sync/pull` and `GET /api/v1/sync/snapshot` (DESIGN §3, §7; docs/adr/0014).
 *
 * A pull with `wait` long-polls when nothing is new:
 *
 * ```
 *   subscribe to the org's feed ─► read page ──changes──────────────────────────► answer
 *            ▲                         │ none
 *            │                         ▼
 *            └──── woken ◄── wait: feed wake | wait elapsed | server closing | client gone
 *                                         └── elapsed/closing/gone ─► answer the empty page
 * ```
 *
 * The subscription is taken before the first read and wake-ups are counted, so a change published
 * between a read and the wait is never missed.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { deviceOf, requireDevice } from '../../auth/device-auth.js';
import type { Storage } from '../../db/database.js';
import { ErrorBodySchema } from '../../http/api-error.js';
import type { Clock } from '../../clock.js';
import type { Metrics } from '../../http/metrics.js';
import type { ChangeFeed } from '../change-feed.js';
import { perDeviceLimit } from '../device-rate-limit.js';
import type { DeviceRateLimit } from '../device-rate-limit.js';
import { CursorStringSchema, decodeCursor, encodeCursor } from './cursor.js';
import { readPullPage } from './pull-page.js';
import { PageTokenStringSchema, readSnapshotPage } from './snapshot.js';

/** Most a pull may wait for a change, seconds. */
export const MAX_PULL_WAIT_S = 30;
/** Changes per pull page unless the register asks for fewer or more. */
export const DEFAULT_PULL_LIMIT = 500;
/** Most changes per pull page. */
export const MAX_PULL_LIMIT = 1000;
/** Items per snapshot page unless the register asks otherwise. */
export const DEFAULT_SNAPSHOT_LIMIT = 500;

/** What the sync read routes need. */
export interface PullRoutesOptions {
  readonly storage: Storage;
  readonly changeFeed: ChangeFeed;
  readonly metrics: Metrics;
  /** Source of `serverTime`; the system clock unless injected. */
  readonly clock?: Clock;
  /** Requests per register per window on pull and on snapshot; 600 a minute by default (sync/device-rate-limit.ts). */
  readonly deviceRateLimit?: DeviceRateLimit;
}

const ServerTimeSchema = z
  .int()
  .describe('the server’s clock when it answered, ms since the Unix epoch: lets a register estimate its clock skew');

const ChangeSchema = z
  .object({
    seq: z.int().describe('position in the organisation’s change log'),
    id: z.string().describe('the change’s own id'),
    entity: z.string().describe('`product`, `category`, `tax_rate`, `store`, `staff`, `sale`, …'),
    entityId: z.string(),
    storeId: z.string().nullable().describe('null: organisation-wide; otherwise the store it belongs to'),
    op: z.enum(['upsert', 'delete']),
    data: z.unknown().describe('the entity’s full current document, or the fact'),
    at: z.int().describe('server time it was logged, ms since the Unix epoch'),
  })
  .meta({ id: 'Change' });

const PullQuerySchema = z.strictObject({
  since: CursorStringSchema,
  limit: z.coerce.number().int().min(1).max(MAX_PULL_LIMIT).default(DEFAULT_PULL_LIMIT).describe('most changes in this page'),
  wait: z.coerce
    .number()
    .min(0)
    .max(MAX_PULL_WAIT_S)
    .default(0)
    .describe('seconds to wait for a change when none is new (long-poll); 0 answers at once'),
});

const PullResponseSchema = z
  .object({
    changes: z.array(ChangeSchema),
    cursor: z.string().describe('pass as `since` next time; store it in the same transaction as the changes'),
    hasMore: z.boolean().describe('more changes are waiting: pull again at once'),
    serverTime: ServerTimeSchema,
  })
  .meta({ id: 'PullResponse' });

const SnapshotQuerySchema = z.strictObject({
  page: PageTokenStringSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PULL_LIMIT).default(DEFAULT_SNAPSHOT_LIMIT).describe('most items in this page'),
});

const SnapshotResponseSchema = z
  .object({
    items: z.array(
      z.object({
        entity: z.string(),
        entityId: z.string(),
        storeId: z.string().nullable(),
        op: z.enum(['upsert', 'delete']).describe('delete: a document deleted since (a no-op for a new register)'),
        data: z.unknown(),
      }),
    ),
    nextPage: z.string().nullable().describe('token of the next page; null after the last'),
    cursor: z.string().describe('after the last page, follow the log with `GET /api/v1/sync/pull?since=<cursor>`'),
    total: z.int().describe('items in the whole snapshot, for progress'),
    serverTime: ServerTimeSchema,
  })
  .meta({ id: 'SnapshotPage' });

/** Counts wake-ups of one organisation so a wake between a read and a wait is not lost. */
class WakeCounter {
  count = 0;
  readonly #waiting = new Set<() => void>();
  readonly off: () => void;
  constructor(feed: ChangeFeed, orgId: string) {
    this.off = feed.subscribe(orgId, () => {
      this.count += 1;
      for (const fn of this.#waiting) fn();
      this.#waiting.clear();
    });
  }
  /** Resolves when a wake-up after `seen` arrives, after `ms`, or when `signal` aborts. */
  wait(seen: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.count !== seen || signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#waiting.add(done);
    });
  }
}

/**
 * Registers the pull and snapshot routes. Long-polls are released (answered with their empty page)
 * when the server starts closing, so a graceful shutdown never waits out a 30 s poll.
 */
export const pullRoutes: FastifyPluginAsyncZod<PullRoutesOptions> = async (app, { storage, changeFeed, metrics, clock, deviceRateLimit }) => {
  const now = (): number => (clock ? clock.now() : Date.now());
  const closing = new AbortController();
  app.addHook('preClose', async () => {
    closing.abort();
  });

  const waiters = new Gauge({
    name: 'kassa_pull_waiters',
    help: 'pulls waiting for a change (long-polls) in this process',
    registers: [metrics.registry],
  });
  new Gauge({
    name: 'kassa_change_log_head',
    help: 'changes ever logged, summed over every organisation’s change log head',
    registers: [metrics.registry],
    async collect() {
      try {
        const row = await storage.db
          .selectFrom('change_log_heads')
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('head'), eb.lit(0)).as('total'))
          .executeTakeFirst();
        this.set(Number(row?.total ?? 0));
      } catch {
        // The database is down: /healthz says so; keep the last value rather than failing the scrape.
      }
    },
  });

  const auth = requireDevice(storage);

  app.get(
    '/api/v1/sync/pull',
    {
      onRequest: auth,
      config: perDeviceLimit('pull', deviceRateLimit),
      schema: {
        summary: 'Changes after a cursor (paged; long-polls with `wait`)',
        description:
          'Organisation-wide changes and the changes of the register’s store, after `since`. A cursor the log cannot follow (another log epoch, pruned past, or a database restored behind it) is answered 410 `resync_required`: bootstrap again from the snapshot.',
        tags: ['sync'],
        security: [{ deviceToken: [] }],
        querystring: PullQuerySchema,
        response: { 200: PullResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 410: ErrorBodySchema },
      },
    },
    async (request, reply) => {
      const device = deviceOf(request);
      const scope = { orgId: device.orgId, storeId: device.storeId };
      let pos = decodeCursor(request.query.since);
      const deadline = Date.now() + request.query.wait * 1000;
      const wake = request.query.wait > 0 ? new WakeCounter(changeFeed, device.orgId) : undefined;
      // The register hung up: stop waiting for it.
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      reply.raw.once('close', onClose);
      const stop = AbortSignal.any([closing.signal, gone.signal]);
      try {
        for (;;) {
          const seen = wake?.count ?? 0;
          const page = await readPullPage(storage.db, scope, pos, request.query.limit);
          pos = page.cursor;
          const remaining = deadline - Date.now();
          if (page.changes.length > 0 || !wake || remaining <= 0 || stop.aborted) {
            return { changes: page.changes, cursor: encodeCursor(page.cursor), hasMore: page.hasMore, serverTime: now() };
          }
          waiters.inc();
          try {
            await wake.wait(seen, remaining, stop);
          } finally {
            waiters.dec();
          }
        }
      } finally {
        wake?.off();
        reply.raw.off('close', onClose);
      }
    },
  );

  app.get(
    '/api/v1/sync/snapshot',
    {
      onRequest: auth,
      config: perDeviceLimit('snapshot', deviceRateLimit),
      schema: {
        summary: 'Paged bootstrap of the register’s reference data at a high-water cursor',
        description:
          'First page: every stock level of the register’s store at the cursor (`stock_level` items, `{productId, variantId|null, onHand}` in thousandths; read in the same transaction as the cursor, so count pulled facts on top of them), then the store’s facts still waiting for their sale (`fact` items, left out of those levels: count them as pulled facts). Then the store’s settings and staff (with PIN verifiers), the organisation’s tax rates, categories and products with barcodes, and its other reference documents (customers, variants, price lists, promotions) as merged values with per-field HLCs. Apply items as pulled changes; fetch pages until `nextPage` is null, then follow the log from `cursor`.',
        tags: ['sync'],
        security: [{ deviceToken: [] }],
        querystring: SnapshotQuerySchema,
        response: { 200: SnapshotResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 410: ErrorBodySchema },
      },
    },
    async (request) => {
      const device = deviceOf(request);
      const page = await readSnapshotPage(
        storage.db,
        storage.kind,
        { orgId: device.orgId, storeId: device.storeId },
        request.query.page,
        request.query.limit,
      );
      return { items: page.items, nextPage: page.nextPage, cursor: encodeCursor(page.cursor), total: page.total, serverTime: now() };
    },
  );
};
