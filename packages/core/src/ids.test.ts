import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock, seededRandom } from './clock.js';
import { InvalidArgumentError } from './errors.js';
import { InvalidUuidV7Error, isUuid, isUuidV7, uuidV7Generator, uuidV7Timestamp } from './ids.js';
import { IdSchema } from './wire-primitives.js';

const Y2026 = Date.UTC(2026, 0, 1); // 1_767_225_600_000 = 0x19b76daa800

const ones = (n: number): Uint8Array => new Uint8Array(n).fill(0xff);
const zeros = (n: number): Uint8Array => new Uint8Array(n);

describe('uuidV7Generator', () => {
  it('lays out timestamp, version, counter, variant and randomness', () => {
    const ids = uuidV7Generator(manualClock(Y2026), ones);
    // timestamp 019b76daa800; counter seed 0xffff & 0x7ff = 0x7ff after version 7;
    // variant 10 over 0xff → 0xbf; the rest all ones
    expect(ids.next()).toBe('019b76da-a800-77ff-bfff-ffffffffffff');
    // same millisecond: the counter goes up by one
    expect(ids.next()).toBe('019b76da-a800-7800-bfff-ffffffffffff');
  });

  it('reseeds the counter in a new millisecond', () => {
    const clock = manualClock(Y2026);
    const ids = uuidV7Generator(clock, zeros);
    expect(ids.next()).toBe('019b76da-a800-7000-8000-000000000000');
    expect(ids.next()).toBe('019b76da-a800-7001-8000-000000000000');
    clock.advance(1);
    expect(ids.next()).toBe('019b76da-a801-7000-8000-000000000000');
  });

  it('runs one millisecond ahead when the counter rolls over', () => {
    const ids = uuidV7Generator(manualClock(Y2026), zeros);
    const made = Array.from({ length: 4097 }, () => ids.next());
    // counter 0x000 … 0xfff fills the millisecond; id 4097 moves to the next one
    expect(made[4095]).toBe('019b76da-a800-7fff-8000-000000000000');
    expect(made[4096]).toBe('019b76da-a801-7000-8000-000000000000');
  });

  it('keeps its last timestamp when the clock goes back', () => {
    const clock = manualClock(Y2026);
    const ids = uuidV7Generator(clock, zeros);
    const first = ids.next();
    clock.set(Date.UTC(2000, 0, 1));
    const second = ids.next();
    expect(second).toBe('019b76da-a800-7001-8000-000000000000');
    expect(second > first).toBe(true);
  });

  it('refuses a clock that is not a number', () => {
    expect(() => uuidV7Generator(manualClock(Number.NaN), zeros).next()).toThrow(InvalidArgumentError);
  });

  it('makes valid, strictly increasing v7 ids whose timestamp is the clock, under any clock', () => {
    const wall = fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: Y2026 - 3, max: Y2026 + 3 }));
    fc.assert(
      fc.property(fc.integer(), fc.array(wall, { minLength: 1, maxLength: 100 }), (seed, walls) => {
        const clock = manualClock(0);
        const ids = uuidV7Generator(clock, seededRandom(seed));
        let previous = '';
        let highest = -1;
        for (const w of walls) {
          clock.set(w);
          highest = Math.max(highest, w);
          const id = ids.next();
          expect(isUuidV7(id)).toBe(true);
          expect(IdSchema.safeParse(id).success).toBe(true);
          expect(id[14]).toBe('7');
          expect('89ab').toContain(id[19]);
          expect(id > previous).toBe(true);
          // fewer than 2048 ids per millisecond never roll over, so the timestamp is the clock's high-water mark
          expect(uuidV7Timestamp(id)).toBe(highest);
          previous = id;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('isUuid / isUuidV7 / uuidV7Timestamp', () => {
  it('accepts any RFC 9562 UUID as a UUID, and only v7 as v7', () => {
    expect(isUuid('550e8400-e29b-41d4-a716-446655440000')).toBe(true);
    expect(isUuid('0192A3B4-C5D6-7E0F-8A1B-2C3D4E5F6A7B')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(42)).toBe(false);
    expect(isUuidV7('550e8400-e29b-41d4-a716-446655440000')).toBe(false);
    expect(isUuidV7('0192a3b4-c5d6-7e0f-8a1b-2c3d4e5f6a7b')).toBe(true);
    // variant 110 (Microsoft's), not RFC 9562's 10
    expect(isUuidV7('0192a3b4-c5d6-7e0f-ca1b-2c3d4e5f6a7b')).toBe(false);
  });

  it('reads the timestamp of a v7 id', () => {
    // 0x0192a3b4c5d6 = 1_729_323_386_326
    expect(uuidV7Timestamp('0192a3b4-c5d6-7e0f-8a1b-2c3d4e5f6a7b')).toBe(1_729_323_386_326);
  });

  it('refuses the timestamp of anything else', () => {
    expect(() => uuidV7Timestamp('550e8400-e29b-41d4-a716-446655440000')).toThrow(InvalidUuidV7Error);
  });
});
