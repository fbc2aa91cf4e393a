/**
 * Encryption at rest for the register (DESIGN §4, docs/adr/0032): sealing to the register's (or the
 * server's) public key, keys wrapped by staff PINs, enrolment, PIN change, rotation on removal,
 * a keyed search index, and PIN attempt limiting. WebCrypto only; the same code in browsers and Node.
 */
export { WebCryptoUnavailableError, InvalidBase64UrlError, toBase64Url, fromBase64Url } from './bytes.js';
export type { Bytes } from './bytes.js';
export * from './errors.js';
export * from './seal.js';
export * from './register-keys.js';
export {
  MIN_PBKDF2_ITERATIONS,
  MAX_PBKDF2_ITERATIONS,
  PIN_KDF_NAME,
  assertKdfStrength,
  checkPinVerifier,
  minimumIterations,
  normalisePin,
} from './pin-kdf.js';
export type { KdfOptions, PinKdfParams, PinVerifier } from './pin-kdf.js';
export {
  StaffKeyRecordSchema,
  parseStaffKeyRecord,
  registerKeysAad,
  staffKeyAad,
  escrowAad,
} from './staff-key-record.js';
export type { StaffKeyRecord } from './staff-key-record.js';
export { unlock } from './unlock.js';
export * from './enrolment.js';
export * from './rotate.js';
export * from './search-tokens.js';
export { foldText, normalisePhone, normaliseEmail, MIN_PREFIX, MAX_PREFIX, MAX_NAME_WORDS, MIN_PHONE_SUFFIX } from './search-normalise.js';
export * from './pin-attempts.js';
