import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeDb } from '../testing/describe-db.js';
import { parseInt8 } from './database.js';
import { migrateToLatest, migrations } from './migrations.js';

const TABLES = [
  'alert_resolutions',
  'alerts',
  'audit_log',
  'backoffice_facts',
  'balances',
  'barcodes',
  'categories',
  'change_log',
  'change_log_heads',
  'conflicts',
  'customers',
  'facts',
  'org_keys',
  'organisations',
  'pairing_codes',
  'products',
  'quarantine',
  'quarantine_actions',
  'reference_docs',
  'refunds',
  'register_escrows',
  'registers',
  'sale_line_tallies',
  'sales',
  'seq_conflicts',
  'server_hlc',
  'sessions',
  'staff',
  'staff_role_history',
  'stock_levels',
  'stock_movements',
  'store_limits_history',
  'stores',
  'sync_ops',
  'tax_rates',
  'users',
];

describeDb('migrations', (dbs) => {
  it('creates every table and is idempotent when run again', async () => {
    const { storage } = await dbs.create();
    expect(await migrateToLatest(storage.db)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(storage.db)).toEqual([]);
    const tables = (await storage.db.introspection.getTables()).map((t) => t.name).sort();
    expect(tables).toEqual(TABLES);
  });

  it('a second connection sees the migrations done (concurrently on PostgreSQL)', async () => {
    const first = await dbs.create();
    const second = first.reopen();
    if (dbs.kind === 'postgres') {
      const [a, b] = await Promise.all([migrateToLatest(first.storage.db), migrateToLatest(second.db)]);
      expect([...a, ...b].sort()).toEqual(Object.keys(migrations));
    } else {
      // Two better-sqlite3 handles in one thread cannot wait on each other (the busy wait blocks the
      // thread holding the lock); across processes `begin immediate` serialises them.
      expect(await migrateToLatest(first.storage.db)).toEqual(Object.keys(migrations));
      expect(await migrateToLatest(second.db)).toEqual([]);
    }
  });

  it('gives every tenant table an org_id and every store table a store_id', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const tables = await storage.db.introspection.getTables();
    for (const t of tables.filter((t) => t.name !== 'organisations')) {
      expect(t.columns.map((c) => c.name), t.name).toContain('org_id');
    }
    for (const name of ['stores', 'staff', 'registers', 'pairing_codes']) {
      const cols = tables.find((t) => t.name === name)?.columns.map((c) => c.name) ?? [];
      expect(cols, name).toContain(name === 'stores' ? 'id' : 'store_id');
    }
  });

  it('reads amounts and millisecond timestamps back as exact numbers', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const big = 2 ** 52 + 1; // beyond 32 bits, still a safe integer
    await storage.db.insertInto('organisations').values({ id: 'o1', name: 'Org', created_at: big }).execute();
    const row = await storage.db.selectFrom('organisations').select(['created_at']).executeTakeFirstOrThrow();
    expect(row.created_at).toBe(big);
    expect(typeof row.created_at).toBe('number');
    const count = await storage.db
      .selectFrom('organisations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
  });

  it('enforces foreign keys and unique barcodes per organisation', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    await expect(
      storage.db
        .insertInto('stores')
        .values({ id: 's1', org_id: 'missing', code: 'S01', name: 'x', currency: 'EUR', locale: 'de-DE', settings_json: '{}', created_at: 0, updated_at: 0 })
        .execute(),
    ).rejects.toThrow();
    await storage.db.insertInto('organisations').values({ id: 'o1', name: 'Org', created_at: 0 }).execute();
    const product = { org_id: 'o1', name: 'P', price_minor: 100, currency: 'EUR', unit: 'piece' as const, created_at: 0, updated_at: 0 };
    await storage.db.insertInto('products').values([{ ...product, id: 'p1', sku: 'A' }, { ...product, id: 'p2', sku: 'B' }]).execute();
    await storage.db.insertInto('barcodes').values({ org_id: 'o1', code: '4006381333931', product_id: 'p1', created_at: 0 }).execute();
    await expect(
      storage.db.insertInto('barcodes').values({ org_id: 'o1', code: '4006381333931', product_id: 'p2', created_at: 0 }).execute(),
    ).rejects.toThrow();
  });
});

describeDb('int8 read-back', (dbs) => {
  it('rejects a value a number cannot hold instead of rounding it', async () => {
    const { storage } = await dbs.create();
    if (storage.kind === 'postgres') {
      await expect(sql`select 9007199254740993::int8 as n`.execute(storage.db)).rejects.toThrow(/safe integer/);
    } else {
      // better-sqlite3 returns numbers; amounts never approach 2^53 (see docs/adr/0011-server-storage.md).
      const r = await sql<{ n: number }>`select 9007199254740991 as n`.execute(storage.db);
      expect(r.rows[0]?.n).toBe(Number.MAX_SAFE_INTEGER);
    }
  });
});

describe('parseInt8', () => {
  it('parses safe integers and refuses the rest', () => {
    expect(parseInt8('-42')).toBe(-42);
    expect(parseInt8('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseInt8('9007199254740993')).toThrow(RangeError);
  });
});
