/**
 * The register's first schema. Conventions (as the server's, ADR 0011): ids are UUID text, money
 * is INTEGER minor units, quantities INTEGER thousandths, times INTEGER ms since the epoch, flags
 * 0/1, documents JSON text validated with zod on read. Tables are STRICT, so a value of the wrong
 * type is refused instead of silently stored. Reference documents keep their merge state
 * (`doc_json`, core's `ReferenceDoc`) beside the columns derived from it for lookups.
 */
export const m0001_initial = `
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  device_id TEXT,
  org_id TEXT,
  store_id TEXT,
  store_code TEXT,
  register_code TEXT,
  token TEXT,
  next_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
  last_receipt_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_receipt_seq >= 0),
  chain_head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
  hlc_last TEXT,
  pull_cursor TEXT,
  last_sync_at INTEGER,
  paired_at INTEGER
) STRICT;
INSERT INTO meta (id) VALUES (1);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value_json TEXT NOT NULL
) STRICT;

CREATE TABLE categories (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0,
  doc_json TEXT NOT NULL DEFAULT '{"fields":{}}'
) STRICT;

CREATE TABLE tax_rates (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  rate_ppm INTEGER NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
  doc_json TEXT NOT NULL DEFAULT '{"fields":{}}'
) STRICT;

CREATE TABLE products (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sku TEXT NOT NULL,
  name TEXT NOT NULL,
  unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
  currency TEXT NOT NULL,
  tax_rate_ids_json TEXT NOT NULL DEFAULT '[]',
  category_id TEXT,
  unit TEXT NOT NULL DEFAULT 'piece' CHECK (unit IN ('piece', 'kg')),
  weighed INTEGER NOT NULL DEFAULT 0 CHECK (weighed IN (0, 1)),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  doc_json TEXT NOT NULL DEFAULT '{"fields":{}}'
) STRICT;
CREATE INDEX products_sku_idx ON products (sku);

CREATE TABLE variants (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  product_id TEXT NOT NULL REFERENCES products (id),
  sku TEXT NOT NULL,
  name TEXT NOT NULL,
  unit_price INTEGER CHECK (unit_price IS NULL OR unit_price >= 0),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  doc_json TEXT NOT NULL DEFAULT '{"fields":{}}'
) STRICT;
CREATE INDEX variants_product_idx ON variants (product_id);
CREATE INDEX variants_sku_idx ON variants (sku);

-- code is the normalised GTIN (core's normalizeGtin): 13 digits, or 14 with an indicator digit.
-- A variable-measure template (e.g. 21 PLU 00000 C) is stored as printed and found by its prefix.
CREATE TABLE barcodes (
  code TEXT PRIMARY KEY,
  product_id TEXT NOT NULL REFERENCES products (id),
  variant_id TEXT REFERENCES variants (id)
) STRICT;
CREATE INDEX barcodes_product_idx ON barcodes (product_id);

CREATE TABLE price_lists (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  doc_json TEXT NOT NULL DEFAULT '{"fields":{}}'
) STRICT;
CREATE TABLE price_list_items (
  price_list_id TEXT NOT NULL REFERENCES price_lists (id),
  product_id TEXT NOT NULL REFERENCES products (id),
  variant_id TEXT NOT NULL DEFAULT '',
  unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (price_list_id, product_id, variant_id)
) STRICT;

-- Stock on hand as this register knows it (thousandths): the server's figure at the pull cursor
-- moved by this register's own commands. variant_id '' is the product itself.
CREATE TABLE stock_levels (
  product_id TEXT NOT NULL,
  variant_id TEXT NOT NULL DEFAULT '',
  on_hand INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (product_id, variant_id)
) STRICT;

CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  doc_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE staff (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('cashier', 'manager', 'owner')),
  pin_kdf TEXT,
  pin_iterations INTEGER CHECK (pin_iterations IS NULL OR pin_iterations >= 600000),
  pin_salt TEXT,
  pin_hash TEXT,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE shifts (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  currency TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  float_json TEXT NOT NULL,
  open_op_id TEXT NOT NULL,
  closed_by TEXT,
  closed_at INTEGER,
  close_json TEXT,
  close_op_id TEXT
) STRICT;
-- At most one open shift: a register runs one at a time.
CREATE UNIQUE INDEX shifts_one_open_idx ON shifts (status) WHERE status = 'open';

-- Completed sales. payload_json is the sale.completed payload (the recorded sale, as sold).
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  receipt_no TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('completed', 'partially_refunded', 'fully_refunded', 'voided')),
  shift_id TEXT NOT NULL REFERENCES shifts (id),
  staff_id TEXT NOT NULL,
  customer_id TEXT,
  currency TEXT NOT NULL,
  total INTEGER NOT NULL,
  at INTEGER NOT NULL,
  op_id TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  void_op_id TEXT
) STRICT;
CREATE INDEX orders_shift_idx ON orders (shift_id);

CREATE TABLE refunds (
  id TEXT PRIMARY KEY,
  receipt_no TEXT NOT NULL UNIQUE,
  original_order_id TEXT REFERENCES orders (id),
  shift_id TEXT NOT NULL REFERENCES shifts (id),
  staff_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  total INTEGER NOT NULL,
  at INTEGER NOT NULL,
  op_id TEXT NOT NULL,
  payload_json TEXT NOT NULL
) STRICT;
CREATE INDEX refunds_order_idx ON refunds (original_order_id);
CREATE INDEX refunds_shift_idx ON refunds (shift_id);

CREATE TABLE voids (
  op_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
  receipt_no TEXT NOT NULL UNIQUE,
  shift_id TEXT NOT NULL REFERENCES shifts (id),
  staff_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  payload_json TEXT NOT NULL
) STRICT;

CREATE TABLE cash_movements (
  op_id TEXT PRIMARY KEY,
  shift_id TEXT NOT NULL REFERENCES shifts (id),
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  staff_id TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX cash_movements_shift_idx ON cash_movements (shift_id);

-- Every receipt this register issued, in chain order: the local copy of its receipt chain.
CREATE TABLE receipts (
  receipt_seq INTEGER PRIMARY KEY CHECK (receipt_seq >= 1),
  receipt_no TEXT NOT NULL UNIQUE,
  op_type TEXT NOT NULL,
  op_id TEXT NOT NULL UNIQUE,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;

-- Ops not yet acknowledged by the server, in seq order. Migrations never rewrite this table.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY CHECK (seq >= 1),
  op_id TEXT NOT NULL UNIQUE,
  op_type TEXT NOT NULL,
  op_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

-- Ops the server acknowledged, kept for a retention window (re-sent if the server was restored).
CREATE TABLE journal (
  seq INTEGER PRIMARY KEY CHECK (seq >= 1),
  op_id TEXT NOT NULL UNIQUE,
  op_type TEXT NOT NULL,
  op_json TEXT NOT NULL,
  status TEXT NOT NULL,
  acked_at INTEGER NOT NULL
) STRICT;
CREATE INDEX journal_acked_idx ON journal (acked_at);

CREATE TABLE conflicts (
  id TEXT PRIMARY KEY,
  doc_type TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  field TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  detected_at INTEGER NOT NULL,
  resolved_at INTEGER
) STRICT;

CREATE TABLE quarantine (
  op_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

CREATE TABLE alerts (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  raised_at INTEGER NOT NULL,
  closed_at INTEGER
) STRICT;
`;
