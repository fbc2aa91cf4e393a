/**
 * The sync status the register shows at all times (DESIGN §5): online or not, what sync is doing,
 * how much waits and for how long, when it last succeeded, the last error, quarantined ops,
 * bootstrap progress, clock skew and whether the register is locked.
 */

/** What the sync engine is doing, for the status line. */
export type SyncPhase =
  /** Not started, or stopped. */
  | 'stopped'
  /** Another engine owns this database and syncs it; this one waits to take over. */
  | 'standby'
  /** The device says it has no network; nothing is attempted until it comes back. */
  | 'offline'
  /** Loading the store's reference data from the snapshot (see `bootstrap`). */
  | 'bootstrapping'
  /** Pushing or pulling right now. */
  | 'syncing'
  /** Up to date, following the server's changes (a long-poll may be open). */
  | 'idle'
  /** A request failed; the next attempt waits (see `push.nextAttemptAt`, `pull.nextAttemptAt`). */
  | 'backoff'
  /** The server refused a batch as malformed (4xx): shown, retried only at the slowest pace. */
  | 'error'
  /** The register's token was revoked: sync stopped; a manager can still export what waits. */
  | 'locked';

/** One loop's state, for diagnostics and tests. */
export interface LoopStatus {
  readonly state: 'stopped' | 'idle' | 'working' | 'waiting' | 'backoff' | 'error' | 'offline' | 'paused' | 'locked';
  /** Consecutive failures (0 after a success). */
  readonly attempt: number;
  /** When the next attempt is due, during a backoff. */
  readonly nextAttemptAt: number | null;
}

/** The last error, as the UI shows it. */
export interface SyncErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly at: number;
  readonly status?: number;
}

/** Everything the status line needs. */
export interface SyncStatus {
  readonly online: boolean;
  readonly phase: SyncPhase;
  /** This engine owns the database (only the owner syncs). */
  readonly owner: boolean;
  readonly locked: boolean;
  /** Ops in the outbox. */
  readonly opsWaiting: number;
  /** When the oldest op waiting was made, and how long ago (at the last status update). */
  readonly oldestWaitingAt: number | null;
  readonly oldestWaitingAgeMs: number | null;
  /** The last push or pull that succeeded. */
  readonly lastSuccessfulSyncAt: number | null;
  readonly lastError: SyncErrorInfo | null;
  /** Ops the server kept for review (quarantined, seq conflicts). */
  readonly quarantined: number;
  /** Snapshot items applied of the total, while bootstrapping. */
  readonly bootstrap: { readonly done: number; readonly total: number } | null;
  /** serverTime − this register's clock, ms (positive: the register is behind). */
  readonly clockSkewMs: number | null;
  /** The skew is beyond the warning bound: say so on screen. */
  readonly clockSkewLarge: boolean;
  /** Pulled changes skipped because they did not fit (see the entity mapping). */
  readonly ignoredChanges: number;
  /** Open alerts of the register's store on the server (oversell, quarantine, …), as last fetched. */
  readonly alerts: number;
  /** Open merge conflicts on the server, as last fetched. */
  readonly conflicts: number;
  /** When alerts and conflicts were last fetched (null: not yet). */
  readonly reviewFetchedAt: number | null;
  /**
   * The register lost (part of) its database and came back: what the server lacks from it. Shown
   * until a manager acknowledges it (`SyncEngine.acknowledgeDataLoss`). Null: no such loss.
   */
  readonly dataLoss: DataLossStatus | null;
  readonly push: LoopStatus;
  readonly pull: LoopStatus;
}

/** A data loss as the status shows it (see `DataLoss` in the store's sync-review). */
export interface DataLossStatus {
  readonly id: number;
  readonly reason: string;
  readonly detectedAt: number;
  /** Ops this register made that the server never got (inclusive seq range), or null: none. */
  readonly missingSeqs: { readonly from: number; readonly to: number; readonly count: number } | null;
  /** Receipts printed that the server never got (receipt numbers, inclusive), or null: none. */
  readonly missingReceipts: { readonly from: string; readonly to: string; readonly count: number } | null;
  /** The server has been told (it raised an alert); false while the report waits to be sent. */
  readonly reported: boolean;
}

/** A listener of status changes. */
export type StatusListener = (status: SyncStatus) => void;

/** The status before anything happened. */
export function initialStatus(online: boolean): SyncStatus {
  const loop: LoopStatus = { state: 'stopped', attempt: 0, nextAttemptAt: null };
  return {
    online,
    phase: 'stopped',
    owner: false,
    locked: false,
    opsWaiting: 0,
    oldestWaitingAt: null,
    oldestWaitingAgeMs: null,
    lastSuccessfulSyncAt: null,
    lastError: null,
    quarantined: 0,
    bootstrap: null,
    clockSkewMs: null,
    clockSkewLarge: false,
    ignoredChanges: 0,
    alerts: 0,
    conflicts: 0,
    reviewFetchedAt: null,
    dataLoss: null,
    push: loop,
    pull: loop,
  };
}

/**
 * The phase the status line shows, from both loops: the most telling one wins (a lock over
 * everything, a refused batch over a bootstrap, a bootstrap over plain syncing).
 */
export function phaseOf(s: Omit<SyncStatus, 'phase'>, running: boolean): SyncPhase {
  if (s.locked) return 'locked';
  if (!running) return 'stopped';
  if (!s.owner) return 'standby';
  if (!s.online) return 'offline';
  if (s.push.state === 'error' || s.pull.state === 'error') return 'error';
  if (s.bootstrap !== null && s.pull.state !== 'backoff') return 'bootstrapping';
  if (s.push.state === 'working' || s.pull.state === 'working') return 'syncing';
  if (s.push.state === 'backoff' || s.pull.state === 'backoff') return 'backoff';
  return 'idle';
}

/** Holds the status and tells listeners when it changes. */
export class StatusSubject {
  #status: SyncStatus;
  readonly #listeners = new Set<StatusListener>();

  constructor(initial: SyncStatus) {
    this.#status = initial;
  }

  /** The current status. */
  get(): SyncStatus {
    return this.#status;
  }

  /** Replaces the status; listeners hear it only when something changed. */
  set(next: SyncStatus): void {
    if (JSON.stringify(next) === JSON.stringify(this.#status)) return;
    this.#status = next;
    for (const l of [...this.#listeners]) {
      try {
        l(next);
      } catch {
        // a listener's failure is the UI's, never the sync loop's
      }
    }
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    listener(this.#status);
    return () => this.#listeners.delete(listener);
  }
}
