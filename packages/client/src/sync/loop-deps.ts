/**
 * What the push and pull loops share, provided by the engine: the store, the server, injected time
 * and randomness, the network signal, and how they report to the status.
 */
import type { Clock, RandomSource } from '@kassa/core';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { BackoffPolicy } from './backoff.js';
import type { IncomingChange } from './entity-mapping.js';
import type { SyncApi, Timed } from './sync-api.js';
import type { LoopStatus } from './status.js';
import type { Timers } from './timers.js';

/** The store methods sync uses (the Node store and the browser's worker proxy both have them). */
export type SyncStore = Pick<
  AsyncRegisterStore,
  | 'meta'
  | 'syncInfo'
  | 'nextPushBatch'
  | 'recordPushResults'
  | 'clearPushInDoubt'
  | 'applyPullPage'
  | 'applySnapshotPage'
  | 'markRevoked'
  | 'pruneJournal'
  | 'pruneSynced'
  | 'replaceServerReview'
  | 'reviewInfo'
  | 'dataLosses'
  | 'markDataLossReported'
  | 'acknowledgeDataLoss'
  | 'exportUnsynced'
  | 'importUnsynced'
>;

/**
 * Runs over pulled changes before they are stored, in the page's order: where the crypto module
 * seals customers' personal fields to the register's key, so they are never written in clear. Must
 * return one change per change given (changed or not).
 */
export type BeforeApply = <T extends IncomingChange>(changes: readonly T[]) => Promise<readonly T[]>;

/** Which loop reports. */
export type LoopName = 'push' | 'pull';

/** Given by the engine to each loop. */
export interface LoopDeps {
  readonly store: SyncStore;
  readonly api: SyncApi;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: RandomSource;
  readonly policy: BackoffPolicy;
  readonly beforeApply: BeforeApply;
  isOnline(): boolean;
  /** The loop's state changed. */
  report(loop: LoopName, status: LoopStatus): void;
  /** A request of this loop succeeded; `timed` carries the server's clock. */
  succeeded(loop: LoopName, timed: Timed<unknown>): void;
  /** A request or a store call of this loop failed. */
  failed(loop: LoopName, error: unknown): void;
  /** The token was refused (401): lock the register and stop both loops. */
  revoked(): Promise<void>;
  /** Re-read the store's counts into the status. */
  refresh(): Promise<void>;
  /** Bootstrap progress (null when done). */
  bootstrapProgress(progress: { readonly done: number; readonly total: number } | null): void;
}
