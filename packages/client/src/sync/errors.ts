/**
 * Errors of the sync engine. Each extends core's `KassaError` so the UI branches on `code` as it
 * does for the store's and the domain's errors. HTTP answers become one of these in one place
 * (`sync-api.ts`); the loops decide by class, never by parsing messages.
 */
import { KassaError } from '@kassa/core';

/** The request never got an answer: offline, refused, reset, timed out, or the response was lost. */
export class SyncNetworkError extends KassaError {
  readonly code = 'sync_network';
  constructor(readonly detail: string) {
    super(`the server could not be reached: ${detail}`);
  }
}

/**
 * The server answered with an error status. `retryAfterMs` is the `Retry-After` it asked for (429
 * and 503), `errorCode` its `error` field.
 */
export class SyncHttpError extends KassaError {
  readonly code: string = 'sync_http';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly detail: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`the server answered ${status} ${errorCode}: ${detail}`);
  }
}

/**
 * 401: this register's token no longer works — `register_revoked`, or `invalid_token` once the
 * register code was paired again elsewhere. Sync stops and the register locks (a manager can still
 * export what it has not synced); `errorCode` says which.
 */
export class RegisterRevokedError extends SyncHttpError {
  override readonly code = 'register_revoked';
  constructor(detail: string, errorCode = 'register_revoked') {
    super(401, errorCode, detail, undefined);
  }
}

/** 410 `resync_required`: the pull cursor cannot be followed; bootstrap again from the snapshot. */
export class ResyncRequiredError extends SyncHttpError {
  override readonly code = 'resync_required';
  constructor(
    detail: string,
    readonly reason: string | undefined,
  ) {
    super(410, 'resync_required', detail, undefined);
  }
}

/** An answer whose body is not the shape the API promises (a proxy's page, a server bug). */
export class SyncProtocolError extends KassaError {
  readonly code = 'sync_protocol';
  constructor(
    readonly what: string,
    readonly detail: string,
  ) {
    super(`unexpected answer to ${what}: ${detail}`);
  }
}

/** Another engine already syncs this database (one owner per database file or origin). */
export class NotSyncOwnerError extends KassaError {
  readonly code = 'not_sync_owner';
  constructor(readonly database: string) {
    super(`another sync engine owns ${database}`);
  }
}

/** The pull cursor moved under a page being applied (another writer applied it first). */
export class CursorMovedError extends KassaError {
  readonly code = 'cursor_moved';
  constructor(
    readonly expected: string | null,
    readonly found: string | null,
  ) {
    super('the pull cursor moved while a page was being applied; the page was not applied');
  }
}

/** An export document that is not one `exportUnsynced` wrote, or belongs to another register. */
export class InvalidExportError extends KassaError {
  readonly code = 'invalid_export';
  constructor(readonly reason: string) {
    super(`the unsynced export cannot be imported: ${reason}`);
  }
}

/**
 * Importing would give a seq to two different ops (the register already made ops under the
 * seqs the export needs) or leave a gap; nothing was imported.
 */
export class ImportConflictError extends KassaError {
  readonly code = 'import_conflict';
  constructor(
    readonly seq: number,
    readonly reason: string,
  ) {
    super(`cannot import the op at seq ${seq}: ${reason}`);
  }
}

/** Recovery paired another register than the one that was lost (a code of another store or register): nothing was written. */
export class RecoveryMismatchError extends KassaError {
  readonly code = 'recovery_mismatch';
  constructor(
    readonly expected: string,
    readonly got: string,
  ) {
    super(`recovery must pair the lost register ${expected} again, but the server paired ${got}; use a pairing code of the register's own store`);
  }
}
