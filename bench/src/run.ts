/**
 * `npm run bench [-- --json] [-- --only a,b] [-- --quick]`: Kassa's benchmark figures.
 *
 * Prints a table, or with `--json` exactly one JSON object on stdout (progress goes to stderr).
 * Every server is a real process (`node scripts/start.mjs`) on its own port with its own temp
 * folder or fresh PostgreSQL database, dropped afterwards. See the README's Performance section
 * and docs/adr/0017-push-performance-and-bench.md (0035 for the register engine) for what each
 * figure means.
 */
import { runBench, FIGURES, isFigure } from './bench.js';
import type { FigureName } from './bench.js';

function parseArgs(argv: readonly string[]): { json: boolean; quick: boolean; only: FigureName[] } {
  let json = false;
  let quick = false;
  let only: FigureName[] = [...FIGURES];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg?.startsWith('--only=')) {
      const list = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const names = (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = names.filter((n) => !isFigure(n));
      if (names.length === 0 || unknown.length > 0) throw new Error(`--only takes figure names (${FIGURES.join(', ')}); unknown: ${unknown.join(', ') || '(none given)'}`);
      only = names as FigureName[];
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: npm run bench -- [--json] [--quick] [--only ${FIGURES.join(',')}]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${String(arg)} (try --help)`);
  }
  return { json, quick, only };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = await runBench({ only: args.only, quick: args.quick, progress: (line) => process.stderr.write(`${line}\n`) });
  if (args.json) {
    // One object: the figures by name at the top, then where and how they were made.
    const { figures, ...rest } = report;
    process.stdout.write(`${JSON.stringify({ ...figures, ...rest })}\n`);
    return;
  }
  const rows = Object.entries(report.figures).map(([name, value]) => [name, typeof value === 'number' ? formatNumber(value) : String(value), report.goals[name as FigureName] ?? '']);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length), ['figure', 'value', 'goal'][c]?.length ?? 0));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => (c === 1 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join('  ');
  process.stdout.write(`${line(['figure', 'value', 'goal'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  const m = report.machine;
  process.stdout.write(`\nmachine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}${report.quick ? ' (quick run: figures not comparable)' : ''}\n`);
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
