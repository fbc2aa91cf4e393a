import type { Kysely, Migration } from 'kysely';

/*
 * Keys for personal data (docs/adr/0032, `src/keys/`):
 *
 *   org_keys            the organisation's P-256 key pair that registers seal personal fields of
 *                       their ops to, and escrow their key bundles to. One per organisation, made
 *                       on first use. The private key is stored as pkcs8 (base64url) in this row:
 *                       the server is trusted (ADR 0032), and whoever reads this table reads the
 *                       customers table in clear too.
 *   register_escrows    each register's current key bundle sealed to its organisation's key, so a
 *                       staff member's first unlock on that register works without a manager
 *                       present. Replaced at every rotation (the register sends the new one).
 */
export const m0008_keys: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('org_keys')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id'))
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('register_escrows')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('register_key_id', 'text', (c) => c.notNull())
      .addColumn('server_key_id', 'text', (c) => c.notNull())
      .addColumn('escrowed', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('register_escrows_pk', ['org_id', 'register_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('register_escrows').execute();
    await db.schema.dropTable('org_keys').execute();
  },
};
