/**
 * Turning a command's payload into an op and appending it: HLC stamp, receipt number and chain
 * link, validation with core's `OpSchema`, the outbox row under the next gapless seq, the local
 * receipt chain, and the `meta` row that numbers the next op.
 */
import {
  decodeHlc,
  encodeHlc,
  formatReceiptNo,
  GENESIS_HEAD,
  initialHlc,
  nextChainLink,
  OP_SCHEMA_VERSION,
  OpSchema,
  receiptHash,
  tickHlc,
  type ChainHead,
  type ChainLink,
  type Op,
  type OpOf,
  type OpType,
  type ReceiptOpType,
} from '@kassa/core';
import { InvalidOpError, StoreInvariantError } from '../store/errors.js';
import { readPairedMeta, type PairedRegister } from '../store/meta.js';
import { step, type CommandContext } from './context.js';

/** The register as a command sees it, read at the start of its transaction. */
export type Register = PairedRegister;

/** Reads the paired register. @throws RegisterNotPairedError. */
export function loadRegister(ctx: CommandContext): Register {
  return readPairedMeta(ctx.db);
}

/** The chain head `meta` holds. */
export function chainHead(reg: Register): ChainHead {
  if (reg.lastReceiptSeq === 0) return { ...GENESIS_HEAD, hash: reg.chainHeadHash };
  return {
    receiptNo: formatReceiptNo({ storeCode: reg.storeCode, registerCode: reg.registerCode, seq: reg.lastReceiptSeq }),
    hash: reg.chainHeadHash,
  };
}

/** The receipt number and `prevHash` the register's next receipt carries. */
export function nextReceipt(reg: Register): ChainLink {
  return nextChainLink(chainHead(reg), { storeCode: reg.storeCode, registerCode: reg.registerCode });
}

/** A fresh HLC stamp after the register's last one (persisted by {@link appendOp}). */
export function stamp(ctx: CommandContext, reg: Register): string {
  step(ctx, 'hlc');
  const last = reg.hlcLast === null ? initialHlc(reg.deviceId) : { ...decodeHlc(reg.hlcLast), node: reg.deviceId };
  return encodeHlc(tickHlc(last, ctx.clock.now()));
}

/** The envelope fields a command chooses. */
export interface OpDraft<T extends OpType> {
  readonly type: T;
  readonly payload: OpOf<T>['payload'];
  readonly hlc: string;
  readonly staffId: string;
  readonly approvedBy?: string | undefined;
}

/**
 * Builds the op under the register's next seq and validates it with core's `OpSchema`.
 *
 * @throws InvalidOpError when it does not pass (nothing has been written yet).
 */
export function buildOp<T extends OpType>(ctx: CommandContext, reg: Register, draft: OpDraft<T>): OpOf<T> {
  const op = {
    v: OP_SCHEMA_VERSION,
    id: ctx.ids.next(),
    deviceId: reg.deviceId,
    seq: reg.nextSeq,
    hlc: draft.hlc,
    deviceTime: Math.max(0, Math.floor(ctx.clock.now())),
    type: draft.type,
    storeId: reg.storeId,
    staffId: draft.staffId,
    ...(draft.approvedBy === undefined ? {} : { approvedBy: draft.approvedBy }),
    payload: draft.payload,
  };
  step(ctx, 'validate');
  const parsed = OpSchema.safeParse(op);
  if (!parsed.success) throw new InvalidOpError(draft.type, parsed.error.issues);
  return parsed.data as OpOf<T>;
}

function isReceiptType(type: OpType): type is ReceiptOpType {
  return type === 'sale.completed' || type === 'sale.voided' || type === 'refund.completed' || type === 'exchange.completed' || type === 'shift.closed';
}

/**
 * Appends a validated op: the outbox row, the receipt (for receipt-bearing ops), and `meta`
 * (next seq, HLC, last receipt and chain head). Call after the command's state writes.
 */
export function appendOp(ctx: CommandContext, reg: Register, op: Op): void {
  step(ctx, 'outbox');
  ctx.db.run('INSERT INTO outbox (seq, op_id, op_type, op_json, created_at) VALUES (?, ?, ?, ?, ?)', [
    op.seq,
    op.id,
    op.type,
    JSON.stringify(op),
    ctx.clock.now(),
  ]);
  let lastReceiptSeq = reg.lastReceiptSeq;
  let headHash = reg.chainHeadHash;
  if (isReceiptType(op.type)) {
    step(ctx, 'receipt');
    const payload = op.payload as { receiptNo: string; prevHash: string };
    headHash = receiptHash({ type: op.type, payload });
    lastReceiptSeq += 1;
    ctx.db.run('INSERT INTO receipts (receipt_seq, receipt_no, op_type, op_id, prev_hash, hash, at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      lastReceiptSeq,
      payload.receiptNo,
      op.type,
      op.id,
      payload.prevHash,
      headHash,
      decodeHlc(op.hlc).wallMs,
    ]);
  }
  step(ctx, 'meta');
  // The WHERE on next_seq makes a lost update impossible even if two connections raced past
  // BEGIN IMMEDIATE (they cannot): zero rows changed means someone else took the seq.
  const changed = ctx.db.run('UPDATE meta SET next_seq = ?, hlc_last = ?, last_receipt_seq = ?, chain_head_hash = ? WHERE id = 1 AND next_seq = ?', [
    op.seq + 1,
    op.hlc,
    lastReceiptSeq,
    headHash,
    op.seq,
  ]).changes;
  if (changed !== 1) throw new StoreInvariantError(`seq ${op.seq} was taken by another writer`);
}

/** The till time of an op: its HLC wall time (never goes backwards on one register). */
export function opTime(op: Op): number {
  return decodeHlc(op.hlc).wallMs;
}
