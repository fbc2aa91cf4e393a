import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonCanonicalValueError } from './canonical-json.js';
import {
  GENESIS_HASH,
  GENESIS_HEAD,
  ReceiptChainRegisterMismatchError,
  ReceiptHashSchema,
  headAfter,
  nextChainLink,
  receiptHash,
  verifyChain,
} from './receipt-chain.js';
import type { ChainHead, ChainedReceipt } from './receipt-chain.js';
import { sha256Hex } from './sha256.js';
import type { ReceiptOp } from './ops.js';

const REGISTER = { storeCode: 'S01', registerCode: 'R02' };

/** Issues receipts the way a register does: each one linked to the head before it. */
function issue(bodies: readonly Record<string, unknown>[], from: ChainHead = GENESIS_HEAD): ChainedReceipt[] {
  let head = from;
  return bodies.map((body, i) => {
    const receipt: ChainedReceipt = {
      type: i % 3 === 2 ? 'refund.completed' : 'sale.completed',
      payload: { ...body, ...nextChainLink(head, REGISTER) },
    };
    head = headAfter(receipt);
    return receipt;
  });
}

const bodies = (n: number): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ total: 100 * (i + 1), lines: [{ sku: `SKU-${i}`, qty: 1000 }] }));

// Every receipt op as the op schemas define it is a ChainedReceipt: verifyChain takes them as they are.
const _receiptOpsChain = (ops: readonly ReceiptOp[]): ReturnType<typeof verifyChain> => verifyChain(ops);
void _receiptOpsChain;

describe('receiptHash', () => {
  it('is the SHA-256 of the canonical {format, type, payload}', () => {
    const receipt: ChainedReceipt = {
      type: 'sale.completed',
      payload: { total: 1250, receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH },
    };
    const canonical =
      '{"format":"kassa.receipt.v1","payload":{"prevHash":"' +
      '0'.repeat(64) +
      '","receiptNo":"S01-R02-000001","total":1250},"type":"sale.completed"}';
    expect(receiptHash(receipt)).toBe(sha256Hex(canonical));
    // The same canonical string hashed by Python's hashlib, pinning the format across implementations.
    expect(receiptHash(receipt)).toBe('109c70fc26ea78e1697f32e7fee366921f966cd0c3cf2a4a977d21519e368a9c');
    expect(ReceiptHashSchema.safeParse(receiptHash(receipt)).success).toBe(true);
  });

  it('does not depend on key order, and does depend on the op type', () => {
    const a: ChainedReceipt = { type: 'sale.completed', payload: { receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH, x: 1 } };
    const b: ChainedReceipt = { type: 'sale.completed', payload: { x: 1, prevHash: GENESIS_HASH, receiptNo: 'S01-R02-000001' } };
    expect(receiptHash(a)).toBe(receiptHash(b));
    expect(receiptHash({ ...a, type: 'refund.completed' })).not.toBe(receiptHash(a));
  });

  it('throws for a payload with no canonical form', () => {
    const bad: ChainedReceipt = { type: 'sale.completed', payload: { receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH, x: Number.NaN } };
    expect(() => receiptHash(bad)).toThrow(NonCanonicalValueError);
  });
});

describe('nextChainLink', () => {
  it('starts a register at sequence 1 on the genesis hash', () => {
    expect(nextChainLink(GENESIS_HEAD, REGISTER)).toEqual({ receiptNo: 'S01-R02-000001', prevHash: '0'.repeat(64) });
  });

  it('continues from a head with the next number and its hash', () => {
    const head = { receiptNo: 'S01-R02-999999', hash: 'ab'.repeat(32) };
    expect(nextChainLink(head, REGISTER)).toEqual({ receiptNo: 'S01-R02-1000000', prevHash: 'ab'.repeat(32) });
  });

  it("refuses to continue another register's chain", () => {
    const head = { receiptNo: 'S01-R03-000007', hash: 'ab'.repeat(32) };
    expect(() => nextChainLink(head, REGISTER)).toThrow(ReceiptChainRegisterMismatchError);
  });
});

describe('verifyChain', () => {
  it('accepts a chain issued in order and returns its head', () => {
    const receipts = issue(bodies(5));
    const last = receipts[4] as ChainedReceipt;
    expect(verifyChain(receipts)).toEqual({ ok: true, head: { receiptNo: 'S01-R02-000005', hash: receiptHash(last) } });
  });

  it('uses the hash function it is given for every link, and only that one', () => {
    const receipts = issue(bodies(4));
    const calls: string[] = [];
    const counting = (text: string): string => {
      calls.push(text);
      return sha256Hex(text);
    };
    // Same digest as the default, so the same verdict and head; one call per receipt.
    expect(verifyChain(receipts, GENESIS_HEAD, counting)).toEqual(verifyChain(receipts));
    expect(calls).toHaveLength(4);
    // A hasher that disagrees with the chain's digests breaks it at the second receipt.
    const wrong = verifyChain(receipts, GENESIS_HEAD, () => 'f'.repeat(64));
    expect(wrong).toMatchObject({ ok: false, index: 1, reason: 'prev_hash_mismatch' });
  });

  it('accepts an empty list as the head it started from', () => {
    expect(verifyChain([])).toEqual({ ok: true, head: GENESIS_HEAD });
  });

  it('names the receipt after an altered one', () => {
    const receipts = issue(bodies(5));
    const original = receipts[2] as ChainedReceipt;
    const altered: ChainedReceipt = { ...original, payload: { ...original.payload, total: 1 } };
    receipts[2] = altered;
    expect(verifyChain(receipts)).toEqual({
      ok: false,
      index: 3,
      receiptNo: 'S01-R02-000004',
      expectedPrevHash: receiptHash(altered),
      actualPrevHash: receiptHash(original),
      reason: 'prev_hash_mismatch',
    });
  });

  it('names the receipt after a missing one', () => {
    const receipts = issue(bodies(5));
    const removed = receipts.splice(2, 1)[0] as ChainedReceipt;
    expect(verifyChain(receipts)).toMatchObject({
      ok: false,
      index: 2,
      receiptNo: 'S01-R02-000004',
      expectedPrevHash: receiptHash(receipts[1] as ChainedReceipt),
      actualPrevHash: receiptHash(removed),
      reason: 'prev_hash_mismatch',
    });
  });

  it('catches a reordering', () => {
    const receipts = issue(bodies(5));
    [receipts[1], receipts[2]] = [receipts[2] as ChainedReceipt, receipts[1] as ChainedReceipt];
    expect(verifyChain(receipts)).toMatchObject({ ok: false, index: 1, receiptNo: 'S01-R02-000003', reason: 'prev_hash_mismatch' });
  });

  it('catches a reused number even when the hashes were recomputed to link', () => {
    const receipts = issue(bodies(2));
    const second = receipts[1] as ChainedReceipt;
    const duplicate: ChainedReceipt = {
      type: 'sale.completed',
      payload: { total: 7, receiptNo: second.payload.receiptNo, prevHash: receiptHash(second) },
    };
    expect(verifyChain([...receipts, duplicate])).toMatchObject({
      ok: false,
      index: 2,
      receiptNo: 'S01-R02-000002',
      reason: 'seq_not_next',
    });
  });

  it('catches a skipped number and a first receipt that is not number 1', () => {
    const receipts = issue(bodies(2));
    const skipping: ChainedReceipt = {
      type: 'sale.completed',
      payload: { total: 7, receiptNo: 'S01-R02-000004', prevHash: receiptHash(receipts[1] as ChainedReceipt) },
    };
    expect(verifyChain([...receipts, skipping])).toMatchObject({ ok: false, index: 2, reason: 'seq_not_next' });
    const late: ChainedReceipt = { type: 'sale.completed', payload: { receiptNo: 'S01-R02-000002', prevHash: GENESIS_HASH } };
    expect(verifyChain([late])).toMatchObject({ ok: false, index: 0, reason: 'seq_not_next' });
  });

  it("catches another register's receipt", () => {
    const receipts = issue(bodies(2));
    const foreign: ChainedReceipt = {
      type: 'sale.completed',
      payload: { receiptNo: 'S01-R03-000003', prevHash: receiptHash(receipts[1] as ChainedReceipt) },
    };
    expect(verifyChain([...receipts, foreign])).toMatchObject({ ok: false, index: 2, reason: 'register_mismatch' });
  });

  it('catches a malformed receipt number and an unhashable payload', () => {
    const bad: ChainedReceipt = { type: 'sale.completed', payload: { receiptNo: 'S01-R02-1', prevHash: GENESIS_HASH } };
    expect(verifyChain([bad])).toMatchObject({ ok: false, index: 0, receiptNo: 'S01-R02-1', reason: 'receipt_no_invalid' });
    const nan: ChainedReceipt = {
      type: 'sale.completed',
      payload: { receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH, total: Number.NaN },
    };
    expect(verifyChain([nan])).toMatchObject({ ok: false, index: 0, reason: 'unhashable' });
  });

  it('continues from a head kept elsewhere (the server, after re-pairing)', () => {
    const all = issue(bodies(6));
    const firstPart = verifyChain(all.slice(0, 4));
    expect(firstPart.ok).toBe(true);
    if (!firstPart.ok) return;
    expect(verifyChain(all.slice(4), firstPart.head)).toEqual(verifyChain(all));
    // The tail alone does not start at the genesis.
    expect(verifyChain(all.slice(4))).toMatchObject({ ok: false, index: 0, reason: 'prev_hash_mismatch' });
  });

  it('leaves the last receipt to its head: an edit to it shows only as a different head hash', () => {
    const receipts = issue(bodies(3));
    const honest = verifyChain(receipts);
    const last = receipts[2] as ChainedReceipt;
    receipts[2] = { ...last, payload: { ...last.payload, total: 0 } };
    const edited = verifyChain(receipts);
    expect(edited.ok && honest.ok && edited.head.hash !== honest.head.hash).toBe(true);
  });

  const payloads = fc.array(
    fc.record({ total: fc.integer({ min: 0, max: 1_000_000 }), note: fc.string({ maxLength: 20 }), void: fc.boolean() }),
    { minLength: 2, maxLength: 10 },
  );

  it('breaks exactly after any altered receipt but the last', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), fc.integer({ min: 1, max: 1000 }), (list, pick, delta) => {
        const receipts = issue(list);
        const at = pick % (receipts.length - 1);
        const target = receipts[at] as ChainedReceipt;
        receipts[at] = { ...target, payload: { ...target.payload, total: (target.payload['total'] as number) + delta } };
        expect(verifyChain(receipts)).toMatchObject({ ok: false, index: at + 1, reason: 'prev_hash_mismatch' });
      }),
      { numRuns: 500 },
    );
  });

  it('breaks on any dropped receipt but the last, and any swap of two', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), fc.nat(), (list, p, q) => {
        const receipts = issue(list);
        const dropAt = p % (receipts.length - 1);
        expect(verifyChain(receipts.filter((_, i) => i !== dropAt)).ok).toBe(false);
        const i = p % receipts.length;
        const j = q % receipts.length;
        if (i === j) return;
        const swapped = [...receipts];
        [swapped[i], swapped[j]] = [receipts[j] as ChainedReceipt, receipts[i] as ChainedReceipt];
        expect(verifyChain(swapped)).toMatchObject({ ok: false, index: Math.min(i, j) });
      }),
      { numRuns: 500 },
    );
  });

  it('verifies a chain in two parts as in one', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), (list, p) => {
        const receipts = issue(list);
        const cut = p % (receipts.length + 1);
        const first = verifyChain(receipts.slice(0, cut));
        expect(first.ok).toBe(true);
        if (first.ok) expect(verifyChain(receipts.slice(cut), first.head)).toEqual(verifyChain(receipts));
      }),
      { numRuns: 500 },
    );
  });
});
