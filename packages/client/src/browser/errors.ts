/**
 * Errors of the browser-only guarantees: one tab owns the register's database, and a paired
 * register whose database went missing says so instead of starting empty. Each extends core's
 * `KassaError`, so the UI branches on `code` as for every other error.
 */
import { KassaError } from '@kassa/core';

/**
 * Why a paired register's database is not the one it had:
 * - `missing`: the database is there but empty (never paired): its files were deleted, or the
 *   browser evicted the origin's OPFS while the pairing marker survived elsewhere;
 * - `unreadable`: the database could not be opened or read (corrupt file, not a database);
 * - `other_register`: the database belongs to another device id than the one this tab paired;
 * - `rolled_back`: the database holds fewer ops than this register had already committed (an
 *   older copy was put back); the ops after it exist nowhere else if they were not synced.
 */
export type DatabaseLossReason = 'missing' | 'unreadable' | 'other_register' | 'rolled_back';

/** What the pairing marker knew of the register when its database turned out missing. */
export interface LostRegister {
  readonly deviceId: string;
  readonly storeId: string;
  readonly storeCode: string;
  readonly registerCode: string;
  /** The highest op seq this register is known to have committed (a lower bound). */
  readonly lastSeq: number;
  /** The last receipt number known to have been issued, or null before the first. */
  readonly lastReceiptNo: string | null;
  readonly pairedAt: number;
}

/**
 * A register that was paired finds its database missing or unreadable. The register must not
 * sell on an empty database as if it were new: its seq and receipt numbers would repeat, and
 * whatever it had not synced would vanish without a word. The UI shows this error as it is
 * (register code, last seq) and leads to re-pairing as the same register, which resumes numbering
 * from the server (issue 7).
 */
export class DatabaseLostError extends KassaError {
  readonly code = 'database_lost';
  readonly deviceId: string;
  readonly storeCode: string;
  readonly registerCode: string;
  readonly lastSeq: number;
  readonly lastReceiptNo: string | null;
  readonly pairedAt: number;
  constructor(
    readonly reason: DatabaseLossReason,
    register: LostRegister,
    readonly detail: string,
  ) {
    super(
      `register ${register.storeCode}-${register.registerCode} was paired, but its database is ${reason.replace('_', ' ')}: ` +
        `it had ops up to seq ${String(register.lastSeq)}${register.lastReceiptNo === null ? '' : ` and receipts up to ${register.lastReceiptNo}`}; ` +
        `it will not start empty (${detail})`,
    );
    this.deviceId = register.deviceId;
    this.storeCode = register.storeCode;
    this.registerCode = register.registerCode;
    this.lastSeq = register.lastSeq;
    this.lastReceiptNo = register.lastReceiptNo;
    this.pairedAt = register.pairedAt;
  }
}

/** A call reached the store of a tab that no longer owns the register's database. */
export class NotOwnerError extends KassaError {
  readonly code = 'not_owner';
  constructor(readonly tabId: string) {
    super('the register is open in another tab: only the tab that owns its database can use it');
  }
}

/** `takeOver()` got no handoff from the owning tab in time (it is busy, hung, or just went away). */
export class TakeOverTimeoutError extends KassaError {
  readonly code = 'take_over_timeout';
  constructor(readonly waitedMs: number) {
    super(`the tab that owns the register did not hand it over within ${String(waitedMs)} ms`);
  }
}

/** The register's database could not be opened for a reason other than a lost database. */
export class DatabaseOpenError extends KassaError {
  readonly code = 'database_open_failed';
  constructor(readonly detail: string) {
    super(`the register's database could not be opened: ${detail}`);
  }
}
