/**
 * The sync engine against a REAL server process, one suite run on SQLite and on PostgreSQL
 * (`real-server-sqlite.test.ts`, `real-server-postgres.test.ts`). Each test has its own register
 * database, its own client address and, where it needs one, its own proxy; the server process and
 * its database are shared by the tests of one file (the SIGKILL test restarts it on the same
 * database). Waits are for conditions, never fixed sleeps.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLine, createCart, qtyMilli } from '@kassa/core';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase, markerFromMeta } from '../browser/database-check.js';
import { DatabaseLostError } from '../browser/errors.js';
import { slotMarkerStore, type MarkerStore } from '../browser/pairing-marker.js';
import { openNodeStore, type NodeRegisterStore } from '../node.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { pairRegister } from './pairing.js';
import { recoverRegister } from './recovery.js';
import { BackOffice, boundFetch, startProxy, startServer, waitFor, type DbKind, type FaultProxy, type RealServer } from './real-server-kit.js';
import { SyncEngine, type OnlineSignal, type SyncEngineOptions } from './sync-engine.js';
import type { SyncPhase } from './status.js';

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

interface Register {
  readonly file: string;
  readonly node: NodeRegisterStore;
  readonly addr: string;
  readonly online: Switch;
  readonly deviceId: string;
  readonly registerCode: string;
  engine(extra?: Partial<SyncEngineOptions>): SyncEngine;
}

const num = (v: unknown): number => Number(v);

/** The pairing marker as a register keeps it outside its database: here a file beside it. */
function fileMarkers(path: string): MarkerStore {
  return slotMarkerStore([
    {
      name: `file:${path}`,
      read: () => {
        try {
          return Promise.resolve(readFileSync(path, 'utf8'));
        } catch {
          return Promise.resolve(null);
        }
      },
      write: (text) => Promise.resolve(writeFileSync(path, text)),
      remove: () => Promise.resolve(rmSync(path, { force: true })),
    },
  ]);
}

/** Declares the real-server suite for one database kind. */
export function describeRealServer(kind: DbKind): void {
  describe(`sync engine against a real server on ${kind}`, { timeout: 60_000 }, () => {
    let server: RealServer;
    let storeId = '';
    let orgId = '';
    let cashier = '';
    let product = '';
    let addrs = 10;
    const cleanups: (() => Promise<void> | void)[] = [];

    beforeAll(async () => {
      server = await startServer(kind);
      const [s] = await server.sql<{ id: string; org_id: string }>("SELECT id, org_id FROM stores WHERE code = 'S01'");
      storeId = s?.id ?? '';
      orgId = s?.org_id ?? '';
      cashier = (await server.sql<{ id: string }>("SELECT id FROM staff WHERE role = 'cashier' ORDER BY name LIMIT 1"))[0]?.id ?? '';
      product = (await server.sql<{ id: string }>('SELECT id FROM products WHERE weighed = 0 AND active = 1 ORDER BY sku LIMIT 1'))[0]?.id ?? '';
    }, 90_000);

    afterAll(async () => {
      await server?.dispose();
    }, 30_000);

    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    /**
     * The back office, signed in once per file (sessions survive a server restart): logging in for
     * every register would meet the login rate limit, which counts attempts per account.
     */
    let signedIn: Promise<BackOffice> | null = null;
    async function backOffice(addr: string): Promise<BackOffice> {
      signedIn ??= new BackOffice(server.url, '127.0.0.10').login();
      return (await signedIn).at(addr);
    }

    /** A new register database paired through the real pairing API, talking from its own address. */
    async function newRegister(o: { registerCode?: string; baseUrl?: string } = {}): Promise<Register> {
      addrs += 1;
      const addr = `127.0.0.${String(addrs)}`;
      const dir = mkdtempSync(join(tmpdir(), 'kassa-reg-'));
      const file = join(dir, 'register.sqlite');
      const node = openNodeStore(file);
      cleanups.push(() => {
        try {
          node.engine.close();
        } catch {
          // closed by the test already
        }
        rmSync(dir, { recursive: true, force: true });
      });
      const code = await (await backOffice(addr)).pairingCode(storeId, o.registerCode);
      const paired = await pairRegister({ baseUrl: server.url, store: node.store, request: { code, ...(o.registerCode === undefined ? {} : { registerCode: o.registerCode }) }, fetch: boundFetch(addr) });
      const online = new Switch();
      return {
        file,
        node,
        addr,
        online,
        deviceId: paired.response.deviceId,
        registerCode: paired.response.registerCode,
        engine(extra = {}) {
          const e = new SyncEngine({ store: node.store, baseUrl: o.baseUrl ?? server.url, database: file, fetch: boundFetch(addr), online, pullWaitS: 2, ...extra });
          cleanups.push(() => e.stop());
          return e;
        },
      };
    }

    async function proxy(): Promise<FaultProxy> {
      const p = await startProxy(server.url);
      cleanups.push(() => p.close());
      return p;
    }

    async function synced(reg: Register, engine: SyncEngine, timeoutMs = 30_000): Promise<void> {
      await waitFor(
        'the register to be in sync',
        async () => {
          const info = await reg.node.store.syncInfo();
          return info.pullCursor !== null && info.opsWaiting === 0 && engine.status().phase === 'idle';
        },
        timeoutMs,
      );
    }

    async function sell(store: NodeRegisterStore['store'], qty = 1000): Promise<{ id: string; receiptNo: string }> {
      if ((await store.currentShift()) === undefined) await store.openShift({ staffId: cashier, float: { denominations: [], total: 10_000 } });
      const cart = addLine(createCart(await store.cartSettings()), await store.getItem(product), qtyMilli(qty));
      const s = await store.completeSale({ cart, staffId: cashier, tenders: [{ tenderId: globalThis.crypto.randomUUID(), kind: 'cash', given: 1_000_000 }] });
      return { id: s.op.id, receiptNo: s.receiptNo };
    }

    /** Each op id stored exactly once as a fact of this register, and nothing else stored twice. */
    async function expectAppliedOnce(deviceId: string, opIds: readonly string[]): Promise<void> {
      const rows = await server.sql<{ id: string; n: unknown }>('SELECT id, count(*) AS n FROM facts WHERE register_id = ? GROUP BY id', [deviceId]);
      const byId = new Map(rows.map((r) => [r.id, num(r.n)]));
      for (const id of opIds) expect(byId.get(id), `fact ${id}`).toBe(1);
      const dup = await server.sql<{ op_id: string }>('SELECT op_id FROM sync_ops WHERE register_id = ? GROUP BY op_id HAVING count(*) > 1', [deviceId]);
      expect(dup).toEqual([]);
    }

    async function serverOnHand(): Promise<number> {
      const [r] = await server.sql<{ on_hand: unknown }>("SELECT on_hand FROM stock_levels WHERE store_id = ? AND product_id = ? AND variant_id = ''", [storeId, product]);
      return r === undefined ? 0 : num(r.on_hand);
    }

    it('200 sales offline → online: all applied exactly once, the outbox empty', async () => {
      const reg = await newRegister();
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      const stockBefore = await serverOnHand();
      const shownBefore = await reg.node.store.onHand(product);
      reg.online.set(false);
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push((await sell(reg.node.store)).id);
      engine.notifyLocalOp();
      await engine.refresh();
      expect(engine.status()).toMatchObject({ phase: 'offline', opsWaiting: 201 });
      reg.online.set(true);
      await synced(reg, engine);
      await expectAppliedOnce(reg.deviceId, ids);
      expect(await reg.node.store.outbox()).toEqual([]);
      expect((await reg.node.store.journal()).filter((j) => j.status === 'applied')).toHaveLength(201);
      const [r] = await server.sql<{ last_seq: unknown }>('SELECT last_seq FROM registers WHERE id = ?', [reg.deviceId]);
      expect(num(r?.last_seq)).toBe(201);
      expect((await serverOnHand()) - stockBefore).toBe(-200_000);
      // The echoes came back: shown = before − 200, counted once.
      await waitFor('echoes', async () => (await reg.node.store.serverOnHand(product)) <= -200_000 || undefined);
      expect((await reg.node.store.onHand(product)) - shownBefore).toBe(-200_000);
    });

    it('the server SIGKILLed mid-push and restarted: no loss, no duplicate', async () => {
      const p = await proxy();
      const reg = await newRegister({ baseUrl: p.url });
      const engine = reg.engine({ maxOpsPerPush: 50, requestTimeoutMs: 5_000 });
      await engine.start();
      await synced(reg, engine);
      reg.online.set(false);
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push((await sell(reg.node.store)).id);
      let pushes = 0;
      let killed = false;
      p.decide = (req) => {
        if (!req.path.startsWith('/api/v1/sync/push') || req.body === '{"ops":[]}') return { kind: 'forward' };
        pushes += 1;
        if (pushes === 2 && !killed) {
          killed = true;
          return { kind: 'forward_then', then: () => server.kill() };
        }
        return { kind: 'forward' };
      };
      reg.online.set(true);
      await waitFor('the kill', () => killed);
      await server.restart();
      await synced(reg, engine, 45_000);
      await expectAppliedOnce(reg.deviceId, ids);
      expect(await reg.node.store.outbox()).toEqual([]);
      const [r] = await server.sql<{ last_seq: unknown }>('SELECT last_seq FROM registers WHERE id = ?', [reg.deviceId]);
      expect(num(r?.last_seq)).toBe(201);
    }, 90_000);

    it('a proxy drops the answer after the server committed: the retry is deduplicated', async () => {
      const p = await proxy();
      const reg = await newRegister({ baseUrl: p.url });
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      reg.online.set(false);
      const ids = [(await sell(reg.node.store)).id, (await sell(reg.node.store)).id, (await sell(reg.node.store)).id];
      let dropped = 0;
      p.decide = (req) => {
        if (req.path.startsWith('/api/v1/sync/push') && req.body !== '{"ops":[]}' && dropped === 0) {
          dropped += 1;
          return { kind: 'drop_response' };
        }
        return { kind: 'forward' };
      };
      reg.online.set(true);
      await synced(reg, engine);
      const withOps = p.seen.filter((s) => s.path.startsWith('/api/v1/sync/push') && s.body !== '{"ops":[]}');
      expect(withOps.map((s) => s.action)).toEqual(['drop_response', 'forward']);
      await expectAppliedOnce(reg.deviceId, ids);
      // The server had them: the retry was answered `duplicate`.
      expect((await reg.node.store.journal()).filter((j) => ids.includes(j.opId)).map((j) => j.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    });

    it('the lost ack: a sale offline → the push commits but its answer is lost → pull brings the sale back → the ack arrives; the shown on-hand moves exactly once', async () => {
      const p = await proxy();
      const reg = await newRegister({ baseUrl: p.url });
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      await sell(reg.node.store); // opens the shift: counted from here
      engine.notifyLocalOp();
      await synced(reg, engine);
      // "In sync" says the push is done; the echo of that sale comes by pull, maybe a moment later.
      await waitFor('the register to know the server’s stock', async () => (await reg.node.store.serverOnHand(product)) === (await serverOnHand()) || undefined);
      const shown0 = await reg.node.store.onHand(product);
      const server0 = await reg.node.store.serverOnHand(product);
      reg.online.set(false);
      const sale = await sell(reg.node.store);
      expect(await reg.node.store.onHand(product)).toBe(shown0 - 1000);
      // The first push reaches the server and its answer is lost; later pushes wait (503) until
      // the register has seen its own sale come back by pull, so the echo comes before the ack.
      let echoed = false;
      let dropped = false;
      p.decide = (req) => {
        if (!req.path.startsWith('/api/v1/sync/push') || req.body === '{"ops":[]}') return { kind: 'forward' };
        if (!dropped) {
          dropped = true;
          return { kind: 'drop_response' };
        }
        if (!echoed) return { kind: 'answer', status: 503, headers: { 'retry-after': '1' }, body: JSON.stringify({ error: 'unavailable', message: 'later' }) };
        return { kind: 'forward' };
      };
      reg.online.set(true);
      await waitFor('the sale echoed by pull while still unacknowledged', async () => (await reg.node.store.serverOnHand(product)) === server0 - 1000 || undefined);
      expect((await reg.node.store.outbox()).map((e) => e.opId)).toEqual([sale.id]);
      expect(await reg.node.store.onHand(product)).toBe(shown0 - 1000);
      echoed = true;
      await synced(reg, engine);
      expect((await reg.node.store.journal()).find((j) => j.opId === sale.id)?.status).toBe('duplicate');
      expect(await reg.node.store.onHand(product)).toBe(shown0 - 1000);
      expect(await reg.node.store.serverOnHand(product)).toBe(server0 - 1000);
      await expectAppliedOnce(reg.deviceId, [sale.id]);
    });

    it('an op of a newer schema version than the server knows is deferred: kept queued, retried later, never quarantined; the op after it waits behind it', async () => {
      const p = await proxy();
      const reg = await newRegister({ baseUrl: p.url });
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      await engine.stop();
      const [newer, after] = [await sell(reg.node.store), await sell(reg.node.store)];
      const newerSeq = (await reg.node.store.outbox()).find((e) => e.opId === newer.id)?.seq ?? 0;
      // The first was written by a newer app version (op schema v2), as after an upgrade of the
      // register before the server's.
      reg.node.engine.close();
      const db = new Database(reg.file);
      const row = db.prepare('SELECT op_json FROM outbox WHERE op_id = ?').get(newer.id) as { op_json: string };
      db.prepare('UPDATE outbox SET op_json = ? WHERE op_id = ?').run(row.op_json.replace('"v":1,', '"v":2,'), newer.id);
      db.close();
      const reopened = openNodeStore(reg.file);
      cleanups.push(() => reopened.engine.close());
      const engine2 = new SyncEngine({ store: reopened.store, baseUrl: p.url, database: reg.file, fetch: boundFetch(reg.addr), online: reg.online, pullWaitS: 2, backoff: { baseMs: 100, capMs: 400, maxRetryAfterMs: 2_000 } });
      cleanups.push(() => engine2.stop());
      const carrying = (): number => p.seen.filter((q) => q.path.startsWith('/api/v1/sync/push') && q.body.includes(newer.id)).length;
      await engine2.start();
      await waitFor('the deferred op tried again', () => carrying() >= 3 || undefined);
      expect((await reopened.store.outbox()).map((e) => e.opId)).toEqual([newer.id, after.id]);
      expect(await reopened.store.journal()).not.toContainEqual(expect.objectContaining({ opId: newer.id }));
      expect(await reopened.store.quarantineNotices()).toEqual([]);
      expect(await server.sql('SELECT id FROM quarantine WHERE op_id = ?', [newer.id])).toEqual([]);
      // The server acknowledges up to the op before it (the shift's opening), nothing past it.
      expect(num((await server.sql<{ last_seq: unknown }>('SELECT last_seq FROM registers WHERE id = ?', [reg.deviceId]))[0]?.last_seq)).toBe(newerSeq - 1);
      await expectAppliedOnce(reg.deviceId, []);
      expect(await server.sql('SELECT id FROM facts WHERE id IN (?, ?)', [newer.id, after.id])).toEqual([]);
      expect(engine2.status().phase).toMatch(/^(backoff|syncing|idle)$/);
    });

    it('Retry-After is respected', async () => {
      const p = await proxy();
      const reg = await newRegister({ baseUrl: p.url });
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      reg.online.set(false);
      await sell(reg.node.store);
      let limited = false;
      p.decide = (req) => {
        if (req.path.startsWith('/api/v1/sync/push') && req.body !== '{"ops":[]}' && !limited) {
          limited = true;
          return { kind: 'answer', status: 429, headers: { 'retry-after': '2' }, body: JSON.stringify({ error: 'rate_limited', message: 'slow down' }) };
        }
        return { kind: 'forward' };
      };
      reg.online.set(true);
      await waitFor('the 429', () => limited && engine.status().phase === 'backoff');
      expect(engine.status().lastError).toMatchObject({ status: 429 });
      // New sales while told to wait do not cut the wait short.
      await sell(reg.node.store);
      engine.notifyLocalOp();
      await synced(reg, engine);
      const pushes = p.seen.filter((s) => s.path.startsWith('/api/v1/sync/push') && s.body !== '{"ops":[]}');
      expect(pushes.length).toBe(2);
      expect((pushes[1]?.at ?? 0) - (pushes[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_950);
    });

    it('two engines on one database file: one owner syncs; the other takes over when it stops', async () => {
      const reg = await newRegister();
      const second = openNodeStore(reg.file);
      cleanups.push(() => second.engine.close());
      const a = reg.engine();
      const b = new SyncEngine({ store: second.store, baseUrl: server.url, database: reg.file, fetch: boundFetch(reg.addr), pullWaitS: 2 });
      cleanups.push(() => b.stop());
      const phasesOfB: SyncPhase[] = [];
      b.subscribe((s) => phasesOfB.push(s.phase));
      await a.start();
      await b.start();
      await synced(reg, a);
      expect(b.status()).toMatchObject({ owner: false, phase: 'standby' });
      const ids = [(await sell(reg.node.store)).id, (await sell(reg.node.store)).id];
      a.notifyLocalOp();
      await synced(reg, a);
      await a.stop();
      await waitFor('b to own the database', () => b.status().owner);
      ids.push((await sell(second.store)).id);
      b.notifyLocalOp();
      await waitFor('b in sync', async () => (await second.store.syncInfo()).opsWaiting === 0 && b.status().phase === 'idle');
      await expectAppliedOnce(reg.deviceId, ids);
      // b followed from the cursor a saved: it never bootstrapped again.
      expect(phasesOfB).not.toContain('bootstrapping');
    });

    it('a cursor past the log’s horizon: 410, a new bootstrap, and the outbox comes through intact', async () => {
      const reg = await newRegister();
      const engine = reg.engine();
      const phases: SyncPhase[] = [];
      engine.subscribe((s) => phases.push(s.phase));
      await engine.start();
      await synced(reg, engine);
      await engine.stop();
      const cursorBefore = (await reg.node.store.syncInfo()).pullCursor;
      const ids = [(await sell(reg.node.store)).id, (await sell(reg.node.store)).id, (await sell(reg.node.store)).id];
      const queued = await reg.node.store.outbox();
      // Another register moves the log on, then the log is pruned to its head.
      const other = await newRegister();
      const otherEngine = other.engine();
      await otherEngine.start();
      await synced(other, otherEngine);
      await sell(other.node.store);
      otherEngine.notifyLocalOp();
      await synced(other, otherEngine);
      await otherEngine.stop();
      await server.sql('UPDATE change_log_heads SET horizon = head, horizon_change_id = (SELECT c.change_id FROM change_log c WHERE c.org_id = change_log_heads.org_id AND c.seq = change_log_heads.head) WHERE org_id = ?', [orgId]);
      await server.sql('DELETE FROM change_log WHERE org_id = ? AND seq <= (SELECT h.horizon FROM change_log_heads h WHERE h.org_id = ?)', [orgId, orgId]);
      const bootstraps = (): number => phases.filter((ph, i) => ph === 'bootstrapping' && phases[i - 1] !== 'bootstrapping').length;
      const bootstrapsBefore = bootstraps();
      await engine.start();
      // Wait for the 410 and the bootstrap it starts before asking "in sync?": the push can drain
      // the outbox while the pull that gets the 410 is still in flight (a long-poll looks idle), and
      // under load that answer comes late — "in sync" must not be judged before it.
      await waitFor('the 410 to start a new bootstrap', () => bootstraps() > bootstrapsBefore);
      await synced(reg, engine);
      expect((await reg.node.store.syncInfo()).pullCursor).not.toBe(cursorBefore);
      const journal = await reg.node.store.journal();
      for (const q of queued) expect(journal.find((j) => j.opId === q.opId)?.status, `op ${String(q.seq)}`).toMatch(/^(applied|duplicate)$/);
      await expectAppliedOnce(reg.deviceId, ids);
    });

    it('compares its clock with the server’s serverTime on every sync: a register set 10 minutes back says so, and the status follows a correction', async () => {
      const reg = await newRegister();
      let offsetMs = -10 * 60_000;
      const engine = reg.engine({ clock: { now: () => Date.now() + offsetMs } });
      await engine.start();
      await synced(reg, engine);
      await waitFor('a large skew in the status', () => engine.status().clockSkewLarge);
      // The server is ~10 minutes ahead of this register (a loopback round trip off at most).
      expect(Math.abs((engine.status().clockSkewMs ?? 0) - 600_000)).toBeLessThan(5_000);
      // The clock is corrected; the next sync (a sale pushed, the long-poll answered) says so.
      offsetMs = 0;
      await sell(reg.node.store);
      engine.notifyLocalOp();
      await waitFor('the skew back to small', () => !engine.status().clockSkewLarge && Math.abs(engine.status().clockSkewMs ?? Infinity) < 5_000);
    });

    it('alerts and conflicts the server reports are fetched into the register’s tables and its status; resolved ones go', async () => {
      const reg = await newRegister();
      const engine = reg.engine({ reviewIntervalMs: 200 });
      await engine.start();
      await synced(reg, engine);
      const bo = await backOffice(reg.addr);
      const [manager] = await server.sql<{ id: string }>("SELECT id FROM staff WHERE role = 'manager' ORDER BY name LIMIT 1");
      // An oversell (a fact the server takes, with an alert) …
      await sell(reg.node.store, (await serverOnHand()) + 1_000_000);
      // … and a price edited on the register offline while the back office edited it too.
      reg.online.set(false);
      const price = Number((await reg.node.store.getItem(product)).unitPrice.amount);
      await reg.node.store.editProduct({ productId: product, changes: { price: price + 11 }, staffId: manager?.id ?? '' });
      await bo.editProduct(product, { price: price + 22 });
      reg.online.set(true);
      engine.notifyLocalOp();
      await synced(reg, engine);
      const oversell = (a: { kind: string; data: unknown }): boolean => a.kind === 'oversell' && JSON.stringify(a.data).includes(product);
      await waitFor('the oversell alert and the price conflict on the register', async () => {
        const alerts = await reg.node.store.serverAlerts();
        const conflicts = await reg.node.store.serverConflicts();
        return alerts.some(oversell) && conflicts.some((c) => c.docId === product && c.field === 'price');
      });
      // What the register keeps is the server's list for its store.
      await waitFor('the status to count them', async () => {
        const s = engine.status();
        return s.alerts === (await reg.node.store.serverAlerts()).length && s.conflicts === (await reg.node.store.serverConflicts()).length && s.alerts > 0 && s.conflicts > 0;
      });
      const open = await server.sql<{ key: string }>("SELECT key FROM alerts WHERE org_id = ? AND store_id = ? AND status = 'open'", [orgId, storeId]);
      await waitFor('the same alerts as the server', async () => {
        const kept = (await reg.node.store.serverAlerts()).map((a) => a.key).sort();
        const now = (await server.sql<{ key: string }>("SELECT key FROM alerts WHERE org_id = ? AND store_id = ? AND status = 'open'", [orgId, storeId])).map((r) => r.key).sort();
        return JSON.stringify(kept) === JSON.stringify(now) || undefined;
      });
      expect(open.length).toBeGreaterThan(0);
      // Resolved on the server: gone from the register at a later fetch.
      await server.sql("UPDATE conflicts SET status = 'resolved' WHERE org_id = ? AND doc_id = ?", [orgId, product]);
      await waitFor('the resolved conflict gone', async () => !(await reg.node.store.serverConflicts()).some((c) => c.docId === product));
    });

    it('the database file deleted under a paired register: loud recovery as itself — what the server lacks is in its status and the server’s alerts; numbering resumes, no receipt number twice', async () => {
      const reg = await newRegister();
      const markers = fileMarkers(`${reg.file}.marker.json`);
      const noteMarker = async (): Promise<void> => {
        const m = markerFromMeta(await reg.node.store.meta(), null, Date.now());
        if (m !== null) await markers.write(m);
      };
      await noteMarker();
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      for (let i = 0; i < 2; i++) {
        await sell(reg.node.store);
        await noteMarker();
      }
      engine.notifyLocalOp();
      await synced(reg, engine);
      const serverHad = num((await server.sql<{ last_seq: unknown }>('SELECT last_seq FROM registers WHERE id = ?', [reg.deviceId]))[0]?.last_seq);
      // Offline, four more sales; then the database file is gone (deleted, evicted).
      reg.online.set(false);
      const lostSales: { id: string; receiptNo: string }[] = [];
      for (let i = 0; i < 4; i++) {
        lostSales.push(await sell(reg.node.store));
        await noteMarker();
      }
      await engine.stop();
      reg.node.engine.close();
      for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${reg.file}${suffix}`, { force: true });

      // The register starts again: an empty database under a marker that knew more.
      const fresh = openNodeStore(reg.file);
      cleanups.push(() => fresh.engine.close());
      const check = checkDatabase(await markers.read(), await fresh.store.meta(), Date.now());
      expect(check.ok).toBe(false);
      const lost = check.ok ? null : check.error;
      expect(lost).toBeInstanceOf(DatabaseLostError);
      if (!(lost instanceof DatabaseLostError)) return;
      expect(lost).toMatchObject({ reason: 'missing', registerCode: reg.registerCode, lastSeq: serverHad + 4, lastReceiptNo: lostSales.at(-1)?.receiptNo });

      const bo = await backOffice(reg.addr);
      const code = await bo.pairingCode(storeId);
      // The network drops just as the report would go: the engine must send it later.
      const plain = boundFetch(reg.addr);
      const reportFails: typeof plain = (url, init) => (url.endsWith('/registers/me/data-loss') ? Promise.reject(new TypeError('fetch failed: network down')) : plain(url, init));
      const recovered = await recoverRegister({ baseUrl: server.url, store: fresh.store, lost, request: { code }, fetch: reportFails });
      expect(recovered.response.deviceId).toBe(reg.deviceId);
      expect(recovered.reported).toBe(false);
      expect(recovered.loss.reportedAt).toBeNull();
      const firstLost = lostSales[0]?.receiptNo ?? '';
      expect(recovered.loss).toMatchObject({
        reason: 'missing',
        missingSeqs: { from: serverHad + 1, to: serverHad + 4, count: 4 },
        missingReceipts: { from: firstLost, to: lostSales.at(-1)?.receiptNo, count: 4 },
      });
      // It bootstraps again and shows the loss loudly until a manager acknowledges it; the report
      // goes with its first review.
      const engine2 = new SyncEngine({ store: fresh.store, baseUrl: server.url, database: reg.file, fetch: boundFetch(reg.addr), pullWaitS: 2 });
      cleanups.push(() => engine2.stop());
      await engine2.start();
      await waitFor('bootstrapped', async () => (await fresh.store.syncInfo()).pullCursor !== null && engine2.status().phase === 'idle', 30_000);
      expect(engine2.status().dataLoss).toMatchObject({ reason: 'missing', missingSeqs: { from: serverHad + 1, to: serverHad + 4, count: 4 }, missingReceipts: { count: 4 } });
      await waitFor('the loss reported to the server', () => engine2.status().dataLoss?.reported === true);
      // The server's alert says the same, and the register sees it among its store's alerts.
      const [alert] = (await bo.alerts('register_data_loss')).filter((a) => a.registerId === reg.deviceId);
      expect(alert?.data).toMatchObject({ reason: 'missing', serverLastSeq: serverHad, missingSeqs: { from: serverHad + 1, to: serverHad + 4, count: 4 }, missingReceipts: 4 });
      await engine2.refreshReview();
      expect((await fresh.store.serverAlerts()).some((a) => a.kind === 'register_data_loss' && a.registerId === reg.deviceId)).toBe(true);
      expect((await fresh.store.getItem(product)).productId).toBe(product);
      // Numbering: the seq continues the server's (gapless for it); receipts continue after the last printed.
      const next = await sell(fresh.store);
      const meta = await fresh.store.meta();
      expect(meta.nextSeq - 1).toBe(serverHad + 2); // a shift opened and the sale
      expect(next.receiptNo).toBe(`${lostSales.at(-1)?.receiptNo.slice(0, -6) ?? ''}${String(Number(lostSales.at(-1)?.receiptNo.slice(-6)) + 1).padStart(6, '0')}`);
      engine2.notifyLocalOp();
      await waitFor('pushed', async () => (await fresh.store.syncInfo()).opsWaiting === 0 && engine2.status().phase === 'idle', 30_000);
      await expectAppliedOnce(reg.deviceId, [next.id]);
      // The jump past the lost receipts is a chain break the server reports (explained by the loss).
      expect((await bo.alerts('receipt_chain_break')).some((a) => a.registerId === reg.deviceId && JSON.stringify(a.data).includes(next.receiptNo))).toBe(true);
      // The lost sales never reached the server, and nothing pretends they did.
      const stored = await server.sql<{ id: string }>('SELECT id FROM facts WHERE register_id = ?', [reg.deviceId]);
      for (const s of lostSales) expect(stored.map((r) => r.id)).not.toContain(s.id);
      const id = engine2.status().dataLoss?.id ?? -1;
      await engine2.acknowledgeDataLoss(id);
      expect(engine2.status().dataLoss).toBeNull();
    });

    it('revoked with 5 unsynced sales → export → re-pair → import: all 5 applied once, numbering continues', async () => {
      const reg = await newRegister();
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      await sell(reg.node.store);
      engine.notifyLocalOp();
      await synced(reg, engine);
      reg.online.set(false);
      const unsynced: { id: string; receiptNo: string }[] = [];
      for (let i = 0; i < 5; i++) unsynced.push(await sell(reg.node.store));
      const bo = await backOffice(reg.addr);
      await bo.revoke(reg.deviceId);
      reg.online.set(true);
      await waitFor('locked', () => engine.status().phase === 'locked');
      const exported = JSON.parse(JSON.stringify(await engine.exportUnsynced())) as unknown;
      await engine.stop();

      // The manager pairs a new database as the same register: numbering resumes from the server.
      const again = await newRegister({ registerCode: reg.registerCode });
      expect(again.deviceId).toBe(reg.deviceId);
      expect(await again.node.store.importUnsynced(exported)).toMatchObject({ queued: 5 });
      const engine2 = again.engine();
      await engine2.start();
      await synced(again, engine2);
      await expectAppliedOnce(reg.deviceId, unsynced.map((u) => u.id));
      const next = await sell(again.node.store);
      const last = unsynced.at(-1)?.receiptNo ?? '';
      expect(Number(next.receiptNo.slice(-6))).toBe(Number(last.slice(-6)) + 1);
      engine2.notifyLocalOp();
      await synced(again, engine2);
      const [r] = await server.sql<{ last_receipt_number: unknown }>('SELECT last_receipt_number FROM registers WHERE id = ?', [reg.deviceId]);
      expect(num(r?.last_receipt_number)).toBe(Number(next.receiptNo.slice(-6)));
      await expectAppliedOnce(reg.deviceId, [next.id]);
    });

    it('an app upgrade (a new store migration) with 50 ops waiting drains them exactly once', async () => {
      const reg = await newRegister();
      const engine = reg.engine();
      await engine.start();
      await synced(reg, engine);
      await engine.stop();
      const ids: string[] = [];
      for (let i = 0; i < 49; i++) ids.push((await sell(reg.node.store)).id);
      const before = await reg.node.store.outbox();
      expect(before).toHaveLength(50);
      reg.node.engine.close();
      // The database as the previous app version left it: without migration 5 (review tables, retention columns).
      const old = new Database(reg.file);
      old.exec(`DROP TABLE server_alerts; DROP TABLE server_conflicts; DROP TABLE data_losses;
        DROP INDEX pulled_sales_pulled_at_idx; DROP INDEX seen_facts_seen_at_idx; ALTER TABLE pulled_sales DROP COLUMN pulled_at;
        DELETE FROM schema_migrations WHERE version >= 5;`);
      old.close();
      const upgraded = openNodeStore(reg.file);
      cleanups.push(() => upgraded.engine.close());
      expect(await upgraded.store.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(await upgraded.store.outbox()).toEqual(before);
      const engine2 = new SyncEngine({ store: upgraded.store, baseUrl: server.url, database: reg.file, fetch: boundFetch(reg.addr), pullWaitS: 2 });
      cleanups.push(() => engine2.stop());
      await engine2.start();
      await waitFor('drained', async () => (await upgraded.store.syncInfo()).opsWaiting === 0 && engine2.status().phase === 'idle', 30_000);
      await expectAppliedOnce(reg.deviceId, ids);
      expect((await upgraded.store.journal()).filter((j) => j.status === 'applied').length).toBe(50);
    });

    it('bootstraps 10,000 products with progress', async () => {
      const now = Date.now();
      const [tax] = await server.sql<{ id: string }>('SELECT id FROM tax_rates WHERE org_id = ? ORDER BY rate_ppm DESC LIMIT 1', [orgId]);
      const rows = Array.from({ length: 10_000 }, (_, i) => [globalThis.crypto.randomUUID(), orgId, `BULK-${String(i).padStart(5, '0')}`, `Bulk item ${String(i)}`, 100 + i, 'EUR', JSON.stringify([tax?.id]), now, now]);
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await server.sql(
          `INSERT INTO products (id, org_id, sku, name, price_minor, currency, tax_rate_ids_json, created_at, updated_at, unit) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'piece')").join(', ')}`,
          chunk.flat(),
        );
      }
      const reg = await newRegister();
      const engine = reg.engine();
      const progress: { done: number; total: number }[] = [];
      engine.subscribe((s) => {
        if (s.bootstrap !== null && s.bootstrap.total > 0) progress.push(s.bootstrap);
      });
      await engine.start();
      await synced(reg, engine, 50_000);
      const total = progress.at(-1)?.total ?? 0;
      expect(total).toBeGreaterThanOrEqual(10_534);
      expect(progress.length).toBeGreaterThanOrEqual(10);
      for (let i = 1; i < progress.length; i++) expect(progress[i]?.done ?? 0).toBeGreaterThanOrEqual(progress[i - 1]?.done ?? 0);
      const sample = rows[7_777];
      expect((await reg.node.store.getItem(String(sample?.[0]))).name).toBe('Bulk item 7777');
      expect((await reg.node.store.search('BULK-07777')).map((x) => x.productId)).toEqual([sample?.[0]]);
    });
  });
}
