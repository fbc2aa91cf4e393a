import { SyncEngine } from '@kassa/client';
import type { IncomingChange } from '@kassa/client';
import type { SimRegister } from './sim-register.js';

/**
 * What the run needs of a register's sync, whichever does it: the simulator's own push loop
 * ({@link SimPusher}) or the client's {@link SyncEngine} ({@link EngineSync}).
 */
export interface SimSync {
  /** Runs until {@link stop}. */
  run(): Promise<void>;
  stop(): void;
  /** The server, asked after `since` (performance clock, ms), holds everything this register wrote. */
  confirmedSince(since: number): boolean;
  /** Ops sent, retries included. */
  readonly sent: number;
  /** Times the server turned out to hold less than it had acknowledged (a restore). */
  readonly rewinds: number;
}

/**
 * The client's own sync engine (push and pull loops) driving one simulated register through its
 * chaos proxy, with short backoff so the run ends in seconds. Counts the ops it pushes by wrapping
 * fetch; asks the server directly (`/registers/me`) to confirm quiescence.
 */
export class EngineSync implements SimSync {
  sent = 0;
  /** Answers the engine got, by route and status (`sync/pull 410`), and requests that failed outright. */
  readonly answers: Record<string, number> = {};
  rewinds = 0;
  private readonly engine: SyncEngine;
  private stopped = false;
  private confirmed: { at: number; lastSeq: number } | undefined;

  constructor(
    private readonly register: SimRegister,
    proxyUrl: string,
    private readonly serverUrl: string,
    /** Test-only seam: this product's pulled upserts are applied with a wrong price (as if the change were skipped). */
    skewProduct?: string,
  ) {
    const counting: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/sync/push') && typeof init?.body === 'string') {
        this.sent += (JSON.parse(init.body) as { ops: unknown[] }).ops.length;
      }
      const route = new URL(url).pathname.replace('/api/v1/', '');
      try {
        const res = await fetch(input, init);
        this.answers[`${route} ${res.status}`] = (this.answers[`${route} ${res.status}`] ?? 0) + 1;
        return res;
      } catch (error) {
        this.answers[`${route} failed`] = (this.answers[`${route} failed`] ?? 0) + 1;
        throw error;
      }
    };
    this.engine = new SyncEngine({
      store: register.store,
      baseUrl: proxyUrl,
      database: register.file,
      // One device, one clock: the store stamps acknowledgements with it, the journal is pruned by it.
      clock: register.clock,
      fetch: counting,
      backoff: { baseMs: 50, capMs: 1000, maxRetryAfterMs: 2000 },
      pullWaitS: 2,
      requestTimeoutMs: 10_000,
      idleRecheckMs: 100,
      ...(skewProduct === undefined
        ? {}
        : {
            beforeApply: <T extends IncomingChange>(changes: readonly T[]) =>
              Promise.resolve(
                changes.map((c) =>
                  c.entity === 'product' && c.entityId === skewProduct && c.data !== null && typeof c.data === 'object'
                    ? { ...c, data: { ...(c.data as Record<string, unknown>), priceMinor: Number((c.data as Record<string, unknown>)['priceMinor']) + 1 } }
                    : c,
                ),
              ),
          }),
    });
  }

  /** The engine's status, for a failed run's report. */
  status(): unknown {
    return this.engine.status();
  }

  /** Tells the engine a command queued an op (what `notifyingStore` does for the UI). */
  notify(): void {
    this.engine.notifyLocalOp();
  }

  async run(): Promise<void> {
    await this.engine.start();
    while (!this.stopped) {
      await this.checkServer();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.engine.stop();
  }

  stop(): void {
    this.stopped = true;
  }

  confirmedSince(since: number): boolean {
    return this.confirmed !== undefined && this.confirmed.at > since && this.confirmed.lastSeq >= this.register.lastSeq() && this.engine.status().opsWaiting === 0;
  }

  private async checkServer(): Promise<void> {
    const asked = performance.now();
    try {
      const res = await fetch(`${this.serverUrl}/api/v1/registers/me`, { headers: { authorization: `Bearer ${this.register.pairing.token}` }, signal: AbortSignal.timeout(5_000) });
      if (res.status !== 200) return;
      const me = (await res.json()) as { resume: { lastSeq: number } };
      if (this.confirmed !== undefined && me.resume.lastSeq < this.confirmed.lastSeq) this.rewinds += 1;
      this.confirmed = { at: asked, lastSeq: me.resume.lastSeq };
    } catch {
      // The server is down (killed on purpose): asked again shortly.
    }
  }
}
