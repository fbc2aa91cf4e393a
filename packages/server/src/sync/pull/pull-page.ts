/**
 * One page of `GET /api/v1/sync/pull`: the changes after a cursor that a register may see.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { changeIdAt, ensureLog, readChanges, readLogHead } from '../change-log.js';
import type { Change } from '../change-log.js';
import { checkAgainstHead, resyncRequired } from './cursor.js';
import type { CursorPosition } from './cursor.js';

/** Whose view of the log: organisation-wide changes plus the changes of one store. */
export interface PullScope {
  readonly orgId: string;
  readonly storeId: string;
}

/** A page of changes and the cursor that follows it. */
export interface PullPage {
  readonly changes: Change[];
  /** Covers every change up to the last one scanned (which may be another store's, never shown). */
  readonly cursor: CursorPosition;
  /** More changes visible to the scope are already in the log: pull again at once. */
  readonly hasMore: boolean;
}

/**
 * Reads the changes after `since` visible to `scope`, at most `limit` of them.
 *
 * Consistency without a transaction (so SQLite never takes its write lock for a read): the head is
 * read first, and only changes up to it are read. Every change ≤ head has committed (seq order is
 * commit order, see change-log.ts), so nothing below the head can still appear. Pruning could race
 * with the read, so the horizon is checked again afterwards: if it moved past the cursor the rows
 * may be incomplete and the answer is 410, never a page with a hole.
 *
 * @throws ApiError 410 `resync_required` when the cursor cannot be followed.
 */
export async function readPullPage(db: Kysely<Database>, scope: PullScope, since: CursorPosition, limit: number): Promise<PullPage> {
  const head = (await readLogHead(db, scope.orgId)) ?? (await ensureLog(db, scope.orgId));
  checkAgainstHead(since, head);
  if (since.seq > head.horizon && (await changeIdAt(db, scope.orgId, since.seq)) !== since.changeId) {
    throw resyncRequired('unknown_change');
  }

  const rows = await readChanges(db, scope.orgId, { after: since.seq, upTo: head.head, storeId: scope.storeId, limit: limit + 1 });
  const hasMore = rows.length > limit;
  const changes = hasMore ? rows.slice(0, limit) : rows;
  const last = changes.at(-1);

  let cursor: CursorPosition;
  if (hasMore && last) cursor = { epoch: head.epoch, seq: last.seq, changeId: last.id };
  else if (head.head === since.seq) cursor = since;
  else if (last?.seq === head.head) cursor = { epoch: head.epoch, seq: last.seq, changeId: last.id };
  else {
    // The newest change is another store's: cover it anyway, so the next pull starts after it.
    const id = await changeIdAt(db, scope.orgId, head.head);
    // Gone only if pruning just passed it, and then it also passed the cursor.
    if (id === undefined) throw resyncRequired('pruned');
    cursor = { epoch: head.epoch, seq: head.head, changeId: id };
  }

  const after = await readLogHead(db, scope.orgId);
  if (!after || after.epoch !== head.epoch) throw resyncRequired('other_log');
  if (after.horizon > since.seq) throw resyncRequired('pruned');
  return { changes, cursor, hasMore };
}
