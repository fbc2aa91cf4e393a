/**
 * The change log's retention window (DESIGN §3, docs/adr/0014-change-log-and-pull.md): every
 * organisation's log is pruned of changes older than `KASSA_CHANGE_LOG_RETENTION_DAYS`, on a timer
 * in the server process.
 *
 * ```
 *   start ──firstRunMs──► run ──intervalMs──► run ──intervalMs──► …      stop(): no new run; a run
 *                         │                                                in flight is awaited, so
 *                         └─ for each organisation's log: pruneChangeLog   the database can close
 * ```
 *
 * What pruning removes is history, never state: a register whose cursor is now behind the horizon
 * gets 410 `resync_required` and bootstraps again from the snapshot, which reads the live tables
 * (catalog, store, staff, merge docs, and the stock levels at its cursor), so the only thing lost to
 * it is facts older than the window — which is what the window means. Several server processes on
 * one PostgreSQL may each run it: `pruneChangeLog` locks the organisation's head row, so two runs
 * serialise and the second finds nothing left to do.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { pruneChangeLog } from './change-log.js';

/** Days of change log kept when `KASSA_CHANGE_LOG_RETENTION_DAYS` is not set. */
export const DEFAULT_CHANGE_LOG_RETENTION_DAYS = 90;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What one pruning run did. */
export interface PruneRun {
  /** Organisations whose log was looked at. */
  readonly organisations: number;
  /** Changes deleted over all of them. */
  readonly removed: number;
  /** Changes logged before this (server ms) were eligible. */
  readonly beforeMs: number;
}

/**
 * Prunes every organisation's log of the changes older than `retentionDays` before `clock.now()`.
 *
 * @example
 * ```ts
 * const run = await pruneChangeLogs(db, systemClock, 90);
 * logger.info(run, 'change log pruned');
 * ```
 */
export async function pruneChangeLogs(db: Kysely<Database>, clock: Clock, retentionDays: number): Promise<PruneRun> {
  const beforeMs = clock.now() - retentionDays * DAY_MS;
  const orgs = await db.selectFrom('change_log_heads').select('org_id').orderBy('org_id').execute();
  let removed = 0;
  // One transaction per organisation: a large org never holds every other org's writers.
  for (const { org_id } of orgs) removed += (await pruneChangeLog(db, org_id, beforeMs)).removed;
  return { organisations: orgs.length, removed, beforeMs };
}

/** What {@link startChangeLogPruner} needs. */
export interface ChangeLogPrunerOptions {
  readonly db: Kysely<Database>;
  /** The server's clock (injected in tests): the window is measured on it. */
  readonly clock: Clock;
  readonly retentionDays: number;
  /** Between runs; an hour by default. */
  readonly intervalMs?: number;
  /** Before the first run after start; a minute by default (start-up is busy enough). */
  readonly firstRunMs?: number;
  /** Told about each run that removed something. */
  readonly onPruned?: (run: PruneRun) => void;
  /** Told about a failed run; the next run is still scheduled. */
  readonly onError?: (err: unknown) => void;
}

/** A running pruner. */
export interface ChangeLogPruner {
  /** Runs once now (waiting for a run in flight first). */
  runNow(): Promise<PruneRun>;
  /** No further runs; resolves once a run in flight has finished. */
  stop(): Promise<void>;
}

/**
 * Starts pruning every organisation's change log on a timer that does not keep the process alive
 * (`unref`). Stop it before closing the database.
 *
 * @example
 * ```ts
 * const pruner = startChangeLogPruner({ db, clock, retentionDays: config.changeLogRetentionDays });
 * app.addHook('onClose', () => pruner.stop());
 * ```
 */
export function startChangeLogPruner(options: ChangeLogPrunerOptions): ChangeLogPruner {
  const intervalMs = options.intervalMs ?? 60 * 60 * 1000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<PruneRun> | undefined;

  const run = (): Promise<PruneRun> => {
    const previous = running ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(() => pruneChangeLogs(options.db, options.clock, options.retentionDays))
      .then((r) => {
        if (r.removed > 0) options.onPruned?.(r);
        return r;
      });
    running = next;
    void next.finally(() => {
      if (running === next) running = undefined;
    }).catch(() => undefined);
    return next;
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      run()
        .catch((err: unknown) => options.onError?.(err))
        .finally(() => schedule(intervalMs));
    }, ms);
    timer.unref();
  };
  schedule(options.firstRunMs ?? 60_000);

  return {
    runNow: run,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
