/**
 * A staff member's key record: what the register stores, per staff member, so that this person's
 * PIN — and nothing else on the device — opens the register keys.
 *
 * ```
 *   PIN ──PBKDF2-SHA256 (salt, ≥600k)──► KEK ──AES-256-GCM──► staff private key (P-256, pkcs8)
 *                                                                  │ opens (ECDH seal, seal.ts)
 *                                                                  ▼
 *                                   register key bundle = register private key + search key
 * ```
 *
 * Why two levels, when wrapping the register key under the PIN directly would do for unlocking:
 * removing a staff member must give everyone else a NEW register key without knowing their PINs.
 * Sealing the new bundle to each remaining person's staff PUBLIC key does exactly that
 * (rotate.ts); the removed person's old record opens only the old bundle. docs/adr/0032.
 */
import { z } from 'zod';
import { fromBase64Url, randomBytes, subtle, toBase64Url, toBytes, concatBytes, utf8 } from './bytes.js';
import { InvalidKeyRecordError, WrongPinError } from './errors.js';
import { PIN_KDF_NAME, deriveKek, newKdfParams } from './pin-kdf.js';
import type { KdfOptions } from './pin-kdf.js';
import { encodeKeyBundle } from './register-keys.js';
import type { RegisterKeys } from './register-keys.js';
import { SEAL_VERSION, importPublicKey, seal } from './seal.js';
import type { SealingKeyPair } from './seal.js';

const Base64Url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');
const IV_BYTES = 12;
const EC: EcKeyImportParams = { name: 'ECDH', namedCurve: 'P-256' };

/** The stored shape of a staff key record (zod: it is read back from storage). */
export const StaffKeyRecordSchema = z
  .object({
    v: z.literal(1),
    staffId: z.string().min(1).max(200),
    kdf: z.object({ name: z.literal(PIN_KDF_NAME), iterations: z.number().int().positive(), salt: Base64Url }).strict(),
    /** base64url of the staff member's own P-256 public key. */
    staffPublicKey: Base64Url,
    /** base64url of `iv[12] | AES-256-GCM(KEK, pkcs8 of the staff private key)`. */
    wrappedStaffKey: Base64Url,
    /** Key id of the register key the bundle below holds. */
    registerKeyId: Base64Url,
    /** The register key bundle sealed to `staffPublicKey`, AAD {@link registerKeysAad}. */
    registerKeys: z.string().startsWith(`${SEAL_VERSION}.`),
  })
  .strict();

/** A staff member's key record (see the file comment). Public fields only; nothing in it is a secret in clear. */
export type StaffKeyRecord = z.infer<typeof StaffKeyRecordSchema>;

/** Parses a record read back from storage; {@link InvalidKeyRecordError} if it is not one. */
export function parseStaffKeyRecord(input: unknown): StaffKeyRecord {
  const parsed = StaffKeyRecordSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidKeyRecordError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/**
 * AAD of the register key bundle sealed to a staff member. The escrow holder (server) must build
 * it from the staff member IT authenticated, never take it from the request.
 */
export function registerKeysAad(staffId: string, registerKeyId: string): string {
  return JSON.stringify(['kassa.register-keys.v1', staffId, registerKeyId]);
}

/** AAD of the PIN-wrapped staff private key: a wrapped key cannot be passed off as someone else's. */
export function staffKeyAad(staffId: string, staffPublicKey: string): string {
  return JSON.stringify(['kassa.staff-key.v1', staffId, staffPublicKey]);
}

/** AAD of a register key bundle escrowed to the server ({@link sealEscrow}). */
export function escrowAad(deviceId: string, registerKeyId: string): string {
  return JSON.stringify(['kassa.escrow.v1', deviceId, registerKeyId]);
}

/** Seals `keys`' bundle to one staff member's public key. */
export async function sealBundleForStaff(keys: RegisterKeys, staffId: string, staffPublicKey: CryptoKey): Promise<string> {
  const bundle = await encodeKeyBundle(keys);
  try {
    return await seal(staffPublicKey, bundle, registerKeysAad(staffId, keys.keyId));
  } finally {
    bundle.fill(0);
  }
}

/** Everything a new record is made of; the PIN-wrapping happens here. */
export interface NewStaffRecordParts {
  readonly staffId: string;
  readonly pin: string;
  readonly staffKeys: SealingKeyPair;
  readonly registerKeyId: string;
  readonly registerKeys: string;
}

/** Wraps the staff private key under `pin` (fresh salt) and assembles the record. */
export async function createStaffRecord(parts: NewStaffRecordParts, options: KdfOptions = {}): Promise<StaffKeyRecord> {
  const kdf = newKdfParams(options);
  const kek = await deriveKek(parts.pin, kdf, options);
  const pkcs8 = toBytes(await subtle().exportKey('pkcs8', parts.staffKeys.privateKey));
  const iv = randomBytes(IV_BYTES);
  try {
    const wrapped = await subtle().encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(staffKeyAad(parts.staffId, parts.staffKeys.publicKeyRaw)) },
      kek,
      pkcs8,
    );
    return parseStaffKeyRecord({
      v: 1,
      staffId: parts.staffId,
      kdf,
      staffPublicKey: parts.staffKeys.publicKeyRaw,
      wrappedStaffKey: toBase64Url(concatBytes(iv, new Uint8Array(wrapped))),
      registerKeyId: parts.registerKeyId,
      registerKeys: parts.registerKeys,
    });
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * The staff member's private key, opened with `pin`: {@link WrongPinError} when the AES-GCM tag
 * fails, in which case no key material exists anywhere.
 */
export async function openStaffKey(pin: string, record: StaffKeyRecord, options: KdfOptions = {}): Promise<CryptoKey> {
  const kek = await deriveKek(pin, record.kdf, options);
  const blob = fromBase64Url(record.wrappedStaffKey);
  let pkcs8: Uint8Array<ArrayBuffer>;
  try {
    pkcs8 = new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: blob.slice(0, IV_BYTES), additionalData: utf8(staffKeyAad(record.staffId, record.staffPublicKey)) },
        kek,
        blob.slice(IV_BYTES),
      ),
    );
  } catch {
    throw new WrongPinError(record.staffId);
  }
  try {
    // Not extractable: the staff key is only ever used to open the bundle; a PIN change makes a new one.
    return await subtle().importKey('pkcs8', pkcs8, EC, false, ['deriveBits']);
  } catch {
    throw new InvalidKeyRecordError('wrapped staff key is not a P-256 private key');
  } finally {
    pkcs8.fill(0);
  }
}

/** The staff public key of a record, imported. */
export function staffPublicKeyOf(record: StaffKeyRecord): Promise<CryptoKey> {
  return importPublicKey(record.staffPublicKey);
}
