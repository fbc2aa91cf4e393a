/**
 * Keys from PINs: PBKDF2-HMAC-SHA256 in WebCrypto, at least 600,000 iterations (DESIGN §4, OWASP's
 * 2023 figure). A 4-digit PIN has only 10^4 values, so this cost per guess is the whole of the
 * defence against an offline search of a copied profile; docs/adr/0032 computes what it buys.
 */
import { constantTimeEqual, randomBytes, subtle, toBase64Url, fromBase64Url, utf8 } from './bytes.js';
import { InvalidKeyRecordError, InvalidPinError, WeakKdfError } from './errors.js';

/** The fewest PBKDF2 iterations production code accepts, when wrapping and when unlocking. */
export const MIN_PBKDF2_ITERATIONS = 600_000;
/** Refused above this: a record altered to ask for 10^12 iterations must not hang the till. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** The KDF name stored in every staff key record. */
export const PIN_KDF_NAME = 'PBKDF2-SHA256';
const SALT_BYTES = 16;
const MIN_PIN_LENGTH = 4;
const MAX_PIN_LENGTH = 64;

/** How a PIN was stretched: stored next to what it wraps. */
export interface PinKdfParams {
  readonly name: typeof PIN_KDF_NAME;
  readonly iterations: number;
  /** base64url of 16 random bytes, fresh for every wrapping (per staff member, per PIN change). */
  readonly salt: string;
}

/** Options of every function that stretches a PIN. */
export interface KdfOptions {
  /** Iterations for new wrappings; default and minimum {@link MIN_PBKDF2_ITERATIONS}. */
  readonly iterations?: number;
  /**
   * TEST ONLY. Lowers the minimum to this count (and uses it for new wrappings) so a test suite
   * can unlock hundreds of times in seconds. Production code never sets it: a test scans the
   * client's sources and fails if any file other than a test mentions it.
   */
  readonly unsafeTestOnlyIterations?: number;
}

/** The minimum iteration count in force under `options`. */
export function minimumIterations(options: KdfOptions = {}): number {
  return options.unsafeTestOnlyIterations ?? MIN_PBKDF2_ITERATIONS;
}

/**
 * Throws {@link WeakKdfError} below the minimum and {@link InvalidKeyRecordError} for a count that
 * is not a positive integer or is above {@link MAX_PBKDF2_ITERATIONS}.
 */
export function assertKdfStrength(iterations: number, options: KdfOptions = {}): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new InvalidKeyRecordError(`PBKDF2 iteration count ${iterations} is out of range`);
  }
  const minimum = minimumIterations(options);
  if (iterations < minimum) throw new WeakKdfError(iterations, minimum);
}

/** Fresh parameters (new salt) for wrapping under a PIN. */
export function newKdfParams(options: KdfOptions = {}): PinKdfParams {
  const iterations = options.iterations ?? options.unsafeTestOnlyIterations ?? MIN_PBKDF2_ITERATIONS;
  assertKdfStrength(iterations, options);
  return { name: PIN_KDF_NAME, iterations, salt: toBase64Url(randomBytes(SALT_BYTES)) };
}

/**
 * The PIN as it is stretched: NFKC-normalised (so full-width digits from an on-screen keyboard are
 * the digits they look like), 4 to 64 characters. Which PINs a store allows (digits only, length)
 * is the store's policy; this is the floor.
 */
export function normalisePin(pin: string): string {
  const normalised = pin.normalize('NFKC');
  const length = [...normalised].length;
  if (length < MIN_PIN_LENGTH) throw new InvalidPinError(`at least ${MIN_PIN_LENGTH} characters`);
  if (length > MAX_PIN_LENGTH) throw new InvalidPinError(`at most ${MAX_PIN_LENGTH} characters`);
  return normalised;
}

/**
 * The key-encryption key for `pin` under `params`: AES-256-GCM, not extractable. Checks the
 * iteration count first ({@link assertKdfStrength}).
 */
export async function deriveKek(pin: string, params: PinKdfParams, options: KdfOptions = {}): Promise<CryptoKey> {
  assertKdfStrength(params.iterations, options);
  const base = await subtle().importKey('raw', utf8(normalisePin(pin)), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: fromBase64Url(params.salt), iterations: params.iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * The server's PIN verifier as a register receives it with the staff reference data
 * (`pbkdf2-sha256`, standard base64). Checking against it tells the register a PIN is right
 * before it asks the server for its keys on a staff member's first unlock; it is never a key.
 */
export interface PinVerifier {
  readonly kdf: 'pbkdf2-sha256';
  readonly iterations: number;
  /** standard base64 */
  readonly salt: string;
  /** standard base64 of the derived bytes */
  readonly hash: string;
}

/**
 * True when `pin` matches `verifier` (constant-time comparison). Refuses verifiers below the
 * minimum iteration count like everything else here.
 *
 * @example
 * ```ts
 * if (await checkPinVerifier(typedPin, staff.pinVerifier)) await enrolStaffViaServer({ ... });
 * ```
 */
export async function checkPinVerifier(pin: string, verifier: PinVerifier, options: KdfOptions = {}): Promise<boolean> {
  assertKdfStrength(verifier.iterations, options);
  const expected = fromStandardBase64(verifier.hash);
  let normalised: string;
  try {
    normalised = normalisePin(pin);
  } catch (e) {
    if (e instanceof InvalidPinError) return false; // no verifier holds a PIN that short or long
    throw e;
  }
  const base = await subtle().importKey('raw', utf8(normalised), 'PBKDF2', false, ['deriveBits']);
  const derived = new Uint8Array(
    await subtle().deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: fromStandardBase64(verifier.salt), iterations: verifier.iterations },
      base,
      expected.length * 8,
    ),
  );
  return constantTimeEqual(derived, expected);
}

function fromStandardBase64(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new InvalidKeyRecordError('PIN verifier is not base64');
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (out.length === 0) throw new InvalidKeyRecordError('PIN verifier is empty');
  return out;
}
