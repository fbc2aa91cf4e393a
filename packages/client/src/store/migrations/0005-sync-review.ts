/**
 * What the register keeps of the server's review and of its own losses (docs/adr/0033), and the
 * columns retention needs:
 *
 * - `server_alerts`: the open alerts of the register's store as the server lists them
 *   (`GET /api/v1/alerts`: oversell, over-refund, quarantine, seq conflict, receipt chain break,
 *   clock skew, a register's lost data, …), replaced whole at each fetch, for the UI.
 * - `server_conflicts`: the open merge conflicts (`GET /api/v1/conflicts`), for the UI. The values
 *   of a customer's fields are never kept here (personal data is never in clear at rest): only
 *   which field of which customer.
 * - `data_losses`: what the register found it had lost — its database gone or rolled back under a
 *   pairing marker that knew more — compared with what the server holds: the ops and receipts the
 *   server lacks, kept loudly in the status until a manager has seen them, and sent to the server
 *   as an alert (`reported_at`).
 * - `pulled_sales.pulled_at` and an index on `seen_facts.seen_at`: so rows older than the
 *   retention window can be found and pruned.
 */
export const m0005_sync_review = `
CREATE TABLE server_alerts (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  register_id TEXT,
  -- the alert as the server listed it (figures, occurrences, acknowledgement)
  view_json TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL
) STRICT;

CREATE TABLE server_conflicts (
  id TEXT PRIMARY KEY,
  doc_type TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  field TEXT NOT NULL,
  -- winner, loser and current value; without values for customers
  view_json TEXT NOT NULL,
  detected_at INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL
) STRICT;

CREATE TABLE data_losses (
  id INTEGER PRIMARY KEY,
  detected_at INTEGER NOT NULL,
  -- missing (database gone), unreadable, rolled_back
  reason TEXT NOT NULL,
  -- what the pairing marker knew had been committed
  local_last_seq INTEGER NOT NULL,
  local_last_receipt_no TEXT,
  -- what the server held when the register came back
  server_last_seq INTEGER NOT NULL,
  server_last_receipt_number INTEGER NOT NULL,
  reported_at INTEGER,
  acknowledged_at INTEGER
) STRICT;

ALTER TABLE pulled_sales ADD COLUMN pulled_at INTEGER NOT NULL DEFAULT 0;
UPDATE pulled_sales SET pulled_at = coalesce((SELECT s.seen_at FROM seen_facts s WHERE s.op_id = pulled_sales.op_id), CAST(strftime('%s', 'now') AS INTEGER) * 1000);
CREATE INDEX pulled_sales_pulled_at_idx ON pulled_sales (pulled_at);
CREATE INDEX seen_facts_seen_at_idx ON seen_facts (seen_at);
`;
