/**
 * The `k1` sealed envelope on the server (node:crypto's WebCrypto): the same format as the
 * register's `packages/client/src/crypto/seal.ts`, which is its definition. The server cannot
 * import the client, so the few lines it needs live here and `k1.test.ts` checks them against an
 * envelope sealed by the client code (and the register's real-server tests check the other way).
 *
 * ```
 * "k1." base64url( kid[8] | eph[65] | iv[12] | AES-256-GCM(key, iv, pad(plaintext), ad)[n*16 + 16] )
 * kid = SHA-256("kassa/key-id/v1" | recipient point)[0..8]
 * key = HKDF-SHA256(ECDH(eph, recipient), salt = kid | eph, info = "kassa/seal/k1/aes-256-gcm")
 * ad  = "k1" | kid | eph | iv | UTF-8(aad);  pad = ISO/IEC 7816-4 to 16 bytes
 * ```
 */
import { webcrypto } from 'node:crypto';

const subtle = webcrypto.subtle;
const PREFIX = 'k1.';
const KID_BYTES = 8;
const POINT_BYTES = 65;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PAD_BLOCK = 16;
const HEADER_BYTES = KID_BYTES + POINT_BYTES + IV_BYTES;
const EC = { name: 'ECDH', namedCurve: 'P-256' } as const;
const enc = new TextEncoder();

/** Why a value did not open. */
export class SealedValueError extends Error {
  constructor(readonly reason: 'malformed' | 'other_key' | 'authentication_failed') {
    super(`sealed value does not open: ${reason}`);
    this.name = 'SealedValueError';
  }
}

/** An ECDH P-256 key pair with its public point (base64url) and key id. */
export interface ServerKeyPair {
  readonly keyId: string;
  readonly publicKey: string;
  readonly privateKey: webcrypto.CryptoKey;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));
const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** The key id of a public point (base64url): 8 bytes of a labelled SHA-256. */
export async function keyIdOf(publicKey: string): Promise<string> {
  const digest = new Uint8Array(await subtle.digest('SHA-256', concat(enc.encode('kassa/key-id/v1'), unb64(publicKey))));
  return b64(digest.subarray(0, KID_BYTES));
}

/** A new key pair; `pkcs8` is the private key to store. */
export async function generateServerKeyPair(): Promise<ServerKeyPair & { readonly pkcs8: string }> {
  const pair = await subtle.generateKey(EC, true, ['deriveBits']);
  const publicKey = b64(new Uint8Array(await subtle.exportKey('raw', pair.publicKey)));
  const pkcs8 = b64(new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey)));
  return { keyId: await keyIdOf(publicKey), publicKey, privateKey: pair.privateKey, pkcs8 };
}

/** The key pair of a stored private key. */
export async function importServerKeyPair(stored: { keyId: string; publicKey: string; pkcs8: string }): Promise<ServerKeyPair> {
  const privateKey = await subtle.importKey('pkcs8', unb64(stored.pkcs8), EC, false, ['deriveBits']);
  return { keyId: stored.keyId, publicKey: stored.publicKey, privateKey };
}

/** True when `value` has the shape of a k1 envelope (not whether it opens). */
export function isSealed(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith(PREFIX) || !/^[A-Za-z0-9_-]+$/.test(value.slice(PREFIX.length))) return false;
  const n = Math.floor((value.length - PREFIX.length) * 0.75);
  return n >= HEADER_BYTES + PAD_BLOCK + TAG_BYTES;
}

/**
 * The AAD of a personal field: the same JSON array as the client's `fieldAad(table, column, rowId)`.
 * Ops from a register use table `customer.upserted` (column = the field) and `tenders` (column
 * `approvalCode`/`providerRef`, row = the tender id).
 */
export function fieldAad(table: string, column: string, rowId: string): string {
  return JSON.stringify(['kassa.field.v1', table, column, rowId]);
}

/** AAD of a register key bundle escrowed to the server (client's `escrowAad`). */
export function escrowAad(deviceId: string, registerKeyId: string): string {
  return JSON.stringify(['kassa.escrow.v1', deviceId, registerKeyId]);
}

/** AAD of the register key bundle sealed to a staff member (client's `registerKeysAad`). */
export function registerKeysAad(staffId: string, registerKeyId: string): string {
  return JSON.stringify(['kassa.register-keys.v1', staffId, registerKeyId]);
}

async function aesKey(priv: webcrypto.CryptoKey, pub: webcrypto.CryptoKey, kid: Uint8Array, eph: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<webcrypto.CryptoKey> {
  const shared = await subtle.deriveBits({ name: 'ECDH', public: pub }, priv, 256);
  const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: concat(kid, eph), info: enc.encode('kassa/seal/k1/aes-256-gcm') },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

/** Opens a value sealed to `key` with `aad`; {@link SealedValueError} when it does not. */
export async function openSealedBytes(key: ServerKeyPair, sealed: string, aad: string): Promise<Uint8Array> {
  if (!isSealed(sealed)) throw new SealedValueError('malformed');
  const bytes = unb64(sealed.slice(PREFIX.length));
  if ((bytes.length - HEADER_BYTES - TAG_BYTES) % PAD_BLOCK !== 0) throw new SealedValueError('malformed');
  const kid = bytes.slice(0, KID_BYTES);
  if (b64(kid) !== key.keyId) throw new SealedValueError('other_key');
  const eph = bytes.slice(KID_BYTES, KID_BYTES + POINT_BYTES);
  let ephKey: webcrypto.CryptoKey;
  try {
    ephKey = await subtle.importKey('raw', eph, EC, false, []);
  } catch {
    throw new SealedValueError('malformed');
  }
  const k = await aesKey(key.privateKey, ephKey, kid, eph, 'decrypt');
  let padded: Uint8Array;
  try {
    padded = new Uint8Array(
      await subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.slice(KID_BYTES + POINT_BYTES, HEADER_BYTES), additionalData: concat(enc.encode('k1'), bytes.slice(0, HEADER_BYTES), enc.encode(aad)), tagLength: 128 },
        k,
        bytes.slice(HEADER_BYTES),
      ),
    );
  } catch {
    throw new SealedValueError('authentication_failed');
  }
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) throw new SealedValueError('malformed');
  return padded.slice(0, end);
}

/** Opens a value sealed as UTF-8 text. */
export async function openSealed(key: ServerKeyPair, sealed: string, aad: string): Promise<string> {
  const bytes = await openSealedBytes(key, sealed, aad);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SealedValueError('malformed');
  }
}

/** Seals `plaintext` to a public point (base64url) with a fresh ephemeral key. */
export async function sealTo(publicKey: string, plaintext: Uint8Array | string, aad: string): Promise<string> {
  let recipient: webcrypto.CryptoKey;
  try {
    recipient = await subtle.importKey('raw', unb64(publicKey), EC, false, []);
  } catch {
    throw new SealedValueError('malformed');
  }
  const kid = unb64(await keyIdOf(publicKey));
  const eph = await subtle.generateKey(EC, true, ['deriveBits']);
  const ephRaw = new Uint8Array(await subtle.exportKey('raw', eph.publicKey));
  const k = await aesKey(eph.privateKey, recipient, kid, ephRaw, 'encrypt');
  const iv = webcrypto.getRandomValues(new Uint8Array(IV_BYTES));
  const body = typeof plaintext === 'string' ? enc.encode(plaintext) : plaintext;
  const padded = new Uint8Array(Math.ceil((body.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(body);
  padded[body.length] = 0x80;
  const header = concat(kid, ephRaw, iv);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: concat(enc.encode('k1'), header, enc.encode(aad)), tagLength: 128 }, k, padded));
  padded.fill(0);
  return PREFIX + b64(concat(header, ct));
}
