/**
 * Sync in the browser runs in the tab that owns the register, and only there (ADR 0034): the tab's
 * Web Lock is the owner lock, so a second tab never pushes or pulls the same database.
 *
 * ```
 *   tab status: owner + ready ──► make(store) → start(); its status published to every tab
 *               anything else ──► stop() (awaited), dropped; a new owner starts its own
 *   stop()     ──► stops the engine, follows the tab no more
 * ```
 *
 * Transitions run one at a time, in order, so an engine is always stopped before the next starts.
 */
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { SyncStatus } from '../sync/status.js';
import type { RegisterTab } from './register-tab.js';

/** What {@link syncWhileOwner} needs of a sync engine (a `SyncEngine`). */
export interface TabSyncEngine {
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribe(listener: (status: SyncStatus) => void): () => void;
}

/** The handle {@link syncWhileOwner} returns. */
export interface TabSync {
  /** The engine running in this tab now, or null (a follower, a lost database, stopped). */
  engine(): TabSyncEngine | null;
  /** Stops the engine and stops following the tab's status. */
  stop(): Promise<void>;
}

/**
 * Starts a sync engine (made by `make` over the tab's store) whenever this tab owns a ready
 * register, stops it whenever it does not, and publishes the engine's status to every tab.
 *
 * @example
 * ```ts
 * const tab = await openRegisterInTab({ createWorker });
 * const sync = syncWhileOwner(tab, (store) => new SyncEngine({ store, baseUrl: location.origin, database: 'register', online: browserOnlineSignal(window) }));
 * tab.status$.subscribe((s) => render(s.owner?.detail)); // the owner's sync status, in every tab
 * ```
 */
export function syncWhileOwner(tab: Pick<RegisterTab, 'status$' | 'store' | 'publish'>, make: (store: AsyncRegisterStore) => TabSyncEngine): TabSync {
  let engine: TabSyncEngine | null = null;
  let unsubscribeEngine: (() => void) | null = null;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();

  const settle = async (): Promise<void> => {
    const s = tab.status$.value;
    const store = tab.store;
    const shouldRun = !stopped && s.role === 'owner' && s.phase === 'ready' && store !== undefined;
    if (shouldRun && engine === null) {
      const e = make(store);
      engine = e;
      unsubscribeEngine = e.subscribe((status) => tab.publish(status));
      await e.start();
    } else if (!shouldRun && engine !== null) {
      const e = engine;
      engine = null;
      unsubscribeEngine?.();
      unsubscribeEngine = null;
      await e.stop();
    }
  };
  const schedule = (): Promise<void> => {
    chain = chain.then(settle, settle).catch(() => undefined);
    return chain;
  };
  // Called at once with the current status, then on every change.
  const unsubscribe = tab.status$.subscribe(() => void schedule());

  return {
    engine: () => engine,
    async stop() {
      stopped = true;
      unsubscribe();
      await schedule();
    },
  };
}
