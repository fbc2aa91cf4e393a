/**
 * Tenancy checks for back-office routes: every id a request names must belong to the session's
 * organisation. Another organisation's id answers 404 exactly like an id that does not exist, so
 * a request cannot learn that something exists elsewhere (403 would say so).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';

/**
 * Throws 404 `not_found` unless `storeId` is a store of `orgId`; returns the store's code.
 *
 * @example
 * ```ts
 * const storeCode = await requireOwnStore(trx, user.orgId, body.storeId);
 * ```
 */
export async function requireOwnStore(db: Kysely<Database> | Transaction<Database>, orgId: string, storeId: string): Promise<string> {
  const store = await db.selectFrom('stores').select('code').where('id', '=', storeId).where('org_id', '=', orgId).executeTakeFirst();
  if (!store) throw new ApiError(404, 'not_found', 'no such store');
  return store.code;
}
