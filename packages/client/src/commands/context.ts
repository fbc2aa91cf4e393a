/**
 * What every command runs with, and the one skeleton they all share:
 *
 * ```
 *   BEGIN IMMEDIATE
 *     begin      read meta (device, next seq, chain head, HLC) and the rows the command needs
 *     build      core computes the domain value (sale, refund, Z report…) or throws its named error
 *     hlc        stamp the op; take the receipt number and chain link where receipt-bearing
 *     validate   the whole op through core's OpSchema
 *     state:*    write local state (orders, stock, shifts…)
 *     outbox     append the op under the next gapless seq
 *     receipt    record the receipt in the local chain (receipt-bearing ops only)
 *     meta       advance next seq, last receipt, chain head, HLC
 *     commit     (the last point a fault can strike)
 *   COMMIT   ← the caller hears "done" only after this returns
 * ```
 *
 * An exception anywhere (core's, a fault, SQLITE_FULL) rolls back everything: all or nothing.
 */
import type { Clock, IdGenerator } from '@kassa/core';
import type { SqlDb } from '../store/sql-db.js';

/**
 * A seam for tests: called before each named step of a command, inside its transaction. Throwing
 * from it is a crash at that point.
 */
export interface Faults {
  beforeStep?(step: string): void;
}

/** The dependencies of a command. */
export interface CommandContext {
  readonly db: SqlDb;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly faults?: Faults | undefined;
}

/** Marks a step: the fault hook may throw here. */
export function step(ctx: CommandContext, name: string): void {
  ctx.faults?.beforeStep?.(name);
}

/**
 * Runs a command body in one `BEGIN IMMEDIATE … COMMIT`, with the `begin` and `commit` steps around
 * it. Returns only after COMMIT.
 */
export function runCommand<T>(ctx: CommandContext, body: () => T): T {
  return ctx.db.transaction(() => {
    step(ctx, 'begin');
    const result = body();
    step(ctx, 'commit');
    return result;
  });
}
