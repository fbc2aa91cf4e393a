import { canonicalJson, opHash, receiptHash } from '@kassa/core';
import type { ChainedReceipt, OpHead } from '@kassa/core';
import { sampleOp } from '@kassa/core/test-fixtures/ops';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJsonOf, opDigests, sha256Native } from './op-canonical.js';

/** What core says: its text, or that it throws. */
function core<T>(fn: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: fn() };
  } catch {
    return { ok: false };
  }
}

// Strings that sometimes hold lone surrogates, which core refuses.
const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.oneof(fc.constantFrom('a', '"', '\\', '\u0001', '\u2028'), surrogate) }));
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('node')),
    fc.dictionary(text, tie('node')),
  ),
})).node;

describe('canonical JSON of pushed ops', () => {
  it('is core’s canonicalJson for any value: the same text, or a throw where core throws', () => {
    fc.assert(
      fc.property(value, (v) => {
        const expected = core(() => canonicalJson(v));
        const actual = core(() => canonicalJsonOf(v));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives core’s opHash and receiptHash for every sample op type', () => {
    for (const type of ['sale.completed', 'refund.completed', 'sale.voided', 'exchange.completed', 'shift.closed', 'stock.received', 'customer.upserted', 'product.edited'] as const) {
      const op = sampleOp(type) as unknown as Record<string, unknown>;
      const digests = opDigests(op);
      expect(digests.opHash).toBe(opHash(op as OpHead));
      expect(digests.receiptHash).toBe(receiptHash(op as unknown as ChainedReceipt, sha256Native));
    }
  });

  it('gives core’s hashes for ops with arbitrary payloads, and no receipt hash where core has none', () => {
    fc.assert(
      fc.property(value, text, (payload, type) => {
        const op: Record<string, unknown> = { ...(sampleOp('sale.completed') as unknown as Record<string, unknown>), type, payload };
        const expectedOp = core(() => opHash(op as unknown as OpHead));
        const expectedReceipt = core(() => receiptHash({ type, payload } as unknown as ChainedReceipt, sha256Native));
        const actual = core(() => opDigests(op));
        expect(actual.ok).toBe(expectedOp.ok);
        if (actual.ok && expectedOp.ok) {
          expect(actual.value.opHash).toBe(expectedOp.value);
          expect(actual.value.receiptHash).toBe(expectedReceipt.ok ? expectedReceipt.value : undefined);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('hashes with Node’s SHA-256 the same digest as core’s', () => {
    expect(sha256Native('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
