#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, with one summary at the end.
// Each step runs even when an earlier one failed, so one run shows everything that is wrong;
// the exit code is non-zero when any step failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

// vitest also writes a JSON report here, so the summary can end with the plain
// "N passed, N failed" line that CI reads.
const RESULTS = 'node_modules/.cache/kassa-test-results.json';
rmSync(RESULTS, { force: true });

const steps = [
  { name: 'typecheck', cmd: 'npx', args: ['tsc', '-b', '--pretty'] },
  { name: 'lint', cmd: 'npx', args: ['eslint', '--max-warnings', '0', '.'] },
  {
    name: 'tests',
    cmd: 'npx',
    args: ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${RESULTS}`, ...process.argv.slice(2)],
  },
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
if (existsSync(RESULTS)) {
  const report = JSON.parse(readFileSync(RESULTS, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
console.log(failed.length === 0 ? 'All checks passed.' : `${failed.length} of ${results.length} checks failed: ${failed.map((r) => r.name).join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
