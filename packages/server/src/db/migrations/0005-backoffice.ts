import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/*
 * Tables of the back-office API (`src/backoffice/`, docs/adr/0016-backoffice-api.md):
 *
 *   alert_resolutions   who resolved an alert by hand, when, and why. Keyed by the alert's
 *                       `resolved_at`, so a note belongs to exactly one resolution: an alert that
 *                       opens again and later clears by itself shows no stale note.
 *   quarantine_actions  every dismiss and retry of a quarantined op, with its note and outcome
 *                       (a retry that still fails is kept too: the history of the review).
 *   backoffice_facts    facts made in the back office (stock adjustments and deliveries), once
 *                       by id. Not in `facts`, whose rows belong to a register's seq space; the
 *                       user is the "device" here, with a gapless seq of their own.
 */
export const m0005_backoffice: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('alert_resolutions')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('alert_key', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_by', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('note', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('alert_resolutions_pk', ['org_id', 'alert_key', 'resolved_at'])
      .execute();

    await db.schema
      .createTable('quarantine_actions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('quarantine_id', 'text', (c) => c.notNull().references('quarantine.id'))
      .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('dismissed', 'retried', 'retry_failed')`))
      .addColumn('note', 'text')
      .addColumn('outcome_json', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('quarantine_actions_item_idx').on('quarantine_actions').columns(['org_id', 'quarantine_id', 'at']).execute();

    await db.schema
      .createTable('backoffice_facts')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('hlc', 'text', (c) => c.notNull())
      .addColumn('op_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('backoffice_facts_pk', ['org_id', 'id'])
      .addUniqueConstraint('backoffice_facts_user_seq_unique', ['org_id', 'user_id', 'seq'])
      .execute();
    await db.schema.createIndex('backoffice_facts_store_idx').on('backoffice_facts').columns(['org_id', 'store_id', 'created_at']).execute();
  },

  async down(db: Kysely<unknown>) {
    for (const table of ['backoffice_facts', 'quarantine_actions', 'alert_resolutions']) await db.schema.dropTable(table).execute();
  },
};
