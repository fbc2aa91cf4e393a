/**
 * A TEST-ONLY seam that turns exactly-once off, so the proof harness (`tools/sim`) can show that its
 * checker reports duplicates when the server really holds some (issue 8: "a checker that cannot
 * fail proves nothing"). Never on in production: `KASSA_TEST_DEDUPE_OFF=1` is honoured only with
 * `NODE_ENV=test`, and the server refuses to start when it is set without it.
 *
 * With the seam on, an op the push answered `duplicate` (a re-delivery: a lost ack re-sent, a
 * request the network duplicated) is applied once more as if it were new, the way a server without
 * the (register, seq) and op-id checks would count it. The database's own keys (fact id, order id,
 * refund id, movement ids) would fold the copy, so the copy gets fresh ones: a re-delivered sale is
 * one more sale with the same receipt number, its stock moved and its total counted again; a
 * refund likewise. The register is answered `applied`.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isFactOp, parseOp } from '@kassa/core';
import type { Clock, FactOp } from '@kassa/core';
import type { DeviceIdentity } from '../../auth/device-auth.js';
import type { Database } from '../../db/schema.js';
import { FactBatch } from '../apply/apply-fact.js';
import { appendChanges } from '../change-log.js';
import type { PushResponse } from './push-schemas.js';

/** The variable that turns the seam on, and the only environment in which it is honoured. */
export const DEDUPE_OFF_VARIABLE = 'KASSA_TEST_DEDUPE_OFF';

/**
 * Whether the seam is on for this process's environment.
 *
 * @throws Error when the variable is set outside `NODE_ENV=test`, so a production server never
 *   starts with exactly-once turned off.
 */
export function dedupeOffFromEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env[DEDUPE_OFF_VARIABLE];
  if (value === undefined || value === '' || value === '0') return false;
  if (value !== '1') throw new Error(`${DEDUPE_OFF_VARIABLE} must be 1 or unset (got ${JSON.stringify(value)})`);
  if (env['NODE_ENV'] !== 'test') throw new Error(`${DEDUPE_OFF_VARIABLE} is a test-only seam that turns exactly-once off; it is honoured only with NODE_ENV=test`);
  return true;
}

/** A copy of a fact op under fresh ids, so the database's keys do not fold it. */
function freshCopy(op: FactOp): FactOp {
  const id = randomUUID();
  if (op.type === 'sale.completed') return { ...op, id, payload: { ...op.payload, orderId: randomUUID() } };
  if (op.type === 'refund.completed') return { ...op, id, payload: { ...op.payload, refundId: randomUUID() } };
  return { ...op, id };
}

/**
 * Applies once more, in its own transaction, every fact op of `ops` that `response` answered
 * `duplicate`, and answers it `applied`. Returns the answer and how many changes were appended.
 */
export async function applyDuplicatesAgain(
  db: Kysely<Database>,
  clock: Clock,
  device: DeviceIdentity,
  ops: readonly unknown[],
  response: PushResponse,
): Promise<{ response: PushResponse; changesAppended: number }> {
  const again = response.results.flatMap((r, i) => {
    if (r.status !== 'duplicate') return [];
    const parsed = parseOp(ops[i]);
    return parsed.ok && isFactOp(parsed.op) ? [{ index: i, op: parsed.op }] : [];
  });
  if (again.length === 0) return { response, changesAppended: 0 };
  const changesAppended = await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const batch = new FactBatch(trx, device.orgId, device.registerId, now);
    const changes = [];
    for (const { op } of again) changes.push(...(await batch.add(freshCopy(op), op.seq, op.hlc)));
    await batch.flush();
    await appendChanges(trx, device.orgId, changes, { clock });
    return changes.length;
  });
  const indexes = new Set(again.map((a) => a.index));
  return { response: { ...response, results: response.results.map((r, i) => (indexes.has(i) ? { ...r, status: 'applied' as const } : r)) }, changesAppended };
}
