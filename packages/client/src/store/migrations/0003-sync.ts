/**
 * What the sync engine keeps beside the register's own state (docs/adr/0033):
 *
 * - `server_stock`: the server's stock at the pull cursor, as far as the register can know it (the
 *   snapshot's levels plus every pulled fact's movements). `stock_levels` — what the till shows —
 *   is always this plus the movements of the register's own ops the server has not reflected yet.
 * - `seen_facts`: every fact `server_stock` counts, by op id, with the deltas it was counted with,
 *   so a fact delivered twice (or the register's own op echoed back) never counts twice, and a
 *   refund counted before its sale was known can be counted again once the sale arrives.
 * - `pulled_sales`: the lines of sales pulled from the log (any register of the store), which the
 *   stock movements of later refunds and voids need.
 * - `reference_docs`: merge docs without a table of their own (price lists, promotions, barcodes,
 *   variants as sent), by type and id, as the server merged them.
 * - `sync_state`: small typed values of the sync loops (bootstrap progress, push in doubt, the
 *   server's acknowledged seq, a revoked token, the last clock skew).
 */
export const m0003_sync = `
CREATE TABLE server_stock (
  product_id TEXT NOT NULL,
  variant_id TEXT NOT NULL DEFAULT '',
  on_hand INTEGER NOT NULL,
  PRIMARY KEY (product_id, variant_id)
) STRICT;

CREATE TABLE seen_facts (
  op_id TEXT PRIMARY KEY,
  op_type TEXT NOT NULL,
  own INTEGER NOT NULL CHECK (own IN (0, 1)),
  -- the order whose sale this fact's movements depend on (refund, exchange, void), and whether that
  -- sale was known when the movements were counted
  depends_on TEXT,
  sale_known INTEGER NOT NULL DEFAULT 1 CHECK (sale_known IN (0, 1)),
  -- [[productId, variantId, delta], …] as counted into server_stock
  deltas_json TEXT NOT NULL,
  -- the op itself, kept only while its sale is unknown (to count it again once the sale arrives)
  op_json TEXT,
  log_seq INTEGER,
  seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX seen_facts_depends_idx ON seen_facts (depends_on) WHERE depends_on IS NOT NULL;

CREATE TABLE pulled_sales (
  order_id TEXT PRIMARY KEY,
  op_id TEXT NOT NULL,
  lines_json TEXT NOT NULL
) STRICT;

CREATE TABLE reference_docs (
  doc_type TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  values_json TEXT NOT NULL,
  field_hlc_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (doc_type, doc_id)
) STRICT;

CREATE TABLE sync_state (
  key TEXT PRIMARY KEY,
  value_json TEXT NOT NULL
) STRICT;
`;
