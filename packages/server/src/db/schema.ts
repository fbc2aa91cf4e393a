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
  store_limits_history: StoreLimitsHistoryTable;
  change_log_heads: ChangeLogHeadsTable;
  change_log: ChangeLogTable;
  sync_ops: SyncOpsTable;
  facts: FactsTable;
  sales: SalesTable;
  refunds: RefundsTable;
  stock_movements: StockMovementsTable;
  stock_levels: StockLevelsTable;
  sale_line_tallies: SaleLineTalliesTable;
  balances: BalancesTable;
  reference_docs: ReferenceDocsTable;
  conflicts: ConflictsTable;
  customers: CustomersTable;
  quarantine: QuarantineTable;
  seq_conflicts: SeqConflictsTable;
  alerts: AlertsTable;
  server_hlc: ServerHlcTable;
  alert_resolutions: AlertResolutionsTable;
  quarantine_actions: QuarantineActionsTable;
  backoffice_facts: BackofficeFactsTable;
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
  /** JSON: the entity's full current document, or the fact; '' = the `facts` row with id `entity_id` (by reference). */
  data_json: string;
  created_at: number;
}

/** A store's permission limits from `effective_from` until the next row (sync/push/store-limits.ts). */
export interface StoreLimitsHistoryTable {
  org_id: string;
  store_id: string;
  effective_from: number;
  /** JSON of core's `StoreLimits`; null: core's defaults. */
  limits_json: string | null;
}

/** The role a staff member held from `effective_from` until the next row (staff/staff-roles.ts). */
export interface StaffRoleHistoryTable {
  org_id: string;
  staff_id: string;
  role: StaffRole;
  effective_from: number;
}

// ── Sync push (migration 0003_sync_push, sync/push/ and sync/apply/) ──────────────────────────

/** One (register, seq) taken by a pushed op: the register's op journal as the server knows it. */
export interface SyncOpsTable {
  org_id: string;
  /** The pushing register (the token's), whose seq space this is. */
  register_id: string;
  seq: number;
  op_id: string;
  /** `opHash` of the op as received: a retry of the same op hashes the same. */
  op_hash: string;
  /** null when the op's type could not be read. */
  op_type: string | null;
  status: 'applied' | 'quarantined';
  store_id: string;
  received_at: number;
}

/** A fact op applied (once, by op id). */
export interface FactsTable {
  org_id: string;
  /** The op id. */
  id: string;
  store_id: string;
  register_id: string;
  seq: number;
  type: string;
  staff_id: string;
  approved_by: string | null;
  /** The HLC the server applied it with: the op's own, or clamped when the register's clock was far ahead. */
  hlc: string;
  /** The HLC the register sent. */
  device_hlc: string;
  device_time: number;
  /** JSON: the op at the current schema version, with the applied `hlc`. */
  op_json: string;
  received_at: number;
}

/** A completed sale (also the sale part of an exchange), by order id. */
export interface SalesTable {
  org_id: string;
  order_id: string;
  store_id: string;
  /** The `sale.completed` or `exchange.completed` op. */
  op_id: string;
  register_id: string;
  receipt_no: string;
  currency: string;
  total: number;
  tax_total: number;
  discount_total: number;
  customer_id: string | null;
  /** The applied HLC's wall time. */
  sold_at: number;
}

/** A refund, an exchange's refund part, or a void: whatever takes goods or money back from an order. */
export interface RefundsTable {
  org_id: string;
  op_id: string;
  kind: 'refund' | 'exchange' | 'void';
  store_id: string;
  /** The refund's own id (null for a void). */
  refund_id: string | null;
  /** The order it takes back from; null for a refund without receipt. */
  original_order_id: string | null;
  receipt_no: string;
  currency: string;
  total: number;
  refunded_at: number;
}

/** One movement of the stock ledger, under core's deterministic movement id. */
export interface StockMovementsTable {
  org_id: string;
  store_id: string;
  id: string;
  op_id: string;
  kind: string;
  product_id: string;
  /** '' when the movement names no variant. */
  variant_id: string;
  /** Signed change of on-hand in thousandths (`movementDelta`). */
  delta: number;
  /** JSON: core's `StockMovement`, to compare and to take back when re-derived. */
  movement_json: string;
  created_at: number;
}

/** On hand per store, product and variant ('' = none), in thousandths: the sum of its movements. */
export interface StockLevelsTable {
  org_id: string;
  store_id: string;
  product_id: string;
  variant_id: string;
  on_hand: number;
  updated_at: number;
}

/** Per sale line something was refunded (or voided) from: refunded (Σ refund movements) and sold (from the sale; 0 while it is unknown), in thousandths. */
export interface SaleLineTalliesTable {
  org_id: string;
  order_id: string;
  line_id: string;
  product_id: string;
  sold: number;
  refunded: number;
}

/** A gift-card, store-credit or loyalty balance: the sum of its balance facts. */
export interface BalancesTable {
  org_id: string;
  account: 'gift_card' | 'store_credit' | 'loyalty';
  /** The gift card's id or the customer's id. */
  account_id: string;
  /** Currency code, or `points`. */
  unit: string;
  balance: number;
  updated_at: number;
}

/** The per-field merge document of a reference doc (core's `ReferenceDoc` as JSON). */
export interface ReferenceDocsTable {
  org_id: string;
  /** `product`, `customer`, `category`, `tax_rate`, `price_list`, `variant`, `barcode`, `promotion`, … */
  doc_type: string;
  doc_id: string;
  doc_json: string;
  updated_at: number;
}

/** A merge conflict for review; `id` is `docType:docId:` + core's stable conflict id. */
export interface ConflictsTable {
  org_id: string;
  id: string;
  doc_type: string;
  doc_id: string;
  field: string;
  /** JSON `WriteRecord`s. */
  winner_json: string;
  loser_json: string;
  /** JSON: who made the edit that revealed the conflict. */
  source_json: string;
  status: Generated<'open' | 'resolved'>;
  detected_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
}

/** A customer as the server keeps it (in clear). */
export interface CustomersTable {
  id: string;
  org_id: string;
  /** The store whose registers hold this customer (DESIGN §4); null: not known (before migration 0006). */
  store_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  /** JSON: every field's current value (the merge doc's values). */
  values_json: string;
  deleted: Generated<Flag>;
  field_hlc_json: Generated<string>;
  created_at: number;
  updated_at: number;
}

/** An op that could not be understood or may not be accepted, kept with why. */
export interface QuarantineTable {
  id: string;
  org_id: string;
  store_id: string;
  register_id: string;
  /** null when the op's head (id, device, seq) could not be read. */
  seq: number | null;
  op_id: string | null;
  op_type: string | null;
  op_hash: string;
  /** `invalid`, `unreadable`, `unsupported_version`, `forged`, `forbidden`, `duplicate_id`. */
  reason: string;
  /** JSON: the validator's issues, the permission decision, the mismatching ids. */
  details_json: string;
  /** JSON: the op exactly as received. */
  op_json: string;
  received_at: number;
  status: Generated<'open' | 'dismissed' | 'retried'>;
  resolved_at: number | null;
  resolved_by: string | null;
}

/** A different op pushed under a (register, seq) already taken; the original stays. */
export interface SeqConflictsTable {
  id: string;
  org_id: string;
  store_id: string;
  register_id: string;
  seq: number;
  op_id: string | null;
  op_hash: string;
  existing_op_id: string | null;
  existing_op_hash: string | null;
  op_json: string;
  received_at: number;
  status: Generated<'open' | 'resolved'>;
  resolved_at: number | null;
}

/** An alert, upserted by its stable key (core's `alertKey` or the server's own kinds). */
export interface AlertsTable {
  org_id: string;
  key: string;
  /** `oversell`, `over_refund`, `negative_balance`, `receipt_chain_break`, `clock_skew`, `quarantine`, `seq_conflict`, … */
  kind: string;
  store_id: string | null;
  register_id: string | null;
  /** `open` while the condition holds; `resolved` when it cleared (or someone resolved it). */
  status: 'open' | 'resolved';
  /** JSON: the alert's current figures. */
  data_json: string;
  occurrences: Generated<number>;
  first_seen_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

/** The server's HLC per organisation: the last stamp issued, so it stays monotonic across restarts. */
export interface ServerHlcTable {
  org_id: string;
  wall_ms: number;
  counter: number;
  updated_at: number;
}

// ── Back office (migration 0005_backoffice, backoffice/) ─────────────────────────────────────

/** A hand resolution of an alert: the one whose `resolved_at` equals the alert's (backoffice/alert-routes.ts). */
export interface AlertResolutionsTable {
  org_id: string;
  alert_key: string;
  resolved_at: number;
  resolved_by: string;
  note: string;
}

/** One dismiss or retry of a quarantined op, with its outcome (backoffice/quarantine-routes.ts). */
export interface QuarantineActionsTable {
  id: string;
  org_id: string;
  quarantine_id: string;
  action: 'dismissed' | 'retried' | 'retry_failed';
  note: string | null;
  /** JSON: what the retry found (status, reason, message). */
  outcome_json: string;
  user_id: string;
  at: number;
}

/** A fact made in the back office (a stock adjustment or delivery), once by id (backoffice/stock-routes.ts). */
export interface BackofficeFactsTable {
  org_id: string;
  /** The op id, chosen by the client so a retried request is recognised. */
  id: string;
  store_id: string;
  user_id: string;
  /** Per user, gapless: the user is the op's `deviceId`. */
  seq: number;
  type: string;
  /** The server HLC it was stamped with. */
  hlc: string;
  /** JSON: the op, valid by core's `OpSchema`. */
  op_json: string;
  created_at: number;
}
