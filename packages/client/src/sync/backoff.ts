/**
 * Retry delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"): the n-th consecutive failure waits a uniformly random time in
 * `[0, min(cap, base · 2^(n−1))]`, so a fleet of registers coming back after an outage spreads its
 * retries instead of stampeding the server in step. A `Retry-After` the server sent is a floor.
 */
import type { RandomSource } from '@kassa/core';

/** How retries are spaced. */
export interface BackoffPolicy {
  /** The first failure's ceiling, ms (1 s). */
  readonly baseMs: number;
  /** The ceiling never exceeds this, ms (60 s). */
  readonly capMs: number;
  /** A `Retry-After` longer than this is clamped (a broken proxy must not park a register for a day). */
  readonly maxRetryAfterMs: number;
}

/** 1 s base, 60 s cap, `Retry-After` honoured up to an hour. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, maxRetryAfterMs: 3_600_000 };

/** A uniform number in [0, 1) from 32 random bits. */
export function unitInterval(random: RandomSource): number {
  const b = random(4);
  const n = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
  return n / 2 ** 32;
}

/** The ceiling of the delay after `attempt` consecutive failures (attempt ≥ 1). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n−1) overflows to Infinity for large n; min() handles it.
  return Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1));
}

/**
 * The delay before the next attempt after `attempt` consecutive failures: full jitter below the
 * ceiling, never earlier than `retryAfterMs` when the server asked for one.
 *
 * @example
 * ```ts
 * retryDelay(1, random)          // somewhere in [0, 1000]
 * retryDelay(10, random)         // somewhere in [0, 60000]
 * retryDelay(1, random, 30_000)  // 30000: the server's floor is above the jitter
 * ```
 */
export function retryDelay(attempt: number, random: RandomSource, retryAfterMs?: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const jitter = Math.floor(unitInterval(random) * (backoffCeiling(attempt, policy) + 1));
  if (retryAfterMs === undefined) return jitter;
  return Math.max(Math.min(Math.max(0, retryAfterMs), policy.maxRetryAfterMs), jitter);
}

/**
 * A `Retry-After` header as milliseconds from `now`: delta-seconds or an HTTP date; undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
