/**
 * The sync engine against the in-memory fake server, with fake timers: every wait is a timer the
 * test moves, every network failure a fault the test queues. No sleeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLine, createCart, qtyMilli, seededRandom, type Clock, type FactOp } from '@kassa/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openNodeStore, type NodeRegisterStore } from '../node.js';
import { counterRandom, FIXTURE, FIXTURE_IDENTITY, fixtureId } from '../store/store-fixtures.js';
import { backoffCeiling } from './backoff.js';
import { createInProcessLock, type OwnerLock } from './owner-lock.js';
import { notifyingStore } from './notifying-store.js';
import { SyncEngine, type OnlineSignal } from './sync-engine.js';
import { FakeSyncServer } from './sync-test-kit.js';

const T0 = Date.UTC(2026, 0, 15, 9);
const clock: Clock = { now: () => Date.now() };

class Switch implements OnlineSignal {
  #on = true;
  readonly #listeners = new Set<(online: boolean) => void>();
  isOnline(): boolean {
    return this.#on;
  }
  set(on: boolean): void {
    this.#on = on;
    for (const l of this.#listeners) l(on);
  }
  subscribe(l: (online: boolean) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
}

interface Rig {
  readonly file: string;
  readonly node: NodeRegisterStore;
  readonly server: FakeSyncServer;
  readonly online: Switch;
  readonly lock: OwnerLock;
  engine(extra?: Partial<ConstructorParameters<typeof SyncEngine>[0]>): SyncEngine;
}

const cleanups: (() => Promise<void> | void)[] = [];
let tenders = 0;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.useRealTimers();
});

function rig(): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-sync-'));
  const file = join(dir, 'register.sqlite');
  const node = openNodeStore(file, { random: counterRandom(3) });
  const server = new FakeSyncServer(clock, { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) });
  const online = new Switch();
  const lock = createInProcessLock();
  cleanups.push(() => {
    node.engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    file,
    node,
    server,
    online,
    lock,
    engine(extra = {}) {
      const e = new SyncEngine({ store: node.store, baseUrl: 'http://kassa.test', database: file, fetch: server.fetch, clock, random: seededRandom(11), online, lock, ...extra });
      cleanups.push(() => e.stop());
      return e;
    },
  };
}

/** Lets every due timer and pending promise run, without moving the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await vi.advanceTimersByTimeAsync(0);
}

/** Moves the clock by `ms` in small steps, letting work run in between. */
async function advance(ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) await vi.advanceTimersByTimeAsync(Math.min(step, ms - t));
  await settle();
}

async function until(what: string, cond: () => boolean | Promise<boolean>, maxMs = 10_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 50) {
    if (await cond()) return;
    await vi.advanceTimersByTimeAsync(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function bootstrapped(r: Rig, engine: SyncEngine): Promise<void> {
  await r.node.store.pair(FIXTURE_IDENTITY);
  await engine.start();
  await until('bootstrap', async () => (await r.node.store.syncInfo()).pullCursor !== null && engine.status().phase === 'idle');
  // Count from here: the bootstrap's own requests (its push probe among them) are not the test's.
  r.server.requests.splice(0);
}

async function sell(r: Rig, qty = 2000): Promise<string> {
  const store = r.node.store;
  if ((await store.currentShift()) === undefined) await store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
  const cart = addLine(createCart(await store.cartSettings()), await store.getItem(FIXTURE.mug), qtyMilli(qty));
  tenders += 1;
  const sale = await store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x200000 + tenders), kind: 'cash', given: 100_000 }] });
  return sale.op.id;
}

const pushes = (r: Rig) => r.server.requests.filter((q) => q.route === 'push');

describe('sync engine (fake server, fake timers)', () => {
  it('bootstraps from the snapshot with progress events, then follows the log', async () => {
    const r = rig();
    const engine = r.engine({ snapshotLimit: 4 });
    const progress: { done: number; total: number }[] = [];
    engine.subscribe((s) => {
      if (s.bootstrap !== null && s.bootstrap.total > 0) progress.push(s.bootstrap);
    });
    await bootstrapped(r, engine);
    const total = progress.at(-1)?.total ?? 0;
    expect(total).toBeGreaterThan(8);
    // Done grows page by page (4 items a page) and never passes the total.
    expect(progress.map((p) => p.done)).toEqual([...new Set(progress.map((p) => p.done))].sort((a, b) => a - b));
    expect(progress.map((p) => p.done).filter((d) => d > 0).every((d) => d % 4 === 0 && d <= total)).toBe(true);
    const store = r.node.store;
    expect((await store.findByBarcode(FIXTURE.mugBarcode))?.item).toMatchObject({ productId: FIXTURE.mug, unitPrice: { amount: 250 } });
    expect(await store.onHand(FIXTURE.mug)).toBe(10_000);
    expect((await store.settings()).currency).toBe('EUR');
    expect(engine.status()).toMatchObject({ phase: 'idle', bootstrap: null, owner: true, opsWaiting: 0 });
  });

  it('pushes a sale at once after the command (notifyingStore); ops leave the outbox only with the ack, into the journal', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    const till = notifyingStore(r.node.store, engine);
    await till.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 10_000 } });
    await settle();
    expect(pushes(r)).toHaveLength(1);
    const cart = addLine(createCart(await till.cartSettings()), await till.getItem(FIXTURE.mug), qtyMilli(2000));
    const { op } = await till.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x210000), kind: 'cash', given: 100_000 }] });
    const id = op.id;
    await settle();
    expect(pushes(r)).toHaveLength(2);
    expect(r.server.applied).toContain(id);
    expect(await r.node.store.outbox()).toEqual([]);
    expect((await r.node.store.journal()).map((j) => [j.type, j.status])).toEqual([
      ['shift.opened', 'applied'],
      ['sale.completed', 'applied'],
    ]);
    expect(engine.status()).toMatchObject({ opsWaiting: 0, lastError: null });
  });

  it('offline: nothing is attempted; the online event pushes at once', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.online.set(false);
    await settle();
    expect(engine.status().phase).toBe('offline');
    const before = r.server.requests.length;
    await sell(r);
    engine.notifyLocalOp();
    await advance(120_000);
    expect(r.server.requests.length).toBe(before);
    await engine.refresh();
    expect(engine.status()).toMatchObject({ online: false, opsWaiting: 2, oldestWaitingAgeMs: 120_000 });
    r.online.set(true);
    await settle();
    expect(pushes(r).length).toBe(1);
    expect(engine.status().opsWaiting).toBe(0);
  });

  it('backs off with full jitter: each wait within [0, min(60 s, 1 s·2^(n−1))], growing, reset by a success', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.server.fault('push', { kind: 'status', status: 503 }, 9);
    await sell(r);
    engine.notifyLocalOp();
    await until('nine failures and a success', () => pushes(r).length >= 10, 600_000);
    const times = pushes(r).map((p) => p.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    gaps.forEach((g, i) => {
      expect(g, `wait after failure ${i + 1}`).toBeGreaterThanOrEqual(0);
      expect(g, `wait after failure ${i + 1}`).toBeLessThanOrEqual(backoffCeiling(i + 1) + 50);
    });
    // Jitter, not a fixed schedule: the waits are not all at their ceiling.
    expect(gaps.some((g, i) => g < backoffCeiling(i + 1) / 2)).toBe(true);
    await settle();
    expect(engine.status()).toMatchObject({ opsWaiting: 0, push: { attempt: 0 } });
  });

  it('honours Retry-After: no push before it, then one', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.server.fault('push', { kind: 'status', status: 429, body: { error: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '30' } });
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    expect(pushes(r).length).toBe(1);
    expect(engine.status()).toMatchObject({ phase: 'backoff', lastError: { code: 'sync_http', status: 429 } });
    expect(engine.status().push.nextAttemptAt).toBeGreaterThanOrEqual(T0 + 30_000);
    await advance(29_000);
    expect(pushes(r).length).toBe(1);
    await advance(2_000);
    expect(pushes(r).length).toBe(2);
    expect(engine.status()).toMatchObject({ opsWaiting: 0, lastError: null });
  });

  it('does not hammer while backing off: new sales and online events wait for the timer', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.server.fault('push', { kind: 'status', status: 503, headers: { 'retry-after': '45' } }, 1);
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    expect(pushes(r).length).toBe(1);
    for (let i = 0; i < 20; i++) {
      await sell(r, 1000);
      engine.notifyLocalOp();
      r.online.set(false);
      r.online.set(true);
      await advance(1_000);
    }
    expect(pushes(r).length).toBe(1);
    await advance(30_000);
    expect(pushes(r).length).toBe(2);
    expect(engine.status().opsWaiting).toBe(0);
    expect(r.server.applied.length).toBe(22);
  });

  it('401 register_revoked stops sync and locks the register; a locked register still exports', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.server.revoked = true;
    await sell(r);
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    expect(engine.status()).toMatchObject({ phase: 'locked', locked: true, lastError: { code: 'register_revoked' } });
    const seen = r.server.requests.length;
    await sell(r);
    engine.notifyLocalOp();
    await advance(300_000);
    expect(r.server.requests.length).toBe(seen);
    // A restart stays locked: the revocation is stored with the token it applied to.
    await engine.stop();
    const again = r.engine();
    await again.start();
    await advance(60_000);
    expect(again.status().phase).toBe('locked');
    expect(r.server.requests.length).toBe(seen);
    const exported = await again.exportUnsynced();
    expect(exported.ops.map((o) => o.type)).toEqual(['shift.opened', 'sale.completed', 'sale.completed', 'sale.completed']);
  });

  it('a batch-level 400 is shown as an error and retried only at the slowest pace, never in a hot loop', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.server.fault('push', { kind: 'status', status: 400, body: { error: 'invalid_body', message: 'ops must be an array' } }, 1000);
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    expect(engine.status()).toMatchObject({ phase: 'error', lastError: { code: 'sync_http', status: 400 } });
    for (let i = 0; i < 30; i++) {
      engine.notifyLocalOp();
      await advance(20_000, 1_000);
    }
    // 10 minutes: the first attempt and at most one a minute after it.
    expect(pushes(r).length).toBeLessThanOrEqual(11);
    expect(pushes(r).length).toBeGreaterThanOrEqual(9);
    expect(engine.status().opsWaiting).toBe(2);
  });

  it('per-op statuses: quarantined and seq_conflict are journaled with a notice and stop counting; pending_gap and deferred wait', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.online.set(false);
    await sell(r); // seq 2
    const bad = await sell(r, 3000); // seq 3, quarantined
    const later = await sell(r, 1000); // seq 4
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(10_000 - 6000);
    r.server.quarantine.set(bad, 'forbidden');
    r.server.defer.add(later);
    r.online.set(true);
    await settle();
    const journal = await r.node.store.journal();
    expect(journal.map((j) => j.status)).toEqual(['applied', 'applied', 'quarantined']);
    expect((await r.node.store.outbox()).map((o) => o.opId)).toEqual([later]);
    expect(await r.node.store.quarantineNotices()).toEqual([expect.objectContaining({ opId: bad, seq: 3, reason: 'forbidden' })]);
    expect(engine.status()).toMatchObject({ quarantined: 1, opsWaiting: 1, phase: 'backoff' });
    // The quarantined sale no longer counts: the server will never apply it.
    await until('echo of the first sale', async () => (await r.node.store.serverOnHand(FIXTURE.mug)) === 8000);
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(8000 - 1000);
    // The server is upgraded: the deferred op goes through on the next (backed-off) attempt.
    r.server.defer.clear();
    await until('deferred op applied', async () => (await r.node.store.outbox()).length === 0, 120_000);
    expect(r.server.applied.filter((a) => a === later)).toHaveLength(1);
    await until('echo', async () => (await r.node.store.serverOnHand(FIXTURE.mug)) === 7000);
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(7000);
  });

  it('a seq_conflict (another op holds the seq) is kept for review, journaled and never blocks what follows', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.online.set(false);
    await sell(r); // seq 1 shift, 2 sale
    r.online.set(true);
    await settle();
    expect(r.server.ackedSeq).toBe(2);
    r.online.set(false);
    const other = await sell(r, 1000); // seq 3 for us
    // The server already holds seq 3 with another op (this register restored from an old copy made one too).
    const takenBy = fixtureId(0xabc);
    await r.server.fetch('http://kassa.test/api/v1/sync/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${r.server.token}` },
      body: JSON.stringify({ ops: [{ ...((await r.node.store.outbox())[0]?.op as object), id: takenBy }] }),
    });
    expect(r.server.ackedSeq).toBe(3);
    const next = await sell(r, 1000); // seq 4
    r.online.set(true);
    await until('outbox drained', async () => (await r.node.store.outbox()).length === 0);
    expect((await r.node.store.journal()).find((j) => j.opId === other)?.status).toBe('seq_conflict');
    expect((await r.node.store.quarantineNotices()).map((n) => [n.opId, n.reason])).toEqual([[other, 'seq_conflict']]);
    expect(r.server.applied).toContain(next);
    expect((await r.node.store.exportUnsynced()).notAccepted.map((o) => o.opId)).toEqual([other]);
  });

  it('a restored server (ackedSeq below the journal) gets the journal re-sent, and applies it once', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    const backup = r.server.backup();
    const ids = [await sell(r), await sell(r), await sell(r)];
    engine.notifyLocalOp();
    await settle();
    expect(r.server.ackedSeq).toBe(4);
    r.server.restore(backup);
    expect(r.server.ackedSeq).toBe(0);
    const after = await sell(r, 1000);
    engine.notifyLocalOp();
    await until('re-sent', () => r.server.ackedSeq === 5, 60_000);
    for (const id of [...ids, after]) expect(r.server.applied.filter((a) => a === id), id).toHaveLength(1);
    expect(await r.node.store.outbox()).toEqual([]);
    // The restored log's epoch changed: the register bootstraps again and shows the server's stock.
    await until('re-bootstrap', async () => (await r.node.store.serverOnHand(FIXTURE.mug)) === r.server.onHand(FIXTURE.mug), 60_000);
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(10_000 - 7000);
  });

  it('the lost ack: sale offline → push commits but the answer is lost → pull delivers the sale → the ack arrives; on-hand changes exactly once', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    await engine.stop();
    const store = r.node.store;
    const shown = () => store.onHand(FIXTURE.mug);
    expect(await shown()).toBe(10_000);

    // 1. The sale, offline: shown at once, the server knows nothing.
    const id = await sell(r);
    expect(await shown()).toBe(8000);
    expect(await store.serverOnHand(FIXTURE.mug)).toBe(10_000);

    // 2. The push commits on the server; its answer is lost (and the retry is told to wait 30 s).
    r.server.fault('push', { kind: 'drop_response' });
    r.server.fault('push', { kind: 'status', status: 503, headers: { 'retry-after': '30' } });
    r.server.fault('pull', { kind: 'status', status: 503, headers: { 'retry-after': '5' } });
    const again = r.engine();
    await again.start();
    await settle();
    await advance(1_500);
    expect(r.server.applied).toEqual([expect.any(String), id]);
    expect(r.server.onHand(FIXTURE.mug)).toBe(8000);
    expect((await store.outbox()).map((o) => o.opId)).toContain(id);
    expect((await store.syncInfo()).pushInDoubt).toBe(true);
    expect(await shown()).toBe(8000);

    // 3. The pull delivers the sale: recognised by id as the register's own, counted on the server side only.
    await advance(5_000);
    expect(await store.serverOnHand(FIXTURE.mug)).toBe(8000);
    expect((await store.outbox()).map((o) => o.opId)).toContain(id);
    expect(await shown()).toBe(8000);

    // 4. The retry's answer arrives: `duplicate`, journaled; nothing moves.
    await advance(30_000);
    expect((await store.journal()).find((j) => j.opId === id)?.status).toBe('duplicate');
    expect(await store.outbox()).toEqual([]);
    expect(await shown()).toBe(8000);
    expect(r.server.applied.filter((a) => a === id)).toHaveLength(1);
    expect(r.server.onHand(FIXTURE.mug)).toBe(8000);
  });

  // ~2.5 s of work alone (it drives 10 minutes of fake time in 50 ms steps): over the 5 s default on a busy machine.
  it('410 resync_required re-bootstraps and keeps the outbox untouched', { timeout: 30_000 }, async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    r.online.set(false);
    await sell(r);
    await sell(r, 1000);
    const outbox = await r.node.store.outbox();
    // Another register's sale the log will no longer have: the snapshot must bring it.
    r.server.applyForeign({ ...(outbox[1]?.op as FactOp), id: fixtureId(0x777), deviceId: fixtureId(0x778), seq: 1 });
    r.server.pruneAll();
    // Pushes carrying ops wait 10 minutes, so the resync runs with the whole outbox still queued.
    r.server.fault('push', { kind: 'status', status: 503, headers: { 'retry-after': '600' }, onlyWithOps: true });
    r.online.set(true);
    await until('re-bootstrapped', async () => (await r.node.store.serverOnHand(FIXTURE.mug)) === 8000, 60_000);
    expect(await r.node.store.outbox()).toEqual(outbox);
    // Server 8000 (the foreign sale) + this register's two queued sales.
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(8000 - 3000);
    await until('drained', async () => (await r.node.store.outbox()).length === 0, 700_000);
    await until('echoes', async () => (await r.node.store.serverOnHand(FIXTURE.mug)) === 5000, 60_000);
    expect(await r.node.store.onHand(FIXTURE.mug)).toBe(5000);
  });

  it('compares clocks on every sync: a register 10 minutes slow says so', async () => {
    const r = rig();
    r.server.clockOffsetMs = 10 * 60_000;
    const engine = r.engine();
    await bootstrapped(r, engine);
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    expect(engine.status().clockSkewLarge).toBe(true);
    expect(engine.status().clockSkewMs).toBeGreaterThan(9 * 60_000);
  });

  it('the pull alone carries the comparison, to the millisecond (serverTime, not the 1 s Date header), and every later sync updates it', async () => {
    const r = rig();
    r.server.clockOffsetMs = 1_234;
    const engine = r.engine();
    await bootstrapped(r, engine);
    // No push has run since the bootstrap: the skew is the pull's (and the snapshot's).
    expect(engine.status().clockSkewMs).toBe(1_234);
    expect(engine.status().clockSkewLarge).toBe(false);
    // The register's clock is set back 2 minutes (the server's looks 2 min + 1.234 s ahead): the next pull says so.
    r.server.clockOffsetMs = 121_234;
    const mia = fixtureId(0x300001);
    r.server.append({ entity: 'staff', entityId: mia, storeId: FIXTURE.store, op: 'upsert', data: { id: mia, storeId: FIXTURE.store, name: 'Mia Vogel', role: 'cashier', active: true, pin: { kdf: 'pbkdf2-sha256', iterations: 600_000, salt: 'c2FsdA', hash: 'aGFzaA' }, updatedAt: 2 } });
    await until('the next pull to see the new skew', () => engine.status().clockSkewMs === 121_234);
    expect(engine.status().clockSkewLarge).toBe(true);
    expect(r.server.requests.filter((q) => q.route === 'push')).toEqual([]);
  });

  it('two engines on one database: one owner; the other takes over when it stops', async () => {
    const r = rig();
    const a = r.engine();
    const b = r.engine();
    await r.node.store.pair(FIXTURE_IDENTITY);
    await a.start();
    await b.start();
    await until('a bootstrapped', async () => (await r.node.store.syncInfo()).pullCursor !== null && a.status().phase === 'idle');
    expect(b.status()).toMatchObject({ owner: false, phase: 'standby' });
    const snapshots = r.server.requests.filter((q) => q.route === 'snapshot').length;
    await a.stop();
    await until('b owns', () => b.status().owner && b.status().phase === 'idle');
    // b follows from the cursor a saved: no second bootstrap.
    expect(r.server.requests.filter((q) => q.route === 'snapshot').length).toBe(snapshots);
  });

  it('export → import on the same register paired again: re-queued without duplicates, numbering continues', async () => {
    const r = rig();
    const engine = r.engine();
    await bootstrapped(r, engine);
    await sell(r);
    engine.notifyLocalOp();
    await settle();
    r.server.revoked = true;
    const unsynced = [await sell(r), await sell(r)];
    engine.notifyLocalOp();
    await settle();
    expect(engine.status().locked).toBe(true);
    const doc = JSON.parse(JSON.stringify(await engine.exportUnsynced())) as unknown;
    await engine.stop();

    // A new database for the same register: the server resumes it from what it acknowledged.
    const dir = mkdtempSync(join(tmpdir(), 'kassa-sync-'));
    const fresh = openNodeStore(join(dir, 'register.sqlite'), { random: counterRandom(5) });
    cleanups.push(() => {
      fresh.engine.close();
      rmSync(dir, { recursive: true, force: true });
    });
    r.server.revoked = false;
    r.server.token = 'new-token';
    await fresh.store.pair({ ...FIXTURE_IDENTITY, token: 'new-token', resume: { lastSeq: r.server.ackedSeq, lastReceiptNumber: 1, chainHead: (await r.node.store.receipts())[0]?.hash ?? null } });
    const first = await fresh.store.importUnsynced(doc);
    expect(first).toMatchObject({ queued: 2, nextSeq: 5, lastReceiptSeq: 3 });
    expect(await fresh.store.importUnsynced(doc)).toMatchObject({ queued: 0, present: 2 });
    const sync = new SyncEngine({ store: fresh.store, baseUrl: 'http://kassa.test', database: join(dir, 'register.sqlite'), fetch: r.server.fetch, clock, random: seededRandom(3), online: r.online, lock: r.lock });
    cleanups.push(() => sync.stop());
    await sync.start();
    await until('drained', async () => (await fresh.store.outbox()).length === 0 && sync.status().phase === 'idle');
    for (const id of unsynced) expect(r.server.applied.filter((a) => a === id)).toHaveLength(1);
    // Numbering continues after the imported receipts.
    const next = await fresh.store.openShift({ staffId: FIXTURE.cashier, float: { denominations: [], total: 0 } }).then(async () => {
      const cart = addLine(createCart(await fresh.store.cartSettings()), await fresh.store.getItem(FIXTURE.mug), qtyMilli(1000));
      return fresh.store.completeSale({ cart, staffId: FIXTURE.cashier, tenders: [{ tenderId: fixtureId(0x300001), kind: 'cash', given: 1000 }] });
    });
    expect(next.receiptNo).toBe('S01-R02-000004');
    expect(next.op.seq).toBe(6);
  });
});
