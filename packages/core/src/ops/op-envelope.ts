/**
 * The envelope every op travels in (DESIGN.md §3): who made it, on which register, in which
 * order, and when; the `type` and `payload` say what happened.
 */
import { z } from 'zod';
import { HlcStringSchema } from '../field-patch.js';
import { IdSchema } from '../wire-primitives.js';

/**
 * The fields that identify an op in every schema version, past and future: its version, id,
 * device and per-device sequence number. They never change name or meaning, so a server can
 * place, defer or acknowledge an op of a version it cannot otherwise read.
 */
export const OpHeadSchema = z.looseObject({
  v: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  id: IdSchema,
  deviceId: IdSchema,
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
});

/** The version-independent identity of an op (see {@link OpHeadSchema}). */
export type OpHead = z.infer<typeof OpHeadSchema>;

/**
 * The op schema version the schemas in `ops/` describe. `OP_SCHEMA_VERSION` in `op-version.ts`
 * names the current version, and a compile-time check there keeps the two equal.
 */
const SCHEMA_VERSION = 1;

/** The latest millisecond a JavaScript `Date` can hold. */
const MAX_EPOCH_MS = 8_640_000_000_000_000;

const envelopeShape = {
  v: z.literal(SCHEMA_VERSION),
  /** The op's own id (a UUIDv7 made by the register); the server dedupes by it. */
  id: IdSchema,
  /** The register that made the op. */
  deviceId: IdSchema,
  /** Per-device sequence number: 1, 2, 3, … without gaps. */
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Hybrid logical clock time at which the op was made. */
  hlc: HlcStringSchema,
  /** The register's wall clock when the op was made, ms since the epoch; may be wrong. */
  deviceTime: z.int().min(0).max(MAX_EPOCH_MS),
  /** The store the register belongs to; the server checks it against the device token. */
  storeId: IdSchema,
  /** The staff member signed in on the register. */
  staffId: IdSchema,
  /** A manager who approved an action the staff member may not do alone. */
  approvedBy: IdSchema.optional(),
};

/**
 * Builds the schema of one op type: the envelope with `type` fixed to `type` and the given
 * payload. Every op schema is a strict object, so an unknown field anywhere is an error.
 *
 * @example
 * ```ts
 * const DrawerOpenedOpSchema = opSchema('drawer.opened', DrawerOpenedPayloadSchema);
 * ```
 */
export function opSchema<const T extends string, P extends z.ZodType>(type: T, payload: P) {
  return z.strictObject({ ...envelopeShape, type: z.literal(type), payload });
}
