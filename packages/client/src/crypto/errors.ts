/**
 * Named errors of the encryption-at-rest module. Each carries the data that explains it; none
 * carries a PIN, a key or a plaintext.
 */
import { KassaError } from '@kassa/core';

/**
 * The PIN did not open the staff member's wrapped key: the AES-GCM tag failed, so no key was
 * produced. (A record altered on disk fails the same way; the two cannot be told apart, by design.)
 */
export class WrongPinError extends KassaError {
  readonly code = 'wrong_pin';
  constructor(readonly staffId: string) {
    super(`wrong PIN for staff member ${staffId}`);
  }
}

/** Why a sealed value could not be opened. */
export type SealOpenFailure =
  /** Not a sealed value at all (bad prefix, base64url or length). */
  | 'malformed'
  /** A sealed value of a version this code does not know. */
  | 'unsupported_version'
  /** Sealed to a different key than the one given (by the key id in the envelope). */
  | 'other_key'
  /** The AES-GCM tag failed: wrong key, wrong AAD (moved to another row), or tampered bytes. */
  | 'authentication_failed';

/** A sealed value could not be opened; `reason` says why (never what it contained). */
export class SealOpenError extends KassaError {
  readonly code = 'seal_open_failed';
  constructor(readonly reason: SealOpenFailure) {
    super(`sealed value could not be opened: ${reason}`);
  }
}

/**
 * A PIN key derivation asked for fewer PBKDF2 iterations than the minimum (600,000, DESIGN §4),
 * either when wrapping or in a stored record being unlocked.
 */
export class WeakKdfError extends KassaError {
  readonly code = 'weak_kdf';
  constructor(
    readonly iterations: number,
    readonly minimum: number,
  ) {
    super(`PBKDF2 with ${iterations} iterations is below the minimum of ${minimum}`);
  }
}

/** A PIN that may not be used (too short, too long). */
export class InvalidPinError extends KassaError {
  readonly code = 'invalid_pin';
  constructor(readonly reason: string) {
    super(`invalid PIN: ${reason}`);
  }
}

/** Too many wrong PINs: no attempt is allowed before `retryAt` (ms since the epoch). */
export class PinLockedOutError extends KassaError {
  readonly code = 'pin_locked_out';
  constructor(
    readonly retryAt: number,
    readonly waitMs: number,
  ) {
    super(`too many wrong PINs: try again in ${Math.ceil(waitMs / 1000)} s`);
  }
}

/**
 * Key material that decrypted correctly belongs to another register key than expected (a server
 * escrow answer for another register, a record whose bundle and key id disagree).
 */
export class KeyMismatchError extends KassaError {
  readonly code = 'key_mismatch';
  constructor(
    readonly expectedKeyId: string,
    readonly actualKeyId: string,
  ) {
    super(`expected register key ${expectedKeyId}, got ${actualKeyId}`);
  }
}

/** A stored key record (staff key record, key bundle) is malformed or inconsistent. */
export class InvalidKeyRecordError extends KassaError {
  readonly code = 'invalid_key_record';
  constructor(readonly reason: string) {
    super(`invalid key record: ${reason}`);
  }
}
