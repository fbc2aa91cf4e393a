import { SqliteAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/*
 * Back-office auth, registers and staff (docs/adr/0015-auth-registers-staff.md).
 *
 *   sessions.last_used_at       idle expiry (12 h) beside the absolute `expires_at` (7 days)
 *   pairing_codes.register_code the register code a manager chose for the code (optional)
 *   staff_role_history          (org_id, staff_id, effective_from) → role: the role in force at any
 *                               instant, so an op is checked against the role its author had then
 *   users.role                  also 'cashier': a back-office login without manager rights
 *
 * Widening users.role's check: PostgreSQL drops and re-adds the named constraint inside the
 * migration's transaction. SQLite cannot alter a check, so the table is rebuilt the way SQLite
 * documents (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off, then in one
 * transaction create users_new, copy, drop users, rename, re-index, check foreign keys, commit.
 * Kysely runs SQLite migrations outside a transaction (no transactional DDL), which is what lets
 * the pragma change here.
 */

type Db = Kysely<unknown>;

function isSqlite(db: Db): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

async function widenUserRolesSqlite(db: Db): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await trx.schema
        .createTable('users_new')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'manager', 'cashier')`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('users_org_email_unique', ['org_id', 'email'])
        .execute();
      await sql`insert into users_new (id, org_id, email, display_name, password_hash, role, created_at, updated_at)
        select id, org_id, email, display_name, password_hash, role, created_at, updated_at from users`.execute(trx);
      await trx.schema.dropTable('users').execute();
      await trx.schema.alterTable('users_new').renameTo('users').execute();
      await trx.schema.createIndex('users_email_idx').on('users').column('email').execute();
      const broken = await sql<{ table: string }>`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) throw new Error(`rebuilding users broke ${broken.rows.length} foreign keys`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

/** Migration `0002_auth`: sessions' idle expiry, pairing codes' register code, staff role history. */
export const m0002_auth: Migration = {
  async up(db: Db) {
    await db.schema.alterTable('sessions').addColumn('last_used_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('pairing_codes').addColumn('register_code', 'text').execute();

    await db.schema
      .createTable('staff_role_history')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('staff_id', 'text', (c) => c.notNull().references('staff.id'))
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('cashier', 'manager', 'owner')`))
      .addColumn('effective_from', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('staff_role_history_pk', ['org_id', 'staff_id', 'effective_from'])
      .execute();
    // Staff created before this migration held their current role since they were created.
    await sql`insert into staff_role_history (org_id, staff_id, role, effective_from)
      select org_id, id, role, created_at from staff`.execute(db);

    if (isSqlite(db)) {
      await widenUserRolesSqlite(db);
    } else {
      await sql`alter table users drop constraint users_role_check`.execute(db);
      await sql`alter table users add constraint users_role_check check (role in ('owner', 'manager', 'cashier'))`.execute(db);
    }
  },

  async down(db: Db) {
    await db.schema.dropTable('staff_role_history').execute();
    await db.schema.alterTable('pairing_codes').dropColumn('register_code').execute();
    await db.schema.alterTable('sessions').dropColumn('last_used_at').execute();
  },
};
