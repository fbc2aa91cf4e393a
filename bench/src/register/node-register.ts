/**
 * The register engine in Node (better-sqlite3 on a temp file, `@kassa/client/node`) against a real
 * server process, driven by the client's own `SyncEngine`:
 *
 * - `drain_10k_s`: sales queued while the engine is stopped (offline), then the time from the
 *   engine's start to an empty outbox, every op acknowledged `applied` and stored once on the server.
 * - `bootstrap_100k_s`: a new register's time from the engine's start to the end of its snapshot
 *   bootstrap (every page applied, the pull cursor saved), with the server holding the large catalog.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addLine, createCart, qtyMilli } from '@kassa/core';
import { SyncEngine } from '@kassa/client';
import { openBetterSqlite3, openNodeStore } from '@kassa/client/node';
import type { NodeRegisterStore } from '@kassa/client/node';
import { openStorage } from '@kassa/server';
import type { KassaServer } from '../kassa-server.js';
import { waitFor } from '../net.js';
import type { BenchWorld, RegisterIdentity } from '../registers.js';
import type { SeededProduct } from './catalog-seed.js';

/** A register database in a temp folder, paired as `identity` (provisioned on the server). */
export interface NodeRegister {
  readonly file: string;
  readonly node: NodeRegisterStore;
  /** A sync engine on this database, talking to `server`. */
  engine(): SyncEngine;
  /** Closes the database and removes its folder. */
  dispose(): void;
}

/** Opens a fresh register store and records the provisioned identity, as pairing does. */
export async function openNodeRegister(server: KassaServer, world: BenchWorld, identity: RegisterIdentity): Promise<NodeRegister> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-bench-register-'));
  const file = path.join(dir, 'register.sqlite');
  const node = openNodeStore(file);
  await node.store.pair({
    deviceId: identity.deviceId,
    storeId: world.storeId,
    storeCode: world.storeCode,
    registerCode: identity.code,
    token: identity.token,
    resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
    pairedAt: Date.now(),
  });
  return {
    file,
    node,
    // A long-poll of 1 s, so stopping the engine never waits out the default 25 s.
    engine: () => new SyncEngine({ store: node.store, baseUrl: server.baseUrl, database: file, pullWaitS: 1 }),
    dispose() {
      try {
        node.engine.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Waits until the register has a pull cursor, no bootstrap in progress and the engine is idle. */
async function bootstrapped(reg: NodeRegister, sync: SyncEngine, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const info = reg.node.engine.syncInfo();
      const status = sync.status();
      if (status.lastError !== null && (status.phase === 'error' || status.phase === 'locked')) throw new Error(`sync failed: ${status.lastError.code} ${status.lastError.message}`);
      return info.pullCursor !== null && info.bootstrap === null && status.phase === 'idle' ? true : undefined;
    },
    { what: 'the register to finish its bootstrap', timeoutMs },
  );
}

/** What {@link runDrain} measured and checked. */
export interface DrainResult {
  readonly sales: number;
  /** Every op the engine pushed (sales, the shift, stock received). */
  readonly ops: number;
  readonly seconds: number;
  readonly queueSeconds: number;
}

/**
 * Queues `sales` 3-line sales (cash) on a bootstrapped register whose engine is stopped, then starts
 * the engine and times it to an empty outbox. Checks: the journal holds every op as `applied`, the
 * server stores each of the register's ops exactly once.
 */
export async function runDrain(server: KassaServer, world: BenchWorld, identity: RegisterIdentity, sales: number, log: (line: string) => void): Promise<DrainResult> {
  const reg = await openNodeRegister(server, world, identity);
  try {
    log(`  drain: register ${identity.code} bootstraps the demo catalog`);
    const first = reg.engine();
    await first.start();
    await bootstrapped(reg, first, 60_000);
    await first.stop();

    const engine = reg.node.engine;
    const cashier = world.cashierIds[0];
    if (cashier === undefined) throw new Error('no cashier');
    const pool = world.products.slice(0, 60).map((p) => engine.getItem(p.productId));
    log(`  drain: queueing ${sales.toLocaleString('en-US')} sales offline`);
    const queued = performance.now();
    engine.openShift({ staffId: cashier, float: { denominations: [], total: 10_000 } });
    // Stock in first, so no sale oversells (an alert per sale would measure something else).
    for (const item of pool) engine.adjustStock({ productId: item.productId, qtyDelta: sales * 3000, reason: 'found', staffId: world.managerId });
    const settings = engine.cartSettings();
    for (let i = 0; i < sales; i++) {
      let cart = createCart(settings);
      for (let l = 0; l < 3; l++) cart = addLine(cart, pool[(i * 3 + l * 7) % pool.length] ?? pool[0]!, qtyMilli(1000));
      engine.completeSale({ cart, staffId: cashier, tenders: [{ tenderId: randomUUID(), kind: 'cash', given: 1_000_000 }] });
    }
    const queueSeconds = (performance.now() - queued) / 1000;
    const ops = engine.syncInfo().opsWaiting;
    if (ops !== sales + pool.length + 1) throw new Error(`expected ${sales + pool.length + 1} ops waiting, found ${ops}`);

    log(`  drain: ${ops.toLocaleString('en-US')} ops waiting; starting the sync engine (timed)`);
    const sync = reg.engine();
    const started = performance.now();
    await sync.start();
    await waitFor(
      async () => {
        const s = sync.status();
        if (s.phase === 'error' || s.phase === 'locked') throw new Error(`sync failed: ${s.lastError?.code ?? ''} ${s.lastError?.message ?? ''}`);
        return engine.syncInfo().opsWaiting === 0 ? true : undefined;
      },
      { what: 'the outbox to drain', timeoutMs: 600_000 },
    );
    const seconds = (performance.now() - started) / 1000;
    await sync.stop();

    const journal = engine.journal();
    const applied = journal.filter((j) => j.status === 'applied').length;
    if (journal.length !== ops || applied !== ops) throw new Error(`journal: ${journal.length} entries, ${applied} applied, expected ${ops}`);
    const storage = openStorage(server.storage);
    try {
      const stored = await storage.db.selectFrom('facts').select((eb) => eb.fn.countAll<number | string>().as('n')).where('register_id', '=', identity.deviceId).executeTakeFirstOrThrow();
      const distinct = await storage.db.selectFrom('facts').select((eb) => eb.fn.count<number | string>('id').distinct().as('n')).where('register_id', '=', identity.deviceId).executeTakeFirstOrThrow();
      if (Number(stored.n) !== ops || Number(distinct.n) !== ops) throw new Error(`the server stores ${String(stored.n)} facts (${String(distinct.n)} distinct) of the register, expected ${ops}`);
    } finally {
      await storage.close();
    }
    return { sales, ops, seconds, queueSeconds };
  } finally {
    reg.dispose();
  }
}

/** What {@link runBootstrap} measured and checked. */
export interface BootstrapResult {
  /** Snapshot items (products, stock levels, staff, …) as the server counted them. */
  readonly items: number;
  readonly products: number;
  readonly seconds: number;
  /** Progress events seen (done/total). */
  readonly progressEvents: number;
  /** The Node process's V8 heap right after (the register in Node; the browser's is `register_heap_mb`). */
  readonly nodeHeapUsedMb: number;
}

/**
 * A new register bootstraps from the server's snapshot; timed from the engine's start to the cursor
 * saved with nothing left to fetch. Checks: the register holds at least `minProducts` products,
 * every sample is found by its barcode and by a search for its SKU.
 */
export async function runBootstrap(server: KassaServer, world: BenchWorld, identity: RegisterIdentity, minProducts: number, sample: readonly SeededProduct[], log: (line: string) => void): Promise<BootstrapResult> {
  const reg = await openNodeRegister(server, world, identity);
  try {
    const sync = reg.engine();
    let total = 0;
    let events = 0;
    sync.subscribe((s) => {
      if (s.bootstrap !== null && s.bootstrap.total > 0) {
        total = s.bootstrap.total;
        events += 1;
      }
    });
    log(`  bootstrap: register ${identity.code} loads the snapshot (timed)`);
    const started = performance.now();
    await sync.start();
    await bootstrapped(reg, sync, 600_000);
    const seconds = (performance.now() - started) / 1000;
    await sync.stop();
    const nodeHeapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

    const engine = reg.node.engine;
    const reader = openBetterSqlite3(reg.file);
    let products: number;
    try {
      products = reader.get<{ n: number }>('SELECT count(*) AS n FROM products')?.n ?? 0;
    } finally {
      reader.close();
    }
    if (products < minProducts) throw new Error(`the register holds ${products} products after its bootstrap, expected at least ${minProducts}`);
    for (const p of sample) {
      const hit = engine.findByBarcode(p.barcode);
      if (hit?.item.productId !== p.id) throw new Error(`barcode ${p.barcode} did not find ${p.sku}`);
      const found = engine.search(p.sku);
      if (!found.some((f) => f.productId === p.id)) throw new Error(`a search for ${p.sku} did not find it`);
    }
    return { items: total, products, seconds, progressEvents: events, nodeHeapUsedMb };
  } finally {
    reg.dispose();
  }
}
