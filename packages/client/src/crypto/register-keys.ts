/**
 * The register's keys: a P-256 key pair that personal fields are sealed to, and a random HMAC key
 * for the search index. At rest they exist only as a "bundle" sealed to each staff member's own
 * key (see staff-key-record.ts); in memory only while the register is unlocked.
 */
import { concatBytes, fromBase64Url, randomBytes, subtle, toBase64Url, toBytes } from './bytes.js';
import type { Bytes } from './bytes.js';
import { InvalidKeyRecordError, KeyMismatchError } from './errors.js';
import { generateSealingKeyPair, keyIdOf } from './seal.js';

/**
 * The unlocked register keys. The private and search keys are extractable because enrolling a new
 * staff member, escrow and rotation re-seal them; an unlocked register's memory is outside what
 * encryption at rest protects (docs/adr/0032).
 */
export interface RegisterKeys {
  /** Key id of the public key ({@link keyIdOf}); every value sealed to it carries this id. */
  readonly keyId: string;
  readonly publicKey: CryptoKey;
  /** base64url of the public point: what the store keeps in clear to seal while locked. */
  readonly publicKeyRaw: string;
  readonly privateKey: CryptoKey;
  /** HMAC-SHA256 key of the search index ({@link searchTokens}). */
  readonly searchKey: CryptoKey;
}

/** The public half the store keeps in clear, so data arriving while LOCKED can still be sealed. */
export interface RegisterPublicKey {
  readonly keyId: string;
  readonly publicKey: string;
}

const EC: EcKeyImportParams = { name: 'ECDH', namedCurve: 'P-256' };
const HMAC: HmacImportParams = { name: 'HMAC', hash: 'SHA-256', length: 256 };
const SEARCH_KEY_BYTES = 32;
const BUNDLE_VERSION = 1;

/**
 * New register keys (at pairing, and at each rotation).
 *
 * @example
 * ```ts
 * const keys = await generateRegisterKeys();
 * const record = await enrolStaff(keys, { staffId: managerId, pin: '482913' });
 * ```
 */
export async function generateRegisterKeys(): Promise<RegisterKeys> {
  const pair = await generateSealingKeyPair({ extractable: true });
  const searchKey = await subtle().importKey('raw', randomBytes(SEARCH_KEY_BYTES), HMAC, true, ['sign']);
  return { keyId: pair.keyId, publicKey: pair.publicKey, publicKeyRaw: pair.publicKeyRaw, privateKey: pair.privateKey, searchKey };
}

/** The storable public half of `keys`. */
export function registerPublicKey(keys: RegisterKeys): RegisterPublicKey {
  return { keyId: keys.keyId, publicKey: keys.publicKeyRaw };
}

/**
 * The bundle: `version[1] | pkcs8 length[2, big-endian] | pkcs8 | search key[32]`. The caller
 * seals it at once and should `fill(0)` it after: JavaScript cannot promise the bytes are gone,
 * but it need not keep extra copies lying around either.
 */
export async function encodeKeyBundle(keys: RegisterKeys): Promise<Bytes> {
  const pkcs8 = toBytes(await subtle().exportKey('pkcs8', keys.privateKey));
  const search = toBytes(await subtle().exportKey('raw', keys.searchKey));
  const head = new Uint8Array([BUNDLE_VERSION, pkcs8.length >> 8, pkcs8.length & 0xff]);
  const bundle = concatBytes(head, pkcs8, search);
  pkcs8.fill(0);
  search.fill(0);
  return bundle;
}

/**
 * Register keys from a bundle. The public key is recomputed from the private key, so a bundle can
 * only ever claim the key it really holds; with `expectedKeyId` a different key is a
 * {@link KeyMismatchError}.
 */
export async function decodeKeyBundle(bundle: Uint8Array, expectedKeyId?: string): Promise<RegisterKeys> {
  if (bundle.length < 3 || bundle[0] !== BUNDLE_VERSION) throw new InvalidKeyRecordError('unknown key bundle version');
  const pkcs8Length = ((bundle[1] ?? 0) << 8) | (bundle[2] ?? 0);
  if (bundle.length !== 3 + pkcs8Length + SEARCH_KEY_BYTES) throw new InvalidKeyRecordError('key bundle has the wrong length');
  const pkcs8 = toBytes(bundle.subarray(3, 3 + pkcs8Length));
  const search = toBytes(bundle.subarray(3 + pkcs8Length));
  try {
    let privateKey: CryptoKey;
    try {
      privateKey = await subtle().importKey('pkcs8', pkcs8, EC, true, ['deriveBits']);
    } catch {
      throw new InvalidKeyRecordError('key bundle holds no P-256 private key');
    }
    const publicKey = await publicKeyOf(privateKey);
    const publicKeyRaw = toBase64Url(toBytes(await subtle().exportKey('raw', publicKey)));
    const keyId = await keyIdOf(publicKeyRaw);
    if (expectedKeyId !== undefined && keyId !== expectedKeyId) throw new KeyMismatchError(expectedKeyId, keyId);
    const searchKey = await subtle().importKey('raw', search, HMAC, true, ['sign']);
    return { keyId, publicKey, publicKeyRaw, privateKey, searchKey };
  } finally {
    pkcs8.fill(0);
    search.fill(0);
  }
}

// WebCrypto has no "public key of this private key"; an extractable EC private key's JWK carries
// x and y, which is exactly the uncompressed point.
async function publicKeyOf(privateKey: CryptoKey): Promise<CryptoKey> {
  const jwk = await subtle().exportKey('jwk', privateKey);
  if (jwk.x === undefined || jwk.y === undefined) throw new InvalidKeyRecordError('private key without a public point');
  const point = concatBytes(new Uint8Array([0x04]), fromBase64Url(jwk.x), fromBase64Url(jwk.y));
  return subtle().importKey('raw', point, EC, true, []);
}
