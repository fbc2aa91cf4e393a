/**
 * DESIGN §3: "Readers must never skip a row that commits late." Eight writers append concurrently,
 * each holding its transaction open a random few milliseconds after appending (the late commit a
 * plain database sequence would let a reader skip past), while a reader follows the cursor the
 * whole time. The reader must see every change exactly once, in seq order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { openPgPool, pgKysely } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import { appendChanges, ensureLog } from '../change-log.js';
import type { ChangeInput } from '../change-log.js';
import type { CursorPosition } from './cursor.js';
import { readPullPage } from './pull-page.js';
import { createTenant } from './test-fixtures.js';

const WRITERS = 8;
const PER_WRITER = 1_300; // 10,400 changes in all

describeDb('change log under concurrent writers', (dbs) => {
  it('a reader following the cursor sees every change exactly once and in seq order', async () => {
    const test = await dbs.create();
    await migrateToLatest(test.storage.db);
    const tenant = await createTenant(test.storage.db, 'Busy Org');
    const [s1, s2] = tenant.stores;
    if (!s1 || !s2) throw new Error('two stores');
    const head0 = await ensureLog(test.storage.db, tenant.orgId);

    // PostgreSQL: writers on their own pool, one connection per open transaction; the reader on
    // another. SQLite: one writer connection (transactions serialise, as in a server process) and
    // the reader on a second connection reading the WAL concurrently.
    const writerPool = test.config.kind === 'postgres' ? pgKysely(openPgPool(test.config.url, WRITERS + 2)) : test.storage.db;
    const reader = test.config.kind === 'postgres' ? test.storage.db : test.reopen().db;

    const written = new Set<string>();
    const writer = async (w: number): Promise<void> => {
      let n = 0;
      while (n < PER_WRITER) {
        const batch = Math.min(PER_WRITER - n, 1 + Math.floor(Math.random() * 25));
        const changes: ChangeInput[] = [];
        for (let i = 0; i < batch; i++, n++) {
          const entityId = `w${w}-${n}`;
          // A third of the changes belong to the other store: the reader must not see them but must get past them.
          const storeId = n % 3 === 0 ? s2.id : n % 3 === 1 ? s1.id : null;
          changes.push({ entity: 'sale', entityId, storeId, op: 'upsert', data: { w, n } });
        }
        await writerPool.transaction().execute(async (trx) => {
          await appendChanges(trx, tenant.orgId, changes);
          // Hold the transaction open after taking seqs: a late commit.
          await sleep(Math.floor(Math.random() * 4));
        });
        for (const c of changes) if (c.storeId !== s2.id) written.add(c.entityId);
      }
    };

    let writing = true;
    const seen: { seq: number; entityId: string; storeId: string | null }[] = [];
    let pagesWhileWriting = 0;
    const follow = async (): Promise<CursorPosition> => {
      let cursor: CursorPosition = { epoch: head0.epoch, seq: 0, changeId: null };
      for (;;) {
        const stillWriting = writing;
        const page = await readPullPage(reader, { orgId: tenant.orgId, storeId: s1.id }, cursor, 500);
        for (const c of page.changes) seen.push({ seq: c.seq, entityId: c.entityId, storeId: c.storeId });
        cursor = page.cursor;
        if (stillWriting) pagesWhileWriting += 1;
        // Done once a read that began after every writer finished came back with nothing more.
        if (!stillWriting && !page.hasMore) return cursor;
        if (page.changes.length === 0) await sleep(1); // yield to the writers
      }
    };

    const following = follow();
    following.catch(() => undefined); // a reader failure is reported below, after the writers stop
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    const end = await following;
    if (writerPool !== test.storage.db) await writerPool.destroy();

    const total = WRITERS * PER_WRITER;
    expect(end.seq).toBe(total);
    expect(pagesWhileWriting).toBeGreaterThan(10);
    // Exactly once: no duplicates, and nothing visible missing.
    const ids = seen.map((s) => s.entityId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(written.size);
    expect(new Set(ids)).toEqual(written);
    // In seq order, and never another store's change.
    for (let i = 1; i < seen.length; i++) expect((seen[i]?.seq ?? 0) > (seen[i - 1]?.seq ?? 0)).toBe(true);
    expect(seen.some((s) => s.storeId === s2.id)).toBe(false);
    // Seqs are gapless over the whole log (the other store's rows fill the holes the reader skips).
    const all = await reader.selectFrom('change_log').select('seq').where('org_id', '=', tenant.orgId).orderBy('seq').execute();
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
