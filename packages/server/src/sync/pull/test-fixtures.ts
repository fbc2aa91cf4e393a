/**
 * Test-only: organisations, stores and paired registers written straight into the database, so
 * the sync read routes can be tested without the pairing flow.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { randomToken, sha256Hex } from '../../security/secrets.js';

/** A store with one paired register. */
export interface TestStore {
  readonly id: string;
  readonly code: string;
  readonly registerId: string;
  /** The register's device token: `Authorization: Bearer <token>`. */
  readonly token: string;
}

/** An organisation with its stores. */
export interface TestTenant {
  readonly orgId: string;
  readonly stores: readonly TestStore[];
}

const SETTINGS = {
  currency: 'EUR',
  locale: 'de-DE',
  taxMode: 'inclusive',
  cashRoundingMinor: null,
  receiptHeader: ['Test'],
  variableMeasureLayouts: [],
};

/** Creates an organisation with `storeCount` stores, each with one paired register. */
export async function createTenant(db: Kysely<Database>, name: string, storeCount = 2, now = 0): Promise<TestTenant> {
  const orgId = randomUUID();
  await db.insertInto('organisations').values({ id: orgId, name, created_at: now }).execute();
  const stores: TestStore[] = [];
  for (let i = 1; i <= storeCount; i++) {
    const id = randomUUID();
    const code = `S0${i}`;
    await db
      .insertInto('stores')
      .values({ id, org_id: orgId, code, name: `${name} ${code}`, currency: 'EUR', locale: 'de-DE', settings_json: JSON.stringify(SETTINGS), created_at: now, updated_at: now })
      .execute();
    const registerId = randomUUID();
    const token = randomToken();
    await db
      .insertInto('registers')
      .values({ id: registerId, org_id: orgId, store_id: id, code: 'R01', name: 'Till 1', token_hash: sha256Hex(token), paired_at: now, created_at: now, updated_at: now })
      .execute();
    stores.push({ id, code, registerId, token });
  }
  return { orgId, stores };
}

/** The Authorization header of a store's register. */
export const bearer = (store: TestStore): { authorization: string } => ({ authorization: `Bearer ${store.token}` });
