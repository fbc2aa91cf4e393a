/**
 * Push ingest: simulated registers push `sale.completed` ops of three lines, in batches, all at
 * once, over HTTP on loopback, to a real server process. Every answer is checked — each op must be
 * `applied` and `ackedSeq` must reach the batch's last seq — so a figure is never of work that was
 * quarantined, deferred or refused.
 *
 * ```
 *   provision registers (+ one that receives stock, so sales do not oversell)
 *   build every batch up front (core: cart → completeSale, chain, HLC), serialised
 *   warm-up: each register pushes its first batch(es)          (untimed: JIT, caches)
 *   timed:   every register pushes its remaining batches back to back, all registers at once
 * ```
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchWorld, RegisterIdentity } from './registers.js';
import { provisionRegisters, SimRegister } from './registers.js';
import type { KassaServer } from './kassa-server.js';
import { LoopbackClient } from './net.js';

/** How big an ingest run is. */
export interface IngestShape {
  /** Registers pushing at once. */
  readonly registers: number;
  /** Timed batches per register. */
  readonly batches: number;
  /** Untimed batches per register before. */
  readonly warmupBatches: number;
  /** Ops per batch. */
  readonly batchSize: number;
}

/** What one ingest run measured. */
export interface IngestResult {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerS: number;
  /** Every timed push's latency, ms. */
  readonly latenciesMs: readonly number[];
}

/** What the run leaves for the figures that follow it on the same server (pull, delta). */
export interface IngestWorld {
  readonly world: BenchWorld;
  /** A provisioned register that never pushed (for pulls). */
  readonly reader: RegisterIdentity;
}

interface PushAnswer {
  ackedSeq: number;
  results: { id: string | null; status: string; reason?: string; message?: string }[];
}

/** Loopback source address of the `i`-th simulated client (127.0.0.11, .12, …). */
export const registerAddress = (i: number): string => `127.0.0.${11 + i}`;

/** Pushes one serialised batch and checks that every op in it applied. */
export async function pushBatch(client: LoopbackClient, token: string, body: string, count: number, lastSeq: number): Promise<number> {
  const { body: answer, answer: raw } = await client.json<PushAnswer>('POST', '/api/v1/sync/push', 200, { body, headers: { authorization: `Bearer ${token}` } });
  const bad = answer.results.filter((r) => r.status !== 'applied');
  if (answer.results.length !== count || bad.length > 0 || answer.ackedSeq !== lastSeq) {
    const first = bad[0];
    throw new Error(
      `a push was not applied in full: ${bad.length} of ${count} ops not applied` +
        (first === undefined ? '' : ` (first: ${first.status} ${first.reason ?? ''} ${first.message ?? ''})`) +
        `, ackedSeq ${answer.ackedSeq} (expected ${lastSeq})`,
    );
  }
  return raw.ms;
}

/**
 * Provisions the registers (then calls `onProvisioned` with the spare one, before anything is
 * pushed) and stocks every product; returns the world, the registers and the spare register.
 */
export async function prepareIngest(
  server: KassaServer,
  shape: IngestShape,
  onProvisioned: (reader: RegisterIdentity) => Promise<void> = async () => undefined,
): Promise<{ world: BenchWorld; registers: RegisterIdentity[]; reader: RegisterIdentity }> {
  const { world, registers } = await provisionRegisters(server.storage, shape.registers + 2);
  const stocker = registers[shape.registers] as RegisterIdentity;
  const reader = registers[shape.registers + 1] as RegisterIdentity;
  await onProvisioned(reader);
  const sim = new SimRegister(world, stocker, 7);
  const client = new LoopbackClient(server.baseUrl, '127.0.0.9');
  try {
    const ids = world.products.map((p) => p.productId);
    for (let i = 0, seq = 0; i < ids.length; i += 500) {
      const op = sim.stockReceived(ids.slice(i, i + 500), 100_000_000);
      seq += 1;
      await pushBatch(client, stocker.token, JSON.stringify({ ops: [op] }), 1, seq);
    }
  } finally {
    client.close();
  }
  return { world, registers: registers.slice(0, shape.registers), reader };
}

/** Runs the ingest on `server` and returns what it measured; see {@link prepareIngest} for `onProvisioned`. */
export async function runIngest(
  server: KassaServer,
  shape: IngestShape,
  progress: (line: string) => void,
  onProvisioned?: (reader: RegisterIdentity) => Promise<void>,
): Promise<IngestResult & IngestWorld> {
  const { world, registers, reader } = await prepareIngest(server, shape, onProvisioned);
  const perRegister = shape.warmupBatches + shape.batches;
  progress(`  building ${registers.length} × ${perRegister} batches of ${shape.batchSize} sale ops`);
  const plans = registers.map((identity, i) => {
    const sim = new SimRegister(world, identity, 1000 + i);
    const bodies: { body: string; lastSeq: number }[] = [];
    for (let b = 0; b < perRegister; b++) {
      const ops = Array.from({ length: shape.batchSize }, () => sim.sale(3));
      bodies.push({ body: JSON.stringify({ ops }), lastSeq: (b + 1) * shape.batchSize });
    }
    return { identity, bodies, client: new LoopbackClient(server.baseUrl, registerAddress(i)) };
  });
  try {
    progress(`  warm-up: ${shape.warmupBatches} batch(es) per register`);
    await Promise.all(
      plans.map(async (p) => {
        for (const b of p.bodies.slice(0, shape.warmupBatches)) await pushBatch(p.client, p.identity.token, b.body, shape.batchSize, b.lastSeq);
      }),
    );
    progress(`  timed: ${registers.length} registers × ${shape.batches} batches`);
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    await Promise.all(
      plans.map(async (p) => {
        for (const b of p.bodies.slice(shape.warmupBatches)) latencies.push(await pushBatch(p.client, p.identity.token, b.body, shape.batchSize, b.lastSeq));
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ops = registers.length * shape.batches * shape.batchSize;
    return { ops, seconds, opsPerS: ops / seconds, latenciesMs: latencies, world, reader };
  } finally {
    for (const p of plans) p.client.close();
  }
}

/** The `q`-quantile (0–1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** How the latency run paces its registers. */
export interface PacedShape {
  readonly registers: number;
  /** Pushes per register. */
  readonly pushes: number;
  /** Each register pushes one batch this often (registers staggered evenly over the interval). */
  readonly intervalMs: number;
  readonly batchSize: number;
}

/**
 * Push latency while `registers` registers push at a steady pace: each sends a batch of
 * `batchSize` sales every `intervalMs` (the next one right after the answer when an answer takes
 * longer), registers staggered evenly. Fresh registers, on the server the ingest ran on.
 */
export async function runPaced(server: KassaServer, shape: PacedShape, progress: (line: string) => void): Promise<{ latenciesMs: number[]; seconds: number; offeredOpsPerS: number }> {
  const { world, registers } = await provisionRegisters(server.storage, shape.registers, 'L');
  const plans = registers.map((identity, i) => {
    const sim = new SimRegister(world, identity, 9000 + i);
    const bodies = Array.from({ length: shape.pushes }, (_, b) => ({
      body: JSON.stringify({ ops: Array.from({ length: shape.batchSize }, () => sim.sale(3)) }),
      lastSeq: (b + 1) * shape.batchSize,
    }));
    return { identity, bodies, client: new LoopbackClient(server.baseUrl, registerAddress(40 + i)) };
  });
  const offeredOpsPerS = (shape.registers * shape.batchSize * 1000) / shape.intervalMs;
  progress(`  paced: ${shape.registers} registers, one batch of ${shape.batchSize} every ${shape.intervalMs} ms each (${Math.round(offeredOpsPerS)} ops/s offered)`);
  const latencies: number[] = [];
  const started = Date.now();
  try {
    await Promise.all(
      plans.map(async (p, i) => {
        for (const [k, b] of p.bodies.entries()) {
          // A schedule, not a wait for a condition: register i's k-th push is due at this time.
          const due = started + (i * shape.intervalMs) / shape.registers + k * shape.intervalMs;
          const wait = due - Date.now();
          if (wait > 0) await delay(wait);
          latencies.push(await pushBatch(p.client, p.identity.token, b.body, shape.batchSize, b.lastSeq));
        }
      }),
    );
  } finally {
    for (const p of plans) p.client.close();
  }
  return { latenciesMs: latencies, seconds: (Date.now() - started) / 1000, offeredOpsPerS };
}
