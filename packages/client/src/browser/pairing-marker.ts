/**
 * The pairing marker: a small record, kept OUTSIDE the register's database, that says "this
 * browser holds a paired register: device D, S01-R02, ops committed up to seq N". When the
 * database comes up empty or unreadable while a marker exists, the register knows it lost its
 * database and says so (`DatabaseLostError`) instead of starting over as a new, empty register.
 *
 * It is written to two places that fail independently of the database's OPFS pool:
 * - `localStorage` (`kassa.register.<pool>`): synchronous, so it is updated after every command
 *   at no cost to the caller;
 * - a JSON file at the root of OPFS (`kassa-register-<pool>.json`), outside the pool's directory,
 *   written through `createWritable()` (an atomic swap on close), coalesced to one write at a time.
 * Either one is enough to detect the loss; reading takes the newest of the two and the highest
 * `lastSeq` either knows for that device. Clearing the site's data removes both together with the
 * database: that is the user resetting the browser, and re-pairing resumes numbering from the
 * server anyway.
 */
import { IdSchema, RECEIPT_CODE_PATTERN } from '@kassa/core';
import { z } from 'zod';

/** The marker's shape (version 1). */
export const PairingMarkerSchema = z.strictObject({
  v: z.literal(1),
  deviceId: IdSchema,
  storeId: IdSchema,
  storeCode: z.string().regex(RECEIPT_CODE_PATTERN),
  registerCode: z.string().regex(RECEIPT_CODE_PATTERN),
  pairedAt: z.int().min(0),
  /** The highest op seq known committed; a lower bound, since it is written after the COMMIT. */
  lastSeq: z.int().min(0),
  lastReceiptNo: z.string().nullable(),
  /** `navigator.storage.persist()`'s answer at pairing; null when the browser has no such API. */
  persisted: z.boolean().nullable(),
  updatedAt: z.int().min(0),
});

/** See {@link PairingMarkerSchema}. */
export type PairingMarker = z.infer<typeof PairingMarkerSchema>;

/** One place a marker is kept. Reads answer null for "nothing there" and for "unreadable". */
export interface MarkerSlot {
  readonly name: string;
  read(): Promise<string | null>;
  write(text: string): Promise<void>;
  remove(): Promise<void>;
}

/** Where the register's pairing marker lives; see the module comment. */
export interface MarkerStore {
  /** The marker, or null when this browser holds no paired register. */
  read(): Promise<PairingMarker | null>;
  /** Writes the marker everywhere; resolves when every place has it (or failed to take it). */
  write(marker: PairingMarker): Promise<void>;
  /** Forgets the marker (a deliberate reset of the register, tests). */
  clear(): Promise<void>;
}

function parse(text: string | null): PairingMarker | null {
  if (text === null) return null;
  try {
    const parsed = PairingMarkerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The marker to trust among several copies: the newest pairing wins (a re-pairing writes a new
 * device or `pairedAt`); for that pairing, the highest `lastSeq` and its receipt number any copy
 * knows, since each copy is only ever behind, never ahead.
 */
export function mergeMarkers(markers: readonly (PairingMarker | null)[]): PairingMarker | null {
  const present = markers.filter((m): m is PairingMarker => m !== null);
  if (present.length === 0) return null;
  // Newest pairing, then newest write; the device id only breaks exact ties, so the choice never
  // depends on the order the copies were read in.
  const later = (a: PairingMarker, b: PairingMarker): boolean =>
    b.pairedAt !== a.pairedAt ? b.pairedAt > a.pairedAt : b.updatedAt !== a.updatedAt ? b.updatedAt > a.updatedAt : b.deviceId > a.deviceId;
  const newest = present.reduce((a, b) => (later(a, b) ? b : a));
  const same = present.filter((m) => m.deviceId === newest.deviceId && m.pairedAt === newest.pairedAt);
  const furthest = same.reduce((a, b) => (b.lastSeq > a.lastSeq ? b : a));
  return { ...newest, lastSeq: furthest.lastSeq, lastReceiptNo: furthest.lastReceiptNo ?? newest.lastReceiptNo };
}

/**
 * A marker store over several slots: writes go to all, reads merge them (see {@link mergeMarkers}).
 * Writes are serialised per slot and coalesced: while one is in flight only the latest waiting
 * marker is written next, so a busy till never queues a write per sale.
 */
export function slotMarkerStore(slots: readonly MarkerSlot[]): MarkerStore {
  const inFlight = new Map<MarkerSlot, Promise<void>>();
  const waiting = new Map<MarkerSlot, string>();

  function writeSlot(slot: MarkerSlot, text: string): Promise<void> {
    const running = inFlight.get(slot);
    if (running !== undefined) {
      waiting.set(slot, text);
      return running.then(() => undefined);
    }
    const run = (async () => {
      let next: string | undefined = text;
      while (next !== undefined) {
        waiting.delete(slot);
        await slot.write(next).catch(() => undefined);
        next = waiting.get(slot);
      }
    })().finally(() => inFlight.delete(slot));
    inFlight.set(slot, run);
    return run;
  }

  return {
    async read() {
      const texts = await Promise.all(slots.map((s) => s.read().catch(() => null)));
      return mergeMarkers(texts.map(parse));
    },
    async write(marker) {
      const text = JSON.stringify(PairingMarkerSchema.parse(marker));
      await Promise.all(slots.map((s) => writeSlot(s, text)));
    },
    async clear() {
      await Promise.all([...inFlight.values()]);
      await Promise.all(slots.map((s) => s.remove().catch(() => undefined)));
    },
  };
}

/** A slot in `localStorage` (absent in workers and some privacy modes: then it holds nothing). */
export function localStorageSlot(key: string): MarkerSlot {
  const storage = (): Storage | undefined => (typeof localStorage === 'undefined' ? undefined : localStorage);
  return {
    name: `localStorage:${key}`,
    read: () => Promise.resolve(storage()?.getItem(key) ?? null),
    write: (text) => Promise.resolve(storage()?.setItem(key, text)),
    remove: () => Promise.resolve(storage()?.removeItem(key)),
  };
}

/** A slot as a file at the root of the origin's OPFS. */
export function opfsFileSlot(fileName: string): MarkerSlot {
  const root = (): Promise<FileSystemDirectoryHandle> => navigator.storage.getDirectory();
  return {
    name: `opfs:${fileName}`,
    async read() {
      try {
        const handle = await (await root()).getFileHandle(fileName);
        return await (await handle.getFile()).text();
      } catch {
        return null;
      }
    },
    async write(text) {
      const handle = await (await root()).getFileHandle(fileName, { create: true });
      const writable = await handle.createWritable();
      await writable.write(text);
      await writable.close();
    },
    async remove() {
      await (await root()).removeEntry(fileName).catch(() => undefined);
    },
  };
}

/**
 * The production marker store of a pool: `localStorage` and a file at the OPFS root.
 *
 * @example
 * ```ts
 * const marker = await browserMarkerStore('register').read(); // null on a never-paired browser
 * ```
 */
export function browserMarkerStore(pool: string): MarkerStore {
  return slotMarkerStore([localStorageSlot(`kassa.register.${pool}`), opfsFileSlot(`kassa-register-${pool}.json`)]);
}
