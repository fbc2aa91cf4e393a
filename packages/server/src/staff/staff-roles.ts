/**
 * Which role a staff member held when: the server checks an op's permissions against the role its
 * author had at the op's time (DESIGN §4), not today's — a cashier promoted this morning still sold
 * yesterday as a cashier, and a manager demoted today still approved yesterday's refund as a manager.
 *
 * `staff_role_history` holds one row per change: the role is in force from `effective_from` until
 * the next row's. Two changes in the same millisecond keep the later one.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, StaffRole } from '../db/schema.js';

/**
 * The role `staffId` of `orgId` held at `atMs` (ms since the epoch), or undefined when the staff
 * member is unknown to the organisation or had no role yet then (an op stamped before the person
 * existed: a clock far off, or a forgery — the caller decides).
 *
 * @example
 * ```ts
 * const role = await staffRoleAt(db, orgId, op.staffId, op.deviceTime);
 * if (role === undefined) quarantine(op, 'unknown_staff');
 * ```
 */
export async function staffRoleAt(db: Kysely<Database> | Transaction<Database>, orgId: string, staffId: string, atMs: number): Promise<StaffRole | undefined> {
  const row = await db
    .selectFrom('staff_role_history')
    .select('role')
    .where('org_id', '=', orgId)
    .where('staff_id', '=', staffId)
    .where('effective_from', '<=', atMs)
    .orderBy('effective_from', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.role;
}

/**
 * Records that `staffId` holds `role` from `effectiveFrom` on. Call it in the transaction that
 * creates the staff member or changes their role.
 */
export async function recordStaffRole(
  db: Kysely<Database> | Transaction<Database>,
  entry: { orgId: string; staffId: string; role: StaffRole; effectiveFrom: number },
): Promise<void> {
  await db
    .insertInto('staff_role_history')
    .values({ org_id: entry.orgId, staff_id: entry.staffId, role: entry.role, effective_from: entry.effectiveFrom })
    .onConflict((oc) => oc.columns(['org_id', 'staff_id', 'effective_from']).doUpdateSet({ role: entry.role }))
    .execute();
}
