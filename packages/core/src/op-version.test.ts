import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidArgumentError } from './errors.js';
import { OP_SCHEMA_VERSION, OpMigrationError, makeOpParser, parseOp } from './op-version.js';
import { SafeTextSchema } from './order-schema.js';
import { opHash } from './ops/op-hash.js';
import { OP_SCHEMAS, OpSchema } from './ops/op-schema.js';
import type { Op } from './ops/op-schema.js';
import { StockAdjustmentReasonSchema } from './ops/stock-ops.js';
import { SAMPLE_IDS, sampleOp } from './test-fixtures/ops.js';
import { IdSchema, QtySchema } from './wire-primitives.js';

// A test-local history, since the product has only version 1. In "v2", `stock.adjusted` renames
// `qtyDelta` to `delta`; in "v3", the envelope renames `deviceTime` to `deviceTimeMs`.

const StockAdjustedPayloadV2 = z.strictObject({
  movementId: IdSchema,
  productId: IdSchema,
  variantId: IdSchema.optional(),
  delta: QtySchema,
  reason: StockAdjustmentReasonSchema,
  note: SafeTextSchema.optional(),
});

type StockAdjustedOpSchemaV1 = (typeof OP_SCHEMAS)['stock.adjusted'];
const unchangedInV2 = OpSchema.options.filter(
  (o): o is Exclude<(typeof OpSchema.options)[number], StockAdjustedOpSchemaV1> => o.shape.type.value !== 'stock.adjusted',
);
const OpSchemaV2 = z.discriminatedUnion('type', [
  OP_SCHEMAS['stock.adjusted'].extend({ v: z.literal(2), payload: StockAdjustedPayloadV2 }),
  ...unchangedInV2.map((o) => o.extend({ v: z.literal(2) })),
]);
type OpV2 = z.infer<typeof OpSchemaV2>;

const v3Options = OpSchemaV2.options.map((o) =>
  o.omit({ deviceTime: true }).extend({ v: z.literal(3), deviceTimeMs: z.int().min(0) }),
);
type OpSchemaV3Option = (typeof v3Options)[number];
const OpSchemaV3 = z.discriminatedUnion('type', v3Options as [OpSchemaV3Option, ...OpSchemaV3Option[]]);

function migrateToV2(op: Op): unknown {
  if (op.type !== 'stock.adjusted') return { ...op, v: 2 };
  const { qtyDelta, ...rest } = op.payload;
  return { ...op, v: 2, payload: { ...rest, delta: qtyDelta } };
}

function migrateToV3(op: OpV2): unknown {
  const { deviceTime, ...rest } = op;
  return { ...rest, v: 3, deviceTimeMs: deviceTime };
}

const parseV2 = makeOpParser({
  current: 2,
  schemas: { 1: OpSchema, 2: OpSchemaV2 },
  migrations: { 2: migrateToV2 },
});

const parseV3 = makeOpParser({
  current: 3,
  schemas: { 2: OpSchemaV2, 3: OpSchemaV3 },
  migrations: { 3: migrateToV3 },
});

/** The sample op in its v2 shape, written by hand. */
function stockAdjustedV2(): Record<string, unknown> {
  const { payload, ...envelope } = sampleOp('stock.adjusted');
  const { qtyDelta, ...rest } = payload;
  return { ...envelope, v: 2, payload: { ...rest, delta: qtyDelta } };
}

describe('parseOp (the product registry)', () => {
  it('is at version 1 and reads a version 1 op', () => {
    expect(OP_SCHEMA_VERSION).toBe(1);
    const op = sampleOp('cash.moved');
    expect(parseOp(op)).toEqual({ ok: true, op, version: 1, received: op });
  });

  it('defers an op of a newer version, with the head the server needs to answer for it', () => {
    const raw = { ...sampleOp('cash.moved', { seq: 42 }), v: 2, payload: { anything: 'new' } };
    const result = parseOp(raw);
    expect(result).toMatchObject({
      ok: false,
      kind: 'unknown_version',
      version: 2,
      head: { v: 2, id: SAMPLE_IDS.op, deviceId: SAMPLE_IDS.device, seq: 42 },
    });
    expect(!result.ok && result.issues).toEqual([expect.objectContaining({ path: ['v'], message: expect.stringContaining('newer') })]);
  });

  it.each([
    ['no v', undefined],
    ['v 0', 0],
    ['a fractional v', 1.5],
    ['v as a string', '1'],
  ])('refuses an op with %s as invalid', (_label, v) => {
    const raw: Record<string, unknown> = { ...sampleOp('cash.moved'), v };
    const result = parseOp(raw);
    expect(result).toMatchObject({ ok: false, kind: 'invalid', version: null, head: null });
    expect(!result.ok && result.issues).toContainEqual(expect.objectContaining({ path: ['v'] }));
  });

  it.each([null, 'sale', 42, []])('refuses %j as invalid', (raw) => {
    expect(parseOp(raw)).toMatchObject({ ok: false, kind: 'invalid', version: null, head: null });
  });
});

describe('makeOpParser with a previous version', () => {
  it('upgrades a previous-version op to the current shape', () => {
    const v1 = sampleOp('stock.adjusted');
    const result = parseV2(JSON.parse(JSON.stringify(v1)));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.version).toBe(1);
    expect(result.op).toEqual(stockAdjustedV2());
    expect(result.op.type === 'stock.adjusted' && result.op.payload.delta).toBe(-2000);
    expect(result.op.payload).not.toHaveProperty('qtyDelta');
  });

  it('keeps the op as received for hashing, so a retry hashes the same after an upgrade', () => {
    const v1 = sampleOp('stock.adjusted');
    const result = parseV2(v1);
    expect(result.ok && result.received).toEqual(v1);
    expect(result.ok && opHash(result.received)).toBe(opHash(v1));
  });

  it('upgrades ops whose shape did not change by their version alone', () => {
    const v1 = sampleOp('cash.moved');
    expect(parseV2(v1)).toMatchObject({ ok: true, version: 1, op: { ...v1, v: 2 } });
  });

  it('reads a current-version op as it is', () => {
    const v2 = stockAdjustedV2();
    expect(parseV2(v2)).toEqual({ ok: true, op: v2, version: 2, received: v2 });
  });

  it('validates a previous-version op against its own schema, before migrating', () => {
    const v1 = sampleOp('stock.adjusted', { payload: { qtyDelta: 0 } });
    const result = parseV2(v1);
    expect(result).toMatchObject({ ok: false, kind: 'invalid', version: 1 });
    expect(!result.ok && result.issues).toContainEqual(
      expect.objectContaining({ path: ['payload', 'qtyDelta'], message: 'must not be zero' }),
    );
  });

  it('refuses the old field name under the new version', () => {
    const raw = { ...sampleOp('stock.adjusted'), v: 2 };
    const result = parseV2(raw);
    expect(result).toMatchObject({ ok: false, kind: 'invalid', version: 2, head: { seq: 1 } });
    expect(!result.ok && result.issues).toContainEqual(
      expect.objectContaining({ path: ['payload'], code: 'unrecognized_keys', message: expect.stringContaining('qtyDelta') }),
    );
  });

  it('reports a newer op as unknown_version', () => {
    const raw = { ...stockAdjustedV2(), v: 3 };
    expect(parseV2(raw)).toMatchObject({ ok: false, kind: 'unknown_version', version: 3, head: { id: SAMPLE_IDS.op } });
  });

  it('reports an op older than the previous version as unsupported_version', () => {
    const result = parseV3(sampleOp('stock.adjusted'));
    expect(result).toMatchObject({ ok: false, kind: 'unsupported_version', version: 1, head: { seq: 1 } });
    expect(!result.ok && result.issues).toEqual([
      expect.objectContaining({ path: ['v'], message: expect.stringContaining('no longer supported') }),
    ]);
  });

  it('moves on a version: v2 is now the previous one, upgraded to v3', () => {
    const result = parseV3(stockAdjustedV2());
    expect(result).toMatchObject({ ok: true, version: 2, op: { v: 3, deviceTimeMs: sampleOp('stock.adjusted').deviceTime } });
    expect(result.ok && result.op).not.toHaveProperty('deviceTime');
    expect(parseV3({ ...stockAdjustedV2(), v: 4 })).toMatchObject({ ok: false, kind: 'unknown_version', version: 4 });
  });

  it('throws OpMigrationError when a migration produces an op its target schema refuses', () => {
    const broken = makeOpParser({
      current: 2,
      schemas: { 1: OpSchema, 2: OpSchemaV2 },
      // Forgets the rename: the v2 schema refuses qtyDelta.
      migrations: { 2: (op: Op) => ({ ...op, v: 2 }) },
    });
    expect(() => broken(sampleOp('stock.adjusted'))).toThrow(OpMigrationError);
    try {
      broken(sampleOp('stock.adjusted'));
    } catch (e) {
      expect(e).toMatchObject({ code: 'op_migration_failed', opId: SAMPLE_IDS.op, fromVersion: 1, toVersion: 2 });
    }
  });

  it('refuses a registry without the current schema, or with a previous schema but no migration', () => {
    expect(() => makeOpParser({ current: 2, schemas: { 1: OpSchema } as Record<number, typeof OpSchema>, migrations: {} })).toThrow(
      InvalidArgumentError,
    );
    expect(() => makeOpParser({ current: 2, schemas: { 1: OpSchema, 2: OpSchemaV2 }, migrations: {} })).toThrow(
      InvalidArgumentError,
    );
  });
});
