/**
 * The register's vault: personal data sealed at rest, in the store (DESIGN §4, docs/adr/0032).
 *
 * ```
 *   setupEncryption (pairing) ─► register keys made, public key + escrow stored, first staff enrolled
 *        │
 *   LOCKED: pulled customers sealed to the register's PUBLIC key (sealPulled), card references
 *        │  sealed to the server's key (sealTenders); nothing can be opened or searched
 *        │ unlock(staffId, PIN)  (attempt-limited; a wrong PIN yields no key)
 *        ▼
 *   UNLOCKED: keys in memory; stale search tokens recomputed; a due rotation runs;
 *        │  customers opened and searched, edited (saveCustomerSealed), staff enrolled,
 *        │  PINs changed, staff removed (rotation)
 *        │ lock()
 *        ▼
 *   LOCKED
 * ```
 *
 * Where each personal value lives: `customers.doc_json` holds every customer field but `deleted`
 * as a `k1.` envelope of its JSON, sealed to the register's key with AAD
 * `fieldAad('customers', field, id)`; conflicts and `customer_local_writes` hold the same
 * envelopes; ops in the outbox and journal hold them sealed to the server's key with AAD
 * `fieldAad('customer.upserted', field, id)`; a card tender's `approvalCode` and `providerRef` are
 * sealed to the server's key with AAD `fieldAad('tenders', field, tenderId)` in the op and in
 * `orders`/`refunds` (the register never needs them back after the receipt is printed).
 *
 * WebCrypto is asynchronous and a SQLite transaction must not wait on it: every method here seals
 * or opens first, then writes in one synchronous transaction that re-checks what it was based on.
 */
import { canonicalJson, docValues, isDeletedDoc, ReferenceDocSchema, type JsonValue, type ReferenceDoc } from '@kassa/core';
import { z } from 'zod';
import { saveSealedCustomer, CustomerChangesSchema, type CommandContext, type SaveCustomerInput, type SaveCustomerResult } from '../commands/index.js';
import { sealEscrow, enrolStaff as cryptoEnrolStaff, changePin as cryptoChangePin, type EscrowRequest } from '../crypto/enrolment.js';
import { PinLockedOutError, WrongPinError } from '../crypto/errors.js';
import { checkPinAttempt, DEFAULT_PIN_ATTEMPT_POLICY, initialPinAttempts, PinAttemptStateSchema, recordPinFailure, recordPinSuccess, unlockWithAttemptLimit, type PinAttemptPolicy, type PinAttemptState } from '../crypto/pin-attempts.js';
import { checkPinVerifier, normalisePin } from '../crypto/pin-kdf.js';
import { decodeKeyBundle, generateRegisterKeys, type RegisterKeys } from '../crypto/register-keys.js';
import { rotateRegisterKeys, type SealedValue } from '../crypto/rotate.js';
import { createOpener, createSealer, fieldAad, generateSealingKeyPair, importPublicKey, isSealed, type Opener, type SealingKeyPair } from '../crypto/seal.js';
import { searchQueryTokens, searchTokens, type SearchKind } from '../crypto/search-tokens.js';
import { createStaffRecord, parseStaffKeyRecord, registerKeysAad, type StaffKeyRecord } from '../crypto/staff-key-record.js';
import { KassaError } from '@kassa/core';
import { CorruptRowError, NotFoundError, RegisterNotPairedError, SealingRequiredError, StaleReadError } from './errors.js';
import { readMeta } from './meta.js';
import type { SqlDb } from './sql-db.js';

/** The server's public key, as pairing and `GET /api/v1/keys/server` give it. */
export interface ServerKey {
  readonly keyId: string;
  readonly publicKey: string;
}

/** The register has no keys yet: {@link Vault.setupEncryption} first (at pairing). */
export class EncryptionNotSetUpError extends KassaError {
  readonly code = 'encryption_not_set_up';
  constructor() {
    super('this register has no keys for personal data yet; pair it (setupEncryption) first');
  }
}

/** The call needs the register unlocked by a staff member's PIN. */
export class RegisterLockedError extends KassaError {
  readonly code = 'register_locked';
  constructor(readonly call: string) {
    super(`${call} needs the register unlocked with a staff member's PIN`);
  }
}

/** The staff member has no key record on this register: enrol them (a manager, or the server). */
export class NotEnrolledError extends KassaError {
  readonly code = 'not_enrolled';
  constructor(readonly staffId: string) {
    super(`staff member ${staffId} is not enrolled on this register yet`);
  }
}

/** Only a manager or owner who unlocked the register may enrol someone else. */
export class EnrolmentNotAllowedError extends KassaError {
  readonly code = 'enrolment_not_allowed';
  constructor(readonly reason: string) {
    super(`enrolment refused: ${reason}`);
  }
}

/** What {@link Vault.encryptionStatus} tells. */
export interface EncryptionStatus {
  readonly setUp: boolean;
  readonly keyId: string | null;
  readonly serverKeyId: string | null;
  /** Who unlocked the register, or null when it is locked. */
  readonly unlockedBy: string | null;
  readonly enrolled: readonly string[];
  /** The escrow for the server is waiting to be sent ({@link Vault.pendingEscrow}). */
  readonly escrowPending: boolean;
  /** A staff member was removed while the register was locked: the next unlock rotates. */
  readonly rotationDue: boolean;
}

/** An opened customer. */
export interface CustomerView {
  readonly customerId: string;
  readonly deleted: boolean;
  readonly values: Readonly<Record<string, JsonValue>>;
}

/** A change as pulls and snapshots deliver it (the sync engine's `IncomingChange`). */
interface PulledChange {
  readonly entity: string;
  readonly entityId: string;
  readonly op: string;
  readonly data?: unknown;
}

/** The register-wide attempt policy: a higher allowance, against one PIN sprayed over every name. */
export const REGISTER_PIN_ATTEMPT_POLICY: PinAttemptPolicy = Object.freeze({ freeAttempts: 20, baseLockoutMs: 30_000, maxLockoutMs: 3_600_000 });

const SEARCH_FIELDS: Readonly<Record<string, SearchKind>> = { name: 'name', phone: 'phone', email: 'email' };
const CLEAR_FIELDS: ReadonlySet<string> = new Set(['deleted']);
const customersAad = (id: string, field: string): string => fieldAad('customers', field, id);
const wireAad = (id: string, field: string): string => fieldAad('customer.upserted', field, id);
const KeysRow = z.object({
  key_id: z.string(),
  public_key: z.string(),
  server_key_id: z.string(),
  server_public_key: z.string(),
  escrow: z.string().nullable(),
  escrow_key_id: z.string().nullable(),
  rotation_due: z.int(),
});
type KeysRow = z.infer<typeof KeysRow>;
const MergeDoc = z.object({ id: z.string(), values: z.record(z.string(), z.unknown()), fieldHlc: z.record(z.string(), z.string()) }).loose();
const MAX_RETRIES = 5;

/** The vault of one store connection; see the file comment. */
export class Vault {
  readonly #db: SqlDb;
  readonly #ctx: CommandContext;
  #keys: RegisterKeys | null = null;
  #unlockedBy: string | null = null;
  #opener: Opener | null = null;
  readonly #pending = new Map<string, { staffKeys: SealingKeyPair; pin: string; registerKeyId: string }>();
  #attempts: Promise<unknown> = Promise.resolve();

  constructor(db: SqlDb, ctx: CommandContext) {
    this.#db = db;
    this.#ctx = ctx;
  }

  #row(): KeysRow | undefined {
    const r = this.#db.get('SELECT key_id, public_key, server_key_id, server_public_key, escrow, escrow_key_id, rotation_due FROM register_keys WHERE id = 1');
    return r === undefined ? undefined : KeysRow.parse(r);
  }

  #required(): KeysRow {
    const r = this.#row();
    if (r === undefined) throw new EncryptionNotSetUpError();
    return r;
  }

  #unlocked(call: string): RegisterKeys {
    if (this.#keys === null) throw new RegisterLockedError(call);
    return this.#keys;
  }

  /** True when this register seals personal data (it has keys). Synchronous: for the command guards. */
  isSetUp(): boolean {
    return this.#db.get('SELECT 1 AS x FROM register_keys') !== undefined;
  }

  /**
   * Makes the register's keys (once, at pairing): stores the public key, the server's key and the
   * escrow for the server; seals customers stored in clear before this version; and, with
   * `firstStaff`, enrols that person (the manager pairing the register) and unlocks. Without
   * `firstStaff` the keys exist only in the escrow until the server releases them
   * ({@link beginServerEnrolment}). Called again (a re-pairing), it keeps the keys and records a
   * changed server key; the escrow is sealed to it again at the next unlock.
   */
  async setupEncryption(input: { serverKey: ServerKey; firstStaff?: { staffId: string; pin: string } }): Promise<EncryptionStatus> {
    const serverPublic = await importPublicKey(input.serverKey.publicKey);
    const existing = this.#row();
    if (existing !== undefined) {
      if (existing.server_public_key !== input.serverKey.publicKey) {
        this.#db.transaction(() =>
          this.#db.run('UPDATE register_keys SET server_key_id = ?, server_public_key = ?, escrow = NULL, escrow_key_id = NULL WHERE id = 1', [input.serverKey.keyId, input.serverKey.publicKey]),
        );
        if (this.#keys !== null) await this.#refreshEscrow(this.#keys);
      }
      return this.encryptionStatus();
    }
    const { deviceId } = readMeta(this.#db);
    if (deviceId === null) throw new RegisterNotPairedError();
    // The first staff member is the manager the server authenticated for the pairing; the staff
    // list may not be synced yet, so they are not looked up here (unlock checks they are active).
    const keys = await generateRegisterKeys();
    const escrow = await sealEscrow(keys, serverPublic, { deviceId });
    const record = input.firstStaff === undefined ? undefined : await cryptoEnrolStaff(keys, input.firstStaff);
    const clear = await this.#sealClearCustomers(keys);
    const now = this.#ctx.clock.now();
    this.#db.transaction(() => {
      this.#db.run(
        'INSERT INTO register_keys (id, key_id, public_key, server_key_id, server_public_key, escrow, created_at) VALUES (1, ?, ?, ?, ?, ?, ?)',
        [keys.keyId, keys.publicKeyRaw, input.serverKey.keyId, input.serverKey.publicKey, escrow, now],
      );
      if (record !== undefined) this.#saveRecord(record, now);
      for (const c of clear) {
        const row = this.#db.get<{ doc_json: string }>('SELECT doc_json FROM customers WHERE id = ?', [c.id]);
        if (row?.doc_json !== c.before) throw new StaleReadError('customer', c.id);
        this.#db.run('UPDATE customers SET doc_json = ? WHERE id = ?', [c.after, c.id]);
      }
      // Conflicts recorded in clear before sealing: the server keeps its own record of them.
      if (clear.length > 0) this.#db.run("DELETE FROM conflicts WHERE doc_type = 'customer'");
    });
    if (input.firstStaff !== undefined) this.#startSession(keys, input.firstStaff.staffId);
    return this.encryptionStatus();
  }

  async #sealClearCustomers(keys: RegisterKeys): Promise<{ id: string; before: string; after: string }[]> {
    const sealer = createSealer(keys.publicKey);
    const out: { id: string; before: string; after: string }[] = [];
    for (const row of this.#db.all<{ id: string; doc_json: string }>('SELECT id, doc_json FROM customers')) {
      const doc = parseDoc(row.doc_json);
      const fields: Record<string, { value: JsonValue; hlc: string; base: string | null }[]> = {};
      let changed = false;
      for (const [field, writes] of Object.entries(doc.fields)) {
        fields[field] = [];
        for (const w of writes) {
          if (CLEAR_FIELDS.has(field) || (typeof w.value === 'string' && isSealed(w.value))) {
            fields[field].push({ ...w });
            continue;
          }
          changed = true;
          fields[field].push({ ...w, value: await sealer.seal(JSON.stringify(w.value), customersAad(row.id, field)) });
        }
      }
      if (changed) out.push({ id: row.id, before: row.doc_json, after: JSON.stringify({ ...doc, fields }) });
    }
    return out;
  }

  /** What the UI shows about keys and locking. */
  encryptionStatus(): EncryptionStatus {
    const r = this.#row();
    const enrolled = this.#db.all<{ staff_id: string }>('SELECT staff_id FROM staff_keys ORDER BY staff_id').map((x) => x.staff_id);
    return {
      setUp: r !== undefined,
      keyId: r?.key_id ?? null,
      serverKeyId: r?.server_key_id ?? null,
      unlockedBy: this.#unlockedBy,
      enrolled,
      escrowPending: r !== undefined && r.escrow !== null && r.escrow_key_id !== r.key_id,
      rotationDue: r?.rotation_due === 1,
    };
  }

  /** The escrow to send to the server (`PUT /api/v1/keys/escrow`), or null when it has it. */
  pendingEscrow(): { registerKeyId: string; escrowed: string } | null {
    const r = this.#row();
    if (r === undefined || r.escrow === null || r.escrow_key_id === r.key_id) return null;
    return { registerKeyId: r.key_id, escrowed: r.escrow };
  }

  /** The server confirmed it keeps the escrow of `registerKeyId`. */
  escrowSent(registerKeyId: string): void {
    this.#db.transaction(() => this.#db.run('UPDATE register_keys SET escrow_key_id = ? WHERE id = 1 AND key_id = ?', [registerKeyId, registerKeyId]));
  }

  // ── unlocking ──

  /**
   * Unlocks with a staff member's PIN: PBKDF2 (≥ 600,000 iterations) → staff key → register keys,
   * behind the attempt limit (per person, and per register). A wrong PIN throws `WrongPinError` and
   * yields no key; too many throw `PinLockedOutError`. Afterwards: stale search tokens are
   * recomputed, the escrow is re-sealed if the server key changed, and a due rotation runs (staff
   * removed or deactivated while the register was locked lose access to everything).
   */
  async unlock(staffId: string, pin: string): Promise<EncryptionStatus> {
    this.#required();
    const staff = this.#db.get<{ active: number }>('SELECT active FROM staff WHERE id = ?', [staffId]);
    const record = this.#record(staffId);
    if (record === undefined || staff?.active !== 1) throw new NotEnrolledError(staffId);
    const keys = await this.#serialised(async () => {
      const now = this.#ctx.clock.now();
      // A person locked out is refused before anything is counted: that attempt guessed nothing.
      const own = checkPinAttempt(this.#attemptState(`staff:${staffId}`), now, DEFAULT_PIN_ATTEMPT_POLICY);
      if (!own.allowed) throw new PinLockedOutError(own.retryAt, own.waitMs);
      const reg = this.#attemptState('register');
      const gate = checkPinAttempt(reg, now, REGISTER_PIN_ATTEMPT_POLICY);
      if (!gate.allowed) throw new PinLockedOutError(gate.retryAt, gate.waitMs);
      this.#saveAttempts('register', recordPinFailure(gate.state, now, REGISTER_PIN_ATTEMPT_POLICY));
      const result = await unlockWithAttemptLimit({
        pin,
        record,
        state: this.#attemptState(`staff:${staffId}`),
        clock: this.#ctx.clock,
        save: (s) => this.#saveAttempts(`staff:${staffId}`, s),
        policy: DEFAULT_PIN_ATTEMPT_POLICY,
      });
      if (result.outcome !== 'unlocked') throw result.error;
      this.#saveAttempts('register', recordPinSuccess());
      return result.keys;
    });
    this.#startSession(keys, staffId);
    await this.#afterUnlock();
    return this.encryptionStatus();
  }

  /** Forgets the keys: the register is locked (pulled data is still sealed and stored). */
  lock(): EncryptionStatus {
    this.#keys = null;
    this.#opener = null;
    this.#unlockedBy = null;
    this.#pending.clear();
    return this.encryptionStatus();
  }

  #startSession(keys: RegisterKeys, staffId: string): void {
    this.#keys = keys;
    this.#opener = createOpener(keys.privateKey, keys.keyId);
    this.#unlockedBy = staffId;
  }

  async #afterUnlock(): Promise<void> {
    const keys = this.#unlocked('unlock');
    const r = this.#required();
    const gone = this.#db
      .all<{ staff_id: string }>('SELECT staff_id FROM staff_keys WHERE staff_id NOT IN (SELECT id FROM staff WHERE active = 1)')
      .map((x) => x.staff_id);
    if (gone.length > 0) {
      this.#db.transaction(() => {
        for (const id of gone) this.#forget(id);
        this.#db.run('UPDATE register_keys SET rotation_due = 1 WHERE id = 1');
      });
    }
    if (r.rotation_due === 1 || gone.length > 0) await this.#rotate();
    else if (r.escrow === null) await this.#refreshEscrow(keys);
    await this.#refreshTokens();
  }

  async #refreshEscrow(keys: RegisterKeys): Promise<void> {
    const r = this.#required();
    const { deviceId } = readMeta(this.#db);
    if (deviceId === null) return;
    const escrow = await sealEscrow(keys, await importPublicKey(r.server_public_key), { deviceId });
    this.#db.transaction(() => this.#db.run('UPDATE register_keys SET escrow = ?, escrow_key_id = NULL WHERE id = 1 AND key_id = ?', [escrow, keys.keyId]));
  }

  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#attempts.then(fn, fn);
    this.#attempts = run.catch(() => undefined);
    return run;
  }

  #attemptState(scope: string): PinAttemptState {
    const r = this.#db.get<{ state_json: string }>('SELECT state_json FROM pin_attempts WHERE scope = ?', [scope]);
    if (r === undefined) return initialPinAttempts();
    const parsed = PinAttemptStateSchema.safeParse(JSON.parse(r.state_json));
    // A damaged state must not reset the count: treat it as locked as long as allowed.
    return parsed.success ? parsed.data : { failures: 1_000, lockedUntil: this.#ctx.clock.now() + DEFAULT_PIN_ATTEMPT_POLICY.maxLockoutMs };
  }

  #saveAttempts(scope: string, state: PinAttemptState): void {
    this.#db.transaction(() =>
      this.#db.run('INSERT INTO pin_attempts (scope, state_json) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET state_json = excluded.state_json', [scope, JSON.stringify(state)]),
    );
  }

  #record(staffId: string): StaffKeyRecord | undefined {
    const r = this.#db.get<{ record_json: string }>('SELECT record_json FROM staff_keys WHERE staff_id = ?', [staffId]);
    return r === undefined ? undefined : parseStaffKeyRecord(JSON.parse(r.record_json));
  }

  #saveRecord(record: StaffKeyRecord, now: number): void {
    this.#db.run(
      'INSERT INTO staff_keys (staff_id, record_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (staff_id) DO UPDATE SET record_json = excluded.record_json, updated_at = excluded.updated_at',
      [record.staffId, JSON.stringify(record), now],
    );
  }

  #forget(staffId: string): void {
    this.#db.run('DELETE FROM staff_keys WHERE staff_id = ?', [staffId]);
    this.#db.run('DELETE FROM pin_attempts WHERE scope = ?', [`staff:${staffId}`]);
  }

  #activeStaff(staffId: string): { role: string } {
    const s = this.#db.get<{ role: string; active: number }>('SELECT role, active FROM staff WHERE id = ?', [staffId]);
    if (s === undefined) throw new NotFoundError('staff', staffId);
    if (s.active !== 1) throw new EnrolmentNotAllowedError(`staff member ${staffId} is not active`);
    return s;
  }

  // ── enrolment, PIN change, removal ──

  /**
   * Enrols a staff member with the PIN they chose, from the keys of the manager (or owner) who
   * unlocked the register: the offline path. Also how a manager resets someone's forgotten PIN.
   */
  async enrolStaff(input: { staffId: string; pin: string }): Promise<EncryptionStatus> {
    const keys = this.#unlocked('enrolStaff');
    const by = this.#activeStaff(this.#unlockedBy ?? '');
    if (by.role !== 'manager' && by.role !== 'owner') throw new EnrolmentNotAllowedError(`${this.#unlockedBy ?? ''} is a ${by.role}; a manager or owner enrols staff`);
    this.#activeStaff(input.staffId);
    const record = await cryptoEnrolStaff(keys, input);
    this.#db.transaction(() => {
      if (this.#required().key_id !== keys.keyId) throw new StaleReadError('register_keys', keys.keyId);
      this.#saveRecord(record, this.#ctx.clock.now());
    });
    return this.encryptionStatus();
  }

  /**
   * First step of a staff member's first unlock through the server (no manager present): checks
   * the PIN against the verifier synced with the staff list (attempt-limited like an unlock), makes
   * the person's new staff key pair and answers what to ask the server
   * (`POST /api/v1/keys/escrow/release`). {@link finishServerEnrolment} takes the answer.
   */
  async beginServerEnrolment(input: { staffId: string; pin: string }): Promise<EscrowRequest> {
    const r = this.#required();
    normalisePin(input.pin);
    const staff = this.#db.get<{ active: number; pin_kdf: string | null; pin_iterations: number | null; pin_salt: string | null; pin_hash: string | null }>(
      'SELECT active, pin_kdf, pin_iterations, pin_salt, pin_hash FROM staff WHERE id = ?',
      [input.staffId],
    );
    if (staff === undefined) throw new NotFoundError('staff', input.staffId);
    if (staff.active !== 1) throw new EnrolmentNotAllowedError(`staff member ${input.staffId} is not active`);
    if (staff.pin_iterations === null || staff.pin_salt === null || staff.pin_hash === null) {
      throw new EnrolmentNotAllowedError(`staff member ${input.staffId} has no PIN verifier on this register yet (sync first)`);
    }
    const verifier = { kdf: 'pbkdf2-sha256' as const, iterations: staff.pin_iterations, salt: staff.pin_salt, hash: staff.pin_hash };
    await this.#serialised(async () => {
      const scope = `staff:${input.staffId}`;
      const now = this.#ctx.clock.now();
      const gate = checkPinAttempt(this.#attemptState(scope), now);
      if (!gate.allowed) throw new PinLockedOutError(gate.retryAt, gate.waitMs);
      this.#saveAttempts(scope, recordPinFailure(gate.state, now));
      if (!(await checkPinVerifier(input.pin, verifier))) throw new WrongPinError(input.staffId);
      this.#saveAttempts(scope, recordPinSuccess());
    });
    const staffKeys = await generateSealingKeyPair({ extractable: true });
    this.#pending.set(input.staffId, { staffKeys, pin: input.pin, registerKeyId: r.key_id });
    return { staffId: input.staffId, registerKeyId: r.key_id, staffPublicKey: staffKeys.publicKeyRaw };
  }

  /**
   * Second step: opens the server's answer with the staff key made in
   * {@link beginServerEnrolment}, checks it holds THIS register's keys, wraps them under the PIN
   * and unlocks as that person. `KeyMismatchError` / `SealOpenError`: nothing stored.
   */
  async finishServerEnrolment(input: { staffId: string; registerKeys: string }): Promise<EncryptionStatus> {
    const pending = this.#pending.get(input.staffId);
    if (pending === undefined) throw new NotEnrolledError(input.staffId);
    this.#pending.delete(input.staffId);
    const bundle = await createOpener(pending.staffKeys.privateKey, pending.staffKeys.keyId).openBytes(
      input.registerKeys,
      registerKeysAad(input.staffId, pending.registerKeyId),
    );
    let keys: RegisterKeys;
    try {
      keys = await decodeKeyBundle(bundle, pending.registerKeyId);
    } finally {
      bundle.fill(0);
    }
    const record = await createStaffRecord({ staffId: input.staffId, pin: pending.pin, staffKeys: pending.staffKeys, registerKeyId: keys.keyId, registerKeys: input.registerKeys });
    this.#db.transaction(() => {
      if (this.#required().key_id !== keys.keyId) throw new StaleReadError('register_keys', keys.keyId);
      this.#saveRecord(record, this.#ctx.clock.now());
    });
    this.#startSession(keys, input.staffId);
    await this.#afterUnlock();
    return this.encryptionStatus();
  }

  /**
   * Changes a staff member's PIN (old PIN required, attempt-limited as an unlock): new salt and a
   * new staff key pair, the same register keys. A PIN suspected stolen with a copy of the register
   * needs removal and rotation, not this (docs/adr/0032).
   */
  async changePin(input: { staffId: string; oldPin: string; newPin: string }): Promise<EncryptionStatus> {
    this.#required();
    normalisePin(input.newPin);
    const record = this.#record(input.staffId);
    if (record === undefined) throw new NotEnrolledError(input.staffId);
    const scope = `staff:${input.staffId}`;
    const changed = await this.#serialised(async () => {
      const now = this.#ctx.clock.now();
      const gate = checkPinAttempt(this.#attemptState(scope), now);
      if (!gate.allowed) throw new PinLockedOutError(gate.retryAt, gate.waitMs);
      this.#saveAttempts(scope, recordPinFailure(gate.state, now));
      const out = await cryptoChangePin(record, input.oldPin, input.newPin);
      this.#saveAttempts(scope, recordPinSuccess());
      return out;
    });
    this.#db.transaction(() => {
      const current = this.#record(input.staffId);
      if (current?.wrappedStaffKey !== record.wrappedStaffKey) throw new StaleReadError('staff_keys', input.staffId);
      this.#saveRecord(changed.record, this.#ctx.clock.now());
    });
    return this.encryptionStatus();
  }

  /**
   * Removes a staff member's access: their key record goes at once, and the register keys are
   * rotated — now when someone else has the register unlocked, else at the next unlock. After the
   * rotation their old record (in a copy taken before) opens nothing stored since.
   *
   * @returns whether the rotation ran now.
   */
  async removeStaff(staffId: string): Promise<{ rotated: boolean; status: EncryptionStatus }> {
    this.#required();
    this.#db.transaction(() => {
      this.#forget(staffId);
      this.#db.run('UPDATE register_keys SET rotation_due = 1 WHERE id = 1');
    });
    if (this.#unlockedBy === staffId) this.lock();
    if (this.#keys === null) return { rotated: false, status: this.encryptionStatus() };
    await this.#rotate();
    await this.#refreshTokens();
    return { rotated: true, status: this.encryptionStatus() };
  }

  async #rotate(): Promise<void> {
    const old = this.#unlocked('rotate');
    for (let attempt = 1; ; attempt++) {
      const snapshot = this.#sealedRows();
      const staff = this.#db.all<{ record_json: string }>('SELECT record_json FROM staff_keys ORDER BY staff_id').map((r) => parseStaffKeyRecord(JSON.parse(r.record_json)));
      const r = this.#required();
      const { deviceId } = readMeta(this.#db);
      const values: SealedValue<ValueRef>[] = snapshot.values.map((v) => ({ ref: v.ref, sealed: v.sealed, aad: v.aad }));
      const result = await rotateRegisterKeys({
        old,
        staff,
        values,
        ...(deviceId === null ? {} : { escrow: { publicKey: await importPublicKey(r.server_public_key), deviceId } }),
      });
      const now = this.#ctx.clock.now();
      try {
        this.#db.transaction(() => {
          if (this.#sealedRows().fingerprint !== snapshot.fingerprint) throw new StaleReadError('register_keys', old.keyId);
          this.#writeResealed(snapshot, result.resealed);
          for (const rec of result.staff) this.#saveRecord(rec, now);
          this.#db.run('DELETE FROM customer_tokens');
          this.#db.run('UPDATE customers SET tokens_key_id = NULL');
          this.#db.run(
            'UPDATE register_keys SET key_id = ?, public_key = ?, escrow = ?, escrow_key_id = NULL, rotation_due = 0, rotated_at = ? WHERE id = 1',
            [result.keys.keyId, result.keys.publicKeyRaw, result.escrowed ?? null, now],
          );
        });
      } catch (e) {
        if (e instanceof StaleReadError && attempt < MAX_RETRIES) continue;
        throw e;
      }
      this.#startSession(result.keys, this.#unlockedBy ?? '');
      return;
    }
  }

  /** Every value sealed to the register's key, with where it sits; and a fingerprint of the rows. */
  #sealedRows(): SealedRows {
    const values: { ref: ValueRef; sealed: string; aad: string }[] = [];
    const parts: string[] = [];
    const docs = new Map<string, ReferenceDoc>();
    for (const row of this.#db.all<{ id: string; doc_json: string }>('SELECT id, doc_json FROM customers ORDER BY id')) {
      parts.push(row.id, row.doc_json);
      const doc = parseDoc(row.doc_json);
      docs.set(row.id, doc);
      for (const [field, writes] of Object.entries(doc.fields)) {
        writes.forEach((w, i) => {
          if (typeof w.value === 'string' && isSealed(w.value)) values.push({ ref: { kind: 'doc', id: row.id, field, i }, sealed: w.value, aad: customersAad(row.id, field) });
        });
      }
    }
    const local = new Map<string, LocalWrite[]>();
    for (const row of this.#db.all<{ op_id: string; customer_id: string; writes_json: string }>('SELECT op_id, customer_id, writes_json FROM customer_local_writes ORDER BY op_id')) {
      parts.push(row.op_id, row.writes_json);
      const writes = z.array(LocalWriteSchema).parse(JSON.parse(row.writes_json));
      local.set(row.op_id, writes);
      writes.forEach((w, i) => {
        if (typeof w.value === 'string' && isSealed(w.value)) values.push({ ref: { kind: 'local', id: row.op_id, field: w.field, i, customerId: row.customer_id }, sealed: w.value, aad: customersAad(row.customer_id, w.field) });
      });
    }
    const conflicts = new Map<string, ConflictDetail>();
    for (const row of this.#db.all<{ id: string; doc_id: string; field: string; detail_json: string }>("SELECT id, doc_id, field, detail_json FROM conflicts WHERE doc_type = 'customer' ORDER BY id")) {
      parts.push(row.id, row.detail_json);
      const detail = ConflictDetailSchema.parse(JSON.parse(row.detail_json));
      conflicts.set(row.id, detail);
      for (const side of ['winner', 'loser'] as const) {
        const v = detail[side].value;
        if (typeof v === 'string' && isSealed(v)) values.push({ ref: { kind: 'conflict', id: row.id, field: row.field, side }, sealed: v, aad: customersAad(row.doc_id, row.field) });
      }
    }
    return { values, fingerprint: parts.join('\u0000'), docs, local, conflicts };
  }

  #writeResealed(snapshot: SealedRows, resealed: readonly { ref: ValueRef; sealed: string }[]): void {
    const docs = new Map([...snapshot.docs].map(([id, d]) => [id, structuredClone(d) as unknown as { fields: Record<string, { value: JsonValue }[]> }]));
    const local = new Map([...snapshot.local].map(([id, w]) => [id, structuredClone(w)]));
    const conflicts = new Map([...snapshot.conflicts].map(([id, c]) => [id, structuredClone(c)]));
    for (const { ref, sealed } of resealed) {
      if (ref.kind === 'doc') {
        const w = docs.get(ref.id)?.fields[ref.field]?.[ref.i];
        if (w !== undefined) w.value = sealed;
      } else if (ref.kind === 'local') {
        const w = local.get(ref.id)?.[ref.i];
        if (w !== undefined) w.value = sealed;
      } else {
        const c = conflicts.get(ref.id);
        if (c !== undefined) c[ref.side].value = sealed;
      }
    }
    for (const [id, doc] of docs) this.#db.run('UPDATE customers SET doc_json = ? WHERE id = ?', [JSON.stringify(doc), id]);
    for (const [id, writes] of local) this.#db.run('UPDATE customer_local_writes SET writes_json = ? WHERE op_id = ?', [JSON.stringify(writes), id]);
    for (const [id, detail] of conflicts) this.#db.run('UPDATE conflicts SET detail_json = ? WHERE id = ?', [JSON.stringify(detail), id]);
  }

  // ── customers ──

  async #openValues(id: string, doc: ReferenceDoc): Promise<Record<string, JsonValue>> {
    const opener = this.#opener;
    if (opener === null) throw new RegisterLockedError('customer');
    const out: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(docValues(doc))) {
      if (typeof value === 'string' && isSealed(value)) out[field] = JSON.parse(await opener.open(value, customersAad(id, field))) as JsonValue;
      else out[field] = value;
    }
    return out;
  }

  async #tokensFor(keys: RegisterKeys, values: Readonly<Record<string, JsonValue>>): Promise<string[]> {
    const settings = this.#db.get<{ value_json: string }>("SELECT value_json FROM settings WHERE key = 'defaultCountryCode'");
    const cc = settings === undefined ? undefined : z.string().safeParse(JSON.parse(settings.value_json)).data;
    const out: string[] = [];
    for (const [field, kind] of Object.entries(SEARCH_FIELDS)) {
      const v = values[field];
      if (typeof v === 'string' && v !== '') out.push(...(await searchTokens(keys.searchKey, v, kind, cc === undefined ? {} : { defaultCountryCode: cc })));
    }
    return out;
  }

  /** Recomputes the search tokens of customers whose doc changed without them (pulled while locked). */
  async #refreshTokens(): Promise<void> {
    const keys = this.#unlocked('refreshTokens');
    const stale = this.#db.all<{ id: string; doc_json: string }>('SELECT id, doc_json FROM customers WHERE tokens_key_id IS NULL OR tokens_key_id <> ?', [keys.keyId]);
    const computed: { id: string; doc: string; tokens: string[] }[] = [];
    for (const row of stale) {
      const doc = parseDoc(row.doc_json);
      computed.push({ id: row.id, doc: row.doc_json, tokens: isDeletedDoc(doc) ? [] : await this.#tokensFor(keys, await this.#openValues(row.id, doc)) });
    }
    if (computed.length === 0) return;
    this.#db.transaction(() => {
      for (const c of computed) {
        // Changed again meanwhile: left stale for the next refresh.
        if (this.#db.get<{ doc_json: string }>('SELECT doc_json FROM customers WHERE id = ?', [c.id])?.doc_json !== c.doc) continue;
        this.#db.run('DELETE FROM customer_tokens WHERE customer_id = ?', [c.id]);
        for (const t of new Set(c.tokens)) this.#db.run('INSERT INTO customer_tokens (token, customer_id) VALUES (?, ?)', [t, c.id]);
        this.#db.run('UPDATE customers SET tokens_key_id = ? WHERE id = ?', [keys.keyId, c.id]);
      }
    });
  }

  /** One customer, opened (unlocked only); undefined when unknown. */
  async customer(customerId: string): Promise<CustomerView | undefined> {
    this.#unlocked('customer');
    const row = this.#db.get<{ doc_json: string; deleted: number }>('SELECT doc_json, deleted FROM customers WHERE id = ?', [customerId]);
    if (row === undefined) return undefined;
    return { customerId, deleted: row.deleted === 1, values: await this.#openValues(customerId, parseDoc(row.doc_json)) };
  }

  /**
   * Customers whose name has words starting with every word of `query` (≥ 2 letters each), or whose
   * phone ends with its digits (≥ 6), or whose email is it — through keyed tokens, never cleartext
   * (unlocked only). At most `limit`, opened.
   */
  async searchCustomers(query: string, limit = 20): Promise<CustomerView[]> {
    const keys = this.#unlocked('searchCustomers');
    await this.#refreshTokens();
    const ids = new Set<string>();
    const name = await searchQueryTokens(keys.searchKey, query, 'name');
    if (name.length > 0) {
      const rows = this.#db.all<{ customer_id: string }>(
        `SELECT customer_id FROM customer_tokens WHERE token IN (SELECT value FROM json_each(?)) GROUP BY customer_id HAVING count(DISTINCT token) = ?`,
        [JSON.stringify(name), name.length],
      );
      for (const r of rows) ids.add(r.customer_id);
    }
    for (const kind of ['phone', 'email'] as const) {
      for (const t of await searchQueryTokens(keys.searchKey, query, kind)) {
        for (const r of this.#db.all<{ customer_id: string }>('SELECT customer_id FROM customer_tokens WHERE token = ?', [t])) ids.add(r.customer_id);
      }
    }
    const out: CustomerView[] = [];
    for (const id of [...ids].sort().slice(0, limit)) {
      const c = await this.customer(id);
      if (c !== undefined && !c.deleted) out.push(c);
    }
    return out;
  }

  /**
   * Creates or edits a customer on a sealing register (unlocked): opens the current values to see
   * what changed, seals each changed value for the register's table and for the op, then writes in
   * one transaction (`saveSealedCustomer`), retried if a pull changed the customer meanwhile.
   */
  async saveCustomerSealed(input: SaveCustomerInput): Promise<SaveCustomerResult> {
    const keys = this.#unlocked('saveCustomerSealed');
    const r = this.#required();
    const changes = CustomerChangesSchema.parse(input.changes);
    const serverKey = await importPublicKey(r.server_public_key);
    const customerId = input.customerId ?? this.#ctx.ids.next();
    for (let attempt = 1; ; attempt++) {
      const row = this.#db.get<{ doc_json: string }>('SELECT doc_json FROM customers WHERE id = ?', [customerId]);
      if (row === undefined && input.customerId !== undefined) throw new NotFoundError('customer', customerId);
      const doc = row === undefined ? { fields: {} } : parseDoc(row.doc_json);
      const before = await this.#openValues(customerId, doc);
      const after = { ...before, ...changes };
      const local = createSealer(keys.publicKey);
      const wire = createSealer(serverKey);
      const fields: { field: string; local: JsonValue; wire: JsonValue }[] = [];
      for (const [field, value] of Object.entries(changes)) {
        if (canonicalJson(value) === canonicalJson(before[field] ?? null)) continue;
        if (CLEAR_FIELDS.has(field)) {
          fields.push({ field, local: value, wire: value });
          continue;
        }
        const json = JSON.stringify(value);
        fields.push({ field, local: await local.seal(json, customersAad(customerId, field)), wire: await wire.seal(json, wireAad(customerId, field)) });
      }
      const tokens = after['deleted'] === true ? [] : await this.#tokensFor(keys, after);
      try {
        return saveSealedCustomer(this.#ctx, {
          customerId,
          basedOn: row?.doc_json ?? null,
          fields,
          tokens: { keyId: keys.keyId, tokens },
          staffId: input.staffId,
          ...(input.approvedBy === undefined ? {} : { approvedBy: input.approvedBy }),
        });
      } catch (e) {
        if (e instanceof StaleReadError && attempt < MAX_RETRIES) continue;
        throw e;
      }
    }
  }

  // ── sealing without a secret (works locked) ──

  /**
   * Seals the personal fields of pulled or snapshot customer docs to the register's public key,
   * before the store applies them (the sync engine's `beforeApply`). Needs no secret: works while
   * locked. Other changes pass through unchanged; a register without keys passes everything.
   */
  async sealPulled<T extends PulledChange>(changes: readonly T[]): Promise<readonly T[]> {
    const r = this.#row();
    if (r === undefined || !changes.some((c) => c.entity === 'customer')) return changes;
    const sealer = createSealer(await importPublicKey(r.public_key));
    const out: T[] = [];
    for (const c of changes) {
      const m = c.entity === 'customer' && c.op === 'upsert' ? MergeDoc.safeParse(c.data) : undefined;
      if (m?.success !== true) {
        out.push(c);
        continue;
      }
      const values: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(m.data.values)) {
        values[field] = CLEAR_FIELDS.has(field) || (typeof value === 'string' && isSealed(value)) ? value : await sealer.seal(JSON.stringify(value ?? null), customersAad(m.data.id, field));
      }
      out.push({ ...c, data: { ...m.data, values } });
    }
    return out;
  }

  /**
   * Card tenders with `approvalCode` and `providerRef` sealed to the server's key (AAD
   * `fieldAad('tenders', field, tenderId)`), for `completeSale` and `refund` on a sealing register.
   * Needs no secret. Brand and last four stay in clear (PCI DSS allows them on receipts).
   */
  async sealTenders<T extends { readonly kind: string; readonly tenderId?: string }>(tenders: readonly T[]): Promise<T[]> {
    const r = this.#required();
    const sealer = createSealer(await importPublicKey(r.server_public_key));
    const out: T[] = [];
    for (const t of tenders) {
      if (t.kind !== 'card' || t.tenderId === undefined) {
        out.push(t);
        continue;
      }
      const copy: Record<string, unknown> = { ...t };
      for (const field of ['approvalCode', 'providerRef'] as const) {
        const v = copy[field];
        if (typeof v === 'string' && !isSealed(v)) copy[field] = await sealer.seal(v, fieldAad('tenders', field, t.tenderId));
      }
      out.push(copy as T);
    }
    return out;
  }

  /** Throws {@link SealingRequiredError} when a sealing register is given card references in clear. */
  assertSealedTenders(call: string, tenders: readonly unknown[] | undefined): void {
    if (tenders === undefined || !this.isSetUp()) return;
    for (const t of tenders) {
      if (typeof t !== 'object' || t === null || (t as { kind?: unknown }).kind !== 'card') continue;
      for (const field of ['approvalCode', 'providerRef']) {
        const v = (t as Record<string, unknown>)[field];
        if (typeof v === 'string' && !isSealed(v)) throw new SealingRequiredError(`${call} with a card ${field} in clear`, 'sealTenders first');
      }
    }
  }
}

type ValueRef =
  | { readonly kind: 'doc'; readonly id: string; readonly field: string; readonly i: number }
  | { readonly kind: 'local'; readonly id: string; readonly field: string; readonly i: number; readonly customerId: string }
  | { readonly kind: 'conflict'; readonly id: string; readonly field: string; readonly side: 'winner' | 'loser' };

const LocalWriteSchema = z.object({ field: z.string(), value: z.unknown(), hlc: z.string(), base: z.string().nullable() });
type LocalWrite = z.infer<typeof LocalWriteSchema>;
interface SealedRows {
  readonly values: { ref: ValueRef; sealed: string; aad: string }[];
  readonly fingerprint: string;
  readonly docs: Map<string, ReferenceDoc>;
  readonly local: Map<string, LocalWrite[]>;
  readonly conflicts: Map<string, ConflictDetail>;
}
const ConflictDetailSchema = z.object({ winner: z.object({ value: z.unknown() }).loose(), loser: z.object({ value: z.unknown() }).loose() }).loose();
type ConflictDetail = z.infer<typeof ConflictDetailSchema>;

function parseDoc(json: string): ReferenceDoc {
  const parsed = ReferenceDocSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new CorruptRowError('customers', parsed.error.message);
  return parsed.data;
}

