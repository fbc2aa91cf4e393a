/**
 * Attempt limiting for PIN unlock: a small pure state machine the store persists (per staff member,
 * and one more per register with a higher allowance against spraying one guess over every name).
 * Time comes from an injected clock.
 *
 * ```
 *                 failure (n+1 < free)
 *               ┌──────────────────────┐
 *               ▼                      │
 *   ┌────────────────┐  failure  ┌──────────────┐  failure (n+1 ≥ free)  ┌─────────────────────────────┐
 *   │ clear   (n = 0)│ ────────► │ counting (n) │ ─────────────────────► │ locked until now + wait(n)  │
 *   └────────────────┘           └──────────────┘                        │ wait = min(max, base·2^(n-free)) │
 *       ▲      ▲       success          │                                └─────────────────────────────┘
 *       │      └────────────────────────┘                                   │ now ≥ lockedUntil:
 *       │                                                                    │ one attempt allowed;
 *       └──────────────────────── success ◄──────────────────────────────────┘ failure → locked longer
 * ```
 *
 * An attempt is counted as a failure BEFORE the slow key derivation and cleared on success
 * ({@link unlockWithAttemptLimit}), so killing the tab or cutting the power while the PIN is being
 * checked never gives a free guess. A clock set back cannot stretch a lockout beyond `maxLockoutMs`
 * (the stored deadline is pulled in); a clock set forward does shorten it — that is the limit of a
 * device-local clock, noted in docs/adr/0032.
 */
import type { Clock } from '@kassa/core';
import { z } from 'zod';
import { PinLockedOutError, WrongPinError } from './errors.js';
import type { KdfOptions } from './pin-kdf.js';
import type { RegisterKeys } from './register-keys.js';
import type { StaffKeyRecord } from './staff-key-record.js';
import { unlock } from './unlock.js';

/** The persisted attempt state (zod: it is read back from storage). */
export const PinAttemptStateSchema = z
  .object({
    /** Consecutive failures since the last success (an attempt in progress counts as one). */
    failures: z.number().int().nonnegative(),
    /** No attempt before this time (ms since the epoch); 0 when not locked. */
    lockedUntil: z.number().int().nonnegative(),
  })
  .strict();

/** See {@link PinAttemptStateSchema}. */
export type PinAttemptState = z.infer<typeof PinAttemptStateSchema>;

/** How many failures are free and how the lockout grows. */
export interface PinAttemptPolicy {
  /** Failures before the first lockout. */
  readonly freeAttempts: number;
  /** The first lockout; each further failure doubles it. */
  readonly baseLockoutMs: number;
  /** The longest lockout. */
  readonly maxLockoutMs: number;
}

/**
 * 5 free failures, then 30 s doubling to 1 h: a person who mistypes loses nothing, while guessing
 * all 10^4 four-digit PINs at the till would take over a year.
 */
export const DEFAULT_PIN_ATTEMPT_POLICY: PinAttemptPolicy = Object.freeze({
  freeAttempts: 5,
  baseLockoutMs: 30_000,
  maxLockoutMs: 60 * 60_000,
});

/** The state of someone who has not failed. */
export function initialPinAttempts(): PinAttemptState {
  return { failures: 0, lockedUntil: 0 };
}

/** Whether an attempt may start now, with the state to persist (a deadline pulled in if needed). */
export type PinAttemptGate =
  | { readonly allowed: true; readonly state: PinAttemptState }
  | { readonly allowed: false; readonly state: PinAttemptState; readonly retryAt: number; readonly waitMs: number };

/**
 * Whether an attempt is allowed at `now`.
 *
 * @example
 * ```ts
 * const gate = checkPinAttempt(state, clock.now());
 * if (!gate.allowed) showWait(gate.waitMs);
 * ```
 */
export function checkPinAttempt(state: PinAttemptState, now: number, policy: PinAttemptPolicy = DEFAULT_PIN_ATTEMPT_POLICY): PinAttemptGate {
  // A deadline further away than the longest lockout can only come from a clock that was ahead
  // (or was set back since): pull it in, or the register could stay locked for years.
  const normalised = state.lockedUntil - now > policy.maxLockoutMs ? { ...state, lockedUntil: now + policy.maxLockoutMs } : state;
  if (now >= normalised.lockedUntil) return { allowed: true, state: normalised };
  return { allowed: false, state: normalised, retryAt: normalised.lockedUntil, waitMs: normalised.lockedUntil - now };
}

/** The state after one more failure at `now`. */
export function recordPinFailure(state: PinAttemptState, now: number, policy: PinAttemptPolicy = DEFAULT_PIN_ATTEMPT_POLICY): PinAttemptState {
  const failures = state.failures + 1;
  if (failures < policy.freeAttempts) return { failures, lockedUntil: 0 };
  // Exponent capped: 2^30 × any sane base is beyond every maxLockoutMs, and stays finite.
  const exponent = Math.min(failures - policy.freeAttempts, 30);
  const wait = Math.min(policy.maxLockoutMs, policy.baseLockoutMs * 2 ** exponent);
  return { failures, lockedUntil: Math.max(0, Math.floor(now + wait)) };
}

/** The state after a success (or a manager's reset): clear. */
export function recordPinSuccess(): PinAttemptState {
  return initialPinAttempts();
}

/** The outcome of {@link unlockWithAttemptLimit}; `state` is always the one to keep. */
export type UnlockAttempt =
  | { readonly outcome: 'unlocked'; readonly keys: RegisterKeys; readonly state: PinAttemptState }
  | { readonly outcome: 'wrong_pin'; readonly error: WrongPinError; readonly state: PinAttemptState }
  | { readonly outcome: 'locked_out'; readonly error: PinLockedOutError; readonly state: PinAttemptState };

/** What {@link unlockWithAttemptLimit} needs. */
export interface UnlockWithAttemptLimitInput {
  readonly pin: string;
  readonly record: StaffKeyRecord;
  /** The attempt state as persisted. */
  readonly state: PinAttemptState;
  readonly clock: Clock;
  /**
   * Persists a state; awaited before the key derivation starts (with the attempt already counted as
   * a failure) and after the outcome is known. Run attempts for one state one at a time.
   */
  readonly save: (state: PinAttemptState) => Promise<void> | void;
  readonly policy?: PinAttemptPolicy;
  readonly kdf?: KdfOptions;
}

/**
 * {@link unlock} behind the attempt limit. Errors that are not a guess (a damaged record, a weak
 * KDF) are thrown as they are, after the pre-counted failure is persisted.
 *
 * @example
 * ```ts
 * const result = await unlockWithAttemptLimit({ pin, record, state, clock, save: (s) => store.saveAttempts(staffId, s) });
 * if (result.outcome === 'unlocked') session.start(result.keys);
 * ```
 */
export async function unlockWithAttemptLimit(input: UnlockWithAttemptLimitInput): Promise<UnlockAttempt> {
  const policy = input.policy ?? DEFAULT_PIN_ATTEMPT_POLICY;
  const now = input.clock.now();
  const gate = checkPinAttempt(input.state, now, policy);
  if (!gate.allowed) {
    if (gate.state !== input.state) await input.save(gate.state);
    return { outcome: 'locked_out', error: new PinLockedOutError(gate.retryAt, gate.waitMs), state: gate.state };
  }
  const pending = recordPinFailure(gate.state, now, policy);
  await input.save(pending);
  try {
    const keys = await unlock(input.pin, input.record, input.kdf);
    const cleared = recordPinSuccess();
    await input.save(cleared);
    return { outcome: 'unlocked', keys, state: cleared };
  } catch (e) {
    if (e instanceof WrongPinError) return { outcome: 'wrong_pin', error: e, state: pending };
    throw e;
  }
}
