/**
 * Pull cursors: opaque to registers, self-describing to the server. A cursor names the log it
 * belongs to (epoch), the seq it covers up to, and the id of the change at that seq — so a cursor
 * from a restored or replaced database, whose seq now holds a different change or does not exist
 * yet, is recognised instead of silently skipping or repeating changes (docs/adr/0014).
 *
 * Wire form (v2, 52 characters): base64url of the bytes
 *
 * ```
 *   0x02 | epoch (16, the UUID's bytes) | change id at seq (16; absent at seq 0) | seq (1–7, big-endian, no leading zero byte but for 0)
 * ```
 *
 * A cursor is on the wire in every pull, so it is kept short (docs/adr/0017). Cursors issued before
 * (v1, base64url of `{"v":1,"e":<epoch>,"s":<seq>,"c":<change id or null>}`) are still read, so a
 * register holding one follows on without a new bootstrap; ids that are not UUIDs (never issued, but)
 * are written as v1.
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

/** First byte of a v2 cursor (a v1 cursor's is `{`). */
const V2 = 0x02;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuidBytes = (id: string): Buffer => Buffer.from(id.replaceAll('-', ''), 'hex');
const uuidText = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The seq's big-endian bytes, none of them a leading zero (one zero byte for 0). */
function seqBytes(seq: number): number[] {
  const out: number[] = [];
  for (let n = seq; n > 0; n = Math.floor(n / 256)) out.unshift(n % 256);
  return out.length === 0 ? [0] : out;
}

function decodeV2(bytes: Buffer): CursorPosition | undefined {
  // 1 + 16 (+ 16 change id) + 1..7 seq bytes: without a change id 18..24 bytes, with one 34..40.
  const withId = bytes.length >= 34;
  const seqAt = withId ? 33 : 17;
  const seqLength = bytes.length - seqAt;
  if (seqLength < 1 || seqLength > 7) return undefined;
  let seq = 0;
  for (const b of bytes.subarray(seqAt)) seq = seq * 256 + b;
  if (seq > Number.MAX_SAFE_INTEGER || (seq === 0) === withId) return undefined;
  return { epoch: uuidText(bytes.subarray(1, 17)), seq, changeId: withId ? uuidText(bytes.subarray(17, 33)) : null };
}

/** Encodes a position as its opaque wire form (deterministic: the same position, the same string). */
export function encodeCursor(pos: CursorPosition): string {
  const compact =
    UUID.test(pos.epoch) && (pos.changeId === null ? pos.seq === 0 : UUID.test(pos.changeId) && pos.seq > 0) && Number.isSafeInteger(pos.seq) && pos.seq >= 0;
  if (!compact) return Buffer.from(JSON.stringify({ v: 1, e: pos.epoch, s: pos.seq, c: pos.changeId }), 'utf8').toString('base64url');
  const parts = [Buffer.from([V2]), uuidBytes(pos.epoch), ...(pos.changeId === null ? [] : [uuidBytes(pos.changeId)]), Buffer.from(seqBytes(pos.seq))];
  return Buffer.concat(parts).toString('base64url');
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
  const bytes = Buffer.from(text, 'base64url');
  if (bytes[0] === V2) {
    const pos = decodeV2(bytes);
    // Exactly the text this server writes for the position: no stray bits, no padded seq.
    if (pos === undefined || encodeCursor(pos) !== text) throw invalid();
    return pos;
  }
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
