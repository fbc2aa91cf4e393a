import type { SimSync } from './engine-sync.js';
import type { SimRegister } from './sim-register.js';

/** Per-op statuses of DESIGN §7, as the server answered them. */
export type PushStatus = 'applied' | 'duplicate' | 'quarantined' | 'seq_conflict' | 'pending_gap' | 'deferred';

interface PushAnswer {
  readonly ackedSeq: number;
  readonly results: readonly { readonly id: string; readonly status: PushStatus; readonly reason?: string }[];
}

/** Ops per push request. */
const BATCH = 200;

/**
 * The simulator's minimal push loop for one register: it pushes the register's ops after the
 * server's acknowledged seq, through the register's chaos proxy, and takes the server's
 * `ackedSeq` as the truth — also when it goes DOWN (a restored server), so the register re-sends.
 *
 * It stands in for the client's sync engine, which was not committed when the simulator was
 * written (packages/client/src/sync); it keeps no state in the engine's database.
 *
 * ```
 *   idle ──ops after ackedSeq──▶ pushing ──200──▶ idle (ackedSeq := answer.ackedSeq)
 *    │ ▲                            │ reset / 5xx / 429
 *    │ └──── backoff (jittered, ≤1 s; Retry-After honoured) ◀──┘
 *    └─ every 200 ms: GET /registers/me; resume.lastSeq < ackedSeq (restored) ⇒ ackedSeq := lastSeq
 * ```
 */
export class SimPusher implements SimSync {
  acked = 0;
  /** Ops sent, retries included. */
  sent = 0;
  requests = 0;
  failures = 0;
  readonly statuses: Record<PushStatus, number> = { applied: 0, duplicate: 0, quarantined: 0, seq_conflict: 0, pending_gap: 0, deferred: 0 };
  /** Times the server acknowledged less than before (a restore): the register re-sent. */
  rewinds = 0;
  private stopped = false;

  constructor(
    readonly register: SimRegister,
    private readonly baseUrl: string,
    private readonly random: () => number,
  ) {
    this.acked = register.pairing.resume.lastSeq;
  }

  /** The highest seq the register has written. */
  lastSeq(): number {
    return this.register.lastSeq();
  }

  /** Whether the server has acknowledged everything the register wrote. */
  drained(): boolean {
    return this.acked >= this.lastSeq();
  }

  /**
   * Whether the server itself, asked after `since` (ms, performance clock), holds everything: a
   * restored server may have forgotten what it once acknowledged, and only asking tells.
   */
  confirmedSince(since: number): boolean {
    return this.confirmed !== undefined && this.confirmed.at > since && this.confirmed.lastSeq >= this.lastSeq() && this.drained();
  }

  private confirmed: { at: number; lastSeq: number } | undefined;
  private lastCheck = 0;

  /** Asks the server what it holds of this register (`/registers/me`), and rewinds when it holds less. */
  private async checkServer(): Promise<void> {
    this.lastCheck = performance.now();
    try {
      const asked = performance.now();
      const res = await fetch(`${this.baseUrl}/api/v1/registers/me`, { headers: { authorization: `Bearer ${this.register.pairing.token}` }, signal: AbortSignal.timeout(5_000) });
      if (res.status !== 200) return;
      const me = (await res.json()) as { resume: { lastSeq: number } };
      if (me.resume.lastSeq < this.acked) {
        this.rewinds += 1;
        this.acked = me.resume.lastSeq;
      }
      this.confirmed = { at: asked, lastSeq: me.resume.lastSeq };
    } catch {
      // Unreachable now; asked again on the next idle round.
    }
  }

  /** Ends {@link run} after its current request. */
  stop(): void {
    this.stopped = true;
  }

  /** Pushes until {@link stop}. */
  async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const pending = this.register.ops().filter((o) => o.seq > this.acked).slice(0, BATCH);
      if (pending.length === 0) {
        // Idle: ask the server now and then whether it still holds what it acknowledged.
        if (performance.now() - this.lastCheck > 200) await this.checkServer();
        else await sleep(10);
        continue;
      }
      this.requests += 1;
      this.sent += pending.length;
      let waitMs = 0;
      try {
        const res = await fetch(`${this.baseUrl}/api/v1/sync/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.register.pairing.token}` },
          body: JSON.stringify({ ops: pending.map((p) => p.op) }),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        if (res.status === 200) {
          const answer = JSON.parse(text) as PushAnswer;
          for (const r of answer.results) this.statuses[r.status] += 1;
          if (answer.ackedSeq < this.acked) this.rewinds += 1;
          this.acked = answer.ackedSeq;
          attempt = 0;
          continue;
        }
        this.failures += 1;
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 429 && Number.isFinite(retryAfter)) waitMs = retryAfter * 1000;
      } catch {
        this.failures += 1;
      }
      attempt += 1;
      // Full jitter, a short cap: the sim wants to finish, and the server's limits are not under test here.
      await sleep(Math.max(waitMs, this.random() * Math.min(1000, 20 * 2 ** attempt)));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
