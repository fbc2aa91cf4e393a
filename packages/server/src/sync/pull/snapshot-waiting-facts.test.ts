import { manualClock, movementDelta, opStockMovements, parseOp } from '@kassa/core';
import type { FactOp, SaleRef } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import { addRegister, bearer, createPushWorld, OpSequence } from '../push/push-test-kit.js';

const config = loadConfig({}, '/tmp');
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

interface Item {
  readonly entity: string;
  readonly entityId: string;
  readonly data: unknown;
}

/**
 * A register's stock as ADR 33 counts it (the client's `sync-store.ts`, modelled with core): the
 * snapshot's levels, then every fact once by op id with core's movements, and a refund or void
 * counted before its sale was known counted again, old delta out and new in, when the sale arrives.
 */
class CountingRegister {
  readonly stock = new Map<string, number>();
  readonly #seen = new Map<string, { op: FactOp; deltas: Map<string, number>; waitsFor: string | undefined }>();
  readonly #sales = new Map<string, SaleRef>();

  apply(item: Item): void {
    if (item.entity === 'stock_level') {
      const l = item.data as { productId: string; variantId: string | null; onHand: number };
      this.stock.set(`${l.productId}/${l.variantId ?? ''}`, l.onHand);
      return;
    }
    if (item.entity !== 'fact') return;
    const parsed = parseOp(item.data);
    if (!parsed.ok) throw new Error(`not an op: ${JSON.stringify(item.data)}`);
    const op = parsed.op as FactOp;
    if (this.#seen.has(op.id)) return;
    const sale = op.type === 'sale.completed' ? op.payload : op.type === 'exchange.completed' ? op.payload.sale : undefined;
    if (sale !== undefined) this.#sales.set(sale.orderId, sale as unknown as SaleRef);
    const dependsOn = op.type === 'sale.voided' ? op.payload.orderId : op.type === 'refund.completed' ? op.payload.originalOrderId : op.type === 'exchange.completed' ? op.payload.refund.originalOrderId : undefined;
    const deltas = this.#deltas(op, dependsOn);
    this.#add(deltas, 1);
    this.#seen.set(op.id, { op, deltas, waitsFor: dependsOn !== undefined && !this.#sales.has(dependsOn) ? dependsOn : undefined });
    if (sale === undefined) return;
    for (const [id, s] of this.#seen) {
      if (s.waitsFor !== sale.orderId) continue;
      const again = this.#deltas(s.op, sale.orderId);
      this.#add(s.deltas, -1);
      this.#add(again, 1);
      this.#seen.set(id, { op: s.op, deltas: again, waitsFor: undefined });
    }
  }

  #deltas(op: FactOp, orderId: string | undefined): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of opStockMovements(op, orderId === undefined ? undefined : this.#sales.get(orderId))) {
      const key = `${m.productId}/${m.variantId ?? ''}`;
      out.set(key, (out.get(key) ?? 0) + movementDelta(m));
    }
    return out;
  }

  #add(deltas: Map<string, number>, sign: 1 | -1): void {
    for (const [k, d] of deltas) this.stock.set(k, (this.stock.get(k) ?? 0) + sign * d);
  }
}

describeDb('snapshot: facts still waiting for their sale', (dbs) => {
  it('a void and a refund stored before their sale: a register bootstrapped between them and the sale ends at the server’s levels', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const app = await buildApp({ storage, config, clock: manualClock(SAMPLE_TIME + 3_600_000), rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    apps.push(app);
    const push = async (token: string, ops: unknown[]) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(token), payload: { ops } });
      expect(res.json<{ results: { status: string }[] }>().results.map((r) => r.status)).toEqual(ops.map(() => 'applied'));
    };
    const get = async (url: string) => {
      const res = await app.inject({ method: 'GET', url, headers: bearer(world.token) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<Record<string, unknown>>();
    };

    // R03 voids and refunds a sale R04 made but has not pushed yet.
    const token3 = await addRegister(storage.db, world, { id: sampleId(8400), code: 'R03' });
    const token4 = await addRegister(storage.db, world, { id: sampleId(8401), code: 'R04' });
    const ops3 = new OpSequence(sampleId(8400), 'R03', 0, 2000);
    const ops4 = new OpSequence(sampleId(8401), 'R04', 0, 3000);
    const sampleLine = sampleOp('sale.completed').payload.lines[0];
    if (sampleLine === undefined) throw new Error('no line');
    const lateSale = ops4.next('sale.completed', { payload: { orderId: sampleId(8500), lines: [{ ...sampleLine, lineId: sampleId(8501), variantId: sampleId(8300) }] } });
    const earlyVoid = ops3.next('sale.voided', { approvedBy: SAMPLE_IDS.manager, payload: { orderId: sampleId(8500) } });
    const earlyRefund = ops3.next('refund.completed', {
      payload: { refundId: sampleId(8502), originalOrderId: sampleId(8500), lines: [{ saleLineId: sampleId(8501), productId: SAMPLE_IDS.product, qty: 1000, net: 250, tax: [], total: 250, restock: true }] },
    });
    await push(token3, [earlyVoid, earlyRefund]);

    // R02 bootstraps now, before the sale is known.
    const register = new CountingRegister();
    const page = await get('/api/v1/sync/snapshot?limit=1000');
    expect(page['nextPage']).toBeNull();
    const items = page['items'] as Item[];
    expect(items.filter((i) => i.entity === 'fact').map((i) => i.entityId)).toEqual([earlyVoid.id, earlyRefund.id].sort());
    expect(page['total']).toBe(items.length);
    for (const i of items) register.apply(i);

    await push(token4, [lateSale]);
    const pulled = await get(`/api/v1/sync/pull?since=${page['cursor'] as string}`);
    for (const c of pulled['changes'] as Item[]) register.apply(c);

    const live = await storage.db.selectFrom('stock_levels').select(['product_id', 'variant_id', 'on_hand']).where('store_id', '=', world.storeId).execute();
    expect(new Map([...register.stock].filter(([, v]) => v !== 0))).toEqual(new Map(live.filter((l) => l.on_hand !== 0).map((l) => [`${l.product_id}/${l.variant_id}`, l.on_hand])));
    // −2 sold, +2 voided back, +1 refunded back, all on the variant.
    expect(register.stock.get(`${SAMPLE_IDS.product}/${sampleId(8300)}`)).toBe(1000);

    // Once the sale is known, nothing waits any more: a new bootstrap has levels only.
    const later = await get('/api/v1/sync/snapshot?limit=1000');
    expect((later['items'] as Item[]).filter((i) => i.entity === 'fact')).toEqual([]);
  });
});
