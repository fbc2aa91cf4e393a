import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Pairing } from './api-client.js';
import type { SimSync } from './engine-sync.js';
import type { ChildConfig, ChildMessage, ParentMessage } from './register-process.js';
import { SimSetupError } from './errors.js';
import { REPO_ROOT } from './server-control.js';
import type { ClockSkew, RecordedCommand, SimCatalog } from './sim-register.js';
import { waitFor } from './wait-for.js';

/** Steps inside a command's transaction where a register may be told to die (see the engine's `op-writer.ts`). */
export const MID_COMMAND_STEPS = ['build', 'hlc', 'validate', 'outbox', 'receipt', 'meta'] as const;

/** What the run and the checker read of a register, in process or not. */
export interface SimNode {
  readonly code: string;
  /** The register's database file. */
  readonly file: string;
  readonly pairing: Pairing;
  /** Every op the register wrote, in seq order (outbox + journal, read-only). */
  ops(): { seq: number; opId: string; op: unknown }[];
  lastSeq(): number;
  /** What the till shows on hand (thousandths). */
  onHand(productId: string, variantId: string | undefined): number;
}

/** Reads a register's database without ever writing it (a second connection, read-only). */
export class RegisterFileReader {
  private db: Database.Database | undefined;
  constructor(readonly file: string) {}

  private get conn(): Database.Database {
    this.db ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.db;
  }

  ops(): { seq: number; opId: string; op: unknown }[] {
    return this.conn
      .prepare<[], { seq: number; op_id: string; op_json: string }>('SELECT seq, op_id, op_json FROM outbox UNION ALL SELECT seq, op_id, op_json FROM journal ORDER BY seq')
      .all()
      .map((e) => ({ seq: e.seq, opId: e.op_id, op: JSON.parse(e.op_json) as unknown }));
  }

  /** The highest seq written (one indexed read; polled while draining). */
  lastSeq(): number {
    return this.conn.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM (SELECT max(seq) AS seq FROM outbox UNION ALL SELECT max(seq) AS seq FROM journal)').get()?.seq ?? 0;
  }

  outboxCount(): number {
    return this.conn.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox').get()?.n ?? 0;
  }

  onHand(productId: string, variantId: string | undefined): number {
    return this.conn.prepare<[string, string], { on_hand: number }>('SELECT on_hand FROM stock_levels WHERE product_id = ? AND variant_id = ?').get(productId, variantId ?? '')?.on_hand ?? 0;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}

/**
 * A register running as its own process (src/register-process.ts), SIGKILLed and restarted on the
 * same database file by the run. Records what its cashier was told through `onRecorded` (the
 * parent's memory and journal, outside the register's database).
 *
 * ```
 *   start(fresh) ──▶ running ──kill()/killMidCommand()──▶ dead ──start(false)──▶ running …
 *                       └──── finished() once its sales are made ──── stop() ──▶ exited
 * ```
 */
export class ChildRegister implements SimSync, SimNode {
  readonly file: string;
  private readonly reader: RegisterFileReader;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private life = 0;
  private sales = 0;
  private sentBefore = 0;
  private sentNow = 0;
  private done = false;
  private stopped = false;
  private confirmed: { at: number; lastSeq: number } | undefined;
  /** Times this register's process was SIGKILLed (mid-command or at a random moment). */
  kills = 0;
  midCommandKills = 0;
  rewinds = 0;
  /** The engine's answers by route and status, over every life. */
  readonly answers: Record<string, number> = {};
  private answersNow: Record<string, number> = {};

  constructor(
    readonly code: string,
    private readonly dir: string,
    readonly pairing: Pairing,
    private readonly catalog: SimCatalog,
    private readonly skew: ClockSkew,
    private readonly seed: number,
    private readonly salesTarget: number,
    private readonly proxyUrl: string,
    private readonly serverUrl: string,
    private readonly onRecorded: (command: RecordedCommand) => void,
  ) {
    this.file = path.resolve(dir, `${code}.sqlite`);
    this.reader = new RegisterFileReader(this.file);
  }

  get sent(): number {
    return this.sentBefore + this.sentNow;
  }

  /** The register has made all its sales (it keeps syncing until {@link stop}). */
  get finished(): boolean {
    return this.done;
  }

  get alive(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process: `fresh` on the first start (pairs, imports the catalog), then on the same file. */
  async start(fresh: boolean): Promise<void> {
    if (this.child !== undefined) return;
    this.life += 1;
    this.sentNow = 0;
    this.answersNow = {};
    const cfg: ChildConfig = {
      code: this.code,
      dir: this.dir,
      pairing: this.pairing,
      catalog: this.catalog,
      skew: this.skew,
      seed: (this.seed + this.life * 7919) >>> 0,
      fresh,
      salesLeft: this.salesTarget - this.sales,
      proxyUrl: this.proxyUrl,
      serverUrl: this.serverUrl,
    };
    const child = fork(fileURLToPath(new URL('./register-process.ts', import.meta.url)), [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, KASSA_SIM_CHILD: JSON.stringify(cfg) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    let ready = false;
    child.on('message', (m: ChildMessage) => {
      ready = true;
      if (m.t === 'recorded') {
        if (m.command.type === 'sale.completed') this.sales += 1;
        this.onRecorded(m.command);
      } else if (m.t === 'sent') {
        this.sentNow = m.sent;
        for (const [k, n] of Object.entries(m.answers)) this.answers[k] = (this.answers[k] ?? 0) - (this.answersNow[k] ?? 0) + n;
        this.answersNow = { ...m.answers };
      } else this.done = true;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL' && !this.stopped) process.stderr.write(`register ${this.code} exited on its own (code ${String(code)}, signal ${String(signal)})\n`);
        if (this.child === child) this.child = undefined;
        this.sentBefore += this.sentNow;
        this.sentNow = 0;
        this.answersNow = {};
        resolve();
      }),
    );
    // Started when it has said something (its first command or its first count), or has exited.
    let gone = false;
    void this.exited.then(() => (gone = true));
    await waitFor(
      () => {
        if (gone && !ready) throw new SimSetupError(`register ${this.code} exited while starting (its output is above)`);
        return ready;
      },
      `register ${this.code} to start`,
      { timeoutMs: 300_000, intervalMs: 20 },
    );
  }

  /** SIGKILL at this moment, whatever it is doing (a command, a push, applying a pull). */
  async kill(): Promise<void> {
    if (this.child === undefined) return;
    this.kills += 1;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Makes the register SIGKILL itself inside its next command's transaction, at `step`. If it runs
   * no command soon (its sales are made), it is SIGKILLed from outside instead.
   */
  async killMidCommand(step: string): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.kills += 1;
    child.send({ t: 'arm', step } satisfies ParentMessage);
    const died = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000))]);
    if (died) this.midCommandKills += 1;
    else {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      await this.checkServer();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Asks the process to stop its engine and exit, and waits for it. */
  stop(): void {
    this.stopped = true;
    this.child?.send({ t: 'stop' } satisfies ParentMessage);
  }

  /** Waits for the process to be gone (after {@link stop}), SIGKILLing it after `ms`. */
  async exit(ms = 15_000): Promise<void> {
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
    if (!gone) {
      this.child?.kill('SIGKILL');
      await this.exited;
    }
    this.reader.close();
  }

  ops(): { seq: number; opId: string; op: unknown }[] {
    return this.reader.ops();
  }

  /** Where it stands, for a run's diagnostics. */
  describe(): string {
    return `${this.alive ? 'alive' : 'dead'}, life ${this.life}, outbox ${this.reader.outboxCount()}, last seq ${this.lastSeq()}, server holds ${this.confirmed?.lastSeq ?? '?'}`;
  }

  lastSeq(): number {
    return this.reader.lastSeq();
  }

  onHand(productId: string, variantId: string | undefined): number {
    return this.reader.onHand(productId, variantId);
  }

  confirmedSince(since: number): boolean {
    return this.child !== undefined && this.confirmed !== undefined && this.confirmed.at > since && this.confirmed.lastSeq >= this.lastSeq() && this.reader.outboxCount() === 0;
  }

  private async checkServer(): Promise<void> {
    const asked = performance.now();
    try {
      const res = await fetch(`${this.serverUrl}/api/v1/registers/me`, { headers: { authorization: `Bearer ${this.pairing.token}` }, signal: AbortSignal.timeout(5_000) });
      if (res.status !== 200) return;
      const me = (await res.json()) as { resume: { lastSeq: number } };
      if (this.confirmed !== undefined && me.resume.lastSeq < this.confirmed.lastSeq) this.rewinds += 1;
      this.confirmed = { at: asked, lastSeq: me.resume.lastSeq };
    } catch {
      // The server is down (killed on purpose): asked again shortly.
    }
  }
}
