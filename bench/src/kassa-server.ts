/**
 * A real Kassa server process for one figure: `node scripts/start.mjs` (what `npm start` runs) on
 * its own port, with its own temporary SQLite folder or a fresh PostgreSQL database that is dropped
 * afterwards. Nothing about the server is tuned for the bench: SQLite keeps `synchronous=FULL`,
 * logging stays at its default level, the demo store is seeded as on a first start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { StorageConfig } from '@kassa/server';
import { freePort, waitFor } from './net.js';

/** The repository root, where `npm start` runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The PostgreSQL database from which the bench creates (and drops) its own databases. */
export const BENCH_PG_ADMIN_URL =
  process.env['KASSA_BENCH_PG_URL'] ?? process.env['KASSA_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A running server and how to reach and stop it. */
export interface KassaServer {
  readonly kind: 'sqlite' | 'postgres';
  readonly port: number;
  readonly baseUrl: string;
  /** The same database, for the bench's own connection (provisioning registers). */
  readonly storage: StorageConfig;
  /** The owner's back-office login. */
  readonly owner: { readonly email: string; readonly password: string };
  /** SIGTERM, wait for the exit, then remove the data folder or drop the database. */
  stop(): Promise<void>;
}

/** Variables of the caller's shell that would change which database the child uses. */
const SCRUBBED = ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'KASSA_ADMIN_EMAIL', 'KASSA_ADMIN_PASSWORD', 'LOG_LEVEL'];

async function adminQuery(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${BENCH_PG_ADMIN_URL} (${err instanceof Error ? err.message : String(err)}); set KASSA_BENCH_PG_URL`, { cause: err });
  }
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

function exitOf(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 'unknown');
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
}

/**
 * Starts a server on SQLite (a fresh temp folder) or PostgreSQL (a fresh `kassa_bench_<hex>`
 * database) and waits until it serves `/healthz` and has printed its start-up banner.
 */
export async function startKassa(kind: 'sqlite' | 'postgres'): Promise<KassaServer> {
  const port = await freePort();
  const password = randomBytes(12).toString('base64url');
  const email = 'owner@bench.kassa';
  let storage: StorageConfig;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-'));
    storage = { kind: 'sqlite', dataDir, file: path.join(dataDir, 'kassa.sqlite') };
    cleanup = async () => fs.rmSync(dataDir, { recursive: true, force: true });
  } else {
    const name = `kassa_bench_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const url = new URL(BENCH_PG_ADMIN_URL);
    url.pathname = `/${name}`;
    storage = { kind: 'postgres', url: url.toString() };
    cleanup = () => adminQuery(`drop database if exists ${name} with (force)`);
  }

  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.includes(k)));
  // A profiling aid: KASSA_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server alone.
  const nodeArgs = (process.env['KASSA_BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, 'scripts/start.mjs'], {
    cwd: REPO_ROOT,
    env: {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(port),
      KASSA_ADMIN_EMAIL: email,
      KASSA_ADMIN_PASSWORD: password,
      ...(storage.kind === 'sqlite' ? { DATA_DIR: storage.dataDir } : { DATABASE_URL: storage.url }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The server logs a JSON line per request at its default level: read and drop them, keeping only
  // whether the banner was printed and the last of stderr for an error message.
  let bannerSeen = false;
  let tail = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!bannerSeen) {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      if (tail.includes('Stop with Ctrl+C')) bannerSeen = true;
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
  const exited = exitOf(child);

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await cleanup();
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the Kassa server exited (${child.exitCode}): ${stderr}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          return res.status === 200 && bannerSeen ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { what: `the Kassa server on port ${port}`, timeoutMs: 60_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { kind, port, baseUrl: `http://127.0.0.1:${port}`, storage, owner: { email, password }, stop };
}
