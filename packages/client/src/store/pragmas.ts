/**
 * The pragmas every store connection runs with, in Node and in the browser alike (ADR 0030).
 */
import { StoreInvariantError } from './errors.js';
import type { SqlDb } from './sql-db.js';

/**
 * The rollback-journal mode of the register's database. TRUNCATE, not DELETE: on `opfs-sahpool`
 * deleting the journal rewrites the pool file's header on every commit, a write a power cut could
 * tear; truncating keeps the header. WAL is not available on `opfs-sahpool` (no shared memory),
 * and one mode everywhere means the Node tests exercise the browser's commit path.
 */
export const JOURNAL_MODE = 'truncate';

/** Sets the store's pragmas on a freshly opened connection. */
export function applyPragmas(db: SqlDb): void {
  const mode = db.get<{ journal_mode: string }>(`PRAGMA journal_mode = ${JOURNAL_MODE}`);
  if (mode?.journal_mode.toLowerCase() !== JOURNAL_MODE) {
    throw new StoreInvariantError(`could not set journal_mode=${JOURNAL_MODE} (got ${mode?.journal_mode ?? 'nothing'})`);
  }
  // FULL: the journal is synced before the database is written and again at commit, so a sale the
  // cashier was told is done survives a power cut. NORMAL would only keep the file consistent.
  db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  // Deleted and re-sealed values (a rotation, an erased customer) are overwritten with zeros, not
  // left in free pages of the file (docs/adr/0032).
  db.exec('PRAGMA secure_delete = ON;');
}
