/**
 * The audit log of sensitive actions (DESIGN §4): who did what to what, when. Written in the same
 * transaction as the action it records, so an action and its audit row exist together or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/** Who acted: a back-office user, a register (device token), a staff member, or the server itself. */
export type AuditActorType = 'user' | 'register' | 'staff' | 'system';

/** The actions recorded. Names are `<area>.<event>`, stable: the back office filters by them. */
export type AuditAction =
  | 'auth.login_succeeded'
  | 'auth.login_failed'
  | 'auth.logged_out'
  | 'register.pairing_code_created'
  | 'register.paired'
  | 'register.repaired'
  | 'register.revoked'
  | 'staff.created'
  | 'staff.updated'
  | 'staff.role_changed'
  | 'staff.pin_changed'
  // back office (backoffice/)
  | 'catalog.created'
  | 'catalog.updated'
  | 'catalog.deleted'
  | 'store.updated'
  | 'alert.acknowledged'
  | 'alert.resolved'
  | 'conflict.resolved'
  | 'quarantine.dismissed'
  | 'quarantine.retried'
  | 'stock.adjusted'
  | 'stock.received'
  // keys for personal data (keys/)
  | 'keys.escrowed'
  | 'keys.escrow_released';

/** What an action was done to. */
export interface AuditTarget {
  readonly kind: 'user' | 'register' | 'pairing_code' | 'staff' | 'session' | 'product' | 'variant' | 'category' | 'tax_rate' | 'store' | 'alert' | 'conflict' | 'quarantine' | 'fact';
  readonly id: string;
}

/** One audit entry to write. */
export interface AuditEntry {
  readonly orgId: string;
  /** The store the action concerns, when it concerns one. */
  readonly storeId?: string | null;
  readonly actorType: AuditActorType;
  readonly actorId: string | null;
  readonly action: AuditAction;
  readonly target?: AuditTarget | null;
  /**
   * Facts that explain the action (the client address, the old and new role…). Never a secret:
   * no password, PIN, token, code or verifier — {@link audit} refuses keys that look like one.
   */
  readonly details?: Readonly<Record<string, unknown>>;
  /** When it happened (the injected clock's now). */
  readonly at: number;
}

const SECRET_KEY = /pin|password|token|secret|code$|verifier|hash/i;

/** A details object held a key that looks like a secret: a bug in the caller, never logged. */
export class AuditSecretError extends Error {
  override readonly name = 'AuditSecretError';
  constructor(readonly key: string) {
    super(`audit details must not hold secrets (key "${key}")`);
  }
}

/**
 * Writes one audit row and returns its id. Call it with the transaction of the action.
 *
 * @example
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('registers').set({ revoked: 1 }).where('id', '=', id).execute();
 *   await audit(trx, { orgId, storeId, actorType: 'user', actorId: userId, action: 'register.revoked',
 *     target: { kind: 'register', id }, at: clock.now() });
 * });
 * ```
 * @throws AuditSecretError when `details` has a key such as `pin` or `token`.
 */
export async function audit(db: Kysely<Database> | Transaction<Database>, entry: AuditEntry): Promise<string> {
  const details = entry.details ?? {};
  for (const key of Object.keys(details)) {
    // `registerCode` and `storeCode` are identifiers, not secrets.
    if (SECRET_KEY.test(key) && key !== 'registerCode' && key !== 'storeCode') throw new AuditSecretError(key);
  }
  const id = randomUUID();
  await db
    .insertInto('audit_log')
    .values({
      id,
      org_id: entry.orgId,
      store_id: entry.storeId ?? null,
      actor_kind: entry.actorType,
      actor_id: entry.actorId,
      action: entry.action,
      target_kind: entry.target?.kind ?? null,
      target_id: entry.target?.id ?? null,
      details_json: JSON.stringify(details),
      at: entry.at,
    })
    .execute();
  return id;
}
