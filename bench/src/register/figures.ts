/**
 * The register engine's six figures (issue 7), on one real SQLite server process: the Node
 * register drains its queued sales, then the server gets the large catalog, a Node register and
 * the Chromium register bootstrap it, and the Chromium register is timed at the till.
 * How each is measured: docs/adr/0017-push-performance-and-bench.md, "The register engine".
 */
import { quantile } from '../ingest.js';
import { startKassa } from '../kassa-server.js';
import { provisionRegisters } from '../registers.js';
import { seedCatalog } from './catalog-seed.js';
import type { BrowserShape } from './browser-register.js';
import { runInChromium } from './browser-register.js';
import { runBootstrap, runDrain } from './node-register.js';

/** The register's figures, by their stable names. */
export const REGISTER_FIGURES = ['sale_commit_p99_ms', 'barcode_lookup_p99_ms', 'search_p95_ms', 'drain_10k_s', 'bootstrap_100k_s', 'register_heap_mb'] as const;

/** One of {@link REGISTER_FIGURES}. */
export type RegisterFigure = (typeof REGISTER_FIGURES)[number];

/** The goals of issue 7, as text for the table. */
export const REGISTER_GOALS: Readonly<Record<RegisterFigure, string>> = {
  sale_commit_p99_ms: '≤ 10',
  barcode_lookup_p99_ms: '≤ 2',
  search_p95_ms: '≤ 30',
  drain_10k_s: '< 3',
  bootstrap_100k_s: '< 5',
  register_heap_mb: '< 150',
};

interface RegisterShape extends BrowserShape {
  readonly drainSales: number;
  readonly catalog: number;
  readonly sampleEvery: number;
}

const FULL: RegisterShape = { drainSales: 10_000, catalog: 100_000, sampleEvery: 97, sales: 300, warmup: 20, lookups: 1_000, searches: 300, minProducts: 100_000 };
const QUICK: RegisterShape = { drainSales: 20, catalog: 300, sampleEvery: 7, sales: 5, warmup: 1, lookups: 10, searches: 10, minProducts: 300 };

function summary(ms: readonly number[]): Record<string, number> {
  return { n: ms.length, p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), p99: quantile(ms, 0.99), max: quantile(ms, 1) };
}

/** Runs the wanted register figures; returns them and the details behind them. */
export async function runRegisterFigures(
  want: ReadonlySet<string>,
  quick: boolean,
  log: (line: string) => void,
): Promise<{ figures: Partial<Record<RegisterFigure, number>>; details: Record<string, unknown> }> {
  const shape = quick ? QUICK : FULL;
  const figures: Partial<Record<RegisterFigure, number>> = {};
  const details: Record<string, unknown> = { shape };
  const browserWanted = (['sale_commit_p99_ms', 'barcode_lookup_p99_ms', 'search_p95_ms', 'bootstrap_100k_s', 'register_heap_mb'] as const).some((f) => want.has(f));
  log('Register engine: starting a Kassa server process (SQLite)');
  const server = await startKassa('sqlite');
  try {
    const { world, registers } = await provisionRegisters(server.storage, 3, 'K');
    const [drainer, nodeRegister, browserRegister] = registers;
    if (drainer === undefined || nodeRegister === undefined || browserRegister === undefined) throw new Error('three registers were not provisioned');

    if (want.has('drain_10k_s')) {
      const drain = await runDrain(server, world, drainer, shape.drainSales, log);
      figures.drain_10k_s = drain.seconds;
      details['drain'] = { ...drain, opsPerS: drain.ops / drain.seconds };
    }
    if (!browserWanted) return { figures, details };

    log(`  seeding ${shape.catalog.toLocaleString('en-US')} products with barcodes into the server's database`);
    const seeded = await seedCatalog(server.storage, shape.catalog, shape.sampleEvery);
    details['catalog'] = { products: seeded.count, demoProducts: world.products.length, seconds: seeded.seconds };

    if (want.has('bootstrap_100k_s')) {
      const node = await runBootstrap(server, world, nodeRegister, shape.minProducts, seeded.sample.slice(0, 50), log);
      details['bootstrapNode'] = node;
    }

    const browser = await runInChromium(server, world, browserRegister, seeded.sample, shape, log);
    figures.sale_commit_p99_ms = quantile(browser.saleMs, 0.99);
    figures.barcode_lookup_p99_ms = quantile(browser.barcodeMs, 0.99);
    figures.search_p95_ms = quantile(browser.searchMs, 0.95);
    figures.bootstrap_100k_s = browser.bootstrap.seconds;
    figures.register_heap_mb = browser.heap.pageUsedMb + browser.heap.workersUsedMb;
    details['chromium'] = {
      version: browser.chromium,
      store: browser.store,
      bootstrap: browser.bootstrap,
      heapMb: browser.heap,
      saleCommitMs: summary(browser.saleMs),
      barcodeLookupMs: summary(browser.barcodeMs),
      searchMs: summary(browser.searchMs),
      workerRoundTripMs: summary(browser.pingMs),
      slowestSearches: browser.searchQueries
        .map((q, i) => ({ q, ms: browser.searchMs[i] ?? 0, found: browser.searchCounts[i] ?? 0 }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 5),
    };
    return { figures, details };
  } finally {
    await server.stop();
  }
}
