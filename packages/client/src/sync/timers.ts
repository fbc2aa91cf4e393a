/**
 * Time as the sync loops see it: injected, so a test drives every wait with fake timers.
 */

/** `setTimeout` / `clearTimeout`, injected (the platform's by default). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's timers. */
export const platformTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** Why a {@link Waiter} returned. */
export type WakeReason = 'woken' | 'timeout';

/**
 * A sleep that can be cut short: a loop waits on it (for a timer, or for an event when `ms` is
 * null), and `wake()` ends the wait at once. A wake with nobody waiting is remembered once, so an
 * event between a loop's check and its wait is not lost.
 */
export class Waiter {
  readonly #timers: Timers;
  #pending: (() => void) | null = null;
  #woken = false;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** Waits `ms` (or until woken when null). */
  wait(ms: number | null): Promise<WakeReason> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve('woken');
    }
    return new Promise((resolve) => {
      let handle: unknown;
      const done = (reason: WakeReason): void => {
        if (this.#pending === null) return;
        this.#pending = null;
        if (handle !== undefined) this.#timers.clearTimeout(handle);
        resolve(reason);
      };
      this.#pending = () => done('woken');
      if (ms !== null) handle = this.#timers.setTimeout(() => done('timeout'), Math.max(0, ms));
    });
  }

  /** Ends the current wait, or the next one if nobody waits. */
  wake(): void {
    if (this.#pending !== null) this.#pending();
    else this.#woken = true;
  }

  /** Forgets a remembered wake (a loop that is about to act anyway). */
  clear(): void {
    this.#woken = false;
  }
}
