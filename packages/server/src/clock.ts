/**
 * Wall-clock time in milliseconds since the Unix epoch, passed in so tests can move it.
 * Structurally the same as core's `Clock`; the server declares its own until core's clock module
 * is declared stable.
 */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
