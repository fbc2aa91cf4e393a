import type { Clock } from '../clock.js';

/** A clock a test moves by hand. */
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
