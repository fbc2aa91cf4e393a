/**
 * Opening the personal fields a register sealed to its organisation's key (docs/adr/0032) when
 * the server applies its op. A `customer.upserted` write whose value is a `k1.` envelope holds the
 * JSON of the field's value, sealed with AAD `fieldAad('customer.upserted', field, customerId)`;
 * the server keeps customers in clear (it is trusted) and sends them to its registers in clear over
 * pull and snapshot, where the register seals them to its own key on arrival. A value in clear
 * (a register from before sealing, the sim's in-process registers) is applied as it is.
 *
 * Payment references in facts (a card tender's `approvalCode` and `providerRef`, AAD
 * `fieldAad('tenders', field, tenderId)`) are kept as received, sealed: nothing on the server reads
 * them, and {@link openTenderReference} opens one when someone must (a dispute).
 */
import type { Op } from '@kassa/core';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { SealedValueError, fieldAad, isSealed, openSealed, type ServerKeyPair } from './k1.js';
import { orgKey } from './org-keys.js';

/** The outcome of {@link openPersonalFields}. */
export type OpenedFields = { readonly ok: true; readonly opened: number } | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * Replaces, in place, every sealed value of a `customer.upserted` op's writes by the value it
 * seals; other ops are left alone. All values are opened before any is replaced: a value that does
 * not open (another key, another field or customer, damaged) changes nothing and is reported, so
 * the caller quarantines the op.
 *
 * @example
 * ```ts
 * const opened = await openPersonalFields(trx, device.orgId, op, now);
 * if (!opened.ok) return quarantine('invalid', opened.message);
 * ```
 */
export async function openPersonalFields(db: Kysely<Database> | Transaction<Database>, orgId: string, op: Op, now: number): Promise<OpenedFields> {
  if (op.type !== 'customer.upserted') return { ok: true, opened: 0 };
  const writes = op.payload.writes;
  if (!writes.some((w) => isSealed(w.value))) return { ok: true, opened: 0 };
  const key = await orgKey(db, orgId, now);
  const values: unknown[] = [];
  for (const w of writes) {
    if (!isSealed(w.value)) {
      values.push(w.value);
      continue;
    }
    try {
      values.push(JSON.parse(await openSealed(key, w.value, fieldAad('customer.upserted', w.field, op.payload.customerId))));
    } catch (e) {
      if (e instanceof SealedValueError || e instanceof SyntaxError) {
        const why = e instanceof SealedValueError ? e.reason : 'not JSON';
        return { ok: false, field: w.field, message: `customer field "${w.field}" is sealed but does not open with the organisation’s key (${why})` };
      }
      throw e;
    }
  }
  writes.forEach((w, i) => {
    (w as { value: unknown }).value = values[i];
  });
  return { ok: true, opened: values.length };
}

/** Opens a sealed payment reference of a card tender (`approvalCode` or `providerRef`). */
export function openTenderReference(key: ServerKeyPair, sealed: string, field: 'approvalCode' | 'providerRef', tenderId: string): Promise<string> {
  return openSealed(key, sealed, fieldAad('tenders', field, tenderId));
}
