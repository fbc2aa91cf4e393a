/**
 * The wire shape of an edit to a reference document (product, customer, tax rate, …): a set of
 * field writes, each stamped with the hybrid logical clock time it was made at and the HLC of the
 * value the editor saw (`base`). See DESIGN.md §2 and `merge.ts`.
 */
import { z } from 'zod';

/**
 * An encoded HLC timestamp: 12 lower-case hex digits of wall-clock milliseconds, 4 hex digits of
 * logical counter, and the node (device) id, joined by `-`. Fixed-width parts make the string
 * sort in HLC order; the node id breaks ties.
 *
 * @example `0192a3b4c5d6-0000-7f0e2c1a-0000-7000-8000-000000000001`
 */
export const HlcStringSchema = z
  .string()
  .regex(/^[0-9a-f]{12}-[0-9a-f]{4}-[A-Za-z0-9_-]{1,64}$/, 'an encoded HLC timestamp');

/** Any JSON value a field may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** zod schema of {@link JsonValue}. */
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().refine(Number.isFinite, 'a finite number'),
    z.string().max(10_000),
    z.array(JsonValueSchema).max(1000),
    z.record(z.string().max(200), JsonValueSchema),
  ]),
);

/** One field write: the new value, when it was made, and which value the editor saw. */
export const FieldWriteSchema = z.strictObject({
  field: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/, 'a field name'),
  value: JsonValueSchema,
  hlc: HlcStringSchema,
  /** HLC of the value this edit replaced as the editor saw it; null when the editor saw none. */
  base: HlcStringSchema.nullable(),
});

/** One field write. */
export type FieldWrite = z.infer<typeof FieldWriteSchema>;
