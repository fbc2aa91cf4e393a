/**
 * The proof harness's figures (issue 8): one run of `npm run sim` — 20 registers (as processes,
 * SIGKILLed 10 times) × 500 sales, chaos 0.2, 10 server kills, SQLite — driven from outside as a
 * child process, its JSON verdict read back. `sim_20x500_s` is the whole run's wall time;
 * `converge_s` the seconds from the heal until every register's catalog and stock equal the
 * server's (goal ≤ 10, with 0 lost and 0 duplicated). A quick run is a tiny sim (meaningless values).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The sim's figures, by their stable names. */
export const SIM_FIGURES = ['sim_20x500_s', 'converge_s'] as const;

/** One of {@link SIM_FIGURES}. */
export type SimFigure = (typeof SIM_FIGURES)[number];

/** The goals of issue 8, as text for the table. */
export const SIM_GOALS: Readonly<Record<SimFigure, string>> = {
  sim_20x500_s: '0 lost, 0 duplicated (see details.sim)',
  converge_s: '≤ 10',
};

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const FULL = ['--registers', '20', '--sales', '500', '--chaos', '0.2', '--kills', '10', '--register-kills', '10', '--seed', '42'];
const QUICK = ['--registers', '2', '--sales', '5', '--chaos', '0.2', '--kills', '1', '--seed', '42'];

/** Runs the sim and returns its figures and its whole verdict (details). */
export async function runSimFigures(quick: boolean, log: (line: string) => void): Promise<{ figures: Partial<Record<SimFigure, number>>; details: Record<string, unknown> }> {
  const args = [...(quick ? QUICK : FULL), '--json'];
  log(`sim: npm run sim -- ${args.join(' ')}`);
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/sim/src/main.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let verdict: Record<string, unknown>;
  try {
    verdict = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the sim printed no verdict (exit ${String(code)}): ${stderr.slice(-2000)}`);
  }
  // A failed verdict (a loss, a duplicate, no convergence) still has its timings; it is in the details.
  if (code !== 0) log(`sim: verdict failed (exit ${String(code)}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
  const figures: Partial<Record<SimFigure, number>> = {};
  if (typeof verdict['seconds'] === 'number') figures.sim_20x500_s = verdict['seconds'];
  if (typeof verdict['converge_s'] === 'number') figures.converge_s = verdict['converge_s'];
  return { figures, details: { ...verdict, ok: code === 0 } };
}
