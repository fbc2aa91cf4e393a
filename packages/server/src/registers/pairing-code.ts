/**
 * One-time pairing codes (DESIGN §4): a manager creates one in the back office and types it on the
 * new register. Short enough to type, random enough not to guess in its 10 minutes behind the
 * rate limits, and stored only as its SHA-256.
 */
import { randomInt } from 'node:crypto';
import { sha256Hex } from '../security/secrets.js';

/**
 * Upper-case letters and digits without look-alikes (no 0/O, 1/I/L): 31 symbols. 8 of them are
 * ≈ 39.6 bits — at 10 guesses a minute per address for 10 minutes, a guess lands with odds below
 * one in 10^9 per address.
 */
export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/** Characters in a pairing code. */
export const PAIRING_CODE_LENGTH = 8;
/** How long a pairing code can be used. */
export const PAIRING_CODE_TTL_MS = 10 * 60_000;

/** A fresh code from the system's CSPRNG, e.g. `K7MX3QPA`. */
export function generatePairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  return code;
}

/**
 * The canonical form of a typed code: upper case, spaces and dashes removed (people type
 * `k7mx-3qpa`). Undefined when it cannot be a code at all.
 */
export function normalizePairingCode(typed: string): string | undefined {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== PAIRING_CODE_LENGTH) return undefined;
  for (const ch of code) if (!PAIRING_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

/** What the database keeps of a code. */
export function hashPairingCode(code: string): string {
  return sha256Hex(`pairing:${code}`);
}
