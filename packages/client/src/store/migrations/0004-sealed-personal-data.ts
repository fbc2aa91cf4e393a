/**
 * Personal data sealed at rest (docs/adr/0032; `src/store/vault.ts`):
 *
 * - `register_keys`: the register's public key (what pulled personal fields are sealed to while
 *   locked), the server's public key (what personal fields of ops are sealed to), the escrow of the
 *   register key bundle for the server (sealed to it) until the server confirms it, and whether a
 *   rotation is due (a staff member was removed while nobody was unlocked).
 * - `staff_keys`: each enrolled staff member's key record (PIN-wrapped staff key + the register key
 *   bundle sealed to it): JSON of crypto's `StaffKeyRecord`, nothing secret in clear.
 * - `pin_attempts`: the attempt-limiting state, per staff member and one for the register.
 * - `customer_tokens`: keyed search tokens (HMAC under the register's search key) of customers'
 *   names, phones and emails; `customers.tokens_key_id` names the key they were made with, NULL
 *   when the doc changed since (a pull while locked): recomputed at the next unlock.
 * - `customer_local_writes`: the register's own customer edits still in the outbox, sealed to the
 *   register's key (the op carries them sealed to the server's), so what the till shows can replay
 *   them over what it pulls.
 */
export const m0004_sealed_personal_data = `
CREATE TABLE register_keys (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  server_key_id TEXT NOT NULL,
  server_public_key TEXT NOT NULL,
  escrow TEXT,
  escrow_key_id TEXT,
  rotation_due INTEGER NOT NULL DEFAULT 0 CHECK (rotation_due IN (0, 1)),
  created_at INTEGER NOT NULL,
  rotated_at INTEGER
) STRICT;

CREATE TABLE staff_keys (
  staff_id TEXT PRIMARY KEY,
  record_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE pin_attempts (
  scope TEXT PRIMARY KEY,
  state_json TEXT NOT NULL
) STRICT;

ALTER TABLE customers ADD COLUMN tokens_key_id TEXT;

CREATE TABLE customer_tokens (
  token TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (token, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_tokens_customer_idx ON customer_tokens (customer_id);

-- A doc written without its tokens (a pull) makes its tokens stale; a deleted customer takes them along.
CREATE TRIGGER customers_tokens_stale AFTER UPDATE OF doc_json ON customers BEGIN
  UPDATE customers SET tokens_key_id = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER customers_tokens_gone AFTER DELETE ON customers BEGIN
  DELETE FROM customer_tokens WHERE customer_id = OLD.id;
END;

CREATE TABLE customer_local_writes (
  op_id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  writes_json TEXT NOT NULL
) STRICT;
`;
