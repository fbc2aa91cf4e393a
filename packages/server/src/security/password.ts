import { hash, verify } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';

// `Algorithm` is an ambient const enum, which verbatimModuleSyntax cannot read at run time.
const ARGON2ID = 2 as Algorithm.Argon2id;

/**
 * argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane): a login costs tens of
 * milliseconds, an offline guess just as much.
 */
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a back-office password into an argon2id PHC string (salt included). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** True when `password` matches `phc`; false (never a throw) for a malformed stored hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}
