/**
 * The push loop: moves the outbox to the server in seq order, exactly once (DESIGN §3).
 *
 * ```
 *                  new op · online · idle re-check
 *            ┌─────────────────────────────────────────┐
 *            ▼                                         │
 *   ┌──── idle ──outbox not empty──► sending ──answer, nothing left────┘
 *   │        ▲                        │ │ │ │
 *   │        └─ answer, more waiting ◄┘ │ │ └─ 401 (revoked / unknown token) ──► locked (the end)
 *   │           and progress: at once   │ │
 *   │                                   │ └─ 400 / other 4xx ──► error: shown, wait the cap (60 s)
 *   │                                   │
 *   │        no answer · 5xx · 429 · only pending_gap/deferred answered
 *   │                                   ▼
 *   │                               backoff: full jitter in [0, min(60 s, 1 s·2^(n−1))],
 *   │                               never before Retry-After ──timer──► sending
 *   │                               (a new op or `online` does NOT cut it short: no hammering)
 *   │
 *   └─ any state, device offline ──► offline ──online──► sending (at once)
 *      paused (a bootstrap runs) ──resume──► sending
 * ```
 *
 * Each answer is recorded by the store in one transaction (`recordPushResults`): only then do ops
 * leave the outbox. A lost answer leaves them there, so the next attempt sends them again and the
 * server answers `duplicate`.
 */
import { retryDelay } from './backoff.js';
import { RegisterRevokedError, SyncHttpError, SyncNetworkError } from './errors.js';
import type { LoopDeps } from './loop-deps.js';
import type { LoopStatus } from './status.js';
import { Waiter } from './timers.js';
import type { PushLimits, PushOutcome } from '../store/sync-store.js';

/** Tuning of the push loop. */
export interface PushLoopOptions {
  /** Ops and bytes per batch: the server takes ≤ 500 ops; 1 MiB keeps a batch quick on a slow link. */
  readonly limits: PushLimits;
  /** While idle, look at the outbox again this often even without a notification (ms). */
  readonly idleRecheckMs: number;
  /** Drop journal entries and seen facts older than this after successful pushes (ms). */
  readonly journalRetentionMs: number;
  /** Drop other registers' pulled sales lines older than this (ms). */
  readonly pulledSalesRetentionMs: number;
}

type Step = { readonly kind: 'idle' } | { readonly kind: 'again' } | { readonly kind: 'offline' } | { readonly kind: 'locked' } | { readonly kind: 'backoff'; readonly ms: number; readonly error: boolean };

/** See the drawing above. */
export class PushLoop {
  readonly #d: LoopDeps;
  readonly #o: PushLoopOptions;
  /** Woken by events: new op, online, resume, stop. */
  readonly #events: Waiter;
  /** Woken only by stop: a backoff is never cut short by events. */
  readonly #backoff: Waiter;
  #limits: PushLimits;
  #running = false;
  #done: Promise<void> = Promise.resolve();
  #abort = new AbortController();
  #state: LoopStatus = { state: 'stopped', attempt: 0, nextAttemptAt: null };
  #paused = 0;
  #busy: Promise<unknown> = Promise.resolve();
  #lastPrune = Number.NEGATIVE_INFINITY;

  constructor(deps: LoopDeps, options: PushLoopOptions) {
    this.#d = deps;
    this.#o = options;
    this.#limits = options.limits;
    this.#events = new Waiter(deps.timers);
    this.#backoff = new Waiter(deps.timers);
  }

  /** The loop's state. */
  get status(): LoopStatus {
    return this.#state;
  }

  /** Starts the loop (no-op when running). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#done = this.#run();
  }

  /** Stops the loop, aborting a request in flight; resolves when it has stopped. */
  async stop(): Promise<void> {
    if (!this.#running) return this.#done;
    this.#running = false;
    this.#abort.abort();
    this.#events.wake();
    this.#backoff.wake();
    await this.#done;
  }

  /**
   * Something happened that may make a push worthwhile: a new local op, the network back. Acts at
   * once when idle or offline; ignored during a backoff or an error wait (a busy register must not
   * hammer a struggling server, nor a fleet stampede it after an outage).
   */
  notify(): void {
    if (this.#state.state === 'backoff' || this.#state.state === 'error') return;
    this.#events.wake();
  }

  /** Holds the loop between batches (a bootstrap runs); resolves once no push is in flight. */
  async pause(): Promise<void> {
    this.#paused += 1;
    await this.#busy.catch(() => undefined);
  }

  /** Ends a {@link pause}. */
  resume(): void {
    this.#paused = Math.max(0, this.#paused - 1);
    this.#events.wake();
  }

  /**
   * One push round trip now, outside the loop's rhythm (while paused), for a bootstrap: with
   * `ops`, the next batch (to settle a push in doubt); without, an empty push that only asks the
   * server which seq it acknowledges (a restored server acknowledges less than the journal holds).
   * Errors are thrown to the caller.
   */
  async sendOnce(withOps: boolean): Promise<PushOutcome | null> {
    const run = withOps ? this.#send().then((r) => r?.outcome ?? null) : this.#probe();
    this.#busy = run;
    return run;
  }

  async #probe(): Promise<PushOutcome> {
    const timed = await this.#d.api.push('{"ops":[]}', this.#abort.signal);
    const outcome = await this.#d.store.recordPushResults({ entries: [], response: timed.body });
    this.#d.succeeded('push', timed);
    return outcome;
  }

  #set(state: LoopStatus['state'], nextAttemptAt: number | null = null): void {
    this.#state = { state, attempt: this.#state.attempt, nextAttemptAt };
    this.#d.report('push', this.#state);
  }

  #setAttempt(attempt: number): void {
    this.#state = { ...this.#state, attempt };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.#paused > 0) {
        this.#set('paused');
        await this.#events.wait(null);
        continue;
      }
      if (!this.#d.isOnline()) {
        this.#set('offline');
        await this.#events.wait(null);
        continue;
      }
      this.#events.clear();
      const attempt = this.#attempt();
      this.#busy = attempt;
      const step = await attempt;
      if (!this.#running) break;
      switch (step.kind) {
        case 'again':
          continue;
        case 'locked':
          this.#set('locked');
          return;
        case 'offline':
          continue;
        case 'idle':
          this.#set('idle');
          await this.#events.wait(this.#o.idleRecheckMs);
          continue;
        case 'backoff': {
          this.#set(step.error ? 'error' : 'backoff', this.#d.clock.now() + step.ms);
          await this.#backoff.wait(step.ms);
          this.#events.clear();
        }
      }
    }
    this.#set('stopped');
  }

  async #attempt(): Promise<Step> {
    try {
      const sent = await this.#send();
      if (sent === null) {
        this.#setAttempt(0);
        return { kind: 'idle' };
      }
      const { outcome, resent } = sent;
      await this.#prune();
      const progress = outcome.removed > 0 || outcome.counts.applied + outcome.counts.duplicate + outcome.counts.quarantined > 0;
      if (outcome.outboxLeft === 0 && outcome.resendLeft === 0) {
        this.#setAttempt(0);
        return { kind: 'idle' };
      }
      // Progress, or the answer just revealed a restored server: send again at once.
      if (progress || (outcome.resendLeft > 0 && !resent)) {
        this.#setAttempt(0);
        return { kind: 'again' };
      }
      // Nothing moved: ops wait behind a gap or for a newer server (`deferred`). Try later.
      return this.#retry(undefined, false);
    } catch (e) {
      return this.#onError(e);
    }
  }

  /** One batch: take it, send it, record the answer. Null when nothing waits. */
  async #send(): Promise<{ outcome: PushOutcome; resent: boolean } | null> {
    const batch = await this.#d.store.nextPushBatch(this.#limits);
    if (batch === null) return null;
    this.#set('working');
    const timed = await this.#d.api.push(batch.body, this.#abort.signal);
    const outcome = await this.#d.store.recordPushResults({ entries: batch.entries, response: timed.body });
    this.#d.succeeded('push', timed);
    await this.#d.refresh();
    return { outcome, resent: batch.entries.some((e) => e.from === 'journal') };
  }

  async #prune(): Promise<void> {
    const now = this.#d.clock.now();
    if (now - this.#lastPrune < 3_600_000) return;
    this.#lastPrune = now;
    await this.#d.store.pruneSynced({ syncedBefore: now - this.#o.journalRetentionMs, pulledSalesBefore: now - this.#o.pulledSalesRetentionMs });
  }

  #retry(retryAfterMs: number | undefined, error: boolean): Step {
    const attempt = this.#state.attempt + 1;
    this.#setAttempt(attempt);
    // A malformed batch will not get better by itself: wait the longest, never a hot loop.
    const ms = error ? this.#d.policy.capMs : retryDelay(attempt, this.#d.random, retryAfterMs, this.#d.policy);
    return { kind: 'backoff', ms, error };
  }

  async #onError(e: unknown): Promise<Step> {
    // Stopping aborts the request in flight: that is no failure to report.
    if (!this.#running) return { kind: 'again' };
    if (e instanceof RegisterRevokedError) {
      this.#d.failed('push', e);
      await this.#d.revoked();
      return { kind: 'locked' };
    }
    this.#d.failed('push', e);
    if (e instanceof SyncNetworkError) {
      // The device went offline: wait for it to come back rather than back off.
      if (!this.#d.isOnline()) return { kind: 'offline' };
      return this.#retry(undefined, false);
    }
    if (e instanceof SyncHttpError) {
      // An error status means the batch was not stored (a 5xx may have been mid-way: stays in doubt).
      if (e.status < 500) await this.#d.store.clearPushInDoubt().catch(() => undefined);
      if (e.status === 429 || e.status >= 500 || e.status === 408) return this.#retry(e.retryAfterMs, false);
      if (e.status === 413) {
        this.#limits = { maxOps: Math.max(1, Math.floor(this.#limits.maxOps / 2)), maxBytes: Math.max(1024, Math.floor(this.#limits.maxBytes / 2)) };
        return this.#retry(undefined, false);
      }
      return this.#retry(undefined, true);
    }
    // A protocol surprise or a store failure (full disk, corrupt row): shown, retried slowly.
    return this.#retry(undefined, true);
  }
}
