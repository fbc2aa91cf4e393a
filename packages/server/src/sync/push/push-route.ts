/**
 * `POST /api/v1/sync/push` (DESIGN §3/§7): a register's ops, applied exactly once. The work is in
 * `push-batch.ts`; this file is the HTTP edge: device-token auth, the batch-shaped body (8 MiB on
 * this route only), the answer, metrics, and the change-feed wake-up after the commit.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { deviceOf, requireDevice } from '../../auth/device-auth.js';
import type { Clock } from '../../clock.js';
import type { Storage } from '../../db/database.js';
import { ErrorBodySchema } from '../../http/api-error.js';
import type { Metrics } from '../../http/metrics.js';
import type { ChangeFeed } from '../change-feed.js';
import { perDeviceLimit } from '../device-rate-limit.js';
import type { DeviceRateLimit } from '../device-rate-limit.js';
import { applyDuplicatesAgain, dedupeOffFromEnv } from './dedupe-off-seam.js';
import { pushBatch } from './push-batch.js';
import { createPushMetrics, recordPush } from './push-metrics.js';
import { DocumentedOpSchema, PUSH_BODY_LIMIT_BYTES, PushRequestSchema, PushResponseSchema } from './push-schemas.js';

/** What the push route needs. */
export interface PushRouteOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly changeFeed: ChangeFeed;
  readonly metrics: Metrics;
  /** How far ahead of the server a register's clock is believed; core's default when absent. */
  readonly maxDriftMs?: number;
  /** Requests per register per window; 600 a minute by default (sync/device-rate-limit.ts). */
  readonly deviceRateLimit?: DeviceRateLimit;
  /**
   * TEST-ONLY: exactly-once turned off (re-deliveries counted again, see `dedupe-off-seam.ts`).
   * Defaults to `KASSA_TEST_DEDUPE_OFF=1`, which is honoured only with `NODE_ENV=test`.
   */
  readonly testDedupeOff?: boolean;
}

// Keeps the `Op` component in the OpenAPI document: the body's ops refer to it.
void DocumentedOpSchema;

/**
 * Registers `POST /api/v1/sync/push`.
 *
 * @example
 * ```ts
 * await app.register(pushRoute, { storage, clock, changeFeed, metrics });
 * ```
 */
export const pushRoute: FastifyPluginAsyncZod<PushRouteOptions> = async (app, opts) => {
  const pushMetrics = createPushMetrics(opts.metrics.registry);
  const deps = { db: opts.storage.db, clock: opts.clock, ...(opts.maxDriftMs === undefined ? {} : { maxDriftMs: opts.maxDriftMs }) };
  const dedupeOff = opts.testDedupeOff ?? dedupeOffFromEnv(process.env);
  if (dedupeOff) app.log.warn('TEST SEAM: exactly-once is OFF (KASSA_TEST_DEDUPE_OFF): re-delivered ops are counted again');

  app.post(
    '/api/v1/sync/push',
    {
      bodyLimit: PUSH_BODY_LIMIT_BYTES,
      onRequest: requireDevice(opts.storage),
      config: perDeviceLimit('push', opts.deviceRateLimit),
      schema: {
        summary: 'Push a register\u2019s ops (exactly once)',
        description: [
          'Authenticated with the register\u2019s device token (`Authorization: Bearer …`); organisation, store and register come from the token.',
          'The batch is applied in one transaction and each op is judged on its own: see the statuses. A batch-level 400 means the body is not `{ops: [...]}` at all (or has more than 500 ops).',
          'Answer for every op in the order sent; `ackedSeq` is the highest seq up to which every op is stored (applied or quarantined). An op answered `seq_conflict` stays in the register\u2019s outbox whatever `ackedSeq` says.',
          'A lost answer is harmless: the same batch again answers `duplicate` for what was stored and changes nothing.',
        ].join('\n\n'),
        tags: ['sync'],
        body: PushRequestSchema,
        response: { 200: PushResponseSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 413: ErrorBodySchema, 415: ErrorBodySchema },
      },
    },
    async (request) => {
      const device = deviceOf(request);
      const { ops } = request.body;
      const outcome = await pushBatch(deps, device, ops);
      recordPush(pushMetrics, ops.length, outcome.counts);
      const { response, changesAppended } = dedupeOff
        ? await applyDuplicatesAgain(opts.storage.db, opts.clock, device, ops, outcome.response).then((again) => ({ ...again, changesAppended: again.changesAppended + outcome.changesAppended }))
        : outcome;
      // After the commit: wake long-polls (here and, on PostgreSQL, in other processes).
      if (changesAppended > 0) void opts.changeFeed.publish(device.orgId);
      request.log.info({ deviceId: device.registerId, ops: ops.length, ackedSeq: response.ackedSeq, counts: outcome.counts }, 'push applied');
      return response;
    },
  );
};
