/**
 * Tight rate limits for login and pairing (DESIGN §4): per client address on the route (the
 * global @fastify/rate-limit plugin's per-route config, checked before the body is read) and per
 * email or pairing code (checked once the body is valid), so neither many addresses against one
 * account nor one address against many accounts gets far.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../http/api-error.js';

/** Attempts allowed per window, per address and per email or code. */
export interface AuthRateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** 10 attempts a minute: plenty for a person who mistypes, nothing for a guesser. */
export const DEFAULT_AUTH_RATE_LIMIT: AuthRateLimit = { max: 10, windowMs: 60_000 };

/** The per-route config that limits a route per client address. */
export function perAddressLimit(limit: AuthRateLimit): { rateLimit: { max: number; timeWindow: number } } {
  return { rateLimit: { max: limit.max, timeWindow: limit.windowMs } };
}

/** Counts attempts per key (an email, a code) and answers 429 with `Retry-After` past the limit. */
export type KeyedLimiter = (request: FastifyRequest, reply: FastifyReply, key: string) => Promise<void>;

/**
 * Makes a limiter counting per key under `name` (keys of different limiters never mix).
 *
 * @example
 * ```ts
 * const perEmail = keyedLimiter(app, limit, 'login-email');
 * await perEmail(request, reply, body.email); // throws ApiError(429) past the limit
 * ```
 */
export function keyedLimiter(app: FastifyInstance, limit: AuthRateLimit, name: string): KeyedLimiter {
  const keys = new WeakMap<FastifyRequest, string>();
  const check = app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: (request) => `${name}:${keys.get(request) ?? ''}`,
  });
  return async (request, reply, key) => {
    keys.set(request, key);
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', String(Math.max(1, result.ttlInSeconds)));
      throw new ApiError(429, 'rate_limited', `too many attempts; retry in ${Math.max(1, result.ttlInSeconds)} s`);
    }
  };
}
