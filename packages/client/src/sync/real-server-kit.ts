/**
 * Test kit for running the sync engine against a REAL Kassa server process (`node
 * scripts/start.mjs`) on SQLite or on a fresh PostgreSQL database: start, SIGKILL and restart it,
 * reach its database for checks, sign in to the back office, pair registers, and put a small HTTP
 * proxy in between that can answer for the server or lose its answers.
 *
 * The client never imports the server's code: everything here goes through the process, HTTP and
 * SQL, as a register and an operator would.
 *
 * Each register talks from its own loopback address (127.0.0.x): the server's rate limits are per
 * client address, as they would be for the registers of a real shop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { FetchLike } from './sync-api.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The admin database of the test PostgreSQL (as the server's tests use). */
export const TEST_PG_ADMIN_URL = process.env['KASSA_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The owner's password every test server starts with. */
export const ADMIN_PASSWORD = 'kassa-sync-test-pw';
/** The demo owner's login. */
export const ADMIN_EMAIL = 'owner@demo.kassa';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Polls `cond` every `everyMs` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One HTTP answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A plain HTTP request from a chosen local address (so rate limits see a distinct client). */
export function httpRequest(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; signal?: AbortSignal | null },
): Promise<HttpAnswer> {
  return new Promise((resolveAnswer, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: o.method ?? 'GET',
        headers: { ...(o.headers ?? {}), ...(o.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(o.body)) }) },
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
      },
    );
    const onAbort = (): void => {
      req.destroy(new Error('aborted'));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    req.on('close', () => o.signal?.removeEventListener('abort', onAbort));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** A `fetch` for the sync engine that connects from `localAddress`. */
export function boundFetch(localAddress: string): FetchLike {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const a = await httpRequest(url, {
      method: init.method ?? 'GET',
      headers,
      ...(typeof init.body === 'string' ? { body: init.body } : {}),
      localAddress,
      signal: init.signal ?? null,
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(a.headers)) if (typeof v === 'string') out.set(k, v);
    return new Response(a.status === 204 ? null : a.body, { status: a.status, headers: out });
  };
}

/** Which database a test server runs on. */
export type DbKind = 'sqlite' | 'postgres';

/** A real server process and its database. */
export interface RealServer {
  readonly kind: DbKind;
  readonly url: string;
  /** Runs SQL against the server's database (`?` placeholders on both dialects). */
  sql<T extends object>(query: string, params?: readonly unknown[]): Promise<T[]>;
  /** SIGKILL: no goodbye, no flush. */
  kill(): void;
  /** Starts the process again on the same database and port; resolves when healthy. */
  restart(): Promise<void>;
  /** Stops the process (SIGTERM) and drops the database. */
  dispose(): Promise<void>;
  /** The server's stdout and stderr so far, for failure messages. */
  output(): string;
}

function toPg(query: string): string {
  let n = 0;
  return query.replace(/\?/g, () => `$${String(++n)}`);
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${TEST_PG_ADMIN_URL} (${e instanceof Error ? e.message : String(e)}); these tests need it (KASSA_TEST_PG_URL) and never skip`, { cause: e });
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Starts `node scripts/start.mjs` on a fresh database of `kind`, on its own port, with the owner's
 * password set; resolves when `/healthz` answers.
 */
export async function startServer(kind: DbKind): Promise<RealServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'kassa-real-'));
  let dbUrl: string | undefined;
  let dbName: string | undefined;
  if (kind === 'postgres') {
    dbName = `kassa_test_${randomBytes(6).toString('hex')}`;
    await pgAdmin((c) => c.query(`CREATE DATABASE ${dbName ?? ''}`));
    const u = new URL(TEST_PG_ADMIN_URL);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    KASSA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: 'warn',
    ...(dbUrl === undefined ? {} : { DATABASE_URL: dbUrl }),
  };
  delete env['NODE_OPTIONS'];
  delete env['VITEST'];
  let proc: ChildProcess | undefined;
  let log = '';
  const url = `http://127.0.0.1:${String(port)}`;
  const launch = async (): Promise<void> => {
    const p = spawn(process.execPath, ['scripts/start.mjs'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stdout?.on('data', (d: Buffer) => (log += d.toString('utf8')));
    p.stderr?.on('data', (d: Buffer) => (log += d.toString('utf8')));
    let exited = false;
    p.once('exit', () => (exited = true));
    await waitFor(
      `the server on port ${String(port)} to answer /healthz`,
      async () => {
        if (exited) throw new Error(`the server exited: ${log.slice(-2000)}`);
        const a = await httpRequest(`${url}/healthz`, {});
        return a.status === 200;
      },
      60_000,
      100,
    );
  };
  await launch();
  let pool: pg.Pool | undefined;
  const server: RealServer = {
    kind,
    url,
    async sql<T extends object>(query: string, params: readonly unknown[] = []): Promise<T[]> {
      if (kind === 'postgres') {
        pool ??= new pg.Pool({ connectionString: dbUrl, max: 2 });
        const r = await pool.query(toPg(query), [...params]);
        return r.rows as T[];
      }
      const db = new Database(join(dataDir, 'kassa.sqlite'));
      try {
        db.pragma('busy_timeout = 5000');
        const stmt = db.prepare(query);
        return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
      } finally {
        db.close();
      }
    },
    kill() {
      proc?.kill('SIGKILL');
    },
    async restart() {
      const old = proc;
      if (old !== undefined && old.exitCode === null && old.signalCode === null) await new Promise((r) => old.once('exit', r));
      await launch();
    },
    async dispose() {
      const p = proc;
      if (p !== undefined && p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
      await pool?.end();
      if (dbName !== undefined) await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName ?? ''} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
    output: () => log,
  };
  return server;
}

/** The back office, signed in as the demo owner, from one local address. */
export class BackOffice {
  #cookie = '';
  #csrf = '';
  constructor(
    readonly baseUrl: string,
    readonly localAddress: string,
  ) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await httpRequest(`${this.baseUrl}${path}`, {
      method,
      localAddress: this.localAddress,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.#cookie === '' ? {} : { cookie: this.#cookie }),
        ...(this.#csrf === '' ? {} : { 'x-csrf-token': this.#csrf }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (a.status >= 300) throw new Error(`${method} ${path} → ${String(a.status)} ${a.body}`);
    const setCookie = a.headers['set-cookie'];
    if (setCookie !== undefined) this.#cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
    return (a.body === '' ? {} : JSON.parse(a.body)) as T;
  }

  /**
   * The same signed-in session, talking from another local address: the server's general rate
   * limit counts per address, its login limit per account, so tests sign in once and spread.
   */
  at(localAddress: string): BackOffice {
    const other = new BackOffice(this.baseUrl, localAddress);
    other.#cookie = this.#cookie;
    other.#csrf = this.#csrf;
    return other;
  }

  /** Signs in as the demo owner. */
  async login(): Promise<this> {
    const r = await this.#call<{ csrfToken: string }>('POST', '/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    this.#csrf = r.csrfToken;
    return this;
  }

  /** The registers of the organisation. */
  async registers(): Promise<{ id: string; storeId: string; code: string; revoked: boolean; lastSeq: number; lastReceiptNumber: number }[]> {
    return (await this.#call<{ registers: { id: string; storeId: string; code: string; revoked: boolean; lastSeq: number; lastReceiptNumber: number }[] }>('GET', '/api/v1/registers')).registers;
  }

  /** A one-time pairing code for the demo store (for `registerCode`, when given). */
  async pairingCode(storeId: string, registerCode?: string): Promise<string> {
    return (await this.#call<{ code: string }>('POST', '/api/v1/registers/pairing-codes', { storeId, ...(registerCode === undefined ? {} : { registerCode }) })).code;
  }

  /** Edits a product as a manager would in the back office (no `fieldHlc`: based on the value now). */
  async editProduct(productId: string, changes: Record<string, unknown>): Promise<void> {
    await this.#call('PATCH', `/api/v1/products/${productId}`, changes);
  }

  /** The organisation's open alerts (of one kind, when given). */
  async alerts(kind?: string): Promise<{ key: string; kind: string; registerId: string | null; data: unknown }[]> {
    return (await this.#call<{ alerts: { key: string; kind: string; registerId: string | null; data: unknown }[] }>('GET', `/api/v1/alerts?limit=200${kind === undefined ? '' : `&kind=${kind}`}`)).alerts;
  }

  /** Revokes a register: its next request gets 401 `register_revoked`. */
  async revoke(registerId: string): Promise<void> {
    await this.#call('POST', `/api/v1/registers/${registerId}/revoke`, {});
  }
}

/** What the proxy does with one request. */
export type ProxyAction =
  | { readonly kind: 'forward' }
  /** Answer for the server, which never sees the request. */
  | { readonly kind: 'answer'; readonly status: number; readonly headers?: Record<string, string>; readonly body: string }
  /** Forward, let the server answer (it has committed), then cut the connection: the answer is lost. */
  | { readonly kind: 'drop_response' }
  /** Forward the request, then call `then` (e.g. SIGKILL the server) once the server has the whole body. */
  | { readonly kind: 'forward_then'; readonly then: () => void };

/** A request the proxy saw. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly at: number;
  readonly action: ProxyAction['kind'];
  readonly body: string;
}

/** A small HTTP proxy in front of a server, with a hook deciding per request. */
export interface FaultProxy {
  readonly url: string;
  readonly seen: ProxiedRequest[];
  decide: (req: { method: string; path: string; body: string }) => ProxyAction;
  close(): Promise<void>;
}

/** Starts a {@link FaultProxy} to `target` on a free port. */
export async function startProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const proxy: FaultProxy = {
    url: '',
    seen: [],
    decide: () => ({ kind: 'forward' }),
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const action = proxy.decide({ method: req.method ?? 'GET', path, body });
      proxy.seen.push({ method: req.method ?? 'GET', path, at: Date.now(), action: action.kind, body });
      if (action.kind === 'answer') {
        res.writeHead(action.status, { 'content-type': 'application/json', ...(action.headers ?? {}) });
        res.end(action.body);
        return;
      }
      const headers = { ...req.headers, host: t.host };
      const up = http.request({ host: t.hostname, port: t.port, path, method: req.method, headers, agent: false }, (upRes) => {
        const upChunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => upChunks.push(c));
        upRes.on('end', () => {
          if (action.kind === 'drop_response') {
            // The server committed and answered; the register never hears it.
            req.socket.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(upChunks));
        });
        upRes.on('error', () => req.socket.destroy());
      });
      up.on('error', () => req.socket.destroy());
      // A register hanging up (a long-poll it aborted) ends the upstream request too.
      res.on('close', () => up.destroy());
      up.end(body, () => {
        if (action.kind === 'forward_then') action.then();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  Object.assign(proxy, {
    url: `http://127.0.0.1:${String(port)}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return proxy;
}
