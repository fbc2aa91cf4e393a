/**
 * The register's sync engine: a push loop and a pull loop that cooperate (the pull's bootstrap
 * holds the push), one owner per database, and the status the register shows at all times.
 *
 * ```
 *   stopped ──start()──► owner? ──no──► standby (waits for the lock) ──granted──┐
 *                          │ yes                                                 │
 *                          ▼                                                     │
 *                      running: push loop ∥ pull loop ◄───────────────────────────┘
 *                          │ 401 from either ──► locked (both stop; export still works)
 *                          └ stop() ──► stopped (lock released: a standby engine takes over)
 * ```
 *
 * Everything the engine depends on is injected — `fetch`, clock, timers, randomness, the network
 * signal, the store and the lock — so tests drive it exactly (fake timers, a fake or faulty fetch).
 */
import type { Clock, RandomSource } from '@kassa/core';
import type { ImportOutcome, UnsyncedExport } from '../store/sync-store.js';
import type { ServerAlert, ServerConflict } from '../store/sync-review.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { BeforeApply, LoopName, SyncStore } from './loop-deps.js';
import { processLock, type OwnerLock } from './owner-lock.js';
import { PullLoop } from './pull-loop.js';
import { PushLoop } from './push-loop.js';
import { initialStatus, phaseOf, StatusSubject, type LoopStatus, type StatusListener, type SyncErrorInfo, type SyncStatus } from './status.js';
import { sealOnArrival } from './key-client.js';
import { SyncApi, type FetchLike, type Timed } from './sync-api.js';
import { platformTimers, type Timers } from './timers.js';

/** Whether the device has a network, and when that changes (`navigator.onLine` and its events in a browser). */
export interface OnlineSignal {
  isOnline(): boolean;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/** An online signal that is always on (Node, where the network is assumed). */
export const alwaysOnline: OnlineSignal = { isOnline: () => true, subscribe: () => () => undefined };

/** The browser's signal: `navigator.onLine` and the window's `online`/`offline` events. */
export function browserOnlineSignal(target: { readonly navigator: { readonly onLine: boolean }; addEventListener(t: string, l: () => void): void; removeEventListener(t: string, l: () => void): void }): OnlineSignal {
  return {
    isOnline: () => target.navigator.onLine,
    subscribe(listener) {
      const on = (): void => listener(true);
      const off = (): void => listener(false);
      target.addEventListener('online', on);
      target.addEventListener('offline', off);
      return () => {
        target.removeEventListener('online', on);
        target.removeEventListener('offline', off);
      };
    },
  };
}

/** Options of {@link SyncEngine}. */
export interface SyncEngineOptions {
  readonly store: SyncStore;
  /** The server, e.g. `http://localhost:8080`. */
  readonly baseUrl: string;
  /**
   * Names the database for the owner lock: one engine per name syncs. In Node pass the file's
   * resolved absolute path (two spellings of one file would be two names).
   */
  readonly database: string;
  readonly fetch?: FetchLike;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly random?: RandomSource;
  readonly online?: OnlineSignal;
  readonly lock?: OwnerLock;
  readonly backoff?: BackoffPolicy;
  /** Push batches: ≤ 500 ops and ≤ 1 MiB by default. */
  readonly maxOpsPerPush?: number;
  readonly maxBytesPerPush?: number;
  /** Long-poll seconds (default 25; the server holds ≤ 30). */
  readonly pullWaitS?: number;
  readonly pullLimit?: number;
  readonly snapshotLimit?: number;
  /** A skew beyond this is flagged on screen (default 60 s; the server clamps beyond 5 min). */
  readonly skewWarnMs?: number;
  /** A request without an answer after this is a network error (a pull adds its wait). */
  readonly requestTimeoutMs?: number;
  /** While idle, look at the outbox again this often (default 30 s). */
  readonly idleRecheckMs?: number;
  /** Acknowledged ops and the facts seen by pull are kept this long (default 30 days). */
  readonly journalRetentionMs?: number;
  /** Other registers' sales lines (which refunds and voids of them need) are kept this long (default 90 days). */
  readonly pulledSalesRetentionMs?: number;
  /**
   * The server's open alerts and conflicts for this store are fetched at most this often, after a
   * successful sync (default 30 s); `refreshReview()` fetches at once.
   */
  readonly reviewIntervalMs?: number;
  /** Runs over pulled changes before they are stored: the crypto module seals personal fields here. */
  readonly beforeApply?: BeforeApply;
  /**
   * Runs over `exportUnsynced()`'s document before it is handed out: the crypto module seals the
   * personal data in it to the server's public key here (and sets `sealed`). Not set: as stored.
   */
  readonly sealExport?: (doc: UnsyncedExport) => Promise<UnsyncedExport>;
}

/**
 * At most this many alerts, and as many conflicts, are fetched per review (the most recent first,
 * as the server lists them): a store with thousands open must not cost a register dozens of
 * requests every half minute; the back office has the whole list.
 */
const MAX_REVIEW_ITEMS = 1_000;

/**
 * Syncs one register database with its server.
 *
 * @example
 * ```ts
 * const { store } = openNodeStore('/var/lib/kassa/register.sqlite');
 * const sync = new SyncEngine({ store, baseUrl: 'http://localhost:8080', database: '/var/lib/kassa/register.sqlite' });
 * sync.subscribe((s) => console.log(s.phase, s.opsWaiting));
 * await sync.start();
 * await store.completeSale(…);
 * sync.notifyLocalOp(); // pushes at once unless backing off
 * ```
 */
export class SyncEngine {
  readonly #o: SyncEngineOptions;
  readonly #clock: Clock;
  readonly #online: OnlineSignal;
  readonly #lock: OwnerLock;
  readonly #status: StatusSubject;
  readonly #push: PushLoop;
  readonly #pull: PullLoop;
  readonly #api: SyncApi;
  #reviewing: Promise<void> | null = null;
  #lastReviewAt = Number.NEGATIVE_INFINITY;
  #reviewAbort = new AbortController();
  #token: string | null = null;
  #running = false;
  #release: (() => void) | null = null;
  #standby: AbortController | null = null;
  #unsubscribeOnline: (() => void) | null = null;
  #errorFrom: LoopName | null = null;
  #loopsStarted = false;

  constructor(options: SyncEngineOptions) {
    this.#o = options;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#online = options.online ?? alwaysOnline;
    this.#lock = options.lock ?? processLock;
    this.#status = new StatusSubject(initialStatus(this.#online.isOnline()));
    const timers = options.timers ?? platformTimers;
    const api = new SyncApi({
      baseUrl: options.baseUrl,
      fetch: options.fetch ?? ((url, init) => globalThis.fetch(url, init)),
      clock: this.#clock,
      timers,
      token: () => this.#token,
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    });
    const deps = {
      store: options.store,
      api,
      clock: this.#clock,
      timers,
      random: options.random ?? ((n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))),
      policy: options.backoff ?? DEFAULT_BACKOFF,
      beforeApply: options.beforeApply ?? sealOnArrival(options.store),
      isOnline: () => this.#online.isOnline(),
      report: (loop: LoopName, s: LoopStatus) => this.#update({ [loop]: s }),
      succeeded: (loop: LoopName, timed: Timed<unknown>) => this.#succeeded(loop, timed),
      failed: (loop: LoopName, e: unknown) => this.#failed(loop, e),
      revoked: () => this.#revoked(),
      refresh: () => this.refresh(),
      bootstrapProgress: (p: { done: number; total: number } | null) => this.#update({ bootstrap: p }),
    };
    this.#push = new PushLoop(deps, {
      limits: { maxOps: options.maxOpsPerPush ?? 500, maxBytes: options.maxBytesPerPush ?? 1024 * 1024 },
      idleRecheckMs: options.idleRecheckMs ?? 30_000,
      journalRetentionMs: options.journalRetentionMs ?? 30 * 24 * 3_600_000,
      pulledSalesRetentionMs: options.pulledSalesRetentionMs ?? 90 * 24 * 3_600_000,
    });
    this.#api = api;
    this.#pull = new PullLoop(deps, { limit: options.pullLimit ?? 500, waitS: options.pullWaitS ?? 25, snapshotLimit: options.snapshotLimit ?? 1000 }, this.#push);
  }

  /** The current status. */
  status(): SyncStatus {
    return this.#status.get();
  }

  /** Calls `listener` now and on every status change; returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    return this.#status.subscribe(listener);
  }

  /**
   * Starts syncing. If another engine owns the database, this one waits in `standby` and takes
   * over when that one stops. A revoked register starts `locked`.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribeOnline = this.#online.subscribe((online) => {
      this.#update({ online });
      if (online) {
        this.#push.notify();
        this.#pull.notify();
      }
    });
    const release = this.#lock.tryAcquire(this.#o.database);
    if (release !== null) {
      await this.#begin(release);
      return;
    }
    this.#update({ owner: false });
    const standby = new AbortController();
    this.#standby = standby;
    this.#lock.acquire(this.#o.database, standby.signal).then(
      (r) => {
        if (!this.#running) return r();
        return this.#begin(r);
      },
      () => undefined,
    );
  }

  /** Stops both loops (aborting requests in flight) and releases the database. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#standby?.abort();
    this.#standby = null;
    this.#unsubscribeOnline?.();
    this.#unsubscribeOnline = null;
    this.#reviewAbort.abort();
    await Promise.all([this.#push.stop(), this.#pull.stop(), this.#reviewing]);
    this.#loopsStarted = false;
    this.#release?.();
    this.#release = null;
    this.#update({ owner: false });
  }

  /** A local command added an op: push at once, unless backing off. */
  notifyLocalOp(): void {
    void this.refresh();
    if (this.#loopsStarted) this.#push.notify();
  }

  /** Re-reads the store's counts (ops waiting, quarantined, lock) into the status. */
  async refresh(): Promise<void> {
    try {
      const info = await this.#o.store.syncInfo();
      const now = this.#clock.now();
      this.#update({
        opsWaiting: info.opsWaiting,
        oldestWaitingAt: info.oldestWaitingAt,
        oldestWaitingAgeMs: info.oldestWaitingAt === null ? null : Math.max(0, now - info.oldestWaitingAt),
        quarantined: info.quarantined,
        ignoredChanges: info.ignoredChanges,
        locked: info.revoked,
        lastSuccessfulSyncAt: info.lastSyncAt ?? this.#status.get().lastSuccessfulSyncAt,
      });
      const review = await this.#o.store.reviewInfo();
      const loss = review.dataLoss;
      this.#update({
        alerts: review.alerts,
        conflicts: review.conflicts,
        dataLoss:
          loss === null
            ? null
            : { id: loss.id, reason: loss.reason, detectedAt: loss.detectedAt, missingSeqs: loss.missingSeqs, missingReceipts: loss.missingReceipts, reported: loss.reportedAt !== null },
      });
    } catch (e) {
      this.#failed(null, e);
    }
  }

  /**
   * Everything the server has not acknowledged, as one JSON document — also on a locked register,
   * so a manager can carry it to a re-paired one. Personal data is sealed to the server by the
   * `sealExport` hook when one is given (the crypto module's job).
   */
  async exportUnsynced(): Promise<UnsyncedExport> {
    const doc = await this.#o.store.exportUnsynced();
    return this.#o.sealExport === undefined ? doc : this.#o.sealExport(doc);
  }

  /**
   * Fetches the server's open alerts (of this store) and merge conflicts now, into the store for
   * the UI, after sending any data loss the server has not been told of yet. Resolves when done;
   * a failure (offline, an older server without these routes) leaves what was fetched before.
   */
  async refreshReview(): Promise<void> {
    await this.#reviewing;
    this.#lastReviewAt = this.#clock.now();
    const run: Promise<void> = this.#review().finally(() => {
      if (this.#reviewing === run) this.#reviewing = null;
    });
    this.#reviewing = run;
    await run;
  }

  /** A manager has seen the data loss the status shows: it stops being shown. */
  async acknowledgeDataLoss(id: number): Promise<void> {
    await this.#o.store.acknowledgeDataLoss(id);
    await this.refresh();
  }

  /** Re-queues an export on this register, paired again as the same register; then pushes. */
  async importUnsynced(doc: unknown): Promise<ImportOutcome> {
    const outcome = await this.#o.store.importUnsynced(doc);
    this.notifyLocalOp();
    return outcome;
  }

  /** After a successful sync: fetch the review lists when the last fetch is older than the interval. */
  #maybeReview(): void {
    if (!this.#loopsStarted || this.#reviewing !== null) return;
    if (this.#clock.now() - this.#lastReviewAt < (this.#o.reviewIntervalMs ?? 30_000)) return;
    void this.refreshReview();
  }

  async #review(): Promise<void> {
    const signal = this.#reviewAbort.signal;
    try {
      for (const loss of await this.#o.store.dataLosses()) {
        if (loss.reportedAt !== null) continue;
        await this.#api.reportDataLoss(
          { reason: loss.reason, localLastSeq: loss.localLastSeq, localLastReceiptNo: loss.localLastReceiptNo, detectedAt: loss.detectedAt },
          signal,
        );
        await this.#o.store.markDataLossReported(loss.id);
      }
      const alerts: ServerAlert[] = [];
      for (let offset = 0; ; ) {
        const { body } = await this.#api.alerts(offset, signal);
        for (const a of body.alerts) {
          alerts.push({ key: a.key, id: a.id, kind: a.kind, status: a.status, registerId: a.registerId, data: a.data, occurrences: a.occurrences, firstSeenAt: a.firstSeenAt, lastSeenAt: a.lastSeenAt, acknowledgedAt: a.acknowledgedAt });
        }
        offset += body.alerts.length;
        if (body.alerts.length === 0 || offset >= body.total || offset >= MAX_REVIEW_ITEMS) break;
      }
      const conflicts: ServerConflict[] = [];
      for (let offset = 0; ; ) {
        const { body } = await this.#api.conflicts(offset, signal);
        for (const c of body.conflicts) {
          conflicts.push({ id: c.id, docType: c.docType, docId: c.docId, field: c.field, winner: c.winner, loser: c.loser, current: c.current, detectedAt: c.detectedAt });
        }
        offset += body.conflicts.length;
        if (body.conflicts.length === 0 || offset >= body.total || offset >= MAX_REVIEW_ITEMS) break;
      }
      await this.#o.store.replaceServerReview({ alerts, conflicts });
      this.#update({ reviewFetchedAt: this.#clock.now() });
    } catch {
      // Kept as last fetched; tried again after the next sync past the interval. The loops report
      // the network and a revocation; an older server without these routes answers 404.
      // `reviewFetchedAt` tells the UI how fresh the lists are.
    } finally {
      await this.refresh();
    }
  }

  async #begin(release: () => void): Promise<void> {
    this.#release = release;
    this.#reviewAbort = new AbortController();
    this.#standby = null;
    this.#update({ owner: true });
    this.#token = (await this.#o.store.meta()).token;
    await this.refresh();
    if (this.#status.get().locked || !this.#running) return;
    this.#loopsStarted = true;
    this.#push.start();
    this.#pull.start();
  }

  #succeeded(loop: LoopName, timed: Timed<unknown>): void {
    const patch: { -readonly [K in keyof SyncStatus]?: SyncStatus[K] } = { lastSuccessfulSyncAt: timed.receivedAt };
    if (timed.serverTime !== undefined) {
      // The server's clock read at about the middle of the round trip (the end of a long-poll).
      const skew = Math.round(timed.serverTime - timed.serverTimeAt);
      patch.clockSkewMs = skew;
      patch.clockSkewLarge = Math.abs(skew) > (this.#o.skewWarnMs ?? 60_000);
    }
    if (this.#errorFrom === loop) {
      patch.lastError = null;
      this.#errorFrom = null;
    }
    this.#update(patch);
    this.#maybeReview();
  }

  #failed(loop: LoopName | null, e: unknown): void {
    const info: SyncErrorInfo = {
      code: typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'error',
      message: e instanceof Error ? e.message : String(e),
      at: this.#clock.now(),
      ...(typeof (e as { status?: unknown }).status === 'number' ? { status: (e as { status: number }).status } : {}),
    };
    this.#errorFrom = loop;
    this.#update({ lastError: info });
  }

  async #revoked(): Promise<void> {
    await this.#o.store.markRevoked();
    this.#update({ locked: true });
    // Stop the other loop too; the calling loop ends by itself after this returns.
    void this.#push.stop();
    void this.#pull.stop();
  }

  #update(patch: Partial<SyncStatus>): void {
    const merged = { ...this.#status.get(), ...patch, push: patch.push ?? this.#push.status, pull: patch.pull ?? this.#pull.status };
    this.#status.set({ ...merged, phase: phaseOf(merged, this.#running) });
  }
}
