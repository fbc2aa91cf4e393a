/**
 * A large catalog on a real server: `count` products, each with one EAN-13 barcode, written into
 * the server's database (as the client's real-server tests seed 10,000), in one transaction, in
 * multi-row inserts. The back-office API creates one product per request (with its audit row and
 * change-log entry), which would take minutes for 100,000 and measure the back office, not the
 * register; the register reads the catalog through the snapshot either way.
 */
import { randomUUID } from 'node:crypto';
import { gs1CheckDigit } from '@kassa/core';
import { openStorage } from '@kassa/server';
import type { StorageConfig } from '@kassa/server';

const BRANDS = ['Alpen', 'Bergland', 'Nordic', 'Sonnenhof', 'Lindner', 'Marella', 'Okko', 'Vireo', 'Kestrel', 'Tamsin', 'Brightway', 'Quelle', 'Rivoli', 'Hansa', 'Feldgrün', 'Castell'];
const KINDS = ['Organic', 'Classic', 'Light', 'Extra', 'Fresh', 'Wholegrain', 'Smoked', 'Roasted', 'Spicy', 'Mild', 'Sparkling', 'Still', 'Dark', 'Crunchy', 'Creamy', 'Salted'];
const GOODS = [
  'Apple Juice', 'Oat Milk', 'Coffee Beans', 'Green Tea', 'Dark Chocolate', 'Peanut Butter', 'Tomato Sauce', 'Olive Oil', 'Basmati Rice', 'Penne Pasta',
  'Rye Bread', 'Butter Cookies', 'Mineral Water', 'Orange Marmalade', 'Cheddar Cheese', 'Greek Yoghurt', 'Muesli', 'Corn Flakes', 'Sunflower Seeds', 'Almonds',
  'Hand Soap', 'Dish Sponge', 'Paper Towels', 'Toothpaste', 'Shampoo', 'Candles', 'Notebook', 'Ballpoint Pen', 'AA Batteries', 'Light Bulb',
  'Coffee Mug', 'Tea Towel', 'Cutting Board', 'Garden Gloves', 'Dog Biscuits', 'Cat Food', 'Lemonade', 'Ginger Ale', 'Honey', 'Maple Syrup',
];
const SIZES = ['100 g', '250 g', '500 g', '1 kg', '330 ml', '500 ml', '1 l', '1.5 l', '2 pack', '6 pack', '12 pack', 'single'];

/** One seeded product as the bench checks it on the register. */
export interface SeededProduct {
  readonly id: string;
  readonly sku: string;
  readonly name: string;
  /** EAN-13 as printed. */
  readonly barcode: string;
  readonly priceMinor: number;
}

/** What {@link seedCatalog} wrote. */
export interface SeededCatalog {
  /** Products written (the demo's own come on top). */
  readonly count: number;
  /** Every `step`-th product, for lookups and checks. */
  readonly sample: readonly SeededProduct[];
  readonly seconds: number;
}

/** The `i`-th bench product's name: brand, kind, goods and size, so prefix searches have real fan-out. */
export function benchProductName(i: number): string {
  const pick = <T>(list: readonly T[], n: number): T => list[n % list.length] as T;
  return `${pick(BRANDS, i)} ${pick(KINDS, Math.floor(i / 16))} ${pick(GOODS, Math.floor(i / 7))} ${pick(SIZES, Math.floor(i / 3))}`;
}

/** The `i`-th bench product's EAN-13: prefix 479, the index in nine digits, GS1 check digit. */
export function benchBarcode(i: number): string {
  const body = `479${String(i).padStart(9, '0')}`;
  return `${body}${String(gs1CheckDigit(body))}`;
}

/**
 * Adds `count` products (SKU `BK-000000`…, barcode {@link benchBarcode}, the store's highest tax
 * rate) to the first organisation of the server's database.
 */
export async function seedCatalog(config: StorageConfig, count: number, sampleEvery: number): Promise<SeededCatalog> {
  const started = performance.now();
  const storage = openStorage(config);
  try {
    const db = storage.db;
    const store = await db.selectFrom('stores').select(['org_id']).orderBy('code').executeTakeFirstOrThrow();
    const orgId = store.org_id;
    const tax = await db.selectFrom('tax_rates').select('id').where('org_id', '=', orgId).orderBy('rate_ppm', 'desc').executeTakeFirstOrThrow();
    const taxJson = JSON.stringify([tax.id]);
    const now = Date.now();
    const sample: SeededProduct[] = [];
    const CHUNK = 500;
    await db.transaction().execute(async (trx) => {
      for (let start = 0; start < count; start += CHUNK) {
        const rows: SeededProduct[] = [];
        for (let i = start; i < Math.min(count, start + CHUNK); i++) {
          const p = { id: randomUUID(), sku: `BK-${String(i).padStart(6, '0')}`, name: benchProductName(i), barcode: benchBarcode(i), priceMinor: 99 + (i % 97) * 25 };
          rows.push(p);
          if (i % sampleEvery === 0) sample.push(p);
        }
        await trx
          .insertInto('products')
          .values(
            rows.map((p) => ({
              id: p.id,
              org_id: orgId,
              sku: p.sku,
              name: p.name,
              price_minor: p.priceMinor,
              currency: 'EUR',
              category_id: null,
              tax_rate_ids_json: taxJson,
              weighed: 0 as const,
              unit: 'piece' as const,
              active: 1 as const,
              field_hlc_json: '{}',
              created_at: now,
              updated_at: now,
            })),
          )
          .execute();
        await trx
          .insertInto('barcodes')
          .values(rows.map((p) => ({ org_id: orgId, code: p.barcode, product_id: p.id, created_at: now })))
          .execute();
      }
    });
    return { count, sample, seconds: (performance.now() - started) / 1000 };
  } finally {
    await storage.close();
  }
}
