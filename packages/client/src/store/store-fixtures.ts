/**
 * A small, realistic store for the contract suite and examples: a paired register S01-R02, EUR
 * with tax-inclusive prices, two VAT rates, a handful of products (one with variants, one weighed
 * with a scale-label template), a cashier and a manager. Everything here is plain data, so it
 * crosses a worker boundary as is.
 */
import { gs1CheckDigit, type RandomSource } from '@kassa/core';
import type { CatalogBatch } from './catalog.js';
import type { RegisterIdentity } from './meta.js';
import type { RegisterSettingsInput } from './settings.js';

/** A fixed UUID-shaped id; `n` tells them apart. */
export function fixtureId(n: number): string {
  return `0192f5a0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** An EAN-13 with the right check digit, from its first 12 digits. */
export function ean13(body12: string): string {
  return `${body12}${gs1CheckDigit(body12)}`;
}

/** The fixture's ids by role. */
export const FIXTURE = {
  device: fixtureId(1),
  store: fixtureId(2),
  cashier: fixtureId(3),
  manager: fixtureId(4),
  mug: fixtureId(10),
  tea: fixtureId(11),
  apples: fixtureId(12),
  shirt: fixtureId(13),
  shirtS: fixtureId(14),
  shirtM: fixtureId(15),
  cafe: fixtureId(16),
  unknownProduct: fixtureId(99),
  mugBarcode: ean13('400638133393'),
  teaUpcA: '036000291452',
  shirtMBarcode: ean13('590123412345'),
  /** The apples' scale template: prefix 21, item 12345, weight 00000. */
  applesTemplate: ean13('211234500000'),
} as const;

/** The register's identity as pairing would give it. */
export const FIXTURE_IDENTITY: RegisterIdentity = {
  deviceId: FIXTURE.device,
  storeId: FIXTURE.store,
  storeCode: 'S01',
  registerCode: 'R02',
  token: 'test-token',
  resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
  pairedAt: Date.UTC(2026, 0, 15),
};

/** A German shop: EUR, prices include VAT, no cash rounding, a weight layout on prefix 21. */
export const FIXTURE_SETTINGS: RegisterSettingsInput = {
  currency: 'EUR',
  locale: 'de-DE',
  taxMode: 'inclusive',
  taxRounding: 'line',
  cashRoundingMinor: null,
  receiptHeader: ['Demo Shop'],
  variableMeasureLayouts: [{ kind: 'weight', prefixes: ['21'], itemDigits: 5, valueDigits: 5, valueDecimals: 3, hasPriceCheckDigit: false }],
  limits: { cashierDiscountLimitPpm: 100_000 },
};

/** The fixture's catalog, staff and stock. */
export function fixtureCatalog(): CatalogBatch {
  return {
    taxRates: [
      { id: 'vat-19', name: 'MwSt 19 %', ratePpm: 190_000 },
      { id: 'vat-7', name: 'MwSt 7 %', ratePpm: 70_000 },
    ],
    products: [
      { id: FIXTURE.mug, sku: 'MUG-01', name: 'Coffee mug', unitPrice: 250, currency: 'EUR', taxRateIds: ['vat-19'] },
      { id: FIXTURE.tea, sku: 'TEA-20', name: 'Green tea 20 bags', unitPrice: 399, currency: 'EUR', taxRateIds: ['vat-7'] },
      { id: FIXTURE.apples, sku: 'APL-KG', name: 'Apples Elstar', unitPrice: 299, currency: 'EUR', taxRateIds: ['vat-7'], unit: 'kg', weighed: true },
      { id: FIXTURE.shirt, sku: 'TSH', name: 'T-shirt', unitPrice: 1500, currency: 'EUR', taxRateIds: ['vat-19'] },
      { id: FIXTURE.cafe, sku: 'CAF-500', name: 'Café crème beans 500 g', unitPrice: 899, currency: 'EUR', taxRateIds: ['vat-7'] },
    ],
    variants: [
      { id: FIXTURE.shirtS, productId: FIXTURE.shirt, sku: 'TSH-S', name: 'size S' },
      { id: FIXTURE.shirtM, productId: FIXTURE.shirt, sku: 'TSH-M', name: 'size M', unitPrice: 1600 },
    ],
    barcodes: [
      { code: FIXTURE.mugBarcode, productId: FIXTURE.mug },
      { code: FIXTURE.teaUpcA, productId: FIXTURE.tea },
      { code: FIXTURE.shirtMBarcode, productId: FIXTURE.shirt, variantId: FIXTURE.shirtM },
      { code: FIXTURE.applesTemplate, productId: FIXTURE.apples },
    ],
    staff: [
      { id: FIXTURE.cashier, name: 'Jonas Weber', role: 'cashier' },
      { id: FIXTURE.manager, name: 'Anna Becker', role: 'manager' },
    ],
    stock: [
      { productId: FIXTURE.mug, onHand: 10_000 },
      { productId: FIXTURE.tea, onHand: 5_000 },
    ],
  };
}

/** `count` products whose names share a word, for the search limit. */
export function manyProducts(count: number, word: string, firstId = 1000): CatalogBatch {
  return {
    products: Array.from({ length: count }, (_, i) => ({
      id: fixtureId(firstId + i),
      sku: `${word.toUpperCase()}-${String(i).padStart(4, '0')}`,
      name: `${word} item ${String(i)}`,
      unitPrice: 100 + i,
      currency: 'EUR',
      taxRateIds: ['vat-19'],
    })),
  };
}

/** A deterministic random source for ids in tests. */
export function counterRandom(seed = 1): RandomSource {
  let s = seed;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      out[i] = s >>> 24;
    }
    return out;
  };
}
