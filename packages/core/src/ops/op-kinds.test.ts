import { describe, expect, it } from 'vitest';
import { sampleOp } from '../test-fixtures/ops.js';
import { FACT_OP_TYPES, RECEIPT_OP_TYPES, REFERENCE_OP_TYPES, isFactOp, isReceiptOp, isReferenceOp } from './op-kinds.js';
import { OP_TYPES } from './op-schema.js';

describe('op kinds', () => {
  it('classifies every op type as exactly one of fact or reference edit', () => {
    const classified = [...FACT_OP_TYPES, ...REFERENCE_OP_TYPES];
    expect([...classified].sort()).toEqual([...OP_TYPES].sort());
    expect(new Set(classified).size).toBe(classified.length);
  });

  it('names the five receipt-printing types, all facts', () => {
    expect([...RECEIPT_OP_TYPES].sort()).toEqual([
      'exchange.completed',
      'refund.completed',
      'sale.completed',
      'sale.voided',
      'shift.closed',
    ]);
  });

  it.each(OP_TYPES)('%s: the guards agree with the lists, and receipt ops carry receiptNo and prevHash', (type) => {
    const op = sampleOp(type);
    expect(isFactOp(op)).toBe((FACT_OP_TYPES as readonly string[]).includes(type));
    expect(isReferenceOp(op)).toBe((REFERENCE_OP_TYPES as readonly string[]).includes(type));
    expect(isReceiptOp(op)).toBe((RECEIPT_OP_TYPES as readonly string[]).includes(type));
    const payload = op.payload as Record<string, unknown>;
    expect('receiptNo' in payload && 'prevHash' in payload).toBe(isReceiptOp(op));
  });
});
