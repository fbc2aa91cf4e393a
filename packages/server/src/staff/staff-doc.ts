/**
 * A staff member as registers receive it through the change log and the snapshot: enough to show
 * the person and check their PIN offline (the PBKDF2 verifier, never the PIN).
 */
import type { Selectable } from 'kysely';
import type { StaffRole, StaffTable } from '../db/schema.js';
import type { ChangeInput } from '../sync/change-log.js';

/** The staff document registers store. */
export interface StaffDocument {
  readonly id: string;
  readonly storeId: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly active: boolean;
  /** Check a typed PIN with WebCrypto: PBKDF2-SHA256(pin, salt, iterations) → 32 bytes = hash. */
  readonly pin: { readonly kdf: string; readonly iterations: number; readonly salt: string; readonly hash: string };
  readonly updatedAt: number;
}

/** The document of a staff row. */
export function staffDocument(row: Selectable<StaffTable>): StaffDocument {
  return {
    id: row.id,
    storeId: row.store_id,
    name: row.name,
    role: row.role,
    active: row.active === 1,
    pin: { kdf: row.pin_kdf, iterations: row.pin_iterations, salt: row.pin_salt, hash: row.pin_hash },
    updatedAt: row.updated_at,
  };
}

/**
 * The change-log entry of a staff row: visible to its store's registers only (the verifier is
 * worth keeping off other stores' devices). Staff are edited in the back office only, so the log's
 * order decides and the document carries no per-field HLCs; a deactivated person is an upsert with
 * `active: false`, so registers lock them out rather than forget them.
 */
export function staffChange(row: Selectable<StaffTable>): ChangeInput {
  return { entity: 'staff', entityId: row.id, storeId: row.store_id, op: 'upsert', data: staffDocument(row) };
}
