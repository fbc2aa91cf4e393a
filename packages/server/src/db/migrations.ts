import { Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from 'kysely';
import { m0002_auth } from './migrations/0002-auth.js';
import { m0003_sync_push } from './migrations/0003-sync-push.js';
import { m0004_change_log } from './migrations/0004-change-log.js';
import { m0005_backoffice } from './migrations/0005-backoffice.js';
import { m0008_keys } from './migrations/0008-keys.js';
import { m0007_push_write_path } from './migrations/0007-push-write-path.js';
import { m0006_limits_history_customer_store } from './migrations/0006-limits-history-customer-store.js';

/*
 * One migration set for SQLite and PostgreSQL. Only portable column types are used:
 *   text     ids (UUID text), codes, names, JSON documents
 *   bigint   amounts in minor units, sequences, millisecond timestamps (INTEGER affinity on SQLite,
 *            int8 on PostgreSQL, read back as numbers: see database.ts)
 *   integer  0/1 flags, small counts, rates in ppm
 * Every tenant table has org_id; store-scoped tables have store_id. Migrations are append-only:
 * never edit one that has shipped, add the next.
 */

// Kysely's migrations run against a schema that the typed Database interface does not describe
// yet, so they take Kysely<unknown>.
type Db = Kysely<unknown>;

const m0001_foundation: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('organisations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('stores')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('settings_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('stores_org_code_unique', ['org_id', 'code'])
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'manager')`))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('users_org_email_unique', ['org_id', 'email'])
      .execute();
    await db.schema.createIndex('users_email_idx').on('users').column('email').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_org_user_idx').on('sessions').columns(['org_id', 'user_id']).execute();

    await db.schema
      .createTable('staff')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('cashier', 'manager', 'owner')`))
      .addColumn('pin_kdf', 'text', (c) => c.notNull())
      .addColumn('pin_iterations', 'integer', (c) => c.notNull().check(sql`pin_iterations >= 600000`))
      .addColumn('pin_salt', 'text', (c) => c.notNull())
      .addColumn('pin_hash', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('field_hlc_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('staff_org_store_idx').on('staff').columns(['org_id', 'store_id']).execute();

    await db.schema
      .createTable('registers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.unique())
      .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_receipt_number', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('chain_head', 'text')
      .addColumn('last_seen_at', 'bigint')
      .addColumn('paired_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('registers_store_code_unique', ['store_id', 'code'])
      .execute();
    await db.schema.createIndex('registers_org_idx').on('registers').column('org_id').execute();

    await db.schema
      .createTable('pairing_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('code_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_by', 'text', (c) => c.references('users.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('register_id', 'text', (c) => c.references('registers.id'))
      .execute();

    await db.schema
      .createTable('categories')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text', (c) => c.references('categories.id'))
      .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('field_hlc_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('categories_org_idx').on('categories').column('org_id').execute();

    await db.schema
      .createTable('tax_rates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('rate_ppm', 'integer', (c) => c.notNull().check(sql`rate_ppm >= 0 and rate_ppm <= 1000000`))
      .addColumn('field_hlc_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('tax_rates_org_idx').on('tax_rates').column('org_id').execute();

    await db.schema
      .createTable('products')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('sku', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('price_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('category_id', 'text', (c) => c.references('categories.id'))
      .addColumn('tax_rate_ids_json', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('weighed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('unit', 'text', (c) => c.notNull().check(sql`unit in ('piece', 'kg')`))
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('field_hlc_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('products_org_sku_unique', ['org_id', 'sku'])
      .execute();
    await db.schema.createIndex('products_org_category_idx').on('products').columns(['org_id', 'category_id']).execute();

    await db.schema
      .createTable('barcodes')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('barcodes_pk', ['org_id', 'code'])
      .execute();
    await db.schema.createIndex('barcodes_product_idx').on('barcodes').column('product_id').execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.references('stores.id'))
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_kind', 'text')
      .addColumn('target_id', 'text')
      .addColumn('details_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_org_at_idx').on('audit_log').columns(['org_id', 'at']).execute();
  },

  async down(db: Db) {
    for (const table of [
      'audit_log',
      'barcodes',
      'products',
      'tax_rates',
      'categories',
      'pairing_codes',
      'registers',
      'staff',
      'sessions',
      'users',
      'stores',
      'organisations',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/** Every migration, in order. Names sort lexically, which is the order Kysely applies them in. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001_foundation,
  '0002_auth': m0002_auth,
  '0003_sync_push': m0003_sync_push,
  '0004_change_log': m0004_change_log,
  '0005_backoffice': m0005_backoffice,
  '0006_limits_history_customer_store': m0006_limits_history_customer_store,
  '0007_push_write_path': m0007_push_write_path,
  '0008_keys': m0008_keys,
};

/** Serves {@link migrations} from code, so no migration folder has to ship beside the build. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...migrations }),
};

/** A migration run that did not reach the latest version. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly migrationName: string | undefined,
    override readonly cause: unknown,
  ) {
    super(`migration ${migrationName ?? '(unknown)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Brings the database to the latest migration; a no-op when it is already there. Safe to run from
 * several processes at once (Kysely takes a lock on both dialects).
 *
 * @returns the names of the migrations applied by this call.
 * @throws MigrationError when a migration fails (the failed one is rolled back).
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db: db as unknown as Kysely<unknown>, provider: migrationProvider });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
