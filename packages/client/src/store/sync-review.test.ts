/**
 * What the register keeps for review, its recorded data losses, and retention: the SQL of
 * `sync-review.ts` on better-sqlite3 (the same statements run in the browser's worker).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLine, createCart, qtyMilli, type Op } from '@kassa/core';
import { afterEach, describe, expect, it } from 'vitest';
import { openNodeStore, type NodeRegisterStore } from '../node.js';
import { seedFixture } from './describe-store.js';
import { StorageFullError } from './errors.js';
import { FIXTURE, FIXTURE_IDENTITY, fixtureId } from './store-fixtures.js';
import type { ServerConflict } from './sync-review.js';

const DAY = 24 * 3_600_000;
const T0 = Date.UTC(2026, 0, 20, 9);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A seeded register on a file, with a clock the test moves. */
async function register(): Promise<{ node: NodeRegisterStore; at: { now: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-review-'));
  dirs.push(dir);
  const at = { now: T0 };
  const node = openNodeStore(join(dir, 'r.sqlite'), { clock: { now: () => at.now } });
  await seedFixture(node.store);
  return { node, at };
}

let tenders = 0;
async function sell(node: NodeRegisterStore, qty = 1000): Promise<Op> {
  const store = node.store;
  if ((await store.currentShift()) === undefined) await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
  const cart = addLine(createCart(await store.cartSettings()), await store.getItem(FIXTURE.mug), qtyMilli(qty));
  tenders += 1;
  return (await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x500000 + tenders), kind: 'cash', given: 100_000 }] })).op as Op;
}

/** Pushes everything (all applied) and pulls the echoes back, as a server would. */
async function syncAll(node: NodeRegisterStore, logSeq: { n: number }): Promise<void> {
  const store = node.store;
  for (;;) {
    const batch = await store.nextPushBatch({ maxOps: 500, maxBytes: 1 << 20 });
    if (batch === null) break;
    const last = batch.entries.at(-1)?.seq ?? 0;
    await store.recordPushResults({ entries: batch.entries, response: { ackedSeq: last, serverTime: 1, results: batch.entries.map((e) => ({ id: e.opId, status: 'applied' })) } });
  }
  const journal = await store.journal();
  const ops = (await store.dump())['journal']?.map((r) => JSON.parse(String(r['op_json'])) as Op) ?? [];
  const since = (await store.syncInfo()).pullCursor;
  const changes = ops
    .filter((op) => journal.some((j) => j.opId === op.id))
    .map((op) => ({ seq: ++logSeq.n, id: `c${String(logSeq.n)}`, entity: 'fact', entityId: op.id, storeId: FIXTURE.store, op: 'upsert' as const, data: op }));
  await store.applyPullPage({ since, changes, cursor: `e1.${String(logSeq.n)}` });
}

const count = async (node: NodeRegisterStore, table: string): Promise<number> => (await node.store.dump())[table]?.length ?? 0;

describe('register review, data losses and retention (better-sqlite3)', () => {
  it('keeps the server’s open alerts and conflicts as the server lists them, never a customer’s values', async () => {
    const { node } = await register();
    const alert = { key: `oversell:${FIXTURE.mug}@${FIXTURE.store}`, id: 'b3Zlcn', kind: 'oversell', status: 'open', registerId: null, data: { onHand: -3000 }, occurrences: 2, firstSeenAt: 1, lastSeenAt: 5, acknowledgedAt: null };
    const conflicts: ServerConflict[] = [
      { id: `product:${FIXTURE.mug}:price:a:b`, docType: 'product', docId: FIXTURE.mug, field: 'price', winner: { value: 260, hlc: 'b' }, loser: { value: 255, hlc: 'a' }, current: { value: 260, hlc: 'b' }, detectedAt: 7 },
      { id: `customer:${fixtureId(77)}:name:a:b`, docType: 'customer', docId: fixtureId(77), field: 'name', winner: { value: 'Erika Mustermann', hlc: 'b' }, loser: { value: 'Erika Musterfrau', hlc: 'a' }, current: { value: 'Erika Mustermann', hlc: 'b' }, detectedAt: 6 },
    ];
    await node.store.replaceServerReview({ alerts: [alert], conflicts });
    expect(await node.store.serverAlerts()).toEqual([alert]);
    const kept = await node.store.serverConflicts();
    expect(kept[0]).toEqual(conflicts[0]);
    expect(kept[1]).toEqual({ ...conflicts[1], winner: { hlc: 'b' }, loser: { hlc: 'a' }, current: { hlc: 'b' } });
    expect(JSON.stringify(await node.store.dump())).not.toContain('Erika');
    expect(await node.store.reviewInfo()).toEqual({ alerts: 1, conflicts: 2, dataLoss: null });
    // The next fetch is the whole list: what is gone from it was resolved on the server.
    await node.store.replaceServerReview({ alerts: [], conflicts: [conflicts[0] as ServerConflict] });
    expect(await node.store.reviewInfo()).toEqual({ alerts: 0, conflicts: 1, dataLoss: null });
  });

  it('a register paired again after losing its database records what the server lacks; seq resumes from the server, receipts after the last one printed', async () => {
    const { node } = await register();
    const fresh = openNodeStore(join(dirs[0] ?? '', 'fresh.sqlite'));
    const loss = await fresh.store.pairAfterLoss(
      { ...FIXTURE_IDENTITY, resume: { lastSeq: 40, lastReceiptNumber: 17, chainHead: null } },
      { reason: 'missing', localLastSeq: 46, localLastReceiptNo: 'S01-R02-000021' },
    );
    expect(loss).toMatchObject({
      reason: 'missing',
      serverLastSeq: 40,
      missingSeqs: { from: 41, to: 46, count: 6 },
      missingReceipts: { from: 'S01-R02-000018', to: 'S01-R02-000021', count: 4 },
      reportedAt: null,
      acknowledgedAt: null,
    });
    const meta = await fresh.store.meta();
    expect(meta.nextSeq).toBe(41);
    expect(meta.lastReceiptSeq).toBe(21);
    expect((await fresh.store.reviewInfo()).dataLoss?.id).toBe(loss.id);
    await fresh.store.markDataLossReported(loss.id);
    expect((await fresh.store.dataLosses())[0]?.reportedAt).not.toBeNull();
    await fresh.store.acknowledgeDataLoss(loss.id);
    expect((await fresh.store.reviewInfo()).dataLoss).toBeNull();
    expect(await fresh.store.dataLosses()).toHaveLength(1);
    // Nothing lost (the server had it all): recorded, with no range.
    const other = openNodeStore(join(dirs[0] ?? '', 'other.sqlite'));
    const none = await other.store.pairAfterLoss({ ...FIXTURE_IDENTITY, resume: { lastSeq: 46, lastReceiptNumber: 21, chainHead: null } }, { reason: 'missing', localLastSeq: 46, localLastReceiptNo: 'S01-R02-000021' });
    expect(none).toMatchObject({ missingSeqs: null, missingReceipts: null });
    fresh.engine.close();
    other.engine.close();
    node.engine.close();
  });

  it('prunes synced rows older than the window — journal, seen facts, pulled sales — and keeps what is pending or still needed', async () => {
    const { node, at } = await register();
    const log = { n: 0 };
    for (let i = 0; i < 3; i++) await sell(node);
    await syncAll(node, log);
    // Another register's sale, pulled: its lines are kept for refunds of it.
    const foreign = { ...(await sell(node)), id: fixtureId(0x600001), deviceId: fixtureId(0x600002), seq: 1 } as Op;
    const queued = await node.store.outbox();
    await node.store.applyPullPage({ since: (await node.store.syncInfo()).pullCursor, changes: [{ seq: ++log.n, id: 'cf', entity: 'fact', entityId: foreign.id, storeId: FIXTURE.store, op: 'upsert', data: foreign }], cursor: `e1.${String(log.n)}` });
    expect(await count(node, 'journal')).toBe(4); // shift + 3 sales
    // Sales lines pulled: the register's own echoes and the other register's sale.
    expect(await count(node, 'pulled_sales')).toBe(4);
    const seen = await count(node, 'seen_facts');
    // Inside the window nothing goes.
    expect(await node.store.pruneSynced()).toEqual({ journal: 0, seenFacts: 0, pulledSales: 0 });
    at.now = T0 + 31 * DAY;
    expect(await node.store.pruneSynced()).toEqual({ journal: 4, seenFacts: 5, pulledSales: 0 });
    expect(seen).toBe(5);
    // The unsynced sale stays queued; the pulled sale's lines stay until their own (longer) window.
    expect(await node.store.outbox()).toEqual(queued);
    at.now = T0 + 91 * DAY;
    expect(await node.store.pruneSynced()).toEqual({ journal: 0, seenFacts: 0, pulledSales: 4 });
    expect(await node.store.outbox()).toEqual(queued);
    node.engine.close();
  });

  it('a full disk: synced rows past the window are pruned first and the sale goes through; with nothing to prune, StorageFullError and nothing written', { timeout: 60_000 }, async () => {
    const { node, at } = await register();
    const log = { n: 0 };
    for (let i = 0; i < 120; i++) await sell(node);
    await syncAll(node, log);
    expect(await count(node, 'journal')).toBe(121);
    at.now = T0 + 31 * DAY;
    // The disk is full: not one more page.
    node.engine.setMaxPageCount(0);
    const sale = await sell(node);
    expect((await node.store.outbox()).map((e) => e.opId)).toEqual([sale.id]);
    expect(await count(node, 'journal')).toBe(0);
    // Full again, and nothing left to prune: the caller hears StorageFullError; nothing was written.
    node.engine.setMaxPageCount(0);
    let caught: unknown;
    let before = await node.store.dump();
    for (let i = 0; i < 200 && caught === undefined; i++) {
      before = await node.store.dump();
      try {
        await sell(node);
      } catch (e) {
        caught = e;
      }
    }
    expect(caught).toBeInstanceOf(StorageFullError);
    expect(await node.store.dump()).toEqual(before);
    node.engine.close();
  });
});
