/**
 * Email + password check for back-office users, shared by login and "a manager signs in on the
 * register" pairing.
 */
import type { Kysely } from 'kysely';
import type { Database, UsersTable } from '../db/schema.js';
import { hashPassword, verifyPassword } from '../security/password.js';
import { randomToken } from '../security/secrets.js';

/** A user row without its password hash. */
export type UserRecord = Omit<UsersTable, 'password_hash'>;

/** What {@link checkCredentials} found. */
export interface CredentialCheck {
  /** The user the password belongs to, or undefined: wrong password or unknown email. */
  readonly user: UserRecord | undefined;
  /** Accounts with that email whose password did not match (for the audit log of failures). */
  readonly failed: readonly UserRecord[];
}

let dummyHash: Promise<string> | undefined;

/**
 * An argon2id hash of a random password, made once per process. An unknown email is verified
 * against it so that it costs the same time as a wrong password: answers and timing alike say
 * only "invalid credentials", never whether the email has an account.
 */
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomToken());
  return dummyHash;
}

/** Lower-cases and trims an email the way it is stored. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Checks an email and password. Emails are unique per organisation, not globally, so every account
 * with that email is tried (oldest first) and the first whose password matches wins.
 *
 * @example
 * ```ts
 * const { user } = await checkCredentials(db, 'owner@demo.kassa', password);
 * if (!user) throw new ApiError(401, 'invalid_credentials', 'wrong email or password');
 * ```
 */
export async function checkCredentials(db: Kysely<Database>, email: string, password: string): Promise<CredentialCheck> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', normalizeEmail(email))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (rows.length === 0) {
    await verifyPassword(await dummy(), password);
    return { user: undefined, failed: [] };
  }
  const failed: UserRecord[] = [];
  for (const { password_hash, ...user } of rows) {
    if (await verifyPassword(password_hash, password)) return { user, failed };
    failed.push(user);
  }
  return { user: undefined, failed };
}
