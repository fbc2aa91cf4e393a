import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './poll.js';

/** The repository root, where `npm start` runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * A free TCP port on loopback: listen on port 0, read the port, close. (The server itself may not
 * be started with PORT=0.)
 */
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

/** A server process started the way `npm start` starts it, and what it printed. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  exitCode(): number | string | undefined;
}

/** Variables a developer's shell may hold that would change which database the child uses. */
const SCRUBBED = ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'KASSA_ADMIN_EMAIL', 'KASSA_ADMIN_PASSWORD', 'LOG_LEVEL'];

/**
 * Spawns `node scripts/start.mjs` — exactly what `npm start` runs, without npm in between so a
 * signal reaches the server itself — with the given environment on top of a scrubbed copy of ours.
 */
export function spawnServer(env: Record<string, string>, port: number): ServerProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.includes(k)));
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: REPO_ROOT,
    env: { ...base, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let code: number | string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (c, signal) => {
      code = c ?? signal ?? 'unknown';
      resolve(code);
    });
  });
  return { child, port, stdout: () => out, stderr: () => err, exited, exitCode: () => code };
}

/** Waits until the server answers `/healthz` with 200 and has printed its banner; returns the health body. */
export async function waitUntilServing(server: ServerProcess): Promise<unknown> {
  const health = await pollUntil(
    async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
        return res.status === 200 ? ((await res.json()) as unknown) : undefined;
      } catch {
        return undefined;
      }
    },
    {
      what: `/healthz on port ${server.port}`,
      abort: () => (server.exitCode() === undefined ? undefined : `the server exited (${server.exitCode()}): ${server.stderr()}`),
    },
  );
  await pollUntil(() => (server.stdout().includes('Stop with Ctrl+C') ? true : undefined), { what: 'the start-up banner' });
  return health;
}

/** Sends SIGTERM and waits for the exit code. */
export async function stopServer(server: ServerProcess): Promise<number | string> {
  if (server.exitCode() === undefined) server.child.kill('SIGTERM');
  return server.exited;
}
