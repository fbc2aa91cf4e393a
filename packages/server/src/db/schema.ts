/**
 * Row types of the server's tables, as Kysely sees them. The same shapes on SQLite and PostgreSQL:
 * ids are UUID text, amounts and timestamps are integers (bigint on PostgreSQL, read back as
 * numbers, see `database.ts`), flags are 0/1 integers (better-sqlite3 cannot bind booleans), and
 * structured settings are JSON text validated with zod when read back.
 */

import type { Generated } from 'kysely';

/** 0 or 1: portable boolean column. */
export type Flag = 0 | 1;

export interface OrganisationsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface StoresTable {
  id: string;
  org_id: string;
  /** Short code printed in receipt numbers, e.g. `S01`. */
  code: string;
  name: string;
  currency: string;
  locale: string;
  /** JSON: {@link StoreSettings} in `store-settings.ts`. */
  settings_json: string;
  created_at: number;
  updated_at: number;
}

/** A back-office login's role; `cashier` may sign in but not manage (migration 0002). */
export type UserRole = 'owner' | 'manager' | 'cashier';

export interface UsersTable {
  id: string;
  org_id: string;
  /** Lower-cased; unique per organisation. */
  email: string;
  display_name: string;
  /** argon2id PHC string. */
  password_hash: string;
  role: UserRole;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  org_id: string;
  user_id: string;
  /** SHA-256 (hex) of the session token; the token itself lives only in the cookie. */
  token_hash: string;
  csrf_token: string;
  created_at: number;
  /** Absolute expiry: the session ends then however active it is. */
  expires_at: number;
  /** Last authenticated request (updated at most once a minute): idle expiry counts from here. */
  last_used_at: Generated<number>;
}

export type StaffRole = 'cashier' | 'manager' | 'owner';

export interface StaffTable {
  id: string;
  org_id: string;
  store_id: string;
  name: string;
  role: StaffRole;
  /** PIN verifier: PBKDF2-SHA256, so a register can check it offline with WebCrypto. */
  pin_kdf: string;
  pin_iterations: number;
  /** base64 */
  pin_salt: string;
  /** base64 of the derived key */
  pin_hash: string;
  active: Generated<Flag>;
  /** JSON: per-field HLC of the last edit, for merging. */
  field_hlc_json: Generated<string>;
  created_at: number;
  updated_at: number;
}

export interface RegistersTable {
  id: string;
  org_id: string;
  store_id: string;
  /** `R01`, `R02`…; unique per store. */
  code: string;
  name: string;
  /** SHA-256 (hex) of the device token; null while the register is not paired. */
  token_hash: string | null;
  revoked: Generated<Flag>;
  /** Highest contiguous op seq acknowledged for this register. */
  last_seq: Generated<number>;
  /** Last receipt number issued by this register (the per-register sequence). */
  last_receipt_number: Generated<number>;
  /** Hash at the head of this register's receipt chain, or null before the first receipt. */
  chain_head: string | null;
  last_seen_at: number | null;
  paired_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface PairingCodesTable {
  id: string;
  org_id: string;
  store_id: string;
  /** SHA-256 (hex) of the one-time code. */
  code_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  register_id: string | null;
  /** The register code the manager chose for this code, or null: the first free one. */
  register_code: Generated<string | null>;
}

export interface CategoriesTable {
  id: string;
  org_id: string;
  name: string;
  parent_id: string | null;
  sort_order: Generated<number>;
  field_hlc_json: Generated<string>;
  created_at: number;
  updated_at: number;
}

export interface TaxRatesTable {
  id: string;
  org_id: string;
  name: string;
  /** Rate in parts per million: 19 % = 190000. */
  rate_ppm: number;
  field_hlc_json: Generated<string>;
  created_at: number;
  updated_at: number;
}

export type ProductUnit = 'piece' | 'kg';

export interface ProductsTable {
  id: string;
  org_id: string;
  sku: string;
  name: string;
  /** Price in minor units of `currency`; per kg when `weighed` is 1. */
  price_minor: number;
  currency: string;
  category_id: string | null;
  /** JSON array of tax rate ids. */
  tax_rate_ids_json: Generated<string>;
  weighed: Generated<Flag>;
  unit: ProductUnit;
  active: Generated<Flag>;
  /** JSON: `{ field: hlc }` of the last edit of each field, so edits merge per field. */
  field_hlc_json: Generated<string>;
  created_at: number;
  updated_at: number;
}

export interface BarcodesTable {
  org_id: string;
  code: string;
  product_id: string;
  created_at: number;
}

export interface AuditLogTable {
  id: string;
  org_id: string;
  store_id: string | null;
  /** `user`, `staff`, `register` or `system`. */
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  /** JSON, never holding a secret. */
  details_json: Generated<string>;
  at: number;
}

/** Every table, for `Kysely<Database>`. */
export interface Database {
  organisations: OrganisationsTable;
  stores: StoresTable;
  users: UsersTable;
  sessions: SessionsTable;
  staff: StaffTable;
  registers: RegistersTable;
  pairing_codes: PairingCodesTable;
  categories: CategoriesTable;
  tax_rates: TaxRatesTable;
  products: ProductsTable;
  barcodes: BarcodesTable;
  audit_log: AuditLogTable;
  staff_role_history: StaffRoleHistoryTable;
  change_log_heads: ChangeLogHeadsTable;
  change_log: ChangeLogTable;
}

/** One row per organisation: its change log's identity, head and pruned horizon (sync/change-log.ts). */
export interface ChangeLogHeadsTable {
  org_id: string;
  /** Random id made when the organisation's log starts: a cursor from another log is refused. */
  epoch: string;
  /** Seq of the newest change; bumped under this row's lock by every appender. */
  head: Generated<number>;
  /** Every change with seq ≤ horizon has been pruned; cursors below it must resync. */
  horizon: Generated<number>;
  /** Change id of the change at `horizon` (null while nothing was pruned), to verify a cursor there. */
  horizon_change_id: string | null;
  updated_at: number;
}

/** One change a register may pull: `(org_id, seq)` is the key, seq per organisation. */
export interface ChangeLogTable {
  org_id: string;
  seq: number;
  /** UUID; a cursor names it so a restored database that reused the seq is detected. */
  change_id: string;
  entity: string;
  entity_id: string;
  /** null: every register of the organisation sees it; otherwise only that store's registers. */
  store_id: string | null;
  op: 'upsert' | 'delete';
  /** JSON: the entity's full current document, or the fact. */
  data_json: string;
  created_at: number;
}

/** The role a staff member held from `effective_from` until the next row (staff/staff-roles.ts). */
export interface StaffRoleHistoryTable {
  org_id: string;
  staff_id: string;
  role: StaffRole;
  effective_from: number;
}
