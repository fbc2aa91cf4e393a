/**
 * The decision an owning tab makes right after opening the register's database: is this the
 * database the pairing marker describes? Pure, so it is tested in Node over every combination.
 *
 * ```
 *   marker \ database   unpaired          paired, same device          paired, other device   unreadable
 *   none                ok (new register) ok, write the marker         ok, write the marker   DatabaseOpenError
 *   present             LOST missing      ok if seq ≥ marker's,        LOST other_register    LOST unreadable
 *                                         else LOST rolled_back
 * ```
 */
import { formatReceiptNo } from '@kassa/core';
import type { RegisterMeta } from '../store/meta.js';
import { DatabaseLostError, DatabaseOpenError, type LostRegister } from './errors.js';
import type { PairingMarker } from './pairing-marker.js';

/** The outcome of {@link checkDatabase}. */
export type DatabaseCheck =
  | {
      readonly ok: true;
      /** The marker to keep from now on (null for a register that is not paired yet). */
      readonly marker: PairingMarker | null;
    }
  | { readonly ok: false; readonly error: DatabaseLostError | DatabaseOpenError };

function lostRegister(marker: PairingMarker): LostRegister {
  return {
    deviceId: marker.deviceId,
    storeId: marker.storeId,
    storeCode: marker.storeCode,
    registerCode: marker.registerCode,
    lastSeq: marker.lastSeq,
    lastReceiptNo: marker.lastReceiptNo,
    pairedAt: marker.pairedAt,
  };
}

/**
 * The marker that describes a paired database's `meta` row (null when it is not paired).
 * `persisted` is the storage-persistence answer to keep; `now` stamps the write.
 */
export function markerFromMeta(meta: RegisterMeta, persisted: boolean | null, now: number): PairingMarker | null {
  if (meta.deviceId === null || meta.storeId === null || meta.storeCode === null || meta.registerCode === null) return null;
  return {
    v: 1,
    deviceId: meta.deviceId,
    storeId: meta.storeId,
    storeCode: meta.storeCode,
    registerCode: meta.registerCode,
    pairedAt: meta.pairedAt ?? 0,
    lastSeq: meta.nextSeq - 1,
    lastReceiptNo: meta.lastReceiptSeq > 0 ? formatReceiptNo({ storeCode: meta.storeCode, registerCode: meta.registerCode, seq: meta.lastReceiptSeq }) : null,
    persisted,
    updatedAt: now,
  };
}

/**
 * Compares the pairing marker with what the database holds (its `meta` row, or the error that
 * opening or reading it raised); see the table in the module comment.
 *
 * @example
 * ```ts
 * const check = checkDatabase(await markers.read(), await store.meta().catch((e: Error) => e), Date.now());
 * if (!check.ok) throw check.error; // DatabaseLostError: register S01-R02 … had ops up to seq 42
 * ```
 */
export function checkDatabase(marker: PairingMarker | null, database: RegisterMeta | Error, now: number): DatabaseCheck {
  if (database instanceof Error) {
    const detail = `${database.name}: ${database.message}`;
    return { ok: false, error: marker === null ? new DatabaseOpenError(detail) : new DatabaseLostError('unreadable', lostRegister(marker), detail) };
  }
  if (marker === null) return { ok: true, marker: markerFromMeta(database, null, now) };
  if (database.deviceId === null) {
    return { ok: false, error: new DatabaseLostError('missing', lostRegister(marker), 'the database holds no register: it was deleted or evicted') };
  }
  if (database.deviceId !== marker.deviceId) {
    return { ok: false, error: new DatabaseLostError('other_register', lostRegister(marker), `the database belongs to device ${database.deviceId}`) };
  }
  const lastSeq = database.nextSeq - 1;
  if (lastSeq < marker.lastSeq) {
    return { ok: false, error: new DatabaseLostError('rolled_back', lostRegister(marker), `the database ends at seq ${String(lastSeq)}`) };
  }
  return { ok: true, marker: markerFromMeta(database, marker.persisted, now) };
}
