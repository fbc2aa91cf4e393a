/**
 * Giving a staff member the register keys under their own PIN, and changing that PIN.
 *
 * A first unlock needs someone who already holds the register keys:
 *
 * ```
 *  manager present (offline)                 server escrow (online once)
 *  ─────────────────────────                 ───────────────────────────
 *  manager unlocks ─► keys                   register: new staff key pair; PIN checked against
 *  enrolStaff(keys, {newStaff, pin})           the synced verifier (checkPinVerifier)
 *   └─ seals the bundle to the new           fetchRegisterKeys({staffId, keyId, staffPublicKey})
 *      person's fresh staff key                 server: open escrow (sealed at pairing with
 *                                                  sealEscrow), re-seal to staffPublicKey
 *                                                  (reSealEscrow) for the staff it authenticated
 *                                            register: open, check the key id, wrap under PIN
 * ```
 *
 * Either way the bundle only ever travels sealed; the PIN never leaves the register.
 */
import { normalisePin } from './pin-kdf.js';
import type { KdfOptions } from './pin-kdf.js';
import { decodeKeyBundle, encodeKeyBundle } from './register-keys.js';
import type { RegisterKeys } from './register-keys.js';
import { createOpener, generateSealingKeyPair, importPublicKey, openBytes, seal } from './seal.js';
import { createStaffRecord, escrowAad, registerKeysAad, sealBundleForStaff } from './staff-key-record.js';
import type { StaffKeyRecord } from './staff-key-record.js';
import { unlock } from './unlock.js';

/** Who is being enrolled, and the PIN they chose. */
export interface Enrolment {
  readonly staffId: string;
  readonly pin: string;
}

/**
 * Enrols a staff member from register keys someone already unlocked (the "manager present" path,
 * offline). Also how a manager resets a forgotten PIN: the new record replaces the old one.
 * Whether the unlocked person may enrol others is a permission question for the caller
 * (`authorize` in core); this function only does the cryptography.
 *
 * @example
 * ```ts
 * const keys = await unlock(managerPin, managerRecord);
 * const record = await enrolStaff(keys, { staffId: newCashierId, pin: '5831' });
 * await store.saveStaffKeyRecord(record);
 * ```
 */
export async function enrolStaff(keys: RegisterKeys, enrolment: Enrolment, options: KdfOptions = {}): Promise<StaffKeyRecord> {
  normalisePin(enrolment.pin); // refuse a bad PIN before the slow parts
  const staffKeys = await generateSealingKeyPair({ extractable: true });
  const registerKeys = await sealBundleForStaff(keys, enrolment.staffId, staffKeys.publicKey);
  return createStaffRecord({ staffId: enrolment.staffId, pin: enrolment.pin, staffKeys, registerKeyId: keys.keyId, registerKeys }, options);
}

/**
 * Changes a staff member's PIN: unlocks with `oldPin` ({@link WrongPinError} otherwise) and wraps
 * under `newPin` with a new salt AND a new staff key pair, so the old record and the new one share
 * nothing but the register keys. A PIN suspected stolen together with a copy of the profile needs
 * more than this: remove and rotate (docs/adr/0032).
 */
export async function changePin(
  record: StaffKeyRecord,
  oldPin: string,
  newPin: string,
  options: KdfOptions = {},
): Promise<{ record: StaffKeyRecord; keys: RegisterKeys }> {
  normalisePin(newPin);
  const keys = await unlock(oldPin, record, options);
  return { record: await enrolStaff(keys, { staffId: record.staffId, pin: newPin }, options), keys };
}

/**
 * The register key bundle sealed to the server's escrow key, for the server to keep (sent once per
 * register key: at pairing and after every rotation). The server can then hand the keys to a staff
 * member's first unlock on this register without a manager present.
 */
export async function sealEscrow(keys: RegisterKeys, escrowPublicKey: CryptoKey, target: { deviceId: string }): Promise<string> {
  const bundle = await encodeKeyBundle(keys);
  try {
    return await seal(escrowPublicKey, bundle, escrowAad(target.deviceId, keys.keyId));
  } finally {
    bundle.fill(0);
  }
}

/** What the register asks the escrow holder for on a staff member's first unlock. */
export interface EscrowRequest {
  readonly staffId: string;
  /** The register key the register expects (its current public key's id). */
  readonly registerKeyId: string;
  /** base64url of the new staff key pair's public key: the answer is sealed to it. */
  readonly staffPublicKey: string;
}

/**
 * Asks the escrow holder for the register keys sealed to `request.staffPublicKey` (AAD
 * {@link registerKeysAad}); in the register this is an HTTP call with the device token.
 */
export type FetchRegisterKeys = (request: EscrowRequest) => Promise<string>;

/**
 * What the escrow holder does with a request: opens the escrowed bundle with its private key and
 * re-seals the same bytes to the staff member's key. The server implements this (it cannot import
 * the client); it lives here so the format is defined once and tested end to end. The server must
 * take `staffId` and `deviceId` from what it authenticated, not from the request body.
 */
export async function reSealEscrow(
  escrowPrivateKey: CryptoKey,
  escrowed: string,
  target: { deviceId: string; registerKeyId: string; staffId: string; staffPublicKey: string },
): Promise<string> {
  const bundle = await openBytes(escrowPrivateKey, escrowed, escrowAad(target.deviceId, target.registerKeyId));
  try {
    return await seal(await importPublicKey(target.staffPublicKey), bundle, registerKeysAad(target.staffId, target.registerKeyId));
  } finally {
    bundle.fill(0);
  }
}

/**
 * First unlock of a staff member through the server (the network once, no manager). Check the PIN
 * against the staff member's synced verifier before calling (`checkPinVerifier`): this function
 * trusts the caller that the person is who they say, and wraps the keys under the PIN given.
 *
 * Throws `KeyMismatchError` when the server answers with another register's keys and
 * `SealOpenError` when the answer does not open; in both cases nothing is stored.
 */
export async function enrolStaffViaServer(
  request: Enrolment & { readonly registerKeyId: string; readonly fetchRegisterKeys: FetchRegisterKeys },
  options: KdfOptions = {},
): Promise<{ record: StaffKeyRecord; keys: RegisterKeys }> {
  normalisePin(request.pin);
  const staffKeys = await generateSealingKeyPair({ extractable: true });
  const registerKeys = await request.fetchRegisterKeys({
    staffId: request.staffId,
    registerKeyId: request.registerKeyId,
    staffPublicKey: staffKeys.publicKeyRaw,
  });
  const bundle = await createOpener(staffKeys.privateKey, staffKeys.keyId).openBytes(
    registerKeys,
    registerKeysAad(request.staffId, request.registerKeyId),
  );
  let keys: RegisterKeys;
  try {
    // decodeKeyBundle recomputes the key id from the private key: another register's keys fail here.
    keys = await decodeKeyBundle(bundle, request.registerKeyId);
  } finally {
    bundle.fill(0);
  }
  const record = await createStaffRecord(
    { staffId: request.staffId, pin: request.pin, staffKeys, registerKeyId: keys.keyId, registerKeys },
    options,
  );
  return { record, keys };
}
