import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The KDF name stored with each verifier, so the register knows how to check it. */
export const PIN_KDF = 'pbkdf2-sha256';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256; DESIGN §4 asks for at least this. */
export const PIN_ITERATIONS = 600_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * A salted, slow PIN verifier. Registers check a typed PIN against it offline with WebCrypto
 * (`deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256)`), so it uses only
 * what WebCrypto offers. The PIN itself is never stored.
 */
export interface PinVerifier {
  readonly kdf: typeof PIN_KDF;
  readonly iterations: number;
  /** base64 */
  readonly salt: string;
  /** base64 of the 32-byte derived key */
  readonly hash: string;
}

/** A PIN is 4 to 6 digits. */
export function isValidPin(pin: string): boolean {
  return /^\d{4,6}$/.test(pin);
}

/**
 * Derives a new verifier for `pin` with a fresh random salt.
 *
 * @example
 * ```ts
 * const v = await makePinVerifier('4821');
 * await verifyPin('4821', v); // true
 * ```
 */
export async function makePinVerifier(pin: string, iterations = PIN_ITERATIONS): Promise<PinVerifier> {
  if (!isValidPin(pin)) throw new RangeError('a PIN is 4 to 6 digits');
  if (iterations < PIN_ITERATIONS) throw new RangeError(`PIN iterations must be at least ${PIN_ITERATIONS}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await pbkdf2Async(pin, salt, iterations, KEY_BYTES, 'sha256');
  return { kdf: PIN_KDF, iterations, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** True when `pin` matches the verifier; compares in constant time. */
export async function verifyPin(pin: string, verifier: PinVerifier): Promise<boolean> {
  const expected = Buffer.from(verifier.hash, 'base64');
  const key = await pbkdf2Async(pin, Buffer.from(verifier.salt, 'base64'), verifier.iterations, expected.length, 'sha256');
  return timingSafeEqual(key, expected);
}
