import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureId } from '../store/store-fixtures.js';
import { mergeMarkers, slotMarkerStore, type MarkerSlot, type PairingMarker } from './pairing-marker.js';

const PAIRINGS = [
  { deviceId: fixtureId(1), storeId: fixtureId(2), storeCode: 'S01', registerCode: 'R02', pairedAt: 1000, persisted: true },
  { deviceId: fixtureId(1), storeId: fixtureId(2), storeCode: 'S01', registerCode: 'R02', pairedAt: 2000, persisted: false },
  { deviceId: fixtureId(9), storeId: fixtureId(2), storeCode: 'S01', registerCode: 'R03', pairedAt: 2000, persisted: null },
] as const;

/** Copies of markers as several places may hold them: one of a few pairings, each at some seq. */
const markerArb: fc.Arbitrary<PairingMarker> = fc
  .record({ pairing: fc.constantFrom(...PAIRINGS), lastSeq: fc.nat(50), updatedAt: fc.integer({ min: 2000, max: 2010 }) })
  .map(({ pairing, lastSeq, updatedAt }) => ({
    v: 1 as const,
    ...pairing,
    lastSeq,
    lastReceiptNo: lastSeq === 0 ? null : `${pairing.storeCode}-${pairing.registerCode}-${String(lastSeq).padStart(6, '0')}`,
    updatedAt,
  }));

function memorySlot(name: string, delay?: () => Promise<void>): MarkerSlot & { text: string | null; writes: string[] } {
  const slot = {
    name,
    text: null as string | null,
    writes: [] as string[],
    read: () => Promise.resolve(slot.text),
    async write(text: string) {
      await delay?.();
      slot.writes.push(text);
      slot.text = text;
    },
    remove: () => {
      slot.text = null;
      return Promise.resolve();
    },
  };
  return slot;
}

const marker = (over: Partial<PairingMarker> = {}): PairingMarker => ({ v: 1, ...PAIRINGS[0], lastSeq: 3, lastReceiptNo: 'S01-R02-000002', updatedAt: 5000, ...over });

describe('mergeMarkers', () => {
  it('does not depend on the order the copies are read in', () => {
    fc.assert(
      fc.property(fc.array(markerArb, { minLength: 1, maxLength: 5 }).chain((ms) => fc.tuple(fc.constant(ms), fc.shuffledSubarray(ms, { minLength: ms.length, maxLength: ms.length }))), ([ms, shuffled]) => {
        expect(mergeMarkers(shuffled)).toEqual(mergeMarkers(ms));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the newest pairing and the highest seq any copy of it knows', () => {
    fc.assert(
      fc.property(fc.array(fc.option(markerArb, { nil: null }), { maxLength: 5 }), (ms) => {
        const present = ms.filter((m): m is PairingMarker => m !== null);
        const merged = mergeMarkers(ms);
        if (present.length === 0) {
          expect(merged).toBeNull();
          return;
        }
        const newestPairedAt = Math.max(...present.map((m) => m.pairedAt));
        expect(merged?.pairedAt).toBe(newestPairedAt);
        const same = present.filter((m) => m.deviceId === merged?.deviceId && m.pairedAt === merged.pairedAt);
        expect(merged?.lastSeq).toBe(Math.max(...same.map((m) => m.lastSeq)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('slotMarkerStore', () => {
  it('writes every slot and reads back the marker when one slot lost it or holds garbage', async () => {
    const a = memorySlot('a');
    const b = memorySlot('b');
    const store = slotMarkerStore([a, b]);
    expect(await store.read()).toBeNull();
    await store.write(marker());
    expect(await store.read()).toEqual(marker());
    a.text = null;
    expect(await store.read()).toEqual(marker());
    a.text = '{"v":1,"deviceId":"not a uuid"';
    b.text = JSON.stringify({ ...marker(), lastSeq: -1 });
    expect(await store.read()).toBeNull();
    a.text = JSON.stringify(marker({ lastSeq: 7, lastReceiptNo: 'S01-R02-000005' }));
    b.text = JSON.stringify(marker({ lastSeq: 4 }));
    expect(await store.read()).toMatchObject({ lastSeq: 7, lastReceiptNo: 'S01-R02-000005' });
    await store.clear();
    expect(await store.read()).toBeNull();
  });

  it('a slot that throws does not stop the others', async () => {
    const ok = memorySlot('ok');
    const broken: MarkerSlot = { name: 'broken', read: () => Promise.reject(new Error('gone')), write: () => Promise.reject(new Error('full')), remove: () => Promise.reject(new Error('gone')) };
    const store = slotMarkerStore([broken, ok]);
    await store.write(marker());
    expect(await store.read()).toEqual(marker());
  });

  it('coalesces writes behind a slow one: the slot gets the first and the last, never a queue per command', async () => {
    let release: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const slow = memorySlot('slow', () => gate);
    const store = slotMarkerStore([slow]);
    const writes = Array.from({ length: 50 }, (_, i) => store.write(marker({ lastSeq: i + 1 })));
    release();
    gate = Promise.resolve();
    await Promise.all(writes);
    expect(slow.writes.map((t) => (JSON.parse(t) as PairingMarker).lastSeq)).toEqual([1, 50]);
    expect(await store.read()).toMatchObject({ lastSeq: 50 });
  });

  it('refuses to write a marker that is not one', async () => {
    const store = slotMarkerStore([memorySlot('a')]);
    await expect(store.write({ ...marker(), registerCode: 'r-02' })).rejects.toThrow();
  });
});
