import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SimSetupError } from './errors.js';
import { waitFor } from './wait-for.js';

/** The repository root, where `npm start` runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where the simulator's PostgreSQL lives (its admin database, from which run databases are made). */
export const PG_ADMIN_URL = process.env['KASSA_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The back-office owner's login in every simulated run (set through the environment, never printed). */
export const SIM_ADMIN = { email: 'owner@demo.kassa', password: 'sim-owner-password-1' } as const;

/** Which database the server of a run uses. */
export type SimDb = 'sqlite' | 'pg';

/** A free TCP port on loopback (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Variables of the developer's shell that would change which database the server uses. */
const SCRUBBED = ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'KASSA_ADMIN_EMAIL', 'KASSA_ADMIN_PASSWORD', 'LOG_LEVEL', 'KASSA_TEST_DEDUPE_OFF'];

/**
 * One real server process (`node scripts/start.mjs`, what `npm start` runs) on its own fresh
 * database, which the simulator starts, SIGKILLs, restarts on the same data, and restores from a
 * copy taken earlier.
 *
 * ```
 *   create() ──▶ stopped ──start()──▶ serving ──kill()/stop()──▶ stopped ──dispose()──▶ gone
 *                  ▲  │ snapshot()/restore() only here                    │
 *                  └──┴───────────────────────────────────────────────────┘
 * ```
 * Snapshots are taken and put back with the server stopped: a SQLite file copy of a live WAL
 * database, or `CREATE DATABASE … TEMPLATE` of a database with open connections, would not be a
 * consistent copy (PostgreSQL refuses the latter outright).
 *
 * @example
 * ```ts
 * const server = await ServerControl.create('sqlite');
 * await server.start();
 * await server.kill(); // SIGKILL
 * await server.start(); // same data
 * await server.dispose();
 * ```
 */
export class ServerControl {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private snapshotTaken = false;
  /** How many times the process was SIGKILLed. */
  kills = 0;

  private constructor(
    readonly db: SimDb,
    readonly port: number,
    private readonly env: Readonly<Record<string, string>>,
    /** SQLite: the data directory; PG: the database name. */
    private readonly where: string,
    private readonly workDir: string,
  ) {}

  /** Makes a fresh database (a temp directory, or a new PostgreSQL database) and picks a port. */
  static async create(db: SimDb, extraEnv: Readonly<Record<string, string>> = {}): Promise<ServerControl> {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-sim-'));
    const port = await freePort();
    const common = { KASSA_ADMIN_EMAIL: SIM_ADMIN.email, KASSA_ADMIN_PASSWORD: SIM_ADMIN.password, ...extraEnv };
    if (db === 'sqlite') {
      const dataDir = path.join(workDir, 'server');
      fs.mkdirSync(dataDir);
      return new ServerControl(db, port, { ...common, DATA_DIR: dataDir }, dataDir, workDir);
    }
    const name = `kassa_sim_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return new ServerControl(db, port, { ...common, DATABASE_URL: url.toString(), DATA_DIR: path.join(workDir, 'server') }, name, workDir);
  }

  /** The server's base URL (loopback, no proxy in between). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** What the server printed so far (all its lives), for a failed run's report. */
  get log(): string {
    return this.output;
  }

  /** Starts the process and waits until `/healthz` answers 200. */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.includes(k)));
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: REPO_ROOT,
      env: { ...base, HOST: '127.0.0.1', PORT: String(this.port), LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let gone = false;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    await waitFor(
      async () => {
        if (gone) throw new SimSetupError(`the server exited while starting`, this.output);
        try {
          return (await fetch(`${this.url}/healthz`)).status === 200;
        } catch {
          return false;
        }
      },
      `the server on port ${this.port} to serve /healthz`,
      // Generous: on a machine shared with other work a start can take long; a hung one still fails.
      { timeoutMs: 180_000, intervalMs: 50 },
    );
  }

  /** SIGKILLs the process (no graceful shutdown: whatever was mid-transaction is cut) and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.child === undefined) return;
    this.kills += 1;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, and waits for the exit. */
  async stop(): Promise<void> {
    if (this.child === undefined) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  /** Copies the database aside (server must be stopped). Only one snapshot is kept. */
  async snapshot(): Promise<void> {
    this.assertStopped('snapshot');
    if (this.db === 'sqlite') {
      const target = path.join(this.workDir, 'snapshot');
      fs.rmSync(target, { recursive: true, force: true });
      fs.cpSync(this.where, target, { recursive: true });
    } else {
      await adminQuery(`DROP DATABASE IF EXISTS ${this.where}_snap`);
      await adminQuery(`CREATE DATABASE ${this.where}_snap TEMPLATE ${this.where}`);
    }
    this.snapshotTaken = true;
  }

  /** Puts the snapshot back in place of the current database (server must be stopped). */
  async restore(): Promise<void> {
    this.assertStopped('restore');
    if (!this.snapshotTaken) throw new SimSetupError('restore() without a snapshot');
    if (this.db === 'sqlite') {
      fs.rmSync(this.where, { recursive: true, force: true });
      fs.cpSync(path.join(this.workDir, 'snapshot'), this.where, { recursive: true });
    } else {
      await adminQuery(`DROP DATABASE ${this.where}`);
      await adminQuery(`CREATE DATABASE ${this.where} TEMPLATE ${this.where}_snap`);
    }
  }

  /** Stops the server and removes everything the run made (temp files, PostgreSQL databases). */
  async dispose(): Promise<void> {
    await this.kill();
    if (this.db === 'pg') {
      await adminQuery(`DROP DATABASE IF EXISTS ${this.where} WITH (FORCE)`);
      await adminQuery(`DROP DATABASE IF EXISTS ${this.where}_snap`);
    }
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  /**
   * Runs a read-only query on the server's database, for the checker (the server may be running:
   * SQLite in WAL mode lets a reader in; PostgreSQL is a second connection). Use `$1`-free, portable
   * SQL: plain selects, no parameters.
   */
  async query<T>(sql: string): Promise<T[]> {
    if (this.db === 'sqlite') {
      const db = new Database(path.join(this.where, 'kassa.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all() as T[];
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: this.env['DATABASE_URL'] });
    await client.connect();
    try {
      const result = await client.query(sql);
      // PostgreSQL answers bigint (OID 20) and numeric (1700, e.g. SUM) as strings; the checker compares numbers.
      const numeric = new Set(result.fields.filter((f) => f.dataTypeID === 20 || f.dataTypeID === 1700).map((f) => f.name));
      return result.rows.map((row: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, numeric.has(k) && typeof v === 'string' ? Number(v) : v])),
      ) as T[];
    } finally {
      await client.end();
    }
  }

  private assertStopped(what: string): void {
    if (this.child !== undefined) throw new SimSetupError(`${what}() needs the server stopped`);
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
