/**
 * Pairing a register (DESIGN §3, §4): give it a device token for a register code of a store, and
 * tell it what the server knows of that register so a reset or replaced device resumes its op seq,
 * receipt numbers and receipt chain instead of repeating them.
 *
 * Which register row a pairing takes:
 *
 * ```
 *   registerCode given ──► row with that code in the store? ──yes──► re-pair: new token (the old one
 *          │                                                         stops working), revoked → 0,
 *          │                                                         resume = the row's last seq etc.
 *          │                               └──no──► new row with that code (resume from zero)
 *   no code ──► first never-paired, unrevoked row by code (the demo's R01, R02) ──► pair it
 *                     └── none ──► new row with the lowest free `Rnn` (R03…)
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { Database, RegistersTable } from '../db/schema.js';
import { requireOwnStore } from '../auth/tenancy.js';
import { randomToken, sha256Hex } from '../security/secrets.js';

/** What a register resumes from: the server's record of its seq, receipt numbers and chain. */
export interface ResumeInfo {
  /** Highest contiguous op seq the server acknowledged; the register continues at `lastSeq + 1`. */
  readonly lastSeq: number;
  /** Last receipt number the server saw from it; the next receipt is `lastReceiptNumber + 1`. */
  readonly lastReceiptNumber: number;
  /** Hash at the head of its receipt chain, or null before its first receipt. */
  readonly chainHead: string | null;
}

/** The answer of a pairing, as `POST /api/v1/registers/pair` returns it. */
export interface PairingResult {
  readonly deviceId: string;
  readonly storeId: string;
  readonly storeCode: string;
  readonly registerCode: string;
  /** The device token, shown once: the server keeps only its SHA-256. */
  readonly token: string;
  readonly resume: ResumeInfo;
  /** Whether this register code had been paired before (its old token now fails). */
  readonly repaired: boolean;
  readonly wasRevoked: boolean;
}

/** A register row's resume info. */
export function resumeOf(row: Pick<Selectable<RegistersTable>, 'last_seq' | 'last_receipt_number' | 'chain_head'>): ResumeInfo {
  return { lastSeq: row.last_seq, lastReceiptNumber: row.last_receipt_number, chainHead: row.chain_head };
}

/** Lost a race for a free register row to a concurrent pairing; the caller retries. */
export class PairingRaceError extends Error {
  override readonly name = 'PairingRaceError';
}

/** The lowest `Rnn` code not in `taken`. */
export function nextRegisterCode(taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const code = `R${String(n).padStart(2, '0')}`;
    if (!taken.has(code)) return code;
  }
}

/**
 * Assigns a register of the store to a new device token, inside the caller's transaction.
 *
 * @throws ApiError 404 when the store is not the organisation's.
 * @throws PairingRaceError when a concurrent pairing took the same free row (retry the transaction).
 */
export async function pairRegister(
  trx: Transaction<Database>,
  request: { orgId: string; storeId: string; registerCode: string | undefined; name: string | undefined; now: number },
): Promise<PairingResult> {
  const { orgId, storeId, now } = request;
  const storeCode = await requireOwnStore(trx, orgId, storeId);
  // Pairings of one store take turns: this no-op update holds the store row's lock until commit
  // (PostgreSQL; SQLite's `begin immediate` already serialises), so a concurrent pairing reads the
  // registers only after this one committed and picks another free row or code.
  await trx
    .updateTable('stores')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('id', '=', storeId)
    .execute();

  const token = randomToken();
  const tokenHash = sha256Hex(token);
  const registers = trx.selectFrom('registers').selectAll().where('org_id', '=', orgId).where('store_id', '=', storeId);

  let row: Selectable<RegistersTable> | undefined;
  if (request.registerCode !== undefined) {
    row = await registers.where('code', '=', request.registerCode).executeTakeFirst();
  } else {
    row = await registers.where('token_hash', 'is', null).where('revoked', '=', 0).orderBy('code').limit(1).executeTakeFirst();
  }

  if (row) {
    let update = trx
      .updateTable('registers')
      .set({ token_hash: tokenHash, revoked: 0, paired_at: now, updated_at: now, ...(request.name === undefined ? {} : { name: request.name }) })
      .where('id', '=', row.id);
    // A free row is taken only if it is still free: two pairings at once must not share it.
    if (request.registerCode === undefined) update = update.where('token_hash', 'is', null);
    const updated = await update.executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw new PairingRaceError('the free register was taken meanwhile');
    return {
      deviceId: row.id,
      storeId,
      storeCode,
      registerCode: row.code,
      token,
      resume: resumeOf(row),
      repaired: row.token_hash !== null,
      wasRevoked: row.revoked === 1,
    };
  }

  let code = request.registerCode;
  if (code === undefined) {
    const taken = await trx.selectFrom('registers').select('code').where('store_id', '=', storeId).execute();
    code = nextRegisterCode(new Set(taken.map((r) => r.code)));
  }
  const id = randomUUID();
  await trx
    .insertInto('registers')
    .values({
      id,
      org_id: orgId,
      store_id: storeId,
      code,
      name: request.name ?? `Register ${code}`,
      token_hash: tokenHash,
      revoked: 0,
      last_seq: 0,
      last_receipt_number: 0,
      chain_head: null,
      last_seen_at: null,
      paired_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return {
    deviceId: id,
    storeId,
    storeCode,
    registerCode: code,
    token,
    resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
    repaired: false,
    wasRevoked: false,
  };
}

/** True for a unique-constraint violation on either database (a concurrent insert won). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
