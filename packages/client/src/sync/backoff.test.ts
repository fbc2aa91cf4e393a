import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, DEFAULT_BACKOFF, parseRetryAfter, retryDelay, unitInterval } from './backoff.js';

const bytes = (b: readonly number[]) => (n: number) => Uint8Array.from({ length: n }, (_, i) => b[i % b.length] ?? 0);

describe('backoff', () => {
  it('ceilings double from 1 s and stop at 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50, 5000].map((n) => backoffCeiling(n))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  it('property: full jitter stays within [0, ceiling] for every attempt and every random draw (1000 runs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (attempt, b) => {
        const d = retryDelay(attempt, bytes(b));
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(backoffCeiling(attempt));
      }),
      { numRuns: 1000 },
    );
  });

  it('property: a Retry-After is a floor (clamped to an hour), the jitter can only add to it (1000 runs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 10 * 3_600_000 }),
        (attempt, b, retryAfter) => {
          const d = retryDelay(attempt, bytes(b), retryAfter);
          const floor = Math.min(retryAfter, DEFAULT_BACKOFF.maxRetryAfterMs);
          expect(d).toBeGreaterThanOrEqual(floor);
          expect(d).toBeLessThanOrEqual(Math.max(floor, backoffCeiling(attempt)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('spreads: the smallest and largest draws reach both ends of the window', () => {
    expect(retryDelay(3, bytes([0]))).toBe(0);
    expect(retryDelay(3, bytes([255]))).toBe(4000);
    expect(unitInterval(bytes([255]))).toBeLessThan(1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
