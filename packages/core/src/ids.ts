/**
 * Ids are UUIDv7 (RFC 9562 §5.7): a 48-bit Unix-millisecond timestamp, then randomness, so ids
 * sort roughly by creation time (good for B-tree inserts and for reading a log in order) and need
 * no coordination between registers. Time and randomness are injected, like everything in core.
 *
 * Layout (bits): `unix_ts_ms:48 | ver=0111:4 | rand_a:12 | var=10:2 | rand_b:62`.
 */
import type { Clock, RandomSource } from './clock.js';
import { InvalidArgumentError, KassaError } from './errors.js';
import { IdSchema } from './wire-primitives.js';

/** Makes ids. Each call returns a new one, greater (as a string) than the last from the same generator. */
export interface IdGenerator {
  next(): string;
}

/** A string that should have been a UUIDv7 was not. */
export class InvalidUuidV7Error extends KassaError {
  readonly code = 'invalid_uuid_v7';
  constructor(readonly input: string) {
    super(`${JSON.stringify(input)} is not a UUIDv7`);
  }
}

const MAX_TIMESTAMP_MS = 2 ** 48 - 1;
const COUNTER_MAX = 0xfff;
// A fresh millisecond starts the counter at a random value with its top bit clear, so at least
// 2048 ids fit in the millisecond before it rolls over (RFC 9562 §6.2, "Counter Rollover Guards").
const COUNTER_SEED_MASK = 0x7ff;
const V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A UUIDv7 generator that is strictly monotonic (RFC 9562 §6.2, method 1: rand_a is a 12-bit
 * counter). Within one millisecond the counter increments; when it rolls over, or when the clock
 * goes backwards, the generator keeps using its last timestamp (+1 ms on rollover) instead of the
 * clock, so ids never decrease. rand_b (62 bits) is fresh randomness for every id, which keeps ids
 * from different registers apart.
 *
 * @example
 * ```ts
 * const ids = uuidV7Generator(manualClock(Date.UTC(2026, 0, 1)), seededRandom(1));
 * ids.next() // '019b76da-a800-7xxx-yxxx-xxxxxxxxxxxx' (y is 8, 9, a or b)
 * ```
 */
export function uuidV7Generator(clock: Clock, random: RandomSource): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  return {
    next() {
      const now = clock.now();
      if (!Number.isFinite(now)) throw new InvalidArgumentError('clock.now()', `not a finite number: ${String(now)}`);
      const ms = Math.min(Math.max(Math.floor(now), 0), MAX_TIMESTAMP_MS);
      if (ms > lastMs) {
        lastMs = ms;
        counter = seedCounter(random);
      } else if (counter < COUNTER_MAX) {
        counter += 1;
      } else {
        // Running 1 ms ahead of the clock is the RFC's sanctioned answer to rollover; at 2^48-1
        // (the year 10889) there is nowhere left to go.
        if (lastMs >= MAX_TIMESTAMP_MS) throw new InvalidArgumentError('clock.now()', 'UUIDv7 timestamp exhausted');
        lastMs += 1;
        counter = seedCounter(random);
      }
      return formatV7(lastMs, counter, random(8));
    },
  };
}

/**
 * Whether `value` is a UUID in the form Kassa accepts on the wire (`IdSchema`: RFC 9562 versions
 * 1–8 with the RFC variant, or the nil and max UUIDs; either case).
 *
 * @example
 * ```ts
 * isUuid('0192a3b4-c5d6-7e0f-8a1b-2c3d4e5f6a7b') // true
 * isUuid('not-a-uuid') // false
 * ```
 */
export function isUuid(value: unknown): value is string {
  return IdSchema.safeParse(value).success;
}

/** Whether `value` is a version 7 UUID with the RFC 9562 variant (either case). */
export function isUuidV7(value: unknown): value is string {
  return typeof value === 'string' && V7_PATTERN.test(value);
}

/**
 * The creation time (Unix ms) written in a UUIDv7: its first 48 bits.
 *
 * @throws InvalidUuidV7Error when `id` is not a UUIDv7.
 * @example
 * ```ts
 * uuidV7Timestamp('0192a3b4-c5d6-7e0f-8a1b-2c3d4e5f6a7b') // 0x0192a3b4c5d6 = 1_729_323_386_326 (2024-10-19)
 * ```
 */
export function uuidV7Timestamp(id: string): number {
  if (!isUuidV7(id)) throw new InvalidUuidV7Error(id);
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

function seedCounter(random: RandomSource): number {
  const bytes = random(2);
  return (((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) & COUNTER_SEED_MASK;
}

function formatV7(ms: number, counter: number, randB: Uint8Array): string {
  const bytes = new Uint8Array(16);
  // 48-bit timestamp, big-endian; split because bitwise operators work on 32 bits.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms % 2 ** 32;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  for (let i = 0; i < 8; i++) bytes[8 + i] = randB[i] ?? 0;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
