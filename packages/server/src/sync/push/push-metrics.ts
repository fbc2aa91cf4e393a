import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { PushStatus } from './push-schemas.js';
import { PUSH_STATUSES } from './push-schemas.js';

/** Instruments of `POST /api/v1/sync/push`. */
export interface PushMetrics {
  /** Ops pushed, by the status they got: applied, duplicate, quarantined, seq_conflict, pending_gap, deferred. */
  readonly ops: Counter<'status'>;
  /** Ops per push batch. */
  readonly batchSize: Histogram;
}

/**
 * Registers the push instruments in the app's registry. Every status label exists from the start
 * (at 0), so a dashboard's rate of quarantined ops is 0 rather than missing.
 */
export function createPushMetrics(registry: Registry): PushMetrics {
  const ops = new Counter({
    name: 'kassa_sync_push_ops_total',
    help: 'Ops received by POST /api/v1/sync/push, by the status they were answered with',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  for (const status of PUSH_STATUSES) ops.inc({ status }, 0);
  const batchSize = new Histogram({
    name: 'kassa_sync_push_batch_size',
    help: 'Ops per push batch',
    buckets: [0, 1, 5, 10, 25, 50, 100, 200, 300, 500],
    registers: [registry],
  });
  return { ops, batchSize };
}

/** Counts one committed batch. */
export function recordPush(metrics: PushMetrics, size: number, counts: Readonly<Record<PushStatus, number>>): void {
  metrics.batchSize.observe(size);
  for (const status of PUSH_STATUSES) if (counts[status] > 0) metrics.ops.inc({ status }, counts[status]);
}
