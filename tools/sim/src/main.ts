/**
 * `npm run sim -- --registers N --sales M --chaos P [--kills K] [--restore] [--db pg] [--sync engine|sim] [--seed S] [--json]`
 *
 * Exit code 0 when nothing was lost, nothing doubled and the derived state matches; 1 otherwise
 * (the seed is printed, so `--seed S` replays the run); 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { runSim } from './run-sim.js';
import type { SimReport } from './run-sim.js';

const USAGE = 'usage: npm run sim -- --registers N --sales M --chaos P [--kills K] [--restore] [--db sqlite|pg] [--sync engine|sim] [--register-kills K] [--seed S] [--json]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function intOf(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        registers: { type: 'string' },
        sales: { type: 'string' },
        chaos: { type: 'string' },
        kills: { type: 'string' },
        restore: { type: 'boolean', default: false },
        db: { type: 'string', default: 'sqlite' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        sync: { type: 'string', default: 'engine' },
        'register-kills': { type: 'string' },
      },
      strict: true,
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();

const chaos = values.chaos === undefined ? 0.2 : Number(values.chaos);
if (!(chaos >= 0 && chaos <= 1)) fail(`--chaos must be between 0 and 1 (got "${values.chaos}")`);
if (values.db !== 'sqlite' && values.db !== 'pg') fail(`--db must be sqlite or pg (got "${values.db}")`);
if (values.sync !== 'sim' && values.sync !== 'engine') fail(`--sync must be sim or engine (got "${values.sync}")`);
const seed = intOf(values.seed, 'seed', Math.floor(Math.random() * 2 ** 31));
const json = values.json;

function bar(done: number, total: number, phase: string): void {
  if (json || !process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} sales · ${phase.padEnd(20)}`);
}

function summary(r: SimReport): string {
  const lines = [
    `Kassa sim — seed ${r.seed}, ${r.db}, ${r.registers} registers × ${r.sales} sales, ${r.server_kills} server kills${r.details.restored ? ', one restore' : ''}`,
    `  commands told "done": ${r.ops}   ops sent (with retries): ${r.sent}   applied: ${r.applied}`,
    `  lost: ${r.lost}   duplicated: ${r.duplicated}   quarantined: ${r.quarantined}   conflicts: ${r.conflicts}`,
    ...(r.register_kills > 0 ? [`  register processes SIGKILLed: ${r.register_kills} (${r.details.midCommandKills} inside a command's transaction); committed but never reported to the cashier: ${r.details.unreported}`] : []),
    r.converged === null
      ? `  acknowledged ${r.converge_s} s after heal; register-side convergence: not checked (--sync sim has no pull)`
      : `  converged: ${r.converged} (${r.converge_s} s after heal: catalog and stock of every register equal the server's)`,
    `  network: ${Object.entries(r.details.proxy).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  alerts: ${Object.entries(r.details.alerts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `  alerts matched to causes: ${r.details.alertMatch.oversells} products below zero, ${r.details.alertMatch.overRefunds} over-refunded lines, ${r.details.alertMatch.skewedClocks} skewed clocks — ${r.details.alertMatch.missing.length} without their alert${r.details.alertMatch.unexpected.length > 0 ? `, ${r.details.alertMatch.unexpected.length} alerts without a cause` : ''}`,
    ...r.details.problems.map((p) => `  ! ${p}`),
    r.ok ? `OK in ${r.seconds} s` : `FAILED (seed ${r.seed}; replay with --seed ${r.seed})`,
  ];
  return lines.join('\n');
}

try {
  const report = await runSim({
    registers: intOf(values.registers, 'registers', 5, 1),
    sales: intOf(values.sales, 'sales', 60, 1),
    chaos,
    kills: intOf(values.kills, 'kills', 0),
    registerKills: intOf(values['register-kills'], 'register-kills', 0),
    restore: values.restore,
    db: values.db,
    sync: values.sync,
    seed,
    onProgress: bar,
  });
  if (!json && process.stderr.isTTY) process.stderr.write('\n');
  if (json) {
    const { details: _details, ok: _ok, ...verdict } = report;
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
  } else process.stdout.write(`${summary(report)}\n`);
  if (!report.ok) {
    if (json) process.stderr.write(`sim FAILED (seed ${seed}): ${report.details.problems.join('; ')}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`\nsim could not run (seed ${seed}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
