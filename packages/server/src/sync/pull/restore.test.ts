/**
 * Issue 6 "Restore": copy the database, write 100 changes, put the copy back. Registers' cursors
 * from after the copy must get 410 `resync_required` — whether the restored log is behind them
 * (their seq is beyond its head) or has since grown past them with different changes (their seq
 * holds another change id) — never a silent gap or a silent repeat.
 */
import fs from 'node:fs';
import { manualClock } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME } from '@kassa/core/test-fixtures/ops';
import pg from 'pg';
import { expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App } from '../../app.js';
import { loadConfig } from '../../config.js';
import type { Storage } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb, TEST_PG_ADMIN_URL } from '../../testing/describe-db.js';
import type { TestDatabase } from '../../testing/describe-db.js';
import { appendChanges } from '../change-log.js';
import { createPushWorld, OpSequence } from '../push/push-test-kit.js';
import type { ChangeInput } from '../change-log.js';
import { bearer, createTenant } from './test-fixtures.js';
import type { TestStore } from './test-fixtures.js';

const config = loadConfig({}, '/tmp');

interface PullBody {
  changes: { seq: number; entityId: string }[];
  cursor: string;
  hasMore: boolean;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Backs up and restores one test database "with the server stopped" (no connection open). */
function backupOf(db: TestDatabase): { take(): Promise<void>; restore(): Promise<void>; dispose(): Promise<void> } {
  if (db.config.kind === 'sqlite') {
    const file = db.config.file;
    const copy = `${file}.bak`;
    return {
      take: async () => fs.copyFileSync(file, copy),
      restore: async () => {
        for (const f of [`${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
        fs.copyFileSync(copy, file);
      },
      dispose: async () => fs.rmSync(copy, { force: true }),
    };
  }
  const name = new URL(db.config.url).pathname.slice(1);
  const copy = `${name}_bak`;
  return {
    take: () => adminQuery(`create database ${copy} template ${name}`),
    restore: async () => {
      await adminQuery(`drop database ${name} with (force)`);
      await adminQuery(`alter database ${copy} rename to ${name}`);
    },
    dispose: () => adminQuery(`drop database if exists ${copy} with (force)`),
  };
}

/** A running server over the database; `stop` closes the app and every connection. */
async function start(db: TestDatabase): Promise<{ app: App; storage: Storage; stop(): Promise<void> }> {
  const storage = db.reopen();
  // An hour after the sample ops were made (push clamps HLCs far from the server's clock).
  const app = await buildApp({ storage, config, clock: manualClock(SAMPLE_TIME + 3_600_000), rateLimit: { max: 100_000, windowMs: 60_000 } });
  return {
    app,
    storage,
    stop: async () => {
      await app.close();
      await storage.close();
    },
  };
}

async function pullAll(app: App, store: TestStore, since: string): Promise<{ status: number; body: PullBody & { error?: string; details?: { reason: string } } }> {
  let cursor = since;
  const seen: PullBody['changes'] = [];
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${cursor}&limit=1000`, headers: bearer(store) });
    if (res.statusCode !== 200) return { status: res.statusCode, body: res.json() };
    const body = res.json<PullBody>();
    seen.push(...body.changes);
    cursor = body.cursor;
    if (!body.hasMore) return { status: 200, body: { changes: seen, cursor, hasMore: false } };
  }
}

const changes = (prefix: string, n: number): ChangeInput[] =>
  Array.from({ length: n }, (_, i) => ({ entity: 'product', entityId: `${prefix}-${i}`, storeId: null, op: 'upsert', data: { i } }));

describeDb('restore from a backup', (dbs) => {
  it('answers 410 to cursors from after the backup, and keeps serving cursors from before it', async () => {
    const db = await dbs.create();
    await migrateToLatest(db.storage.db);
    const tenant = await createTenant(db.storage.db, 'Org', 1);
    const store = tenant.stores[0] as TestStore;
    await db.storage.close();
    const backup = backupOf(db);
    try {
      let server = await start(db);
      const snap = await server.app.inject({ method: 'GET', url: '/api/v1/sync/snapshot', headers: bearer(store) });
      await appendChanges(server.storage.db, tenant.orgId, changes('before', 5));
      const atBackup = await pullAll(server.app, store, snap.json<{ cursor: string }>().cursor);
      expect(atBackup.body.changes).toHaveLength(5);
      await server.stop();

      await backup.take();

      server = await start(db);
      await appendChanges(server.storage.db, tenant.orgId, changes('lost', 100));
      const afterBackup = await pullAll(server.app, store, atBackup.body.cursor);
      expect(afterBackup.body.changes.map((c) => c.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 6));
      await server.stop();

      await backup.restore();

      server = await start(db);
      // The register that saw the 100 lost changes is told to resync, not left ahead of the log.
      expect(await pullAll(server.app, store, afterBackup.body.cursor)).toMatchObject({
        status: 410,
        body: { error: 'resync_required', details: { reason: 'ahead_of_log' } },
      });
      // A register whose cursor is from before the backup goes on as if nothing happened.
      const behind = await pullAll(server.app, store, atBackup.body.cursor);
      expect(behind).toMatchObject({ status: 200, body: { changes: [] } });

      // The restored log grows past the lost seqs with different changes: still 410, never a silent gap.
      await appendChanges(server.storage.db, tenant.orgId, changes('new', 120));
      expect(await pullAll(server.app, store, afterBackup.body.cursor)).toMatchObject({
        status: 410,
        body: { error: 'resync_required', details: { reason: 'unknown_change' } },
      });
      const followed = await pullAll(server.app, store, atBackup.body.cursor);
      expect(followed.body.changes.map((c) => c.entityId)).toEqual(changes('new', 120).map((c) => c.entityId));
      await server.stop();
    } finally {
      await backup.dispose();
    }
  });

  it('a register re-sending its journal after the restore gets all 100 lost ops applied once, and its cursor 410', async () => {
    const db = await dbs.create();
    await migrateToLatest(db.storage.db);
    const world = await createPushWorld(db.storage.db);
    const store: TestStore = { id: world.storeId, code: 'S01', registerId: world.registerId, token: world.token };
    await db.storage.close();
    const backup = backupOf(db);
    const ops = new OpSequence();
    const journal = Array.from({ length: 105 }, () => ops.next('cash.moved', { approvedBy: SAMPLE_IDS.manager }));
    const push = async (app: App, batch: readonly unknown[]) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(store), payload: { ops: batch } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ ackedSeq: number; results: { id: string; status: string }[] }>();
    };
    const count = async (s: Storage, table: 'facts' | 'sync_ops') =>
      (await s.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    try {
      let server = await start(db);
      const snap = await server.app.inject({ method: 'GET', url: '/api/v1/sync/snapshot', headers: bearer(store) });
      expect((await push(server.app, journal.slice(0, 5))).ackedSeq).toBe(5);
      const atBackup = await pullAll(server.app, store, snap.json<{ cursor: string }>().cursor);
      expect(atBackup.body.changes).toHaveLength(5);
      await server.stop();

      await backup.take();

      server = await start(db);
      const lost = journal.slice(5);
      expect(await push(server.app, lost)).toMatchObject({ ackedSeq: 105, results: lost.map((o) => ({ id: o.id, status: 'applied' })) });
      const newer = await pullAll(server.app, store, atBackup.body.cursor);
      expect(newer.body.changes).toHaveLength(100);
      await server.stop();

      await backup.restore();

      server = await start(db);
      expect(await pullAll(server.app, store, newer.body.cursor)).toMatchObject({ status: 410, body: { error: 'resync_required' } });
      // The server's acknowledged seq is back at 5, below what the register recorded (105)…
      const reg = await server.storage.db.selectFrom('registers').select('last_seq').where('id', '=', world.registerId).executeTakeFirstOrThrow();
      expect(reg.last_seq).toBe(5);
      // …so the register re-sends what its journal holds beyond it: each op applies once.
      expect(await push(server.app, lost)).toMatchObject({ ackedSeq: 105, results: lost.map((o) => ({ id: o.id, status: 'applied' })) });
      expect(await push(server.app, journal)).toMatchObject({ ackedSeq: 105, results: journal.map((o) => ({ id: o.id, status: 'duplicate' })) });
      expect(await count(server.storage, 'facts')).toBe(105);
      expect(await count(server.storage, 'sync_ops')).toBe(105);
      const facts = await server.storage.db.selectFrom('facts').select('id').orderBy('seq').execute();
      expect(facts.map((f) => f.id)).toEqual(journal.map((o) => o.id));
      // The cursor from before the backup follows the re-applied ops, each once.
      const followed = await pullAll(server.app, store, atBackup.body.cursor);
      expect(followed.body.changes.map((c) => c.entityId)).toEqual(lost.map((o) => o.id));
      await server.stop();
    } finally {
      await backup.dispose();
    }
  });
});
