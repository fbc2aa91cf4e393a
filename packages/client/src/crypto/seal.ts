/**
 * Sealing: public-key encryption of one value (ECIES-style, on WebCrypto only).
 *
 * A value is sealed to a P-256 public key with an ephemeral ECDH key, HKDF-SHA256 and AES-256-GCM,
 * so anyone holding the public key can seal (a LOCKED register storing pulled customers, the
 * register sealing outgoing personal data to the server) and only the private key opens.
 *
 * Envelope `k1` (one string, safe in SQL text and JSON):
 *
 * ```
 * "k1." base64url( kid[8] | eph[65] | iv[12] | AES-256-GCM(key, iv, pad(plaintext), ad)[n*16 + 16] )
 *
 * kid  = SHA-256("kassa/key-id/v1" | recipientRaw)[0..8]   which key it is sealed to (public)
 * eph  = the ephemeral ECDH public key, uncompressed point (0x04 | x | y)
 * key  = HKDF-SHA256(ikm = ECDH(eph, recipient).x, salt = kid | eph, info = "kassa/seal/k1/aes-256-gcm")
 * ad   = "k1" | kid | eph | iv | UTF-8(aad)                   binds the header and the caller's AAD
 * pad  = plaintext | 0x80 | 0x00*  to a multiple of 16 bytes   (ISO/IEC 7816-4): length leaks only
 *                                                               to 16-byte buckets
 * ```
 *
 * The ephemeral key is per {@link Sealer} (a batch), not per value: one ECDH + HKDF costs about a
 * millisecond in Node, AES-GCM alone about 0.07 ms, and a bootstrap seals tens of thousands of
 * fields. Every envelope still carries its own `eph`, so each value opens on its own; values from
 * one batch are linkable by their shared `eph` (they are already linkable by the rows they sit
 * in). A fresh 96-bit random IV per value keeps AES-GCM far inside its bounds. docs/adr/0032.
 */
import { InvalidBase64UrlError, concatBytes, fromBase64Url, fromUtf8, randomBytes, subtle, toBase64Url, toBytes, utf8 } from './bytes.js';
import type { Bytes } from './bytes.js';
import { SealOpenError } from './errors.js';

/** The version prefix of envelopes this code writes. */
export const SEAL_VERSION = 'k1';

const PREFIX = `${SEAL_VERSION}.`;
const KID_BYTES = 8;
const POINT_BYTES = 65;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PAD_BLOCK = 16;
const HEADER_BYTES = KID_BYTES + POINT_BYTES + IV_BYTES;
const MIN_ENVELOPE_BYTES = HEADER_BYTES + PAD_BLOCK + TAG_BYTES;
const HKDF_INFO = utf8('kassa/seal/k1/aes-256-gcm');
const KEY_ID_LABEL = utf8('kassa/key-id/v1');
const EC: EcKeyImportParams = { name: 'ECDH', namedCurve: 'P-256' };
/** Default number of values sealed under one ephemeral key before a {@link Sealer} rolls it. */
export const DEFAULT_VALUES_PER_EPHEMERAL_KEY = 1024;

/** An ECDH P-256 key pair for sealing, with its public parts in storable form. */
export interface SealingKeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
  /** base64url of the uncompressed public point (65 bytes): store it, send it, seal to it. */
  readonly publicKeyRaw: string;
  /** {@link keyIdOf} the public key: names the key inside every envelope sealed to it. */
  readonly keyId: string;
}

/**
 * A new P-256 key pair. `extractable` (default `false`) must be `true` for a private key that will
 * be wrapped or escrowed (a register's or a staff member's); the public key is always exportable.
 *
 * @example
 * ```ts
 * const server = await generateSealingKeyPair();
 * const sealed = await seal(server.publicKey, 'Anna Becker', fieldAad('customers', 'name', id));
 * ```
 */
export async function generateSealingKeyPair(options: { extractable?: boolean } = {}): Promise<SealingKeyPair> {
  const pair = await subtle().generateKey(EC, options.extractable ?? false, ['deriveBits']);
  const raw = toBytes(await subtle().exportKey('raw', pair.publicKey));
  return { publicKey: pair.publicKey, privateKey: pair.privateKey, publicKeyRaw: toBase64Url(raw), keyId: await keyIdOfRaw(raw) };
}

/** base64url of the uncompressed point of an ECDH P-256 public key. */
export async function exportPublicKey(publicKey: CryptoKey): Promise<string> {
  return toBase64Url(toBytes(await subtle().exportKey('raw', publicKey)));
}

/**
 * Imports a public key from {@link exportPublicKey}'s form. WebCrypto checks the point is on the
 * curve, which keeps invalid-curve points out of ECDH.
 */
export async function importPublicKey(publicKeyRaw: string): Promise<CryptoKey> {
  return subtle().importKey('raw', fromBase64Url(publicKeyRaw), EC, true, []);
}

const keyIds = new WeakMap<CryptoKey, Promise<string>>();

/**
 * The key id of a public key: 8 bytes of a labelled SHA-256 of its point, base64url (11 chars).
 * Envelopes carry it so a store can tell which key sealed a value (after a rotation, a straggler
 * sealed to the old key) and a server holding several keys picks the right one.
 */
export function keyIdOf(publicKey: CryptoKey | string): Promise<string> {
  if (typeof publicKey === 'string') return keyIdOfRaw(fromBase64Url(publicKey));
  let id = keyIds.get(publicKey);
  if (id === undefined) {
    id = subtle()
      .exportKey('raw', publicKey)
      .then((raw) => keyIdOfRaw(toBytes(raw)));
    keyIds.set(publicKey, id);
  }
  return id;
}

async function keyIdOfRaw(raw: Bytes): Promise<string> {
  const digest = new Uint8Array(await subtle().digest('SHA-256', concatBytes(KEY_ID_LABEL, raw)));
  return toBase64Url(digest.subarray(0, KID_BYTES));
}

/**
 * The associated data that binds a sealed field to its place: the same ciphertext moved to another
 * table, column or row no longer opens.
 *
 * @example
 * ```ts
 * await seal(pub, 'anna@example.org', fieldAad('customers', 'email', customerId));
 * ```
 */
export function fieldAad(table: string, column: string, rowId: string): string {
  // JSON of an array: unambiguous whatever the parts contain (no delimiter can be smuggled in).
  return JSON.stringify(['kassa.field.v1', table, column, rowId]);
}

/** Seals many values to one public key, sharing an ephemeral key per batch (see the file comment). */
export interface Sealer {
  /** Seals `plaintext` (a string is sealed as UTF-8) bound to `aad` (default: empty). */
  seal(plaintext: string | Uint8Array, aad?: string): Promise<string>;
}

interface Ephemeral {
  readonly header: Bytes; // kid | eph
  readonly kid: Bytes;
  readonly key: CryptoKey;
  used: number;
}

/**
 * A {@link Sealer} for `publicKey`. It rolls to a fresh ephemeral key after
 * `valuesPerEphemeralKey` values (default {@link DEFAULT_VALUES_PER_EPHEMERAL_KEY}).
 *
 * @example
 * ```ts
 * const sealer = createSealer(registerPublicKey);
 * for (const c of pulledCustomers) row.name = await sealer.seal(c.name, fieldAad('customers', 'name', c.id));
 * ```
 */
export function createSealer(publicKey: CryptoKey, options: { valuesPerEphemeralKey?: number } = {}): Sealer {
  const limit = options.valuesPerEphemeralKey ?? DEFAULT_VALUES_PER_EPHEMERAL_KEY;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('valuesPerEphemeralKey must be a positive integer');
  let current: Promise<Ephemeral> | undefined;

  const fresh = async (): Promise<Ephemeral> => {
    const kid = fromBase64Url(await keyIdOf(publicKey));
    const eph = await subtle().generateKey(EC, true, ['deriveBits']);
    const ephRaw = toBytes(await subtle().exportKey('raw', eph.publicKey));
    const key = await deriveAesKey(eph.privateKey, publicKey, kid, ephRaw, ['encrypt']);
    return { header: concatBytes(kid, ephRaw), kid, key, used: 0 };
  };

  // Concurrent seal() calls share one pending ephemeral; `used` is counted synchronously after the
  // await, so no more than `limit` values ever use one ephemeral key.
  const take = async (): Promise<Ephemeral> => {
    for (;;) {
      const pending = (current ??= fresh());
      let state: Ephemeral;
      try {
        state = await pending;
      } catch (e) {
        if (current === pending) current = undefined; // let the next call try again
        throw e;
      }
      if (state.used < limit) {
        state.used += 1;
        return state;
      }
      if (current === pending) current = undefined;
    }
  };

  return {
    async seal(plaintext, aad = '') {
      const state = await take();
      const iv = randomBytes(IV_BYTES);
      const header = concatBytes(state.header, iv);
      const body = typeof plaintext === 'string' ? utf8(plaintext) : toBytes(plaintext);
      const ciphertext = await subtle().encrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(header, aad), tagLength: TAG_BYTES * 8 },
        state.key,
        pad(body),
      );
      return PREFIX + toBase64Url(concatBytes(header, new Uint8Array(ciphertext)));
    },
  };
}

/**
 * Seals one value to `publicKey` with its own ephemeral key. For many values use
 * {@link createSealer}, which is about ten times cheaper per value.
 *
 * @example
 * ```ts
 * const sealed = await seal(serverPublicKey, JSON.stringify(customer), 'kassa.export.v1');
 * sealed.startsWith('k1.') // true
 * ```
 */
export function seal(publicKey: CryptoKey, plaintext: string | Uint8Array, aad?: string): Promise<string> {
  return createSealer(publicKey, { valuesPerEphemeralKey: 1 }).seal(plaintext, aad);
}

/** Opens values sealed to one private key, caching the derived key per ephemeral key. */
export interface Opener {
  /** The UTF-8 plaintext of `sealed`; {@link SealOpenError} if it does not open with this key and `aad`. */
  open(sealed: string, aad?: string): Promise<string>;
  /** Like {@link Opener.open}, for values sealed as bytes. */
  openBytes(sealed: string, aad?: string): Promise<Bytes>;
}

const OPENER_CACHE_SIZE = 256;

/**
 * An {@link Opener} for `privateKey`. With `expectedKeyId` (the key id of its public half), a
 * value sealed to another key fails fast with reason `other_key` instead of `authentication_failed`.
 *
 * @example
 * ```ts
 * const opener = createOpener(keys.privateKey, keys.keyId);
 * const name = await opener.open(row.name, fieldAad('customers', 'name', row.id));
 * ```
 */
export function createOpener(privateKey: CryptoKey, expectedKeyId?: string): Opener {
  const keys = new Map<string, Promise<CryptoKey>>();

  const keyFor = (kid: Bytes, ephRaw: Bytes): Promise<CryptoKey> => {
    const cacheKey = toBase64Url(concatBytes(kid, ephRaw));
    let key = keys.get(cacheKey);
    if (key === undefined) {
      key = (async () => {
        let eph: CryptoKey;
        try {
          eph = await subtle().importKey('raw', ephRaw, EC, false, []);
        } catch {
          throw new SealOpenError('malformed'); // not a point on P-256
        }
        return deriveAesKey(privateKey, eph, kid, ephRaw, ['decrypt']);
      })();
      key.catch(() => keys.delete(cacheKey));
      if (keys.size >= OPENER_CACHE_SIZE) {
        const oldest = keys.keys().next();
        if (oldest.done !== true) keys.delete(oldest.value);
      }
      keys.set(cacheKey, key);
    }
    return key;
  };

  const openBytes = async (sealed: string, aad = ''): Promise<Bytes> => {
    const bytes = parseEnvelope(sealed);
    const kid = bytes.slice(0, KID_BYTES);
    if (expectedKeyId !== undefined && toBase64Url(kid) !== expectedKeyId) throw new SealOpenError('other_key');
    const ephRaw = bytes.slice(KID_BYTES, KID_BYTES + POINT_BYTES);
    const header = bytes.slice(0, HEADER_BYTES);
    const iv = bytes.slice(KID_BYTES + POINT_BYTES, HEADER_BYTES);
    const key = await keyFor(kid, ephRaw);
    let padded: Bytes;
    try {
      padded = new Uint8Array(
        await subtle().decrypt(
          { name: 'AES-GCM', iv, additionalData: additionalData(header, aad), tagLength: TAG_BYTES * 8 },
          key,
          bytes.slice(HEADER_BYTES),
        ),
      );
    } catch {
      throw new SealOpenError('authentication_failed');
    }
    return unpad(padded);
  };

  return {
    openBytes,
    async open(sealed, aad) {
      const bytes = await openBytes(sealed, aad);
      try {
        return fromUtf8(bytes);
      } catch {
        throw new SealOpenError('malformed'); // authentic, but sealed as bytes, not text
      }
    },
  };
}

/**
 * Opens one value sealed to `privateKey`'s public half, bound to `aad` (default: empty).
 * Throws {@link SealOpenError}: wrong key, wrong AAD and tampered bytes all fail; nothing partial
 * is ever returned.
 *
 * @example
 * ```ts
 * await open(keys.privateKey, row.phone, fieldAad('customers', 'phone', row.id)) // '+49 170 1234567'
 * ```
 */
export function open(privateKey: CryptoKey, sealed: string, aad?: string): Promise<string> {
  return createOpener(privateKey).open(sealed, aad);
}

/** Like {@link open}, for values sealed as bytes. */
export function openBytes(privateKey: CryptoKey, sealed: string, aad?: string): Promise<Bytes> {
  return createOpener(privateKey).openBytes(sealed, aad);
}

/**
 * The key id a sealed value is sealed to, read without any key (it is public); throws
 * {@link SealOpenError} (`malformed`, `unsupported_version`) for anything that is not an envelope.
 */
export function sealedKeyId(sealed: string): string {
  return toBase64Url(parseEnvelope(sealed).subarray(0, KID_BYTES));
}

/** True when `value` has the shape of a sealed envelope this code can read (not whether it opens). */
export function isSealed(value: string): boolean {
  try {
    parseEnvelope(value);
    return true;
  } catch {
    return false;
  }
}

function parseEnvelope(sealed: string): Bytes {
  if (!sealed.startsWith(PREFIX)) {
    throw new SealOpenError(/^k\d+\./.test(sealed) ? 'unsupported_version' : 'malformed');
  }
  let bytes: Bytes;
  try {
    bytes = fromBase64Url(sealed.slice(PREFIX.length));
  } catch (e) {
    if (e instanceof InvalidBase64UrlError) throw new SealOpenError('malformed');
    throw e;
  }
  // The padded body is a whole number of blocks, so anything else was cut or padded by someone else.
  const body = bytes.length - HEADER_BYTES - TAG_BYTES;
  if (bytes.length < MIN_ENVELOPE_BYTES || body % PAD_BLOCK !== 0) throw new SealOpenError('malformed');
  return bytes;
}

async function deriveAesKey(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  kid: Bytes,
  ephRaw: Bytes,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const shared = await subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const ikm = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: concatBytes(kid, ephRaw), info: HKDF_INFO },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    usages,
  );
}

function additionalData(header: Bytes, aad: string): Bytes {
  return concatBytes(utf8(SEAL_VERSION), header, utf8(aad));
}

function pad(body: Bytes): Bytes {
  const out = new Uint8Array(Math.ceil((body.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  out.set(body);
  out[body.length] = 0x80;
  return out;
}

function unpad(padded: Bytes): Bytes {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  // Authentic but badly padded can only come from a broken sealer; say so rather than guess.
  if (end < 0 || padded[end] !== 0x80) throw new SealOpenError('malformed');
  return padded.slice(0, end);
}
