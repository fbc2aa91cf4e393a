import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_IDS, sampleOp } from '../test-fixtures/ops.js';
import { opHash } from './op-hash.js';
import type { OpHead } from './op-envelope.js';
import { OP_TYPES } from './op-schema.js';

/** A deep copy of `value` with every object's keys in the order `order` gives. */
function reorderKeys(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, order));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(order(Object.keys(record)).map((k) => [k, reorderKeys(record[k], order)]));
  }
  return value;
}

describe('opHash', () => {
  it('is the SHA-256 of the canonical JSON, whatever the key order', () => {
    // Canonical text, keys sorted, no whitespace:
    //   {"deviceId":"0192f5a0-0000-7000-8000-000000000002","id":"0192f5a0-0000-7000-8000-000000000001","seq":1,"v":1}
    // Its SHA-256, computed with `sha256sum`:
    const expected = '3738ff7e5fa09a4ddb09e54658901e1a0a432f4ac2919c13af1d8fa499d56eed';
    expect(opHash({ v: 1, seq: 1, id: SAMPLE_IDS.op, deviceId: SAMPLE_IDS.device })).toBe(expected);
    expect(opHash({ seq: 1, deviceId: SAMPLE_IDS.device, v: 1, id: SAMPLE_IDS.op })).toBe(expected);
  });

  it('does not depend on key order anywhere in the op', () => {
    fc.assert(
      fc.property(fc.constantFrom(...OP_TYPES), fc.integer(), (type, seed) => {
        const op = sampleOp(type);
        // A deterministic shuffle per seed: sort keys by a hash of key and seed.
        const shuffle = (keys: string[]) =>
          [...keys].sort((a, b) => score(a, seed) - score(b, seed) || (a < b ? -1 : 1));
        expect(opHash(reorderKeys(op, shuffle) as OpHead)).toBe(opHash(op));
      }),
      { numRuns: 500 },
    );
  });

  it('changes when any part of the op changes', () => {
    const op = sampleOp('cash.moved');
    const base = opHash(op);
    expect(opHash(sampleOp('cash.moved', { seq: 2 }))).not.toBe(base);
    expect(opHash(sampleOp('cash.moved', { approvedBy: SAMPLE_IDS.manager }))).not.toBe(base);
    expect(opHash(sampleOp('cash.moved', { payload: { amount: 5001 } }))).not.toBe(base);
    expect(opHash(sampleOp('cash.moved', { payload: { reason: 'Safe drop ' } }))).not.toBe(base);
    expect(opHash(sampleOp('cash.moved'))).toBe(base);
  });

  it('tells apart any two seqs of the same op', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (a, b) => {
          fc.pre(a !== b);
          expect(opHash(sampleOp('drawer.opened', { seq: a }))).not.toBe(opHash(sampleOp('drawer.opened', { seq: b })));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is 64 lower-case hex digits', () => {
    expect(opHash(sampleOp('sale.completed'))).toMatch(/^[0-9a-f]{64}$/);
  });
});

function score(key: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1);
  return h;
}
