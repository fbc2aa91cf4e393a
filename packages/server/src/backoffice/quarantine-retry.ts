/**
 * Retrying a quarantined op after a fix (DESIGN §3): the stored op, exactly as the register sent
 * it, is judged again by the push's own judge (`sync/push/op-judge.ts`: HLC receive and clamp,
 * roles and store limits at the op's time) and applied through the push side's own appliers —
 * `FactBatch` for facts, `applyReferenceOp` for reference edits — so a retried op is judged and has
 * the same effects (facts, stock, alerts, change log) as one that was never quarantined.
 *
 * ```
 *   stored op ─► parse ─── fails ─────────────────────────────► still quarantined (invalid, …)
 *                  │
 *                  ├─ names another register/store ───────────► still quarantined (forged)
 *                  ├─ its id already applied (another op) ────► still quarantined (duplicate_id)
 *                  ├─ HLC received (clamped when far ahead)
 *                  ├─ roles and limits at the op's time ─ denied ► still quarantined (forbidden)
 *                  ├─ sealed personal fields do not open ─────► still quarantined (invalid)
 *                  │    (optionally with a manager's approval from the back office)
 *                  └─ apply; its seq's journal row becomes `applied` ─► retried
 * ```
 *
 * What it does not do again: take a seq (the op holds its seq since it was quarantined, so nothing
 * behind it was blocked) and follow the receipt chain (receipt ops are checked against the chain
 * when they arrive, quarantined or not).
 *
 * The "fix" is whatever made the op acceptable: a correction of the role history (a staff member
 * who was a manager but entered as a cashier), a server upgrade that reads a newer op, or a
 * manager's approval given now (`approve`), which the permission check counts like an `approvedBy`
 * given at the till — with the approving user's role — and which is recorded in the audit log.
 */
import type { Selectable, Transaction } from 'kysely';
import { isFactOp, parseOp } from '@kassa/core';
import type { Clock, ReferenceOp, Role } from '@kassa/core';
import type { Database, QuarantineTable } from '../db/schema.js';
import { openPersonalFields } from '../keys/open-fields.js';
import { FactBatch } from '../sync/apply/apply-fact.js';
import { isPostgres, lockServerHlc, saveServerHlc } from '../sync/apply/server-hlc.js';
import { appendChanges } from '../sync/change-log.js';
import { applyReferenceOp } from '../sync/push/apply-reference-op.js';
import { denialMessage, OpJudge } from '../sync/push/op-judge.js';
import type { PermissionDenial } from '../sync/push/op-permissions.js';

/** What a retry found. */
export type RetryOutcome =
  | { readonly status: 'applied'; readonly opType: string; readonly clamped: boolean; readonly approvedBy: string | null; readonly message: string }
  | {
      readonly status: 'still_quarantined';
      readonly reason: 'unreadable' | 'unknown_version' | 'unsupported_version' | 'invalid' | 'forged' | 'duplicate_id' | 'forbidden';
      readonly message: string;
      readonly denial?: PermissionDenial;
    };

/** A back-office user who approves the op now. */
export interface RetryApprover {
  readonly userId: string;
  readonly role: Role;
}

/** What {@link retryQuarantinedOp} needs. */
export interface RetryInput {
  readonly orgId: string;
  /** The quarantine row, open. */
  readonly row: Selectable<QuarantineTable>;
  readonly clock: Clock;
  readonly approver?: RetryApprover | undefined;
  readonly maxDriftMs?: number;
}

/** The result: the outcome, and whether anything reached the change log (publish after commit). */
export interface RetryResult {
  readonly outcome: RetryOutcome;
  readonly logged: boolean;
}

const still = (reason: Extract<RetryOutcome, { status: 'still_quarantined' }>['reason'], message: string, denial?: PermissionDenial): RetryResult => ({
  outcome: { status: 'still_quarantined', reason, message, ...(denial === undefined ? {} : { denial }) },
  logged: false,
});

/**
 * Judges the quarantined op of `input.row` again and applies it when it passes, inside the
 * caller's transaction (see the file comment). The caller marks the quarantine row and audits.
 *
 * @example
 * ```ts
 * const { outcome, logged } = await db.transaction().execute((trx) => retryQuarantinedOp(trx, { orgId, row, clock }));
 * if (logged) await changeFeed.publish(orgId);
 * ```
 */
export async function retryQuarantinedOp(trx: Transaction<Database>, input: RetryInput): Promise<RetryResult> {
  const { orgId, row, clock } = input;
  const parsed = parseOp(JSON.parse(row.op_json));
  if (!parsed.ok) {
    const message = parsed.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(op)'}: ${i.message}`)
      .join('; ');
    return still(parsed.head === null || row.seq === null ? 'unreadable' : parsed.kind, message || 'the op cannot be read');
  }
  const op = parsed.op;
  if (op.deviceId !== row.register_id || op.storeId !== row.store_id || row.seq === null) {
    return still('forged', 'the op names another register or store than the one that pushed it');
  }
  const seq = row.seq;

  // Lock order, as a push takes it: register row → server HLC row → change-log head.
  let q = trx.selectFrom('registers').select('created_at').where('org_id', '=', orgId).where('id', '=', row.register_id);
  if (isPostgres(trx)) q = q.forUpdate();
  const register = await q.executeTakeFirstOrThrow();
  const now = clock.now();
  const serverHlc = await lockServerHlc(trx, orgId, now);

  const applied = await trx.selectFrom('facts').select('id').where('org_id', '=', orgId).where('id', '=', op.id).executeTakeFirst();
  const taken = await trx.selectFrom('sync_ops').select('seq').where('org_id', '=', orgId).where('op_id', '=', op.id).where('status', '=', 'applied').executeTakeFirst();
  if (applied !== undefined || taken !== undefined) return still('duplicate_id', `op id ${op.id} is already applied (another op under that id)`);

  // The push's own checks: HLC receive (clamped beyond the skew bound), roles and limits at the op's time.
  const judge = new OpJudge(
    trx,
    { orgId, storeId: row.store_id, registerId: row.register_id, createdAt: register.created_at },
    { hlc: serverHlc, now, maxDriftMs: input.maxDriftMs, clockAlerts: false },
  );
  const { op: stamped, clamped } = await judge.stamp(op);
  await saveServerHlc(trx, orgId, judge.hlc, now);
  const approver = input.approver;
  const denial = await judge.permissions(stamped, approver === undefined ? undefined : { userId: approver.userId, role: approver.role });
  if (denial !== undefined) return still('forbidden', denialMessage(denial), denial);
  // Sealed personal fields are opened as the push opens them (keys/).
  const personal = await openPersonalFields(trx, orgId, stamped, now);
  if (!personal.ok) return still('invalid', personal.message);

  let logged: boolean;
  if (isFactOp(stamped)) {
    const batch = new FactBatch(trx, orgId, row.register_id, now);
    const changes = await batch.add(stamped, seq, op.hlc);
    await batch.flush();
    await appendChanges(trx, orgId, changes, { clock });
    logged = changes.length > 0;
  } else {
    logged = await applyReferenceOp(trx, { orgId, storeId: row.store_id, registerId: row.register_id }, stamped as ReferenceOp, clock);
  }
  await trx
    .updateTable('sync_ops')
    .set({ status: 'applied', op_type: stamped.type })
    .where('org_id', '=', orgId)
    .where('register_id', '=', row.register_id)
    .where('seq', '=', seq)
    .execute();
  return {
    outcome: {
      status: 'applied',
      opType: stamped.type,
      clamped,
      approvedBy: approver?.userId ?? null,
      message: approver === undefined ? 'applied' : 'applied with the approval given in the back office',
    },
    logged,
  };
}
