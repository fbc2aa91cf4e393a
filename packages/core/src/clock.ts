/**
 * Time and randomness are passed in, never read from globals, so every behaviour that depends on
 * them is testable and replayable (a register's clock may be wrong; a test may move it).
 */

/** A source of wall-clock time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** Fills and returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/**
 * A clock a test moves by hand.
 *
 * @example
 * ```ts
 * const clock = manualClock(Date.UTC(2026, 0, 1));
 * clock.advance(1000);
 * ```
 */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** Makes a {@link ManualClock} starting at `startMs`. */
export function manualClock(startMs: number): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/**
 * A deterministic random source from a 32-bit seed (mulberry32), for tests and the simulator.
 * Never use it for tokens or keys.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = next() & 0xff;
    return out;
  };
}
