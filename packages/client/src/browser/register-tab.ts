/**
 * One tab owns the register's database; the others follow. The owner holds a Web Lock named after
 * the pool for as long as its worker has the database open, and tells the other tabs how it is
 * doing over a BroadcastChannel. A follower shows that the register is open elsewhere and offers
 * to take over: it asks the owner, the owner closes its worker and database and hands off, and the
 * follower takes the lock. When the owner's tab closes, the browser releases its lock and the
 * first waiting follower becomes the owner by itself.
 *
 * ```
 *                         openRegisterInTab()
 *                                 │ lock free? (ifAvailable)
 *                  ┌──── yes ─────┴───── no ─────┐
 *                  ▼                             ▼
 *            ┌───────────┐ lock granted   ┌────────────┐ takeOver()  ┌─────────────┐
 *       ┌───►│  opening  │◄───────────────┤ following  ├────────────►│ taking-over │
 *       │    └─────┬─────┘ (owner left)   └─────▲──────┘◄── timeout ─┴──────┬──────┘
 *       │          │ open store, check the      │ lock stolen               │ handoff to me:
 *       │          │ pairing marker             │ by the taker              │ steal the lock
 *       │   ┌──────┼──────────────┐             │                           ▼
 *       │   ▼      ▼              ▼       ┌─────┴─────┐                  opening
 *       │ ready  database-lost  failed ──►│ releasing │  (store closed, worker ended,
 *       │   └──────┴──────────────┴──────►└─────┬─────┘   handoff posted)
 *       │          takeover-request             │
 *       └───────────────────────────────────────┘
 *                 nobody took the lock within handoffTimeoutMs: reopen
 *
 *   any state ── close() ──► closed (the store is closed and the lock released)
 * ```
 *
 * Why the handoff steals instead of releasing: a released lock goes to the first tab in the
 * browser's queue, which need not be the one that asked. The owner closes its database first and
 * only then says "handoff"; the taker then requests the lock with `steal`, which no other waiting
 * tab can pre-empt, and the old owner queues up again as a follower.
 */
import type { KassaError } from '@kassa/core';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { RegisterIdentity, RegisterMeta } from '../store/meta.js';
import type { DataLoss, DataLossInput } from '../store/sync-review.js';
import { DEFAULT_LOCATION, openBrowserStore, type BrowserRegisterStore } from './browser-store.js';
import { checkDatabase, markerFromMeta } from './database-check.js';
import { DatabaseLostError, DatabaseOpenError, NotOwnerError, TakeOverTimeoutError } from './errors.js';
import { browserMarkerStore, type MarkerStore, type PairingMarker } from './pairing-marker.js';
import { requestPersistence, storageEstimate, type StorageInfo } from './storage.js';
import type { BrowserStoreLocation } from './store-worker.js';
import { openTabChannel, type OwnerPhase, type OwnerStatus, type TabChannel, type TabMessage } from './tab-channel.js';
import { ValueSubject, type Observable } from './value-subject.js';

/** Whether this tab runs the register, waits for it, or has been closed. */
export type TabRole = 'owner' | 'follower' | 'closed';

/** Where a tab is in the state machine drawn above. */
export type TabPhase = OwnerPhase | 'following' | 'taking-over';

/** What a tab shows about itself and about the register. */
export interface TabStatus {
  readonly tabId: string;
  readonly role: TabRole;
  readonly phase: TabPhase;
  /** The owning tab's status: this tab's own while it owns, else the last one heard (null before any). */
  readonly owner: OwnerStatus | null;
  /** Why this tab, as owner, cannot use the database (`database-lost`, `failed`). */
  readonly error: DatabaseLostError | DatabaseOpenError | null;
}

/** The options of {@link openRegisterInTab}. Give `createWorker` (the app) or `openStore` (tests). */
export interface RegisterTabOptions {
  /**
   * Starts the dedicated worker that owns the database (`store-worker.ts`); the app's bundler
   * resolves its URL: `() => new Worker(new URL('…/store-worker.js', import.meta.url), { type: 'module' })`.
   */
  readonly createWorker?: () => Worker;
  /** Opens the store some other way (tests in Node); its `terminate()` ends whatever it started. */
  readonly openStore?: () => Promise<BrowserRegisterStore>;
  /** The pool and file of the database; the lock and channel are named after the pool. */
  readonly location?: BrowserStoreLocation;
  /** How long `takeOver()` waits for the owner's handoff. Default 10 s. */
  readonly takeOverTimeoutMs?: number;
  /** How long an owner that handed off waits for the taker before reopening. Default 10 s. */
  readonly handoffTimeoutMs?: number;
  /** Seams for tests; the browser's by default. */
  readonly locks?: LockManager;
  readonly openChannel?: (name: string) => BroadcastChannel;
  readonly markers?: MarkerStore;
  readonly storage?: StorageManager;
  readonly now?: () => number;
  readonly tabId?: string;
}

/**
 * A tab's handle on the register: its role, the store while it owns the database, and the status
 * every tab shares.
 */
export interface RegisterTab {
  readonly tabId: string;
  /** The role now (it changes: a follower becomes the owner, an owner may hand off). */
  readonly role: TabRole;
  /**
   * The store while this tab owns a usable database, else undefined. Calls on a store kept from
   * before a handoff fail with {@link NotOwnerError}. Its `pair` also asks for persistent storage
   * and writes the pairing marker; its `close` closes the tab.
   */
  readonly store: AsyncRegisterStore | undefined;
  /** This tab's status and the owner's, as it changes. */
  readonly status$: Observable<TabStatus>;
  /**
   * Asks the owning tab to let go and makes this tab the owner. Resolves with the store; rejects
   * with {@link TakeOverTimeoutError} when the owner does not answer, or with the
   * {@link DatabaseLostError} / {@link DatabaseOpenError} this tab met when it opened the database.
   */
  takeOver(): Promise<AsyncRegisterStore>;
  /** As the owner, shares `detail` (e.g. the sync status) with every tab in the owner's status. */
  publish(detail: unknown): void;
  /**
   * After `database-lost`: opens the (empty) database anyway, so the app can re-pair as the same
   * register (pairing rewrites the marker). The loss stays reported until then.
   */
  recoverStore(): Promise<AsyncRegisterStore>;
  /** The origin's usage, quota and persistence, and the persistence answer kept at pairing. */
  storage(): Promise<StorageInfo & { readonly persistedAtPairing: boolean | null }>;
  /** Closes the store (as owner), releases the lock (resolving once it is released) and leaves the channel. */
  close(): Promise<void>;
}

/** Commands whose result carries the op they queued (`result.op.seq`). */
const COMMANDS: ReadonlySet<string> = new Set([
  'completeSale',
  'refund',
  'voidSale',
  'moveCash',
  'openShift',
  'closeShift',
  'adjustStock',
  'countStock',
  'saveCustomer',
  'saveCustomerSealed',
  'editProduct',
]);

/** A Web Lock this tab holds until `release()`; `ended` says how it ended. */
interface HeldLock {
  release(): void;
  readonly ended: Promise<'released' | 'stolen'>;
}

/**
 * Requests a Web Lock and keeps it until released. Resolves null when `ifAvailable` finds it
 * taken; rejects (AbortError) when `signal` aborts the request before it is granted.
 */
function requestLock(locks: LockManager, name: string, options: LockOptions): Promise<HeldLock | null> {
  return new Promise((resolveGrant, rejectGrant) => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let endedAs: (how: 'released' | 'stolen') => void = () => undefined;
    const ended = new Promise<'released' | 'stolen'>((resolve) => (endedAs = resolve));
    let granted = false;
    locks
      .request(name, options, (lock) => {
        if (lock === null) {
          resolveGrant(null);
          return undefined;
        }
        granted = true;
        resolveGrant({ release, ended });
        return released;
      })
      .then(
        () => endedAs('released'),
        (e: unknown) => {
          // A held lock's request rejects (AbortError) when another request steals it.
          if (granted) endedAs('stolen');
          else rejectGrant(e);
        },
      );
  });
}

function errorSummary(e: KassaError): { name: string; code: string; message: string } {
  return { name: e.name, code: e.code, message: e.message };
}

function newTabId(): string {
  return globalThis.crypto.randomUUID();
}

class BrowserRegisterTab implements RegisterTab {
  readonly tabId: string;
  readonly status$: ValueSubject<TabStatus>;
  readonly #locks: LockManager;
  readonly #lockName: string;
  readonly #channel: TabChannel;
  readonly #markers: MarkerStore;
  readonly #storage: StorageManager | undefined;
  readonly #openStore: () => Promise<BrowserRegisterStore>;
  readonly #now: () => number;
  readonly #takeOverTimeoutMs: number;
  readonly #handoffTimeoutMs: number;

  #lock: HeldLock | null = null;
  #queued: AbortController | null = null;
  #raw: BrowserRegisterStore | null = null;
  #store: AsyncRegisterStore | undefined;
  #marker: PairingMarker | null = null;
  #since = 0;
  #detail: unknown = null;
  #pendingTakeover = false;
  /** The tab whose takeover request the owner serves (the last one to ask). */
  #requester: string | null = null;
  #waiters: { resolve: (store: AsyncRegisterStore) => void; reject: (e: Error) => void }[] = [];
  #takeOverTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RegisterTabOptions, openStore: () => Promise<BrowserRegisterStore>, pool: string) {
    this.tabId = options.tabId ?? newTabId();
    this.#locks = options.locks ?? navigator.locks;
    this.#lockName = `kassa-db:${pool}`;
    this.#channel = openTabChannel(`kassa-tabs:${pool}`, this.tabId, options.openChannel);
    this.#markers = options.markers ?? browserMarkerStore(pool);
    this.#storage = options.storage ?? (typeof navigator === 'undefined' ? undefined : navigator.storage);
    this.#openStore = openStore;
    this.#now = options.now ?? (() => Date.now());
    this.#takeOverTimeoutMs = options.takeOverTimeoutMs ?? 10_000;
    this.#handoffTimeoutMs = options.handoffTimeoutMs ?? 10_000;
    this.status$ = new ValueSubject<TabStatus>({ tabId: this.tabId, role: 'follower', phase: 'following', owner: null, error: null });
  }

  get role(): TabRole {
    return this.status$.value.role;
  }

  get store(): AsyncRegisterStore | undefined {
    return this.#store;
  }

  async start(): Promise<void> {
    this.#channel.onMessage((m) => this.#onMessage(m));
    const lock = await requestLock(this.#locks, this.#lockName, { ifAvailable: true });
    if (lock !== null) {
      await this.#own(lock);
    } else {
      this.#follow();
      this.#channel.post({ type: 'hello' });
    }
  }

  // ── the owner's side ────────────────────────────────────────────────────────────────────────

  #ownerStatus(phase: OwnerPhase, error: DatabaseLostError | DatabaseOpenError | null): OwnerStatus {
    const m = this.#marker;
    return {
      tabId: this.tabId,
      phase,
      since: this.#since,
      register: m === null ? (error instanceof DatabaseLostError ? { storeCode: error.storeCode, registerCode: error.registerCode } : null) : { storeCode: m.storeCode, registerCode: m.registerCode },
      lastSeq: m?.lastSeq ?? (error instanceof DatabaseLostError ? error.lastSeq : null),
      error: error === null ? null : errorSummary(error),
      detail: this.#detail,
    };
  }

  /** Sets an owner phase, and tells the other tabs. */
  #setOwner(phase: OwnerPhase, error: DatabaseLostError | DatabaseOpenError | null = this.status$.value.error): void {
    const owner = this.#ownerStatus(phase, error);
    this.status$.next({ tabId: this.tabId, role: phase === 'closed' ? 'closed' : 'owner', phase, owner, error });
    this.#channel.post({ type: 'status', owner });
  }

  async #own(lock: HeldLock): Promise<void> {
    this.#queued?.abort();
    this.#queued = null;
    this.#lock = lock;
    this.#since = this.#now();
    void lock.ended.then((how) => {
      if (how === 'stolen' && this.#lock === lock) void this.#onStolen();
    });
    await this.#open(true);
  }

  /** Opens the database (checking it against the pairing marker unless `check` is false). */
  async #open(check: boolean): Promise<void> {
    const lock = this.#lock;
    this.#setOwner('opening', null);
    const marker = await this.#markers.read().catch(() => null);
    let raw: BrowserRegisterStore | null = null;
    let meta: RegisterMeta | Error;
    try {
      raw = await this.#openStore();
      meta = await raw.meta();
    } catch (e) {
      meta = e instanceof Error ? e : new Error(String(e));
    }
    if (this.#lock !== lock || lock === null || this.role === 'closed') {
      // The lock went (stolen, or the tab closed) while the database opened: let go of it.
      await closeQuietly(raw);
      return;
    }
    const verdict = check ? checkDatabase(marker, meta, this.#now()) : meta instanceof Error ? { ok: false as const, error: new DatabaseOpenError(meta.message) } : { ok: true as const, marker };
    if (!verdict.ok) {
      await closeQuietly(raw);
      this.#marker = null;
      this.#setOwner(verdict.error instanceof DatabaseLostError ? 'database-lost' : 'failed', verdict.error);
      this.#settleWaiters(verdict.error);
      this.#afterOpen();
      return;
    }
    this.#marker = verdict.marker;
    if (check && verdict.marker !== null) await this.#markers.write(verdict.marker).catch(() => undefined);
    this.#raw = raw;
    this.#store = raw === null ? undefined : this.#guard(raw);
    this.#setOwner('ready', null);
    this.#settleWaiters(null);
    this.#afterOpen();
  }

  /** A takeover asked for while the database was opening is served once it is open. */
  #afterOpen(): void {
    if (this.#pendingTakeover) {
      this.#pendingTakeover = false;
      void this.#handOff();
    }
  }

  /** The store as this tab hands it out: fails once the tab no longer owns it; keeps the marker. */
  #guard(raw: BrowserRegisterStore): AsyncRegisterStore {
    const isCurrent = (): boolean => this.#raw === raw && this.status$.value.phase === 'ready';
    const call = (name: string, args: unknown[]): Promise<unknown> => {
      const fn = (raw as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
      if (fn === undefined) return Promise.reject(new TypeError(`the store has no method ${name}`));
      return fn(...args);
    };
    return new Proxy({} as AsyncRegisterStore, {
      get: (_target, prop) => {
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        if (prop === 'close') return () => this.close();
        return async (...args: unknown[]): Promise<unknown> => {
          if (!isCurrent()) throw new NotOwnerError(this.tabId);
          if (prop === 'pair') return this.#pair(raw, args[0] as RegisterIdentity);
          if (prop === 'pairAfterLoss') return this.#pairAfterLoss(raw, args[0] as RegisterIdentity, args[1] as DataLossInput);
          const result = await call(prop, args);
          if (COMMANDS.has(prop)) this.#noteCommitted(result);
          return result;
        };
      },
    });
  }

  /** Pairing: ask for persistent storage, record the identity, write the marker with the answer. */
  async #pair(raw: BrowserRegisterStore, identity: RegisterIdentity): Promise<RegisterMeta> {
    const persisted = await requestPersistence(this.#storage);
    const meta = await raw.pair(identity);
    this.#marker = markerFromMeta(meta, persisted, this.#now());
    if (this.#marker !== null) await this.#markers.write(this.#marker);
    this.#setOwner('ready', null);
    return meta;
  }

  /**
   * Recovery (`recoverRegister`): pairs again as itself and records the loss, then rewrites the
   * marker from the new `meta` — a marker still saying "ops up to seq 46" over a database resumed
   * at the server's 40 would call the recovered database rolled back at the next start.
   */
  async #pairAfterLoss(raw: BrowserRegisterStore, identity: RegisterIdentity, loss: DataLossInput): Promise<DataLoss> {
    const persisted = this.#marker?.persisted ?? (await this.#markers.read().catch(() => null))?.persisted ?? null;
    const recorded = await raw.pairAfterLoss(identity, loss);
    this.#marker = markerFromMeta(await raw.meta(), persisted, this.#now());
    if (this.#marker !== null) await this.#markers.write(this.#marker);
    this.#setOwner('ready', null);
    return recorded;
  }

  /** After a command's COMMIT: move the marker's last seq (not awaited: it never slows the till). */
  #noteCommitted(result: unknown): void {
    const op = (result as { op?: { seq?: unknown; payload?: { receiptNo?: unknown } } | null } | null)?.op;
    const m = this.#marker;
    if (m === null || op === null || op === undefined || typeof op.seq !== 'number' || op.seq <= m.lastSeq) return;
    const receiptNo = typeof op.payload?.receiptNo === 'string' ? op.payload.receiptNo : m.lastReceiptNo;
    this.#marker = { ...m, lastSeq: op.seq, lastReceiptNo: receiptNo, updatedAt: this.#now() };
    void this.#markers.write(this.#marker).catch(() => undefined);
    this.#setOwner('ready', null);
  }

  async #closeStore(): Promise<void> {
    const raw = this.#raw;
    this.#raw = null;
    this.#store = undefined;
    await closeQuietly(raw);
  }

  /** Serves a takeover request: close everything, then tell the taker it may steal the lock. */
  async #handOff(): Promise<void> {
    const phase = this.status$.value.phase;
    if (phase === 'opening') {
      this.#pendingTakeover = true;
      return;
    }
    if (phase !== 'ready' && phase !== 'database-lost' && phase !== 'failed') return;
    const lock = this.#lock;
    if (lock === null) return;
    this.#setOwner('releasing');
    await this.#closeStore();
    const to = this.#requester;
    if (to !== null) this.#channel.post({ type: 'handoff', to });
    const outcome = await Promise.race([lock.ended, delay(this.#handoffTimeoutMs).then(() => 'timeout' as const)]);
    if (outcome === 'timeout' && this.#lock === lock && this.role === 'owner') await this.#open(true);
  }

  /** The lock went to another tab: whatever this tab had open is closed, and it follows. */
  async #onStolen(): Promise<void> {
    this.#lock = null;
    await this.#closeStore();
    if (this.role !== 'closed') this.#follow();
  }

  // ── the follower's side ─────────────────────────────────────────────────────────────────────

  /** Follows the current owner and queues for the lock, to own it when the owner goes. */
  #follow(): void {
    const owner = this.status$.value.owner?.tabId === this.tabId ? null : this.status$.value.owner;
    this.status$.next({ tabId: this.tabId, role: 'follower', phase: 'following', owner, error: null });
    const controller = new AbortController();
    this.#queued = controller;
    requestLock(this.#locks, this.#lockName, { signal: controller.signal }).then(
      (lock) => {
        if (lock === null) return;
        if (this.#queued !== controller || this.role !== 'follower') {
          // Granted just as a takeover or close replaced this request: not needed any more.
          lock.release();
          return;
        }
        this.#queued = null;
        void this.#own(lock);
      },
      () => undefined, // aborted: a takeover's steal or close() replaced this request
    );
  }

  takeOver(): Promise<AsyncRegisterStore> {
    const status = this.status$.value;
    if (status.role === 'closed') return Promise.reject(new NotOwnerError(this.tabId));
    if (status.role === 'owner') {
      if (status.phase === 'ready' && this.#store !== undefined) return Promise.resolve(this.#store);
      if (status.error !== null && status.phase !== 'opening') return Promise.reject(status.error);
    }
    const waiting = new Promise<AsyncRegisterStore>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (status.phase === 'following') {
      this.status$.next({ ...status, phase: 'taking-over' });
      this.#channel.post({ type: 'takeover-request' });
      clearTimeout(this.#takeOverTimer);
      this.#takeOverTimer = setTimeout(() => {
        if (this.status$.value.phase !== 'taking-over') return;
        this.status$.next({ ...this.status$.value, phase: 'following' });
        this.#settleWaiters(new TakeOverTimeoutError(this.#takeOverTimeoutMs));
      }, this.#takeOverTimeoutMs);
    }
    return waiting;
  }

  #settleWaiters(error: Error | null): void {
    clearTimeout(this.#takeOverTimer);
    const waiters = this.#waiters;
    this.#waiters = [];
    const store = this.#store;
    for (const w of waiters) {
      if (error === null && store !== undefined) w.resolve(store);
      else w.reject(error ?? new NotOwnerError(this.tabId));
    }
  }

  /** The owner closed its database for this tab: take the lock from it. */
  async #steal(): Promise<void> {
    if (this.status$.value.phase !== 'taking-over') return;
    this.#queued?.abort();
    this.#queued = null;
    // Marked as owner before the first await, so a queued grant arriving meanwhile lets go.
    this.status$.next({ ...this.status$.value, role: 'owner', phase: 'opening' });
    const lock = await requestLock(this.#locks, this.#lockName, { steal: true });
    if (lock === null) return;
    if (this.role === 'closed') {
      lock.release();
      return;
    }
    await this.#own(lock);
  }

  #onMessage(message: TabMessage): void {
    const status = this.status$.value;
    switch (message.type) {
      case 'hello':
        if (status.role === 'owner' && status.owner !== null) this.#channel.post({ type: 'status', owner: status.owner });
        return;
      case 'status':
        if (status.role !== 'follower' || message.owner.tabId === this.tabId) return;
        this.status$.next({ ...status, owner: message.owner });
        // Another tab got the register first (it asked too, or the owner left): ask the new one.
        if (status.phase === 'taking-over' && message.owner.phase === 'ready' && status.owner?.tabId !== message.owner.tabId) {
          this.#channel.post({ type: 'takeover-request' });
        }
        return;
      case 'takeover-request':
        // The first request is served; one arriving while the owner already lets go is not (its
        // tab asks the new owner again when it hears of it).
        if (status.role !== 'owner' || status.phase === 'releasing' || status.phase === 'closed') return;
        this.#requester = message.from;
        void this.#handOff();
        return;
      case 'handoff':
        if (message.to === this.tabId) void this.#steal();
        return;
    }
  }

  // ── both ────────────────────────────────────────────────────────────────────────────────────

  publish(detail: unknown): void {
    this.#detail = detail;
    const status = this.status$.value;
    if (status.role === 'owner') this.#setOwner(status.phase as OwnerPhase);
  }

  async recoverStore(): Promise<AsyncRegisterStore> {
    const status = this.status$.value;
    if (status.role !== 'owner') throw new NotOwnerError(this.tabId);
    if (status.phase === 'ready' && this.#store !== undefined) return this.#store;
    if (status.phase !== 'database-lost') throw status.error ?? new NotOwnerError(this.tabId);
    const lost = status.error;
    await this.#open(false);
    if (this.#store === undefined) throw this.status$.value.error ?? new NotOwnerError(this.tabId);
    // Still lost until it is paired again: the marker was left as it was.
    this.status$.next({ ...this.status$.value, error: lost });
    return this.#store;
  }

  async storage(): Promise<StorageInfo & { readonly persistedAtPairing: boolean | null }> {
    const info = await storageEstimate(this.#storage);
    const marker = this.#marker ?? (await this.#markers.read().catch(() => null));
    return { ...info, persistedAtPairing: marker?.persisted ?? null };
  }

  async close(): Promise<void> {
    const wasOwner = this.role === 'owner';
    this.#queued?.abort();
    this.#queued = null;
    clearTimeout(this.#takeOverTimer);
    if (wasOwner) {
      await this.#closeStore();
      this.#setOwner('closed', null);
    } else {
      this.status$.next({ ...this.status$.value, role: 'closed', phase: 'closed' });
    }
    const lock = this.#lock;
    this.#lock = null;
    lock?.release();
    // Resolve only once the browser has let go of the lock, so a tab opened next can take it.
    if (lock !== null) await lock.ended;
    this.#settleWaiters(new NotOwnerError(this.tabId));
    this.#channel.close();
  }
}

async function closeQuietly(store: BrowserRegisterStore | null): Promise<void> {
  if (store === null) return;
  try {
    await store.close();
  } catch {
    // Already closed, or its worker is gone: either way nothing holds the database any more.
  }
  store.terminate();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Opens the register in this tab: it becomes the owner when no other tab has the database, and a
 * follower otherwise. Resolves once the role is known (and, for the owner, once the database was
 * opened and checked against the pairing marker).
 *
 * @example
 * ```ts
 * const tab = await openRegisterInTab({
 *   createWorker: () => new Worker(new URL('@kassa/client/browser/store-worker', import.meta.url), { type: 'module' }),
 * });
 * tab.status$.subscribe((s) => {
 *   if (s.phase === 'following') show('The register is open in another tab.', { action: 'Take over here', run: () => tab.takeOver() });
 *   if (s.phase === 'database-lost') showAlarm(s.error); // DatabaseLostError: register code, last seq
 * });
 * const store = tab.store; // defined while this tab owns a usable database
 * ```
 */
export async function openRegisterInTab(options: RegisterTabOptions): Promise<RegisterTab> {
  const location = options.location ?? DEFAULT_LOCATION;
  const { createWorker, openStore } = options;
  const open =
    openStore ??
    (createWorker === undefined
      ? undefined
      : async () => {
          const worker = createWorker();
          try {
            return await openBrowserStore(worker, location);
          } catch (e) {
            worker.terminate();
            throw e;
          }
        });
  if (open === undefined) throw new TypeError('openRegisterInTab needs createWorker (or openStore)');
  const tab = new BrowserRegisterTab(options, open, location.pool);
  await tab.start();
  return tab;
}
