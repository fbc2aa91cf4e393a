/**
 * Unlocking the register with a staff member's PIN: PIN → KEK → staff private key → register key
 * bundle (staff-key-record.ts draws the chain). Offline, no server involved.
 */
import { InvalidKeyRecordError, InvalidPinError, SealOpenError, WrongPinError } from './errors.js';
import { assertKdfStrength, normalisePin } from './pin-kdf.js';
import type { KdfOptions } from './pin-kdf.js';
import { decodeKeyBundle } from './register-keys.js';
import type { RegisterKeys } from './register-keys.js';
import { openBytes } from './seal.js';
import { openStaffKey, parseStaffKeyRecord, registerKeysAad } from './staff-key-record.js';
import type { StaffKeyRecord } from './staff-key-record.js';

/**
 * The register keys, opened with `pin` from the staff member's `record`.
 *
 * - wrong PIN (or a PIN no record could hold) → {@link WrongPinError}; no key is produced;
 * - a record asking for fewer than 600,000 iterations → `WeakKdfError`, even with the right PIN;
 * - a record whose parts do not fit together → `InvalidKeyRecordError` / `KeyMismatchError`.
 *
 * Rate limiting is the caller's (see {@link unlockWithAttemptLimit}): this function is the slow
 * step an attacker would have to repeat.
 *
 * @example
 * ```ts
 * try {
 *   const keys = await unlock(typedPin, staffRecord);
 *   const opener = createOpener(keys.privateKey, keys.keyId);
 * } catch (e) {
 *   if (e instanceof WrongPinError) showWrongPin();
 * }
 * ```
 */
export async function unlock(pin: string, record: StaffKeyRecord, options: KdfOptions = {}): Promise<RegisterKeys> {
  const r = parseStaffKeyRecord(record);
  assertKdfStrength(r.kdf.iterations, options);
  try {
    normalisePin(pin);
  } catch (e) {
    if (e instanceof InvalidPinError) throw new WrongPinError(r.staffId);
    throw e;
  }
  const staffKey = await openStaffKey(pin, r, options);
  let bundle: Uint8Array;
  try {
    bundle = await openBytes(staffKey, r.registerKeys, registerKeysAad(r.staffId, r.registerKeyId));
  } catch (e) {
    // The PIN was right (the staff key opened), so this is a damaged or mismatched record.
    if (e instanceof SealOpenError) throw new InvalidKeyRecordError(`register keys do not open with the staff key (${e.reason})`);
    throw e;
  }
  try {
    return await decodeKeyBundle(bundle, r.registerKeyId);
  } finally {
    bundle.fill(0);
  }
}
