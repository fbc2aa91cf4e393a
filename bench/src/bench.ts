/**
 * The figures and how one run produces them. One SQLite server process serves four figures in
 * turn (a register bootstraps before the ingest, the ingest fills the log, the same register then
 * follows it, then a product is edited and pulled); PostgreSQL gets its own server and database;
 * PouchDB its own server process and folder; the register engine's figures (register/figures.ts,
 * ADR 0035) a SQLite server of their own and a Chromium.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { BenchWorld, RegisterIdentity } from './registers.js';
import { SimRegister } from './registers.js';
import type { IngestShape, PacedShape } from './ingest.js';
import { quantile, runIngest, runPaced } from './ingest.js';
import { startKassa } from './kassa-server.js';
import { LoopbackClient } from './net.js';
import { runPouch } from './pouchdb.js';
import { bootstrap, oneProductDelta, pullAll } from './pull.js';
import { REGISTER_FIGURES, REGISTER_GOALS, runRegisterFigures } from './register/figures.js';
import { runSimFigures, SIM_FIGURES, SIM_GOALS } from './sim-figures.js';

/** Every figure, by its stable name. */
export const FIGURES = [
  'ingest_ops_per_s_sqlite',
  'ingest_ops_per_s_pg',
  'pouchdb_push_docs_per_s',
  'ingest_vs_pouchdb',
  'push_p99_ms_20_registers',
  'pull_changes_per_s',
  'delta_bytes_one_product',
  ...REGISTER_FIGURES,
  ...SIM_FIGURES,
] as const;

/** A figure's name. */
export type FigureName = (typeof FIGURES)[number];

/** Whether `name` is a figure's name. */
export function isFigure(name: string): name is FigureName {
  return (FIGURES as readonly string[]).includes(name);
}

/** The goals of issues 6 and 7, as text for the table. */
export const GOALS: Partial<Record<FigureName, string>> = {
  ingest_ops_per_s_sqlite: '≈ 20,000 (≥ 5× PouchDB)',
  ingest_ops_per_s_pg: '≥ 5,000',
  ingest_vs_pouchdb: '≥ 5',
  push_p99_ms_20_registers: '< 50',
  delta_bytes_one_product: '< 1,024',
  ...REGISTER_GOALS,
  ...SIM_GOALS,
};

/** Where the figures came from. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly node: string;
}

/** What `npm run bench -- --json` prints. */
export interface BenchReport {
  readonly figures: Partial<Record<FigureName, number>>;
  readonly goals: Partial<Record<FigureName, string>>;
  readonly machine: MachineInfo;
  readonly quick: boolean;
  /** The run's shape and the raw counts behind each figure. */
  readonly details: Record<string, unknown>;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  readonly only: readonly FigureName[];
  /** A tiny run (seconds): every figure is produced, none is meaningful. */
  readonly quick: boolean;
  readonly progress: (line: string) => void;
}

const FULL: IngestShape = { registers: 20, warmupBatches: 1, batches: 24, batchSize: 100 };
const QUICK: IngestShape = { registers: 4, warmupBatches: 1, batches: 2, batchSize: 20 };
/** 20 registers, each pushing 100 sales every 2 s: 1,000 ops/s offered, well below saturation. */
const PACED: PacedShape = { registers: 20, pushes: 10, intervalMs: 2000, batchSize: 100 };
const PACED_QUICK: PacedShape = { registers: 4, pushes: 2, intervalMs: 200, batchSize: 20 };

function machine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
  };
}

function latencySummary(ms: readonly number[]): Record<string, number> {
  return { p50: quantile(ms, 0.5), p90: quantile(ms, 0.9), p99: quantile(ms, 0.99), max: quantile(ms, 1) };
}

/** A catalog with the demo's shape, for a PouchDB run without a Kassa run before it. */
function syntheticWorld(): BenchWorld {
  const rate = { rateId: randomUUID(), name: 'VAT 19 %', ratePpm: 190_000 };
  const products = Array.from({ length: 500 }, (_, i) => ({
    productId: randomUUID(),
    sku: `SKU-${String(i).padStart(5, '0')}`,
    name: `Product number ${i} 500 g`,
    unitPrice: { amount: 99 + (i % 40) * 50, currency: 'EUR' as const },
    taxes: [rate],
  }));
  return { orgId: randomUUID(), storeId: randomUUID(), storeCode: 'S01', cashierIds: [randomUUID(), randomUUID()], managerId: randomUUID(), products };
}

/** Runs the selected figures (and whatever they need) and returns the report. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const want = new Set<FigureName>(options.only);
  if (want.has('ingest_vs_pouchdb')) {
    want.add('ingest_ops_per_s_sqlite');
    want.add('pouchdb_push_docs_per_s');
  }
  const shape = options.quick ? QUICK : FULL;
  const log = options.progress;
  const figures: Partial<Record<FigureName, number>> = {};
  const details: Record<string, unknown> = { shape, batchOpsLines: 3 };
  let world: BenchWorld | undefined;
  // A quick run measures nothing, so the PostgreSQL server starts while SQLite's figures run.
  let pgStarting = options.quick && want.has('ingest_ops_per_s_pg') ? startKassa('postgres') : undefined;
  // Its failure is reported where it is awaited; until then it must not count as unhandled.
  pgStarting?.catch(() => undefined);
  try {
    return await runFigures();
  } finally {
    if (pgStarting !== undefined) await pgStarting.then((s) => s.stop()).catch(() => undefined);
  }

  async function runFigures(): Promise<BenchReport> {

    const sqliteFigures: FigureName[] = ['ingest_ops_per_s_sqlite', 'push_p99_ms_20_registers', 'pull_changes_per_s', 'delta_bytes_one_product'];
    if (sqliteFigures.some((f) => want.has(f))) {
      log('Kassa on SQLite: starting a server process');
      const server = await startKassa('sqlite');
      const reader = { client: new LoopbackClient(server.baseUrl, '127.0.0.2'), cursor: '' };
      const owner = new LoopbackClient(server.baseUrl, '127.0.0.3');
      try {
        const ingest = await runIngest(server, shape, log, async (r: RegisterIdentity) => {
          reader.cursor = await bootstrap(reader.client, r);
        });
        world = ingest.world;
        figures.ingest_ops_per_s_sqlite = ingest.opsPerS;
        details['sqlite'] = {
          ops: ingest.ops,
          seconds: ingest.seconds,
          pushes: ingest.latenciesMs.length,
          // Every register pushing flat out: a push waits for the 19 queued before it.
          saturatedPushMs: latencySummary(ingest.latenciesMs),
        };

        log('  pull: the spare register follows the log from before the ingest, pages of 1000');
        const pulled = await pullAll(reader.client, ingest.reader, reader.cursor, 1000);
        figures.pull_changes_per_s = pulled.changes / pulled.seconds;
        details['pull'] = { changes: pulled.changes, pages: pulled.pages, seconds: pulled.seconds };

        log('  delta: one product edited in the back office, then pulled');
        const product = ingest.world.products[0];
        if (product === undefined) throw new Error('no product to edit');
        const delta = await oneProductDelta(owner, reader.client, ingest.reader, server.owner, product.productId, pulled.cursor);
        figures.delta_bytes_one_product = delta.wireBytes;
        details['delta'] = delta;

        if (want.has('push_p99_ms_20_registers')) {
          const paced = await runPaced(server, options.quick ? PACED_QUICK : PACED, log);
          figures.push_p99_ms_20_registers = quantile(paced.latenciesMs, 0.99);
          details['paced'] = { ...(options.quick ? PACED_QUICK : PACED), offeredOpsPerS: paced.offeredOpsPerS, pushMs: latencySummary(paced.latenciesMs) };
        }
      } finally {
        reader.client.close();
        owner.close();
        await server.stop();
      }
    }

    if (want.has('ingest_ops_per_s_pg')) {
      log('Kassa on PostgreSQL: starting a server process on a fresh database');
      const server = await (pgStarting ?? startKassa('postgres'));
      pgStarting = undefined;
      try {
        const ingest = await runIngest(server, shape, log);
        figures.ingest_ops_per_s_pg = ingest.opsPerS;
        details['postgres'] = { ops: ingest.ops, seconds: ingest.seconds, saturatedPushMs: latencySummary(ingest.latenciesMs) };
      } finally {
        await server.stop();
      }
    }

    if (want.has('pouchdb_push_docs_per_s')) {
      log('PouchDB → express-pouchdb (leveldb on disk on both sides)');
      const w = world ?? syntheticWorld();
      const perSource = (shape.warmupBatches + shape.batches) * shape.batchSize;
      const docs = Array.from({ length: shape.registers }, (_, i) => {
        const sim = new SimRegister(w, { deviceId: randomUUID(), code: `P${String(i + 1).padStart(2, '0')}`, token: '' }, 5000 + i);
        return Array.from({ length: perSource }, () => {
          const op = sim.sale(3);
          return { _id: op['id'] as string, ...op };
        });
      });
      const pouch = await runPouch(docs, shape.batchSize, log);
      figures.pouchdb_push_docs_per_s = pouch.docsPerS;
      details['pouchdb'] = { docs: pouch.docs, seconds: pouch.seconds };
    }

    if (REGISTER_FIGURES.some((f) => want.has(f))) {
      const register = await runRegisterFigures(want, options.quick, log);
      Object.assign(figures, register.figures);
      details['register'] = register.details;
    }

    if (SIM_FIGURES.some((f) => want.has(f))) {
      const sim = await runSimFigures(options.quick, log);
      Object.assign(figures, sim.figures);
      details['sim'] = sim.details;
    }

    const ingest = figures.ingest_ops_per_s_sqlite;
    const pouch = figures.pouchdb_push_docs_per_s;
    if (want.has('ingest_vs_pouchdb') && ingest !== undefined && pouch !== undefined) figures.ingest_vs_pouchdb = ingest / pouch;

    // Only what was asked for, in the canonical order.
    const asked = new Set(options.only);
    const out: Partial<Record<FigureName, number>> = {};
    for (const name of FIGURES) if (asked.has(name) && figures[name] !== undefined) out[name] = figures[name];
    const goals = Object.fromEntries(Object.entries(GOALS).filter(([k]) => asked.has(k as FigureName)));
    return { figures: out, goals, machine: machine(), quick: options.quick, details };
  }
}
