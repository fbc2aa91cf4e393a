/**
 * Pull cursors: opaque to registers, self-describing to the server. A cursor names the log it
 * belongs to (epoch), the seq it covers up to, and the id of the change at that seq — so a cursor
 * from a restored or replaced database, whose seq now holds a different change or does not exist
 * yet, is recognised instead of silently skipping or repeating changes (docs/adr/0014).
 *
 * Wire form: base64url of `{"v":1,"e":<epoch>,"s":<seq>,"c":<change id or null>}`.
 */
import { z } from 'zod';
import { ApiError } from '../../http/api-error.js';
import type { LogHead } from '../change-log.js';

/** Where a register stands in an organisation's change log. */
export interface CursorPosition {
  /** The log's epoch (change_log_heads.epoch). */
  readonly epoch: string;
  /** Every change with seq ≤ this is covered. */
  readonly seq: number;
  /** Id of the change at `seq`; null only at seq 0 (before the first change). */
  readonly changeId: string | null;
}

const MAX_CURSOR_LENGTH = 512;
const ID = z.string().regex(/^[0-9a-f-]{36}$/);
const CursorJsonSchema = z.strictObject({
  v: z.literal(1),
  e: ID,
  s: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  c: ID.nullable(),
});

/** The wire form of a cursor, as every route schema declares it. */
export const CursorStringSchema = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from a previous pull or snapshot')
  .describe('opaque cursor returned by a previous pull or snapshot');

/** Encodes a position as its opaque wire form (deterministic: the same position, the same string). */
export function encodeCursor(pos: CursorPosition): string {
  return Buffer.from(JSON.stringify({ v: 1, e: pos.epoch, s: pos.seq, c: pos.changeId }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor, or throws the 400 `invalid_cursor` a garbled one deserves.
 *
 * @example
 * ```ts
 * decodeCursor(encodeCursor({ epoch, seq: 7, changeId })); // { epoch, seq: 7, changeId }
 * ```
 */
export function decodeCursor(text: string): CursorPosition {
  const invalid = (): ApiError => new ApiError(400, 'invalid_cursor', 'the cursor is not one this server issued');
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = CursorJsonSchema.safeParse(json);
  if (!parsed.success || (parsed.data.s === 0) !== (parsed.data.c === null)) throw invalid();
  return { epoch: parsed.data.e, seq: parsed.data.s, changeId: parsed.data.c };
}

/** Why a cursor cannot be followed; the register must bootstrap again from the snapshot. */
export type ResyncReason = 'other_log' | 'ahead_of_log' | 'pruned' | 'unknown_change';

const RESYNC_MESSAGES: Readonly<Record<ResyncReason, string>> = {
  other_log: 'the cursor belongs to another change log (the server database was replaced or restored)',
  ahead_of_log: 'the cursor is ahead of the change log (the server database was restored from a backup)',
  pruned: 'the cursor is older than the pruned horizon of the change log',
  unknown_change: 'the change log holds a different change at the cursor (the server database was restored from a backup)',
};

/** The 410 `resync_required` answer: bootstrap again from `GET /api/v1/sync/snapshot`. */
export function resyncRequired(reason: ResyncReason): ApiError {
  return new ApiError(410, 'resync_required', `${RESYNC_MESSAGES[reason]}; bootstrap again from /api/v1/sync/snapshot`, { reason });
}

/**
 * The checks that need only the log's head: same epoch, not ahead of the head, not behind the
 * horizon, and at the horizon itself the change id recorded when pruning. A cursor beyond the
 * horizon must also match the stored change at its seq, which the caller checks.
 *
 * @throws ApiError 410 `resync_required` with `details.reason`.
 */
export function checkAgainstHead(pos: CursorPosition, head: LogHead): void {
  if (pos.epoch !== head.epoch) throw resyncRequired('other_log');
  if (pos.seq > head.head) throw resyncRequired('ahead_of_log');
  if (pos.seq < head.horizon) throw resyncRequired('pruned');
  if (pos.seq === head.horizon && pos.changeId !== head.horizonChangeId) throw resyncRequired('unknown_change');
}
