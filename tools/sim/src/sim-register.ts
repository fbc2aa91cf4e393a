import path from 'node:path';
import { addLine, cartTotals, createCart, KassaError, qtyMilli, setLineDiscount } from '@kassa/core';
import type { Cart, Clock, TenderInput } from '@kassa/core';
import { openNodeStore } from '@kassa/client/node';
import type { AsyncRegisterStore, CatalogBatch, RegisterEngine } from '@kassa/client/node';
import Database from 'better-sqlite3';
import type { Pairing } from './api-client.js';
import type { SeededRandom } from './random.js';

/** Something the "cashier" was told succeeded: recorded outside the engine's database. */
export interface RecordedCommand {
  readonly register: string;
  readonly opId: string;
  readonly seq: number;
  readonly type: string;
  readonly receiptNo?: string;
  /** Signed minor units the command moved (sale total, refund total), when it has one. */
  readonly total?: number;
}

/** A product as the registers sell it (from the server's snapshot). */
export interface SimProduct {
  readonly id: string;
  readonly price: number;
}

/** The server's snapshot, as much of it as the simulator's registers need. */
export interface SimCatalog {
  readonly batch: CatalogBatch;
  readonly settings: Record<string, unknown>;
  readonly products: readonly SimProduct[];
  readonly cashierId: string;
  readonly managerId: string;
}

interface SnapshotItem {
  readonly entity: string;
  readonly data: Record<string, unknown>;
}

/**
 * Reads the whole snapshot with a device token (straight to the server, before the chaos starts)
 * and turns it into the register store's catalog batch. This is the simulator's own minimal
 * mapping, used because the client's sync engine (which bootstraps for real) is not committed yet.
 */
export async function fetchCatalog(serverUrl: string, token: string): Promise<SimCatalog> {
  const items: SnapshotItem[] = [];
  let page: string | null = '';
  while (page !== null) {
    const res = await fetch(`${serverUrl}/api/v1/sync/snapshot${page === '' ? '' : `?page=${encodeURIComponent(page)}`}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`snapshot: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: SnapshotItem[]; nextPage: string | null };
    items.push(...body.items);
    page = body.nextPage;
  }
  const of = (entity: string) => items.filter((i) => i.entity === entity).map((i) => i.data);
  const store = of('store')[0];
  const products = of('product').filter((p) => p['weighed'] !== true && p['active'] !== false);
  const staff = of('staff').filter((s) => s['active'] !== false);
  const idOfRole = (role: string) => String(staff.find((s) => s['role'] === role)?.['id'] ?? '');
  return {
    settings: { ...((store?.['settings'] as Record<string, unknown> | undefined) ?? {}), limits: { cashierDiscountLimitPpm: 100_000 } },
    batch: {
      taxRates: of('tax_rate').map((t) => ({ id: String(t['id']), name: String(t['name']), ratePpm: Number(t['ratePpm']) })),
      products: products.map((p) => ({
        id: String(p['id']),
        sku: String(p['sku']),
        name: String(p['name']),
        unitPrice: Number(p['priceMinor']),
        currency: String(p['currency']),
        taxRateIds: (p['taxRateIds'] as string[] | undefined) ?? [],
      })),
      staff: staff.map((s) => ({ id: String(s['id']), name: String(s['name']), role: s['role'] as 'cashier' })),
    },
    products: products.map((p) => ({ id: String(p['id']), price: Number(p['priceMinor']) })),
    cashierId: idOfRole('cashier'),
    managerId: idOfRole('manager'),
  };
}

/** How far off a register's clock is: most are right, some ±1 day, one believes it is 2000. */
export type ClockSkew = 'none' | 'plus_day' | 'minus_day' | 'year_2000';

const DAY = 86_400_000;

function skewedClock(skew: ClockSkew): Clock {
  const offset = skew === 'plus_day' ? DAY : skew === 'minus_day' ? -DAY : skew === 'year_2000' ? Date.UTC(2000, 0, 1) - Date.now() : 0;
  return { now: () => Date.now() + offset };
}

/**
 * One simulated register: a real `@kassa/client` engine on its own better-sqlite3 file (in
 * process), paired through the real pairing API, with a seeded "cashier" that runs commands.
 * Only what COMMIT returned is recorded, and it is recorded outside the engine's database.
 */
export class SimRegister {
  readonly engine: RegisterEngine;
  /** The register's clock (right, a day off, or in 2000): the engine's and its sync engine's. */
  readonly clock: Clock;
  /** The same engine behind its asynchronous API (what the client's sync engine takes). */
  readonly store: AsyncRegisterStore;
  /** The register's database file (absolute). */
  readonly file: string;
  /** Commands the engine refused (named errors) or the fault hook aborted. */
  refused = 0;
  /** Orders this register completed, to refund from later: order id and one line id. */
  private readonly sales: { orderId: string; lineId: string }[] = [];
  private customers: string[] = [];

  constructor(
    readonly code: string,
    dir: string,
    readonly pairing: Pairing,
    readonly catalog: SimCatalog,
    readonly skew: ClockSkew,
    private readonly random: SeededRandom,
    options: {
      /** False: the register's file exists from an earlier life (a restart after a SIGKILL); it is opened as it is. */
      readonly fresh?: boolean;
      /** Called before each step of each command (the engine's fault seam). */
      readonly beforeStep?: (step: string) => void;
    } = {},
  ) {
    this.file = path.resolve(dir, `${code}.sqlite`);
    this.clock = skewedClock(skew);
    const opened = openNodeStore(this.file, { clock: this.clock, ...(options.beforeStep === undefined ? {} : { faults: { beforeStep: options.beforeStep } }) });
    this.engine = opened.engine;
    this.store = opened.store;
    if (options.fresh !== false) {
      const { deviceId, storeId, storeCode, registerCode, token, resume } = pairing;
      this.engine.pair({ deviceId, storeId, storeCode, registerCode, token, resume, pairedAt: Date.now() });
      this.engine.writeSettings(catalog.settings as Parameters<RegisterEngine['writeSettings']>[0]);
      this.engine.importCatalog(catalog.batch);
    } else {
      // What this register sold in its earlier lives can be refunded in this one.
      this.reader = new Database(this.file, { readonly: true, fileMustExist: true });
      for (const o of this.reader.prepare<[], { id: string; payload_json: string }>("SELECT id, payload_json FROM orders WHERE status = 'completed'").all()) {
        const lineId = (JSON.parse(o.payload_json) as { lines?: { lineId: string }[] }).lines?.[0]?.lineId;
        if (lineId !== undefined) this.sales.push({ orderId: o.id, lineId });
      }
    }
    if (this.engine.currentShift() === undefined) {
      const shift = this.engine.openShift({ staffId: catalog.cashierId, float: { denominations: [{ denomination: 1000, count: 10 }], total: 10_000 } });
      this.opened = this.record(shift.op);
    }
  }

  /** The shift opening the register did while being set up (absent when a restarted register found its shift open): a command the cashier saw succeed. */
  readonly opened: RecordedCommand | undefined;

  /** Test-only: ops this "engine" pretends it lost from its outbox after COMMIT (the checker must report them). */
  private readonly dropped = new Set<string>();

  /**
   * The device's ops so far, in seq order: the outbox and the journal of acknowledged ops (read
   * through a second, read-only connection, so the simulator never writes the engine's database).
   */
  ops(): { seq: number; opId: string; op: unknown }[] {
    this.reader ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.reader
      .prepare<[], { seq: number; op_id: string; op_json: string }>('SELECT seq, op_id, op_json FROM outbox UNION ALL SELECT seq, op_id, op_json FROM journal ORDER BY seq')
      .all()
      .filter((e) => !this.dropped.has(e.op_id))
      .map((e) => ({ seq: e.seq, opId: e.op_id, op: JSON.parse(e.op_json) as unknown }));
  }

  /** What the till shows on hand (thousandths). */
  onHand(productId: string, variantId: string | undefined): number {
    return this.engine.onHand(productId, variantId);
  }

  /** The highest seq this register has written (and not "lost" through the test seam). */
  lastSeq(): number {
    // Polled every 50 ms while draining: one indexed read, not every op parsed.
    this.reader ??= new Database(this.file, { readonly: true, fileMustExist: true });
    const rows = this.reader
      .prepare<[number], { seq: number; op_id: string }>('SELECT seq, op_id FROM (SELECT seq, op_id FROM outbox UNION ALL SELECT seq, op_id FROM journal) ORDER BY seq DESC LIMIT ?')
      .all(this.dropped.size + 1);
    return rows.find((r) => !this.dropped.has(r.op_id))?.seq ?? 0;
  }

  private reader: Database.Database | undefined;

  /** Test-only seam: silently drop one committed op, as a broken engine would. */
  dropOp(opId: string): void {
    this.dropped.add(opId);
  }

  /**
   * Runs one seeded command (a sale most of the time) and returns what the cashier was told, or
   * nothing when the command failed (and so, by the engine's contract, left no trace).
   */
  step(injectFault: boolean): RecordedCommand | undefined {
    if (injectFault) this.engine.setFaultPlan({ throwAt: 'build' });
    try {
      return this.command();
    } catch (error) {
      // A refused command (core's or the engine's named error, or the injected fault) is what the
      // cashier sees as an error: nothing to record. Anything else is a bug and ends the run.
      if (error instanceof KassaError) {
        this.refused += 1;
        return undefined;
      }
      throw error;
    } finally {
      if (injectFault) this.engine.setFaultPlan(null);
    }
  }

  /** A seeded UUID (v4 layout) for tender ids: replayable with the run's seed. */
  private id(): string {
    const hex = Array.from({ length: 32 }, () => this.random.int(0, 15).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  private record(op: { id: string; seq: number; type: string }, extra: { receiptNo?: string; total?: number } = {}): RecordedCommand {
    return { register: this.code, opId: op.id, seq: op.seq, type: op.type, ...extra };
  }

  private command(): RecordedCommand {
    const roll = this.random.next();
    const { cashierId, managerId } = this.catalog;
    if (roll < 0.08 && this.sales.length > 0) {
      const sale = this.random.pick(this.sales);
      this.sales.splice(this.sales.indexOf(sale), 1);
      const r = this.engine.refund({
        goods: { kind: 'receipt', orderId: sale.orderId, lines: [{ saleLineId: sale.lineId, qty: qtyMilli(1000), restock: true }] },
        tenders: [{ tenderId: this.id(), kind: 'cash' }],
        reason: 'Customer return',
        staffId: managerId,
      });
      return this.record(r.op, { receiptNo: r.receiptNo, total: -r.total });
    }
    if (roll < 0.13) {
      const r = this.engine.moveCash({ direction: this.random.chance(0.5) ? 'in' : 'out', amount: this.random.int(100, 5000), reason: 'Change', staffId: managerId });
      return this.record(r.op);
    }
    if (roll < 0.18) {
      const product = this.random.pick(this.catalog.products);
      const r = this.engine.countStock({ lines: [{ productId: product.id, counted: this.random.int(0, 50) * 1000 }], staffId: managerId });
      return this.record(r.op);
    }
    if (roll < 0.22) {
      const existing = this.customers.length > 0 && this.random.chance(0.5) ? this.random.pick(this.customers) : undefined;
      const r = this.engine.saveCustomer({
        ...(existing === undefined ? {} : { customerId: existing }),
        changes: { name: `Customer ${this.random.int(1, 9999)}`, loyalty: this.random.chance(0.5) },
        staffId: cashierId,
      });
      if (existing === undefined) this.customers.push(r.customerId);
      if (r.op !== null) return this.record(r.op);
    }
    if (roll < 0.25) {
      const product = this.random.pick(this.catalog.products.slice(0, 10));
      const r = this.engine.editProduct({ productId: product.id, changes: { price: this.random.int(50, 5000) }, staffId: managerId });
      if (r.op !== null) return this.record(r.op);
    }
    return this.sale();
  }

  private sale(): RecordedCommand {
    const { cashierId, managerId } = this.catalog;
    let cart: Cart = createCart(this.engine.cartSettings());
    const lines = this.random.int(1, 8);
    for (let i = 0; i < lines; i++) {
      const product = this.random.pick(this.catalog.products);
      cart = addLine(cart, this.engine.getItem(product.id), qtyMilli(this.random.int(1, 3) * 1000));
    }
    if (this.random.chance(0.2)) {
      const key = cart.lines[0]?.key ?? 0;
      cart = setLineDiscount(cart, key, { kind: 'percent', ppm: 50_000 });
    }
    const total = cartTotals(cart).total.amount;
    const tenders: TenderInput[] = this.random.chance(0.3) ? this.splitTenders(Number(total)) : [{ tenderId: this.id(), kind: 'cash', given: Number(total) + this.random.int(0, 2000) }];
    const done = this.engine.completeSale({ cart, staffId: cashierId, tenders, approvedBy: managerId });
    const line = done.op.payload.lines[0];
    if (line !== undefined) this.sales.push({ orderId: done.orderId, lineId: line.lineId });
    return this.record(done.op, { receiptNo: done.receiptNo, total: done.op.payload.total });
  }

  /** Split tenders for a known total: some by card, the rest in cash. */
  private splitTenders(total: number): TenderInput[] {
    const card = this.random.int(0, total);
    return [
      { tenderId: this.id(), kind: 'card', amount: card, brand: 'visa', last4: '4242', approvalCode: 'A1B2C3', providerRef: `ref-${this.id().slice(-8)}` },
      { tenderId: this.id(), kind: 'cash', given: total - card + 500 },
    ];
  }

  /** Closes the engine's database. */
  close(): void {
    this.reader?.close();
    this.engine.close();
  }
}
