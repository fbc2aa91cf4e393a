import type { FastifyInstance } from 'fastify';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus registry and the instruments recorded in it. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * A registry of its own per app (so apps built side by side in tests never share counters) with
 * Node's default metrics and a request-duration histogram.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'kassa_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route pattern (not raw URL) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return { registry, httpDuration };
}

/**
 * Records every response's duration. The route label is the route's pattern, or `unmatched` for
 * requests no route matched, so a scan of random URLs cannot blow up the label set.
 */
export function recordRequestDurations(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
