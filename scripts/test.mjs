#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, with one summary at the end.
// Each step runs even when an earlier one failed, so one run shows everything that is wrong;
// the exit code is non-zero when any step failed.
import { spawnSync } from 'node:child_process';

const steps = [
  { name: 'typecheck', cmd: 'npx', args: ['tsc', '-b', '--pretty'] },
  { name: 'lint', cmd: 'npx', args: ['eslint', '--max-warnings', '0', '.'] },
  { name: 'tests', cmd: 'npx', args: ['vitest', 'run', ...process.argv.slice(2)] },
];

const results = [];
for (const step of steps) {
  console.log(`\n▶ ${step.name}: ${[step.cmd, ...step.args].join(' ')}`);
  const started = Date.now();
  const run = spawnSync(step.cmd, step.args, { stdio: 'inherit', env: process.env });
  const ok = run.status === 0;
  results.push({ name: step.name, ok, seconds: (Date.now() - started) / 1000, detail: run.error?.message });
}

console.log('\nSummary');
for (const r of results) {
  console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(10)} ${r.seconds.toFixed(1)} s${r.detail ? `  (${r.detail})` : ''}`);
}
const failed = results.filter((r) => !r.ok);
console.log(failed.length === 0 ? 'All checks passed.' : `${failed.length} of ${results.length} checks failed: ${failed.map((r) => r.name).join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
