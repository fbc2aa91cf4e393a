import { manualClock } from '@kassa/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrolStaff } from './enrolment.js';
import { InvalidKeyRecordError, PinLockedOutError, WrongPinError } from './errors.js';
import {
  DEFAULT_PIN_ATTEMPT_POLICY,
  PinAttemptStateSchema,
  checkPinAttempt,
  initialPinAttempts,
  recordPinFailure,
  recordPinSuccess,
  unlockWithAttemptLimit,
} from './pin-attempts.js';
import type { PinAttemptPolicy, PinAttemptState } from './pin-attempts.js';
import { generateRegisterKeys } from './register-keys.js';

const TEST_KDF = { unsafeTestOnlyIterations: 1_000 } as const;
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const policy: PinAttemptPolicy = { freeAttempts: 3, baseLockoutMs: 30_000, maxLockoutMs: 8 * 60_000 };

describe('PIN attempt limiting (pure)', () => {
  it('free attempts, then a lockout that doubles up to the maximum, and a success clears it', () => {
    const clock = manualClock(T0);
    let state = initialPinAttempts();
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const gate = checkPinAttempt(state, clock.now(), policy);
      expect(gate.allowed).toBe(true);
      state = recordPinFailure(gate.state, clock.now(), policy);
      const after = checkPinAttempt(state, clock.now(), policy);
      waits.push(after.allowed ? 0 : after.waitMs);
      clock.set(Math.max(clock.now(), state.lockedUntil));
    }
    expect(waits).toEqual([0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, 480_000]);
    expect(recordPinSuccess()).toEqual(initialPinAttempts());
  });

  it('is locked until exactly the deadline', () => {
    const state = recordPinFailure({ failures: 2, lockedUntil: 0 }, T0, policy);
    expect(checkPinAttempt(state, T0 + 29_999, policy)).toMatchObject({ allowed: false, waitMs: 1, retryAt: T0 + 30_000 });
    expect(checkPinAttempt(state, T0 + 30_000, policy).allowed).toBe(true);
  });

  it('a clock set back cannot lock beyond the maximum, and the pulled-in deadline then runs out', () => {
    const state = recordPinFailure({ failures: 10, lockedUntil: 0 }, T0, policy);
    const back = T0 - 365 * 24 * 3_600_000; // someone "fixes" a clock that was a year ahead
    const gate = checkPinAttempt(state, back, policy);
    expect(gate).toMatchObject({ allowed: false, waitMs: policy.maxLockoutMs });
    expect(checkPinAttempt(gate.state, back + policy.maxLockoutMs, policy).allowed).toBe(true);
  });

  it('never waits longer than the maximum, and more failures never wait less (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 200 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (failures, now, skew) => {
        const a = recordPinFailure({ failures, lockedUntil: 0 }, now, DEFAULT_PIN_ATTEMPT_POLICY);
        const b = recordPinFailure(a, now, DEFAULT_PIN_ATTEMPT_POLICY);
        expect(b.lockedUntil).toBeGreaterThanOrEqual(a.lockedUntil);
        expect(b.lockedUntil - now).toBeLessThanOrEqual(DEFAULT_PIN_ATTEMPT_POLICY.maxLockoutMs);
        const gate = checkPinAttempt(b, Math.max(0, now + skew), DEFAULT_PIN_ATTEMPT_POLICY);
        if (!gate.allowed) expect(gate.waitMs).toBeLessThanOrEqual(DEFAULT_PIN_ATTEMPT_POLICY.maxLockoutMs);
        expect(PinAttemptStateSchema.parse(gate.state)).toEqual(gate.state);
      }),
      { numRuns: 500 },
    );
  });
});

describe('unlockWithAttemptLimit', () => {
  async function setUp() {
    const keys = await generateRegisterKeys();
    const record = await enrolStaff(keys, { staffId: 'jonas', pin: '4711' }, TEST_KDF);
    const saved: PinAttemptState[] = [];
    let state = initialPinAttempts();
    const clock = manualClock(T0);
    const attempt = async (pin: string) => {
      const result = await unlockWithAttemptLimit({ pin, record, state, clock, policy, kdf: TEST_KDF, save: (s) => void saved.push(s) });
      state = result.state;
      return result;
    };
    return { keys, record, saved, clock, attempt, current: () => state };
  }

  it('wrong PINs count, the lockout refuses even the right PIN, and after the wait the right PIN unlocks and clears', async () => {
    const { keys, clock, attempt, current } = await setUp();
    for (let i = 0; i < 3; i++) {
      const r = await attempt('0000');
      expect(r.outcome).toBe('wrong_pin');
      if (r.outcome === 'wrong_pin') expect(r.error).toBeInstanceOf(WrongPinError);
    }
    const locked = await attempt('4711');
    expect(locked.outcome).toBe('locked_out');
    if (locked.outcome === 'locked_out') {
      expect(locked.error).toBeInstanceOf(PinLockedOutError);
      expect(locked.error.retryAt).toBe(T0 + 30_000);
    }
    clock.advance(29_999);
    expect((await attempt('4711')).outcome).toBe('locked_out');
    clock.advance(1);
    const ok = await attempt('4711');
    expect(ok.outcome).toBe('unlocked');
    if (ok.outcome === 'unlocked') expect(ok.keys.keyId).toBe(keys.keyId);
    expect(current()).toEqual(initialPinAttempts());
  });

  it('persists the attempt as a failure BEFORE the key derivation, so a crash mid-check gives no free guess', async () => {
    const { record, clock } = await setUp();
    const order: string[] = [];
    const result = await unlockWithAttemptLimit({
      pin: '4711',
      record,
      state: { failures: 1, lockedUntil: 0 },
      clock,
      policy,
      kdf: TEST_KDF,
      save: (s) => void order.push(`save failures=${s.failures}`),
    });
    expect(result.outcome).toBe('unlocked');
    expect(order).toEqual(['save failures=2', 'save failures=0']);
    // The save itself failing (disk full, killed) stops the attempt before any derivation.
    const refused = unlockWithAttemptLimit({
      pin: '4711',
      record,
      state: initialPinAttempts(),
      clock,
      policy,
      kdf: TEST_KDF,
      save: () => Promise.reject(new Error('disk full')),
    });
    await expect(refused).rejects.toThrow('disk full');
  });

  it('errors that are not guesses propagate (after the pessimistic save)', async () => {
    const { record, clock, saved } = await setUp();
    const damaged = { ...record, registerKeys: 'k1.AAAA' };
    await expect(
      unlockWithAttemptLimit({ pin: '4711', record: damaged, state: initialPinAttempts(), clock, policy, kdf: TEST_KDF, save: (s) => void saved.push(s) }),
    ).rejects.toThrow(InvalidKeyRecordError);
    expect(saved).toEqual([{ failures: 1, lockedUntil: 0 }]);
  });
});
