/**
 * The server's real clock. The `Clock` interface (and `manualClock` for tests) is core's.
 */
import type { Clock } from '@kassa/core';

export type { Clock } from '@kassa/core';

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
