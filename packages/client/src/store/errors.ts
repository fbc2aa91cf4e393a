/**
 * Errors of the register's local store. Each extends core's `KassaError`, so the UI branches on
 * `code` the same way for domain errors (`InsufficientTenderError`) and storage errors.
 */
import { KassaError } from '@kassa/core';

/**
 * The device ran out of storage (SQLite's `SQLITE_FULL`, or the browser's `QuotaExceededError`
 * under OPFS). The transaction was rolled back: nothing of the command was written. The UI says
 * the register is full and that synced history can be pruned or storage freed.
 */
export class StorageFullError extends KassaError {
  readonly code = 'storage_full';
  constructor(readonly detail: string) {
    super(`the register's storage is full; nothing was written (${detail})`);
  }
}

/** A command ran before the register was paired (no device id, store or register code yet). */
export class RegisterNotPairedError extends KassaError {
  readonly code = 'register_not_paired';
  constructor() {
    super('the register is not paired with a store yet');
  }
}

/** A command that needs an open shift ran with none open. */
export class NoOpenShiftError extends KassaError {
  readonly code = 'no_open_shift';
  constructor() {
    super('no shift is open on this register');
  }
}

/** A shift was opened while another is still open. */
export class ShiftAlreadyOpenError extends KassaError {
  readonly code = 'shift_already_open';
  constructor(readonly shiftId: string) {
    super(`shift ${shiftId} is still open`);
  }
}

/** A row the command needs is not in the local store. */
export class NotFoundError extends KassaError {
  readonly code = 'not_found';
  constructor(
    readonly entity: 'product' | 'variant' | 'order' | 'staff' | 'customer' | 'shift' | 'tax_rate',
    readonly id: string,
  ) {
    super(`no ${entity} ${id} in the register's store`);
  }
}

/** A sale whose status does not allow the action (voiding a refunded sale, refunding a voided one). */
export class OrderStatusError extends KassaError {
  readonly code = 'order_status';
  constructor(
    readonly orderId: string,
    readonly status: string,
    readonly action: 'void' | 'refund',
  ) {
    super(`sale ${orderId} is ${status}: it cannot be ${action === 'void' ? 'voided' : 'refunded'}`);
  }
}

/**
 * The op a command built does not pass core's `OpSchema`. This is a bug in the command (or bad
 * input that slipped past core's checks); nothing was written.
 */
export class InvalidOpError extends KassaError {
  readonly code = 'invalid_op';
  constructor(
    readonly opType: string,
    readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  ) {
    super(`the ${opType} op is invalid: ${issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`);
  }
}

/** A row read back from the store does not have the shape the code expects: a bug or corruption. */
export class CorruptRowError extends KassaError {
  readonly code = 'corrupt_row';
  constructor(
    readonly table: string,
    readonly reason: string,
  ) {
    super(`a row of ${table} is unreadable: ${reason}`);
  }
}

/** The database's schema is newer than this code knows (the app was downgraded). */
export class SchemaTooNewError extends KassaError {
  readonly code = 'schema_too_new';
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`the register's database is at schema version ${found}; this app knows up to ${known}`);
  }
}

/** Thrown by the fault hook in tests: a crash at a named step of a command. */
export class InjectedFaultError extends KassaError {
  readonly code = 'injected_fault';
  constructor(readonly step: string) {
    super(`injected fault at step ${step}`);
  }
}

/** SQLite's primary result code for a full database or disk. */
export const SQLITE_FULL = 13;

/** The store settings have not been received yet: a register cannot price a sale without them. */
export class SettingsMissingError extends KassaError {
  readonly code = 'settings_missing';
  constructor() {
    super("the store's settings have not been received yet");
  }
}

/**
 * Something the store relies on did not hold (a nested transaction, a seq taken under our feet, a
 * pragma refused). Always a bug or a misuse, never the user's doing.
 */
export class StoreInvariantError extends KassaError {
  readonly code = 'store_invariant';
  constructor(readonly reason: string) {
    super(`store invariant broken: ${reason}`);
  }
}

/** A call reached a store that is closed (or not opened yet). */
export class StoreClosedError extends KassaError {
  readonly code = 'store_closed';
  constructor() {
    super('the store is not open');
  }
}

/**
 * A call that would store or send personal data in clear on a register whose personal data is
 * sealed (docs/adr/0032): nothing was written. `use` names the call that seals.
 */
export class SealingRequiredError extends KassaError {
  readonly code = 'sealing_required';
  constructor(
    readonly call: string,
    readonly use: string,
  ) {
    super(`this register seals personal data: ${call} would store it in clear; use ${use}`);
  }
}

/** A row changed between the read an asynchronous step was based on and its transaction. */
export class StaleReadError extends KassaError {
  readonly code = 'stale_read';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} changed while the edit was being prepared`);
  }
}
