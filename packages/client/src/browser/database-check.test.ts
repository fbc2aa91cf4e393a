import fc from 'fast-check';
import { GENESIS_HASH } from '@kassa/core';
import { describe, expect, it } from 'vitest';
import type { RegisterMeta } from '../store/meta.js';
import { fixtureId } from '../store/store-fixtures.js';
import { checkDatabase, markerFromMeta } from './database-check.js';
import type { PairingMarker } from './pairing-marker.js';

const DEVICES = [fixtureId(1), fixtureId(2)];

const unpaired: RegisterMeta = {
  deviceId: null,
  orgId: null,
  storeId: null,
  storeCode: null,
  registerCode: null,
  token: null,
  nextSeq: 1,
  lastReceiptSeq: 0,
  chainHeadHash: GENESIS_HASH,
  hlcLast: null,
  pullCursor: null,
  lastSyncAt: null,
  pairedAt: null,
};

const paired = (deviceId: string, nextSeq: number, lastReceiptSeq = 0): RegisterMeta => ({
  ...unpaired,
  deviceId,
  storeId: fixtureId(5),
  storeCode: 'S01',
  registerCode: 'R02',
  token: 't',
  nextSeq,
  lastReceiptSeq,
  pairedAt: 1000,
});

const markerOf = (deviceId: string, lastSeq: number): PairingMarker => ({
  v: 1,
  deviceId,
  storeId: fixtureId(5),
  storeCode: 'S01',
  registerCode: 'R02',
  pairedAt: 1000,
  lastSeq,
  lastReceiptNo: null,
  persisted: true,
  updatedAt: 1,
});

const metaArb: fc.Arbitrary<RegisterMeta | Error> = fc.oneof(
  fc.constant(unpaired),
  fc.record({ device: fc.constantFrom(...DEVICES), nextSeq: fc.integer({ min: 1, max: 40 }) }).map(({ device, nextSeq }) => paired(device, nextSeq, Math.floor(nextSeq / 2))),
  fc.constant(new Error('SQLITE_NOTADB: file is not a database')),
);
const markerArb = fc.option(
  fc.record({ device: fc.constantFrom(...DEVICES), lastSeq: fc.nat(40) }).map(({ device, lastSeq }) => markerOf(device, lastSeq)),
  { nil: null },
);

describe('checkDatabase', () => {
  it('never lets a paired register run on a database that is not the one its marker describes', () => {
    fc.assert(
      fc.property(markerArb, metaArb, (marker, meta) => {
        const check = checkDatabase(marker, meta, 5);
        const sameAndComplete = !(meta instanceof Error) && marker !== null && meta.deviceId === marker.deviceId && meta.nextSeq - 1 >= marker.lastSeq;
        const fresh = !(meta instanceof Error) && marker === null;
        expect(check.ok).toBe(sameAndComplete || fresh);
        if (!check.ok) {
          expect(check.error.name).toBe(marker === null ? 'DatabaseOpenError' : 'DatabaseLostError');
          if (marker !== null) expect(check.error).toMatchObject({ registerCode: 'R02', storeCode: 'S01', lastSeq: marker.lastSeq, deviceId: marker.deviceId });
        } else if (!(meta instanceof Error)) {
          // The marker kept from now on describes the database as it is.
          expect(check.marker?.lastSeq ?? null).toBe(meta.deviceId === null ? null : meta.nextSeq - 1);
          expect(check.marker?.deviceId ?? null).toBe(meta.deviceId);
          if (marker !== null) expect(check.marker?.persisted).toBe(marker.persisted);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names each kind of loss', () => {
    const m = markerOf(DEVICES[0] ?? '', 7);
    expect(checkDatabase(m, unpaired, 1)).toMatchObject({ ok: false, error: { reason: 'missing', lastSeq: 7 } });
    expect(checkDatabase(m, paired(DEVICES[1] ?? '', 20), 1)).toMatchObject({ ok: false, error: { reason: 'other_register' } });
    expect(checkDatabase(m, paired(DEVICES[0] ?? '', 5), 1)).toMatchObject({ ok: false, error: { reason: 'rolled_back', detail: 'the database ends at seq 4' } });
    expect(checkDatabase(m, new Error('disk I/O error'), 1)).toMatchObject({ ok: false, error: { reason: 'unreadable', code: 'database_lost' } });
    expect(checkDatabase(null, new Error('disk I/O error'), 1)).toMatchObject({ ok: false, error: { code: 'database_open_failed' } });
    const lost = checkDatabase(m, unpaired, 1);
    if (!lost.ok) expect(lost.error.message).toMatch(/register S01-R02 was paired, but its database is missing: it had ops up to seq 7/);
  });

  it('a marker describes the paired meta: last seq, last receipt number, the persistence answer', () => {
    expect(markerFromMeta(unpaired, true, 1)).toBeNull();
    expect(markerFromMeta(paired(DEVICES[0] ?? '', 12, 4), false, 99)).toEqual({
      v: 1,
      deviceId: DEVICES[0],
      storeId: fixtureId(5),
      storeCode: 'S01',
      registerCode: 'R02',
      pairedAt: 1000,
      lastSeq: 11,
      lastReceiptNo: 'S01-R02-000004',
      persisted: false,
      updatedAt: 99,
    });
  });
});
