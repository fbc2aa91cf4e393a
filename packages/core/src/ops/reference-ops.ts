/**
 * Ops that edit reference documents (DESIGN.md §2): a set of per-field writes, each stamped with
 * its HLC and the HLC of the value the editor saw, merged field by field (last writer wins). A new
 * document is a set of writes whose `base` is null; a price change is a write to the price field.
 */
import { z } from 'zod';
import { containsCardNumber } from '../card-number.js';
import { FieldWriteSchema } from '../field-patch.js';
import type { JsonValue } from '../field-patch.js';
import { IdSchema } from '../wire-primitives.js';
import { opSchema } from './op-envelope.js';

function holdsCardNumber(value: JsonValue): boolean {
  if (typeof value === 'string') return containsCardNumber(value);
  if (Array.isArray(value)) return value.some(holdsCardNumber);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => containsCardNumber(k) || holdsCardNumber(v));
  }
  return false;
}

/**
 * The field writes of one edit: 1–200, each field at most once (two writes to one field in one
 * edit would make the result depend on their order), and no card number in any text they hold
 * (a customer note is free text like any other).
 */
export const FieldWritesSchema = z
  .array(FieldWriteSchema)
  .min(1)
  .max(200)
  .superRefine((writes, ctx) => {
    const seen = new Set<string>();
    writes.forEach((w, i) => {
      if (seen.has(w.field)) {
        ctx.addIssue({ code: 'custom', path: [i, 'field'], message: `field "${w.field}" is written twice in one op` });
      }
      seen.add(w.field);
      if (holdsCardNumber(w.value)) {
        ctx.addIssue({ code: 'custom', path: [i, 'value'], message: 'must not contain a card number' });
      }
    });
  });

/**
 * The reference documents a register may edit through `reference.edited`. Staff, registers and
 * store settings are not here on purpose: they are edited in the back office only.
 */
export const ReferenceDocTypeSchema = z.enum(['category', 'tax_rate', 'price_list', 'variant', 'barcode', 'promotion']);

/**
 * Payload of `customer.upserted`: a customer created or edited. Personal fields arrive sealed to the
 * server's key (DESIGN.md §4), so a write's value may be an opaque sealed string.
 */
export const CustomerUpsertedPayloadSchema = z.strictObject({
  customerId: IdSchema,
  writes: FieldWritesSchema,
});

/** Payload of `product.edited`: a product created or edited, prices included. */
export const ProductEditedPayloadSchema = z.strictObject({
  productId: IdSchema,
  writes: FieldWritesSchema,
});

/** Payload of `reference.edited`: another reference document created or edited. */
export const ReferenceEditedPayloadSchema = z.strictObject({
  docType: ReferenceDocTypeSchema,
  docId: IdSchema,
  writes: FieldWritesSchema,
});

/** A customer created or edited (a reference edit). */
export const CustomerUpsertedOpSchema = opSchema('customer.upserted', CustomerUpsertedPayloadSchema);
/** A product created or edited (a reference edit). */
export const ProductEditedOpSchema = opSchema('product.edited', ProductEditedPayloadSchema);
/** A category, tax rate, price list, variant, barcode or promotion edited (a reference edit). */
export const ReferenceEditedOpSchema = opSchema('reference.edited', ReferenceEditedPayloadSchema);
