/**
 * Wakes long-polling pulls when an organisation's change log grows (DESIGN §3: several server
 * processes may share one PostgreSQL; a change made through one wakes registers on another).
 *
 * A notification carries no data, only "organisation X has something new": a woken pull reads the
 * log itself. So a lost or duplicated notification costs at most a late or an extra read, never a
 * wrong answer — a pull's `wait` always ends, and then it reads anyway.
 *
 * - SQLite (one process per file): an in-process emitter.
 * - PostgreSQL: `publish` wakes this process's subscribers directly and runs
 *   `pg_notify('kassa_changes', '<process id>:<org id>')`; one dedicated connection per process
 *   `LISTEN`s and wakes local subscribers for notifications from other processes (its own are
 *   ignored, they were delivered already). The listener reconnects when its connection fails:
 *
 * ```
 *   connecting ──LISTEN ok──► listening ──error/end──► waiting (backoff 0.1 s … 5 s) ──► connecting
 *        │                        ▲                          │
 *        └──────fail─────────────────────────────────────────┘
 *   on every (re)connect: wake every local subscriber (notifications sent while down were lost)
 *   close(): from any state ──► closed (no more reconnects; subscribers are left to their timeouts)
 * ```
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { StorageConfig } from '../config.js';
import type { Database } from '../db/schema.js';

/** The PostgreSQL notification channel of change-log wake-ups. */
export const CHANGE_CHANNEL = 'kassa_changes';

/** Wakes pulls waiting on an organisation's change log, across processes on PostgreSQL. */
export interface ChangeFeed {
  /**
   * Announces that `orgId`'s log grew. Call after the transaction that appended has committed.
   * Never rejects: the change is already durable, and a missed wake-up only delays a pull until its
   * wait ends. Awaiting it is optional (it resolves once other processes have been notified).
   */
  publish(orgId: string): Promise<void>;
  /** Calls `fn` whenever `orgId`'s log may have grown; returns the unsubscribe function. */
  subscribe(orgId: string, fn: () => void): () => void;
  /** Resolves once wake-ups from other processes arrive (at once on SQLite). */
  readonly ready: Promise<void>;
  /** Stops listening and releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** What {@link createChangeFeed} needs. */
export interface ChangeFeedOptions {
  /** Which database: PostgreSQL gets LISTEN/NOTIFY, SQLite the in-process emitter. */
  readonly config: StorageConfig;
  /** The app's database, for `pg_notify` (PostgreSQL only). */
  readonly db: Kysely<Database>;
  /** Told about listener and notify failures (the feed recovers by itself). */
  readonly onError?: (err: Error, what: string) => void;
  /** Largest pause between reconnect attempts; default 5 s. */
  readonly maxBackoffMs?: number;
}

class LocalFeed {
  readonly #emitter = new EventEmitter();
  constructor() {
    // One listener per waiting pull: hundreds of registers are normal, not a leak.
    this.#emitter.setMaxListeners(0);
  }
  emit(orgId: string): void {
    this.#emitter.emit(orgId);
  }
  emitAll(): void {
    for (const name of this.#emitter.eventNames()) this.#emitter.emit(name);
  }
  subscribe(orgId: string, fn: () => void): () => void {
    this.#emitter.on(orgId, fn);
    return () => {
      this.#emitter.off(orgId, fn);
    };
  }
  clear(): void {
    this.#emitter.removeAllListeners();
  }
}

/** An in-process feed: all a single process needs (SQLite, or tests with one app). */
export function createLocalChangeFeed(): ChangeFeed {
  const local = new LocalFeed();
  return {
    publish: (orgId) => {
      local.emit(orgId);
      return Promise.resolve();
    },
    subscribe: (orgId, fn) => local.subscribe(orgId, fn),
    ready: Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

function postgresFeed(url: string, options: ChangeFeedOptions): ChangeFeed {
  const local = new LocalFeed();
  const self = randomUUID();
  const report = (err: unknown, what: string): void => options.onError?.(err instanceof Error ? err : new Error(String(err)), what);
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  let closed = false;
  let client: pg.Client | undefined;
  let backoff = 100;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const onNotification = (msg: pg.Notification): void => {
    if (msg.channel !== CHANGE_CHANNEL || msg.payload === undefined) return;
    const colon = msg.payload.indexOf(':');
    if (colon < 0 || msg.payload.slice(0, colon) === self) return;
    local.emit(msg.payload.slice(colon + 1));
  };

  const scheduleReconnect = (): void => {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, maxBackoff);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    let dropped = false;
    const drop = (err: unknown): void => {
      if (dropped) return;
      dropped = true;
      if (client === c) client = undefined;
      c.removeListener('notification', onNotification);
      c.end().catch(() => undefined);
      if (!closed) {
        report(err, 'change feed listener lost its connection; reconnecting');
        scheduleReconnect();
      }
    };
    c.on('error', drop);
    c.on('end', () => drop(new Error('connection ended')));
    c.on('notification', onNotification);
    try {
      await c.connect();
      await c.query(`listen ${CHANGE_CHANNEL}`);
    } catch (err) {
      drop(err);
      return;
    }
    if (closed || dropped) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    backoff = 100;
    markReady();
    // Anything published while we were not listening was missed: let every waiter look.
    local.emitAll();
  };

  void connect();

  return {
    async publish(orgId) {
      local.emit(orgId);
      try {
        await sql`select pg_notify(${CHANGE_CHANNEL}, ${`${self}:${orgId}`})`.execute(options.db);
      } catch (err) {
        report(err, 'change feed could not notify other processes');
      }
    },
    subscribe: (orgId, fn) => local.subscribe(orgId, fn),
    ready,
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      markReady();
      local.clear();
      const c = client;
      client = undefined;
      if (c) {
        c.removeListener('notification', onNotification);
        await c.end().catch(() => undefined);
      }
    },
  };
}

/**
 * Makes the feed for the configured database. On PostgreSQL it starts listening at once; await
 * `ready` before relying on wake-ups from other processes.
 *
 * @example
 * ```ts
 * const changeFeed = createChangeFeed({ config: config.storage, db: storage.db });
 * await changeFeed.ready;
 * const app = await buildApp({ storage, config, clock, changeFeed });
 * // … on shutdown, after app.close():
 * await changeFeed.close();
 * ```
 */
export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  return options.config.kind === 'postgres' ? postgresFeed(options.config.url, options) : createLocalChangeFeed();
}
