/**
 * The pull loop: brings the server's changes to the register (DESIGN §3).
 *
 * ```
 *   start ──no cursor──► bootstrapping ──────────────────────────────┐
 *     │                  (push paused; a push in doubt is settled     │
 *     │                   first; snapshot pages with progress, the    │
 *     │                   last one saves the cursor)                  │
 *     └──cursor──► following ◄─────────────────────────────────────────┘
 *                  │  GET pull?since=cursor&wait=25 (long-poll; wait=0 while hasMore)
 *                  │  apply the page + advance the cursor: ONE transaction
 *                  ├─ 410 resync_required ──► bootstrapping (the outbox is not touched)
 *                  ├─ 401 ──► locked (the end)
 *                  ├─ no answer · 5xx · 429 ──► backoff (its own counter: pull and push
 *                  │                            fail for different reasons) ──timer──► following
 *                  ├─ other 4xx ──► error: shown, wait the cap
 *                  └─ device offline ──► offline ──online──► following
 * ```
 *
 * The cursor is never saved ahead of the data it covers, so a crash anywhere resumes from the last
 * applied page; a page applied twice changes nothing (documents are whole, facts are counted once
 * by id).
 */
import { retryDelay } from './backoff.js';
import { CursorMovedError, RegisterRevokedError, ResyncRequiredError, SyncHttpError, SyncNetworkError } from './errors.js';
import type { LoopDeps } from './loop-deps.js';
import type { PushLoop } from './push-loop.js';
import type { Timed } from './sync-api.js';
import type { SnapshotPage } from './wire-schemas.js';
import type { LoopStatus } from './status.js';
import { Waiter } from './timers.js';

/** Tuning of the pull loop. */
export interface PullLoopOptions {
  /** Changes per pull page (the server allows ≤ 1000). */
  readonly limit: number;
  /** Long-poll: seconds the server may hold a pull when nothing is new (≤ 30). */
  readonly waitS: number;
  /** Items per snapshot page (≤ 1000). */
  readonly snapshotLimit: number;
}

/** A snapshot page asked for (possibly ahead of being needed). */
interface PageFetch {
  readonly page: Promise<Timed<SnapshotPage>>;
  cancel(): void;
}

const NO_PAGE: PageFetch = { page: new Promise<never>(() => undefined), cancel: () => undefined };

type Step = { readonly kind: 'again' } | { readonly kind: 'offline' } | { readonly kind: 'locked' } | { readonly kind: 'backoff'; readonly ms: number; readonly error: boolean };

/** See the drawing above. */
export class PullLoop {
  readonly #d: LoopDeps;
  readonly #o: PullLoopOptions;
  readonly #push: PushLoop;
  readonly #events: Waiter;
  readonly #backoff: Waiter;
  #running = false;
  #done: Promise<void> = Promise.resolve();
  #abort = new AbortController();
  #state: LoopStatus = { state: 'stopped', attempt: 0, nextAttemptAt: null };
  #resync = false;
  #hasMore = false;

  constructor(deps: LoopDeps, options: PullLoopOptions, push: PushLoop) {
    this.#d = deps;
    this.#o = options;
    this.#push = push;
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

  /** Stops the loop, cutting a long-poll short; resolves when it has stopped. */
  async stop(): Promise<void> {
    if (!this.#running) return this.#done;
    this.#running = false;
    this.#abort.abort();
    this.#events.wake();
    this.#backoff.wake();
    await this.#done;
  }

  /** The network is back: act at once unless backing off. */
  notify(): void {
    if (this.#state.state === 'backoff' || this.#state.state === 'error') return;
    this.#events.wake();
  }

  #set(state: LoopStatus['state'], nextAttemptAt: number | null = null): void {
    this.#state = { state, attempt: this.#state.attempt, nextAttemptAt };
    this.#d.report('pull', this.#state);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (!this.#d.isOnline()) {
        this.#set('offline');
        await this.#events.wait(null);
        continue;
      }
      this.#events.clear();
      const step = await this.#attempt();
      if (!this.#running) break;
      if (step.kind === 'locked') {
        this.#set('locked');
        return;
      }
      if (step.kind === 'backoff') {
        this.#set(step.error ? 'error' : 'backoff', this.#d.clock.now() + step.ms);
        await this.#backoff.wait(step.ms);
        this.#events.clear();
      }
    }
    this.#set('stopped');
  }

  async #attempt(): Promise<Step> {
    try {
      const info = await this.#d.store.syncInfo();
      if (info.revoked) {
        await this.#d.revoked();
        return { kind: 'locked' };
      }
      if (info.pullCursor === null || this.#resync) {
        await this.#bootstrap(this.#resync ? undefined : (info.bootstrap?.nextPage ?? undefined));
        this.#resync = false;
        this.#hasMore = false;
        this.#state = { ...this.#state, attempt: 0 };
        return { kind: 'again' };
      }
      await this.#follow(info.pullCursor);
      return { kind: 'again' };
    } catch (e) {
      return this.#onError(e);
    }
  }

  async #follow(cursor: string): Promise<void> {
    const waitS = this.#hasMore ? 0 : this.#o.waitS;
    // A long-poll is "up to date, listening"; a page fetched at once is work.
    this.#set(waitS > 0 ? 'waiting' : 'working');
    const timed = await this.#d.api.pull(cursor, { limit: this.#o.limit, waitS, signal: this.#abort.signal });
    const changes = await this.#d.beforeApply(timed.body.changes);
    if (timed.body.changes.length > 0) this.#set('working');
    const counts = await this.#d.store.applyPullPage({ since: cursor, changes, cursor: timed.body.cursor });
    this.#hasMore = timed.body.hasMore;
    this.#state = { ...this.#state, attempt: 0 };
    this.#d.succeeded('pull', timed);
    if (counts.applied + counts.ignored + counts.echoes > 0) await this.#d.refresh();
  }

  /** Asks for a snapshot page; `cancel` drops it (its answer or error is then never looked at). */
  #fetchPage(token: string | undefined): PageFetch {
    const own = new AbortController();
    const signal = AbortSignal.any([this.#abort.signal, own.signal]);
    const page = this.#d.api.snapshot(token, { limit: this.#o.snapshotLimit, signal });
    // Seen when awaited; a page dropped unawaited must not be an unhandled rejection.
    page.catch(() => undefined);
    return { page, cancel: () => own.abort() };
  }

  /**
   * Loads the snapshot. Pushes are held meanwhile and a push in doubt is settled first, so every
   * op acknowledged before the snapshot began is in it and every op still queued is not: that is
   * what lets the last page say "server at the cursor + the outbox" without counting anything twice.
   */
  async #bootstrap(resumeFrom: string | undefined): Promise<void> {
    await this.#push.pause();
    try {
      this.#set('working');
      // One push round trip first: it settles a push in doubt (that batch again) or, with no ops,
      // learns which seq the server acknowledges, so the last page knows which acknowledged ops the
      // snapshot holds.
      const before = await this.#d.store.syncInfo();
      await this.#push.sendOnce(before.pushInDoubt);
      const info = await this.#d.store.syncInfo();
      // A push recorded since the interrupted bootstrap began resets it (the store cleared nextPage).
      let token = resumeFrom !== undefined && info.bootstrap?.nextPage === resumeFrom ? resumeFrom : undefined;
      this.#d.bootstrapProgress(token === undefined ? { done: 0, total: 0 } : { done: info.bootstrap?.done ?? 0, total: info.bootstrap?.total ?? 0 });
      // One page ahead: page k+1 is asked for while page k is applied, so the register does not
      // wait for the network between pages. Only the store saves where the bootstrap stands, in
      // the transaction of the page it covers: a page fetched ahead and never applied (the loop
      // stopped, page k failed to apply) is dropped, and its error, if any, counts only once
      // page k is stored.
      let pending = this.#fetchPage(token);
      try {
        for (;;) {
          let timed;
          try {
            timed = await pending.page;
          } catch (e) {
            // The snapshot's own log moved past its cursor (pruned, restored): start it over.
            if (e instanceof ResyncRequiredError && token !== undefined) {
              token = undefined;
              pending = this.#fetchPage(undefined);
              continue;
            }
            throw e;
          }
          const page = timed.body;
          pending = page.nextPage === null ? NO_PAGE : this.#fetchPage(page.nextPage);
          const items = await this.#d.beforeApply(page.items);
          const progress = await this.#d.store.applySnapshotPage({ first: token === undefined, items, nextPage: page.nextPage, cursor: page.cursor, total: page.total });
          this.#d.succeeded('pull', timed);
          if (progress.finished) break;
          this.#d.bootstrapProgress({ done: progress.done, total: progress.total });
          token = page.nextPage ?? undefined;
        }
      } finally {
        pending.cancel();
      }
      this.#d.bootstrapProgress(null);
      await this.#d.refresh();
    } finally {
      this.#push.resume();
    }
  }

  #retry(retryAfterMs: number | undefined, error: boolean): Step {
    const attempt = this.#state.attempt + 1;
    this.#state = { ...this.#state, attempt };
    const ms = error ? this.#d.policy.capMs : retryDelay(attempt, this.#d.random, retryAfterMs, this.#d.policy);
    return { kind: 'backoff', ms, error };
  }

  async #onError(e: unknown): Promise<Step> {
    // Stopping aborts the request in flight: that is no failure to report.
    if (!this.#running) return { kind: 'again' };
    if (e instanceof ResyncRequiredError) {
      this.#resync = true;
      return { kind: 'again' };
    }
    if (e instanceof CursorMovedError) return { kind: 'again' };
    this.#d.failed('pull', e);
    if (e instanceof RegisterRevokedError) {
      await this.#d.revoked();
      return { kind: 'locked' };
    }
    if (e instanceof SyncNetworkError) {
      if (!this.#running) return { kind: 'again' };
      if (!this.#d.isOnline()) return { kind: 'offline' };
      return this.#retry(undefined, false);
    }
    if (e instanceof SyncHttpError) {
      if (e.status === 429 || e.status >= 500 || e.status === 408) return this.#retry(e.retryAfterMs, false);
      return this.#retry(undefined, true);
    }
    return this.#retry(undefined, true);
  }
}
