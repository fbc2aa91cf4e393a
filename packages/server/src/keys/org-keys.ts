/**
 * The organisation's key pair for personal data (docs/adr/0032): registers seal personal fields of
 * their ops and their key-bundle escrow to its public key; the server opens them with the private
 * key, stored in `org_keys` (migration 0008). Made on first use, once per organisation even when
 * two processes race (insert-or-ignore, then read).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { generateServerKeyPair, importServerKeyPair, type ServerKeyPair } from './k1.js';

/** The tables of migration 0008, beside the shared schema. */
export interface KeysTables {
  org_keys: { org_id: string; key_id: string; public_key: string; private_key: string; created_at: number };
  register_escrows: { org_id: string; register_id: string; register_key_id: string; server_key_id: string; escrowed: string; updated_at: number };
}

/** The shared database with the key tables. */
export type KeysDatabase = Database & KeysTables;

type Db = Kysely<Database> | Transaction<Database>;
const keysDb = (db: Db): Kysely<KeysDatabase> => db as unknown as Kysely<KeysDatabase>;

// Keys never change once made, so a process may keep the imported key (another process reads the same row).
const cache = new Map<string, Promise<ServerKeyPair>>();

/**
 * The organisation's key pair, made on first use.
 *
 * @example
 * ```ts
 * const key = await orgKey(storage.db, device.orgId, clock.now());
 * reply.send({ keyId: key.keyId, publicKey: key.publicKey });
 * ```
 */
export function orgKey(db: Db, orgId: string, now: number): Promise<ServerKeyPair> {
  let key = cache.get(orgId);
  if (key === undefined) {
    key = loadOrCreate(keysDb(db), orgId, now);
    key.catch(() => cache.delete(orgId));
    cache.set(orgId, key);
  }
  return key;
}

async function loadOrCreate(db: Kysely<KeysDatabase>, orgId: string, now: number): Promise<ServerKeyPair> {
  const read = () => db.selectFrom('org_keys').select(['key_id', 'public_key', 'private_key']).where('org_id', '=', orgId).executeTakeFirst();
  let row = await read();
  if (row === undefined) {
    const fresh = await generateServerKeyPair();
    await db
      .insertInto('org_keys')
      .values({ org_id: orgId, key_id: fresh.keyId, public_key: fresh.publicKey, private_key: fresh.pkcs8, created_at: now })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .execute();
    row = await read();
    if (row === undefined) throw new Error(`organisation ${orgId} has no key after creating one`);
  }
  return importServerKeyPair({ keyId: row.key_id, publicKey: row.public_key, pkcs8: row.private_key });
}

/** The escrowed bundle of a register, if it sent one. */
export async function readEscrow(db: Db, orgId: string, registerId: string): Promise<{ registerKeyId: string; serverKeyId: string; escrowed: string } | undefined> {
  const row = await keysDb(db)
    .selectFrom('register_escrows')
    .select(['register_key_id', 'server_key_id', 'escrowed'])
    .where('org_id', '=', orgId)
    .where('register_id', '=', registerId)
    .executeTakeFirst();
  return row === undefined ? undefined : { registerKeyId: row.register_key_id, serverKeyId: row.server_key_id, escrowed: row.escrowed };
}

/** Stores (or replaces) a register's escrow. */
export async function writeEscrow(db: Db, v: { orgId: string; registerId: string; registerKeyId: string; serverKeyId: string; escrowed: string; now: number }): Promise<void> {
  await keysDb(db)
    .insertInto('register_escrows')
    .values({ org_id: v.orgId, register_id: v.registerId, register_key_id: v.registerKeyId, server_key_id: v.serverKeyId, escrowed: v.escrowed, updated_at: v.now })
    .onConflict((oc) =>
      oc.columns(['org_id', 'register_id']).doUpdateSet({ register_key_id: v.registerKeyId, server_key_id: v.serverKeyId, escrowed: v.escrowed, updated_at: v.now }),
    )
    .execute();
}
