/**
 * Versioned migrations of the register's database, as the server's: append-only, each applied
 * once in its own transaction and recorded in `schema_migrations`. A migration never rewrites the
 * outbox (or the journal): ops waiting there were made and validated under the op schema of their
 * time, and the server migrates op versions itself (ADR 0022). `migrations.test.ts` checks it.
 */
import { SchemaTooNewError, StoreInvariantError } from './errors.js';
import { m0001_initial } from './migrations/0001-initial.js';
import { m0002_catalog_search } from './migrations/0002-catalog-search.js';
import { m0003_sync } from './migrations/0003-sync.js';
import { m0004_sealed_personal_data } from './migrations/0004-sealed-personal-data.js';
import { m0005_sync_review } from './migrations/0005-sync-review.js';
import type { SqlDb } from './sql-db.js';

/** One schema step. */
export interface Migration {
  /** 1, 2, 3, … without gaps. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, in order. Append only; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: m0001_initial },
  { version: 2, name: 'catalog_search', sql: m0002_catalog_search },
  { version: 3, name: 'sync', sql: m0003_sync },
  { version: 4, name: 'sealed_personal_data', sql: m0004_sealed_personal_data },
  { version: 5, name: 'sync_review', sql: m0005_sync_review },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The schema version of a database (0 when it has never been migrated). */
export function schemaVersion(db: SqlDb): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  );
  return db.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')?.v ?? 0;
}

/**
 * Brings the database to {@link SCHEMA_VERSION} (or to `upTo`); a no-op when it is there. Each
 * migration runs in its own `BEGIN IMMEDIATE` transaction that re-reads the version first, so two
 * connections migrating at once apply each step once.
 *
 * @returns the versions applied by this call.
 * @throws SchemaTooNewError when the database is newer than this code (a downgraded app must not
 *   write to a schema it does not know).
 * @example
 * ```ts
 * migrate(db, Date.now()); // [1, 2] on a new file, [] after
 * ```
 */
export function migrate(db: SqlDb, now: number, upTo: number = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const known = migrations.length;
  const found = schemaVersion(db);
  if (found > known) throw new SchemaTooNewError(found, known);
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version > upTo) break;
    db.transaction(() => {
      const current = db.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')?.v ?? 0;
      if (current >= m.version) return;
      if (current !== m.version - 1) throw new StoreInvariantError(`migration ${m.version} needs version ${m.version - 1}, found ${current}`);
      db.exec(m.sql);
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now]);
      applied.push(m.version);
    });
  }
  return applied;
}
