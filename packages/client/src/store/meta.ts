/**
 * The register's own state, one row of `meta`: who it is (device, store, register code, token),
 * where its numbering stands (next op seq, last receipt, chain head), its HLC, and sync progress.
 */
import { GENESIS_HASH, HlcStringSchema, IdSchema, ReceiptHashSchema, RECEIPT_CODE_PATTERN } from '@kassa/core';
import { z } from 'zod';
import { CorruptRowError, RegisterNotPairedError } from './errors.js';
import type { SqlDb } from './sql-db.js';

const MetaRowSchema = z.object({
  device_id: IdSchema.nullable(),
  org_id: z.string().nullable(),
  store_id: IdSchema.nullable(),
  store_code: z.string().regex(RECEIPT_CODE_PATTERN).nullable(),
  register_code: z.string().regex(RECEIPT_CODE_PATTERN).nullable(),
  token: z.string().nullable(),
  next_seq: z.int().min(1),
  last_receipt_seq: z.int().min(0),
  chain_head_hash: ReceiptHashSchema,
  hlc_last: HlcStringSchema.nullable(),
  pull_cursor: z.string().nullable(),
  last_sync_at: z.int().nullable(),
  paired_at: z.int().nullable(),
});

/** The `meta` row as the code reads it. */
export interface RegisterMeta {
  readonly deviceId: string | null;
  readonly orgId: string | null;
  readonly storeId: string | null;
  readonly storeCode: string | null;
  readonly registerCode: string | null;
  readonly token: string | null;
  /** The seq the next op takes (1 for a new register). */
  readonly nextSeq: number;
  /** Sequence part of the last receipt number issued (0 before the first). */
  readonly lastReceiptSeq: number;
  /** `receiptHash` of the last receipt, or the genesis hash. */
  readonly chainHeadHash: string;
  /** The last HLC stamp issued, encoded; null before the first. */
  readonly hlcLast: string | null;
  readonly pullCursor: string | null;
  readonly lastSyncAt: number | null;
  readonly pairedAt: number | null;
}

/** The identity every command needs: a paired register. */
export interface PairedRegister extends RegisterMeta {
  readonly deviceId: string;
  readonly storeId: string;
  readonly storeCode: string;
  readonly registerCode: string;
}

/** Reads the `meta` row. */
export function readMeta(db: SqlDb): RegisterMeta {
  const row = db.get('SELECT * FROM meta WHERE id = 1');
  const parsed = MetaRowSchema.safeParse(row);
  if (!parsed.success) throw new CorruptRowError('meta', parsed.error.message);
  const m = parsed.data;
  return {
    deviceId: m.device_id,
    orgId: m.org_id,
    storeId: m.store_id,
    storeCode: m.store_code,
    registerCode: m.register_code,
    token: m.token,
    nextSeq: m.next_seq,
    lastReceiptSeq: m.last_receipt_seq,
    chainHeadHash: m.chain_head_hash,
    hlcLast: m.hlc_last,
    pullCursor: m.pull_cursor,
    lastSyncAt: m.last_sync_at,
    pairedAt: m.paired_at,
  };
}

/** The `meta` row of a paired register. @throws RegisterNotPairedError before pairing. */
export function readPairedMeta(db: SqlDb): PairedRegister {
  const m = readMeta(db);
  if (m.deviceId === null || m.storeId === null || m.storeCode === null || m.registerCode === null) {
    throw new RegisterNotPairedError();
  }
  return { ...m, deviceId: m.deviceId, storeId: m.storeId, storeCode: m.storeCode, registerCode: m.registerCode };
}

/**
 * Who a register is and where its numbering resumes: what `POST /api/v1/registers/pair` answers
 * (`resume` carries the last seq, receipt number and chain head the server knows of this register).
 */
export const RegisterIdentitySchema = z.strictObject({
  deviceId: IdSchema,
  orgId: z.string().min(1).optional(),
  storeId: IdSchema,
  storeCode: z.string().regex(RECEIPT_CODE_PATTERN),
  registerCode: z.string().regex(RECEIPT_CODE_PATTERN),
  token: z.string().min(1),
  resume: z.strictObject({
    lastSeq: z.int().min(0),
    lastReceiptNumber: z.int().min(0),
    chainHead: ReceiptHashSchema.nullable(),
  }),
  pairedAt: z.int().min(0),
});

/** See {@link RegisterIdentitySchema}. */
export type RegisterIdentity = z.infer<typeof RegisterIdentitySchema>;

/**
 * Records the register's identity after pairing and resumes its numbering where the server left
 * it, never going back: a re-paired register that still holds later local ops keeps its own
 * (higher) seq and receipt number, so no number is issued twice.
 */
export function writeIdentity(db: SqlDb, identity: RegisterIdentity): void {
  const id = RegisterIdentitySchema.parse(identity);
  const current = readMeta(db);
  const resumeReceipt = id.resume.lastReceiptNumber > current.lastReceiptSeq;
  db.run(
    `UPDATE meta SET device_id = ?, org_id = ?, store_id = ?, store_code = ?, register_code = ?, token = ?,
       next_seq = ?, last_receipt_seq = ?, chain_head_hash = ?, paired_at = ? WHERE id = 1`,
    [
      id.deviceId,
      id.orgId ?? null,
      id.storeId,
      id.storeCode,
      id.registerCode,
      id.token,
      Math.max(current.nextSeq, id.resume.lastSeq + 1),
      resumeReceipt ? id.resume.lastReceiptNumber : current.lastReceiptSeq,
      resumeReceipt ? (id.resume.chainHead ?? GENESIS_HASH) : current.chainHeadHash,
      id.pairedAt,
    ],
  );
}
