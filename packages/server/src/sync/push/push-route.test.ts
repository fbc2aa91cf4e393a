import { decodeHlc, DEFAULT_MAX_DRIFT_MS, manualClock } from '@kassa/core';
import type { Op } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import type { Kysely } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App, AppDeps } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import type { Database } from '../../db/schema.js';
import { describeDb } from '../../testing/describe-db.js';
import type { TestDatabase } from '../../testing/describe-db.js';
import { createLocalChangeFeed } from '../change-feed.js';
import { readChanges } from '../change-log.js';
import type { PushResponse } from './push-schemas.js';
import { addRegister, addStaff, bearer, createPushWorld, hlcAt, OpSequence } from './push-test-kit.js';
import type { PushWorld } from './push-test-kit.js';

const config = loadConfig({}, '/tmp');
/** The server's clock: an hour after the sample ops were made. */
const NOW = SAMPLE_TIME + 3_600_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Harness {
  readonly db: Kysely<Database>;
  readonly app: App;
  readonly world: PushWorld;
  readonly clock: ReturnType<typeof manualClock>;
  push(ops: readonly unknown[], token?: string): Promise<PushResponse>;
  pushRaw(body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function harness(dbs: { create(): Promise<TestDatabase> }, extra: Partial<AppDeps> = {}): Promise<Harness> {
  const { storage } = await dbs.create();
  await migrateToLatest(storage.db);
  const world = await createPushWorld(storage.db);
  const clock = manualClock(NOW);
  const app = await buildApp({ storage, config, clock, rateLimit: { max: 1_000_000, windowMs: 60_000 }, ...extra });
  cleanups.push(() => app.close());
  const pushRaw = async (body: unknown, token = world.token) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(token), payload: body as Record<string, unknown> });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const push = async (ops: readonly unknown[], token = world.token) => {
    const res = await pushRaw({ ops }, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as unknown as PushResponse;
  };
  return { db: storage.db, app, world, clock, push, pushRaw };
}

const statuses = (r: PushResponse) => r.results.map((x) => x.status);

async function syncOps(db: Kysely<Database>) {
  return db.selectFrom('sync_ops').select(['seq', 'op_id', 'status']).orderBy('seq').execute();
}

async function factIds(db: Kysely<Database>) {
  return (await db.selectFrom('facts').select(['id']).orderBy('seq').execute()).map((r) => r.id);
}

async function lastSeq(db: Kysely<Database>, registerId = SAMPLE_IDS.device) {
  return (await db.selectFrom('registers').select('last_seq').where('id', '=', registerId).executeTakeFirstOrThrow()).last_seq;
}

/** Open alerts, of the given kinds only when kinds are given (sales without stock also raise oversells). */
async function openAlerts(db: Kysely<Database>, ...kinds: string[]) {
  let q = db.selectFrom('alerts').select(['kind', 'key', 'status']).where('status', '=', 'open');
  if (kinds.length > 0) q = q.where('kind', 'in', kinds);
  return q.orderBy('key').execute();
}

async function stockLevels(db: Kysely<Database>) {
  return db.selectFrom('stock_levels').select(['store_id', 'product_id', 'variant_id', 'on_hand']).orderBy('product_id').orderBy('variant_id').execute();
}

/** Every row of every table push writes, as text: "nothing changed" compares two of these. */
async function dump(db: Kysely<Database>) {
  const tables = ['sync_ops', 'facts', 'sales', 'refunds', 'stock_movements', 'stock_levels', 'sale_line_tallies', 'balances', 'reference_docs', 'conflicts', 'customers', 'quarantine', 'seq_conflicts', 'alerts', 'server_hlc', 'change_log', 'products'] as const;
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    const rows = await db.selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  const reg = await db.selectFrom('registers').select(['last_seq', 'chain_head', 'last_receipt_number']).where('id', '=', SAMPLE_IDS.device).executeTakeFirstOrThrow();
  out['registers'] = [reg];
  return out;
}

/** A sale of one line: `qty` thousandths of the sample mug, under its own order and line ids. */
function saleOf(ops: OpSequence, n: number, qty = 2000) {
  const orderId = sampleId(5000 + n);
  const lineId = sampleId(6000 + n);
  const total = (250 * qty) / 1000;
  return ops.next('sale.completed', {
    payload: {
      orderId,
      lines: [
        {
          lineId,
          productId: SAMPLE_IDS.product,
          sku: 'MUG-01',
          name: 'Coffee mug',
          unitPrice: 250,
          qty,
          taxes: [{ rateId: 'vat-std', name: 'VAT 19%', ratePpm: 190_000 }],
          gross: total,
          lineDiscount: 0,
          orderDiscount: 0,
          net: total,
          tax: [{ rateId: 'vat-std', amount: Math.round((total * 19) / 119) }],
          total,
        },
      ],
      subtotal: total,
      taxTotal: Math.round((total * 19) / 119),
      total,
      taxSummary: [],
      tenders: [{ tenderId: sampleId(7000 + n), kind: 'cash', amount: total, given: total }],
      change: 0,
    },
  });
}

describeDb('POST /api/v1/sync/push: exactly once', (dbs) => {
  it('applies a batch, and the same batch again changes nothing (all duplicate)', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const batch = [saleOf(ops, 1), ops.next('cash.moved', { approvedBy: SAMPLE_IDS.manager }), saleOf(ops, 2)];
    const first = await h.push(batch);
    expect(first).toEqual({ ackedSeq: 3, serverTime: NOW, results: batch.map((o) => ({ id: o.id, status: 'applied' })) });
    const before = await dump(h.db);

    const again = await h.push(batch);
    expect(again).toEqual({ ackedSeq: 3, serverTime: NOW, results: batch.map((o) => ({ id: o.id, status: 'duplicate' })) });
    expect(await dump(h.db)).toEqual(before);
    expect(await syncOps(h.db)).toEqual(batch.map((o) => ({ seq: o.seq, op_id: o.id, status: 'applied' })));
    expect(await factIds(h.db)).toEqual(batch.map((o) => o.id));
    expect(await stockLevels(h.db)).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: -4000 }]);
    // Every applied fact went to the change log once, for the store's registers.
    const changes = await readChanges(h.db, h.world.orgId, { after: 0, upTo: 1_000_000, storeId: null, limit: 100 });
    expect(changes.map((c) => [c.entity, c.entityId, c.storeId])).toEqual(batch.map((o) => ['fact', o.id, h.world.storeId]));
  });

  it('a lost answer followed by a retry of a longer batch: the stored ops are duplicate, the new one applies', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const batch = [saleOf(ops, 1), saleOf(ops, 2)];
    await h.push(batch); // the answer is lost on the way back
    const before = await dump(h.db);
    const third = saleOf(ops, 3);
    const retry = await h.push([...batch, third]);
    expect(statuses(retry)).toEqual(['duplicate', 'duplicate', 'applied']);
    expect(retry.ackedSeq).toBe(3);
    const after = await dump(h.db);
    expect(after['facts']).toHaveLength(3);
    for (const row of before['facts'] ?? []) expect(after['facts']).toContain(row);
    expect(await factIds(h.db)).toEqual([...batch, third].map((o) => o.id));
  });

  it('overlapping batches apply each op once and acknowledge the highest contiguous seq', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const all = [saleOf(ops, 1), saleOf(ops, 2), saleOf(ops, 3), saleOf(ops, 4), saleOf(ops, 5)];
    const a = await h.push(all.slice(0, 3));
    expect(statuses(a)).toEqual(['applied', 'applied', 'applied']);
    const b = await h.push(all.slice(1, 5));
    expect(statuses(b)).toEqual(['duplicate', 'duplicate', 'applied', 'applied']);
    expect(b.ackedSeq).toBe(5);
    expect(await syncOps(h.db)).toEqual(all.map((o) => ({ seq: o.seq, op_id: o.id, status: 'applied' })));
    expect(await stockLevels(h.db)).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: -10_000 }]);
  });

  it('two concurrent pushes from one register (two HTTP requests) store each op once', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const all = [saleOf(ops, 1), saleOf(ops, 2), saleOf(ops, 3), saleOf(ops, 4)];
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const post = async (batch: readonly Op[]) => {
      const res = await fetch(`http://127.0.0.1:${address.port}/api/v1/sync/push`, {
        method: 'POST',
        headers: { ...bearer(h.world.token), 'content-type': 'application/json' },
        body: JSON.stringify({ ops: batch }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as PushResponse;
    };
    const [x, y] = await Promise.all([post(all.slice(0, 3)), post(all)]);
    // Whichever ran second saw the first's seqs as taken: every op is applied exactly once.
    const applied = [...x.results, ...y.results].filter((r) => r.status === 'applied').map((r) => r.id).sort();
    expect(applied).toEqual(all.map((o) => o.id).sort());
    expect([...x.results, ...y.results].every((r) => r.status === 'applied' || r.status === 'duplicate')).toBe(true);
    expect(Math.max(x.ackedSeq, y.ackedSeq)).toBe(4);
    expect(await syncOps(h.db)).toEqual(all.map((o) => ({ seq: o.seq, op_id: o.id, status: 'applied' })));
    expect(await factIds(h.db)).toEqual(all.map((o) => o.id));
    expect(await lastSeq(h.db)).toBe(4);
  });

  it('past a gap nothing applies (pending_gap, not stored) until the gap is filled', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const [one, two, three] = [saleOf(ops, 1), saleOf(ops, 2), saleOf(ops, 3)];
    const r = await h.push([one, three]);
    expect(r.results).toEqual([
      { id: one.id, status: 'applied' },
      { id: three.id, status: 'pending_gap', reason: 'gap', message: 'seq 2 has not arrived yet; send it first' },
    ]);
    expect(r.ackedSeq).toBe(1);
    expect(await syncOps(h.db)).toEqual([{ seq: 1, op_id: one.id, status: 'applied' }]);
    expect(await factIds(h.db)).toEqual([one.id]);

    // Sent out of order within one batch, the batch fills its own gap.
    const filled = await h.push([three, two]);
    expect(statuses(filled)).toEqual(['applied', 'applied']);
    expect(filled.ackedSeq).toBe(3);
    expect(await factIds(h.db)).toEqual([one.id, two.id, three.id]);
  });

  it('a different op under a taken seq is a seq_conflict: kept, alerted, never a duplicate; the original untouched', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const original = saleOf(ops, 1);
    await h.push([original]);
    const before = await dump(h.db);
    const impostor = { ...saleOf(new OpSequence(), 9), seq: 1, id: sampleId(4242) };

    const r = await h.push([impostor]);
    expect(r.results).toEqual([
      { id: impostor.id, status: 'seq_conflict', reason: 'seq_taken', message: `seq 1 is already held by op ${original.id} with other contents; this op was kept for review` },
    ]);
    expect(r.ackedSeq).toBe(1);
    const conflicts = await h.db.selectFrom('seq_conflicts').select(['seq', 'op_id', 'existing_op_id', 'register_id', 'status']).execute();
    expect(conflicts).toEqual([{ seq: 1, op_id: impostor.id, existing_op_id: original.id, register_id: SAMPLE_IDS.device, status: 'open' }]);
    expect(await openAlerts(h.db, 'seq_conflict')).toEqual([{ kind: 'seq_conflict', key: `seq_conflict:${SAMPLE_IDS.device}:1`, status: 'open' }]);
    const after = await dump(h.db);
    for (const t of ['sync_ops', 'facts', 'sales', 'stock_levels', 'stock_movements', 'registers']) expect(after[t], t).toEqual(before[t]);

    // The same conflicting op again: still a conflict, still one row and one alert.
    expect(statuses(await h.push([impostor]))).toEqual(['seq_conflict']);
    expect(await h.db.selectFrom('seq_conflicts').select('id').execute()).toHaveLength(1);
    expect((await h.db.selectFrom('alerts').select('occurrences').where('kind', '=', 'seq_conflict').executeTakeFirstOrThrow()).occurrences).toBe(1);
  });

  it('an op of the next schema version is deferred and nothing is stored; what follows waits behind it', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const future = { ...saleOf(ops, 1), v: 2, somethingNew: true };
    const next = saleOf(ops, 2);
    const before = await dump(h.db);
    const r = await h.push([future, next]);
    expect(r.ackedSeq).toBe(0);
    expect(r.results[0]).toMatchObject({ id: future.id, status: 'deferred', reason: 'unknown_version' });
    expect(r.results[1]).toMatchObject({ id: next.id, status: 'pending_gap' });
    const after = await dump(h.db);
    expect({ ...after, server_hlc: [], registers: [] }).toEqual({ ...before, server_hlc: [], registers: [] });
  });

  it('a malformed op is quarantined with its issues, acknowledged, and later ops apply', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const bad = ops.next('cash.moved', { approvedBy: SAMPLE_IDS.manager, payload: { amount: -5 } });
    const good = saleOf(ops, 2);
    const r = await h.push([bad, good]);
    expect(r.ackedSeq).toBe(2);
    expect(r.results[0]).toMatchObject({ id: bad.id, status: 'quarantined', reason: 'invalid' });
    expect(r.results[0]?.message).toContain('payload.amount');
    expect(r.results[1]).toEqual({ id: good.id, status: 'applied' });
    const q = await h.db.selectFrom('quarantine').select(['seq', 'op_id', 'op_type', 'reason', 'details_json', 'op_json', 'status']).execute();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ seq: 1, op_id: bad.id, op_type: 'cash.moved', reason: 'invalid', status: 'open' });
    const details = JSON.parse(q[0]?.details_json ?? '{}') as { issues: { path: unknown[]; code: string }[] };
    expect(details.issues).toEqual([expect.objectContaining({ path: ['payload', 'amount'], code: 'too_small' })]);
    expect(JSON.parse(q[0]?.op_json ?? 'null')).toEqual(bad);
    expect(await syncOps(h.db)).toEqual([
      { seq: 1, op_id: bad.id, status: 'quarantined' },
      { seq: 2, op_id: good.id, status: 'applied' },
    ]);
    expect(await factIds(h.db)).toEqual([good.id]);
    expect((await openAlerts(h.db, 'quarantine')).map((a) => a.kind)).toEqual(['quarantine']);

    // Pushed again: a duplicate, not a second quarantine.
    expect(statuses(await h.push([bad]))).toEqual(['duplicate']);
    expect(await h.db.selectFrom('quarantine').select('id').execute()).toHaveLength(1);
  });

  it('something that is not an op at all is quarantined as unreadable (no seq taken) and blocks nothing', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const good = saleOf(ops, 1);
    const r = await h.push(['garbage', { hello: 'world' }, good]);
    expect(r.results.map((x) => [x.id, x.status, x.reason])).toEqual([
      [null, 'quarantined', 'unreadable'],
      [null, 'quarantined', 'unreadable'],
      [good.id, 'applied', undefined],
    ]);
    expect(r.ackedSeq).toBe(1);
    const q = await h.db.selectFrom('quarantine').select(['seq', 'op_id', 'reason']).orderBy('op_json').execute();
    expect(q).toEqual([
      { seq: null, op_id: null, reason: 'unreadable' },
      { seq: null, op_id: null, reason: 'unreadable' },
    ]);
  });

  it('an op naming another register or store is quarantined as forged', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const otherDevice = { ...saleOf(ops, 1), deviceId: sampleId(777) };
    const otherStore = { ...saleOf(ops, 2), storeId: SAMPLE_IDS.otherStore };
    const fine = saleOf(ops, 3);
    const r = await h.push([otherDevice, otherStore, fine]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['quarantined', 'forged'],
      ['quarantined', 'forged'],
      ['applied', undefined],
    ]);
    expect(r.ackedSeq).toBe(3);
    const q = await h.db.selectFrom('quarantine').select(['seq', 'reason', 'details_json']).orderBy('seq').execute();
    expect(q.map((x) => [x.seq, x.reason])).toEqual([
      [1, 'forged'],
      [2, 'forged'],
    ]);
    expect(JSON.parse(q[0]?.details_json ?? '{}')).toMatchObject({ opDeviceId: sampleId(777), tokenRegisterId: SAMPLE_IDS.device });
    expect(await factIds(h.db)).toEqual([fine.id]);
  });

  it('a revoked token gets 401 register_revoked and nothing is stored', async () => {
    const h = await harness(dbs);
    await h.db.updateTable('registers').set({ revoked: 1 }).where('id', '=', SAMPLE_IDS.device).execute();
    const before = await dump(h.db);
    const res = await h.pushRaw({ ops: [saleOf(new OpSequence(), 1)] });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'register_revoked' });
    expect(await dump(h.db)).toEqual(before);
    const unknown = await h.pushRaw({ ops: [] }, 'x'.repeat(43));
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ error: 'invalid_token' });
    // Without a valid token the body is never validated: a stranger learns nothing of the schema.
    const strangerBadBody = await h.pushRaw({ nope: 1 }, 'y'.repeat(43));
    expect(strangerBadBody.status).toBe(401);
    expect(strangerBadBody.body).toMatchObject({ error: 'invalid_token' });
    expect(await dump(h.db)).toEqual(before);
  });

  it('a body that is not a batch is a 400 that changes nothing; more than 500 ops too', async () => {
    const h = await harness(dbs);
    const before = await dump(h.db);
    for (const body of [{}, { ops: 'nope' }, { ops: [], extra: 1 }, [1, 2]]) {
      const res = await h.pushRaw(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_input' });
    }
    const many = await h.pushRaw({ ops: Array.from({ length: 501 }, () => ({})) });
    expect(many.status).toBe(400);
    expect(JSON.stringify(many.body)).toContain('at most 500 ops');
    expect(await dump(h.db)).toEqual(before);
    const empty = await h.push([]);
    expect(empty).toEqual({ ackedSeq: 0, serverTime: NOW, results: [] });
  });
});

describeDb('POST /api/v1/sync/push: permissions at the op\u2019s time', (dbs) => {
  it('a cashier\u2019s no-sale without approval is quarantined as forbidden; with a manager\u2019s approval it applies', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const alone = ops.next('drawer.opened');
    const approved = ops.next('drawer.opened', { approvedBy: SAMPLE_IDS.manager, payload: { reason: 'Change' } });
    const selfApproved = ops.next('drawer.opened', { approvedBy: SAMPLE_IDS.staff, payload: { reason: 'Again' } });
    const r = await h.push([alone, approved, selfApproved]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['quarantined', 'forbidden'],
      ['applied', undefined],
      ['quarantined', 'forbidden'],
    ]);
    expect(r.results[0]?.message).toBe(`${SAMPLE_IDS.staff} (cashier) may not no_sale (op): not_permitted`);
    expect(r.ackedSeq).toBe(3);
    const q = await h.db.selectFrom('quarantine').select(['seq', 'details_json']).orderBy('seq').execute();
    expect(JSON.parse(q[1]?.details_json ?? '{}')).toMatchObject({ denial: { reason: 'self_approval', action: 'no_sale' } });
    expect(await factIds(h.db)).toEqual([approved.id]);
  });

  it('uses the role held when the op was made, not today\u2019s', async () => {
    const h = await harness(dbs);
    const promotedAt = SAMPLE_TIME + 1500; // between seq 1 (t+1 s) and seq 2 (t+2 s)
    await addStaff(h.db, h.world, sampleId(8001), 'cashier', 0);
    await h.db.insertInto('staff_role_history').values({ org_id: h.world.orgId, staff_id: sampleId(8001), role: 'manager', effective_from: promotedAt }).execute();
    const ops = new OpSequence();
    const before = ops.next('stock.adjusted', { staffId: sampleId(8001) });
    const after = ops.next('stock.adjusted', { staffId: sampleId(8001), payload: { movementId: sampleId(8002) } });
    const r = await h.push([before, after]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['quarantined', 'forbidden'],
      ['applied', undefined],
    ]);
  });

  it('an op stamped before the staff member existed (a register that believes it is 2000) is judged by the role held now', async () => {
    const h = await harness(dbs);
    const in2000 = Date.UTC(2000, 0, 1);
    // 8011 became a manager and still is; 8021 was created a manager and demoted since.
    await addStaff(h.db, h.world, sampleId(8011), 'manager', SAMPLE_TIME);
    await addStaff(h.db, h.world, sampleId(8021), 'manager', SAMPLE_TIME);
    await h.db.insertInto('staff_role_history').values({ org_id: h.world.orgId, staff_id: sampleId(8021), role: 'cashier', effective_from: SAMPLE_TIME + 500 }).execute();
    const ops = new OpSequence();
    const manager = ops.next('stock.adjusted', { staffId: sampleId(8011), hlc: hlcAt(in2000) });
    const demoted = ops.next('stock.adjusted', { staffId: sampleId(8021), hlc: hlcAt(in2000 + 1000), payload: { movementId: sampleId(8022) } });
    const r = await h.push([manager, demoted]);
    // The manager's adjustment happened at the till and applies; the demoted one cannot use a clock
    // set back to before the demotion (or before existing) to act as the manager they once were.
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['applied', undefined],
      ['quarantined', 'forbidden'],
    ]);
    expect(await factIds(h.db)).toEqual([manager.id]);
  });

  it('a discount above the cashier\u2019s limit needs a manager\u2019s approval on the discount or the op', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const discounted = (n: number, approvedBy?: string) => {
      const sale = saleOf(ops, n);
      const line = sale.payload.lines[0];
      if (line === undefined) throw new Error('no line');
      // 20 % off a 5.00 line: above the default 10 % limit.
      sale.payload.lines[0] = { ...line, discount: { kind: 'percent', ppm: 200_000, ...(approvedBy === undefined ? {} : { approvedBy }) }, lineDiscount: 100, net: 400, total: 400 };
      return sale;
    };
    const r = await h.push([discounted(1), discounted(2, SAMPLE_IDS.manager)]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['quarantined', 'forbidden'],
      ['applied', undefined],
    ]);
    expect(r.results[0]?.message).toContain('discount_above_limit');
  });

  it('an unknown staff member is forbidden', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const r = await h.push([saleOf(ops, 1), ops.next('cash.moved', { staffId: sampleId(9999) })]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['applied', undefined],
      ['quarantined', 'forbidden'],
    ]);
    expect(r.results[1]?.message).toContain('unknown_staff');
  });
});

describeDb('POST /api/v1/sync/push: what happened at the till is recorded', (dbs) => {
  it('an oversell applies, drives stock below zero and raises an alert that clears when stock comes in', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const received = ops.next('stock.received', { payload: { lines: [{ productId: SAMPLE_IDS.product, qty: 1000 }] } });
    const sale = saleOf(ops, 2, 3000);
    const r = await h.push([received, sale]);
    expect(statuses(r)).toEqual(['applied', 'applied']);
    expect(await stockLevels(h.db)).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: -2000 }]);
    const key = `oversell:${SAMPLE_IDS.product}@${h.world.storeId}`;
    expect(await openAlerts(h.db)).toEqual([{ kind: 'oversell', key, status: 'open' }]);
    const alertRow = await h.db.selectFrom('alerts').select('data_json').where('key', '=', key).executeTakeFirstOrThrow();
    expect(JSON.parse(alertRow.data_json)).toMatchObject({ kind: 'oversell', productId: SAMPLE_IDS.product, onHand: -2000, storeId: h.world.storeId });

    const more = ops.next('stock.received', { payload: { movementId: sampleId(8100), lines: [{ productId: SAMPLE_IDS.product, qty: 5000 }] } });
    expect(statuses(await h.push([more]))).toEqual(['applied']);
    expect(await stockLevels(h.db)).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: 3000 }]);
    expect(await openAlerts(h.db)).toEqual([]);
    expect((await h.db.selectFrom('alerts').select(['key', 'status']).execute())).toEqual([{ key, status: 'resolved' }]);
  });

  it('a refund beyond the sale applies with an over_refund alert', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const sale = saleOf(ops, 1, 2000);
    const line = sale.payload.lines[0];
    if (line === undefined) throw new Error('no line');
    const refundLine = { saleLineId: line.lineId, productId: SAMPLE_IDS.product, qty: 2000, net: 500, tax: [], total: 500, restock: true };
    const first = ops.next('refund.completed', { payload: { refundId: sampleId(8201), originalOrderId: sale.payload.orderId, lines: [refundLine], total: 500, taxTotal: 0, tenders: [{ tenderId: sampleId(8202), kind: 'cash', amount: 500, given: 500 }] } });
    const second = ops.next('refund.completed', {
      payload: { refundId: sampleId(8203), originalOrderId: sale.payload.orderId, lines: [{ ...refundLine, qty: 1000, net: 250, total: 250 }], total: 250, taxTotal: 0, tenders: [{ tenderId: sampleId(8204), kind: 'cash', amount: 250, given: 250 }] },
    });
    const r = await h.push([sale, first, second]);
    expect(statuses(r)).toEqual(['applied', 'applied', 'applied']);
    const tally = await h.db.selectFrom('sale_line_tallies').select(['order_id', 'line_id', 'sold', 'refunded']).execute();
    expect(tally).toEqual([{ order_id: sale.payload.orderId, line_id: line.lineId, sold: 2000, refunded: 3000 }]);
    expect(await openAlerts(h.db)).toEqual([{ kind: 'over_refund', key: `over_refund:${sale.payload.orderId}:${line.lineId}`, status: 'open' }]);
    // Restocked: 2 sold, 3 back.
    expect(await stockLevels(h.db)).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: 1000 }]);
    expect(await h.db.selectFrom('refunds').select(['op_id', 'kind', 'original_order_id']).orderBy('op_id').execute()).toEqual([
      { op_id: first.id, kind: 'refund', original_order_id: sale.payload.orderId },
      { op_id: second.id, kind: 'refund', original_order_id: sale.payload.orderId },
    ]);
  });

  it('a void and a refund that arrive before their sale give the same stock as in order', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const sampleLine = sampleOp('sale.completed').payload.lines[0];
    if (sampleLine === undefined) throw new Error('no line');
    const sale = ops.next('sale.completed', { payload: { lines: [{ ...sampleLine, variantId: sampleId(8300) }] } });
    const voided = ops.next('sale.voided', { approvedBy: SAMPLE_IDS.manager });
    const r1 = await h.push([sale, voided]);
    expect(statuses(r1)).toEqual(['applied', 'applied']);
    const inOrder = await stockLevels(h.db);
    expect(inOrder).toEqual([{ store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: sampleId(8300), on_hand: 0 }]);

    // A second register voids a sale of a third register whose sale arrives later.
    const token2 = await addRegister(h.db, h.world, { id: sampleId(8400), code: 'R03' });
    const token3 = await addRegister(h.db, h.world, { id: sampleId(8401), code: 'R04' });
    const ops2 = new OpSequence(sampleId(8400), 'R03', 0, 2000);
    const ops3 = new OpSequence(sampleId(8401), 'R04', 0, 3000);
    const lateSale = ops3.next('sale.completed', {
      payload: { orderId: sampleId(8500), lines: [{ ...sampleLine, lineId: sampleId(8501), variantId: sampleId(8300) }] },
    });
    const earlyVoid = ops2.next('sale.voided', { approvedBy: SAMPLE_IDS.manager, payload: { orderId: sampleId(8500) } });
    const earlyRefund = ops2.next('refund.completed', {
      payload: { refundId: sampleId(8502), originalOrderId: sampleId(8500), lines: [{ saleLineId: sampleId(8501), productId: SAMPLE_IDS.product, qty: 1000, net: 250, tax: [], total: 250, restock: true }] },
    });
    expect(statuses(await h.push([earlyVoid, earlyRefund], token2))).toEqual(['applied', 'applied']);
    // Before the sale: the void moves nothing; the refund's line has no variant yet.
    expect(await stockLevels(h.db)).toEqual([
      { store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: 1000 },
      { store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: sampleId(8300), on_hand: 0 },
    ]);
    expect(statuses(await h.push([lateSale], token3))).toEqual(['applied']);
    // After: −2 sold, +2 voided back, +1 refunded back, all on the variant.
    expect(await stockLevels(h.db)).toEqual([
      { store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: '', on_hand: 0 },
      { store_id: h.world.storeId, product_id: SAMPLE_IDS.product, variant_id: sampleId(8300), on_hand: 1000 },
    ]);
    // Void (2) + refund (1) of a line of 2: an over-refund, found once the sale arrived.
    expect((await openAlerts(h.db)).map((a) => a.key)).toContain(`over_refund:${sampleId(8500)}:${sampleId(8501)}`);
  });

  it('a gift card redeemed below zero applies with a negative_balance alert', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const issued = ops.next('gift_card.issued', { payload: { amount: 1000 } });
    const redeemed = ops.next('gift_card.redeemed', { payload: { amount: 1500 } });
    expect(statuses(await h.push([issued, redeemed]))).toEqual(['applied', 'applied']);
    expect(await h.db.selectFrom('balances').select(['account', 'account_id', 'unit', 'balance']).execute()).toEqual([
      { account: 'gift_card', account_id: SAMPLE_IDS.giftCard, unit: 'EUR', balance: -500 },
    ]);
    expect(await openAlerts(h.db)).toEqual([{ kind: 'negative_balance', key: `negative_balance:gift_card:${SAMPLE_IDS.giftCard}:EUR`, status: 'open' }]);
  });

  it('a receipt that does not link to the register\u2019s chain applies with a receipt_chain_break alert', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const sale = saleOf(ops, 1);
    const broken = ops.next('sale.voided', { approvedBy: SAMPLE_IDS.manager, payload: { orderId: sale.payload.orderId, prevHash: 'cd'.repeat(32) } });
    const r = await h.push([sale, broken]);
    expect(statuses(r)).toEqual(['applied', 'applied']);
    expect(await openAlerts(h.db, 'receipt_chain_break')).toEqual([{ kind: 'receipt_chain_break', key: `receipt_chain_break:${SAMPLE_IDS.device}:S01-R02-000124`, status: 'open' }]);
    const reg = await h.db.selectFrom('registers').select(['last_receipt_number', 'chain_head']).where('id', '=', SAMPLE_IDS.device).executeTakeFirstOrThrow();
    expect(reg.last_receipt_number).toBe(124);
    expect(reg.chain_head).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an HLC from 2037 applies with the server\u2019s clamped stamp and one clock_skew alert per register', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const in2037 = Date.UTC(2037, 0, 1);
    const a = { ...saleOf(ops, 1), hlc: hlcAt(in2037) };
    const b = { ...saleOf(ops, 2), hlc: hlcAt(in2037 + 1000) };
    const r = await h.push([a, b]);
    expect(statuses(r)).toEqual(['applied', 'applied']);
    const facts = await h.db.selectFrom('facts').select(['hlc', 'device_hlc']).orderBy('seq').execute();
    expect(facts.map((f) => f.device_hlc)).toEqual([a.hlc, b.hlc]);
    expect(facts.map((f) => decodeHlc(f.hlc))).toEqual([
      { wallMs: NOW + DEFAULT_MAX_DRIFT_MS, counter: 1, node: 'server' },
      { wallMs: NOW + DEFAULT_MAX_DRIFT_MS, counter: 2, node: 'server' },
    ]);
    expect(await openAlerts(h.db, 'clock_skew')).toEqual([{ kind: 'clock_skew', key: `clock_skew:${SAMPLE_IDS.device}`, status: 'open' }]);
    const hlcRow = await h.db.selectFrom('server_hlc').select(['wall_ms', 'counter']).executeTakeFirstOrThrow();
    expect(hlcRow).toEqual({ wall_ms: NOW + DEFAULT_MAX_DRIFT_MS, counter: 2 });
  });
});

describeDb('POST /api/v1/sync/push: reference edits merge per field', (dbs) => {
  it('concurrent price edits from two registers: LWW value, the conflict recorded once', async () => {
    const h = await harness(dbs);
    const r3 = sampleId(8600);
    const token3 = await addRegister(h.db, h.world, { id: r3, code: 'R03' });
    const base = hlcAt(SAMPLE_TIME - 3_600_000, 'seed');
    const opsA = new OpSequence();
    const opsB = new OpSequence(r3, 'R03', 0, 2000);
    const editA = opsA.next('product.edited', { approvedBy: SAMPLE_IDS.manager, payload: { writes: [{ field: 'price', value: 275, hlc: hlcAt(SAMPLE_TIME + 1000), base }] } });
    const editB = opsB.next('product.edited', {
      approvedBy: SAMPLE_IDS.manager,
      hlc: hlcAt(SAMPLE_TIME + 2000, r3),
      payload: { writes: [{ field: 'price', value: 300, hlc: hlcAt(SAMPLE_TIME + 2000, r3), base }] },
    });
    expect(statuses(await h.push([editB], token3))).toEqual(['applied']);
    expect(statuses(await h.push([editA]))).toEqual(['applied']);

    const product = await h.db.selectFrom('products').select(['price_minor', 'field_hlc_json']).where('id', '=', SAMPLE_IDS.product).executeTakeFirstOrThrow();
    expect(product.price_minor).toBe(300);
    expect(JSON.parse(product.field_hlc_json)).toEqual({ price: hlcAt(SAMPLE_TIME + 2000, r3) });
    const conflicts = await h.db.selectFrom('conflicts').select(['id', 'doc_type', 'doc_id', 'field', 'status', 'winner_json', 'loser_json']).execute();
    expect(conflicts).toEqual([
      {
        id: `product:${SAMPLE_IDS.product}:price:${hlcAt(SAMPLE_TIME + 1000)}:${hlcAt(SAMPLE_TIME + 2000, r3)}`,
        doc_type: 'product',
        doc_id: SAMPLE_IDS.product,
        field: 'price',
        status: 'open',
        winner_json: JSON.stringify({ value: 300, hlc: hlcAt(SAMPLE_TIME + 2000, r3), base }),
        loser_json: JSON.stringify({ value: 275, hlc: hlcAt(SAMPLE_TIME + 1000), base }),
      },
    ]);
    // The change log carries the product as the snapshot serves it, once per edit.
    const changes = await readChanges(h.db, h.world.orgId, { after: 0, upTo: 1_000_000, storeId: null, limit: 100 });
    expect(changes.map((c) => [c.entity, c.entityId, (c.data as { priceMinor: number }).priceMinor])).toEqual([
      ['product', SAMPLE_IDS.product, 300],
      ['product', SAMPLE_IDS.product, 300],
    ]);
  });

  it('a customer created at the till lands in customers; a write stamped in 2037 is re-stamped by the server', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const future = hlcAt(Date.UTC(2037, 0, 1));
    const created = ops.next('customer.upserted', {
      payload: { writes: [{ field: 'name', value: 'Ada Lovelace', hlc: future, base: null }, { field: 'email', value: 'ada@example.org', hlc: hlcAt(SAMPLE_TIME + 1000), base: null }] },
    });
    expect(statuses(await h.push([created]))).toEqual(['applied']);
    const row = await h.db.selectFrom('customers').select(['id', 'org_id', 'name', 'email', 'deleted', 'field_hlc_json']).executeTakeFirstOrThrow();
    const hlcs = JSON.parse(row.field_hlc_json) as Record<string, string>;
    expect(row).toMatchObject({ id: SAMPLE_IDS.customer, org_id: h.world.orgId, name: 'Ada Lovelace', email: 'ada@example.org', deleted: 0 });
    expect(hlcs['email']).toBe(hlcAt(SAMPLE_TIME + 1000));
    expect(decodeHlc(hlcs['name'] ?? '')).toMatchObject({ node: 'server' });
    expect(decodeHlc(hlcs['name'] ?? '').wallMs).toBeLessThanOrEqual(NOW + DEFAULT_MAX_DRIFT_MS);
    expect((await openAlerts(h.db)).map((a) => a.kind)).toEqual(['clock_skew']);
  });

  it('a cashier may not edit products without approval', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const r = await h.push([ops.next('product.edited')]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([['quarantined', 'forbidden']]);
    expect(await h.db.selectFrom('reference_docs').select('doc_id').execute()).toEqual([]);
  });
});

describeDb('POST /api/v1/sync/push: documentation and metrics', (dbs) => {
  it('is in the OpenAPI document with the Op schema, and counts ops by status', async () => {
    const h = await harness(dbs);
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>();
    expect(doc.paths).toHaveProperty('/api/v1/sync/push');
    expect(doc.components.schemas).toHaveProperty('Op');
    expect(doc.components.schemas).toHaveProperty('PushResponse');
    expect(JSON.stringify(doc.components.schemas['Op'])).toContain('sale.completed');

    const ops = new OpSequence();
    await h.push([saleOf(ops, 1), ops.next('drawer.opened')]);
    await h.push([saleOf(new OpSequence(), 1)]);
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('kassa_sync_push_ops_total{status="applied"} 1');
    expect(metrics).toContain('kassa_sync_push_ops_total{status="quarantined"} 1');
    expect(metrics).toContain('kassa_sync_push_ops_total{status="duplicate"} 1');
    expect(metrics).toContain('kassa_sync_push_ops_total{status="deferred"} 0');
    expect(metrics).toContain('kassa_sync_push_batch_size_count 2');
  });
});

describeDb('POST /api/v1/sync/push: change log and feed', (dbs) => {
  it('logs applied facts for their store (a transfer also for the receiving store) and wakes pulls only when something was logged', async () => {
    const feed = createLocalChangeFeed();
    const h = await harness(dbs, { changeFeed: feed });
    let wakes = 0;
    feed.subscribe(h.world.orgId, () => (wakes += 1));
    const ops = new OpSequence();
    const sale = saleOf(ops, 1);
    const transfer = ops.next('stock.transferred', { approvedBy: SAMPLE_IDS.manager });
    expect(statuses(await h.push([sale, transfer]))).toEqual(['applied', 'applied']);
    expect(wakes).toBe(1);
    const all = await readChanges(h.db, h.world.orgId, { after: 0, upTo: 1_000_000, storeId: null, limit: 100 });
    expect(all.map((c) => [c.entity, c.entityId, c.storeId, c.op])).toEqual([
      ['fact', sale.id, h.world.storeId, 'upsert'],
      ['fact', transfer.id, h.world.storeId, 'upsert'],
      ['fact', transfer.id, SAMPLE_IDS.otherStore, 'upsert'],
    ]);
    expect(all[0]?.data).toEqual(sale);
    const forOtherStore = await readChanges(h.db, h.world.orgId, { after: 0, upTo: 1_000_000, storeId: SAMPLE_IDS.otherStore, limit: 100 });
    expect(forOtherStore.map((c) => c.entityId)).toEqual([transfer.id]);

    expect(statuses(await h.push([sale, transfer]))).toEqual(['duplicate', 'duplicate']);
    expect(statuses(await h.push([ops.next('drawer.opened')]))).toEqual(['quarantined']);
    expect(wakes).toBe(1);
    expect(await readChanges(h.db, h.world.orgId, { after: 0, upTo: 1_000_000, storeId: null, limit: 100 })).toHaveLength(3);
  });
});

describeDb('POST /api/v1/sync/push: hostile input never makes a 5xx', (dbs) => {
  it('a NUL in text, and an op nested thousands of levels deep, are answered for like any other op', async () => {
    const h = await harness(dbs);
    const ops = new OpSequence();
    const nulType = { v: 1, id: sampleId(9101), deviceId: SAMPLE_IDS.device, seq: 1, type: 'sale.completed\u0000' };
    const nulName = ops.next('product.edited', {
      seq: 2,
      id: sampleId(9102),
      approvedBy: SAMPLE_IDS.manager,
      payload: { writes: [{ field: 'name', value: 'Mug\u0000', hlc: hlcAt(SAMPLE_TIME), base: null }] },
    });
    const r = await h.push([nulType, nulName]);
    expect(r.results.map((x) => [x.status, x.reason])).toEqual([
      ['quarantined', 'invalid'],
      ['applied', undefined],
    ]);
    expect((await h.db.selectFrom('quarantine').select('op_type').executeTakeFirstOrThrow()).op_type).toBeNull();
    // The doc keeps the value; the column, which cannot hold it on PostgreSQL, keeps the old one.
    expect((await h.db.selectFrom('products').select('name').where('id', '=', SAMPLE_IDS.product).executeTakeFirstOrThrow()).name).toBe('Coffee mug');

    const depth = 100_000;
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/sync/push',
      headers: { ...bearer(h.world.token), 'content-type': 'application/json' },
      payload: `{"ops":[${'['.repeat(depth)}${']'.repeat(depth)}, {"v":1,"id":"${sampleId(9103)}","deviceId":"${SAMPLE_IDS.device}","seq":3,"x":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<PushResponse>().results.map((x) => [x.id, x.status, x.reason])).toEqual([
      [null, 'quarantined', 'unreadable'],
      [sampleId(9103), 'quarantined', 'invalid'],
    ]);
    expect(await lastSeq(h.db)).toBe(3);
  });
});
