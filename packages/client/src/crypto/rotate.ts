/**
 * Key rotation, run when a staff member is removed (or a PIN is known to be compromised): new
 * register keys, the new bundle sealed to every REMAINING staff member's public key (no PINs
 * needed), every sealed value re-sealed, search tokens recomputed under the new search key, and a
 * new escrow for the server.
 *
 * Pure apart from WebCrypto: it takes lists and returns lists, and writes nothing. WebCrypto is
 * asynchronous and a SQLite transaction should not wait on it, so the store computes first, then
 * writes everything — new public key, staff records, values, tokens, removal of the old record —
 * in ONE transaction. Values sealed to the old key while this ran (a pull while rotating) keep the
 * old key id (`sealedKeyId`); the store finds those stragglers and re-seals them with
 * {@link resealValues} into the same new keys before it commits, while it still holds the old keys.
 *
 * Afterwards the removed person's old record still opens the OLD keys, which open none of the
 * re-sealed values and produce none of the new tokens. What they could read before removal (a
 * copy taken then) is beyond any rotation; docs/adr/0032.
 */
import type { SealOpenFailure } from './errors.js';
import { SealOpenError } from './errors.js';
import { sealEscrow } from './enrolment.js';
import { generateRegisterKeys } from './register-keys.js';
import type { RegisterKeys } from './register-keys.js';
import { createOpener, createSealer } from './seal.js';
import { searchTokens } from './search-tokens.js';
import type { SearchKind, SearchTokenOptions } from './search-tokens.js';
import { parseStaffKeyRecord, sealBundleForStaff, staffPublicKeyOf } from './staff-key-record.js';
import type { StaffKeyRecord } from './staff-key-record.js';

/** One sealed value to carry over, named by the caller's `ref` (e.g. `{table, column, id}`). */
export interface SealedValue<R> {
  readonly ref: R;
  readonly sealed: string;
  /** The AAD it was sealed with (and is re-sealed with); default empty. */
  readonly aad?: string;
  /** When set, `tokens` are computed for it under the new search key. */
  readonly search?: SearchKind;
}

/** A value re-sealed to the new key. */
export interface ResealedValue<R> {
  readonly ref: R;
  readonly sealed: string;
  /** New search tokens, when the input asked for them. */
  readonly tokens?: readonly string[];
}

/** What {@link rotateRegisterKeys} needs. */
export interface RotationInput<R> {
  /** The current keys (unlocked); at least the private key, ideally its key id too. */
  readonly old: Pick<RegisterKeys, 'privateKey'> & Partial<Pick<RegisterKeys, 'keyId'>>;
  /** The staff records to KEEP (everyone but the removed). */
  readonly staff: readonly StaffKeyRecord[];
  readonly values: readonly SealedValue<R>[];
  /** The server's escrow key and this register's device id, to return a new escrow. */
  readonly escrow?: { readonly publicKey: CryptoKey; readonly deviceId: string };
  readonly search?: SearchTokenOptions;
}

/** Everything the store writes in one transaction. */
export interface RotationResult<R> {
  readonly keys: RegisterKeys;
  /** The kept staff records, each now holding the new bundle (same staff key, same PIN). */
  readonly staff: readonly StaffKeyRecord[];
  readonly resealed: readonly ResealedValue<R>[];
  /**
   * Values that did not open with the old key (sealed to another key, damaged). Rotation does not
   * stop for them — removing a person must not depend on every old value being intact — and the
   * store decides (they were unreadable before, too).
   */
  readonly unreadable: readonly { readonly ref: R; readonly reason: SealOpenFailure }[];
  /** The new escrow for the server, when `escrow` was given. */
  readonly escrowed?: string;
}

// Enough in flight to keep WebCrypto's worker threads busy without holding every promise at once.
const CONCURRENCY = 32;

/**
 * Rotates the register keys (see the file comment).
 *
 * @example
 * ```ts
 * const result = await rotateRegisterKeys({
 *   old: keys,
 *   staff: records.filter((r) => r.staffId !== removedId),
 *   values: rows.map((r) => ({ ref: r.id, sealed: r.name, aad: fieldAad('customers', 'name', r.id), search: 'name' })),
 * });
 * store.transaction(() => store.applyRotation(result));
 * ```
 */
export async function rotateRegisterKeys<R>(input: RotationInput<R>): Promise<RotationResult<R>> {
  const staff = input.staff.map(parseStaffKeyRecord);
  const keys = await generateRegisterKeys();

  const newStaff: StaffKeyRecord[] = [];
  for (const record of staff) {
    const registerKeys = await sealBundleForStaff(keys, record.staffId, await staffPublicKeyOf(record));
    newStaff.push({ ...record, registerKeyId: keys.keyId, registerKeys });
  }

  const { resealed, unreadable } = await resealValues({ from: input.old, to: keys, values: input.values, ...(input.search === undefined ? {} : { search: input.search }) });
  const base = { keys, staff: newStaff, resealed, unreadable };
  return input.escrow === undefined ? base : { ...base, escrowed: await sealEscrow(keys, input.escrow.publicKey, { deviceId: input.escrow.deviceId }) };
}

/** What {@link resealValues} needs. */
export interface ResealInput<R> {
  /** The keys the values are sealed to now (unlocked). */
  readonly from: Pick<RegisterKeys, 'privateKey'> & Partial<Pick<RegisterKeys, 'keyId'>>;
  /** The keys to re-seal to; their search key makes the new tokens. */
  readonly to: Pick<RegisterKeys, 'publicKey' | 'searchKey'>;
  readonly values: readonly SealedValue<R>[];
  readonly search?: SearchTokenOptions;
}

/**
 * Opens each value with `from` and seals it to `to` under the same AAD, with new search tokens
 * where asked. {@link rotateRegisterKeys} uses it; the store calls it alone for the stragglers of
 * a rotation (values sealed to the old key while the rotation ran).
 *
 * @example
 * ```ts
 * const stragglers = rows.filter((r) => sealedKeyId(r.name) !== result.keys.keyId);
 * const second = await resealValues({ from: oldKeys, to: result.keys, values: stragglers.map(toSealedValue) });
 * ```
 */
export async function resealValues<R>(input: ResealInput<R>): Promise<Pick<RotationResult<R>, 'resealed' | 'unreadable'>> {
  const opener = createOpener(input.from.privateKey, input.from.keyId);
  const sealer = createSealer(input.to.publicKey);
  type Outcome = { ok: ResealedValue<R> } | { bad: { ref: R; reason: SealOpenFailure } };
  const one = async (value: SealedValue<R>): Promise<Outcome> => {
    let plaintext: Uint8Array<ArrayBuffer>;
    try {
      plaintext = await opener.openBytes(value.sealed, value.aad);
    } catch (e) {
      if (e instanceof SealOpenError) return { bad: { ref: value.ref, reason: e.reason } };
      throw e;
    }
    try {
      const sealed = await sealer.seal(plaintext, value.aad);
      if (value.search === undefined) return { ok: { ref: value.ref, sealed } };
      const tokens = await searchTokens(input.to.searchKey, new TextDecoder().decode(plaintext), value.search, input.search);
      return { ok: { ref: value.ref, sealed, tokens } };
    } finally {
      plaintext.fill(0);
    }
  };
  const outcomes: Outcome[] = [];
  for (let i = 0; i < input.values.length; i += CONCURRENCY) {
    outcomes.push(...(await Promise.all(input.values.slice(i, i + CONCURRENCY).map(one))));
  }
  const resealed = outcomes.flatMap((o) => ('ok' in o ? [o.ok] : []));
  const unreadable = outcomes.flatMap((o) => ('bad' in o ? [o.bad] : []));
  return { resealed, unreadable };
}
