/**
 * Every row of every table, for "a rejected request changed nothing" assertions. Tables come from
 * the database's own catalog (Kysely's introspection), so a table added by a later migration is
 * covered without editing this file. Test-only.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Table name → its rows as JSON text, sorted (row order is not part of the state). */
export type DbSnapshot = Readonly<Record<string, readonly string[]>>;

/** A column whose change a rejected request may make, with the reason (see the fuzz test). */
export interface AllowedChange {
  readonly table: string;
  /** These columns may differ (they are dropped before comparing). */
  readonly columns?: readonly string[];
  /** Rows may be added (never removed or changed), e.g. an audit row of a failed login. */
  readonly rowsAdded?: boolean;
  readonly reason: string;
}

const json = (row: unknown): string => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * Reads every table of `db`. `ignore` names columns to drop before comparing.
 *
 * @example
 * ```ts
 * const before = await snapshotDb(db);
 * await app.inject(badRequest);
 * expect(await snapshotDb(db)).toEqual(before);
 * ```
 */
export async function snapshotDb(db: Kysely<Database>, ignore: readonly AllowedChange[] = []): Promise<DbSnapshot> {
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  const out: Record<string, string[]> = {};
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  for (const table of tables) {
    const rule = ignore.find((a) => a.table === table && a.columns !== undefined);
    const rows = await loose.selectFrom(table).selectAll().execute();
    out[table] = rows
      .map((r) => {
        if (!rule?.columns) return json(r);
        const copy: Record<string, unknown> = { ...r };
        for (const c of rule.columns) delete copy[c];
        return json(copy);
      })
      .sort();
  }
  return out;
}

/**
 * The tables whose rows differ between two snapshots, with the rows only one side has; rows added
 * to a table `allowed` marks `rowsAdded` are not differences.
 */
export function diffSnapshots(before: DbSnapshot, after: DbSnapshot, allowed: readonly AllowedChange[] = []): Record<string, { removed: string[]; added: string[] }> {
  const out: Record<string, { removed: string[]; added: string[] }> = {};
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = new Set(before[table] ?? []);
    const a = new Set(after[table] ?? []);
    const removed = [...b].filter((r) => !a.has(r));
    const mayAdd = allowed.some((x) => x.table === table && x.rowsAdded === true);
    const added = mayAdd ? [] : [...a].filter((r) => !b.has(r));
    if (removed.length > 0 || added.length > 0) out[table] = { removed, added };
  }
  return out;
}
