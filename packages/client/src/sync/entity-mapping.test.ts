import { describe, expect, it } from 'vitest';
import { FIXTURE, fixtureId } from '../store/store-fixtures.js';
import { docFromValues, mapChange, normaliseBarcodes, projectDoc } from './entity-mapping.js';

const scope = { storeId: FIXTURE.store };
const hlc = (n: number) => `0194a0000000-${n.toString(16).padStart(4, '0')}-dev`;

describe('entity mapping: server shapes → register tables', () => {
  it('a product: priceMinor → price (doc) → unit_price (row); taxRateIds kept; barcodes normalised', () => {
    const data = {
      id: FIXTURE.mug,
      sku: 'MUG-01',
      name: 'Coffee mug',
      priceMinor: 250,
      currency: 'EUR',
      categoryId: null,
      taxRateIds: ['vat-19'],
      weighed: false,
      unit: 'piece',
      active: true,
      barcodes: ['4006381333931', '036000291452', 'not-a-code', '4006381333932'],
      fieldHlc: { price: hlc(1), name: hlc(2) },
    };
    const local = mapChange({ entity: 'product', entityId: FIXTURE.mug, storeId: null, op: 'upsert', data }, scope);
    expect(local.kind).toBe('doc');
    if (local.kind !== 'doc') return;
    expect(local.doc.values).toMatchObject({ price: 250, taxRateIds: ['vat-19'], sku: 'MUG-01' });
    const doc = docFromValues(local.doc.values, local.doc.fieldHlc);
    // Only fields with an HLC are in the merge doc; the rest are plain column values.
    expect(Object.keys(doc.fields).sort()).toEqual(['name', 'price']);
    expect(doc.fields['price']).toEqual([{ value: 250, hlc: hlc(1), base: null }]);
    const p = projectDoc('product', FIXTURE.mug, local.doc.values, doc);
    expect(p).toMatchObject({ table: 'products', row: { id: FIXTURE.mug, unitPrice: 250, taxRateIds: ['vat-19'], unit: 'piece', active: true } });
    // UPC-A becomes its EAN-13 form; a wrong check digit and non-digits stay out.
    if (p.table === 'products') expect(p.barcodes).toEqual(['4006381333931', '0036000291452']);
  });

  it('a deleted or inactive product becomes an inactive row without barcodes', () => {
    const values = { name: 'Mug', sku: 'M', price: 1, currency: 'EUR', taxRateIds: [], deleted: true, barcodes: ['4006381333931'] };
    const p = projectDoc('product', FIXTURE.mug, values, { fields: {} });
    expect(p).toMatchObject({ table: 'products', row: { active: false }, barcodes: [] });
    expect(mapChange({ entity: 'product', entityId: FIXTURE.mug, storeId: null, op: 'delete', data: { id: FIXTURE.mug } }, scope)).toEqual({
      kind: 'doc_deleted',
      docType: 'product',
      docId: FIXTURE.mug,
    });
  });

  it('tax rates, categories, staff (with the PIN verifier), and the own store’s settings', () => {
    expect(mapChange({ entity: 'tax_rate', entityId: 'vat-7', storeId: null, op: 'upsert', data: { id: 'vat-7', name: 'MwSt 7 %', ratePpm: 70_000, fieldHlc: {} } }, scope)).toMatchObject({
      kind: 'doc',
      doc: { docType: 'tax_rate', values: { ratePpm: 70_000 } },
    });
    const cat = mapChange({ entity: 'category', entityId: fixtureId(50), storeId: null, op: 'upsert', data: { id: fixtureId(50), name: 'Mugs', parentId: null, sortOrder: 3, fieldHlc: {} } }, scope);
    expect(cat.kind === 'doc' && projectDoc('category', fixtureId(50), cat.doc.values, { fields: {} })).toMatchObject({ table: 'categories', row: { name: 'Mugs', sortOrder: 3 } });
    const pin = { kdf: 'pbkdf2-sha256', iterations: 600_000, salt: 'c2FsdA', hash: 'aGFzaA' };
    expect(
      mapChange({ entity: 'staff', entityId: FIXTURE.cashier, storeId: FIXTURE.store, op: 'upsert', data: { id: FIXTURE.cashier, storeId: FIXTURE.store, name: 'Jonas', role: 'cashier', active: true, pin, updatedAt: 1 } }, scope),
    ).toEqual({ kind: 'staff', row: { id: FIXTURE.cashier, name: 'Jonas', role: 'cashier', active: true, pin } });
    const store = mapChange(
      { entity: 'store', entityId: FIXTURE.store, storeId: FIXTURE.store, op: 'upsert', data: { id: FIXTURE.store, code: 'S01', currency: 'EUR', settings: { currency: 'EUR', locale: 'de-DE', taxMode: 'inclusive', cashRoundingMinor: null, receiptHeader: [], variableMeasureLayouts: [] } } },
      scope,
    );
    expect(store).toMatchObject({ kind: 'settings', settings: { currency: 'EUR', taxMode: 'inclusive', locale: 'de-DE' } });
  });

  it('merge docs without a table: customers and variants project, price lists stay docs, deleted docs are deletes', () => {
    const customer = mapChange({ entity: 'customer', entityId: fixtureId(60), storeId: null, op: 'upsert', data: { id: fixtureId(60), values: { name: 'Ada' }, fieldHlc: { name: hlc(3) } } }, scope);
    expect(customer).toMatchObject({ kind: 'doc', doc: { docType: 'customer', values: { name: 'Ada' } } });
    const variant = projectDoc('variant', FIXTURE.shirtS, { productId: FIXTURE.shirt, sku: 'TSH-S', name: 'S', price: 1400 }, { fields: {} });
    expect(variant).toMatchObject({ table: 'variants', row: { productId: FIXTURE.shirt, unitPrice: 1400, active: true } });
    expect(projectDoc('price_list', fixtureId(61), { name: 'Staff' }, { fields: {} })).toMatchObject({ table: 'none' });
    expect(mapChange({ entity: 'customer', entityId: fixtureId(60), storeId: null, op: 'upsert', data: { id: fixtureId(60), values: { deleted: true }, fieldHlc: {} } }, scope)).toMatchObject({
      kind: 'doc_deleted',
    });
  });

  it('facts parse as ops; other stores, unknown entities and malformed documents are ignored with a reason, never thrown', () => {
    expect(mapChange({ entity: 'fact', entityId: 'x', storeId: FIXTURE.store, op: 'upsert', data: { v: 1, id: 'x' } }, scope)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('unreadable') });
    expect(mapChange({ entity: 'product', entityId: 'p', storeId: fixtureId(999), op: 'upsert', data: {} }, scope)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('store') });
    expect(mapChange({ entity: 'product', entityId: 'p', storeId: null, op: 'upsert', data: { id: 'p' } }, scope)).toMatchObject({ kind: 'ignored' });
    expect(mapChange({ entity: 'gizmo', entityId: 'g', storeId: null, op: 'upsert', data: 42 }, scope)).toMatchObject({ kind: 'ignored' });
    expect(mapChange({ entity: 'stock_level', entityId: 'k', storeId: FIXTURE.store, op: 'upsert', data: { productId: FIXTURE.mug, variantId: null, onHand: 7000 } }, scope)).toEqual({
      kind: 'stock_level',
      productId: FIXTURE.mug,
      variantId: '',
      onHand: 7000,
    });
  });

  it('normalises printed codes and drops what is no GTIN', () => {
    expect(normaliseBarcodes(['4006381333931', '4006381333931', 12, '123'])).toEqual(['4006381333931']);
    expect(normaliseBarcodes(null)).toEqual([]);
  });
});
