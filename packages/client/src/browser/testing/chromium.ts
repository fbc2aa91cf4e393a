/**
 * What the Chromium tests of the register tab need in Node (tests only, never bundled): Debian's
 * Chromium from `scripts/ensure-chromium`, the tab harness built with Vite and served from a
 * static server on a free localhost port, and a Chromium this process spawns itself, so a test
 * can SIGKILL its whole process group — a crash, not a polite close — and relaunch it on the same
 * profile.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '../../../../..');
const harnessDir = join(here, '../../../test-browser');

/** Headless, quiet, no network beyond loopback (the same flags as the store's Chromium tests). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable; throws with ensure-chromium's message when there is none. */
export function ensureChromium(): string {
  const run = spawnSync('bash', [join(repoRoot, 'scripts/ensure-chromium')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`no Chromium for the browser tests (scripts/ensure-chromium said: ${run.stderr.trim()})`);
  return run.stdout.trim();
}

/** Builds the tab harness (tab.html, its workers, sw.js, precache.json) into `outDir`. */
export async function buildTabHarness(outDir: string): Promise<void> {
  await build({ configFile: join(harnessDir, 'tab.vite.config.ts'), build: { outDir }, logLevel: 'warn' });
}

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** A static file server on a free port of 127.0.0.1. */
export interface StaticServer {
  /** `http://localhost:<port>`: a secure context, so OPFS and service workers work. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `dir`. */
export function serveStatic(dir: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'tab.html' : path);
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://localhost:${String((server.address() as AddressInfo).port)}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** Polls `condition` every `intervalMs` until it holds; throws `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** One line of /proc/<pid>/stat, the fields a crash test needs. */
interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly pgrp: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '?', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function processesInGroup(pgrp: number): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => procStat(Number(name)))
    .filter((s): s is ProcStat => s !== undefined && s.pgrp === pgrp);
}

/** A Chromium this process spawned, attached over CDP. */
export interface SpawnedChromium {
  readonly browser: Browser;
  /** The browser process, leader of its own process group. */
  readonly pid: number;
  /** SIGKILLs the whole process group and resolves once none of it runs any more. */
  kill(): Promise<void>;
  /** Closes the browser politely (end of a test). */
  close(): Promise<void>;
}

/**
 * Spawns Chromium on a persistent profile with `--remote-debugging-port=0`, in its own process
 * group, reads the port it chose from `<profile>/DevToolsActivePort` (a stale file from a killed
 * run is deleted first) and attaches with playwright-core's `connectOverCDP`.
 */
export async function spawnChromium(executablePath: string, profileDir: string, extraArgs: readonly string[] = []): Promise<SpawnedChromium> {
  const portFile = join(profileDir, 'DevToolsActivePort');
  rmSync(portFile, { force: true });
  const child = spawn(executablePath, [...CHROMIUM_ARGS, ...extraArgs, `--user-data-dir=${profileDir}`, '--remote-debugging-port=0', 'about:blank'], {
    detached: true,
    stdio: 'ignore',
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('Chromium did not start');
  let exited = false;
  child.once('exit', () => (exited = true));
  const readPort = (): string | undefined => {
    if (!existsSync(portFile)) return undefined;
    const port = readFileSync(portFile, 'utf8').split('\n')[0]?.trim();
    return port === undefined || port === '' ? undefined : port;
  };
  await waitUntil(() => exited || readPort() !== undefined, 'Chromium to write DevToolsActivePort', 30_000);
  const port = readPort();
  if (exited || port === undefined) throw new Error('Chromium exited before it listened for DevTools');
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);

  const gone = (): boolean => processesInGroup(pid).every((p) => p.state === 'Z' || p.state === 'X');
  return {
    browser,
    pid,
    async kill() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      // A killed process stays a zombie until its parent reaps it; a zombie holds no file open.
      await waitUntil(gone, `Chromium's process group ${String(pid)} to die`, 30_000);
    },
    async close() {
      await browser.close().catch(() => undefined);
      if (!exited) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await waitUntil(gone, `Chromium's process group ${String(pid)} to end`, 30_000);
    },
  };
}

/**
 * A seeded pseudo-random source (mulberry32): the crash test draws its kill moments from it, so a
 * failing run can be replayed with its seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
