import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseOp } from '../op-version.js';
import type { OpIssue } from '../op-version.js';
import { SAMPLE_IDS, sampleHlc, sampleOp } from '../test-fixtures/ops.js';
import { OP_SCHEMAS, OP_TYPES, OpSchema } from './op-schema.js';
import type { OpType } from './op-schema.js';

type Path = readonly (string | number)[];

const REMOVE = Symbol('remove');

/** A deep copy of `value` with the value at `path` replaced (or removed when `next` is `REMOVE`). */
function withPath(value: unknown, path: Path, next: unknown): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (next === REMOVE) delete node[last];
  else node[last] = next;
  return copy;
}

function issuesOf(raw: unknown): readonly OpIssue[] {
  const result = parseOp(raw);
  if (result.ok) throw new Error('expected the op to be refused');
  expect(result.kind).toBe('invalid');
  return result.issues;
}

/** Per op type: a required payload field, a UUID field, a field that must not be negative, a free-text field. */
const CASES: { readonly [T in OpType]: { required: string; uuid: Path; nonNegative?: Path; text?: Path } } = {
  'sale.completed': { required: 'tenders', uuid: ['lines', 0, 'productId'], nonNegative: ['total'], text: ['note'] },
  'sale.voided': { required: 'orderId', uuid: ['orderId'], nonNegative: ['total'], text: ['reason'] },
  'refund.completed': { required: 'reason', uuid: ['refundId'], nonNegative: ['total'], text: ['reason'] },
  'exchange.completed': { required: 'balance', uuid: ['sale', 'orderId'], nonNegative: ['change'], text: ['refund', 'reason'] },
  'cash.moved': { required: 'direction', uuid: ['shiftId'], nonNegative: ['amount'], text: ['reason'] },
  'shift.opened': { required: 'float', uuid: ['shiftId'], nonNegative: ['float', 'total'] },
  'shift.closed': { required: 'variance', uuid: ['shiftId'], nonNegative: ['counted', 'total'] },
  'drawer.opened': { required: 'reason', uuid: ['shiftId'], text: ['reason'] },
  'stock.adjusted': { required: 'reason', uuid: ['productId'], text: ['note'] },
  'stock.received': { required: 'lines', uuid: ['movementId'], nonNegative: ['lines', 0, 'qty'], text: ['supplierRef'] },
  'stock.counted': { required: 'countId', uuid: ['lines', 0, 'productId'], nonNegative: ['lines', 0, 'counted'], text: ['note'] },
  'stock.transferred': { required: 'direction', uuid: ['toStoreId'], nonNegative: ['lines', 0, 'qty'], text: ['note'] },
  'customer.upserted': { required: 'writes', uuid: ['customerId'], text: ['writes', 0, 'value'] },
  'product.edited': { required: 'productId', uuid: ['productId'], text: ['writes', 0, 'value'] },
  'reference.edited': { required: 'docType', uuid: ['docId'], text: ['writes', 0, 'value'] },
  'gift_card.issued': { required: 'code', uuid: ['giftCardId'], nonNegative: ['amount'], text: ['code'] },
  'gift_card.reloaded': { required: 'code', uuid: ['giftCardId'], nonNegative: ['amount'], text: ['code'] },
  'gift_card.redeemed': { required: 'code', uuid: ['giftCardId'], nonNegative: ['amount'], text: ['code'] },
  'store_credit.issued': { required: 'currency', uuid: ['customerId'], nonNegative: ['amount'], text: ['reason'] },
  'store_credit.redeemed': { required: 'currency', uuid: ['customerId'], nonNegative: ['amount'], text: ['reason'] },
  'loyalty.accrued': { required: 'points', uuid: ['customerId'], nonNegative: ['points'], text: ['reason'] },
  'loyalty.redeemed': { required: 'points', uuid: ['customerId'], nonNegative: ['points'], text: ['reason'] },
};

// A Visa test number, grouped as people type it.
const CARD_NUMBER = '4111 1111 1111 1111';

describe('OpSchema', () => {
  it('knows 22 op types, each once', () => {
    expect(OP_TYPES).toHaveLength(22);
    expect(new Set(OP_TYPES).size).toBe(22);
    expect(Object.keys(OP_SCHEMAS).sort()).toEqual([...OP_TYPES].sort());
  });

  describe.each(OP_TYPES)('%s', (type) => {
    const cases = CASES[type];
    const op = sampleOp(type);

    it('parses the sample unchanged', () => {
      const result = parseOp(JSON.parse(JSON.stringify(op)));
      expect(result).toMatchObject({ ok: true, version: 1 });
      expect(result.ok && result.op).toEqual(op);
    });

    it('refuses a missing field', () => {
      const issues = issuesOf(withPath(op, ['payload', cases.required], REMOVE));
      expect(issues).toContainEqual(
        expect.objectContaining({ path: ['payload', cases.required], message: expect.stringMatching(/received undefined|expected one of/) }),
      );
    });

    it('refuses an unknown field in the payload and in the envelope', () => {
      expect(issuesOf(withPath(op, ['payload', 'discount'], 5))).toContainEqual(
        expect.objectContaining({ path: ['payload'], code: 'unrecognized_keys', message: expect.stringContaining('discount') }),
      );
      expect(issuesOf({ ...op, orgId: SAMPLE_IDS.store })).toContainEqual(
        expect.objectContaining({ path: [], code: 'unrecognized_keys', message: expect.stringContaining('orgId') }),
      );
    });

    it('refuses a non-UUID id and an id of the wrong type', () => {
      const path = ['payload', ...cases.uuid];
      expect(issuesOf(withPath(op, path, 'order-17'))).toContainEqual(
        expect.objectContaining({ path, message: expect.stringMatching(/uuid/i) }),
      );
      expect(issuesOf(withPath(op, path, 17))).toContainEqual(
        expect.objectContaining({ path, code: 'invalid_type', message: expect.stringMatching(/expected string, received number/) }),
      );
    });

    const nonNegative = cases.nonNegative;
    if (nonNegative) {
      it('refuses a negative amount or quantity', () => {
        const path = ['payload', ...nonNegative];
        expect(issuesOf(withPath(op, path, -1))).toContainEqual(
          expect.objectContaining({ path, code: 'too_small', message: expect.stringMatching(/>=/) }),
        );
      });
    }

    const text = cases.text;
    if (text) {
      it('refuses a card number in free text', () => {
        const path = ['payload', ...text];
        // A gift-card code has no spaces, so there the number comes ungrouped.
        const value = path.includes('code') ? CARD_NUMBER.replace(/ /g, '') : `paid with ${CARD_NUMBER}`;
        expect(issuesOf(withPath(op, path, value))).toContainEqual(
          expect.objectContaining({ path, message: expect.stringContaining('card number') }),
        );
      });
    }
  });

  describe('envelope', () => {
    const op = sampleOp('cash.moved');

    it('refuses a non-UUID op id, device, store or staff', () => {
      for (const field of ['id', 'deviceId', 'storeId', 'staffId', 'approvedBy']) {
        expect(issuesOf({ ...op, [field]: 'till-2' })).toContainEqual(expect.objectContaining({ path: [field] }));
      }
    });

    it('takes approvedBy as optional', () => {
      expect(parseOp({ ...op, approvedBy: SAMPLE_IDS.manager }).ok).toBe(true);
      expect(parseOp(op).ok).toBe(true);
    });

    it('refuses seq 0, a fractional seq and a seq sent as a string', () => {
      expect(issuesOf({ ...op, seq: 0 })).toContainEqual(expect.objectContaining({ path: ['seq'], code: 'too_small' }));
      expect(issuesOf({ ...op, seq: 1.5 })).toContainEqual(expect.objectContaining({ path: ['seq'] }));
      expect(issuesOf({ ...op, seq: '1' })).toContainEqual(expect.objectContaining({ path: ['seq'], code: 'invalid_type' }));
    });

    it('refuses a negative or fractional device time, and a malformed HLC', () => {
      expect(issuesOf({ ...op, deviceTime: -1 })).toContainEqual(expect.objectContaining({ path: ['deviceTime'] }));
      expect(issuesOf({ ...op, deviceTime: 1.5 })).toContainEqual(expect.objectContaining({ path: ['deviceTime'] }));
      expect(issuesOf({ ...op, hlc: '2026-01-15T10:00:00Z' })).toContainEqual(
        expect.objectContaining({ path: ['hlc'], message: 'an encoded HLC timestamp' }),
      );
    });

    it('refuses an unknown op type, naming the known ones', () => {
      expect(issuesOf({ ...op, type: 'sale.deleted' })).toContainEqual(
        expect.objectContaining({ path: ['type'], message: expect.stringContaining("'sale.completed'") }),
      );
    });

    it('refuses a payload of another op type', () => {
      expect(parseOp({ ...op, payload: sampleOp('drawer.opened').payload }).ok).toBe(false);
    });

    it('accepts any valid seq, device time and ids', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...OP_TYPES),
          fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 8_640_000_000_000_000 }),
          fc.uuid({ version: 7 }),
          fc.uuid({ version: 4 }),
          (type, seq, deviceTime, id, staffId) => {
            const op = sampleOp(type, { seq, deviceTime, id, staffId, hlc: sampleHlc(deviceTime % 2 ** 48) });
            const result = parseOp(JSON.parse(JSON.stringify(op)));
            expect(result.ok && result.op).toEqual(op);
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('receipt ops', () => {
    it('refuses a prevHash that is not 64 lower-case hex digits', () => {
      const op = sampleOp('sale.completed', { payload: { prevHash: 'AB'.repeat(32) } });
      expect(issuesOf(op)).toContainEqual(expect.objectContaining({ path: ['payload', 'prevHash'] }));
    });

    it('keeps an exchange as one op with its refund and sale parts', () => {
      const result = parseOp(sampleOp('exchange.completed'));
      expect(result.ok && result.op.type === 'exchange.completed' && result.op.payload.sale.lines).toHaveLength(1);
      expect(result.ok && result.op.type === 'exchange.completed' && result.op.payload.refund.lines).toHaveLength(1);
    });

    it('allows a negative exchange balance (the shop pays back)', () => {
      // A 3.00 mug back for a 2.50 one: 250 − 300 = −50.
      expect(parseOp(sampleOp('exchange.completed', { payload: { balance: -50 } })).ok).toBe(true);
    });
  });

  describe('payload rules', () => {
    it('requires a note when stock is adjusted for "other"', () => {
      const op = sampleOp('stock.adjusted', { payload: { reason: 'other' } });
      expect(parseOp(op).ok).toBe(true);
      expect(issuesOf(withPath(op, ['payload', 'note'], REMOVE))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'note'], message: 'a note is required when the reason is "other"' }),
      );
    });

    it('refuses a stock adjustment of zero and an unknown reason', () => {
      expect(issuesOf(sampleOp('stock.adjusted', { payload: { qtyDelta: 0 } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'qtyDelta'], message: 'must not be zero' }),
      );
      expect(issuesOf(withPath(sampleOp('stock.adjusted'), ['payload', 'reason'], 'shrinkage'))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'reason'], code: 'invalid_value' }),
      );
    });

    it('accepts a count below the expected stock and a negative expected stock', () => {
      expect(parseOp(withPath(sampleOp('stock.counted'), ['payload', 'lines', 0, 'expected'], -3000)).ok).toBe(true);
    });

    it('refuses a transfer to the store it comes from', () => {
      const op = sampleOp('stock.transferred', { payload: { toStoreId: SAMPLE_IDS.store } });
      expect(issuesOf(op)).toContainEqual(
        expect.objectContaining({ path: ['payload', 'toStoreId'], message: 'a transfer goes between two different stores' }),
      );
    });

    it('refuses two writes to one field in one edit', () => {
      const write = { field: 'price', value: 275, hlc: sampleHlc(), base: null };
      const op = sampleOp('product.edited', { payload: { writes: [write, { ...write, value: 300 }] } });
      expect(issuesOf(op)).toContainEqual(
        expect.objectContaining({ path: ['payload', 'writes', 1, 'field'], message: 'field "price" is written twice in one op' }),
      );
    });

    it('refuses a card number nested inside a field value', () => {
      const write = { field: 'address', value: { lines: ['Main St 1', `paid with ${CARD_NUMBER}`] }, hlc: sampleHlc(), base: null };
      expect(issuesOf(sampleOp('customer.upserted', { payload: { writes: [write] } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'writes', 0, 'value'], message: 'must not contain a card number' }),
      );
    });

    it('refuses a reference edit of a document a register may not edit', () => {
      expect(issuesOf(withPath(sampleOp('reference.edited'), ['payload', 'docType'], 'staff'))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'docType'] }),
      );
    });

    it('refuses a loyalty or store-credit movement with neither order nor reason', () => {
      for (const type of ['loyalty.accrued', 'store_credit.redeemed'] as const) {
        const op = withPath(sampleOp(type), ['payload', 'orderId'], REMOVE);
        expect(issuesOf(op)).toContainEqual(
          expect.objectContaining({ path: ['payload', 'reason'], message: 'names the order it belongs to or a reason' }),
        );
        expect(parseOp(withPath(op, ['payload', 'reason'], 'Birthday bonus')).ok).toBe(true);
      }
    });

    it('refuses zero amounts where a movement must move something', () => {
      expect(issuesOf(sampleOp('cash.moved', { payload: { amount: 0 } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'amount'], code: 'too_small' }),
      );
      expect(issuesOf(sampleOp('gift_card.redeemed', { payload: { amount: 0 } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'amount'], code: 'too_small' }),
      );
    });

    it('refuses amounts that are not integer minor units', () => {
      // 12.50 sent as a float instead of 1250 minor units.
      expect(issuesOf(sampleOp('cash.moved', { payload: { amount: 12.5 } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'amount'] }),
      );
    });

    it('bounds lists: a sale of 501 lines is refused', () => {
      const sale = sampleOp('sale.completed');
      const line = sale.payload.lines[0];
      const lines = Array.from({ length: 501 }, () => line);
      expect(issuesOf(sampleOp('sale.completed', { payload: { lines: lines as typeof sale.payload.lines } }))).toContainEqual(
        expect.objectContaining({ path: ['payload', 'lines'], code: 'too_big' }),
      );
    });
  });

  it('converts to JSON Schema for the OpenAPI document', () => {
    type Option = { properties: { type: { const: string } }; additionalProperties: boolean };
    const schema = z.toJSONSchema(OpSchema) as unknown as { oneOf: Option[] };
    expect(schema.oneOf.map((o) => o.properties.type.const)).toEqual([...OP_TYPES]);
    expect(schema.oneOf.every((o) => o.additionalProperties === false)).toBe(true);
  });
});
