import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { FIGURES } from './bench.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the bench CLI as `npm run bench` does and returns its stdout, stderr and exit code. */
function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/src/run.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// No timing is asserted: only that a tiny run produces every figure, as one JSON object. The quick
// run starts four server processes (Kassa on SQLite twice and on PostgreSQL, PouchDB), builds the
// register's bench page and drives it in Chromium: ~4 minutes on 2 cores under heavy load.
it('prints one JSON object with every named figure as a finite positive number (quick run)', { timeout: 600_000 }, async () => {
  const { code, stdout, stderr } = await runCli(['--json', '--quick']);
  expect(code, stderr).toBe(0);
  const report = JSON.parse(stdout) as Record<string, unknown>;
  for (const name of FIGURES) {
    const value = report[name];
    expect(typeof value, name).toBe('number');
    expect(Number.isFinite(value) && (value as number) > 0, `${name} = ${String(value)}`).toBe(true);
  }
  expect(report['machine']).toMatchObject({ cpus: expect.any(Number), node: process.versions.node });
  expect(report['quick']).toBe(true);
  // The register's figures come with what was checked: the drained ops (20 sales, the shift, 60
  // stock adjustments) and the store worker whose heap was read besides the page's.
  expect(report['details']).toMatchObject({ register: { drain: { sales: 20, ops: 81 }, chromium: { heapMb: { workers: 1 } } } });
});

it('refuses an unknown figure name with a message naming the known ones', async () => {
  const { code, stdout, stderr } = await runCli(['--only', 'ingest_ops_per_s_sqlite,nope']);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toContain('unknown: nope');
  expect(stderr).toContain('pull_changes_per_s');
});
