import { expect, it } from 'vitest';
import { manualClock } from '@kassa/core';
import { migrateToLatest } from '../db/migrations.js';
import type { Storage } from '../db/database.js';
import { verifyPassword } from '../security/password.js';
import { verifyPin } from '../security/pin-verifier.js';
import { describeDb } from '../testing/describe-db.js';
import { isInStoreCode, isValidEan13 } from './ean13.js';
import { parseStoreSettings } from '../store-settings.js';
import { seedDemoIfEmpty } from './seed-demo.js';

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);

async function snapshot(storage: Storage) {
  const db = storage.db;
  return {
    organisations: await db.selectFrom('organisations').selectAll().orderBy('id').execute(),
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    staff: await db.selectFrom('staff').selectAll().orderBy('id').execute(),
    products: await db.selectFrom('products').selectAll().orderBy('id').execute(),
    barcodes: await db.selectFrom('barcodes').selectAll().orderBy('code').execute(),
    registers: await db.selectFrom('registers').selectAll().orderBy('id').execute(),
  };
}

describeDb('demo seed', (dbs) => {
  it('creates the demo store with ≥500 products, valid EAN-13s, one owner and the staff', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const result = await seedDemoIfEmpty(storage.db, {
      clock: manualClock(T0),
      dbKind: storage.kind,
      adminEmail: 'owner@demo.kassa',
      adminPassword: undefined,
    });
    if (!result.seeded) throw new Error('expected a first-run seed');
    expect(result.generatedPassword).toMatch(/^[A-Za-z0-9]{16}$/);

    const { products, barcodes, users, staff } = await snapshot(storage);
    expect(products.length).toBeGreaterThanOrEqual(500);
    expect(result.productCount).toBe(products.length);
    expect(barcodes).toHaveLength(products.length);
    expect(new Set(products.map((p) => p.sku)).size).toBe(products.length);
    const byId = new Map(products.map((p) => [p.id, p]));
    for (const b of barcodes) {
      expect(isValidEan13(b.code), b.code).toBe(true);
      const product = byId.get(b.product_id);
      // Weighed items carry in-store codes (GS1 prefix 2x); packaged goods never do.
      expect(isInStoreCode(b.code), b.code).toBe(product?.weighed === 1);
    }
    const weighed = products.filter((p) => p.weighed === 1);
    expect(weighed.length).toBeGreaterThanOrEqual(18);
    expect(weighed.every((p) => p.unit === 'kg')).toBe(true);
    expect(products.every((p) => Number.isInteger(p.price_minor) && p.price_minor > 0 && p.created_at === T0)).toBe(true);

    const rates = await storage.db.selectFrom('tax_rates').select(['id', 'rate_ppm']).execute();
    expect(rates.map((r) => r.rate_ppm).sort()).toEqual([190_000, 70_000].sort());
    const usedRates = new Set(products.flatMap((p) => JSON.parse(p.tax_rate_ids_json) as string[]));
    expect([...usedRates].sort()).toEqual(rates.map((r) => r.id).sort());
    const categories = await storage.db.selectFrom('categories').select('name').execute();
    expect(categories.length).toBeGreaterThanOrEqual(5);

    const store = await storage.db.selectFrom('stores').selectAll().executeTakeFirstOrThrow();
    expect(store).toMatchObject({ code: 'S01', currency: 'EUR', locale: 'de-DE' });
    expect(parseStoreSettings(store.settings_json)).toMatchObject({ taxMode: 'inclusive', currency: 'EUR' });

    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ email: 'owner@demo.kassa', role: 'owner' });
    expect(users[0]?.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(users[0]?.password_hash ?? '', result.generatedPassword ?? '')).toBe(true);

    expect(staff.map((s) => s.role).sort()).toEqual(['cashier', 'cashier', 'manager']);
    for (const s of result.staff) {
      expect(s.pin).toMatch(/^\d{4,6}$/);
      const row = staff.find((r) => r.name === s.name);
      if (row === undefined) throw new Error(`no staff row for ${s.name}`);
      expect(row.pin_iterations).toBeGreaterThanOrEqual(600_000);
      expect(JSON.stringify(row)).not.toContain(s.pin);
      expect(await verifyPin(s.pin, { kdf: 'pbkdf2-sha256', iterations: row.pin_iterations, salt: row.pin_salt, hash: row.pin_hash })).toBe(true);
    }

    const registers = await storage.db.selectFrom('registers').select(['code', 'token_hash']).orderBy('code').execute();
    expect(registers).toEqual([
      { code: 'R01', token_hash: null },
      { code: 'R02', token_hash: null },
    ]);
  });

  it('uses KASSA_ADMIN_EMAIL / KASSA_ADMIN_PASSWORD when given', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const result = await seedDemoIfEmpty(storage.db, {
      clock: manualClock(T0),
      dbKind: storage.kind,
      adminEmail: 'boss@example.com',
      adminPassword: 'correct horse battery',
    });
    expect(result).toMatchObject({ seeded: true, ownerEmail: 'boss@example.com', generatedPassword: undefined });
    const owner = await storage.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    expect(await verifyPassword(owner.password_hash, 'correct horse battery')).toBe(true);
  });

  it('does nothing on a second run: no reseed, no row touched', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const options = { clock: manualClock(T0), dbKind: storage.kind, adminEmail: 'owner@demo.kassa', adminPassword: undefined };
    expect((await seedDemoIfEmpty(storage.db, options)).seeded).toBe(true);
    const before = await snapshot(storage);
    options.clock.advance(60_000);
    expect(await seedDemoIfEmpty(storage.db, { ...options, adminPassword: 'another password' })).toEqual({ seeded: false });
    expect(await snapshot(storage)).toEqual(before);
  });

  it('never seeds over real data: any organisation present means no demo', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    await storage.db.insertInto('organisations').values({ id: 'real-org', name: 'Real Shop', created_at: T0 }).execute();
    expect(await seedDemoIfEmpty(storage.db, { clock: manualClock(T0), dbKind: storage.kind, adminEmail: 'owner@demo.kassa', adminPassword: undefined })).toEqual({
      seeded: false,
    });
    const counts = await storage.db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(counts.n).toBe(0);
  });
});
