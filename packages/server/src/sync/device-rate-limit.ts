/**
 * Rate limits of the register sync routes (push, pull, snapshot), counted per DEVICE rather than
 * per client address: a shop's registers usually reach the server through one NAT address, and
 * thirty registers following the log must not share one address's budget, while one register
 * stuck in a loop must still be stopped (429 + `Retry-After`, which the sync engine honours).
 *
 * The limit runs after the device token is checked (the plugin's hook follows the route's own
 * `onRequest`), so its key is the authenticated register, never something a caller can vary; a
 * request without a valid token is answered 401 before it is counted. Each route has its own budget
 * per register (`<route>:<registerId>`), so a long catch-up of pulls does not block pushes.
 * Counters are per process, like the other limits (ADR 15).
 */
import type { FastifyRequest } from 'fastify';

/** Requests per register per window on each sync route. */
export interface DeviceRateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/**
 * 600 a minute per register and route: ten a second, far above what a register's sync loop sends
 * (a long-poll every ≤30 s, pushes of ≤500 ops, a bootstrap of a 100,000-product catalog in about
 * 200 snapshot pages) and far below what a register stuck in a loop sends.
 */
export const DEFAULT_DEVICE_RATE_LIMIT: DeviceRateLimit = { max: 600, windowMs: 60_000 };

/**
 * The per-route config that limits a sync route per authenticated register (put it in the route's
 * `config`, with `onRequest: requireDevice(…)`).
 *
 * @example
 * ```ts
 * app.get('/api/v1/sync/pull', { onRequest: requireDevice(storage), config: perDeviceLimit('pull', limit), … }, handler);
 * ```
 */
export function perDeviceLimit(
  route: string,
  limit: DeviceRateLimit = DEFAULT_DEVICE_RATE_LIMIT,
): { rateLimit: { max: number; timeWindow: number; keyGenerator: (request: FastifyRequest) => string } } {
  return {
    rateLimit: {
      max: limit.max,
      timeWindow: limit.windowMs,
      // requireDevice ran first and set `device`; the address is a fallback that cannot happen.
      keyGenerator: (request) => `sync-${route}:${request.device?.registerId ?? `address:${request.ip}`}`,
    },
  };
}
